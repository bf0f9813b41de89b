"""The joint intent + slot model: embedding -> dilated CNN encoder -> intent / slot / domain heads.

The encoder is designed for the export path: it keeps activations as [batch, 1, time,
channels] so every weight layer is a Conv2D / DepthwiseConv2D / Dense that tfmot's default
QAT covers and that TFLite and TFLite-Micro run as int8 builtins (no RNN cells, no Conv1D).
A depthwise (1 x kernel) conv mixes neighbouring tokens, a 1x1 conv mixes channels; growing
dilations give a receptive field of 1 + (kernel-1) * sum(dilations) tokens at a few
thousand parameters per block, so the encoder stays small next to a compressed embedding.
"""

from __future__ import annotations

from collections.abc import Callable

from tflnlu.data.subwords import NO_SUBWORD
from tflnlu.data.vocab import PAD_ID
from tflnlu.layers.embeddings import DPQEmbedding, FullEmbedding
from tflnlu.modelfile.names import EMBEDDING_LAYER, LOGIT_LAYERS, SUBWORD_LAYER
from tflnlu.models.config import ModelConfig
from tflnlu.tf import keras, tf

INPUT_NAME = "token_ids"
INTENT_OUTPUT, DOMAIN_OUTPUT, SLOT_LOGITS = LOGIT_LAYERS  # the heads' last layers, by name
SLOTS_OUTPUT = "slots"
ENCODER = "encoder"
PADDING_MASK = "padding_mask"
TOKEN_COLUMNS = "token_columns"
SUBWORD_MEAN = "subword_mean"


class PaddingMask(keras.layers.Layer):
    """1.0 for real tokens, 0.0 for padding: [batch, time] ids -> [batch, 1, time, 1].

    A reshape, not `[:, newaxis, :, newaxis]`: the converter lowers the slicing to RESHAPE
    plus an identity STRIDED_SLICE (one more operator and three constant vectors in the file)."""

    def call(self, ids):
        mask = tf.cast(tf.not_equal(ids, PAD_ID), tf.float32)
        return tf.reshape(mask, [-1, 1, ids.shape[1], 1])


class TokenColumns(keras.layers.Layer):
    """[batch, time, 1 + P] ids -> word ids [batch, time] and n-gram ids [batch, time, P]: a
    model with subwords takes both in one input, so every runner feeds one int32 tensor."""

    def call(self, ids):
        return ids[:, :, 0], ids[:, :, 1:]


class SubwordMean(keras.layers.Layer):
    """A token's vector: its word vector plus the mean of its P n-gram vectors, an empty place
    (id NO_SUBWORD) counting as a zero vector. MUL, MEAN and ADD: builtin int8 ops everywhere
    (TFLite-Micro included); a mean over the present n-grams only would need an int8 DIV."""

    def call(self, inputs):
        words, grams, subword_ids = inputs
        present = tf.cast(tf.not_equal(subword_ids, NO_SUBWORD), grams.dtype)[..., tf.newaxis]
        return words + tf.reduce_mean(grams * present, axis=2)


def make_embedding(config: ModelConfig, *, subwords: bool = False) -> keras.layers.Layer:
    """The word table, or (`subwords`) the n-gram bucket table: rows 0..buckets, the same kind
    of table with the n-gram K and D."""
    rows = config.subword_spec.buckets + 1 if subwords else config.vocab_size
    name = SUBWORD_LAYER if subwords else EMBEDDING_LAYER
    if config.embedding == "full":
        return FullEmbedding(rows, config.embed_dim, name=name)
    return DPQEmbedding(
        rows,
        config.embed_dim,
        num_codes=config.subword_dpq_k if subwords else config.dpq_k,
        num_groups=config.subword_dpq_d if subwords else config.dpq_d,
        variant=config.dpq_variant,
        shared_codebook=config.dpq_shared,
        name=name,
    )


def build_model(
    config: ModelConfig,
    embedding: keras.layers.Layer | None = None,
    *,
    subword_embedding: keras.layers.Layer | None = None,
) -> keras.Model:
    """A functional Keras model: int32 ids [batch, *config.ids_shape] -> logits per head.

    Two parts: the embedding (with the padding mask, and the n-gram table of a model with
    subwords) and the `encoder` sub-model, which takes float embeddings and the mask. The
    split is what quantization-aware training needs: tfmot quantizes the encoder's inputs,
    while the embedding quantizes itself. `embedding` (`subword_embedding`) replaces the
    configured table (the export puts a CodebookLookup here).
    """
    layers = {
        EMBEDDING_LAYER: embedding or make_embedding(config),
        PADDING_MASK: PaddingMask(name=PADDING_MASK),
    }
    if config.subwords is not None:
        layers[SUBWORD_LAYER] = subword_embedding or make_embedding(config, subwords=True)
        layers[TOKEN_COLUMNS] = TokenColumns(name=TOKEN_COLUMNS)
        layers[SUBWORD_MEAN] = SubwordMean(name=SUBWORD_MEAN)
    ids = keras.Input(shape=config.ids_shape, dtype=tf.int32, name=INPUT_NAME)
    embedded = embed_tokens(ids, layers.__getitem__)  # first: the tables initialize before the encoder
    outputs = build_encoder(config)(embedded)
    return keras.Model(ids, outputs, name="joint_nlu")


