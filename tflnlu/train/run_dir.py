"""The run directory `tflnlu-train` writes and `tflnlu-export` reads.

config.json       model, training and data settings, tokenizer version, tflnlu version
vocab.txt         token of id i on line i
intents.txt, tags.txt, domains.txt   label lists, index i on line i
weights.h5        the best weights (by dev score)
metrics.json      per split: intent accuracy, slot F1, exact match; sizes; timing
history.json      per epoch: loss, dev metrics, seconds
checkpoint/       the resumable training state (last finished epoch)

Reading the settings needs no TensorFlow (the CLIs check a run before importing it);
loading the model does.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tflnlu.data.vocab import VOCAB_FILE, Vocabulary
from tflnlu.io import file_mode
from tflnlu.models.config import ModelConfig
from tflnlu.nlu.encode import LabelSet
from tflnlu.outputs import OutputKind, remove_owned

if TYPE_CHECKING:
    from tflnlu.tf import keras

CONFIG = "config.json"
VOCAB = VOCAB_FILE
WEIGHTS = "weights.h5"  # Keras 2 HDF5 weights (a ".weights.h5" name would select Keras 3 format)
METRICS = "metrics.json"
HISTORY = "history.json"
CHECKPOINT_DIR = "checkpoint"
CHECKPOINT_STATE = "state.json"  # inside CHECKPOINT_DIR, written after the checkpoint itself

# What a run directory may hold: written first, config.json marks a directory as a run.
RUN = OutputKind(
    "run",
    marker=CONFIG,
    entries=frozenset({CONFIG, VOCAB, WEIGHTS, METRICS, HISTORY, CHECKPOINT_DIR, *LabelSet.FILES.values()}),
    resumable=True,
)


class RunDirectoryError(ValueError):
    """A run directory that is missing, incomplete or damaged; the message says what to do."""


def save_weights_atomic(model: keras.Model, path: Path) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".h5")
    os.close(fd)
    try:
        model.save_weights(tmp)
        os.chmod(tmp, file_mode())
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


def remove_run_files(directory: Path) -> None:
    """Delete an earlier run's own files before --overwrite trains a new one in its place."""
    remove_owned(directory, RUN)


def read_config(directory: Path) -> dict:
    """config.json of a run, checked to be one (RunDirectoryError naming the file otherwise)."""
    path = Path(directory) / CONFIG
    if Path(directory).is_file():
        raise RunDirectoryError(f"{directory} is a file: --run takes the directory tflnlu-train wrote")
    if not path.is_file():
        raise RunDirectoryError(f"{directory} is not a tflnlu run: it has no {CONFIG}")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunDirectoryError(f"{path} is damaged (not JSON: {e}); train the run again") from None
    if not isinstance(config, dict) or not isinstance(config.get("model"), dict):
        raise RunDirectoryError(f"{path} is damaged: no 'model' settings; train the run again")
    return config


def load_run(directory: Path) -> Run:
    """The run's best model and everything needed to use it; a missing or damaged file raises
    RunDirectoryError naming it (never a KeyError or an h5py OSError)."""
    directory = Path(directory)
    config = read_config(directory)
    missing = [n for n in (VOCAB, WEIGHTS, *LabelSet.FILES.values()) if not (directory / n).is_file()]
    if missing:
        raise RunDirectoryError(
            f"{directory} is not a finished tflnlu run: missing {', '.join(missing)} "
            "(an interrupted run: continue it with tflnlu-train --resume)"
        )
    try:
        model_config = ModelConfig.from_dict(config["model"])
        vocab, labels = Vocabulary.load(directory / VOCAB), LabelSet.load(directory)
    except (ValueError, TypeError, UnicodeDecodeError) as e:
        raise RunDirectoryError(f"{directory} is damaged: {e}; train the run again") from None
    expected = (model_config.vocab_size, model_config.num_intents, model_config.num_tags)
    if (len(vocab), len(labels.intents), len(labels.tags)) != expected:
        raise RunDirectoryError(
            f"{directory} is damaged: vocab.txt, intents.txt or tags.txt do not match the sizes in "
            f"{CONFIG} (vocabulary, intents, tags {expected}); train the run again"
        )
    from tflnlu.models.joint import build_model  # TensorFlow: only when a model is loaded

    model = build_model(model_config)
    try:
        model.load_weights(str(directory / WEIGHTS))
    except (OSError, ValueError, KeyError) as e:
        raise RunDirectoryError(
            f"{directory / WEIGHTS} is damaged or truncated ({type(e).__name__}: {str(e).splitlines()[0]}); "
            "train the run again"
        ) from None
    return Run(directory, config, model_config, vocab=vocab, labels=labels, model=model)
