"""The search behind `tflnlu-fit`: an Optuna study over tflnlu.fit.space under a size budget.

Each trial is one candidate, taken through the stages a user would: its size from the size
model (no training), then -- only if it fits -- `tflnlu-train` with per-epoch pruning and
`tflnlu-export` with the budget enforced, and the exported file's dev score as the objective.
The search reads only the train and dev splits: it hands the trainer and the export a copy
of the data whose "test" is dev, so every number it compares is a dev number.

A study lives in an Optuna storage (SQLite in --out by default, any URL for several
machines). Workers send heartbeats; a trial whose worker died is failed after the grace
period and queued again once with the same parameters (RetryHeartbeatStaleTrialCallback),
so no trial is lost, and a finished candidate is never trained twice.
"""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import optuna

from tflnlu.export.export import export_run
from tflnlu.fit.size_model import SizeEstimate, estimate
from tflnlu.fit.space import SPACE, Candidate
from tflnlu.modelfile.size import BudgetExceeded
from tflnlu.nlu.metrics import dev_score
from tflnlu.train.config import TrainConfig
from tflnlu.train.trainer import train

RUNS_DIR, EXPORTS_DIR = "runs", "exports"  # in --out: runs/<trial>, exports/<trial>
SIZE_ATTR = "size:"  # study attribute prefix: a candidate's predicted size, shared by all workers


class BudgetUnreachable(BudgetExceeded):
    """No configuration of the search space can meet the budget (refused before training)."""


@dataclass(frozen=True)
class Budget:
    max_bytes: int | None = None  # the .tflite (for mcu: the flash image, the same bytes)
    max_arena_bytes: int | None = None  # TFLite-Micro's tensor arena (target mcu)
    target: str = "desktop"

    def over_by(self, size: SizeEstimate) -> int:
        """Bytes over the tightest limit; zero or less fits."""
        excess = [size.file_bytes - self.max_bytes] if self.max_bytes else []
        if self.max_arena_bytes and size.arena_bytes is not None:
            excess.append(size.arena_bytes - self.max_arena_bytes)
        return max(excess, default=0)

    def describe(self) -> str:
        parts = [f"{self.max_bytes:,} bytes"] if self.max_bytes else []
        if self.max_arena_bytes:
            parts.append(f"arena {self.max_arena_bytes:,} bytes")
        return " and ".join(parts) or "no limit"


@dataclass(frozen=True)
class Settings:
    out: Path
    budget: Budget
    train_config: TrainConfig = TrainConfig()  # epochs, patience, seed, teacher (distillation)
    qat_epochs: int = 3
    pareto: bool = False  # two objectives: dev score up, bytes down


def search_splits(splits: dict) -> dict:
    """train and dev, with dev standing in for test: the search never reads the test split."""
    return {"train": splits["train"], "dev": splits["dev"], "test": splits["dev"]}


def sample(trial: optuna.Trial) -> Candidate:
    return Candidate(**{name: trial.suggest_categorical(name, choices) for name, choices in SPACE.items()})


def smallest_candidate() -> Candidate:
    """The space's smallest file: every choice at its small end (SPACE lists them so)."""
    return Candidate(**{name: choices[0] for name, choices in SPACE.items()})


def check_reachable(train_split: list, budget: Budget) -> SizeEstimate:
    """Refuse, before any training, a budget even the smallest configuration misses."""
    candidate = smallest_candidate()
    size = estimate(candidate, train_split, target=budget.target)
    if budget.over_by(size) > 0:
        largest = size.largest_component()
        arena = f", arena {size.arena_bytes:,} bytes" if size.arena_bytes is not None else ""
        raise BudgetUnreachable(
            f"no configuration can meet the budget ({budget.describe()}): the smallest one in the "
            f"search space ({candidate.describe()}) exports {size.file_bytes:,} bytes{arena}, of which "
            f"{largest} alone is {size.components[largest]:,} bytes"
        )
    return size


def set_over_budget(trial: optuna.Trial, over: int) -> None:
    """Bytes over budget (<= 0 fits): predicted, then, once exported, real (the last one is
    given to Optuna as the trial's constraint when the trial ends)."""
    trial.set_user_attr("over_budget_bytes", over)


