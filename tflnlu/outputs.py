"""What may be written where: every command checks its output directory before it works.

Nothing a user owns is ever deleted. A command writes into a directory only if it is new,
empty, or an earlier output of the same kind (recognised by its marker file); it replaces
such an output only when asked (`--overwrite`), and even then removes nothing but the
entries that kind of output consists of. Any other file found there stops the command
before it starts its long work, naming the file. The check also proves the directory can
be written (by creating and removing a probe file), so a read-only or mistyped path fails
in the first second, not after an hour of training.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


class OutputPathError(ValueError):
    """An output path that cannot or must not be written; the message says what to do."""


# The temporaries tflnlu's atomic writers leave if killed: `.<name>.<8 random>.tmp` (tflnlu.io)
# and `.weights.<8 random>.h5` (the run's weights). tempfile's random part is 8 of [a-z0-9_].
_TEMPORARY = r"\.{name}\.[a-z0-9_]{{8}}\.(tmp|h5)"


@dataclass(frozen=True)
class OutputKind:
    """A kind of directory a command writes: its marker file and every entry it may hold.

    `entries` are exact top-level names; `patterns` regular expressions for names that vary
    (checkpoint files); `children` what a top-level directory may hold, itself an OutputKind
    (checked recursively), or `EACH` an OutputKind every subdirectory must be (a benchmark's
    runs/ holds runs). Nothing else is ever removed by --overwrite."""

    name: str  # "run", "export", "benchmark" (for messages)
    marker: str  # the file whose presence says "this is one of ours"
    entries: frozenset[str]  # top-level names the kind writes (files and directories)
    resumable: bool = False  # the command has --resume to continue such an output
    patterns: tuple[str, ...] = ()
    children: dict = field(default_factory=dict)  # directory entry -> OutputKind | Each
    children_any: tuple[str, ...] = ()  # patterns of directories whose contents are all ours

    def owns(self, name: str) -> bool:
        """One of the kind's names, or a temporary an atomic writer of one left behind."""
        if name in self.entries or any(re.fullmatch(p, name) for p in self.patterns):
            return True
        stems = {entry.removesuffix(".h5") for entry in self.entries}
        return any(re.fullmatch(_TEMPORARY.format(name=re.escape(stem)), name) for stem in stems)

    def foreign(self, directory: Path, prefix: str = "") -> list[str]:
        """Paths under `directory` this kind did not write (relative, "/"-joined)."""
        found = []
        for entry in sorted(Path(directory).iterdir()):
            shown = f"{prefix}{entry.name}"
            if not self.owns(entry.name) or entry.is_symlink():
                found.append(shown)
            elif entry.is_dir() and not any(re.fullmatch(p, entry.name) for p in self.children_any):
                found += _foreign_child(self.children.get(entry.name), entry, shown)
        return found


@dataclass(frozen=True)
class Each:
    """A directory whose every entry is a directory of `kind`, named one of `names` (when
    given); anything else in it is foreign."""

    kind: OutputKind
    names: frozenset[str] | None = None


def _foreign_child(rule, directory: Path, shown: str) -> list[str]:
    """What a directory inside an output holds that its rule does not allow; without a rule,
    everything in it (a directory where the kind writes none is not the kind's)."""
    if rule is None:
        return [f"{shown}/{p.name}" for p in sorted(directory.iterdir())]
    if isinstance(rule, Each):
        found = []
        for sub in sorted(directory.iterdir()):
            named = rule.names is None or sub.name in rule.names
            if not named or not sub.is_dir() or sub.is_symlink() or not (sub / rule.kind.marker).is_file():
                found.append(f"{shown}/{sub.name}")
            else:
                found += rule.kind.foreign(sub, f"{shown}/{sub.name}/")
        return found
    return rule.foreign(directory, f"{shown}/")


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable(path: Path, flag: str = "--out", *, replaced_whole: bool = False) -> None:
    """Raise OutputPathError unless `path` (a directory, existing or not) can be created and
    written. A probe file is created and removed: `os.access` says yes to root everywhere.
    `replaced_whole`: the output is built beside `path` and swapped in (an export), so the
    parent directory must be writable too."""
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise OutputPathError(f"{flag}={path} is a symbolic link to nothing: remove it or pass another path")
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{flag}={path} is a file, not a directory: pass a directory path")
    places = [_nearest_existing(path)]
    if replaced_whole:
        places.append(_nearest_existing(path.resolve().parent))
    for base in places:
        if not base.is_dir():
            raise OutputPathError(f"{flag}={path} cannot be created: {base} is a file, not a directory")
        try:
            fd, probe = tempfile.mkstemp(dir=base, prefix=".tflnlu-probe-")
        except OSError as e:
            raise OutputPathError(
                f"{flag}={path} cannot be written: {base}: {e.strerror}; choose a directory you can write"
            ) from None
        os.close(fd)
        os.unlink(probe)


def _is_within(inner: Path, outer: Path) -> bool:
    inner, outer = inner.resolve(), outer.resolve()
    return inner == outer or outer in inner.parents


def check_not_protected(path: Path, protected: Sequence[tuple[Path, str]], flag: str = "--out") -> None:
    """Refuse an output that is, or contains, a path the command reads (the run, the data)."""
    for other, what in protected:
        if other is not None and Path(other).exists() and _is_within(Path(other), Path(path)):
            raise OutputPathError(
                f"{flag}={path} would replace {what} {other}: choose a directory outside it"
            )


def prepare_output(
    path: Path,
    kind: OutputKind,
    *,
    overwrite: bool = False,
    keep: bool = False,
    flag: str = "--out",
    protected: Sequence[tuple[Path, str]] = (),
    replaced_whole: bool = False,
) -> str:
    """Check `path` before any work; returns what it is: "new", "ours" or "ours, replaced".

    keep=True (resume): an earlier output of this kind is continued, not replaced. With
    overwrite=True the kind's own entries are removed (nothing else is there, or it refuses).
    """
    path = Path(path)
    if keep and overwrite:
        raise OutputPathError("--resume and --overwrite contradict each other: pass one of them")
    check_writable(path, flag, replaced_whole=replaced_whole)
    check_not_protected(path, protected, flag)
    if not path.exists() or not any(path.iterdir()):
        return "new"
    if not (path / kind.marker).is_file():
        raise OutputPathError(
            f"{flag}={path} is not empty and is not a tflnlu {kind.name} (no {kind.marker}): "
            f"choose another {flag}; nothing there was changed"
        )
    foreign = kind.foreign(path)
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise OutputPathError(
            f"{flag}={path} holds files tflnlu did not write ({shown}): move them or choose another "
            f"{flag}; nothing there was changed"
        )
    if keep:
        return "ours"
    if not overwrite:
        resume = "--resume to continue it, " if kind.resumable else ""
        raise OutputPathError(
            f"{flag}={path} already holds a tflnlu {kind.name}: pass {resume}--overwrite to replace it, "
            f"or choose another {flag}"
        )
    return "ours, replaced"


def remove_owned(path: Path, kind: OutputKind) -> None:
    """Delete an earlier output of `kind` in `path`, checked again first: if anything in it is
    not the kind's own (prepare_output refused that already), nothing at all is removed."""
    foreign = kind.foreign(path)
    if foreign:
        raise OutputPathError(
            f"{path} holds files tflnlu did not write ({', '.join(foreign[:5])}): nothing removed"
        )
    for entry in Path(path).iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
