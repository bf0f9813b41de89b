"""`tflnlu-train`: train a joint intent + slot model with a compressed embedding.

    tflnlu-train                                   # the built-in Home Assistant data set
    tflnlu-train --data=../shared/data/hwu64 --format=massive --embedding=dpq \\
                 --dpq_k=16 --dpq_d=32 --out=runs/hwu64

`run()` is the whole job as a plain function (the Python API); `main()` only maps flags to it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from absl import app, flags, logging

from tflnlu.data.example import DataError
from tflnlu.data.load import load_data
from tflnlu.data.readers import FORMATS
from tflnlu.models.config import DPQ_VARIANTS, EMBEDDINGS, POOLINGS, ModelConfig
from tflnlu.train.metrics import format_slot_f1
from tflnlu.train.trainer import RunDirectoryError, TrainConfig, train

DEFAULT_OUT = "runs/default"

FLAGS = flags.FLAGS
flags.DEFINE_string(
    "data",
    None,
    "Data set: a directory (one file per split) or a file. "
    "Omit to train on the built-in Home Assistant intents.",
)
flags.DEFINE_enum("format", "massive", FORMATS, "Format of --data.")
flags.DEFINE_list("languages", ["en"], "Languages of the built-in data set (used without --data).")
flags.DEFINE_enum(
    "clinc_oos", "label", ["label", "drop"], "CLINC150 out-of-scope: its own intent, or left out."
)
flags.DEFINE_bool("skip_bad_rows", False, "Skip malformed rows (and report how many) instead of failing.")
flags.DEFINE_string("out", DEFAULT_OUT, "Run directory to write.")
flags.DEFINE_bool("resume", False, "Continue an interrupted run in --out from its last finished epoch.")
flags.DEFINE_bool("overwrite", False, "Replace an existing --out.")
flags.DEFINE_enum("embedding", "dpq", EMBEDDINGS, "Embedding: 'full' fp32 table or task-aware 'dpq'.")
flags.DEFINE_integer("embed_dim", ModelConfig.embed_dim, "Embedding width d.", lower_bound=1)
flags.DEFINE_integer("dpq_k", ModelConfig.dpq_k, "DPQ codes per group (K).", lower_bound=2, upper_bound=256)
flags.DEFINE_integer("dpq_d", ModelConfig.dpq_d, "DPQ groups (D); must divide --embed_dim.", lower_bound=1)
flags.DEFINE_enum("dpq_variant", ModelConfig.dpq_variant, DPQ_VARIANTS, "DPQ variant: softmax (sx) or VQ.")
flags.DEFINE_bool("dpq_shared", ModelConfig.dpq_shared, "SX only: one matrix for keys and values.")
flags.DEFINE_integer("width", ModelConfig.width, "Encoder channels.", lower_bound=1)
flags.DEFINE_list("dilations", [str(d) for d in ModelConfig.dilations], "Dilation of each encoder block.")
flags.DEFINE_enum(
    "pooling", ModelConfig.pooling, POOLINGS, "Intent features: max over tokens, or max and mean."
)
flags.DEFINE_integer("kernel", ModelConfig.kernel, "Token window of each encoder block.", lower_bound=1)
flags.DEFINE_float("dropout", ModelConfig.dropout, "Dropout rate.", lower_bound=0.0, upper_bound=0.95)
flags.DEFINE_integer(
    "max_len", ModelConfig.max_len, "Tokens per utterance (longer ones are cut).", lower_bound=1
)
flags.DEFINE_integer("epochs", TrainConfig.epochs, "Maximum epochs.", lower_bound=1)
flags.DEFINE_integer("batch_size", TrainConfig.batch_size, "Batch size.", lower_bound=1)
flags.DEFINE_float("learning_rate", TrainConfig.learning_rate, "Adam learning rate.", lower_bound=0.0)
flags.DEFINE_integer(
    "patience", TrainConfig.patience, "Stop after this many epochs without dev gain.", lower_bound=1
)
flags.DEFINE_integer("seed", TrainConfig.seed, "Random seed.")
flags.DEFINE_integer("min_count", TrainConfig.min_count, "Minimum count of a vocabulary word.", lower_bound=1)
flags.DEFINE_integer("max_vocab", None, "Maximum vocabulary size, special tokens included.", lower_bound=3)
flags.DEFINE_float(
    "unk_rate", TrainConfig.unk_rate, "Training tokens replaced by <unk>.", lower_bound=0.0, upper_bound=0.9
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
)
_TRAIN_FLAGS = (
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
    train_config = TrainConfig(**(train_options or {}))
    ModelConfig(vocab_size=1, num_intents=1, num_tags=1, **(model_options or {}))  # fail fast on bad options
    splits, info = load_data(data, fmt, list(languages), clinc_oos, skip_bad_rows, log)
    log(", ".join(f"{name} {len(examples)}" for name, examples in splits.items()) + " examples")
    result = train(splits, Path(out), model_options, train_config, info, resume, overwrite, log)
    log(format_metrics(result))
    log(f"run written to {out}")
    return result


def format_metrics(result: dict) -> str:
    lines = [f"{'split':<6} {'intent acc':>10} {'slot F1':>8} {'exact':>7} {'n':>6}"]
    for name, m in result["splits"].items():
        slot = format_slot_f1(m)
        lines.append(
            f"{name:<6} {m['intent_accuracy']:>10.4f} {slot:>8} {m['exact_match']:>7.4f} {m['examples']:>6}"
        )
    sizes = result["sizes"]
    lines.append(
        f"embedding {sizes['embedding']['bytes']:,} bytes, rest {sizes['rest']['parameters']:,} parameters "
        f"({sizes['rest']['bytes']:,} bytes fp32)"
    )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    logging.set_verbosity(logging.WARNING)  # TensorFlow's checkpoint chatter would drown the progress lines
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    model_options = {name: getattr(FLAGS, name) for name in _MODEL_FLAGS}
    try:
        model_options["dilations"] = tuple(int(d) for d in FLAGS.dilations)
    except ValueError:
        raise app.UsageError(f"--dilations must be integers, got {FLAGS.dilations}") from None
    try:
        run(
            FLAGS.data,
            FLAGS.format,
            FLAGS.out,
            FLAGS.languages,
            FLAGS.clinc_oos,
            FLAGS.skip_bad_rows,
            FLAGS.resume,
            FLAGS.overwrite,
            model_options,
            {name: getattr(FLAGS, name) for name in _TRAIN_FLAGS},
        )
    except (DataError, RunDirectoryError, ValueError, FileNotFoundError) as e:
        print(f"tflnlu-train: error: {e}", file=sys.stderr)
        return 2
    return 0


def entry_point() -> None:
    app.run(main)
