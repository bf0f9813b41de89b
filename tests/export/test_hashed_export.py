"""`--vocabulary=hashed`: the file stores no strings, its rows follow the hash, and it parses
exactly like the file with the word list (post-training quantization, so both come from one
conversion's arithmetic)."""

import json
import zlib

import pytest

from tflnlu.data.hashed_vocab import HashedVocabulary
from tflnlu.data.readers import read_splits
from tflnlu.export.export import ExportOptions, export_run
from tflnlu.modelfile.flatbuffer import ModelFileError, read_model
from tflnlu.modelfile.metadata import HASHED_VOCAB, METADATA_NAME, front_decode, read_metadata
from tflnlu.runtime import Parser
from tflnlu.runtime.parser import vocabulary_of
from tflnlu.train.config import TrainConfig
from tflnlu.train.trainer import train

SMALL = {"embed_dim": 16, "dpq_d": 4, "dpq_k": 16, "width": 8, "max_len": 12}
QUIET = {"log": lambda _: None}


@pytest.fixture(scope="module")
def two_exports(tmp_path_factory):
    """One DPQ run exported twice, post-training quantized: word list, and hashed at 16 bits."""
    from tests.conftest import write_massive_dir

    root = tmp_path_factory.mktemp("hashed")
    splits = read_splits(write_massive_dir(root / "data"), "massive").splits
    train(splits, root / "run", SMALL, TrainConfig(epochs=3), **QUIET)
    strings = export_run(root / "run", root / "strings", splits, ExportOptions(qat_epochs=0), **QUIET)
    options = ExportOptions(qat_epochs=0, vocabulary="hashed", fingerprint_bits=16)
    hashed = export_run(root / "run", root / "hashed", splits, options, **QUIET)
    return root, splits, strings, hashed


def _stored_metadata(path) -> str:
    """The tflnlu metadata entry as stored (inflated JSON text), not as read_metadata returns it."""
    return zlib.decompress(read_model(path.read_bytes()).metadata[METADATA_NAME]).decode("utf-8")


def test_the_hashed_file_stores_no_words(two_exports):
    root, _, _, result = two_exports
    metadata = read_metadata((root / "hashed" / "model.tflite").read_bytes())
    assert "vocab" not in metadata and metadata[HASHED_VOCAB]["fingerprint_bits"] == 16
    words = (root / "strings" / "vocab.txt").read_text(encoding="utf-8").split("\n")[2:-1]
    with_words, without = (_stored_metadata(root / name / "model.tflite") for name in ("strings", "hashed"))
    assert front_decode(json.loads(with_words)["vocab_front_coded"])[2:] == words  # the words, stored
    labels = " ".join(metadata["intents"] + metadata["tags"] + metadata["domains"])  # "alarm" in alarm_set
    long_words = [w for w in words if len(w) > 4 and w not in labels]
    assert long_words and not any(w in without for w in long_words) and "vocab_front_coded" not in without
    assert result["vocabulary"]["kind"] == "hashed" and result["vocabulary"]["words"] == len(words)


def test_vocab_txt_lists_the_words_in_the_files_id_order(two_exports):
    root = two_exports[0]
    vocab = vocabulary_of(read_metadata((root / "hashed" / "model.tflite").read_bytes()))
    assert isinstance(vocab, HashedVocabulary)
    tokens = (root / "hashed" / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert [vocab.id(t) for t in tokens] == list(range(len(tokens)))
    assert sorted(tokens) == sorted(
        (root / "strings" / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
    )


def test_the_hashed_file_parses_exactly_like_the_word_list_file(two_exports):
    """Same words, same embedding rows under other ids: every raw score is the same."""
    root, splits, strings, hashed = two_exports
    with_words, without = Parser(root / "strings" / "model.tflite"), Parser(root / "hashed" / "model.tflite")
    texts = [e.text for split in splits.values() for e in split] + ["zzyzx qwv wake me up"]
    for text in texts:
        a, b = with_words.analyze(text), without.analyze(text)
        assert a.parse == b.parse, text
        assert all((x == y).all() for x, y in zip(a.raw, b.raw, strict=True)), text
    assert hashed["test"]["tflite"] == strings["test"]["tflite"]
    assert hashed["test"]["fp32_keras"] == strings["test"]["fp32_keras"]


def _golden(directory) -> list[dict]:
    return [
        json.loads(line) for line in (directory / "golden.jsonl").read_text(encoding="utf-8").splitlines()
    ]


def test_the_golden_files_ids_name_the_same_words_in_both_files(two_exports):
    """Each file's ids, read through its own vocab.txt, are the same words (or <unk>)."""
    root = two_exports[0]
    words = {
        name: (root / name / "vocab.txt").read_text(encoding="utf-8").split("\n")
        for name in ("strings", "hashed")
    }
    records = {name: _golden(root / name) for name in words}
    assert len(records["strings"]) == len(records["hashed"]) > 0
    assert any(a["ids"] != b["ids"] for a, b in zip(records["strings"], records["hashed"], strict=True))
    for listed, hashed in zip(records["strings"], records["hashed"], strict=True):
        assert listed["tokens"] == hashed["tokens"]
        assert [words["strings"][i] for i in listed["ids"]] == [words["hashed"][i] for i in hashed["ids"]]


def test_a_damaged_hashed_vocabulary_is_refused_with_the_file_name(two_exports):
    metadata = read_metadata((two_exports[0] / "hashed" / "model.tflite").read_bytes())
    metadata[HASHED_VOCAB] = {**metadata[HASHED_VOCAB], "pilots": "!!"}
    with pytest.raises(ModelFileError, match=r"^some\.tflite: hashed vocabulary is damaged"):
        vocabulary_of(metadata, "some.tflite")


def test_a_model_passed_in_cannot_take_a_hashed_vocabulary(two_exports, tmp_path):
    root, splits, _, _ = two_exports
    from tflnlu.train.run_dir import load_run

    model = load_run(root / "run").model
    with pytest.raises(ValueError, match="run's own model"):
        export_run(
            root / "run",
            tmp_path / "out",
            splits,
            ExportOptions(qat_epochs=0, vocabulary="hashed"),
            model=model,
            **QUIET,
        )


def test_bad_vocabulary_options_are_refused():
    with pytest.raises(ValueError, match="--vocabulary must be one of"):
        ExportOptions(vocabulary="bloom")
    with pytest.raises(ValueError, match="--fingerprint_bits must be one of"):
        ExportOptions(vocabulary="hashed", fingerprint_bits=5)
