"""Native libraries' start-up chatter, kept off the terminal unless asked for.

TensorFlow's C++ core prints oneDNN, CPU-feature and CUDA lines when it loads (among them an
alarming `E0000 ... failed call to cuInit` on every CPU-only machine), and LiteRT announces its
XNNPACK delegate; they are written to file descriptor 2 from C++, past Python's sys.stderr, so
TF_CPP_MIN_LOG_LEVEL does not reach them. `native_stderr_captured()` points descriptor 2 at a
temporary file while such a library starts and keeps what it wrote in `CAPTURED`; with
TFLNLU_VERBOSE=1 in the environment (every command's --verbose sets it) nothing is captured.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

VERBOSE_ENV = "TFLNLU_VERBOSE"
CAPTURED: list[str] = []


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


@contextmanager
def native_stderr_captured() -> Iterator[None]:
    if verbose():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            CAPTURED.append(sink.read().decode("utf-8", "replace"))
