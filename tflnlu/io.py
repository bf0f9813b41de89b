"""Atomic file writes: a reader never sees a half-written output, even after a crash.

Temporary files and directories are created private (mode 0600 / 0700) by `tempfile`; the
finished ones get the modes an ordinary `open()` / `mkdir()` would give (0666 / 0777 less
the umask), because an exported model is meant to be copied into an app or a firmware tree.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode `open(path, "w")` would give a new file."""
    return 0o666 & ~_umask()


def directory_mode() -> int:
    """The mode `mkdir` would give a new directory."""
    return 0o777 & ~_umask()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), file_mode())
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


@contextmanager
def atomic_directory(final: Path) -> Iterator[Path]:
    """Yield a temporary sibling directory; it becomes `final` only if the block succeeds.

    An existing `final` is renamed aside first and removed only once the new directory is in
    place, so a failure at any point leaves either the old directory or the new one whole (and
    no temporary). `final` is resolved first: a symbolic link keeps pointing where it pointed
    (its target is replaced), and `.` works. Callers check beforehand that `final` holds
    nothing but their own earlier output (tflnlu.outputs).
    """
    final = Path(final).resolve()
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp"))
    try:
        yield tmp
        os.chmod(tmp, directory_mode())
        _swap_in(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(new: Path, final: Path) -> None:
    """`new` becomes `final`; an existing `final` is deleted only once `new` is in its place."""
    if not final.exists():
        os.replace(new, final)
        return
    aside = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".old"))
    try:
        os.replace(final, aside / final.name)
    except BaseException:
        aside.rmdir()
        raise
    try:
        os.replace(new, final)
    except BaseException:
        os.replace(aside / final.name, final)  # put the old directory back
        aside.rmdir()
        raise
    shutil.rmtree(aside, ignore_errors=True)
