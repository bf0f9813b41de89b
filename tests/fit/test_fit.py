"""tflnlu-fit: the search space, the size model against real exports, the study end to end."""

import json

import optuna
import pytest

from tflnlu.data.readers import read_splits
from tflnlu.export.export import export_run
from tflnlu.fit import size_model
from tflnlu.fit.fit import FIT_JSON, SETTINGS_JSON, TRIALS_JSON, StudyPlace, fit
from tflnlu.fit.space import SPACE, Candidate
from tflnlu.fit.study import Budget, BudgetUnreachable, Settings, search_splits, smallest_candidate
from tflnlu.modelfile.size import BudgetExceeded
from tflnlu.train.config import TrainConfig
from tflnlu.train.trainer import train

TINY_BUDGET = 20_000


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    from tests.conftest import write_massive_dir

    return read_splits(write_massive_dir(tmp_path_factory.mktemp("fit") / "data"), "massive").splits


def test_a_candidate_takes_only_the_space_s_choices():
    with pytest.raises(ValueError, match="width must be one of"):
        Candidate(width=50)
    candidate = Candidate(dpq="4x16", min_count=3, width=32, pooling="max", weight_bits=4)
    assert (candidate.dpq_k, candidate.dpq_d) == (4, 16)
    assert candidate.model_options()["pooling"] == "max" and candidate.train_options() == {"min_count": 3}
    assert candidate.export_options().weight_bits == 4
    assert smallest_candidate() == Candidate(**{name: choices[0] for name, choices in SPACE.items()})


@pytest.mark.parametrize(
    "candidate",
    [
        pytest.param(  # the second configuration runs in `make test-slow`
            Candidate(dpq="16x8", min_count=1, width=32, pooling="max_mean", weight_bits=8, per_channel=True),
            marks=pytest.mark.slow,
        ),
        Candidate(dpq="4x16", min_count=2, width=24, pooling="max", weight_bits=4, per_channel=False),
    ],
    ids=["int8-per-channel", "int4-per-tensor"],
)
def test_the_size_model_predicts_the_real_export_within_2_percent(splits, tmp_path, candidate):
    predicted = size_model.estimate(candidate, splits["train"])
    config = TrainConfig(epochs=2, **candidate.train_options())
    train(splits, tmp_path / "run", candidate.model_options(), config, log=lambda line: None)
    options = candidate.export_options(qat_epochs=1, golden="none")
    real = export_run(tmp_path / "run", tmp_path / "export", splits, options, log=lambda line: None)["size"]
    assert abs(predicted.file_bytes - real["file_bytes"]) <= 0.02 * real["file_bytes"]
    assert set(predicted.components) == set(real["components"])


def test_the_search_never_sees_the_test_split(splits):
    seen = search_splits(splits)
    assert seen["test"] is splits["dev"] and seen["train"] is splits["train"]


def test_a_candidate_reads_back_from_its_key():
    candidate = Candidate(dpq="16x8", min_count=3, width=64, pooling="max", weight_bits=4)
    assert Candidate.from_key(candidate.key()) == candidate
    assert Candidate.from_key("width=32") == Candidate(width=32)  # the rest default
    with pytest.raises(ValueError, match="unknown parameter 'depth'"):
        Candidate.from_key("depth=2")
    with pytest.raises(ValueError, match="per_channel must be one of"):
        Candidate.from_key("per_channel=yes")


def test_a_budget_no_configuration_meets_is_refused_before_training(splits, tmp_path):
    settings = Settings(tmp_path / "out", Budget(max_bytes=3_000))
    with pytest.raises(BudgetUnreachable, match=r"smallest one in the search space .* exports [\d,]+ bytes"):
        fit(splits, settings, trials=1, log=lambda line: None)
    assert not (tmp_path / "out" / "runs").exists()
    assert issubclass(BudgetUnreachable, BudgetExceeded)  # exit code 3, like any budget


