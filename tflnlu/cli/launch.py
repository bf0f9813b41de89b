"""The console scripts (pyproject.toml [project.scripts]): each imports its command inside a
guard, so a missing TensorFlow (the deploy side installs without it) is one line saying what
to install, and --verbose takes effect before any native library loads."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable

from tflnlu.extras import missing_extra
from tflnlu.quiet import VERBOSE_ENV

COMMANDS = ("train", "export", "eval", "size", "bench", "predict", "fit")


def launch(name: str, argv: list[str]) -> int:
    """Run `tflnlu-<name>` (the COMMAND of tflnlu.cli.<name>) on `argv`."""
    if "--verbose" in argv:
        os.environ[VERBOSE_ENV] = "1"
    try:
        module = importlib.import_module(f"tflnlu.cli.{name}")
    except KeyboardInterrupt:  # Ctrl-C while TensorFlow loads: nothing has started yet
        print(f"tflnlu-{name}: error: interrupted: nothing was written", file=sys.stderr)
        return 130
    except ImportError as e:
        hint = missing_extra(e)
        if hint is None:
            raise
        print(f"tflnlu-{name}: error: {hint}", file=sys.stderr)
        return 2
    from tflnlu.cli.common import execute

    return execute(module.COMMAND, argv)


def _script(name: str) -> Callable[[], None]:
    def script() -> None:
        sys.exit(launch(name, sys.argv))

    script.__name__ = name
    return script


train, export, eval, size, bench, predict, fit = (_script(name) for name in COMMANDS)  # noqa: A001
