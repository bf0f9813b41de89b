"""Constants behind the flatbuffer at 64-byte offsets: what LiteRT's CompiledModel needs to
hand a custom kernel its constant tensors (the schema's offset/size buffers). Part of the file
format: the custom-op export writes it, the LiteRT C API runner relies on it."""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from tflnlu.modelfile.flatbuffer import CHECKSUM_METADATA, pack_model, seal

ALIGNMENT = 64  # LITERT_HOST_MEMORY_BUFFER_ALIGNMENT


def align_constants(model_bytes: bytes) -> bytes:
    """The last step of a custom-op export: constants behind the flatbuffer, 64-byte aligned
    (and the file's checksum set again, when it has one: the bytes moved)."""
    model = schema.ModelT.InitFromPackedBuf(model_bytes, 0)
    aligned = _pack_aligned(model)
    has_checksum = any(m.name == CHECKSUM_METADATA.encode() for m in model.metadata or [])
    return seal(aligned) if has_checksum else aligned


def _pack_aligned(model) -> bytes:
    """Pack with every tensor constant moved behind the flatbuffer, each at a 64-byte offset."""
    constant_buffers = sorted({t.buffer for sg in model.subgraphs for t in sg.tensors if t.buffer})
    payloads = {}
    for index in constant_buffers:
        buffer = model.buffers[index]
        if buffer.data is not None and len(buffer.data):
            payloads[index] = np.asarray(buffer.data, dtype=np.uint8).tobytes()
            buffer.data, buffer.offset, buffer.size = None, 1, len(payloads[index])  # placeholder offset
    head = pack_model(model)
    position, layout = _align(len(head)), {}
    for index, data in payloads.items():
        layout[index] = position
        position = _align(position + len(data))
    for index, offset in layout.items():
        model.buffers[index].offset = offset
    head = pack_model(model)
    if _align(len(head)) != min(layout.values(), default=_align(len(head))):
        raise RuntimeError("the flatbuffer changed size while its buffer offsets were set")
    out = bytearray(head)
    for index, offset in layout.items():
        out += b"\0" * (offset - len(out)) + payloads[index]
    return bytes(out)


def _align(n: int) -> int:
    return -(-n // ALIGNMENT) * ALIGNMENT