def embed_tokens(ids, layer: Callable[[str], keras.layers.Layer]) -> list:
    """[embedded tokens, padding mask] of `ids`, from the layers `layer(name)` gives (a new
    model's, or a trained model's when QAT rebuilds the part around the encoder)."""
    word_ids = ids
    if len(ids.shape) == 3:  # word ids and n-gram ids
        word_ids, subword_ids = layer(TOKEN_COLUMNS)(ids)
    embedded = layer(EMBEDDING_LAYER)(word_ids)
    if len(ids.shape) == 3:
        embedded = layer(SUBWORD_MEAN)([embedded, layer(SUBWORD_LAYER)(subword_ids), subword_ids])
    return [embedded, layer(PADDING_MASK)(word_ids)]


def build_encoder(config: ModelConfig) -> keras.Model:
    """Embeddings [batch, T, d] and mask [batch, 1, T, 1] -> {intent, slots[, domain]} logits."""
    embedded = keras.Input(shape=(config.max_len, config.embed_dim), name="embedded")
    mask = keras.Input(shape=(1, config.max_len, 1), name="mask")
    x = keras.layers.Reshape((1, config.max_len, config.embed_dim), name="to_image")(embedded)
    x = _dropout(config.dropout, "embedding_dropout")(x)
    x = keras.layers.Conv2D(config.width, 1, activation="relu", name="project")(x)
    for i, dilation in enumerate(config.dilations):
        x = _encoder_block(x, config, i, dilation)

    features = keras.layers.ReLU(name="pool_relu")(x)
    masked = keras.layers.Multiply(name="mask_padding")([features, mask])
    pooled = keras.layers.GlobalMaxPooling2D(name="max_pool")(masked)
    if config.pooling == "max_mean":  # the mean is over the fixed window: masked sum / max_len
        mean = keras.layers.GlobalAveragePooling2D(name="mean_pool")(masked)
        pooled = keras.layers.Concatenate(name="pools")([pooled, mean])
    pooled = _dropout(config.dropout, "pool_dropout")(pooled)

    if config.slot_context:  # what the whole utterance is about helps choose each slot type
        context = keras.layers.Dense(config.width, name="slot_context")(pooled)
        context = keras.layers.Reshape((1, 1, config.width), name="context_to_image")(context)
        x = keras.layers.Add(name="add_context")([x, context])
        x = keras.layers.ReLU(name="slot_relu")(x)
    slots = keras.layers.Conv2D(config.num_tags, 1, name=SLOT_LOGITS)(x)
    slots = keras.layers.Reshape((config.max_len, config.num_tags), name=SLOTS_OUTPUT)(slots)
    outputs = {
        INTENT_OUTPUT: keras.layers.Dense(config.num_intents, name=INTENT_OUTPUT)(pooled),
        SLOTS_OUTPUT: slots,
    }
    if config.num_domains:
        outputs[DOMAIN_OUTPUT] = keras.layers.Dense(config.num_domains, name=DOMAIN_OUTPUT)(pooled)
    return keras.Model([embedded, mask], outputs, name=ENCODER)


def _dropout(rate: float, name: str) -> keras.layers.Dropout:
    """Dropout whose random state is a `tf.random.Generator` (rng_type "stateful") instead of
    a TF1 stateful op: the generator's state can be checkpointed (`dropout_generators`), so a
    resumed training draws the same masks as one that was never interrupted."""
    return keras.layers.Dropout(rate, name=name, rng_type="stateful")


def dropout_generators(model: keras.Model) -> list:
    """The random generators of every dropout layer in `model` (nested models included),
    created now if they are not yet. They are not weights (weights.h5 and the export never see
    them) and Keras does not checkpoint them; the trainer does. `_random_generator` is tf-keras'
    own attribute (BaseRandomLayer): the resume test fails if a tf-keras release renames it."""
    generators = []
    for layer in model.submodules:
        if isinstance(layer, keras.layers.Dropout):
            rng = layer._random_generator
            rng._maybe_init()
            generators.append(rng._generator)
    return generators


def _encoder_block(x, config: ModelConfig, index: int, dilation: int):
    """Mix neighbouring tokens (dilated), mix channels, add back: one residual block."""
    if config.separable:
        y = keras.layers.DepthwiseConv2D(
            (1, config.kernel),
            dilation_rate=(1, dilation),
            padding="same",
            name=f"block{index}_mix_tokens",
        )(x)
        y = keras.layers.Conv2D(config.width, 1, activation="relu", name=f"block{index}_mix_channels")(y)
    else:
        y = keras.layers.Conv2D(
            config.width,
            (1, config.kernel),
            dilation_rate=(1, dilation),
            padding="same",
            activation="relu",
            name=f"block{index}_conv",
        )(x)
    y = _dropout(config.dropout, f"block{index}_dropout")(y)
    return keras.layers.Add(name=f"block{index}_residual")([x, y])


def component_sizes(model: keras.Model) -> dict[str, dict[str, int]]:
    """Parameters and deployed bytes of the embedding (the n-gram table's apart), and of the
    rest of the model.

    A table's bytes are its deployed storage (for DPQ: packed codes and an fp32 codebook, not
    the training-only query table); the rest is counted at fp32.
    """
    tables = {"embedding": EMBEDDING_LAYER, "subwords": SUBWORD_LAYER}
    layers = {key: model.get_layer(name) for key, name in tables.items() if _has_layer(model, name)}
    rest = sum(layer.count_params() for layer in model.layers if layer not in layers.values())
    sizes = {
        key: {
            "parameters": sum(int(w.shape.num_elements()) for w in layer.trainable_weights),
            "bytes": layer.storage_bytes(),
        }
        for key, layer in layers.items()
    }
    return {**sizes, "rest": {"parameters": rest, "bytes": rest * 4}}


def _has_layer(model: keras.Model, name: str) -> bool:
    return any(layer.name == name for layer in model.layers)
