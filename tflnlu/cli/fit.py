"""`tflnlu-fit`: the most accurate model that fits a flash / arena budget, found by search.

    tflnlu-fit --data=../shared/data/hwu64 --format=massive --max_bytes=34700 --hours=2 --out=fit/hwu64
    tflnlu-fit ... --target=mcu --max_flash_bytes=65536 --max_arena_bytes=16384
    tflnlu-fit ... --storage=postgresql://host/db --study=hwu64-35k   # the same command on each machine

Every trial's size is known before it trains (tflnlu.fit.size_model); configurations that
cannot fit are never trained. See docs/fit.md.
"""

from __future__ import annotations

from pathlib import Path

from tflnlu.cli.common import Command, FlagDefiner, UsageError
from tflnlu.data.load import load_data
from tflnlu.data.readers import CLINC_OOS_CHOICES, FORMATS
from tflnlu.export.options import TARGETS
from tflnlu.fit.fit import DEFAULT_STUDY, FIT_JSON, TRIALS_JSON, StudyPlace, fit
from tflnlu.fit.space import Candidate
from tflnlu.fit.study import Budget, Settings
from tflnlu.train.config import TrainConfig


def define_flags(define: FlagDefiner) -> None:
    define.string("data", None, "Data set directory or file (default: the built-in one).")
    define.enum("format", "massive", FORMATS, "Format of --data.")
    define.enum(
        "clinc_oos", "label", list(CLINC_OOS_CHOICES), "CLINC150 out-of-scope rows: an intent, or dropped."
    )
    define.string("languages", "en", "Languages of the built-in data set (used without --data), or all.")
    define.string("out", "fit/default", "Directory of the search: study, runs, exports, results.")
    define.integer("max_bytes", None, "Largest .tflite allowed (bytes).", lower_bound=1)
    define.enum(
        "target", "desktop", list(TARGETS), "mcu: every export verified in TFLite-Micro, arena measured."
    )
    define.integer("max_flash_bytes", None, "--target=mcu: largest flatbuffer allowed.", lower_bound=1)
    define.integer(
        "max_arena_bytes", None, "--target=mcu: largest TFLite-Micro arena allowed.", lower_bound=1
    )
    define.float("hours", None, "Stop starting trials after this long.", lower_bound=0)
    define.integer("trials", None, "Stop after this many trials (of this worker).", lower_bound=1)
    define.integer("epochs", TrainConfig.epochs, "Maximum training epochs per trial.", lower_bound=1)
    define.integer("qat_epochs", 3, "QAT epochs of every export.", lower_bound=1)
    define.integer("seed", TrainConfig.seed, "Training seed of every trial and the sampler's.", lower_bound=0)
    define.string("teacher", None, "A trained fp32 run every trial distills from (tflnlu-train --teacher).")
    define.multi_string(
        "start",
        [],
        "A configuration the search tries first, as in trials.json's key "
        "(e.g. dpq=16x8,min_count=3,width=64,pooling=max,weight_bits=4); repeatable.",
    )
    define.bool("pareto", False, "Two objectives (dev score, bytes): the whole front, not only the best.")
    define.string("storage", None, "Optuna storage URL shared by workers (default: SQLite in --out).")
    define.string("study", DEFAULT_STUDY, "Study name inside --storage.")
    define.integer(
        "heartbeat_seconds", 60, "Worker heartbeat; a trial silent 3 beats is retried.", lower_bound=1
    )
    define.bool("resume", False, "Continue the search in --out.")
    define.bool("overwrite", False, "Replace an earlier search in --out (only its own files).")


def budget_from(values) -> Budget:
    """--max_bytes and --max_flash_bytes bound the same bytes (the file is the flash image)."""
    if values.target != "mcu" and (values.max_flash_bytes or values.max_arena_bytes):
        raise UsageError("--max_flash_bytes and --max_arena_bytes need --target=mcu")
    limits = [b for b in (values.max_bytes, values.max_flash_bytes) if b]
    if not limits and not values.max_arena_bytes:
        raise UsageError(
            "give a budget: --max_bytes (or, with --target=mcu, --max_flash_bytes / --max_arena_bytes)"
        )
    return Budget(min(limits, default=None), values.max_arena_bytes, values.target)


def main(values, positional: list[str]) -> int:
    if positional:
        raise UsageError(f"unexpected arguments: {' '.join(positional)}")
    if not values.hours and not values.trials and not values.storage:
        raise UsageError("give --hours or --trials: a search needs an end")
    budget = budget_from(values)
    start = start_candidates(values.start)
    splits, _ = load_data(
        values.data,
        values.format,
        clinc_oos=values.clinc_oos,
        languages=values.languages.split(","),
        log=print,
    )
    config = TrainConfig(epochs=values.epochs, seed=values.seed, teacher=values.teacher)
    settings = Settings(Path(values.out), budget, config, qat_epochs=values.qat_epochs, pareto=values.pareto)
    place = StudyPlace(values.storage, values.study, values.heartbeat_seconds)
    fit(
        splits,
        settings,
        place,
        hours=values.hours,
        trials=values.trials,
        resume=values.resume,
        overwrite=values.overwrite,
        start=start,
    )
    return 0


def start_candidates(keys: list[str]) -> list[Candidate]:
    """--start values parsed before any data is read (a typo fails in a second)."""
    try:
        return [Candidate.from_key(key) for key in keys]
    except ValueError as error:
        raise UsageError(f"--start: {error}") from None


COMMAND = Command(
    "tflnlu-fit",
    "tflnlu-fit [--data=PATH --format=FMT] --max_bytes=N (--hours=H | --trials=N) --out=DIR [--resume]",
    define_flags,
    main,
    on_interrupt=lambda values: (
        f"every finished trial is in {values.out}/{TRIALS_JSON} and the study; run the same command "
        f"with --resume to go on (the result goes to {values.out}/{FIT_JSON})"
    ),
)


if __name__ == "__main__":  # python -m tflnlu.cli.fit
    import sys

    from tflnlu.cli.common import execute

    sys.exit(execute(COMMAND, sys.argv))
