"""Reading a .tflite flatbuffer: validation, tensors with their constant bytes, operators.

Every size claim tflnlu makes comes from here, i.e. from the flatbuffer itself (never from
gzip). A truncated or corrupt file raises `ModelFileError` with what is wrong.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import flatbuffers
from ai_edge_litert import schema_py_generated as schema

TFLITE_IDENTIFIER = b"TFL3"
# A metadata entry holding the sha256 of everything else in the model (`payload_digest`):
# a damaged file is refused before anything trusts it.
CHECKSUM_METADATA = "tflnlu_sha256"
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
    payload_sha256: bytes = b""  # digest of the graph and every buffer but the checksum's own

    @property
    def constant_bytes(self) -> int:
        return sum(t.constant_bytes for t in self.tensors)


def read_model(data: bytes, source: str = "model", *, check_digest: bool = True) -> ModelInfo:
    """Parse and check a .tflite; raise ModelFileError for anything that is not a whole model,
    or (check_digest) whose contents do not match the checksum tflnlu-export wrote into it."""
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
        if not 0 <= entry.buffer < len(buffers):
            raise ModelFileError(f"{source}: metadata {entry.name!r} points to no buffer (damaged file)")
        metadata[entry.name.decode("utf-8", "replace")] = buffer_bytes(buffers[entry.buffer], data)
    info = ModelInfo(len(data), tensors, operators, metadata, payload_sha256=payload_digest(model, data))
    if check_digest:
        _check_digest(info, source)
    return info


def buffer_bytes(buffer: schema.BufferT, data: bytes) -> bytes:
    """A buffer's contents, stored inline or (for aligned exports) behind the flatbuffer."""
    if buffer.data is not None:
        return bytes(buffer.data)
    if buffer.offset and buffer.size:
        return data[buffer.offset : buffer.offset + buffer.size]
    return b""


def payload_digest(model: schema.ModelT, data: bytes = b"") -> bytes:
    """sha256 over what the model computes: operator codes, every tensor (shape, type, buffer,
    quantization), every operator (code, inputs, outputs, options) and the contents of every
    buffer except the checksum's own. Packing-independent, so the aligned custom-op file keeps
    the digest its inline form had."""
    skip = {e.buffer for e in model.metadata or [] if _text(e.name) == CHECKSUM_METADATA}
    digest = hashlib.sha256()
    for code in model.operatorCodes or []:
        digest.update(
            repr((code.builtinCode, code.deprecatedBuiltinCode, code.customCode, code.version)).encode()
        )
    for subgraph in model.subgraphs or []:
        digest.update(repr((_ints(subgraph.inputs), _ints(subgraph.outputs))).encode())
        for tensor in subgraph.tensors or []:
            digest.update(repr(_tensor_key(tensor)).encode())
        for op in subgraph.operators or []:
            options = _plain(vars(op.builtinOptions)) if op.builtinOptions is not None else None
            digest.update(
                repr(
                    (
                        op.opcodeIndex,
                        _ints(op.inputs),
                        _ints(op.outputs),
                        repr(options),
                        _ints(op.customOptions),
                    )
                ).encode()
            )
    for index, buffer in enumerate(model.buffers or []):
        if index not in skip:
            contents = buffer_bytes(buffer, data)
            digest.update(f"{index}:{len(contents)}:".encode() + contents)
    for entry in model.metadata or []:
        if entry.buffer not in skip:
            digest.update(repr((_text(entry.name), entry.buffer)).encode())
    return digest.digest()


def _ints(values) -> list[int]:
    return [int(v) for v in values] if values is not None else []


def _tensor_key(tensor: schema.TensorT) -> tuple:
    quant = tensor.quantization
    scales = (
        (_floats(quant.scale), _ints(quant.zeroPoint), quant.quantizedDimension)
        if quant is not None
        else None
    )
    return (_ints(tensor.shape), tensor.type, tensor.buffer, _text(tensor.name), scales)


def _text(value) -> str:
    """A flatbuffer string as read (bytes) or as set before packing (str)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else (value or "")


def _plain(options: dict) -> list:
    """Operator options as plain Python values (numpy arrays after a read, lists before)."""
    return sorted((k, v.tolist() if hasattr(v, "tolist") else v) for k, v in options.items())


def _floats(values) -> list[float]:
    return [float(v) for v in values] if values is not None else []


def _check_digest(info: ModelInfo, source: str) -> None:
    stored = info.metadata.get(CHECKSUM_METADATA)
    if stored is not None and stored != info.payload_sha256:
        raise ModelFileError(
            f"{source}: the file is damaged: its contents do not match the checksum it was exported "
            "with; copy or export it again"
        )


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
