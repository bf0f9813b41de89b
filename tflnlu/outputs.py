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
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class OutputPathError(ValueError):
    """An output path that cannot or must not be written; the message says what to do."""


@dataclass(frozen=True)
class OutputKind:
    """A kind of directory a command writes: its marker file and every entry it may hold."""

    name: str  # "run", "export", "benchmark" (for messages)
    marker: str  # the file whose presence says "this is one of ours"
    entries: frozenset[str]  # top-level names the kind writes (files and directories)
    resumable: bool = False  # the command has --resume to continue such an output

    def owns(self, name: str) -> bool:
        """One of the kind's entries, or a temporary an atomic writer left behind when it was
        killed (".weights.x1y2.h5", ".model.tflite.x1y2.tmp"); nothing else (not .git)."""
        if name in self.entries:
            return True
        stems = {entry.split(".")[0] for entry in self.entries} | set(self.entries)
        return name.startswith(".") and any(name.startswith(f".{stem}.") for stem in stems)


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable(path: Path, flag: str = "--out") -> None:
    """Raise OutputPathError unless `path` (a directory, existing or not) can be created and
    written. A probe file is created and removed: `os.access` says yes to root everywhere."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{flag}={path} is a file, not a directory: pass a directory path")
    base = _nearest_existing(path)
    if not base.is_dir():
        raise OutputPathError(f"{flag}={path} cannot be created: {base} is a file, not a directory")
    try:
        fd, probe = tempfile.mkstemp(dir=base, prefix=".tflnlu-probe-")
    except OSError as e:
        raise OutputPathError(f"{flag}={path} cannot be written: {base}: {e.strerror}") from None
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
) -> str:
    """Check `path` before any work; returns what it is: "new", "ours" or "ours, replaced".

    keep=True (resume): an earlier output of this kind is continued, not replaced. With
    overwrite=True the kind's own entries are removed (nothing else is there, or it refuses).
    """
    path = Path(path)
    check_writable(path, flag)
    check_not_protected(path, protected, flag)
    if not path.exists() or not any(path.iterdir()):
        return "new"
    if not (path / kind.marker).is_file():
        raise OutputPathError(
            f"{flag}={path} is not empty and is not a tflnlu {kind.name} (no {kind.marker}): "
            f"choose another {flag}; nothing there was changed"
        )
    foreign = sorted(p.name for p in path.iterdir() if not kind.owns(p.name))
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
    """Delete the entries of an earlier output of `kind` in `path` (checked by prepare_output)."""
    for entry in Path(path).iterdir():
        if not kind.owns(entry.name):
            raise OutputPathError(f"{entry} was not written by tflnlu: not removed")  # checked before
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
