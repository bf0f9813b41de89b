"""What --overwrite may remove: exactly what a kind of output consists of, nothing else."""

from __future__ import annotations

import pytest

from tflnlu.cli.bench import BENCHMARK
from tflnlu.export.options import EXPORT
from tflnlu.outputs import OutputPathError, prepare_output, remove_owned
from tflnlu.train.run_dir import RUN


def make(root, files):
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    return root


RUN_FILES = ["config.json", "vocab.txt", "weights.h5", "checkpoint/state.json", "checkpoint/epoch-3.index"]
RUN_FILES += ["checkpoint/epoch-3.data-00000-of-00001", ".weights.ab12cd_3.h5", ".vocab.txt.x1y2z3w4.tmp"]


def test_a_run_with_only_its_own_files_is_replaced(tmp_path):
    run = make(tmp_path / "run", RUN_FILES)
    assert prepare_output(run, RUN, overwrite=True) == "ours, replaced"
    remove_owned(run, RUN)
    assert list(run.iterdir()) == []


@pytest.mark.parametrize(
    "kind, own, foreign",
    [
        (RUN, RUN_FILES, "checkpoint/NOTES.txt"),
        (RUN, RUN_FILES, ".config.json.bak"),
        (RUN, RUN_FILES, ".weights.h5.orig"),
        (RUN, RUN_FILES, ".git/HEAD"),
        (RUN, RUN_FILES, "checkpoint/epoch-3.index.mine"),
        (EXPORT, ["export.json", "model.tflite"], ".model.tflite.orig"),
        (EXPORT, ["export.json", "model.tflite"], "notes/readme.md"),
        (BENCHMARK, ["results.json", "runs/full/config.json"], "runs/MY_NOTES.txt"),
        (BENCHMARK, ["results.json", "runs/full/config.json"], "runs/full/mine.txt"),
        (BENCHMARK, ["results.json", "exports/svd_r16/model.tflite"], "exports/my_export/model.tflite"),
        (BENCHMARK, ["results.json", "runs/full/config.json"], "runs/my_run/config.json"),
        (BENCHMARK, ["results.json", "fasttext/train.txt"], "fasttext/corpus.txt"),
    ],
)
def test_anything_else_stops_the_overwrite_and_nothing_is_removed(tmp_path, kind, own, foreign):
    root = make(tmp_path / "out", [*own, foreign])
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    with pytest.raises(OutputPathError, match=rf"did not write \({foreign.split('/')[0]}"):
        prepare_output(root, kind, overwrite=True)
    with pytest.raises(OutputPathError):
        remove_owned(root, kind)
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before


def test_a_benchmark_of_runs_and_exports_is_its_own(tmp_path):
    files = ["results.json", "results.md", "runs/full/config.json", "runs/full/checkpoint/state.json"]
    files += ["exports/full_fp32/export.json", "exports/full_fp32/model.tflite", "fasttext/model.bin"]
    files += ["fasttext/model_cutoff1000.ftz", "pq_k16_d8.error.txt"]
    root = make(tmp_path / "bench", files)
    assert prepare_output(root, BENCHMARK, keep=True) == "ours"
