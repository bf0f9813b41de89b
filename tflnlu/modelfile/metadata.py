"""Finishing an exported flatbuffer: tflnlu metadata inside, short tensor names.

The metadata entry `tflnlu` holds zlib-compressed UTF-8 JSON (java.util.zip.Inflater reads
it on Android): tflnlu version, tokenizer version and max_len, the vocabulary, the intent,
tag and domain label lists. The vocabulary is the biggest part, so it is front-coded (key
`vocab_front_coded`, see `front_code`), or stored without strings (HASHED_VOCAB): on HWU64's 4,151 sorted words that is 9.9 KB
compressed instead of 15.0 KB for a JSON list. The converter's tensor names repeat whole layer paths (about a
hundred bytes a tensor); they are replaced by `<component>/<n>`, which keeps what the size
report needs and nothing else.
"""

from __future__ import annotations

import json
import zlib

from ai_edge_litert import schema_py_generated as schema

from tflnlu.modelfile.flatbuffer import (
    CHECKSUM_BYTES,
    CHECKSUM_METADATA,
    ModelFileError,
    pack_model,
    read_model,
    seal,
)
from tflnlu.modelfile.lean import holds_data, make_lean
from tflnlu.modelfile.size import component_of

METADATA_NAME = "tflnlu"
FRONT_CODED_VOCAB = "vocab_front_coded"
# The string-free vocabulary (tflnlu.data.hashed_vocab's stored form, a JSON object) stands in
# for `vocab` when the export was asked for it (`--vocabulary=hashed`); a file holds one or the other.
HASHED_VOCAB = "vocab_hashed"
SUBWORDS = "subwords"  # a model with subwords: its n-gram settings (docs/tokenizer.md section 6)
SEALED = "sealed"
_MAX_SHARED = 9  # the shared-prefix length is one character, '0'..'9'


def front_code(words: list[str]) -> str:
    """Each word as one character '0'+p (p = code points shared with the previous word, at
    most 9) and the rest of the word; words joined by newlines (tokens never contain one).
    Lossless for any order; small when the words are sorted, as tflnlu vocabularies are."""
    lines, previous = [], ""
    for word in words:
        if not word or "\n" in word:
            raise ValueError(f"a vocabulary word must be non-empty without newlines, got {word!r}")
        shared = 0
        while shared < min(len(word), len(previous), _MAX_SHARED) and word[shared] == previous[shared]:
            shared += 1
        lines.append(chr(ord("0") + shared) + word[shared:])
        previous = word
    return "\n".join(lines)


def front_decode(text: str) -> list[str]:
    words, previous = [], ""
    for number, line in enumerate(text.split("\n") if text else [], 1):
        shared = ord(line[0]) - ord("0") if line else -1
        if not 0 <= shared <= min(_MAX_SHARED, len(previous)) or len(line) < 2 and shared == 0:
            raise ValueError(f"front-coded vocabulary: entry {number} ({line!r}) is malformed")
        previous = previous[:shared] + line[1:]
        words.append(previous)
    return words


def finish_model(model_bytes: bytes, metadata: dict) -> bytes:
    """Add the tflnlu metadata, shorten constants' names and leave out what no runtime reads
    (tflnlu.modelfile.lean); the graph is unchanged."""
    model = schema.ModelT.InitFromPackedBuf(model_bytes, 0)
    _shorten_names(model)
    make_lean(model)
    buffer = schema.BufferT()
    payload = metadata_payload(metadata)
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    buffer.data = list(zlib.compress(text.encode("utf-8"), 9))
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if m.name != METADATA_NAME.encode()] + [entry]
    _add_checksum_entry(model)
    return seal(pack_model(model))


def _add_checksum_entry(model) -> None:
    """The last entry: 32 bytes for the sha256 of the whole file, set by `seal` once packed."""
    model.metadata = [m for m in model.metadata if m.name != CHECKSUM_METADATA.encode()]
    checksum = schema.BufferT()
    checksum.data = [0] * CHECKSUM_BYTES
    model.buffers.append(checksum)
    entry = schema.MetadataT()
    entry.name = CHECKSUM_METADATA
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)


