"""The size model: a candidate's exported bytes (and TFLite-Micro arena), known before it trains.

A file's bytes depend on its configuration, its vocabulary and its labels, not on what the
weights learned: the same graph, the same constants' shapes, the same metadata. So the size
model is a measurement, not a formula: it builds the candidate *untrained*, runs the export's
own stages on it (QAT wrapping, the converter, `finished_file`) and reads the result. The
only thing training changes is which (scale, zero point) tables happen to repeat, a few bytes
(tools/size_model_grid.py measures the error against trained exports over a grid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tflnlu.data.example import Example
from tflnlu.export.export import export_embedding, finished_file, model_metadata
from tflnlu.export.quantize import convert_int8, quantize_aware_model
from tflnlu.fit.space import Candidate
from tflnlu.modelfile.flatbuffer import read_model
from tflnlu.modelfile.size import size_report
from tflnlu.models.joint import EMBEDDING_LAYER, ENCODER, build_model
from tflnlu.runtime.tflm import minimum_arena
from tflnlu.tf import keras
from tflnlu.train.config import TrainConfig
from tflnlu.train.trainer import vocabulary_and_labels

CALIBRATION_ROWS = 16  # the converter needs a representative sample; its values do not change sizes


@dataclass(frozen=True)
class SizeEstimate:
    file_bytes: int
    components: dict[str, int]  # tflnlu-size's component -> bytes
    arena_bytes: int | None  # TFLite-Micro's minimum arena (target mcu), else None

    def largest_component(self) -> str:
        return max(self.components, key=self.components.get)


def untrained_file(candidate: Candidate, train: list[Example], *, seed: int = 0) -> bytes:
    """The .tflite `candidate` would export, from its untrained model (same graph and metadata)."""
    vocab, labels, config = vocabulary_and_labels(
        train, TrainConfig(**candidate.train_options()), candidate.model_options()
    )
    keras.utils.set_random_seed(seed)
    options = candidate.export_options()
    untrained = build_model(config)
    model = build_model(config, embedding=export_embedding(untrained.get_layer(EMBEDDING_LAYER), options))
    _fill_zero_weights(model.get_layer(ENCODER), np.random.default_rng(seed))
    quantized = quantize_aware_model(model, options.per_channel, weight_bits=options.weight_bits)
    sample = np.random.default_rng(seed).integers(0, len(vocab), size=(CALIBRATION_ROWS, config.max_len))
    sample = sample.astype(np.int32)
    quantized(sample, training=True)  # sets the fake-quant ranges, as the export's QAT epochs do
    converted = convert_int8(quantized, sample)
    metadata = model_metadata(vocab, labels, config.max_len, train)
    return finished_file(converted, model, metadata, lookup=options.lookup)


def estimate(candidate: Candidate, train: list[Example], *, target: str = "desktop") -> SizeEstimate:
    """`candidate`'s file bytes per component and, for target mcu, its minimum TFLM arena."""
    data = untrained_file(candidate, train)
    report = size_report(read_model(data))
    arena = minimum_arena(data)["arena_bytes"] if target == "mcu" else None
    return SizeEstimate(report["file_bytes"], dict(report["components"]), arena)


def _fill_zero_weights(encoder: keras.Model, rng: np.random.Generator) -> None:
    """Untrained biases are all zero, and the converter writes identical constants once: a
    trained file has a bias buffer per layer, so the untrained one must too."""
    weights = encoder.get_weights()
    encoder.set_weights([w if w.any() else rng.normal(0, 0.01, w.shape).astype(w.dtype) for w in weights])
