import pytest

from tests.conftest import HWU64
from tflnlu.cli import train as cli
from tflnlu.data.example import DataError

SMALL = {"embed_dim": 16, "dpq_d": 4, "dpq_k": 4, "width": 8, "max_len": 12}


def test_run_trains_and_reports(tiny_massive, tmp_path):
    lines = []
    result = cli.run(
        str(tiny_massive),
        "massive",
        str(tmp_path / "run"),
        model_options=SMALL,
        train_options={"epochs": 2},
        log=lines.append,
    )
    assert "test" in result["splits"]
    assert any("intent acc" in line for line in lines)
    assert lines[-1] == f"run written to {tmp_path / 'run'}"


def test_bad_data_writes_nothing(tiny_massive, tmp_path):
    (tiny_massive / "dev.jsonl").write_text('{"intent": "x"}\n')
    with pytest.raises(DataError, match=r"dev\.jsonl:1: missing or empty field 'annot_utt'"):
        cli.run(str(tiny_massive), "massive", str(tmp_path / "run"), model_options=SMALL, log=lambda _: None)
    assert not (tmp_path / "run").exists()


def test_bad_options_fail_before_reading(tmp_path):
    with pytest.raises(ValueError, match="divisible"):
        cli.run(str(tmp_path), "massive", str(tmp_path / "run"), model_options={"embed_dim": 10, "dpq_d": 3})
    with pytest.raises(ValueError, match="learning_rate"):
        cli.run(str(tmp_path), "massive", str(tmp_path / "run"), train_options={"learning_rate": 0})


def test_main_exits_with_a_clear_error(tmp_path, capsys):
    from tflnlu.cli.common import execute

    argv = ["tflnlu-train", f"--data={tmp_path / 'missing'}", f"--out={tmp_path / 'run'}"]
    assert execute(cli.COMMAND, argv) == 2
    assert (
        capsys.readouterr().err == f"tflnlu-train: error: {tmp_path / 'missing'}: no such file or directory\n"
    )


def test_end_to_end_on_real_data_is_far_above_chance(tmp_path):
    """A short real training must learn something real: HWU64 (64 intents, chance ~0.02) when
    ../shared/data is there, otherwise the built-in Home Assistant set (42 intents)."""
    data = str(HWU64) if (HWU64 / "train.jsonl").is_file() else None
    result = cli.run(
        data,
        "massive",
        str(tmp_path / "run"),
        model_options={"dpq_d": 16},
        train_options={"epochs": 4},
        log=lambda _: None,
    )
    test = result["splits"]["test"]
    assert test["intent_accuracy"] > 0.6
    assert test["slot_f1"] > 0.3


def test_default_data_set_is_the_builtin_one(tmp_path):
    lines = []
    cli.run(
        None, out=str(tmp_path / "run"), model_options=SMALL, train_options={"epochs": 1}, log=lines.append
    )
    assert lines[0].startswith("no --data: using the built-in data set (home-assistant-intents")
