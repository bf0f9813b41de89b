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

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tflnlu.data.vocab import VOCAB_FILE, Vocabulary
from tflnlu.io import file_mode, write_json_atomic
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
CHECKSUMS = "checksums.json"  # sha256 of the finished run's files, checked when it is loaded

# What a run directory may hold: written first, config.json marks a directory as a run.
# checkpoint/ holds tf.train.Checkpoint's files of one epoch and the state written after them.
CHECKPOINT = OutputKind(
    "checkpoint",
    marker=CHECKPOINT_STATE,
    entries=frozenset({CHECKPOINT_STATE}),
    patterns=(r"epoch-\d+\.index", r"epoch-\d+\.data-\d{5}-of-\d{5}", r"epoch-\d+_temp\w*"),
    children_any=(r"epoch-\d+_temp\w*",),  # TensorFlow's own temporaries of a killed write
)
RUN = OutputKind(
    "run",
    marker=CONFIG,
    entries=frozenset(
        {CONFIG, VOCAB, WEIGHTS, METRICS, HISTORY, CHECKSUMS, CHECKPOINT_DIR, *LabelSet.FILES.values()}
    ),
    resumable=True,
    children={CHECKPOINT_DIR: CHECKPOINT},
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


# The files of a finished run its checksums cover: config, vocabulary, labels, weights.
CHECKED_FILES = (CONFIG, VOCAB, WEIGHTS, *LabelSet.FILES.values())


def write_checksums(directory: Path) -> None:
    """sha256 of the finished run's files (checksums.json): a damaged run is found on load."""
    digests = {name: _sha256(Path(directory) / name) for name in CHECKED_FILES}
    write_json_atomic(Path(directory) / CHECKSUMS, digests)


def verify_checksums(directory: Path) -> None:
    """RunDirectoryError naming the first file whose contents changed since training ended
    (runs without checksums.json, older or unfinished, are not checked)."""
    path = Path(directory) / CHECKSUMS
    if not path.is_file():
        return
    try:
        digests = json.loads(path.read_text(encoding="utf-8"))
        expected = {name: digests[name] for name in CHECKED_FILES}
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        raise RunDirectoryError(f"{path} is damaged ({e}); train the run again") from None
    for name, digest in expected.items():
        if _sha256(Path(directory) / name) != digest:
            raise RunDirectoryError(
                f"{Path(directory) / name} changed since the run was trained (its checksum in {CHECKSUMS} "
                "differs): the run is damaged; train it again"
            )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_config(directory: Path) -> dict:
    """config.json of a run, checked to be one (RunDirectoryError naming the file otherwise)."""
    path = Path(directory) / CONFIG
    if Path(directory).is_file():
        raise RunDirectoryError(f"{directory} is a file: --run takes the directory tflnlu-train wrote")
    if not Path(directory).exists():
        raise RunDirectoryError(
            f"{directory}: no such directory (--run takes the directory tflnlu-train wrote)"
        )
    if not path.is_file():
        raise RunDirectoryError(f"{directory} is not a tflnlu run: it has no {CONFIG}")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunDirectoryError(f"{path} is damaged (not JSON: {e}); train the run again") from None
    if not isinstance(config, dict) or not isinstance(config.get("model"), dict):
        raise RunDirectoryError(f"{path} is damaged: no 'model' settings; train the run again")
    for section in ("train", "data", "tokenizer"):
        if not isinstance(config.get(section, {}), dict):
            raise RunDirectoryError(f"{path} is damaged: '{section}' is not an object; train the run again")
    source = config.get("data", {}).get("source")
    if source is not None and not isinstance(source, str):
        raise RunDirectoryError(
            f"{path} is damaged: 'data.source' is not a path; pass --data, or train again"
        )
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
    verify_checksums(directory)
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