def test_a_search_chooses_a_verified_file_within_the_budget_and_resumes(splits, tmp_path):
    out = tmp_path / "out"
    settings = Settings(out, Budget(max_bytes=TINY_BUDGET), TrainConfig(epochs=2), qat_epochs=1)
    lines = []
    start = Candidate(dpq="4x8", min_count=5, width=24, pooling="max", weight_bits=4)
    result = fit(splits, settings, trials=3, start=[start], log=lines.append)
    rows = json.loads((out / TRIALS_JSON).read_text())
    assert [r["number"] for r in rows] == [0, 1, 2]
    assert Candidate(**rows[0]["params"]) == start  # the user's configuration went first
    assert all(r["predicted_bytes"] for r in rows)
    untrained = [r for r in rows if r["over_budget_bytes"] > 0]
    assert all(r["real_bytes"] is None and not (out / "runs" / str(r["number"])).exists() for r in untrained)
    chosen = result["chosen"]
    assert chosen["real_bytes"] <= TINY_BUDGET
    assert (out / "model.tflite").stat().st_size == chosen["real_bytes"]
    assert result["test"]["examples"] == len(splits["test"])
    assert sum(line.startswith("trial ") for line in lines) == 3
    assert (out / "trials.md").is_file() and (out / "fit.png").is_file()
    # resumed: the same study goes on, numbering continues; a start already tried is not queued
    lines.clear()
    fit(splits, settings, trials=1, resume=True, start=[start], log=lines.append)
    assert any(line.endswith("already in the study") for line in lines)
    assert len(json.loads((out / TRIALS_JSON).read_text())) == 4
    other = Settings(out, Budget(max_bytes=TINY_BUDGET + 1), TrainConfig(epochs=2), qat_epochs=1)
    with pytest.raises(ValueError, match="records other settings"):
        fit(splits, other, trials=1, resume=True, log=lambda line: None)
    assert json.loads((out / FIT_JSON).read_text())["trials"] == 4
    assert json.loads((out / SETTINGS_JSON).read_text())["budget"]["max_bytes"] == TINY_BUDGET


@pytest.mark.slow  # about 80 s: `make test-slow` runs it (the default suite stays near 15 minutes)
def test_a_two_objective_study_in_any_storage_url(splits, tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    settings = Settings(
        tmp_path / "out", Budget(max_bytes=3_500_000), TrainConfig(epochs=1), qat_epochs=1, pareto=True
    )
    place = StudyPlace(storage=url, name="shared-study")
    optuna.create_study(
        storage=url, study_name="shared-study", directions=["maximize", "minimize"]
    )  # elsewhere
    result = fit(splits, settings, place, trials=1, log=lambda line: None)
    (trial,) = optuna.load_study(study_name="shared-study", storage=url).trials
    assert trial.values == [result["chosen"]["dev_score"], result["chosen"]["real_bytes"]]
    assert result["pareto_front"] == [0]


def test_a_configuration_proposed_again_is_on_the_front_once():
    from tflnlu.fit.report import pareto_front

    def row(number, candidate, real_bytes, dev_score):
        return {
            "number": number,
            "state": "COMPLETE",
            "candidate": candidate,
            "real_bytes": real_bytes,
            "dev_score": dev_score,
        }

    rows = [row(0, "a", 100, 0.9), row(1, "b", 80, 0.8), row(2, "a", 100, 0.9), row(3, "c", 90, 0.7)]
    assert [r["number"] for r in pareto_front(rows)] == [1, 0]


def test_the_budget_is_the_tightest_limit():
    from tflnlu.fit.size_model import SizeEstimate

    size = SizeEstimate(30_000, {"heads": 10_000}, arena_bytes=20_000)
    assert Budget(max_bytes=34_700).over_by(size) < 0
    assert Budget(max_bytes=34_700, max_arena_bytes=16_384, target="mcu").over_by(size) == 3_616
    assert Budget(max_bytes=25_000).over_by(size) == 5_000


def test_the_command_line_needs_a_budget_and_an_end(tmp_path, capsys):
    from tflnlu.cli.common import execute
    from tflnlu.cli.fit import COMMAND

    assert execute(COMMAND, ["tflnlu-fit", "--trials=1", f"--out={tmp_path}"]) == 2
    assert "give a budget" in capsys.readouterr().err
    assert execute(COMMAND, ["tflnlu-fit", "--max_bytes=1000", f"--out={tmp_path}"]) == 2
    assert "--hours or --trials" in capsys.readouterr().err
    assert execute(COMMAND, ["tflnlu-fit", "--max_arena_bytes=1000", "--trials=1"]) == 2
    assert "need --target=mcu" in capsys.readouterr().err
    assert execute(COMMAND, ["tflnlu-fit", "--max_bytes=1000", "--trials=1", "--start=width=50"]) == 2
    assert "--start: width must be one of" in capsys.readouterr().err
