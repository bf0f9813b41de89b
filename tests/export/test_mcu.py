"""The microcontroller target on a tiny run: TFLM verification, C sources, resolver, budgets."""

import re
import shutil
import subprocess
from collections import Counter

import pytest

from tflnlu.data.readers import read_splits
from tflnlu.export import mcu, options
from tflnlu.export.export import ExportOptions, export_run
from tflnlu.modelfile.flatbuffer import ModelInfo, read_model_file
from tflnlu.modelfile.size import BudgetExceeded
from tflnlu.runtime.tflm import ARENA_ALIGNMENT, arena_works
from tflnlu.train.config import TrainConfig
from tflnlu.train.trainer import train

SMALL = {"embed_dim": 16, "dpq_d": 4, "dpq_k": 16, "width": 8, "max_len": 12}
QUIET = {"log": lambda _: None}


@pytest.fixture(scope="module")
def mcu_export(tmp_path_factory):
    from tests.conftest import write_massive_dir

    root = tmp_path_factory.mktemp("mcu")
    splits = read_splits(write_massive_dir(root / "data"), "massive").splits
    train(splits, root / "run", SMALL, TrainConfig(epochs=3), **QUIET)
    options = ExportOptions(qat_epochs=1, target="mcu", max_flash_bytes=200_000, max_arena_bytes=65_536)
    result = export_run(root / "run", root / "out", splits, options, **QUIET)
    return root, splits, result


def test_tflm_runs_the_whole_test_split(mcu_export):
    root, splits, result = mcu_export
    report = result["mcu"]
    assert report["test"]["examples"] == len(splits["test"])
    versus = report["versus_litert_reference_kernels"]
    assert versus["same_intent"] == 1.0
    assert versus["largest_int8_difference"] <= 2
    assert report["flash_bytes"] == (root / "out" / "model.tflite").stat().st_size
    assert report["operators"] == dict(
        sorted(read_model_file(root / "out" / "model.tflite").operators.items())
    )


def test_arena_is_the_smallest_that_works(mcu_export):
    root, _, result = mcu_export
    arena = result["mcu"]["arena_bytes"]
    assert arena % ARENA_ALIGNMENT == 0 and result["mcu"]["fails_at_bytes"] == arena - ARENA_ALIGNMENT
    model = root / "out" / "model.tflite"
    assert arena_works(model, arena)
    assert not arena_works(model, arena - ARENA_ALIGNMENT)


def test_bisection_finds_the_threshold():
    needed = 1000
    result = mcu_minimum_arena(lambda _path, size: size >= needed)
    assert result["arena_bytes"] == 1008 and result["fails_at_bytes"] == 992


def mcu_minimum_arena(works):
    from tflnlu.runtime.tflm import minimum_arena

    return minimum_arena(b"TFL3", upper=4096, works=works)


def test_resolver_registers_every_operator_once(mcu_export):
    root, _, result = mcu_export
    source = (root / "out" / options.RESOLVER_FILE).read_text()
    calls = re.findall(r"resolver\.(Add\w+)\(\)", source)
    assert sorted(calls) == sorted(mcu.TFLM_RESOLVER_METHODS[op] for op in result["mcu"]["operators"])
    assert f"MicroMutableOpResolver<{len(calls)}>" in source


@pytest.mark.skipif(shutil.which("g++") is None, reason="no C++ compiler (g++) on this machine")
def test_model_data_compiles_and_holds_the_model_bytes(mcu_export, tmp_path):
    root, _, _ = mcu_export
    out = root / "out"
    (tmp_path / "dump.cc").write_text(
        '#include <cstdio>\n#include "model_data.h"\n'
        "int main() { fwrite(g_tflnlu_model, 1, g_tflnlu_model_len, stdout);\n"
        "  return reinterpret_cast<unsigned long>(g_tflnlu_model) % 16 != 0; }\n"
    )
    binary = tmp_path / "dump"
    subprocess.run(
        [
            "g++",
            "-std=c++11",
            "-Wall",
            "-Werror",
            f"-I{out}",
            str(out / "model_data.cc"),
            str(tmp_path / "dump.cc"),
            "-o",
            str(binary),
        ],
        check=True,
    )
    dumped = subprocess.run([str(binary)], capture_output=True, check=True).stdout
    assert dumped == (out / "model.tflite").read_bytes()


def test_an_operator_tflm_lacks_is_named():
    info = ModelInfo(100, [], Counter({"GATHER": 1, "TFLNLU_CODEBOOK_LOOKUP": 1, "TOPK_V2": 1}), {})
    with pytest.raises(mcu.UnsupportedOperator, match="TFLNLU_CODEBOOK_LOOKUP, TOPK_V2"):
        mcu.check_operators(info)


def test_missing_operator_fails_the_export_before_writing(mcu_export, tmp_path, monkeypatch):
    root, splits, _ = mcu_export
    without_mean = {op: method for op, method in mcu.TFLM_RESOLVER_METHODS.items() if op != "MEAN"}
    monkeypatch.setattr(mcu, "TFLM_RESOLVER_METHODS", without_mean)
    with pytest.raises(mcu.UnsupportedOperator, match="MEAN"):
        export_run(root / "run", tmp_path / "out", splits, ExportOptions(qat_epochs=0, target="mcu"), **QUIET)
    assert not (tmp_path / "out").exists()


def test_arena_budget_fails_the_export_before_writing(mcu_export, tmp_path):
    root, splits, result = mcu_export
    budget = result["mcu"]["arena_bytes"] - 1
    with pytest.raises(
        BudgetExceeded, match=rf"tensor arena needs .* over --max_arena_bytes={budget:,} by 1 .*--max_len"
    ):
        export_run(
            root / "run",
            tmp_path / "out",
            splits,
            ExportOptions(qat_epochs=1, target="mcu", max_arena_bytes=budget),  # the same graph as mcu_export
            **QUIET,
        )
    assert not (tmp_path / "out").exists()


def test_budgets_pass_and_fail_as_they_should():
    mcu.check_mcu_budgets(1000, 500, max_flash=1000, max_arena=500)
    mcu.check_mcu_budgets(1000, 500, max_flash=None, max_arena=None)
    with pytest.raises(
        BudgetExceeded, match=r"flash: the model is 1,001 bytes, over --max_flash_bytes=1,000 by 1 .*--dpq_k"
    ) as error:
        mcu.check_mcu_budgets(1001, 500, max_flash=1000, max_arena=500)
    assert "arena" not in str(error.value)
    with pytest.raises(BudgetExceeded, match=r"flash: .*; RAM: "):
        mcu.check_mcu_budgets(1001, 600, max_flash=1000, max_arena=500)


def test_mcu_target_needs_the_builtin_lookup():
    with pytest.raises(ValueError, match="--target=mcu needs --lookup=builtin"):
        ExportOptions(target="mcu", lookup="custom")
    with pytest.raises(ValueError, match="apply to --target=mcu only"):
        ExportOptions(max_arena_bytes=1000)