def _shorten_names(model) -> None:
    """Constants named `<component>/<n>` (what the size report reads); activations lose their
    names in make_lean."""
    counts: dict[str, int] = {}
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors or []:
            if not tensor.buffer or not holds_data(model.buffers[tensor.buffer]):
                continue
            name = tensor.name.decode("utf-8", "replace") if tensor.name else ""
            key = component_of(name).replace(" ", "_")
            tensor.name = f"{key}/{counts.setdefault(key, 0)}".encode()
            counts[key] += 1


def metadata_payload(metadata: dict) -> dict:
    """The stored form of `metadata`: its `vocab` list front-coded (a hashed one is stored as it is)."""
    if ("vocab" in metadata) == (HASHED_VOCAB in metadata):
        raise ValueError(f"model metadata needs exactly one of 'vocab' and {HASHED_VOCAB!r}")
    payload = {k: v for k, v in metadata.items() if k != "vocab"}
    if "vocab" in metadata:
        payload[FRONT_CODED_VOCAB] = front_code(metadata["vocab"])
    payload[SEALED] = True  # the file carries a checksum: one without it has lost it
    return payload


# Every field a reader relies on, and its type: checked on read, so a damaged or foreign
# entry is refused with its name instead of failing later as a KeyError. The vocabulary is
# `vocab` (a list) or HASHED_VOCAB (an object), checked apart.
REQUIRED_FIELDS = {"intents": list, "tags": list, "domains": list, "tokenizer": dict}


def read_metadata(model_bytes: bytes, source: str = "model") -> dict:
    """The metadata as written by `metadata_payload`'s caller: `vocab` is a list again (or,
    for a hashed vocabulary, HASHED_VOCAB its stored object: tflnlu.runtime.parser reads it).
    Raises ModelFileError for a file without it or with a damaged one."""
    entries = read_model(model_bytes, source).metadata  # also checks the file's checksum
    if METADATA_NAME not in entries:
        raise ModelFileError(f"{source}: the model has no tflnlu metadata (was it written by tflnlu-export?)")
    try:
        payload = json.loads(zlib.decompress(entries[METADATA_NAME]).decode("utf-8"))
        if FRONT_CODED_VOCAB in payload:
            payload["vocab"] = front_decode(payload.pop(FRONT_CODED_VOCAB))
    except (zlib.error, UnicodeDecodeError, ValueError, TypeError) as e:
        raise ModelFileError(
            f"{source}: the tflnlu metadata is damaged ({e}); export the model again"
        ) from None
    _check_fields(payload, source)
    if payload.pop(SEALED, False) and CHECKSUM_METADATA not in entries:
        raise ModelFileError(f"{source}: the file is damaged: its checksum entry is missing; export it again")
    return payload


def _check_fields(payload: object, source: str) -> None:
    problems = [] if isinstance(payload, dict) else ["not a JSON object"]
    if not problems and not isinstance(payload.get("vocab"), list) and HASHED_VOCAB not in payload:
        problems.append("'vocab' missing or not a list")
    if not problems and HASHED_VOCAB in payload and not isinstance(payload[HASHED_VOCAB], dict):
        problems.append(f"{HASHED_VOCAB!r} not an object")
    if not problems and HASHED_VOCAB in payload and "vocab" in payload:
        problems.append(f"both 'vocab' and {HASHED_VOCAB!r}")
    for name, kind in REQUIRED_FIELDS.items() if isinstance(payload, dict) else ():
        if not isinstance(payload.get(name), kind):
            problems.append(f"{name!r} missing or not a {kind.__name__}")
    if not problems and not isinstance(payload["tokenizer"].get("max_len"), int):
        problems.append("'tokenizer.max_len' missing")
    if problems:
        raise ModelFileError(
            f"{source}: the tflnlu metadata is damaged ({'; '.join(problems)}); export the model again"
        )
