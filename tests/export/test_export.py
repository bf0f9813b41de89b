"""Export on a tiny run: QAT, int8 conversion, LiteRT verification, size report and budget."""

import dataclasses
import json

import numpy as np
import pytest

from tflnlu.cli import size as size_cli
from tflnlu.data.readers import read_splits
from tflnlu.export.export import ExportOptions, export_run
from tflnlu.modelfile.flatbuffer import ModelFileError, read_model, read_model_file
from tflnlu.modelfile.metadata import read_metadata
from tflnlu.modelfile.size import BudgetExceeded, check_budget, component_of
from tflnlu.runtime.litert import LiteRTModel
from tflnlu.train.config import TrainConfig
from tflnlu.train.trainer import train

SMALL = {"embed_dim": 16, "dpq_d": 4, "dpq_k": 16, "width": 8, "max_len": 12}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from tests.conftest import write_massive_dir

    root = tmp_path_factory.mktemp("export")
    splits = read_splits(write_massive_dir(root / "data"), "massive").splits
    train(splits, root / "run", SMALL, TrainConfig(epochs=3), log=lambda _: None)
    result = export_run(root / "run", root / "out", splits, ExportOptions(qat_epochs=1), log=lambda _: None)
    return root, splits, result


def test_export_writes_a_verified_int8_model(exported):
    root, _, result = exported
    model = root / "out" / "model.tflite"
    info = read_model_file(model)
    assert {"GATHER", "CONV_2D", "FULLY_CONNECTED"} <= set(info.operators)
    assert not any(op.startswith("Flex") or op == "CUSTOM" for op in info.operators)
    assert [t["tensor"] for t in result["float_tensors"]] == ["joint_nlu_qat/padding_mask/Cast"]
    written = json.loads((root / "out" / "export.json").read_text())
    assert written["size"]["file_bytes"] == model.stat().st_size
    tflite, qat = result["test"]["tflite"], result["test"]["qat_keras"]
    assert result["intent_agreement_with_qat_keras"] * 2 in (0, 1, 2)  # a share of the 2 test utterances
    if result["intent_agreement_with_qat_keras"] == 1.0:  # same intents: the same intent accuracy
        assert tflite["intent_accuracy"] == qat["intent_accuracy"]
    for name in ("vocab.txt", "intents.txt", "tags.txt", "tokenizer.json"):
        assert (root / "out" / name).is_file()


def test_the_4bit_codes_and_codebook_are_in_the_file(exported):
    root, _, result = exported
    components = result["size"]["components"]
    vocab = len((root / "run" / "vocab.txt").read_text().splitlines())
    assert components["embedding codes"] == vocab * 4 // 2  # D=4 codes of 4 bits
    assert components["embedding codebook"] == 16 * 16  # K * d int8 values
    assert components["embedding unpack table"] == 256 * 2


def test_litert_runs_the_file_and_matches_the_report(exported):
    root, splits, result = exported
    model = LiteRTModel(root / "out" / "model.tflite")
    intents, slots = model(np.zeros((2, 12), np.int32))
    assert intents.shape == (2, 4) and slots.shape == (2, 12, 9)
    assert result["latency"]["mean_ms"] > 0


