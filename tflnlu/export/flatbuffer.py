"""Reading a .tflite flatbuffer: validation, tensors with their constant bytes, operators.

Every size claim tflnlu makes comes from here, i.e. from the flatbuffer itself (never from
gzip). A truncated or corrupt file raises `ModelFileError` with what is wrong.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import flatbuffers
from ai_edge_litert import schema_py_generated as schema

TFLITE_IDENTIFIER = b"TFL3"
_BUILTIN_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
_TYPE_NAMES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}


class ModelFileError(ValueError):
    pass


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    dtype: str
    constant_bytes: int  # bytes of its buffer in the file (0 for activations)


@dataclass(frozen=True)
class ModelInfo:
    file_bytes: int
    tensors: list[TensorInfo]
    operators: Counter  # operator name -> count
    metadata: dict[str, bytes]

    @property
    def constant_bytes(self) -> int:
        return sum(t.constant_bytes for t in self.tensors)


def read_model(data: bytes, source: str = "model") -> ModelInfo:
    """Parse and check a .tflite; raise ModelFileError for anything that is not a whole model."""
    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        raise ModelFileError(f"{source}: not a TFLite model (no 'TFL3' identifier; {len(data)} bytes)")
    try:
        model = schema.ModelT.InitFromPackedBuf(data, 0)
    except Exception as e:  # the generated parser raises whatever struct/index error it meets
        raise ModelFileError(
            f"{source}: corrupt or truncated TFLite model ({type(e).__name__}: {e})"
        ) from None
    if not model.subgraphs:
        raise ModelFileError(f"{source}: the model has no subgraph")
    buffers = model.buffers or []
    for index, buffer in enumerate(buffers):
        if buffer.offset and buffer.offset + buffer.size > len(data):
            raise ModelFileError(f"{source}: buffer {index} ends past the end of the file (truncated)")
    tensors = []
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors or []:
            buffer = buffers[tensor.buffer] if 0 < tensor.buffer < len(buffers) else None
            size = 0
            if buffer is not None:
                size = len(buffer.data) if buffer.data is not None else int(buffer.size or 0)
            shape = tuple(int(d) for d in (tensor.shape if tensor.shape is not None else []))
            name = tensor.name.decode("utf-8", "replace") if tensor.name else ""
            tensors.append(TensorInfo(name, shape, _TYPE_NAMES.get(tensor.type, str(tensor.type)), size))
    operators: Counter = Counter()
    for subgraph in model.subgraphs:
        for op in subgraph.operators or []:
            operators[_operator_name(model, op)] += 1
    metadata = {}
    for entry in model.metadata or []:
        buffer = buffers[entry.buffer]
        metadata[entry.name.decode()] = bytes(buffer.data) if buffer.data is not None else b""
    return ModelInfo(len(data), tensors, operators, metadata)


def _operator_name(model: schema.ModelT, op: schema.OperatorT) -> str:
    code = model.operatorCodes[op.opcodeIndex]
    builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
    return code.customCode.decode() if code.customCode else _BUILTIN_NAMES.get(builtin, str(builtin))


def execution_order(data: bytes) -> list[tuple[str, list[int]]]:
    """The main subgraph's operators in execution order: (operator name, output tensor indices)."""
    model = schema.ModelT.InitFromPackedBuf(data, 0)
    return [(_operator_name(model, op), [int(t) for t in op.outputs]) for op in model.subgraphs[0].operators]


def pack_model(model: schema.ModelT) -> bytes:
    """Serialize an object-API model back into a .tflite flatbuffer."""
    builder = flatbuffers.Builder(1 << 16)
    builder.Finish(model.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    return bytes(builder.Output())


def read_model_file(path: Path) -> ModelInfo:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelFileError(f"{path}: cannot read ({e.strerror})") from None
    return read_model(data, str(path))
