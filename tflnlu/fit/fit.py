"""`tflnlu-fit` as a function: the output directory, the study, the search, the choice.

Stages: check --out (nothing a user owns is touched) and write settings.json; refuse a
budget no configuration can meet (the size model, before any training); open or join the
study; search until the time or trial limit, writing trials.json after every trial; then
choose the best dev score within the budget, evaluate that one file on the test split (the
only time the test split is read), and write fit.json, trials.md and the plot.
"""

from __future__ import annotations

import json
import os
import socket
import time
import warnings
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import optuna

from tflnlu.data.example import fingerprint
from tflnlu.export.options import EXPORT, MODEL_FILE
from tflnlu.fit.report import FIT_PLOT, TRIALS_TABLE, pareto_front, trial_rows, write_plot, write_table
from tflnlu.fit.study import EXPORTS_DIR, RUNS_DIR, Budget, Search, Settings, check_reachable
from tflnlu.io import write_bytes_atomic, write_json_atomic
from tflnlu.modelfile.metadata import read_metadata
from tflnlu.modelfile.size import BudgetExceeded
from tflnlu.nlu.encode import LabelSet, encode
from tflnlu.nlu.scoring import evaluate, seen_words
from tflnlu.outputs import Each, OutputKind, prepare_output, remove_owned
from tflnlu.runtime.litert import LiteRTModel
from tflnlu.runtime.parser import subwords_of, vocabulary_of
from tflnlu.train.run_dir import RUN

SETTINGS_JSON, STUDY_DB, TRIALS_JSON, FIT_JSON = "settings.json", "study.db", "trials.json", "fit.json"
DEFAULT_STUDY = "tflnlu-fit"
MAX_FAILURES_IN_A_ROW = 3  # trials that raised: then the search stops (the cause is not the candidate)

FIT = OutputKind(
    "fit",
    marker=SETTINGS_JSON,
    entries=frozenset(
        {SETTINGS_JSON, STUDY_DB, f"{STUDY_DB}-journal", TRIALS_JSON, FIT_JSON, TRIALS_TABLE, FIT_PLOT}
        | {MODEL_FILE, RUNS_DIR, EXPORTS_DIR}
    ),
    resumable=True,
    children={RUNS_DIR: Each(RUN), EXPORTS_DIR: Each(EXPORT)},
)


class NothingFits(BudgetExceeded):
    """The search ended without one trained file within the budget."""


@dataclass(frozen=True)
class StudyPlace:
    storage: str | None = None  # an Optuna storage URL; None: SQLite in --out
    name: str = DEFAULT_STUDY
    heartbeat_seconds: int = 60  # a trial silent for 3 beats is failed and queued again


def fit(splits: dict, settings: Settings, place: StudyPlace = StudyPlace(), **limits) -> dict:
    """Search, choose, evaluate: the whole job. `limits`: hours, trials, resume, overwrite, log,
    start (candidates the study tries first).

    Returns what fit.json holds."""
    log = limits.get("log", print)
    _prepare(settings, splits, resume=limits.get("resume", False), overwrite=limits.get("overwrite", False))
    log("checking that the budget is reachable: the smallest configuration's size ...")
    check_reachable(splits["train"], settings.budget)
    study = open_study(settings, place)
    start_from(study, limits.get("start", ()), log=log)
    hours, trials = limits.get("hours"), limits.get("trials")
    log(
        f"searching{f' for {hours:g} h' if hours else ''}{f', at most {trials} trials' if trials else ''} "
        f"under {settings.budget.describe()}; study {place.name!r} in {place.storage or settings.out / STUDY_DB}"
    )
    progress = Progress(settings.out, hours=hours, log=log)
    study.optimize(
        Search(splits, settings, log=log),
        n_trials=trials,
        timeout=hours * 3600 if hours else None,
        catch=(Exception,),
        callbacks=[progress],
        gc_after_trial=True,
    )
    return finish(study, splits, settings, log=log)


