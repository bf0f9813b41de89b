"""The C99 kernel of the fused lookup equals the builtin lowering of the same layer."""

import numpy as np
import pytest

from tflnlu.layers.codes import pack_codes
from tflnlu.layers.embeddings import CodebookLookup
from tflnlu.modelfile.kernel import codebook_lookup
from tflnlu.tf import tf


def random_case(bits, vocab=37, groups=6, num_codes=None, sub_dim=3, seed=0):
    rng = np.random.default_rng(seed)
    num_codes = num_codes or 2**bits
    codes = rng.integers(0, num_codes, size=(vocab, groups))
    codebook = rng.integers(-128, 128, size=(groups, num_codes, sub_dim)).astype(np.int8)
    ids = rng.integers(0, vocab, size=(4, 9)).astype(np.int32)
    return codes, codebook, ids


@pytest.mark.parametrize("sub_dim", [3, 4, 8, 16])  # the copy's general and fixed-size paths
@pytest.mark.parametrize("bits,groups", [(8, 6), (4, 6), (4, 5), (2, 6), (2, 7)])  # whole and partial bytes
def test_kernel_equals_the_builtin_lowering_exactly(bits, groups, sub_dim):
    codes, codebook, ids = random_case(bits, groups=groups, sub_dim=sub_dim)
    kernel_out, bad = codebook_lookup(ids, pack_codes(codes, bits), codebook, bits, codes.shape[1])
    builtin = CodebookLookup(codes, codebook.astype(np.float32), code_storage_bits=bits)(tf.constant(ids))
    assert bad == 0
    np.testing.assert_array_equal(kernel_out.astype(np.float32), builtin.numpy())


def test_out_of_range_ids_and_codes_give_zero_rows_and_are_counted():
    codes, codebook, _ = random_case(4, num_codes=10)
    codes[5, 2] = 0
    packed = pack_codes(codes, 4)
    packed[5, 1] = np.int8(-128 + 0xF0)  # group 2 -> code 0, group 3 -> code 15 (>= K=10)
    out, bad = codebook_lookup(np.array([-1, 37, 5], np.int32), packed, codebook[:, :10], 4, 6)
    assert bad == 3
    assert not out[0].any() and not out[1].any()
    assert not out[2, 9:12].any() and out[2, 6:9].tolist() == codebook[2, 0].tolist()


def test_invalid_shape_is_refused():
    codes, codebook, ids = random_case(4)
    with pytest.raises(ValueError, match="invalid lookup shape"):
        codebook_lookup(ids, pack_codes(codes, 4)[:, :1], codebook, 4, 6)
    codes, codebook, ids = random_case(8, groups=257, sub_dim=1)  # more groups than the kernel unpacks
    with pytest.raises(ValueError, match="invalid lookup shape"):
        codebook_lookup(ids, pack_codes(codes, 8), codebook, 8, 257)
