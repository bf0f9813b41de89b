"""`tflnlu-train`: train a joint intent + slot model with a compressed embedding.

    tflnlu-train                                   # the built-in Home Assistant data set
    tflnlu-train --data=../shared/data/hwu64 --format=massive --embedding=dpq \\
                 --dpq_k=16 --dpq_d=32 --out=runs/hwu64

`run()` is the whole job as a plain function (the Python API); `main()` only maps flags to it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from tflnlu.cli.common import Command, FlagDefiner, UsageError
from tflnlu.data.load import load_data
from tflnlu.data.readers import CLINC_OOS_CHOICES, FORMATS
from tflnlu.data.subwords import SubwordSpec
from tflnlu.models.config import DPQ_VARIANTS, EMBEDDINGS, POOLINGS, ModelConfig
from tflnlu.nlu.metrics import format_slot_f1
from tflnlu.outputs import prepare_output
from tflnlu.train.config import TrainConfig
from tflnlu.train.run_dir import CHECKPOINT_DIR, CHECKPOINT_STATE, RUN, read_config

DEFAULT_OUT = "runs/default"


def define_flags(define: FlagDefiner) -> None:
    _define_data_flags(define)
    _define_model_flags(define)
    _define_training_flags(define)


def _define_data_flags(define: FlagDefiner) -> None:
    define.string(
        "data",
        None,
        "Data set: a directory (one file per split) or a file. "
        "Omit to train on the built-in Home Assistant intents.",
    )
    define.enum("format", "massive", FORMATS, "Format of --data.")
    define.list("languages", ["en"], "Languages of the built-in data set (used without --data), or all.")
    define.enum(
        "clinc_oos", "label", list(CLINC_OOS_CHOICES), "CLINC150 out-of-scope: its own intent, or left out."
    )
    define.bool("skip_bad_rows", False, "Skip malformed rows (and report how many) instead of failing.")
    define.string("out", DEFAULT_OUT, "Run directory to write.")
    define.bool("resume", False, "Continue an interrupted run in --out from its last finished epoch.")
    define.bool("overwrite", False, "Replace an existing --out.")


def _define_model_flags(define: FlagDefiner) -> None:
    define.enum("embedding", "dpq", EMBEDDINGS, "Embedding: 'full' fp32 table or task-aware 'dpq'.")
    define.integer("embed_dim", ModelConfig.embed_dim, "Embedding width d.", lower_bound=1)
    define.integer("dpq_k", ModelConfig.dpq_k, "DPQ codes per group (K).", lower_bound=2, upper_bound=256)
    define.integer("dpq_d", ModelConfig.dpq_d, "DPQ groups (D); must divide --embed_dim.", lower_bound=1)
    define.enum("dpq_variant", ModelConfig.dpq_variant, DPQ_VARIANTS, "DPQ variant: softmax (sx) or VQ.")
    define.bool("dpq_shared", ModelConfig.dpq_shared, "SX only: one matrix for keys and values.")
    define.integer("width", ModelConfig.width, "Encoder channels.", lower_bound=1)
    define.list("dilations", [str(d) for d in ModelConfig.dilations], "Dilation of each encoder block.")
    define.enum(
        "pooling", ModelConfig.pooling, POOLINGS, "Intent features: max over tokens, or max and mean."
    )
    define.integer("kernel", ModelConfig.kernel, "Token window of each encoder block.", lower_bound=1)
    define.float("dropout", ModelConfig.dropout, "Dropout rate.", lower_bound=0.0, upper_bound=0.95)
    define.integer(
        "max_len", ModelConfig.max_len, "Tokens per utterance (longer ones are cut).", lower_bound=1
    )
    define.string("subwords", "", "Hashed character n-grams per token, lengths like 3-5 (empty: none).")
    define.integer(
        "subword_buckets", SubwordSpec.buckets, "Buckets of the n-gram table (--subwords).", lower_bound=1
    )
    define.integer(
        "subword_per_token", SubwordSpec.per_token, "N-gram ids kept per token (--subwords).", lower_bound=1
    )
    define.integer(
        "subword_dpq_k", ModelConfig.subword_dpq_k, "DPQ codes per group of the n-gram table.", lower_bound=2
    )
    define.integer(
        "subword_dpq_d", ModelConfig.subword_dpq_d, "DPQ groups of the n-gram table.", lower_bound=1
    )


def _define_training_flags(define: FlagDefiner) -> None:
    define.integer("epochs", TrainConfig.epochs, "Maximum epochs.", lower_bound=1)
    define.integer("batch_size", TrainConfig.batch_size, "Batch size.", lower_bound=1)
    define.float("learning_rate", TrainConfig.learning_rate, "Adam learning rate.", lower_bound=0.0)
    define.integer(
        "patience", TrainConfig.patience, "Stop after this many epochs without dev gain.", lower_bound=1
    )
    define.integer("seed", TrainConfig.seed, "Random seed.", lower_bound=0, upper_bound=2**32 - 1)
    define.integer("min_count", TrainConfig.min_count, "Minimum count of a vocabulary word.", lower_bound=1)
    define.integer("max_vocab", None, "Maximum vocabulary size, special tokens included.", lower_bound=3)
    define.string(
        "teacher",
        None,
        "A trained run (fp32, the default encoder) to distill from: the student learns its distributions too.",
    )
    define.float(
        "distill_weight",
        TrainConfig.distill_weight,
        "Share of the teacher's loss (0..1).",
        lower_bound=0.0,
        upper_bound=1.0,
    )
    define.float(
        "distill_temperature",
        TrainConfig.distill_temperature,
        "Softmax temperature of the distillation.",
        lower_bound=0.0,
    )
    define.float(
        "unk_rate",
        TrainConfig.unk_rate,
        "Training tokens replaced by <unk>.",
        lower_bound=0.0,
        upper_bound=0.9,
    )


_MODEL_FLAGS = (
    "max_len",
    "embedding",
    "embed_dim",
    "dpq_k",
    "dpq_d",
    "dpq_variant",
    "dpq_shared",
    "width",
    "pooling",
    "kernel",
    "dropout",
    "subword_dpq_k",
    "subword_dpq_d",
)
_TRAIN_FLAGS = (
    "teacher",
    "distill_weight",
    "distill_temperature",
    "epochs",
    "batch_size",
    "learning_rate",
    "patience",
    "seed",
    "min_count",
    "max_vocab",
    "unk_rate",
)


def run(
    data: str | None = None,
    fmt: str = "massive",
    out: str = DEFAULT_OUT,
    *,
    languages: list[str] = ("en",),
    clinc_oos: str = "label",
    skip_bad_rows: bool = False,
    resume: bool = False,
    overwrite: bool = False,
    model_options: dict | None = None,
    train_options: dict | None = None,
    log=print,
) -> dict:
    """Read the data, train, write the run directory; returns the metrics."""
    train_options = dict(train_options or {})
    if train_options.get("teacher"):
        read_config(Path(train_options["teacher"]))  # a teacher that is not a run fails before any work
        train_options["teacher"] = str(Path(train_options["teacher"]).resolve())
    train_config = TrainConfig(**train_options)
    ModelConfig(vocab_size=1, num_intents=1, num_tags=1, **(model_options or {}))  # fail fast on bad options
    status = prepare_output(
        Path(out), RUN, overwrite=overwrite, keep=resume
    )  # before reading data; removes nothing
    if status == "ours":
        check_resume_settings(Path(out), model_options or {}, train_config)
    from tflnlu.train.trainer import train  # TensorFlow: imported once the checks passed

    splits, info = load_data(
        data, fmt, languages=list(languages), clinc_oos=clinc_oos, skip_bad_rows=skip_bad_rows, log=log
    )
    log(", ".join(f"{name} {len(examples)}" for name, examples in splits.items()) + " examples")
    result = train(
        splits,
        Path(out),
        model_options,
        train_config,
        data_info=info,
        resume=resume,
        overwrite=overwrite,
        log=log,
    )
    log(format_metrics(result))
    log(f"run written to {out}")
    return result


def check_resume_settings(out: Path, model_options: dict, train_config: TrainConfig) -> None:
    """--resume with other model or training settings than the run's, refused before the data
    is read (the trainer compares the whole configuration again once it is built)."""
    saved = read_config(out)
    wanted = {("model", k): (list(v) if isinstance(v, tuple) else v) for k, v in model_options.items()}
    wanted |= {("train", k): v for k, v in dataclasses.asdict(train_config).items()}
    changed = sorted(f"{s}.{k}" for (s, k), v in wanted.items() if k in saved.get(s, {}) and saved[s][k] != v)
    if changed:
        raise ValueError(
            f"cannot resume {out}: it was started with other settings ({', '.join(changed[:5])}); "
            "resume with the same flags, or train it again with --overwrite"
        )


def format_metrics(result: dict) -> str:
    lines = [f"{'split':<6} {'intent acc':>10} {'slot F1':>8} {'exact':>7} {'n':>6}"]
    for name, m in result["splits"].items():
        slot = format_slot_f1(m)
        lines.append(
            f"{name:<6} {m['intent_accuracy']:>10.4f} {slot:>8} {m['exact_match']:>7.4f} {m['examples']:>6}"
        )
    sizes = result["sizes"]
    lines.append(
        f"embedding {sizes['embedding']['bytes']:,} bytes, "
        + (f"n-gram table {sizes['subwords']['bytes']:,} bytes, " if "subwords" in sizes else "")
        + f"rest {sizes['rest']['parameters']:,} parameters "
        f"({sizes['rest']['bytes']:,} bytes fp32)"
    )
    return "\n".join(lines)


def _model_options(values) -> dict:
    options = {name: values[name].value for name in _MODEL_FLAGS}
    if not values.dilations:
        raise UsageError("--dilations needs at least one integer (one encoder block each)")
    try:
        options["dilations"] = tuple(int(d) for d in values.dilations)
    except ValueError:
        raise UsageError(f"--dilations must be integers, got {','.join(values.dilations)}") from None
    options["subwords"] = subword_option(values)
    return options


def subword_option(values) -> dict | None:
    """ModelConfig.subwords from --subwords and its two sizes (None without --subwords)."""
    if not values.subwords:
        return None
    try:
        spec = SubwordSpec.parse(
            values.subwords, buckets=values.subword_buckets, per_token=values.subword_per_token
        )
    except ValueError as e:
        raise UsageError(str(e)) from None
    return spec.to_json()


def main(values, positional: list[str]) -> int:
    if positional:
        raise UsageError(f"unexpected arguments: {' '.join(positional)}")
    run(
        values.data,
        values.format,
        values.out,
        languages=values.languages,
        clinc_oos=values.clinc_oos,
        skip_bad_rows=values.skip_bad_rows,
        resume=values.resume,
        overwrite=values.overwrite,
        model_options=_model_options(values),
        train_options={name: values[name].value for name in _TRAIN_FLAGS},
    )
    return 0


def interrupted(values) -> str:
    """Where the last checkpoint is and how to go on (a resumed run is exact: docs/faults.md)."""
    state = Path(values.out) / CHECKPOINT_DIR / CHECKPOINT_STATE
    try:
        epoch = json.loads(state.read_text(encoding="utf-8"))["epoch"]
    except (OSError, ValueError, KeyError):
        return f"no epoch had finished; run the same command with --resume to start {values.out} again"
    return (
        f"epoch {epoch} is the last checkpoint, in {state.parent}; run the same command with --resume "
        "to continue from there"
    )


COMMAND = Command(
    "tflnlu-train",
    "tflnlu-train [--data=PATH --format=FMT] [--out=DIR] [--resume | --overwrite] [model and training flags]",
    define_flags,
    main,
    on_interrupt=interrupted,
)