class Search:
    """The objective: one candidate through the size model, training and export."""

    def __init__(self, splits: dict, settings: Settings, *, log: Callable[[str], None] = print):
        self.splits, self.settings, self.log = search_splits(splits), settings, log

    def __call__(self, trial: optuna.Trial):
        values = self._evaluate(trial)
        # Optuna's feasibility (set once): the sampler learns where files fit the budget.
        trial.set_constraint("over_budget_bytes", trial.user_attrs["over_budget_bytes"])
        return values

    def _evaluate(self, trial: optuna.Trial):
        candidate = sample(trial)
        size = self.size_of(trial.study, candidate)
        over = self.settings.budget.over_by(size)
        trial.set_user_attr("predicted_bytes", size.file_bytes)
        trial.set_user_attr("predicted_arena_bytes", size.arena_bytes)
        set_over_budget(trial, over)
        if over > 0:
            trial.set_user_attr("outcome", "not trained: the size model puts it over the budget")
            return self._values(0.0, size.file_bytes)
        earlier = finished_twin(trial.study, trial.params, trial.number)
        if earlier is not None:
            for key, value in earlier.user_attrs.items():
                trial.set_user_attr(key, value)
            set_over_budget(trial, earlier.user_attrs["over_budget_bytes"])
            trial.set_user_attr("outcome", f"same candidate as trial {earlier.number}: not trained again")
            return earlier.values if self.settings.pareto else earlier.value
        return self._train_and_export(trial, candidate)

    def size_of(self, study: optuna.Study, candidate: Candidate) -> SizeEstimate:
        """The size model's answer, measured once per candidate for the whole study."""
        key = SIZE_ATTR + candidate.key()
        known = study.user_attrs.get(key)
        if known is not None:
            return SizeEstimate(known["file_bytes"], known["components"], known["arena_bytes"])
        size = estimate(candidate, self.splits["train"], target=self.settings.budget.target)
        study.set_user_attr(key, dataclasses.asdict(size))
        return size

    def _train_and_export(self, trial: optuna.Trial, candidate: Candidate):
        started = time.monotonic()
        run = self.settings.out / RUNS_DIR / str(trial.number)
        export = self.settings.out / EXPORTS_DIR / str(trial.number)
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("run", str(run))
        self._train(trial, candidate, run)
        try:
            result = self._export(candidate, run, export)
        except BudgetExceeded as e:  # the size model was wrong: recorded, never chosen
            set_over_budget(trial, 1)
            trial.set_user_attr("outcome", f"exported over the budget: {e}")
            return self._values(0.0, trial.user_attrs["predicted_bytes"])
        dev = result["test"]["tflite"]  # "test" is dev here (search_splits)
        real = result["size"]["file_bytes"]
        trial.set_user_attr("export", str(export))
        trial.set_user_attr("real_bytes", real)
        trial.set_user_attr("components", result["size"]["components"])
        trial.set_user_attr("dev", {k: dev[k] for k in ("intent_accuracy", "slot_f1", "exact_match")})
        if "mcu" in result:
            trial.set_user_attr("real_arena_bytes", result["mcu"]["arena_bytes"])
        set_over_budget(trial, self.settings.budget.over_by(_real_size(result)))
        trial.set_user_attr("seconds", time.monotonic() - started)
        trial.set_user_attr("outcome", "trained and exported")
        return self._values(dev_score(dev), real)

    def _train(self, trial: optuna.Trial, candidate: Candidate, run: Path) -> None:
        def report(record: dict) -> None:
            trial.report(record["dev_score"], record["epoch"])
            if trial.should_prune():
                trial.set_user_attr("outcome", f"pruned after epoch {record['epoch']}")
                raise optuna.TrialPruned(f"dev score {record['dev_score']:.4f} after epoch {record['epoch']}")

        config = dataclasses.replace(self.settings.train_config, **candidate.train_options())
        # Several objectives: Optuna cannot prune on one of them, so every trial trains in full.
        on_epoch = None if self.settings.pareto else report
        train(
            self.splits, run, candidate.model_options(), config, overwrite=True, log=quiet, on_epoch=on_epoch
        )

    def _export(self, candidate: Candidate, run: Path, export: Path) -> dict:
        budget = self.settings.budget
        options = candidate.export_options(
            qat_epochs=self.settings.qat_epochs,
            max_bytes=budget.max_bytes,
            max_arena_bytes=budget.max_arena_bytes,
            target=budget.target,
            golden="none",
        )
        return export_run(run, export, self.splits, options, log=quiet, overwrite=True)

    def _values(self, score: float, file_bytes: int):
        return (score, file_bytes) if self.settings.pareto else score


def finished_twin(study: optuna.Study, params: dict, number: int) -> optuna.trial.FrozenTrial | None:
    """An earlier complete trial of the same candidate that was trained (TPE may sample a
    categorical point again)."""
    for other in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        if other.number != number and other.params == params and "real_bytes" in other.user_attrs:
            return other
    return None


def _real_size(result: dict) -> SizeEstimate:
    arena = result["mcu"]["arena_bytes"] if "mcu" in result else None
    return SizeEstimate(result["size"]["file_bytes"], result["size"]["components"], arena)


def quiet(line: str) -> None:
    """The trainer's and export's per-epoch lines: the search prints one line per trial instead."""
