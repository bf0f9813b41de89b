"""The microcontroller target: TFLM operator check, C array sources, op resolver, budgets.

A firmware author needs three things besides the accuracy numbers: the model as a C array
that links into flash, the exact `MicroMutableOpResolver` registrations, and the flash and
arena bytes to plan memory. Everything here is checked before the export writes a file.
"""

from __future__ import annotations

import numpy as np

from tflnlu.export.options import HEADER_FILE
from tflnlu.modelfile.flatbuffer import ModelInfo
from tflnlu.modelfile.size import BudgetExceeded
from tflnlu.runtime.litert import LiteRTModel
from tflnlu.runtime.tflm import PINNED_TFLM, TFLMModel, first_difference, minimum_arena

# Builtin operator -> its MicroMutableOpResolver method, as declared in
# tensorflow/lite/micro/micro_mutable_op_resolver.h (tflite-micro commit 90b983c2, 2026-08-20).
TFLM_RESOLVER_METHODS = {
    "ABS": "AddAbs", "ADD": "AddAdd", "ADD_N": "AddAddN", "ARG_MAX": "AddArgMax",
    "ARG_MIN": "AddArgMin", "ASSIGN_VARIABLE": "AddAssignVariable",
    "AVERAGE_POOL_2D": "AddAveragePool2D", "BATCH_MATMUL": "AddBatchMatMul",
    "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd", "BROADCAST_ARGS": "AddBroadcastArgs",
    "BROADCAST_TO": "AddBroadcastTo", "CALL_ONCE": "AddCallOnce", "CAST": "AddCast",
    "CEIL": "AddCeil", "CONCATENATION": "AddConcatenation", "CONV_2D": "AddConv2D",
    "COS": "AddCos", "CUMSUM": "AddCumSum", "DEPTH_TO_SPACE": "AddDepthToSpace",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D", "DEQUANTIZE": "AddDequantize", "DIV": "AddDiv",
    "DYNAMIC_UPDATE_SLICE": "AddDynamicUpdateSlice", "EMBEDDING_LOOKUP": "AddEmbeddingLookup",
    "ELU": "AddElu", "EQUAL": "AddEqual", "EXP": "AddExp", "EXPAND_DIMS": "AddExpandDims",
    "FILL": "AddFill", "FLOOR": "AddFloor", "FLOOR_DIV": "AddFloorDiv", "FLOOR_MOD": "AddFloorMod",
    "FULLY_CONNECTED": "AddFullyConnected", "GATHER": "AddGather", "GATHER_ND": "AddGatherNd",
    "GREATER": "AddGreater", "GREATER_EQUAL": "AddGreaterEqual", "HARD_SWISH": "AddHardSwish",
    "IF": "AddIf", "L2_NORMALIZATION": "AddL2Normalization", "L2_POOL_2D": "AddL2Pool2D",
    "LEAKY_RELU": "AddLeakyRelu", "LESS": "AddLess", "LESS_EQUAL": "AddLessEqual", "LOG": "AddLog",
    "LOGICAL_AND": "AddLogicalAnd", "LOGICAL_NOT": "AddLogicalNot", "LOGICAL_OR": "AddLogicalOr",
    "LOGISTIC": "AddLogistic", "LOG_SOFTMAX": "AddLogSoftmax", "MAXIMUM": "AddMaximum",
    "MAX_POOL_2D": "AddMaxPool2D", "MIRROR_PAD": "AddMirrorPad", "MEAN": "AddMean",
    "MINIMUM": "AddMinimum", "MUL": "AddMul", "NEG": "AddNeg", "NOT_EQUAL": "AddNotEqual",
    "PACK": "AddPack", "PAD": "AddPad", "PADV2": "AddPadV2", "PRELU": "AddPrelu",
    "QUANTIZE": "AddQuantize", "READ_VARIABLE": "AddReadVariable", "REDUCE_ALL": "AddReduceAll",
    "REDUCE_MAX": "AddReduceMax", "REDUCE_MIN": "AddReduceMin", "RELU": "AddRelu", "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape", "RESIZE_BILINEAR": "AddResizeBilinear",
    "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor", "REVERSE_V2": "AddReverseV2",
    "ROUND": "AddRound", "RSQRT": "AddRsqrt", "SELECT_V2": "AddSelectV2", "SHAPE": "AddShape",
    "SIN": "AddSin", "SLICE": "AddSlice", "SOFTMAX": "AddSoftmax",
    "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd", "SPACE_TO_DEPTH": "AddSpaceToDepth",
    "SPLIT": "AddSplit", "SPLIT_V": "AddSplitV", "SQUEEZE": "AddSqueeze", "SQRT": "AddSqrt",
    "SQUARE": "AddSquare", "SQUARED_DIFFERENCE": "AddSquaredDifference",
    "STRIDED_SLICE": "AddStridedSlice", "SUB": "AddSub", "SUM": "AddSum", "SVDF": "AddSvdf",
    "TANH": "AddTanh", "TRANSPOSE_CONV": "AddTransposeConv", "TRANSPOSE": "AddTranspose",
    "UNPACK": "AddUnpack", "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM",
    "VAR_HANDLE": "AddVarHandle", "WHILE": "AddWhile", "ZEROS_LIKE": "AddZerosLike",
}  # fmt: skip

