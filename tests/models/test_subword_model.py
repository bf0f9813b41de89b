"""A model with subwords: one [T, 1 + P] input, the n-gram table beside the word table, the
export form equal to the training form, and what each n-gram place contributes."""

import numpy as np
import pytest

from tflnlu.data.subwords import SubwordSpec, subword_ids
from tflnlu.data.vocab import Vocabulary
from tflnlu.models.config import ModelConfig
from tflnlu.models.joint import EMBEDDING_LAYER, SUBWORD_LAYER, SubwordMean, build_model, component_sizes
from tflnlu.nlu.encode import token_ids
from tflnlu.tf import tf

SPEC = SubwordSpec(min_n=3, max_n=4, buckets=50, per_token=6)
CONFIG = ModelConfig(
    vocab_size=30,
    num_intents=5,
    num_tags=7,
    max_len=8,
    embed_dim=16,
    dpq_d=4,
    subwords=SPEC.to_json(),
    subword_dpq_d=4,
)


def _ids(seed=1, n=6):
    rng = np.random.default_rng(seed)
    words = rng.integers(0, 30, (n, 8, 1))
    grams = rng.integers(0, 51, (n, 8, SPEC.per_token))
    return tf.constant(np.concatenate([words, grams], axis=-1), tf.int32)


def test_the_input_holds_word_ids_then_ngram_ids_per_token():
    vocab = Vocabulary(["<pad>", "<unk>", "play", "jazz"])
    ids = token_ids(["play", "zydeco"], vocab, 8, SPEC)
    assert ids.shape == (8, 1 + SPEC.per_token) == (8, *CONFIG.ids_shape[1:])
    assert list(ids[:, 0]) == vocab.ids(["play", "zydeco"], 8)  # zydeco is <unk> as a word ...
    np.testing.assert_array_equal(ids[:, 1:], subword_ids(["play", "zydeco"], SPEC, 8))
    assert ids[1, 1:].any() and not ids[2:].any()  # ... but keeps its n-grams; padding is zeros
    assert token_ids(["play"], vocab, 8).shape == (8,)  # without subwords: word ids alone


def test_a_token_is_its_word_vector_plus_the_mean_of_its_present_ngram_vectors():
    words = np.random.default_rng(0).normal(size=(1, 2, 4)).astype(np.float32)
    grams = np.random.default_rng(1).normal(size=(1, 2, 3, 4)).astype(np.float32)
    places = np.array([[[5, 0, 9], [0, 0, 0]]], np.int32)
    got = SubwordMean()([words, grams, places]).numpy()
    np.testing.assert_allclose(got[0, 0], words[0, 0] + (grams[0, 0, 0] + grams[0, 0, 2]) / 3, rtol=1e-6)
    np.testing.assert_allclose(got[0, 1], words[0, 1], rtol=1e-6)  # no n-grams: the word vector


def test_the_ngrams_change_the_outputs_and_an_empty_place_does_not():
    model = build_model(CONFIG)
    ids = _ids().numpy()
    base = model(ids, training=False)["slots"].numpy()
    other = ids.copy()
    other[:, :, 1] = np.where(other[:, :, 1] == 50, 49, other[:, :, 1] + 1)  # every first n-gram moved
    assert not np.allclose(model(other, training=False)["slots"].numpy(), base)
    table = model.get_layer(SUBWORD_LAYER)
    empty = ids.copy()
    empty[:, :, 2:] = 0
    before = model(empty, training=False)["slots"].numpy()
    table.query.assign(tf.tensor_scatter_nd_update(table.query, [[0]], tf.ones((1, 16)) * 3.0))  # row 0 moved
    np.testing.assert_array_equal(model(empty, training=False)["slots"].numpy(), before)


def test_the_export_form_of_both_tables_gives_the_same_model_outputs():
    model = build_model(CONFIG)
    model(_ids(seed=2, n=4), training=True)
    exported = build_model(
        CONFIG,
        embedding=model.get_layer(EMBEDDING_LAYER).to_lookup(),
        subword_embedding=model.get_layer(SUBWORD_LAYER).to_lookup(),
    )
    for layer in model.layers:
        if layer.name not in (EMBEDDING_LAYER, SUBWORD_LAYER):
            exported.get_layer(layer.name).set_weights(layer.get_weights())
    a, b = model(_ids(), training=False), exported(_ids(), training=False)
    for name in a:
        np.testing.assert_array_equal(a[name].numpy(), b[name].numpy())


def test_the_ngram_table_is_counted_apart_from_the_word_table():
    sizes = component_sizes(build_model(CONFIG))
    assert sizes["subwords"]["bytes"] == 51 * 4 * 2 // 8 + 16 * 4 * 4  # K=4: 2 bits a code, fp32 codebook
    assert sizes["embedding"]["bytes"] == 30 * 4 * 4 // 8 + 16 * 16 * 4
    assert "subwords" not in component_sizes(
        build_model(ModelConfig(30, 5, 7, max_len=8, embed_dim=16, dpq_d=4))
    )


def test_bad_subword_settings_are_rejected():
    with pytest.raises(ValueError, match="subwords metadata"):
        ModelConfig(10, 2, 3, subwords={"min_n": 3})
    with pytest.raises(ValueError, match="divisible by the number of groups 5"):
        ModelConfig(10, 2, 3, subwords=SPEC.to_json(), subword_dpq_d=5)
    assert ModelConfig.from_dict(CONFIG.to_dict()) == CONFIG
