"""tflnlu-bench end to end on a tiny data set: every kind of variant, a failing one, the outputs."""

import json

import pytest

from tflnlu.bench import variants
from tflnlu.cli import bench
from tflnlu.train.config import TrainConfig

SUBSET = [
    "full_fp32",
    "full_ptq_int8",
    "svd_r16",
    "pq_k16_d8",
    "scalar_int4_rows",
    "tfmot_cluster16",
    "dpq_sx_k4_d16",
]


@pytest.fixture(scope="module")
def bench_result(tmp_path_factory):
    from tests.conftest import write_massive_dir

    root = tmp_path_factory.mktemp("bench")
    data = write_massive_dir(root / "data")
    original = variants.run_variant

    def failing_pq(variant, context):
        if variant.name == "pq_k16_d8":
            raise RuntimeError("injected failure")
        return original(variant, context)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bench, "run_variant", failing_pq)
        lines = []
        result = bench.run(
            str(data),
            "massive",
            str(root / "out"),
            SUBSET,
            fasttext_cutoffs=(300,),
            train_config=TrainConfig(epochs=2),
            qat_epochs=1,
            log=lines.append,
        )
    return root / "out", result, lines


def test_every_variant_is_measured_on_its_exported_file(bench_result):
    out, result, _ = bench_result
    rows = result["rows"]
    for name in set(SUBSET) - {"pq_k16_d8"}:
        assert "error" not in rows[name], rows[name]
        assert rows[name]["file_bytes"] == (out / "exports" / name / "model.tflite").stat().st_size
        assert rows[name]["test"]["examples"] == 2
    assert rows["full_fp32"]["compression"] == 0.0
    assert (
        rows["svd_r16"]["file_bytes"] < rows["full_ptq_int8"]["file_bytes"] < rows["full_fp32"]["file_bytes"]
    )
    assert rows["tfmot_cluster16"]["gzip_bytes"] < rows["tfmot_cluster16"]["file_bytes"]
    assert rows["fasttext_ftz_cutoff300"]["file_bytes"] < rows["fasttext"]["file_bytes"]
    assert rows["fasttext"]["test"]["slot_f1"] is None
    assert (
        rows["fasttext_minn3_maxn5_ftz_cutoff300"]["file_bytes"] < rows["fasttext_minn3_maxn5"]["file_bytes"]
    )
    assert "-minn 3 -maxn 5" in (out / "results.md").read_text()


def test_a_failing_variant_is_reported_and_the_rest_run(bench_result):
    out, result, lines = bench_result
    assert result["rows"]["pq_k16_d8"] == {"error": "RuntimeError: injected failure"}
    assert "failed: RuntimeError: injected failure" in (out / "results.md").read_text()
    assert (out / "pq_k16_d8.error.txt").is_file()
    assert any(line.startswith("[2/8] full_ptq_int8") and "min left" in line for line in lines)


def test_outputs_are_written(bench_result):
    out, result, _ = bench_result
    saved = json.loads((out / "results.json").read_text())
    assert saved["pareto_front_intent"] == result["pareto_front_intent"]
    assert (out / "results.png").read_bytes()[:4] == b"\x89PNG"


def test_resume_reruns_only_failed_variants(bench_result, monkeypatch):
    out, result, _ = bench_result
    ran = []

    def record(variant, context):
        ran.append(variant.name)
        raise RuntimeError("still failing")

    monkeypatch.setattr(bench, "run_variant", record)
    data, settings = str(out.parent / "data"), TrainConfig(epochs=2)  # the fixture's settings
    bench.run(
        data,
        "massive",
        str(out),
        SUBSET,
        fasttext_cutoffs=(),
        train_config=settings,
        qat_epochs=1,
        resume=True,
        log=lambda _: None,
    )
    assert ran == ["pq_k16_d8"]
    with pytest.raises(ValueError, match="--resume with other settings"):
        bench.run(
            data,
            "massive",
            str(out),
            SUBSET,
            fasttext_cutoffs=(),
            train_config=settings,
            qat_epochs=1,
            resume=True,
            encoder={"width": 8},
        )


def test_unknown_variant_is_an_error():
    with pytest.raises(ValueError, match="unknown variants"):
        bench.run(None, "massive", "unused", ["nope"], fasttext_cutoffs=())


def test_command_line_rejects_an_unknown_variant(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "tflnlu.cli.bench", "--variants=nope", f"--out={tmp_path}"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "tflnlu-bench: error: unknown variants ['nope']" in result.stderr


def test_rows_follow_the_variant_order_whatever_order_they_finished_in():
    rows = {"fasttext": {}, "dpq_sx_k16_d8": {}, "full_fp32": {}, "pq_k16_d8": {}}
    assert list(bench.in_variant_order(rows)) == ["full_fp32", "pq_k16_d8", "dpq_sx_k16_d8", "fasttext"]


@pytest.mark.slow  # about 55 s: `make test-slow` runs it (the default suite stays near 15 minutes)
def test_seeds_give_means_and_spreads(tmp_path):
    """Two seeds: each a whole benchmark of its own; the top-level rows are their means, with
    sample standard deviations, and the ratios compare means."""
    from tests.conftest import write_massive_dir
    from tflnlu.bench.report import METRICS

    data = write_massive_dir(tmp_path / "data")
    out = tmp_path / "out"
    result = bench.run_seeds(
        str(data),
        "massive",
        str(out),
        ["full_fp32", "dpq_sx_k4_d16"],
        seeds=(0, 1),
        fasttext_cutoffs=(),
        train_config=TrainConfig(epochs=1),
        qat_epochs=0,
        log=lambda _: None,
    )
    per_seed = [json.loads((out / "seeds" / s / "results.json").read_text())["rows"] for s in ("0", "1")]
    row = result["rows"]["dpq_sx_k4_d16"]
    assert row["seeds"] == [0, 1]
    for metric in METRICS:
        values = [rows["dpq_sx_k4_d16"]["test"][metric] for rows in per_seed]
        if None in values:
            continue
        assert row["test"][metric] == pytest.approx(sum(values) / 2)
        assert row["test_std"][metric] == pytest.approx(abs(values[0] - values[1]) / 2**0.5)
    reference = result["rows"]["full_fp32"]
    expected = (reference["test"]["intent_accuracy"] - row["test"]["intent_accuracy"]) / reference["test"][
        "intent_accuracy"
    ]
    assert row["relative_degradation"]["intent_accuracy"] == pytest.approx(expected)
    assert "±" in (out / "results.md").read_text()
    with pytest.raises(ValueError, match="distinct"):
        bench.run_seeds(str(data), "massive", str(tmp_path / "o2"), seeds=(1, 1))
