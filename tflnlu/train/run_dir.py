"""The run directory `tflnlu-train` writes and `tflnlu-export` reads.

config.json       model, training and data settings, tokenizer version, tflnlu version
vocab.txt         token of id i on line i
intents.txt, tags.txt, domains.txt   label lists, index i on line i
weights.h5        the best weights (by dev score)
metrics.json      per split: intent accuracy, slot F1, exact match; sizes; timing
history.json      per epoch: loss, dev metrics, seconds
checkpoint/       the resumable training state (last finished epoch)
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tflnlu.data.vocab import Vocabulary
from tflnlu.models.config import ModelConfig
from tflnlu.models.joint import build_model
from tflnlu.tf import keras
from tflnlu.train.encode import LabelSet

CONFIG = "config.json"
VOCAB = "vocab.txt"
WEIGHTS = "weights.h5"  # Keras 2 HDF5 weights (a ".weights.h5" name would select Keras 3 format)
METRICS = "metrics.json"
HISTORY = "history.json"
CHECKPOINT_DIR = "checkpoint"


def save_weights_atomic(model: keras.Model, path: Path) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".h5")
    os.close(fd)
    try:
        model.save_weights(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class Run:
    """A trained run loaded back: its model (best weights), vocabulary, labels and config."""

    directory: Path
    config: dict
    model_config: ModelConfig
    vocab: Vocabulary
    labels: LabelSet
    model: keras.Model


def load_run(directory: Path) -> Run:
    directory = Path(directory)
    missing = [n for n in (CONFIG, VOCAB, WEIGHTS) if not (directory / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{directory} is not a finished tflnlu run: missing {', '.join(missing)}")
    config = json.loads((directory / CONFIG).read_text(encoding="utf-8"))
    model_config = ModelConfig.from_dict(config["model"])
    model = build_model(model_config)
    model.load_weights(str(directory / WEIGHTS))
    return Run(
        directory, config, model_config, Vocabulary.load(directory / VOCAB), LabelSet.load(directory), model
    )
