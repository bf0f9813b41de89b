"""Two tflnlu-fit workers on one storage: trials shared, one worker killed mid-trial, nothing
lost or trained twice, and --resume goes on."""

import os
import signal
import subprocess
import sys
import time

import optuna
import pytest

STUDY = "shared"
HEARTBEAT = 2  # seconds; a trial is stale after 3 beats


def _worker(data, out, storage, *, trials, extra=()):
    command = [
        sys.executable,
        "-m",
        "tflnlu.cli.fit",
        f"--data={data}",
        "--max_bytes=3500000",  # every candidate fits: every trial trains
        f"--trials={trials}",
        "--epochs=20",
        "--qat_epochs=1",
        f"--out={out}",
        f"--storage={storage}",
        f"--study={STUDY}",
        f"--heartbeat_seconds={HEARTBEAT}",
        *extra,
    ]
    log = open(f"{out}.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )


def _training_trial_of(storage: str, out) -> int | None:
    """A RUNNING trial whose run directory is under `out` (its worker is training it)."""
    try:
        study = optuna.load_study(study_name=STUDY, storage=storage)
    except KeyError:  # not created yet
        return None
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if str(trial.user_attrs.get("run", "")).startswith(str(out)):
            return trial.number
    return None


def _wait_for(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value is not None:
            return value
        time.sleep(0.5)
    pytest.fail(f"gave up after {seconds} s")


@pytest.mark.slow  # about 3 minutes: `make test-slow` runs it (not the default suite)
def test_two_workers_share_a_study_and_a_killed_worker_s_trial_is_retried_once(tmp_path):
    from tests.conftest import write_massive_dir

    data = write_massive_dir(tmp_path / "data")
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    worker_a = _worker(data, out_a, storage, trials=3)
    worker_b = _worker(data, out_b, storage, trials=2)
    killed = _wait_for(lambda: _training_trial_of(storage, out_a), 240)
    worker_a.send_signal(signal.SIGKILL)  # mid-trial: no chance to record anything
    worker_a.wait()
    assert worker_b.wait(timeout=400) == 0, (out_b.parent / "b.log").read_text()[-2000:]
    time.sleep(3 * HEARTBEAT + 1)  # the killed trial is stale now
    resumed = _worker(data, out_a, storage, trials=1, extra=("--resume",))
    assert resumed.wait(timeout=400) == 0, (out_a.parent / "a.log").read_text()[-2000:]

    trials = optuna.load_study(study_name=STUDY, storage=storage).get_trials(deepcopy=False)
    states = {t.number: t.state for t in trials}
    assert optuna.trial.TrialState.RUNNING not in states.values()
    assert states[killed] == optuna.trial.TrialState.FAIL
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == killed]  # the retry callback's mark
    assert len(retries) == 1 and retries[0].state == optuna.trial.TrialState.COMPLETE
    assert retries[0].params == next(t for t in trials if t.number == killed).params
    trained = [t for t in trials if t.user_attrs.get("outcome") == "trained and exported"]
    assert len({tuple(sorted(t.params.items())) for t in trained}) == len(trained)  # none trained twice
    workers = {str(t.user_attrs["run"]).split("/runs/")[0] for t in trials if "run" in t.user_attrs}
    assert workers == {str(out_a), str(out_b)}  # both workers' trials are in the one study
    assert len(trials) == 3 + 1  # A's killed trial, B's two, the resumed one: nothing lost