MODEL_SYMBOL = "g_tflnlu_model"
C_ARRAY_ALIGNMENT = 16  # TFLM reads the flatbuffer in place; 16 suits its int8/int32 buffers
FLASH_FIXES = "fewer codes or groups (--dpq_k, --dpq_d), a smaller vocabulary (--min_count, --max_vocab) or a narrower encoder (--width)"
ARENA_FIXES = "a shorter --max_len or a narrower encoder (--width)"


class UnsupportedOperator(ValueError):
    """The model uses an operator TFLM does not implement (raised before anything is written)."""


def check_operators(info: ModelInfo) -> None:
    missing = sorted(op for op in info.operators if op not in TFLM_RESOLVER_METHODS)
    if missing:
        raise UnsupportedOperator(
            f"TFLite-Micro has no kernel for operator(s) {', '.join(missing)}; the MCU target needs "
            "builtin ops TFLM implements (use --lookup=builtin; custom ops cannot be registered "
            "from the pip TFLM runtime)"
        )


def op_resolver_source(info: ModelInfo) -> str:
    """The resolver a firmware author pastes in: exact AddXxx() calls and template size."""
    check_operators(info)
    ops = sorted(info.operators)
    calls = "\n".join(
        f"  if (resolver.{TFLM_RESOLVER_METHODS[op]}() != kTfLiteOk) return kTfLiteError;" for op in ops
    )
    return (
        "// Operators of this model, generated by tflnlu-export --target=mcu.\n"
        '#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"\n\n'
        f"using TflnluOpResolver = tflite::MicroMutableOpResolver<{len(ops)}>;\n\n"
        "inline TfLiteStatus RegisterTflnluOps(TflnluOpResolver& resolver) {\n"
        f"{calls}\n"
        "  return kTfLiteOk;\n"
        "}\n"
    )


def c_array_sources(model_bytes: bytes, symbol: str = MODEL_SYMBOL) -> tuple[str, str]:
    """`model_data.h` and `model_data.cc`: the flatbuffer as an aligned const array in flash."""
    header = (
        "// The tflnlu model as a C array, generated by tflnlu-export --target=mcu.\n"
        "#ifndef TFLNLU_MODEL_DATA_H_\n#define TFLNLU_MODEL_DATA_H_\n\n"
        f"extern const unsigned char {symbol}[];\n"
        f"extern const unsigned int {symbol}_len;\n\n"
        "#endif  // TFLNLU_MODEL_DATA_H_\n"
    )
    rows = (
        "  " + ", ".join(f"0x{b:02x}" for b in model_bytes[i : i + 12])
        for i in range(0, len(model_bytes), 12)
    )
    source = (
        f'#include "{HEADER_FILE}"\n\n'
        f"alignas({C_ARRAY_ALIGNMENT}) const unsigned char {symbol}[] = {{\n"
        + ",\n".join(rows)
        + f"\n}};\nconst unsigned int {symbol}_len = {len(model_bytes)};\n"
    )
    return header, source


def check_mcu_budgets(
    flash_bytes: int, arena_bytes: int, max_flash: int | None, max_arena: int | None
) -> None:
    """Raise BudgetExceeded naming each budget that is exceeded, by how much, and what to try."""
    over = []
    if max_flash is not None and flash_bytes > max_flash:
        over.append(
            f"flash: the model is {flash_bytes:,} bytes, over --max_flash_bytes={max_flash:,} by {flash_bytes - max_flash:,} (train with {FLASH_FIXES})"
        )
    if max_arena is not None and arena_bytes > max_arena:
        over.append(
            f"RAM: the tensor arena needs {arena_bytes:,} bytes, over --max_arena_bytes={max_arena:,} by "
            f"{arena_bytes - max_arena:,} (train with {ARENA_FIXES})"
        )
    if over:
        raise BudgetExceeded("; ".join(over))


def verify_on_tflm(model_bytes: bytes, info: ModelInfo, test_ids: np.ndarray, score) -> dict:
    """Run the file in TFLM on every test utterance: its metrics, how its int8 outputs compare
    with LiteRT's reference kernels on the same file (and, when they differ, the first operator
    that differs), the minimum arena, and per-operator counts. `info` is the file read by
    `read_model`, its operators already checked; `score(intent, slots)` -> metrics.
    """
    tflm = TFLMModel(model_bytes)
    litert = LiteRTModel(model_bytes, reference_kernels=True)
    identical, same_intent, largest, outputs, first_differing = 0, 0, 0, [], None
    for row in test_ids:
        ours, theirs = tflm.raw_one(row), litert.raw_one(row)
        differences = [
            int(np.abs(a.astype(np.int32) - b.astype(np.int32)).max())
            for a, b in zip(ours, theirs, strict=True)
        ]
        identical += max(differences) == 0
        same_intent += ours[0].argmax() == theirs[0].argmax()
        largest = max(largest, *differences)
        if max(differences) and first_differing is None:
            first_differing = first_difference(model_bytes, row)
        outputs.append(tflm.dequantize(ours))
    return {
        "tflite_micro_version": PINNED_TFLM,
        "flash_bytes": info.file_bytes,
        **minimum_arena(model_bytes),
        "operators": dict(sorted(info.operators.items())),
        "resolver_size": len(info.operators),
        "test": score(np.stack([o[0] for o in outputs]), np.stack([o[1] for o in outputs])),
        "versus_litert_reference_kernels": {
            "identical_outputs": identical / len(test_ids),
            "same_intent": same_intent / len(test_ids),
            "largest_int8_difference": largest,
            "first_differing_operator": first_differing,
        },
        "latency": tflm.latency_ms(),
    }
