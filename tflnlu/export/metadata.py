"""Finishing an exported flatbuffer: tflnlu metadata inside, short tensor names.

The metadata entry `tflnlu` holds zlib-compressed UTF-8 JSON (java.util.zip.Inflater reads
it on Android): tflnlu version, tokenizer version and max_len, the vocabulary, the intent,
tag and domain label lists. The converter's tensor names repeat whole layer paths (about a
hundred bytes a tensor); they are replaced by `<component>/<n>`, which keeps what the size
report needs and nothing else.
"""

from __future__ import annotations

import json
import zlib

from ai_edge_litert import schema_py_generated as schema

from tflnlu.export.flatbuffer import pack_model, read_model
from tflnlu.export.size import component_of

METADATA_NAME = "tflnlu"


def finish_model(model_bytes: bytes, payload: dict) -> bytes:
    """Add the tflnlu metadata and shorten tensor names; the graph is unchanged."""
    model = schema.ModelT.InitFromPackedBuf(model_bytes, 0)
    _shorten_names(model)
    buffer = schema.BufferT()
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    buffer.data = list(zlib.compress(text.encode("utf-8"), 9))
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if m.name != METADATA_NAME.encode()] + [entry]
    return pack_model(model)


def _shorten_names(model) -> None:
    counts: dict[str, int] = {}
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors:
            buffer = model.buffers[tensor.buffer] if tensor.buffer else None
            is_constant = buffer is not None and buffer.data is not None
            name = tensor.name.decode("utf-8", "replace") if tensor.name else ""
            key = component_of(name).replace(" ", "_") if is_constant else "t"
            tensor.name = f"{key}/{counts.setdefault(key, 0)}".encode()
            counts[key] += 1


def read_metadata(model_bytes: bytes) -> dict:
    entries = read_model(model_bytes).metadata
    if METADATA_NAME not in entries:
        raise ValueError("the model has no tflnlu metadata (was it written by tflnlu-export?)")
    return json.loads(zlib.decompress(entries[METADATA_NAME]).decode("utf-8"))
