"""Quantization-aware training of the joint model with tfmot, and int8 conversion to TFLite.

The QAT boundary is the encoder sub-model: tfmot's default 8-bit scheme wraps every
encoder layer it knows (Conv2D, DepthwiseConv2D, Dense, Add, ReLU, pooling, Concatenate)
and quantizes the encoder's inputs (embeddings and mask). `Multiply` (the padding mask) is
not in tfmot's registry, so it gets `OutputQuantizeConfig`: no weights, quantized output,
as TFLite's int8 MUL computes it. The embedding quantizes itself (fake-quantized int8
codebook or table), since tfmot has no config for a gather.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

# First TensorFlow through tflnlu.tf: without it, MissingTensorFlow says what to install
# (tfmot would print a paragraph to stdout and raise its own error).
from tflnlu.tf import keras, tf

# isort: split
import tensorflow_model_optimization as tfmot

from tflnlu.modelfile.names import LOGIT_LAYERS, SIGNATURE_INPUT, SIGNATURE_OUTPUTS
from tflnlu.models.joint import ENCODER, INPUT_NAME, INTENT_OUTPUT, SLOTS_OUTPUT, embed_tokens
from tflnlu.quiet import native_stderr_captured

_qk = tfmot.quantization.keras


class OutputQuantizeConfig(_qk.QuantizeConfig):
    """Quantize only a layer's output (8-bit, asymmetric, moving-average range)."""

    def get_weights_and_quantizers(self, layer):
        return []

    def get_activations_and_quantizers(self, layer):
        return []

    def set_quantize_weights(self, layer, quantize_weights):
        pass

    def set_quantize_activations(self, layer, quantize_activations):
        pass

    def get_output_quantizers(self, layer):
        return [
            _qk.quantizers.MovingAverageQuantizer(
                num_bits=8, per_axis=False, symmetric=False, narrow_range=False
            )
        ]

    def get_config(self):
        return {}


def _annotator(per_channel: bool, weight_bits: int):
    """How each encoder layer is annotated for tfmot. Below 8 bits the layers that compute the
    logits (LOGIT_LAYERS) keep 8-bit weights: at 4 bits they cost HWU64 about 3 points of
    intent accuracy, while 4-bit weights everywhere else cost none (BENCHMARKS.md)."""
    eight_bit = None
    if weight_bits < 8:
        eight_bit = _qk.experimental.default_n_bit.DefaultNBitQuantizeRegistry(
            disable_per_axis=not per_channel, num_bits_weight=8, num_bits_activation=8
        )

    def annotate(layer: keras.layers.Layer) -> keras.layers.Layer:
        if isinstance(layer, keras.layers.InputLayer):
            return layer
        if isinstance(layer, keras.layers.Multiply):
            return _qk.quantize_annotate_layer(layer, OutputQuantizeConfig())
        if eight_bit is not None and layer.name in LOGIT_LAYERS:
            return _qk.quantize_annotate_layer(layer, eight_bit.get_quantize_config(layer))
        return _qk.quantize_annotate_layer(layer)

    return annotate


def quantize_aware_model(
    model: keras.Model, per_channel: bool = True, *, weight_bits: int = 8
) -> keras.Model:
    """The same model with a QAT (fake-quantized) encoder; embedding and mask layers are reused.

    Per-channel weight scales cost 12 bytes of parameters per output channel in the file;
    `per_channel=False` uses one scale per tensor, smaller at some accuracy risk. Dense
    layers get one scale per tensor either way (tfmot's registry), which is also what
    TFLite-Micro's int4 FULLY_CONNECTED needs. `weight_bits=4` fake-quantizes the weights
    of every convolution and dense layer but the logits layers to 4 bits (activations stay
    8-bit): tfmot's experimental n-bit scheme, which the converter writes as INT4 filters.
    """
    encoder = model.get_layer(ENCODER)
    annotated = keras.models.clone_model(encoder, clone_function=_annotator(per_channel, weight_bits))
    annotated.set_weights(encoder.get_weights())
    with _qk.quantize_scope(_custom_configs(annotated)):
        quantized_encoder = _qk.quantize_apply(annotated, _scheme(per_channel, weight_bits))
    ids = keras.Input(shape=model.input.shape[1:], dtype=tf.int32, name=INPUT_NAME)
    return keras.Model(ids, quantized_encoder(embed_tokens(ids, model.get_layer)), name="joint_nlu_qat")


def _custom_configs(annotated: keras.Model) -> dict:
    """The QuantizeConfig classes the annotations use (ours on the padding mask, tfmot's 8-bit
    ones on the logits of an int4 model), for tfmot to deserialize them."""
    configs = {}
    for layer in annotated.layers:
        config = getattr(layer, "quantize_config", None)
        if config is not None:
            configs[type(config).__name__] = type(config)
    return configs


def _scheme(per_channel: bool, weight_bits: int):
    if weight_bits == 8:  # the stable 8-bit scheme (the n-bit one is experimental in tfmot 0.8.1)
        return _qk.default_8bit.Default8BitQuantizeScheme(disable_per_axis=not per_channel)
    n_bit = _qk.experimental.default_n_bit
    return n_bit.DefaultNBitQuantizeScheme(
        disable_per_axis=not per_channel, num_bits_weight=weight_bits, num_bits_activation=8
    )


def _serving_function(model: keras.Model):
    """Batch 1, int32 ids in ([1, max_len], or [1, max_len, 1 + per_token] with subwords); the
    intent and slot logits out, named as LiteRT's signature keys."""
    ids_shape = [1, *(int(n) for n in model.input.shape[1:])]
    intent_key, slots_key = SIGNATURE_OUTPUTS

    @tf.function(input_signature=[tf.TensorSpec(ids_shape, tf.int32, name=SIGNATURE_INPUT)])
    def serve(ids):
        out = model(ids, training=False)
        return {intent_key: out[INTENT_OUTPUT], slots_key: out[SLOTS_OUTPUT]}

    return serve.get_concrete_function()


def convert_float(model: keras.Model) -> bytes:
    """fp32 .tflite with batch 1: what a user would ship without quantization (the reference)."""
    with native_stderr_captured():  # the converter's "fully_quantize: 0, inference_type: ..." line
        return tf.lite.TFLiteConverter.from_concrete_functions([_serving_function(model)], model).convert()


def convert_int8(model: keras.Model, representative_ids: np.ndarray) -> bytes:
    """Full-integer int8 .tflite with batch 1: int32 ids in, int8 intent and slot logits out.

    `representative_ids` [N, T] calibrate the few ranges QAT did not learn.
    """

    def representative() -> Iterator[list[np.ndarray]]:
        for row in representative_ids:
            yield [row[None].astype(np.int32)]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([_serving_function(model)], model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_output_type = tf.int8
    with native_stderr_captured():  # the converter's "fully_quantize: 0, inference_type: ..." line
        return converter.convert()
