"""int4 weights (--weight_bits=4) on a tiny run: the filters in the file are INT4, LiteRT and
TFLite-Micro both run it and agree, and the weights take half the bytes of int8."""

import json

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from tflnlu.data.readers import read_splits
from tflnlu.export.export import ExportOptions, export_run
from tflnlu.modelfile.flatbuffer import read_model, with_operator_version_at_most
from tflnlu.runtime.litert import LiteRTModel
from tflnlu.train.config import TrainConfig
from tflnlu.train.trainer import train

SMALL = {"embed_dim": 16, "dpq_d": 4, "dpq_k": 16, "width": 8, "max_len": 12}
QUIET = {"log": lambda _: None}
WEIGHT_OPERATORS = {"CONV_2D": 1, "DEPTHWISE_CONV_2D": 1, "FULLY_CONNECTED": 1}  # filter: input 1


@pytest.fixture(scope="module")
def int4_export(tmp_path_factory):
    from tests.conftest import write_massive_dir

    root = tmp_path_factory.mktemp("int4")
    splits = read_splits(write_massive_dir(root / "data"), "massive").splits
    train(splits, root / "run", SMALL, TrainConfig(epochs=3), **QUIET)
    options = ExportOptions(qat_epochs=1, weight_bits=4, target="mcu")
    result = export_run(root / "run", root / "out", splits, options, **QUIET)
    return root, result


def _filters(model_bytes: bytes) -> list[tuple[str, int, tuple, int]]:
    """(operator, filter type, filter shape, buffer bytes) of every weight operator's filter."""
    model = schema.ModelT.InitFromPackedBuf(model_bytes, 0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    graph, found = model.subgraphs[0], []
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        name = names[max(code.builtinCode, code.deprecatedBuiltinCode)]
        if name in WEIGHT_OPERATORS:
            tensor = graph.tensors[op.inputs[WEIGHT_OPERATORS[name]]]
            data = model.buffers[tensor.buffer].data
            found.append((name, tensor.type, tuple(tensor.shape), len(data)))
    return found


def test_every_filter_but_the_logits_is_int4_at_two_weights_per_byte(int4_export):
    root, _ = int4_export
    filters = _filters((root / "out" / "model.tflite").read_bytes())
    assert {name for name, *_ in filters} == set(WEIGHT_OPERATORS)
    heads = json.loads((root / "run" / "config.json").read_text())["model"]
    # (the domain head is a training aid: the file's outputs are intents and slots only)
    logits = [("FULLY_CONNECTED", heads["num_intents"]), ("CONV_2D", heads["num_tags"])]
    eight_bit = [(name, shape[0]) for name, dtype, shape, _ in filters if dtype == schema.TensorType.INT8]
    assert sorted(eight_bit) == sorted(logits)  # the logits layers keep 8-bit weights
    four_bit = [f for f in filters if f[1] == schema.TensorType.INT4]
    assert len(four_bit) == len(filters) - len(logits) >= 5
    for name, _, shape, stored in four_bit:
        assert stored == (int(np.prod(shape)) + 1) // 2, name


def test_tflite_micro_and_litert_agree_on_the_int4_file(int4_export):
    _, result = int4_export
    versus = result["mcu"]["versus_litert_reference_kernels"]
    assert versus["same_intent"] == 1.0
    assert versus["largest_int8_difference"] <= 2
    assert result["test"]["tflite"]["examples"] == result["mcu"]["test"]["examples"]


def test_the_default_and_the_reference_kernels_run_the_same_file(int4_export):
    root, _ = int4_export
    data = (root / "out" / "model.tflite").read_bytes()
    ids = np.arange(12, dtype=np.int32) % 7
    default, reference = LiteRTModel(data), LiteRTModel(data, reference_kernels=True)
    for ours, theirs in zip(default.raw_one(ids), reference.raw_one(ids), strict=True):
        assert ours.dtype == np.int8  # int8 logits: the kernels differ by rounding steps only
        assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 2


def test_the_reference_copy_lowers_only_a_higher_depthwise_version():
    lowered = with_operator_version_at_most(_tiny_depthwise_model(7), "DEPTHWISE_CONV_2D", version=6)
    assert lowered == _tiny_depthwise_model(6)
    older = _tiny_depthwise_model(5)
    assert with_operator_version_at_most(older, "DEPTHWISE_CONV_2D", version=6) == older
    assert with_operator_version_at_most(_tiny_depthwise_model(7), "CONV_2D", version=6) == (
        _tiny_depthwise_model(7)
    )


def _tiny_depthwise_model(version: int) -> bytes:
    from tflnlu.modelfile.flatbuffer import pack_model

    model = schema.ModelT()
    model.version = 3
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.DEPTHWISE_CONV_2D
    code.version = version
    model.operatorCodes = [code]
    model.subgraphs = [schema.SubGraphT()]
    model.buffers = [schema.BufferT()]
    return pack_model(model)


def test_int4_without_qat_is_refused_before_any_work():
    with pytest.raises(ValueError, match=r"--weight_bits=4 needs quantization-aware training"):
        ExportOptions(weight_bits=4, qat_epochs=0)
    with pytest.raises(ValueError, match=r"--weight_bits must be one of \(8, 4\)"):
        ExportOptions(weight_bits=2)


def test_the_size_report_counts_int4_filters_at_their_stored_bytes(int4_export):
    root, result = int4_export
    info = read_model((root / "out" / "model.tflite").read_bytes())
    assert result["size"]["file_bytes"] == info.file_bytes
    assert sum(result["size"]["components"].values()) <= info.file_bytes
