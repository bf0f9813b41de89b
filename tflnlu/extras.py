"""What each optional part of tflnlu needs installed, and what to tell a user who lacks it.

The deploy side (Parser, tflnlu-predict, -eval, -size) needs numpy and LiteRT only; training
and export need the `train` extra (TensorFlow, tf-keras, tfmot, the TFLite-Micro wheel)."""

from __future__ import annotations

TRAIN_MODULES = ("tensorflow", "tf_keras", "tensorflow_model_optimization", "tflite_micro", "optuna")
TRAIN_EXTRA_HINT = (
    "training and export need TensorFlow, which is not installed: pip install 'tflnlu[train]' "
    "(tflnlu-predict, tflnlu-eval and tflnlu-size work without it)"
)


def missing_extra(error: BaseException) -> str | None:
    """The install hint when `error` is the import of a train-extra module failing, else None."""
    if isinstance(error, ImportError) and error.name in TRAIN_MODULES:
        return (
            TRAIN_EXTRA_HINT
            if error.name in ("tensorflow", "tf_keras")
            else (f"{error.name} is not installed: pip install 'tflnlu[train]'")
        )
    return None
