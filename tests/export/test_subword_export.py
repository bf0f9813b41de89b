"""Export of a model with subwords on a tiny run: the n-gram ids come from the file alone (its
metadata), the n-gram table is compressed like the word table, both lookups run as builtin
ops, and the fused custom op (word table) gives the builtin file's outputs."""

import json

import numpy as np
import pytest

from tflnlu.data.readers import read_splits
from tflnlu.data.subwords import SubwordSpec
from tflnlu.export.export import ExportOptions, export_run
from tflnlu.modelfile.flatbuffer import read_model_file
from tflnlu.modelfile.metadata import SUBWORDS, read_metadata
from tflnlu.modelfile.size import size_report
from tflnlu.nlu.encode import token_ids
from tflnlu.runtime import Parser
from tflnlu.train.config import TrainConfig
from tflnlu.train.trainer import train

SPEC = SubwordSpec(min_n=3, max_n=5, buckets=64, per_token=8)
SMALL = {
    "embed_dim": 16,
    "dpq_d": 4,
    "dpq_k": 4,
    "width": 8,
    "max_len": 12,
    "subwords": SPEC.to_json(),
    "subword_dpq_d": 4,
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from tests.conftest import write_massive_dir

    root = tmp_path_factory.mktemp("subword_export")
    splits = read_splits(write_massive_dir(root / "data"), "massive").splits
    train(splits, root / "run", SMALL, TrainConfig(epochs=1), log=lambda _: None)
    options = ExportOptions(qat_epochs=1)
    builtin = export_run(root / "run", root / "out", splits, options, log=lambda _: None)
    custom = export_run(
        root / "run",
        root / "custom",
        splits,
        ExportOptions(qat_epochs=1, lookup="custom"),
        log=lambda _: None,
    )
    return root, splits, builtin, custom


def test_the_file_carries_its_ngram_settings_and_reads_token_and_ngram_ids(exported):
    root, splits, result, *_ = exported
    data = (root / "out" / "model.tflite").read_bytes()
    assert read_metadata(data)[SUBWORDS] == SPEC.to_json()
    assert json.loads((root / "out" / "tokenizer.json").read_text())[SUBWORDS] == SPEC.to_json()
    parser = Parser(data)
    assert parser.subwords == SPEC and parser.runner.ids_shape == (12, 1 + SPEC.per_token)
    analysis = parser.analyze(splits["test"][0].text)
    expected = token_ids(list(splits["test"][0].tokens), parser.vocab, 12, SPEC)
    np.testing.assert_array_equal(analysis.ids, expected)
    assert result["intent_agreement_with_qat_keras"] >= 0.9


def test_the_ngram_table_is_codes_and_a_codebook_in_the_size_report(exported):
    root = exported[0]
    components = size_report(read_model_file(root / "out" / "model.tflite"))["components"]
    assert components["subword codes"] == 65 * 4 * 2 // 8  # 65 rows, D=4 codes of 2 bits
    assert components["subword codebook"] == 4 * 4 * 4  # D x K x sub_dim int8
    assert "embedding codes" in components


def test_the_custom_op_file_gives_the_builtin_files_parses(exported):
    root, splits, _, custom = exported
    assert custom["test"]["tflite"] == exported[2]["test"]["tflite"]
    builtin, fused = Parser(root / "out" / "model.tflite"), Parser(root / "custom" / "model.tflite")
    for example in splits["test"] + splits["dev"]:
        a, b = builtin.analyze(example.text), fused.analyze(example.text)
        assert a.parse == b.parse and all(np.array_equal(x, y) for x, y in zip(a.raw, b.raw, strict=True))


def test_golden_records_hold_each_tokens_word_and_ngram_ids(exported):
    root = exported[0]
    records = [
        json.loads(line) for line in (root / "out" / "golden.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert all(np.asarray(r["ids"]).shape == (12, 1 + SPEC.per_token) for r in records)


@pytest.mark.slow  # one more export (about 40 s): `make test-slow` runs it (the default suite stays near 15 min)
def test_tflite_micro_runs_the_subword_file_as_litert_does(exported):
    """--target=mcu: the slice, the n-gram lookup and MUL / MEAN / ADD are TFLite-Micro builtins."""
    root, splits = exported[0], exported[1]
    options = ExportOptions(qat_epochs=1, target="mcu")
    report = export_run(root / "run", root / "mcu", splits, options, log=lambda _: None)["mcu"]
    assert report["test"]["examples"] == len(splits["test"])
    versus = report["versus_litert_reference_kernels"]
    assert versus["same_intent"] == 1.0 and versus["largest_int8_difference"] <= 2
    assert {"STRIDED_SLICE", "MEAN", "MUL"} <= set(report["operators"])
