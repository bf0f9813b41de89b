import numpy as np
import pytest

from tflnlu.layers.codes import pack_codes, storage_bits, unpack_table
from tflnlu.layers.embeddings import (
    CodebookLookup,
    DPQEmbedding,
    FullEmbedding,
    dpq_storage_bytes,
)
from tflnlu.tf import tf

IDS = tf.constant(np.random.default_rng(0).integers(0, 50, size=(4, 9)), tf.int32)


def make(variant, shared=False, k=8, d=4):
    layer = DPQEmbedding(50, 16, num_codes=k, num_groups=d, variant=variant, shared_codebook=shared)
    layer(IDS, training=True)  # build, and update batch-norm statistics once
    return layer


@pytest.mark.parametrize("variant, shared", [("sx", False), ("sx", True), ("vq", False)])
def test_codes_are_integers_in_range(variant, shared):
    codes = make(variant, shared).export_codes()
    assert codes.shape == (50, 4)
    assert codes.dtype == np.int32
    assert codes.min() >= 0 and codes.max() < 8


@pytest.mark.parametrize("variant, shared", [("sx", False), ("sx", True), ("vq", False)])
def test_inference_output_equals_a_lookup_of_the_codebook_by_the_codes_exactly(variant, shared):
    layer = make(variant, shared)
    out = layer(IDS, training=False).numpy()
    codes, codebook = layer.export_codes(), layer.export_codebook()
    by_hand = np.stack([codebook[g, codes[IDS.numpy(), g]] for g in range(4)], axis=-2).reshape(4, 9, 16)
    np.testing.assert_array_equal(out, by_hand)
    np.testing.assert_array_equal(out, layer.to_lookup()(IDS).numpy())


@pytest.mark.parametrize("variant", ["sx", "vq"])
def test_gradients_reach_the_query_table_and_the_centroids(variant):
    layer = make(variant)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(layer(IDS, training=True) - 1.0)) + tf.add_n(layer.losses or [0.0])
    grads = dict(
        zip(
            [w.name.split("/")[-1] for w in layer.trainable_weights],
            tape.gradient(loss, layer.trainable_weights),
            strict=True,
        )
    )
    assert float(tf.norm(tf.convert_to_tensor(grads["query:0"]))) > 0
    assert float(tf.norm(grads["keys:0"])) > 0
    if variant == "sx":
        assert float(tf.norm(grads["values:0"])) > 0
    else:
        assert len(layer.losses) == 2  # centroid and commitment losses


def test_validation_and_sizes():
    with pytest.raises(ValueError, match="divisible"):
        DPQEmbedding(10, 10, num_groups=3)
    with pytest.raises(ValueError, match="variant"):
        DPQEmbedding(10, 8, num_groups=2, variant="pq")
    assert storage_bits(16) == 4 and storage_bits(2) == 2 and storage_bits(8) == 4 and storage_bits(17) == 8
    assert dpq_storage_bytes(4700, 32, 16, 128) == 4700 * 32 // 2 + 16 * 128 * 4
    assert FullEmbedding(100, 8).storage_bytes() == 3200
    lookup = CodebookLookup(np.zeros((5, 2), np.int32), np.ones((2, 4, 3), np.float32))
    assert lookup(tf.constant([[1, 2]])).shape == (1, 2, 6)


@pytest.mark.parametrize("bits", [8, 4, 2])
def test_packed_codes_round_trip(bits):
    codes = np.random.default_rng(bits).integers(0, 2**bits, size=(11, 7))
    packed = pack_codes(codes, bits)
    assert packed.dtype == np.int8 and packed.shape == (11, -(-7 * bits // 8))
    byte = packed.astype(np.int32) + 128
    unpacked = byte if bits == 8 else unpack_table(bits)[byte].reshape(11, -1)[:, :7]
    np.testing.assert_array_equal(unpacked, codes)


@pytest.mark.parametrize("bits", [8, 4, 2])
def test_every_code_storage_gives_the_training_forms_output_exactly(bits):
    layer = make("sx", k=4)
    np.testing.assert_array_equal(layer(IDS, training=False).numpy(), layer.to_lookup(bits)(IDS).numpy())


def test_codes_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="do not fit"):
        make("sx", k=8).to_lookup(2)
    with pytest.raises(ValueError, match="bits"):
        pack_codes(np.zeros((2, 2), np.int32), 3)


def test_fake_quantized_codebook_stays_close():
    layer = make("sx")
    exact = layer.to_lookup()(IDS).numpy()
    quantized = layer.to_lookup(quantize_codebook=True)(IDS).numpy()
    step = (exact.max() - min(exact.min(), 0)) / 255
    assert np.abs(exact - quantized).max() <= step


def test_every_layer_round_trips_through_its_config():
    from tests.layers.layer_test import run_layer_test
    from tflnlu.models.joint import PaddingMask

    trained = make("sx", k=4)
    layers = [
        FullEmbedding(50, 8),
        FullEmbedding(50, 8, quantize_range=(-0.5, 0.5)),
        DPQEmbedding(50, 16, num_codes=8, num_groups=4, variant="vq"),
        trained.to_lookup(),
        trained.to_lookup(2, quantize_codebook=True),
        CodebookLookup(
            np.zeros((50, 2), np.int32), np.ones((2, 4, 3), np.float32), 4, row_scales=np.ones(50)
        ),
        PaddingMask(),
    ]
    for layer in layers:
        run_layer_test(layer, IDS)
