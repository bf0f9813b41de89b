"""Reading a .tflite flatbuffer: validation, tensors with their constant bytes, operators.

Every size claim tflnlu makes comes from here, i.e. from the flatbuffer itself (never from
gzip). A truncated or corrupt file raises `ModelFileError` with what is wrong.
"""

from __future__ import annotations

import hashlib
import struct
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import flatbuffers
from ai_edge_litert import schema_py_generated as schema

from tflnlu.modelfile.lean import pack_shared

TFLITE_IDENTIFIER = b"TFL3"
# A metadata entry holding the sha256 of the whole file (its own 32 bytes read as zeros):
# a file damaged anywhere is refused before anything trusts it.
CHECKSUM_METADATA = "tflnlu_sha256"
CHECKSUM_BYTES = 32
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
    checksum: bytes | None = None  # the verified sha256 of the file (None: it carries none)

    @property
    def constant_bytes(self) -> int:
        return sum(t.constant_bytes for t in self.tensors)


def read_model(data: bytes, source: str = "model", *, check_digest: bool = True) -> ModelInfo:
    """Parse and check a .tflite; raise ModelFileError for anything that is not a whole model,
    or (check_digest) whose contents do not match the checksum tflnlu-export wrote into it."""
    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        raise ModelFileError(f"{source}: not a TFLite model (no 'TFL3' identifier; {len(data)} bytes)")
    digest = _check_digest(data, source) if check_digest else None  # first: nothing damaged is parsed
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
    try:
        tensors, operators, metadata = _contents(model, buffers, data)
    except ModelFileError:
        raise
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as e:  # parsed, but nonsense
        raise ModelFileError(f"{source}: corrupt TFLite model ({type(e).__name__}: {e})") from None
    return ModelInfo(len(data), tensors, operators, metadata, checksum=digest)


def _contents(model: schema.ModelT, buffers: list, data: bytes) -> tuple[list, Counter, dict]:
    """Tensors (with their constant bytes), operator counts and metadata entries."""
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
            raise IndexError(f"metadata {entry.name!r} points to no buffer")
        metadata[entry.name.decode("utf-8", "replace")] = buffer_bytes(buffers[entry.buffer], data)
    return tensors, operators, metadata


def buffer_bytes(buffer: schema.BufferT, data: bytes) -> bytes:
    """A buffer's contents, stored inline or (for aligned exports) behind the flatbuffer."""
    if buffer.data is not None:
        return bytes(buffer.data)
    if buffer.offset and buffer.size:
        return data[buffer.offset : buffer.offset + buffer.size]
    return b""


def _checksum_span(data: bytes, source: str) -> tuple[int, int] | None:
    """Where the checksum entry's 32 bytes are in the file, or None when it has none."""
    root = schema.Model.GetRootAsModel(data, 0)
    for index in range(root.MetadataLength()):
        entry = root.Metadata(index)
        if entry.Name() != CHECKSUM_METADATA.encode():
            continue
        buffer = root.Buffers(entry.Buffer())
        if buffer.DataLength() != CHECKSUM_BYTES:
            raise ModelFileError(
                f"{source}: the file is damaged: its checksum entry is not {CHECKSUM_BYTES} bytes"
            )
        start = buffer._tab.Vector(buffer._tab.Offset(4))  # field 0 (data) of the Buffer table
        return start, start + CHECKSUM_BYTES
    return None


def file_digest(data: bytes, span: tuple[int, int]) -> bytes:
    """sha256 of the whole file with the checksum's own bytes read as zeros."""
    start, end = span
    return hashlib.sha256(data[:start] + bytes(end - start) + data[end:]).digest()


def seal(data: bytes) -> bytes:
    """The file with its checksum entry (created by finish_model) set: the last step of every
    export, after any repacking (the custom-op alignment)."""
    span = _checksum_span(data, "model")
    if span is None:
        raise ValueError(
            "seal() needs a model with a checksum entry (tflnlu.modelfile.metadata.finish_model)"
        )
    return data[: span[0]] + file_digest(data, span) + data[span[1] :]


def _check_digest(data: bytes, source: str) -> bytes | None:
    """The file's digest, checked against its checksum entry (None when it has none)."""
    try:
        span = _checksum_span(data, source)
    except ModelFileError:
        raise
    except Exception as e:  # the generated accessors raise whatever they meet in a damaged file
        raise ModelFileError(
            f"{source}: corrupt or truncated TFLite model ({type(e).__name__}: {e})"
        ) from None
    if span is None:
        return None
    digest = file_digest(data, span)
    if data[span[0] : span[1]] != digest:
        raise ModelFileError(
            f"{source}: the file is damaged: its contents do not match the checksum it was exported "
            "with; copy or export it again"
        )
    return digest


def _operator_name(model: schema.ModelT, op: schema.OperatorT) -> str:
    code = model.operatorCodes[op.opcodeIndex]
    builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
    return code.customCode.decode() if code.customCode else _BUILTIN_NAMES.get(builtin, str(builtin))


def execution_order(data: bytes) -> list[tuple[str, list[int]]]:
    """The main subgraph's operators in execution order: (operator name, output tensor indices)."""
    model = schema.ModelT.InitFromPackedBuf(data, 0)
    return [(_operator_name(model, op), [int(t) for t in op.outputs]) for op in model.subgraphs[0].operators]


def with_operator_version_at_most(data: bytes, operator: str, *, version: int) -> bytes:
    """A copy of the file whose builtin `operator` opcodes declare at most `version`, patched in
    place (every other byte unchanged; the checksum no longer matches: not a file to ship).

    For LiteRT 2.3's reference-kernel resolver, which registers DEPTHWISE_CONV_2D only up to
    version 6 although its kernel runs the int4 filters version 7 announces."""
    patched = bytearray(data)
    root = schema.Model.GetRootAsModel(data, 0)
    for index in range(root.OperatorCodesLength()):
        code = root.OperatorCodes(index)
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        field = code._tab.Offset(8)  # field 2 (version) of the OperatorCode table
        if _BUILTIN_NAMES.get(builtin) == operator and field and code.Version() > version:
            struct.pack_into("<i", patched, code._tab.Pos + field, version)
    return bytes(patched)


def pack_model(model: schema.ModelT) -> bytes:
    """Serialize an object-API model back into a .tflite flatbuffer, each distinct tensor shape
    and quantization table written once (tflnlu.modelfile.lean)."""
    builder = flatbuffers.Builder(1 << 16)
    builder.Finish(pack_shared(model, builder), file_identifier=TFLITE_IDENTIFIER)
    return bytes(builder.Output())


def read_model_bytes(path: str | Path) -> bytes:
    """A model file's bytes; ModelFileError (the path and why) for a directory or a missing file."""
    file = Path(path)
    if file.is_dir():
        raise ModelFileError(f"{path} is a directory: give the .tflite file (e.g. {file / 'model.tflite'})")
    try:
        return file.read_bytes()
    except OSError as e:
        raise ModelFileError(f"{path}: cannot read ({e.strerror})") from None


def read_model_file(path: Path) -> ModelInfo:
    return read_model(read_model_bytes(path), str(path))
