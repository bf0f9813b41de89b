"""Word embeddings: the fp32 baseline and Differentiable Product Quantization (DPQ).

DPQ (Chen, Min & Sun, ICML 2020, arXiv 1908.09756) learns, jointly with the task, a
discrete code per word: the word's query vector is split into D groups; per group, the
query picks one of K key centroids; the output concatenates the chosen value centroid of
each group. After training only the integer codes [V, D] and the value codebook
[D, K, d/D] are kept, so the embedding costs V*D*log2(K) bits plus a tiny codebook.

One layer, two forms (the seq_flow_lite pattern):
- `DPQEmbedding` is the training form (query table, keys, values);
- `CodebookLookup` is the export form (codes + codebook only), built from a trained
  `DPQEmbedding` by `to_lookup()`. In inference both give exactly the same output.

Both look rows up with `tf.gather`: Keras' `Embedding` lowers to ops TFLite-Micro lacks.
"""

from __future__ import annotations

import numpy as np

from tflnlu.layers.codes import CODE_BIAS, pack_codes, storage_bits, unpack_table, validate_dpq
from tflnlu.layers.codes import dpq_storage_bytes as _dpq_storage_bytes
from tflnlu.modelfile import names
from tflnlu.tf import keras, tf

FLOAT_BYTES = 4


def fake_quant(table, value_range: tuple[float, float] | None):
    """Round `table` to the 256 int8 levels of `value_range` (widened to hold 0), or pass it."""
    if value_range is None:
        return table
    low, high = value_range
    return tf.quantization.fake_quant_with_min_max_args(table, min=min(low, 0.0), max=max(high, 0.0))


class FullEmbedding(keras.layers.Layer):
    """An uncompressed fp32 table [V, d]: what a user would train without tflnlu.

    `quantize_range` (min, max) fake-quantizes the table to int8 over that range, for
    quantization-aware fine-tuning of the uncompressed baseline.
    """

    def __init__(
        self, vocab_size: int, dim: int, quantize_range: tuple[float, float] | None = None, **kwargs
    ):
        super().__init__(**kwargs)
        self.vocab_size, self.dim = vocab_size, dim
        self.quantize_range = quantize_range

    def build(self, input_shape):
        self.table = self.add_weight(
            name="table",
            shape=(self.vocab_size, self.dim),
            initializer=keras.initializers.RandomNormal(stddev=self.dim**-0.5),
        )
        super().build(input_shape)

    def call(self, ids):
        return tf.gather(fake_quant(self.table, self.quantize_range), ids)

    def storage_bytes(self) -> int:
        return self.vocab_size * self.dim * FLOAT_BYTES

    def get_config(self):
        value_range = list(self.quantize_range) if self.quantize_range is not None else None
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "dim": self.dim,
            "quantize_range": value_range,
        }