def open_study(settings: Settings, place: StudyPlace) -> optuna.Study:
    """Create or join the study (every worker runs the same command: the first creates it)."""
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # heartbeats
    storage = optuna.storages.RDBStorage(
        place.storage or f"sqlite:///{(settings.out / STUDY_DB).resolve()}",
        engine_kwargs={"connect_args": {"timeout": 60}} if not place.storage else None,
        heartbeat_interval=place.heartbeat_seconds,
        grace_period=3 * place.heartbeat_seconds,
        heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1),
    )
    seed = settings.train_config.seed if place.storage is None else worker_seed(settings.train_config.seed)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=5)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=8)
    directions = ["maximize", "minimize"] if settings.pareto else ["maximize"]
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the search prints its own line per trial
    return optuna.create_study(
        storage=storage,
        study_name=place.name,
        sampler=sampler,
        pruner=pruner,
        directions=directions,
        load_if_exists=True,
    )


def start_from(study: optuna.Study, candidates, *, log=print) -> None:
    """Queue candidates a user already knows (their hand-tuned configuration, say) as the first
    trials; one already in the study, queued or tried, is not queued again (workers and
    --resume run the same command)."""
    for candidate in candidates:
        before = len(study.get_trials(deepcopy=False))
        study.enqueue_trial(candidate.params(), skip_if_exists=True)
        queued = len(study.get_trials(deepcopy=False)) > before
        log(f"start: {candidate.describe()} {'queued' if queued else 'already in the study'}")


def worker_seed(seed: int) -> int:
    """The sampler's seed of one worker of a shared study: workers given the same --seed must
    not propose the same candidates (a shared study's order depends on timing anyway)."""
    return zlib.crc32(f"{seed}:{socket.gethostname()}:{os.getpid()}".encode())


def _prepare(settings: Settings, splits: dict, *, resume: bool, overwrite: bool) -> None:
    """--out checked; settings.json written (or, resuming, the same settings required)."""
    status = prepare_output(settings.out, FIT, overwrite=overwrite, keep=resume)
    if status == "ours, replaced":
        remove_owned(settings.out, FIT)
    recorded = _settings_record(settings, splits)
    path = settings.out / SETTINGS_JSON
    if status == "ours":
        earlier = json.loads(path.read_text(encoding="utf-8"))
        if earlier != recorded:
            changed = sorted(k for k in recorded if earlier.get(k) != recorded[k])
            raise ValueError(
                f"--resume: {path} records other settings ({', '.join(changed)}): pass the same flags"
            )
        return
    settings.out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, recorded)


def _settings_record(settings: Settings, splits: dict) -> dict:
    return json.loads(
        json.dumps(
            {
                "budget": asdict(settings.budget),
                "train": asdict(settings.train_config),
                "qat_epochs": settings.qat_epochs,
                "pareto": settings.pareto,
                "data": {
                    "train_sha256": fingerprint(splits["train"]),
                    "dev_sha256": fingerprint(splits["dev"]),
                },
            }
        )
    )


class Progress:
    """After every trial: one line (configuration, bytes, dev score, elapsed, time left) and
    trials.json rewritten, so an interrupted search has lost nothing finished."""

    def __init__(self, out: Path, *, hours: float | None, log: Callable[[str], None]):
        self.out, self.log, self.failures = out, log, 0
        self.started = time.monotonic()
        self.deadline = self.started + hours * 3600 if hours else None

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        rows = trial_rows(study)
        write_json_atomic(self.out / TRIALS_JSON, rows)
        row = next(r for r in rows if r["number"] == trial.number)
        self.log(_trial_line(row, self._clock()))
        self.failures = self.failures + 1 if trial.state == optuna.trial.TrialState.FAIL else 0
        if self.failures >= MAX_FAILURES_IN_A_ROW:
            self.log(f"{self.failures} trials in a row failed: stopping the search (see trials.json)")
            study.stop()

    def _clock(self) -> str:
        now = time.monotonic()
        elapsed = f"{(now - self.started) / 60:.1f} min"
        if self.deadline is None:
            return elapsed
        return f"{elapsed}, {max(0.0, self.deadline - now) / 60:.0f} min left"


