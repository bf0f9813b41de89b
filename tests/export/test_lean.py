"""The lean flatbuffer (tflnlu.modelfile.lean): smaller, and the same outputs in every runtime."""

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from tflnlu.export.quantize import convert_int8
from tflnlu.modelfile.flatbuffer import read_model
from tflnlu.modelfile.lean import CONVERTER_NOTES
from tflnlu.modelfile.metadata import finish_model, read_metadata
from tflnlu.models.config import ModelConfig
from tflnlu.models.joint import build_model
from tflnlu.runtime.litert import LiteRTModel
from tflnlu.runtime.tflm import TFLMModel
from tflnlu.tf import keras

CONFIG = ModelConfig(
    vocab_size=30, num_intents=4, num_tags=5, embedding="full", embed_dim=16, width=8, max_len=12
)
METADATA = {
    "tokenizer": {"version": 1, "max_len": 12},
    "vocab": [f"w{i}" for i in range(30)],
    "intents": list("abcd"),
    "tags": list("OBCDE"),
    "domains": [],
    "intent_domains": {},
}


@pytest.fixture(scope="module")
def converted_and_lean():
    keras.utils.set_random_seed(0)
    model = build_model(CONFIG)
    sample = np.random.default_rng(0).integers(0, 30, size=(20, 12)).astype(np.int32)
    converted = convert_int8(model, sample)
    return converted, finish_model(converted, METADATA)


def _utterances(count=40):
    return np.random.default_rng(1).integers(0, 30, size=(count, 12)).astype(np.int32)


@pytest.mark.parametrize("runtime", ["litert", "litert_reference", "tflm"])
def test_every_runtime_gives_the_lean_file_the_converters_outputs(converted_and_lean, runtime):
    converted, lean = converted_and_lean
    make = {
        "litert": LiteRTModel,
        "litert_reference": lambda data: LiteRTModel(data, reference_kernels=True),
        "tflm": TFLMModel,
    }[runtime]
    theirs, ours = make(converted), make(lean)
    for ids in _utterances():
        for a, b in zip(theirs.raw_one(ids), ours.raw_one(ids), strict=True):
            assert np.array_equal(a, b)


def test_the_lean_file_drops_what_no_runtime_reads(converted_and_lean):
    converted, lean = converted_and_lean
    model = schema.ModelT.InitFromPackedBuf(lean, 0)
    graph = model.subgraphs[0]
    activations = [t for t in graph.tensors if not _has_data(model.buffers[t.buffer])]
    assert activations and all(t.buffer == 0 and t.name is None for t in activations)
    assert all(t.name for t in graph.tensors if _has_data(model.buffers[t.buffer]))  # the size report's
    assert sum(not _has_data(b) for b in model.buffers) == 1  # buffer 0 alone
    assert not {m.name for m in model.metadata} & set(CONVERTER_NOTES) and model.description is None
    assert read_metadata(lean)["intents"] == list("abcd")
    assert read_model(lean).checksum is not None  # sealed after the repack
    assert len(lean) < len(converted) + len(_metadata_entry(lean))


def test_repeated_shapes_and_quantization_tables_are_written_once(converted_and_lean):
    _, lean = converted_and_lean
    root = schema.Model.GetRootAsModel(lean, 0)
    graph = root.Subgraphs(0)
    tensors = [graph.Tensors(i) for i in range(graph.TensorsLength())]
    shapes = {tuple(t.ShapeAsNumpy()) for t in tensors if t.ShapeLength()}
    shape_positions = {t._tab.Vector(t._tab.Offset(4)) for t in tensors if t.ShapeLength()}
    assert len(shape_positions) == len(shapes) < len(tensors)
    quantized = [t.Quantization() for t in tensors if t.Quantization() and t.Quantization().ScaleLength()]
    params = {(tuple(q.ScaleAsNumpy()), tuple(q.ZeroPointAsNumpy())) for q in quantized}
    assert len({q._tab.Pos for q in quantized}) == len(params) < len(quantized)
    # inside the tables: the per-channel zero points (all zero) are one vector per length
    per_channel = [q for q in quantized if q.ZeroPointLength() > 1]
    zero_points = {tuple(q.ZeroPointAsNumpy()) for q in per_channel}
    zero_point_positions = {q._tab.Vector(q._tab.Offset(10)) for q in per_channel}
    assert len(zero_point_positions) == len(zero_points) < len(per_channel)


def _has_data(buffer) -> bool:
    return (buffer.data is not None and len(buffer.data) > 0) or bool(buffer.size)


def _metadata_entry(data: bytes) -> bytes:
    return read_model(data).metadata["tflnlu"]
