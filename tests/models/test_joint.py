import numpy as np
import pytest

from tflnlu.models.config import ModelConfig
from tflnlu.models.joint import EMBEDDING_LAYER, build_model, component_sizes
from tflnlu.tf import tf

CONFIG = ModelConfig(
    vocab_size=30, num_intents=5, num_tags=7, num_domains=3, max_len=8, embed_dim=16, dpq_d=4
)


def test_outputs_have_the_expected_shapes():
    model = build_model(CONFIG)
    out = model(tf.zeros((2, 8), tf.int32))
    assert out["intent"].shape == (2, 5)
    assert out["slots"].shape == (2, 8, 7)
    assert out["domain"].shape == (2, 3)
    assert "domain" not in build_model(ModelConfig(30, 5, 7, max_len=8, embed_dim=16, dpq_d=4)).output


def test_padding_mask_marks_real_tokens_only():
    model = build_model(CONFIG)
    ids = tf.constant([[5, 6, 7, 0, 0, 0, 0, 0]], tf.int32)
    mask = model.get_layer("padding_mask")(ids).numpy()
    assert mask.shape == (1, 1, 8, 1)
    np.testing.assert_array_equal(mask.reshape(-1), [1, 1, 1, 0, 0, 0, 0, 0])


def test_the_export_form_of_the_embedding_gives_the_same_model_outputs():
    model = build_model(CONFIG)
    model(tf.ones((4, 8), tf.int32), training=True)
    ids = tf.constant(np.random.default_rng(1).integers(0, 30, (6, 8)), tf.int32)
    lookup = model.get_layer(EMBEDDING_LAYER).to_lookup()
    exported = build_model(CONFIG, embedding=lookup)
    for layer in model.layers:
        if layer.name != EMBEDDING_LAYER:
            exported.get_layer(layer.name).set_weights(layer.get_weights())
    a, b = model(ids, training=False), exported(ids, training=False)
    for name in a:
        np.testing.assert_array_equal(a[name].numpy(), b[name].numpy())


def test_component_sizes_count_the_deployed_embedding():
    sizes = component_sizes(build_model(CONFIG))
    assert sizes["embedding"]["bytes"] == 30 * 4 * 4 // 8 + 16 * 16 * 4
    full = component_sizes(build_model(ModelConfig(30, 5, 7, max_len=8, embed_dim=16, embedding="full")))
    assert full["embedding"] == {"parameters": 480, "bytes": 1920}


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="embedding"):
        ModelConfig(10, 2, 3, embedding="svd")
    with pytest.raises(ValueError, match="dropout"):
        ModelConfig(10, 2, 3, dropout=1.0)
    assert ModelConfig.from_dict(CONFIG.to_dict()) == CONFIG
