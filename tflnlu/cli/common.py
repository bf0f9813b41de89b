"""What every tflnlu command shares: flags defined when it runs, and every fault as one line.

A command is a `Command`: its flags (defined into a fresh `FlagValues` each time it runs, so
any two commands can be imported, and run, in one process) and its main function. `execute`
parses the flags and runs it; whatever goes wrong reaches the user as one line on stderr,
`tflnlu-NAME: error: <what, where, what to do>`, and an exit code:

    0   done
    1   internal error (a bug: rerun with --debug for the traceback and report it)
    2   bad input: flags, data, paths, damaged artefacts
    3   a size budget is exceeded (nothing was written)
    130 interrupted (Ctrl-C): the message says what was kept and how to continue

`--debug` shows the traceback instead. The fault catalogue is docs/faults.md.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from absl import flags, logging

from tflnlu.extras import missing_extra
from tflnlu.modelfile.size import BudgetExceeded

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_BUDGET, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(ValueError):
    """A command line that cannot work (a missing or contradictory flag)."""


class FlagDefiner:
    """`define.string("out", None, "help")` = `flags.DEFINE_string(..., flag_values=values)`."""

    def __init__(self, values: flags.FlagValues):
        self.values = values

    def __getattr__(self, kind: str) -> Callable[..., object]:
        define = getattr(flags, f"DEFINE_{kind}")
        return lambda *args, **kwargs: define(*args, flag_values=self.values, **kwargs)


@dataclass(frozen=True)
class Command:
    name: str  # "tflnlu-train"
    usage: str  # one line, shown with --help and after a usage error
    define_flags: Callable[[FlagDefiner], None]
    main: Callable[[flags.FlagValues, list[str]], int | None]  # parsed flags, positional arguments
    # What Ctrl-C leaves behind and how to go on, from the parsed flags.
    on_interrupt: Callable[[flags.FlagValues], str] = lambda _: "nothing was written"


def _define_common(define: FlagDefiner) -> None:
    define.bool("debug", False, "Show the full traceback of an error instead of one line.")
    define.bool("verbose", False, "Show the native libraries' start-up messages (TensorFlow, LiteRT).")
    define.bool("help", False, "Show this help.", short_name="?")
    define.bool("helpfull", False, "Show this help (all flags).")


def error_line(error: BaseException) -> str:
    """One line for an error: its own message, or for an OSError the file and the reason."""
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror or error}"
    text = str(error).strip() or type(error).__name__
    return " ".join(text.split("\n")[0:1]) if isinstance(error, flags.Error) else " ".join(text.split())


def _exit_code(error: BaseException) -> int:
    if missing_extra(error):
        return EXIT_INPUT
    if isinstance(error, BudgetExceeded):
        return EXIT_BUDGET
    if isinstance(error, ValueError | OSError):  # DataError, OutputPathError, ModelFileError, ...
        return EXIT_INPUT
    return EXIT_INTERNAL


def execute(command: Command, argv: list[str]) -> int:
    """Parse `argv` for `command`, run it and turn any fault into one line and an exit code."""
    values = flags.FlagValues()
    define = FlagDefiner(values)
    _define_common(define)
    command.define_flags(define)
    try:
        positional = values(list(argv))[1:]
    except flags.Error as e:
        return _fail(command, f"{error_line(e)} (see {command.name} --help)", EXIT_INPUT)
    if values.help or values.helpfull:
        print(help_text(command, values))
        return EXIT_OK
    flags.FLAGS.mark_as_parsed()  # absl logging reads the global flags; ours are `values`
    logging.set_verbosity(logging.WARNING)  # TensorFlow's checkpoint chatter would drown the progress
    try:
        return command.main(values, positional) or EXIT_OK
    except KeyboardInterrupt:
        return _fail(command, f"interrupted: {command.on_interrupt(values)}", EXIT_INTERRUPTED)
    except BrokenPipeError:  # `tflnlu-size m.tflite | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as e:
        if values.debug:
            raise
        code = _exit_code(e)
        if isinstance(e, UsageError):
            return _fail(command, f"{error_line(e)}; usage: {command.usage}", code)
        if code == EXIT_INTERNAL:
            return _fail(
                command,
                f"internal error ({type(e).__name__}: {error_line(e)}); rerun with --debug for the "
                "traceback and report it",
                code,
            )
        prefix = "size budget exceeded: " if code == EXIT_BUDGET else ""
        return _fail(command, prefix + (missing_extra(e) or error_line(e)), code)


def help_text(command: Command, values: flags.FlagValues) -> str:
    """Usage and every flag with its help and default, the common ones last."""
    common = {"debug", "help", "helpfull"}
    names = sorted({values[name].name for name in values}, key=lambda n: (n in common, n))
    lines = [f"usage: {command.usage}", ""]
    for name in names:
        flag = values[name]
        lines.append(f"  --{name}: {flag.help}")
        if flag.default is not None and not isinstance(flag.default, bool):
            lines.append(f"      (default: {flag.default_as_str})")
    return "\n".join(lines)


def _fail(command: Command, message: str, code: int) -> int:
    message = message.replace("\r", "\\r").replace("\n", "\\n")  # a path may hold a line break
    print(f"{command.name}: error: {message}", file=sys.stderr)
    return code
