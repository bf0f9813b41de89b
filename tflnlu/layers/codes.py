"""DPQ codes as stored: the one rule for how many bits a code takes, and the packing.

TF-free (numpy), so the model configuration, the size estimate and the export agree without
importing TensorFlow. A code of K possible values is stored in the fewest of 2, 4 or 8 bits
that hold it (K=8 takes 4 bits, not log2(8)=3): codes are unpacked by whole-byte table
lookups in the file, so 3-, 5-, 6- and 7-bit codes would cost the next size anyway.
"""

from __future__ import annotations

import numpy as np

MAX_CODES = 256  # codes are stored in at most 8 bits
CODE_STORAGE_BITS = (2, 4, 8)  # how codes may be stored in an export, one code per 2/4/8 bits
CODE_BIAS = 128  # codes 0..255 are stored as int8 (code - 128): TFLite-Micro gathers int8 tables only
DPQ_VARIANTS = ("sx", "vq")


def storage_bits(num_codes: int) -> int:
    """Bits one code of `num_codes` (K) values takes in the file: the fewest of 2/4/8 that hold it."""
    if not 2 <= num_codes <= MAX_CODES:
        raise ValueError(f"num_codes (K) must be in [2, {MAX_CODES}], got {num_codes}")
    return min(bits for bits in CODE_STORAGE_BITS if num_codes <= 2**bits)


def packed_row_bytes(num_groups: int, bits: int) -> int:
    """Bytes of one word's D codes packed `bits` bits each (the last byte padded)."""
    per_byte = 8 // bits
    return -(-num_groups // per_byte)


def validate_dpq(dim: int, num_codes: int, num_groups: int, variant: str) -> None:
    if variant not in DPQ_VARIANTS:
        raise ValueError(f"DPQ variant must be one of {DPQ_VARIANTS}, got {variant!r}")
    if num_groups < 1 or dim % num_groups:
        raise ValueError(f"embedding dim {dim} must be divisible by the number of groups {num_groups}")
    storage_bits(num_codes)


def pack_codes(codes: np.ndarray, bits: int) -> np.ndarray:
    """[V, D] codes in [0, 2**bits) -> [V, ceil(D*bits/8)] int8 bytes (byte - 128).

    Within a byte the first code takes the lowest bits. Padding codes are 0.
    """
    if bits not in CODE_STORAGE_BITS:
        raise ValueError(f"codes are stored in {CODE_STORAGE_BITS} bits, not {bits}")
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size and (codes.min() < 0 or codes.max() >= 2**bits):
        raise ValueError(f"codes must be in [0, {2**bits}) to be stored in {bits} bits")
    per_byte = 8 // bits
    vocab, groups = codes.shape
    padded = np.zeros((vocab, packed_row_bytes(groups, bits) * per_byte), np.int64)
    padded[:, :groups] = codes
    shifted = padded.reshape(vocab, -1, per_byte) << (bits * np.arange(per_byte))
    return (shifted.sum(-1) - CODE_BIAS).astype(np.int8)


def unpack_table(bits: int) -> np.ndarray:
    """[256, 8/bits] int8: the codes inside each byte value, lowest bits first (bits 4 or 2)."""
    if bits not in (4, 2):
        raise ValueError(f"only 4- and 2-bit codes are unpacked through a table, not {bits}-bit")
    per_byte = 8 // bits
    values = np.arange(256)[:, None] >> (bits * np.arange(per_byte))
    return (values & (2**bits - 1)).astype(np.int8)


def dpq_storage_bytes(
    vocab_size: int, num_groups: int, num_codes: int, dim: int, *, codebook_bytes_per_value: int
) -> int:
    """Deployed bytes of a DPQ embedding: the packed codes as the file stores them, plus the
    codebook at `codebook_bytes_per_value` (4 in training logs, 1 in the int8 file)."""
    codes = vocab_size * packed_row_bytes(num_groups, storage_bits(num_codes))
    return codes + num_codes * dim * codebook_bytes_per_value
