"""A lean flatbuffer: the same graph without the bytes no runtime reads.

What the converter writes besides the constants is tables, and much of it is repeated or
informational (measured per part by `tflnlu-size --overhead`):
- every tensor gets its own shape vector and quantization table, although most shapes and
  many (scale, zero point) pairs repeat: the packer here writes each distinct one once and
  lets the tensors share it (a flatbuffer may point to one table from several places), and
  so for the vectors inside the tables (per-channel zero points are all zero, 8 bytes a
  channel, the same vector in every layer of a width);
- every activation gets an empty buffer of its own: they all point at buffer 0, the empty
  buffer the schema reserves, and the rest are dropped;
- activations carry names (runtimes address tensors by index; the signature names the
  inputs and outputs); constants keep theirs, which the size report reads;
- `min_runtime_version`, `CONVERSION_METADATA` and the description are the converter's notes
  to people; no interpreter reads them.
LiteRT (all three resolvers) and TFLite-Micro give bit-identical outputs on the lean file
(tests/export/test_lean.py).
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

CONVERTER_NOTES = (b"min_runtime_version", b"CONVERSION_METADATA")


def make_lean(model: schema.ModelT) -> None:
    """Drop activation names, per-activation empty buffers and the converter's notes, in place."""
    _drop_converter_notes(model)
    buffers = model.buffers or []
    for subgraph in model.subgraphs or []:
        for tensor in subgraph.tensors or []:
            if not holds_data(buffers[tensor.buffer]):
                tensor.buffer, tensor.name = 0, None
    _drop_unused_buffers(model)


def pack_shared(model: schema.ModelT, builder: flatbuffers.Builder) -> int:
    """Pack `model` writing each distinct tensor shape and quantization table once."""
    shared: dict = {}
    originals = [subgraph.tensors for subgraph in model.subgraphs or []]
    try:
        for subgraph in model.subgraphs or []:
            subgraph.tensors = [_SharingTensor(t, shared) for t in subgraph.tensors or []]
        return model.Pack(builder)
    finally:
        for subgraph, tensors in zip(model.subgraphs or [], originals, strict=True):
            subgraph.tensors = tensors


def holds_data(buffer: schema.BufferT) -> bool:
    """A constant's buffer (inline data, or placed behind the flatbuffer by the alignment)."""
    return (buffer.data is not None and len(buffer.data) > 0) or bool(buffer.size)


def _drop_converter_notes(model: schema.ModelT) -> None:
    model.description = None
    model.metadata = [m for m in model.metadata or [] if m.name not in CONVERTER_NOTES] or None


def _drop_unused_buffers(model: schema.ModelT) -> None:
    """Keep buffer 0 and every buffer a tensor or metadata entry points at, renumbered."""
    tensors = [t for subgraph in model.subgraphs or [] for t in subgraph.tensors or []]
    used = sorted({0} | {t.buffer for t in tensors} | {m.buffer for m in model.metadata or []})
    new_index = {old: new for new, old in enumerate(used)}
    model.buffers = [model.buffers[i] for i in used]
    for tensor in tensors:
        tensor.buffer = new_index[tensor.buffer]
    for entry in model.metadata or []:
        entry.buffer = new_index[entry.buffer]


class _SharingTensor:
    """Packs like `TensorT.Pack`, reusing the offsets of shapes and quantization tables that
    were already written. Tensors with sparsity or variant tensors pack as they are."""

    def __init__(self, tensor: schema.TensorT, shared: dict):
        self.tensor, self.shared = tensor, shared

    def Pack(self, builder: flatbuffers.Builder) -> int:  # noqa: N802 (the object API's name)
        t = self.tensor
        if t.sparsity is not None or t.variantTensors is not None:
            return t.Pack(builder)
        shape = self._vector(builder, t.shape, np.int32)
        signature = self._vector(builder, t.shapeSignature, np.int32)
        name = builder.CreateString(t.name) if t.name is not None else None
        quantization = self._quantization(builder, t.quantization)
        schema.TensorStart(builder)
        if shape is not None:
            schema.TensorAddShape(builder, shape)
        schema.TensorAddType(builder, t.type)
        schema.TensorAddBuffer(builder, t.buffer)
        if name is not None:
            schema.TensorAddName(builder, name)
        if quantization is not None:
            schema.TensorAddQuantization(builder, quantization)
        schema.TensorAddIsVariable(builder, t.isVariable)
        if signature is not None:
            schema.TensorAddShapeSignature(builder, signature)
        schema.TensorAddHasRank(builder, t.hasRank)
        schema.TensorAddExternalBuffer(builder, t.externalBuffer)
        return schema.TensorEnd(builder)

    def _vector(self, builder: flatbuffers.Builder, values, dtype) -> int | None:
        """A vector of `values` as `dtype`, written once however many tables point at it."""
        if values is None:
            return None
        array = np.asarray(values, dtype)
        key = (array.dtype.str, array.tobytes())
        if key not in self.shared:
            self.shared[key] = builder.CreateNumpyVector(array)
        return self.shared[key]

    def _quantization(self, builder: flatbuffers.Builder, q: schema.QuantizationParametersT | None):
        """The table, and each of its vectors, written once: per-channel weights and their
        biases repeat the same all-zero zero points (8 bytes a channel) in every layer."""
        if q is None:
            return None
        if q.details is not None:
            return q.Pack(builder)
        key = (
            "quantization",
            *(_values(v) for v in (q.min, q.max, q.scale, q.zeroPoint)),
            q.quantizedDimension,
        )
        if key not in self.shared:
            vectors = [self._vector(builder, v, dtype) for v, dtype in _quantization_vectors(q)]
            schema.QuantizationParametersStart(builder)
            for add, vector in zip(_QUANTIZATION_ADDERS, vectors, strict=True):
                if vector is not None:
                    add(builder, vector)
            schema.QuantizationParametersAddQuantizedDimension(builder, q.quantizedDimension)
            self.shared[key] = schema.QuantizationParametersEnd(builder)
        return self.shared[key]


_QUANTIZATION_ADDERS = (
    schema.QuantizationParametersAddMin,
    schema.QuantizationParametersAddMax,
    schema.QuantizationParametersAddScale,
    schema.QuantizationParametersAddZeroPoint,
)


def _quantization_vectors(q: schema.QuantizationParametersT) -> list:
    """(values, dtype) of min, max, scale and zero point, in the schema's order."""
    return [(q.min, np.float32), (q.max, np.float32), (q.scale, np.float32), (q.zeroPoint, np.int64)]


def _values(vector) -> tuple | None:
    return None if vector is None else tuple(float(v) for v in vector)