class DPQEmbedding(keras.layers.Layer):
    """Training form of a DPQ embedding.

    variant 'sx': codes by argmax of batch-normalised dot-product logits; forward uses the
        one-hot code, backward the softmax (straight-through). Keys and values are separate
        matrices unless `shared_codebook`.
    variant 'vq': codes by the nearest key (Euclidean); the output is the key itself
        (keys are values), passed straight through to the query; the centroid loss
        ||sg(q) - c||^2 and the commitment loss beta * ||q - sg(c)||^2 are added as layer
        losses.
    """

    def __init__(
        self,
        vocab_size: int,
        dim: int,
        num_codes: int = 16,
        num_groups: int = 32,
        variant: str = "sx",
        shared_codebook: bool = False,
        temperature: float = 1.0,
        commitment: float = 0.25,
        **kwargs,
    ):
        super().__init__(**kwargs)
        validate_dpq(dim, num_codes, num_groups, variant)
        self.vocab_size, self.dim = vocab_size, dim
        self.num_codes, self.num_groups = num_codes, num_groups
        self.sub_dim = dim // num_groups
        self.variant, self.shared_codebook = variant, shared_codebook
        self.temperature, self.commitment = temperature, commitment
        self.logit_norm = (
            keras.layers.BatchNormalization(axis=[-2, -1], center=False, scale=False, name="logit_norm")
            if variant == "sx"
            else None
        )

    def build(self, input_shape):
        codebook_shape = (self.num_groups, self.num_codes, self.sub_dim)
        self.query = self.add_weight(
            name="query",
            shape=(self.vocab_size, self.dim),
            initializer=keras.initializers.RandomNormal(stddev=self.dim**-0.5),
        )

        def centroid_init():
            return keras.initializers.RandomNormal(stddev=self.dim**-0.5)

        self.keys = self.add_weight(name="keys", shape=codebook_shape, initializer=centroid_init())
        if self.variant == "sx" and not self.shared_codebook:
            self.values = self.add_weight(name="values", shape=codebook_shape, initializer=centroid_init())
        else:
            self.values = self.keys
        super().build(input_shape)

    def _grouped_queries(self, ids):
        """Queries of the flattened ids, split into groups: [N, D, s]."""
        queries = tf.gather(self.query, tf.reshape(ids, [-1]))
        return tf.reshape(queries, [-1, self.num_groups, self.sub_dim])

    def _scores(self, grouped, training):
        """Per group and code, a score whose argmax is the code: [N, D, K].

        Broadcast-multiply-and-reduce (not a matmul) so that each word's scores are computed
        the same way whatever the batch shape: codes for the whole vocabulary (export) then
        match codes computed in a batch exactly.
        """
        expanded = grouped[..., tf.newaxis, :]
        if self.variant == "vq":
            return -tf.reduce_sum(tf.square(expanded - self.keys), axis=-1)
        logits = tf.reduce_sum(expanded * self.keys, axis=-1)
        return self.logit_norm(logits, training=training)

    def codes_for(self, ids, training=False):
        grouped = self._grouped_queries(ids)
        codes = tf.argmax(self._scores(grouped, training), axis=-1, output_type=tf.int32)
        return tf.reshape(codes, tf.concat([tf.shape(ids), [self.num_groups]], 0))

    def call(self, ids, training=None):
        # Work on the distinct ids of the batch only: most positions are padding or repeats,
        # and batch-norm statistics then describe words, not how often a word (or PAD) occurs.
        distinct, position = tf.unique(tf.reshape(ids, [-1]))
        grouped = self._grouped_queries(distinct)
        scores = self._scores(grouped, training)
        codes = tf.argmax(scores, axis=-1, output_type=tf.int32)
        chosen = lookup_codebook(self.values, codes)  # [N, D, s]
        if training:
            chosen = self._straight_through(grouped, scores, codes, chosen)
        chosen = tf.gather(chosen, position)
        return tf.reshape(chosen, tf.concat([tf.shape(ids), [self.dim]], 0))

    def _straight_through(self, grouped, scores, codes, chosen):
        if self.variant == "vq":
            self.add_loss(tf.reduce_mean(tf.square(tf.stop_gradient(grouped) - chosen)))
            self.add_loss(self.commitment * tf.reduce_mean(tf.square(grouped - tf.stop_gradient(chosen))))
            return grouped + tf.stop_gradient(chosen - grouped)
        soft = tf.nn.softmax(scores / self.temperature, axis=-1)
        one_hot = tf.one_hot(codes, self.num_codes, dtype=soft.dtype)
        weights = soft + tf.stop_gradient(one_hot - soft)
        return tf.einsum("...dk,dks->...ds", weights, self.values)

    # ------------------------------------------------------------------ export

    def export_codes(self, batch: int = 4096) -> np.ndarray:
        """Integer codes [V, D] in [0, K) for the whole vocabulary, inference mode."""
        chunks = [
            self.codes_for(tf.range(start, min(start + batch, self.vocab_size))).numpy()
            for start in range(0, self.vocab_size, batch)
        ]
        return np.concatenate(chunks).astype(np.int32)

    def export_codebook(self) -> np.ndarray:
        """The value codebook [D, K, d/D] the codes index."""
        return self.values.numpy()

    def to_lookup(self, code_storage_bits: int | None = None, row_order=None, **kwargs) -> CodebookLookup:
        """The export form; codes stored in the fewest of 8/4/2 bits that hold K unless given.
        With `row_order`, its row i is this table's row row_order[i] (a file's own id order)."""
        bits = code_storage_bits or storage_bits(self.num_codes)
        kwargs.setdefault("name", self.name)
        codes = self.export_codes()
        if row_order is not None:
            codes = codes[np.asarray(row_order)]
        return CodebookLookup(codes, self.export_codebook(), bits, **kwargs)

    def storage_bytes(self) -> int:
        """Deployed bytes: packed codes plus an fp32 codebook (the query table is dropped)."""
        return dpq_storage_bytes(self.vocab_size, self.num_groups, self.num_codes, self.dim)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "dim": self.dim,
            "num_codes": self.num_codes,
            "num_groups": self.num_groups,
            "variant": self.variant,
            "shared_codebook": self.shared_codebook,
            "temperature": self.temperature,
            "commitment": self.commitment,
        }


def dpq_storage_bytes(vocab_size: int, num_groups: int, num_codes: int, dim: int) -> int:
    """Deployed bytes of a trained DPQ table: codes as the file packs them, fp32 codebook."""
    return _dpq_storage_bytes(vocab_size, num_groups, num_codes, dim, codebook_bytes_per_value=FLOAT_BYTES)


