"""Task-agnostic table compressions: exactness where it is exact, error bounds where it is not."""

import numpy as np
import pytest

from tflnlu.bench import posthoc
from tflnlu.layers.embeddings import CodebookLookup

RNG = np.random.default_rng(0)
TABLE = RNG.normal(size=(60, 16)).astype(np.float32)


def test_full_rank_svd_is_exact_and_low_rank_is_the_best_approximation():
    rows, basis = posthoc.svd_factors(TABLE, 16)
    np.testing.assert_allclose(rows @ basis, TABLE, atol=1e-4)
    rows4, basis4 = posthoc.svd_factors(TABLE, 4)
    assert rows4.shape == (60, 4) and basis4.shape == (4, 16)
    singular = np.linalg.svd(TABLE, compute_uv=False)
    error = np.linalg.norm(TABLE - rows4 @ basis4)
    assert error == pytest.approx(np.sqrt((singular[4:] ** 2).sum()), rel=1e-3)


def test_product_quantization_shapes_and_error_shrinks_with_k():
    errors = []
    for k in (2, 8, 32):
        codes, codebook = posthoc.product_quantize(TABLE, k, 4)
        assert codes.shape == (60, 4) and codebook.shape == (4, k, 4)
        assert codes.min() >= 0 and codes.max() < k
        rebuilt = np.concatenate([codebook[g, codes[:, g]] for g in range(4)], axis=1)
        errors.append(np.linalg.norm(rebuilt - TABLE))
    assert errors[0] > errors[1] > errors[2]
    with pytest.raises(ValueError, match="must divide"):
        posthoc.product_quantize(TABLE, 4, 5)


def test_k_means_is_deterministic_for_a_seed():
    a = posthoc.product_quantize(TABLE, 8, 2, seed=3)
    b = posthoc.product_quantize(TABLE, 8, 2, seed=3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@pytest.mark.parametrize("bits", [4, 2])
def test_scalar_rows_round_to_the_nearest_level(bits):
    codes, levels, scales = posthoc.scalar_quantize_rows(TABLE, bits)
    assert codes.min() >= 0 and codes.max() < 2**bits and levels.shape == (16, 2**bits - 1, 1)
    rebuilt = levels[0, codes, 0] * scales[:, None]
    assert np.all(np.abs(rebuilt - TABLE) <= scales[:, None] * 0.5 + 1e-6)
    assert np.allclose(np.abs(rebuilt).max(1), np.abs(TABLE).max(1))  # each row's peak is a level


def test_scalar_rows_through_the_export_form_layer():
    codes, levels, scales = posthoc.scalar_quantize_rows(TABLE, 4)
    layer = CodebookLookup(codes, levels, 4, row_scales=scales)
    ids = np.array([[0, 5, 59]], np.int32)
    expected = levels[0, codes[[0, 5, 59]], 0] * scales[[0, 5, 59], None]
    np.testing.assert_allclose(layer(ids).numpy()[0], expected, rtol=1e-6)
