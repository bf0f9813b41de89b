"""The fused codebook-lookup kernel (C99, `codebook_lookup.c`), built by `pip install`.

`codebook_lookup()` calls its compute core through ctypes; it is what the custom-op routes
register with LiteRT (the delegate `tflite_delegate.c` for the classic Interpreter, the
kernel `litert_kernel.c` for the C API), and what tests diff against the builtin lowering.
"""

from __future__ import annotations

import ctypes
from functools import cache
from pathlib import Path

import numpy as np

KERNEL_DIR = Path(__file__).parent
CUSTOM_OP_NAME = "TFLNLU_CODEBOOK_LOOKUP"


class LookupShape(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_int32)
        for name in ("vocab_size", "row_bytes", "bits", "num_groups", "num_codes", "sub_dim")
    ]


def built_library(stem: str) -> Path:
    """The shared library `pip install` built from this directory's C sources."""
    built = sorted(KERNEL_DIR.glob(f"{stem}*.so"))
    if not built:
        raise FileNotFoundError(
            f"{stem} is not built in {KERNEL_DIR}: reinstall tflnlu (pip install -e .) with a C compiler present"
        )
    return built[0]


def delegate_library() -> Path:
    """The tflnlu delegate, for `load_delegate` (tflnlu.runtime.litert) or any TFLite runtime
    that loads external delegates."""
    return built_library("_tflnlu_delegate")


@cache
def load_kernel() -> ctypes.CDLL:
    library = ctypes.CDLL(str(built_library("_codebook_lookup")))
    function = library.tflnlu_codebook_lookup
    function.restype = ctypes.c_int32
    function.argtypes = [ctypes.POINTER(LookupShape), ctypes.c_void_p, ctypes.c_int32] + [ctypes.c_void_p] * 3
    library.tflnlu_expanded_lookup.restype = ctypes.c_int32
    library.tflnlu_expanded_lookup.argtypes = function.argtypes
    library.tflnlu_expanded_table_bytes.restype = ctypes.c_int64
    library.tflnlu_expanded_table_bytes.argtypes = [ctypes.POINTER(LookupShape)]
    library.tflnlu_expand_codebook.restype = ctypes.c_int32
    library.tflnlu_expand_codebook.argtypes = [ctypes.POINTER(LookupShape), ctypes.c_void_p, ctypes.c_void_p]
    return library


def _invalid(shape: LookupShape) -> ValueError:
    return ValueError(f"invalid lookup shape {[getattr(shape, f) for f, _ in LookupShape._fields_]}")


def _expanded_table(shape: LookupShape, codebook: np.ndarray) -> np.ndarray:
    """The table the delegate builds at prepare (codebook_lookup.h), or ValueError."""
    library = load_kernel()
    size = library.tflnlu_expanded_table_bytes(ctypes.byref(shape))
    table = np.zeros(max(size, 0), np.int8)
    if size < 0 or library.tflnlu_expand_codebook(
        ctypes.byref(shape), codebook.ctypes.data, table.ctypes.data
    ):
        raise _invalid(shape)
    return table


def codebook_lookup(
    ids: np.ndarray,
    packed: np.ndarray,
    codebook: np.ndarray,
    bits: int,
    num_groups: int,
    *,
    expanded: bool = False,
) -> tuple[np.ndarray, int]:
    """int8 embeddings [*ids.shape, D * sub_dim] and the count of out-of-range ids or codes.

    packed: [V, row_bytes] int8 codes (as `pack_codes` writes them); codebook: [D, K, sub_dim] int8.
    `expanded`: through the expanded table (the delegate's path), which must give the same.
    """
    ids = np.ascontiguousarray(ids, dtype=np.int32)
    packed = np.ascontiguousarray(packed, dtype=np.int8)
    codebook = np.ascontiguousarray(codebook, dtype=np.int8)
    groups, num_codes, sub_dim = codebook.shape
    if groups != num_groups:
        raise ValueError(f"codebook has {groups} groups, expected {num_groups}")
    shape = LookupShape(packed.shape[0], packed.shape[1], bits, num_groups, num_codes, sub_dim)
    output = np.zeros((*ids.shape, num_groups * sub_dim), np.int8)
    arguments = (ctypes.byref(shape), ids.ctypes.data, ids.size, packed.ctypes.data)
    if expanded:
        table = _expanded_table(shape, codebook)
        status = load_kernel().tflnlu_expanded_lookup(*arguments, table.ctypes.data, output.ctypes.data)
    else:
        status = load_kernel().tflnlu_codebook_lookup(*arguments, codebook.ctypes.data, output.ctypes.data)
    if status < 0:
        raise _invalid(shape)
    return output, int(status)