def lookup_codebook(codebook, codes):
    """codebook [D, K, s], codes [..., D] -> [..., D, s], by one gather from the flat codebook.

    The flat index of (group g, code c) is g*K + c: the same offsets the TFLite lowering adds.
    """
    num_groups, num_codes = codebook.shape[0], codebook.shape[1]
    flat = tf.reshape(codebook, [num_groups * num_codes, -1])
    offsets = tf.range(num_groups, dtype=codes.dtype) * num_codes
    return tf.gather(flat, codes + offsets)


class CodebookLookup(keras.layers.Layer):
    """Export form of a DPQ embedding, written with the builtin ops it lowers to in TFLite.

    Holds the codes, packed `code_storage_bits` bits each into int8 bytes, and the codebook
    [D, K, s]. The lookup is GATHER (bytes of the ids) -> [GATHER (unpack table)] -> CAST ->
    ADD (group offsets g*K, plus the int8 bias for 8-bit codes) -> GATHER (flat codebook)
    -> RESHAPE: every op runs on stock LiteRT and TFLite-Micro (int8 tables only there).
    With `quantize_codebook`, the codebook is fake-quantized to int8 over its own range,
    which is what the int8 export stores, so training and evaluation see the same values.
    """

    def __init__(
        self,
        codes,
        codebook,
        code_storage_bits: int = 8,
        quantize_codebook: bool = False,
        row_scales=None,
        **kwargs,
    ):
        """`row_scales` [V] (optional) multiply each looked-up row: the per-row scalar
        quantization baseline of the benchmark stores its levels as codes this way."""
        super().__init__(**kwargs)
        codes = np.asarray(codes)
        self.codes = codes.astype(np.int32)
        self.row_scales = None if row_scales is None else np.asarray(row_scales, np.float32).reshape(-1, 1)
        self.codebook_init = np.asarray(codebook, dtype=np.float32)
        self.vocab_size, self.num_groups = codes.shape
        self.num_codes = self.codebook_init.shape[1]
        self.dim = self.num_groups * self.codebook_init.shape[2]
        if self.num_codes > 2**code_storage_bits:
            raise ValueError(f"K={self.num_codes} codes do not fit in {code_storage_bits} bits")
        self.bits = code_storage_bits
        self.packed = pack_codes(codes, code_storage_bits)
        self.quantize_codebook = quantize_codebook
        self.codebook_range = (float(self.codebook_init.min()), float(self.codebook_init.max()))

    def build(self, input_shape):
        self.codebook = self.add_weight(
            name="codebook",
            shape=self.codebook_init.shape,
            initializer=keras.initializers.Constant(self.codebook_init),
        )
        super().build(input_shape)

    def _codes(self, ids):
        stored = tf.gather(tf.constant(self.packed, name=names.CODES), ids)
        if self.bits == 8:
            return tf.cast(stored, tf.int32), CODE_BIAS
        byte = tf.cast(stored, tf.int32) + tf.constant(CODE_BIAS, name=names.CODE_BIAS)
        unpacked = tf.gather(tf.constant(unpack_table(self.bits), name=names.UNPACK_TABLE), byte)
        codes = tf.reshape(unpacked, tf.concat([tf.shape(ids), [-1]], 0))
        if codes.shape[-1] != self.num_groups:
            codes = codes[..., : self.num_groups]
        return tf.cast(codes, tf.int32), 0

    def call(self, ids):
        codes, bias = self._codes(ids)
        offsets = tf.constant(
            np.arange(self.num_groups, dtype=np.int32) * self.num_codes + bias, name=names.GROUP_OFFSETS
        )
        codebook = self.codebook
        if self.quantize_codebook:
            low, high = self.codebook_range
            codebook = tf.quantization.fake_quant_with_min_max_args(
                codebook, min=min(low, 0.0), max=max(high, 0.0)
            )
        flat = tf.reshape(codebook, [self.num_groups * self.num_codes, -1])
        chosen = tf.gather(flat, codes + offsets)
        rows = tf.reshape(chosen, tf.concat([tf.shape(ids), [self.dim]], 0))
        if self.row_scales is not None:
            rows = rows * tf.gather(tf.constant(self.row_scales, name=names.ROW_SCALES), ids)
        return rows

    def storage_bytes(self) -> int:
        return dpq_storage_bytes(self.vocab_size, self.num_groups, self.num_codes, self.dim)

    def get_config(self):
        """Everything needed to rebuild the layer, the codes and the initial codebook included
        (as lists: a Keras config is JSON); the trained codebook is a weight like any other."""
        return {
            **super().get_config(),
            "codes": self.codes.tolist(),
            "codebook": self.codebook_init.tolist(),
            "code_storage_bits": self.bits,
            "quantize_codebook": self.quantize_codebook,
            "row_scales": None if self.row_scales is None else self.row_scales.reshape(-1).tolist(),
        }