def _trial_line(row: dict, clock: str) -> str:
    real = f"{row['real_bytes']:,}" if row.get("real_bytes") else "-"
    score = f"{row['dev_score']:.4f}" if row.get("dev_score") is not None else "-"
    return (
        f"trial {row['number']} {row['state'].lower()}: {row['candidate']}; predicted {row['predicted_bytes']:,} B, "
        f"real {real} B; dev score {score}; {row['outcome']} ({clock})"
    )


def finish(study: optuna.Study, splits: dict, settings: Settings, *, log=print) -> dict:
    """Choose, evaluate the chosen file on test, write fit.json, the table and the plot."""
    rows = trial_rows(study)
    write_json_atomic(settings.out / TRIALS_JSON, rows)
    front = pareto_front(rows)
    write_table(rows, front, settings.out / TRIALS_TABLE)
    chosen = choose(rows, settings.budget)
    write_plot(rows, front, chosen, settings.out / FIT_PLOT)
    if chosen is None:
        raise NothingFits(
            f"no trained file within the budget ({settings.budget.describe()}) after {len(rows)} trials: "
            f"give more time (--hours) or a larger budget; every trial is in {settings.out / TRIALS_JSON}"
        )
    result = {"chosen": chosen, "pareto_front": [r["number"] for r in front], "trials": len(rows)}
    seen = seen_words(splits["train"])
    result["test"] = _deliver(chosen, splits["test"], settings.out, seen=seen, log=log)
    write_json_atomic(settings.out / FIT_JSON, result)
    return result


def _deliver(chosen: dict, test: list, out: Path, *, seen: frozenset[str], log=print) -> dict | None:
    """The chosen file copied to --out and scored on the test split; None when another
    worker of a shared study made it (its file is on that machine)."""
    model = Path(chosen["export"]) / MODEL_FILE
    line = (
        f"chosen: trial {chosen['number']} ({chosen['candidate']}), {chosen['real_bytes']:,} bytes, "
        f"dev score {chosen['dev_score']:.4f}"
    )
    if not model.is_file():
        log(f"{line}; trained on {chosen['host']}: its file is {model} there")
        return None
    metrics = test_metrics(model.read_bytes(), test, seen=seen)
    write_bytes_atomic(out / MODEL_FILE, model.read_bytes())
    slot_f1 = "" if metrics["slot_f1"] is None else f", slot F1 {metrics['slot_f1']:.4f}"
    log(
        f"{line}; test intent {metrics['intent_accuracy']:.4f}{slot_f1}; run {chosen['run']}, "
        f"file {out / MODEL_FILE}"
    )
    return metrics


def choose(rows: list[dict], budget: Budget) -> dict | None:
    """The best dev score among trained files within the budget (ties: the smaller file)."""
    fitting = [
        r for r in rows if r["state"] == "COMPLETE" and r.get("real_bytes") and r["over_budget_bytes"] <= 0
    ]
    return max(fitting, key=lambda r: (r["dev_score"], -r["real_bytes"]), default=None)


def test_metrics(model_bytes: bytes, test: list, *, seen: frozenset[str] | None = None) -> dict:
    """The file's metrics on the test split in LiteRT (vocabulary and labels from the file)."""
    metadata = read_metadata(model_bytes)
    labels = LabelSet(metadata["intents"], metadata["tags"], metadata["domains"])
    max_len, subwords = metadata["tokenizer"]["max_len"], subwords_of(metadata)
    ids = encode(test, vocabulary_of(metadata), labels, max_len, subwords=subwords).ids
    return evaluate(LiteRTModel(model_bytes), ids, test, labels, seen=seen)
