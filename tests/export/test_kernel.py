"""The C99 kernel of the fused lookup equals the builtin lowering of the same layer."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize("expanded", [False, True], ids=["unpacked", "expanded"])
@pytest.mark.parametrize("sub_dim", [3, 4, 8, 16])  # the copy's general and fixed-size paths
@pytest.mark.parametrize("bits,groups", [(8, 6), (4, 6), (4, 5), (2, 6), (2, 7)])  # whole and partial bytes
def test_kernel_equals_the_builtin_lowering_exactly(bits, groups, sub_dim, expanded):
    codes, codebook, ids = random_case(bits, groups=groups, sub_dim=sub_dim)
    packed = pack_codes(codes, bits)
    kernel_out, bad = codebook_lookup(ids, packed, codebook, bits, codes.shape[1], expanded=expanded)
    builtin = CodebookLookup(codes, codebook.astype(np.float32), code_storage_bits=bits)(tf.constant(ids))
    assert bad == 0
    np.testing.assert_array_equal(kernel_out.astype(np.float32), builtin.numpy())


@pytest.mark.parametrize("expanded", [False, True], ids=["unpacked", "expanded"])
def test_out_of_range_ids_and_codes_give_zero_rows_and_are_counted(expanded):
    codes, codebook, _ = random_case(4, num_codes=10)
    codes[5, 2] = 0
    packed = pack_codes(codes, 4)
    packed[5, 1] = np.int8(-128 + 0xF0)  # group 2 -> code 0, group 3 -> code 15 (>= K=10)
    ids = np.array([-1, 37, 5], np.int32)
    out, bad = codebook_lookup(ids, packed, codebook[:, :10], 4, 6, expanded=expanded)
    assert bad == 3
    assert not out[0].any() and not out[1].any()
    assert not out[2, 9:12].any() and out[2, 6:9].tolist() == codebook[2, 0].tolist()


@pytest.mark.parametrize("expanded", [False, True], ids=["unpacked", "expanded"])
def test_invalid_shape_is_refused(expanded):
    codes, codebook, ids = random_case(4)
    with pytest.raises(ValueError, match="invalid lookup shape"):
        codebook_lookup(ids, pack_codes(codes, 4)[:, :1], codebook, 4, 6, expanded=expanded)
    codes, codebook, ids = random_case(8, groups=257, sub_dim=1)  # more groups than the kernel unpacks
    with pytest.raises(ValueError, match="invalid lookup shape"):
        codebook_lookup(ids, pack_codes(codes, 8), codebook, 8, 257, expanded=expanded)


@settings(max_examples=200, deadline=None)
@given(
    bits_groups=st.sampled_from([(8, 1), (8, 5), (4, 1), (4, 6), (4, 7), (2, 3), (2, 8), (2, 13)]),
    sub_dim=st.integers(1, 17),
    data=st.data(),
)
def test_the_expanded_table_gives_the_unpacked_kernel_s_output_on_any_bytes(bits_groups, sub_dim, data):
    """Any packed bytes (codes >= K, set padding bits, bad ids): the same rows and the same count."""
    bits, groups = bits_groups
    num_codes = data.draw(st.integers(1, 2**bits))
    vocab = data.draw(st.integers(1, 9))
    row_bytes = (groups * bits + 7) // 8
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    packed = rng.integers(-128, 128, size=(vocab, row_bytes)).astype(np.int8)
    codebook = rng.integers(-128, 128, size=(groups, num_codes, sub_dim)).astype(np.int8)
    ids = rng.integers(-2, vocab + 2, size=(3, 5)).astype(np.int32)
    unpacked = codebook_lookup(ids, packed, codebook, bits, groups)
    expanded = codebook_lookup(ids, packed, codebook, bits, groups, expanded=True)
    np.testing.assert_array_equal(expanded[0], unpacked[0])
    assert expanded[1] == unpacked[1]
