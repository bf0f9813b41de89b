"""What a deployed model needs besides its weights, stored inside the .tflite.

One metadata entry, `tflnlu`, holds UTF-8 JSON: tflnlu version, tokenizer version and
max_len, the vocabulary, the intent/tag/domain label lists. Any flatbuffer reader finds
it in `Model.metadata` by name (`read_metadata` here; the Android demo reads the same).
"""

from __future__ import annotations

import json

import flatbuffers
from ai_edge_litert import schema_py_generated as schema

from tflnlu.export.flatbuffer import read_model

METADATA_NAME = "tflnlu"


def add_metadata(model_bytes: bytes, payload: dict) -> bytes:
    model = schema.ModelT.InitFromPackedBuf(model_bytes, 0)
    buffer = schema.BufferT()
    buffer.data = list(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if m.name != METADATA_NAME.encode()] + [entry]
    builder = flatbuffers.Builder(len(model_bytes) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def read_metadata(model_bytes: bytes) -> dict:
    entries = read_model(model_bytes).metadata
    if METADATA_NAME not in entries:
        raise ValueError("the model has no tflnlu metadata (was it written by tflnlu-export?)")
    return json.loads(entries[METADATA_NAME].decode("utf-8"))