def test_metadata_makes_the_file_self_contained(exported):
    root, _, _ = exported
    metadata = read_metadata((root / "out" / "model.tflite").read_bytes())
    vocab = metadata["vocab"]
    assert vocab == (root / "out" / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert vocab[:2] == ["<pad>", "<unk>"] and vocab[2:] == sorted(vocab[2:])  # front-codes smallest
    assert metadata["tokenizer"] == {"version": 1, "max_len": 12}
    assert metadata["intents"] == (root / "out" / "intents.txt").read_text().splitlines()


def test_budget_failure_names_budget_size_and_components(exported, tmp_path):
    root, splits, _ = exported
    with pytest.raises(BudgetExceeded, match=r"over the budget of 1,000 bytes by .*largest components: "):
        export_run(
            root / "run",
            tmp_path / "out",
            splits,
            ExportOptions(qat_epochs=0, max_bytes=1000),
            log=lambda _: None,
        )
    assert not (tmp_path / "out").exists(), "nothing is written for a model over budget"
    report = {"file_bytes": 10, "components": {"a": 6, "b": 4}}
    check_budget(report, 10)
    with pytest.raises(BudgetExceeded, match="a 6 B, b 4 B"):
        check_budget(report, 9)


def test_size_cli_exit_codes(exported, tmp_path, capsys):
    from tflnlu.cli.common import execute

    model = exported[0] / "out" / "model.tflite"
    assert execute(size_cli.COMMAND, ["tflnlu-size", str(model), "--max_bytes=1000"]) == 3
    assert execute(size_cli.COMMAND, ["tflnlu-size", str(model), "--max_bytes=10000000"]) == 0
    truncated = tmp_path / "cut.tflite"
    truncated.write_bytes(model.read_bytes()[:2000])
    assert execute(size_cli.COMMAND, ["tflnlu-size", str(truncated)]) == 2
    assert "corrupt or truncated" in capsys.readouterr().err


def test_not_a_model_is_a_clear_error():
    with pytest.raises(ModelFileError, match="not a TFLite model"):
        read_model(b"hello world, not a model")


def test_component_names():
    assert component_of("joint_nlu_qat/embedding/codes") == "embedding codes"
    assert component_of("joint_nlu_qat/encoder/quant_intent/MatMul;x") == "heads"
    assert component_of("joint_nlu_qat/encoder/quant_block0_mix_tokens/depthwise") == "encoder"
    assert component_of("arith.constant3") == "other constants"


def test_golden_file_covers_the_test_split_and_edge_cases(exported):
    from tflnlu.export.golden import EDGE_CASES

    root, splits, result = exported
    lines = (root / "out" / "golden.jsonl").read_text(encoding="utf-8").splitlines()
    # the tiny data set has fewer than GOLDEN_MIN_RECORDS utterances: all of test and dev are in
    assert (
        len(lines) == result["golden_records"] == len(splits["test"]) + len(splits["dev"]) + len(EDGE_CASES)
    )
    records = [json.loads(line) for line in lines]
    empty = next(r for r in records if r["text"] == "")
    assert empty["tokens"] == [] and empty["ids"] == [0] * 12 and empty["slots"] == []
    long = next(r for r in records if r["text"].startswith("wake wake"))
    assert len(long["tokens"]) == 40 and len(long["ids"]) == 12
    assert empty["intent"] is None and "intent_raw" not in empty  # no tokens: the model is not run
    with_raw = [r for r in records if "intent_raw" in r]
    assert len(with_raw) >= len(EDGE_CASES) - 4  # every edge case with tokens, and every 10th record
    for record in with_raw:
        assert len(record["slots_raw"]) == min(len(record["tokens"]), 12)  # real tokens' rows only
        assert all(isinstance(v, int) for v in record["intent_raw"])


@pytest.fixture(scope="module")
def custom_export(exported):
    """The same run exported with the fused custom op (same seed: the same conversion)."""
    root, splits, _ = exported
    options = ExportOptions(qat_epochs=1, lookup="custom")
    result = export_run(root / "run", root / "custom", splits, options, log=lambda _: None)
    return root / "custom", result


def test_the_parser_on_the_custom_op_file_reproduces_the_golden_file(exported, custom_export):
    """The golden file is written through the Parser on the builtin file; the custom-op file
    (another lowering, another runtime: the LiteRT C API) must give every record exactly."""
    from tflnlu.runtime import Parser

    root = exported[0]
    parser = Parser(custom_export[0] / "model.tflite")
    for line in (root / "out" / "golden.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        parse = parser.parse(record["text"])
        assert parse.intent == record["intent"] and list(parse.tags) == record["tags"], record["text"]
        spans = [{"type": s.type, "start": s.start, "end": s.end, "text": s.text} for s in parse.slots]
        assert spans == record["spans"]
        assert all(record["text"][s["start"] : s["end"]] == s["text"] for s in spans)


def test_golden_texts_top_up_with_dev_to_the_minimum():
    from tflnlu.export.golden import EDGE_CASES, GOLDEN_MIN_RECORDS, golden_texts

    test, dev = [f"t{i}" for i in range(600)], [f"d{i}" for i in range(900)]
    texts = golden_texts(test, dev)
    assert (
        len(texts) == GOLDEN_MIN_RECORDS
        and texts[:600] == test
        and texts[-len(EDGE_CASES) :] == list(EDGE_CASES)
    )
    assert len(golden_texts(test * 2, dev)) == 1200 + len(EDGE_CASES)


def test_same_seed_same_file(exported, tmp_path):
    root, splits, _ = exported
    export_run(root / "run", tmp_path / "again", splits, ExportOptions(qat_epochs=1), log=lambda _: None)
    assert (tmp_path / "again" / "model.tflite").read_bytes() == (root / "out" / "model.tflite").read_bytes()


def test_custom_op_export_equals_the_builtin_lowering_in_the_litert_c_api(exported, custom_export):
    from ai_edge_litert import schema_py_generated as schema

    from tflnlu.modelfile.align import ALIGNMENT
    from tflnlu.modelfile.kernel import CUSTOM_OP_NAME

    root = exported[0]
    directory, result = custom_export
    data = (directory / "model.tflite").read_bytes()
    operators = read_model(data).operators
    assert operators[CUSTOM_OP_NAME] == 1 and "GATHER" not in operators
    assert result["identical_outputs_to_builtin"] == 1.0
    model = schema.ModelT.InitFromPackedBuf(data, 0)
    offsets = [b.offset for b in model.buffers if b.size]
    assert offsets and all(offset % ALIGNMENT == 0 for offset in offsets)
    assert (
        result["size"]["components"]["embedding codes"]
        == (root / "run" / "vocab.txt").read_text().count("\n") * 2
    )

    from tflnlu.runtime.litert_c import LiteRTCustomOpModel

    runner = LiteRTCustomOpModel(data)
    with pytest.raises(RuntimeError, match="12 kernel errors"):  # the runtime ignores statuses: ours does not
        runner.raw_one(np.full(12, 10_000, np.int32))
    intents, _ = runner(np.zeros((1, 12), np.int32))
    assert intents.shape == (1, 4)


def test_custom_lookup_needs_a_dpq_run(exported, tmp_path):
    """Refused from the run's config.json alone, before anything is loaded or trained."""
    root, splits, _ = exported
    run = tmp_path / "full_run"
    run.mkdir()
    config = json.loads((root / "run" / "config.json").read_text())
    (run / "config.json").write_text(
        json.dumps({**config, "model": {**config["model"], "embedding": "full"}})
    )
    with pytest.raises(ValueError, match="needs a DPQ run"):
        export_run(run, tmp_path / "out", splits, ExportOptions(lookup="custom"), log=lambda _: None)
    assert not (tmp_path / "out").exists()


def test_data_the_run_was_not_trained_on_is_refused(exported, tmp_path):
    root, splits, _ = exported
    other = dict(splits, train=[dataclasses.replace(e, intent="never_seen") for e in splits["train"]])
    with pytest.raises(ValueError, match="1 intent\\(s\\) the run does not know \\('never_seen'\\)"):
        export_run(root / "run", tmp_path / "out", other, ExportOptions(qat_epochs=1), log=lambda _: None)
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def stages(exported):
    """The export pipeline run stage by stage (PTQ: quick), as export_run chains them."""
    from tflnlu.export import export as pipeline

    root, splits, _ = exported
    options = ExportOptions(qat_epochs=0)
    prepared = pipeline.prepare(root / "run", splits, options, log=lambda _: None)
    qat_model = pipeline.quantize_aware(prepared, options)
    converted = pipeline.convert(prepared, qat_model, options, log=lambda _: None)
    lowered = pipeline.lower(prepared, converted, options)
    result = pipeline.verify(prepared, lowered, qat_model, options)
    return {
        "prepared": prepared,
        "qat": qat_model,
        "converted": converted,
        "lowered": lowered,
        "result": result,
    }


def test_stage_prepare_scores_the_trained_model_and_builds_the_export_form(exported, stages):
    root = exported[0]
    prepared = stages["prepared"]
    metrics = json.loads((root / "run" / "metrics.json").read_text())
    assert prepared.fp32_test == metrics["splits"]["test"]  # the run's own model, the same numbers
    assert type(prepared.model.get_layer("embedding")).__name__ == "CodebookLookup"
    assert prepared.encoded["test"].ids.shape == (2, 12)


def test_stage_quantize_aware_is_the_model_itself_without_qat_epochs(stages):
    assert stages["qat"] is stages["prepared"].model


def test_stage_convert_gives_a_plain_int8_file(stages):
    info = read_model(stages["converted"])
    assert "tflnlu" not in info.metadata and {"GATHER", "FULLY_CONNECTED"} <= set(info.operators)


def test_stage_lower_adds_metadata_and_checksum_and_checks_the_budget(stages):
    from tflnlu.export import export as pipeline
    from tflnlu.modelfile.flatbuffer import CHECKSUM_METADATA

    lowered = stages["lowered"]
    assert lowered.model_bytes == lowered.builtin_bytes
    assert {"tflnlu", CHECKSUM_METADATA} <= set(lowered.info.metadata)
    assert lowered.report["file_bytes"] == len(lowered.model_bytes)
    with pytest.raises(BudgetExceeded):
        pipeline.lower(stages["prepared"], stages["converted"], ExportOptions(qat_epochs=0, max_bytes=100))


def test_stage_verify_measures_the_file(stages):
    result = stages["result"]
    runner = LiteRTModel(stages["lowered"].model_bytes)
    ids = stages["prepared"].encoded["test"].ids
    intents = runner(ids)[0].argmax(-1)
    labels = stages["prepared"].run.labels
    expected = np.mean(
        [
            labels.intents[i] == e.intent
            for i, e in zip(intents, stages["prepared"].splits["test"], strict=True)
        ]
    )
    assert result["test"]["tflite"]["intent_accuracy"] == expected
    assert result["size"] == stages["lowered"].report and result["compression"] < 1


def test_stage_write_puts_every_file_in_place_at_once(stages, tmp_path):
    from tflnlu.export import export as pipeline

    pipeline.write(
        tmp_path / "out",
        stages["prepared"],
        stages["lowered"],
        dict(stages["result"]),
        options=ExportOptions(golden="none"),
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [
            "model.tflite",
            "export.json",
            "tokenizer.json",
            "vocab.txt",
            "intents.txt",
            "tags.txt",
            "domains.txt",
        ]
    )
    assert (tmp_path / "out" / "model.tflite").read_bytes() == stages["lowered"].model_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary left


def test_the_overhead_is_accounted_for(exported):
    """The non-constant bytes, part by part (each measured by repacking without it), add up to
    the file's overhead less its metadata contents, up to the alignment padding."""
    from tflnlu.modelfile.size import overhead_report, size_report

    root = exported[0]
    data = (root / "out" / "model.tflite").read_bytes()
    info = read_model(data)
    parts = overhead_report(data)
    assert all(size > 0 for size in parts.values()), parts
    assert parts["quantization parameters"] > parts["signature"]
    explained = sum(parts.values()) + sum(len(v) for v in info.metadata.values())
    overhead = size_report(info)["components"]["overhead"]
    assert 0 <= overhead - explained <= 0.05 * overhead, (overhead, explained)


@pytest.mark.parametrize("decay", [-0.1, 1.0])
def test_a_qat_weight_average_outside_0_1_is_refused(decay):
    with pytest.raises(ValueError, match="qat_weight_average must be in"):
        ExportOptions(qat_weight_average=decay)
