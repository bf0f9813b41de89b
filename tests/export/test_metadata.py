import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tflnlu.modelfile.flatbuffer import ModelFileError
from tflnlu.modelfile.metadata import METADATA_NAME, finish_model, front_code, front_decode, read_metadata

WORDS = ["<pad>", "<unk>", "a", "ab", "abc", "abcdefghijklmnop", "abcdefghijklmnopq", "b", "été", "étés"]
WORDS += ["😀x", "😀y", "2pm", "3"]
# The same string is decoded by android_demo's ModelMetadataTest.
FRONT_CODED = "0<pad>\n1unk>\n0a\n1b\n2c\n3defghijklmnop\n9jklmnopq\n0b\n0été\n3s\n0😀x\n1y\n02pm\n03"


def test_front_code_shares_at_most_nine_code_points_with_the_previous_word():
    assert front_code(WORDS) == FRONT_CODED
    assert front_decode(FRONT_CODED) == WORDS


def test_sorted_words_front_code_smaller_than_unsorted():
    words = [f"{stem}{suffix}" for stem in ("play", "set", "turn") for suffix in ("", "s", "ed", "ing")]
    by_ending = sorted(words, key=lambda w: w[::-1])
    assert len(front_code(sorted(words))) < len(front_code(by_ending))


words = st.text(
    st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), min_size=1, max_size=20
)


@given(st.lists(words, max_size=30))
def test_front_code_round_trips_any_words_in_any_order(vocab):
    assert front_decode(front_code(vocab)) == vocab


@pytest.mark.parametrize("bad", ["0ab\n3c", "0ab\n0", "0abcdefghijk\n:x", "0a\n\n0b", "/x"])
def test_malformed_front_coding_is_refused(bad):
    with pytest.raises(ValueError, match="malformed"):
        front_decode(bad)


@pytest.mark.parametrize("bad", ["", "a\nb"])
def test_words_that_cannot_be_front_coded_are_refused(bad):
    with pytest.raises(ValueError, match="non-empty without newlines"):
        front_code(["<pad>", bad])


def _model_with_metadata(payload: bytes | None) -> bytes:
    """A minimal flatbuffer (one empty subgraph) whose tflnlu entry holds `payload`."""
    from ai_edge_litert import schema_py_generated as schema

    from tflnlu.modelfile.flatbuffer import pack_model

    model = schema.ModelT()
    model.version = 3
    model.subgraphs = [schema.SubGraphT()]
    model.buffers = [schema.BufferT()]
    if payload is not None:
        buffer = schema.BufferT()
        buffer.data = list(payload)
        model.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name, entry.buffer = METADATA_NAME, 1
        model.metadata = [entry]
    return pack_model(model)


@pytest.mark.parametrize(
    "payload,message",
    [
        (b"not zlib at all", r"the tflnlu metadata is damaged \(Error -3"),
        (zlib.compress(b"[1, 2]"), r"the tflnlu metadata is damaged \(not a JSON object\)"),
        (
            zlib.compress(b'{"intents": []}'),
            r"the tflnlu metadata is damaged \('vocab' missing or not a list; ",
        ),
        (
            zlib.compress(b'{"vocab_front_coded": "x\\n0"}'),
            r"the tflnlu metadata is damaged \(front-coded vocabulary: entry 1",
        ),
        (None, r"the model has no tflnlu metadata"),
    ],
)
def test_damaged_metadata_is_named(payload, message):
    with pytest.raises(ModelFileError, match=rf"^m\.tflite: {message}"):
        read_metadata(_model_with_metadata(payload), "m.tflite")


def test_the_checksum_covers_the_metadata():
    from ai_edge_litert import schema_py_generated as schema

    from tflnlu.modelfile.flatbuffer import CHECKSUM_METADATA, read_model

    metadata = {
        "vocab": ["<pad>", "<unk>", "a"],
        "intents": ["x"],
        "tags": ["O"],
        "domains": [],
        "tokenizer": {"max_len": 4},
    }
    sealed = finish_model(_model_with_metadata(None), metadata)
    assert read_metadata(sealed)["vocab"] == metadata["vocab"]
    assert len(read_model(sealed).metadata[CHECKSUM_METADATA]) == 32
    parsed = schema.Model.GetRootAsModel(sealed, 0)
    entry = next(
        parsed.Metadata(i) for i in range(parsed.MetadataLength()) if parsed.Metadata(i).Name() == b"tflnlu"
    )
    buffer = parsed.Buffers(entry.Buffer())
    start = buffer._tab.Vector(buffer._tab.Offset(4))  # the metadata's bytes in the file
    damaged = bytearray(sealed)
    damaged[start + 5] ^= 0x10
    with pytest.raises(
        ModelFileError, match="m.tflite: the file is damaged: its contents do not match the checksum"
    ):
        read_metadata(bytes(damaged), "m.tflite")


def test_a_hashed_vocabulary_is_stored_as_its_object_and_exactly_one_vocabulary_is_allowed():
    from tflnlu.data.hashed_vocab import HashedVocabulary
    from tflnlu.modelfile.metadata import HASHED_VOCAB

    hashed, _ = HashedVocabulary.build(WORDS, fingerprint_bits=8)
    labels = {"intents": ["x"], "tags": ["O"], "domains": [], "tokenizer": {"max_len": 4}}
    sealed = finish_model(_model_with_metadata(None), {**labels, HASHED_VOCAB: hashed.to_json()})
    stored = read_metadata(sealed)
    assert "vocab" not in stored and HashedVocabulary.from_json(stored[HASHED_VOCAB]) == hashed
    for both_or_neither in ({**labels}, {**labels, "vocab": WORDS, HASHED_VOCAB: hashed.to_json()}):
        with pytest.raises(ValueError, match="exactly one of 'vocab' and 'vocab_hashed'"):
            finish_model(_model_with_metadata(None), both_or_neither)
