"""The single import point for TensorFlow and Keras 2 inside tflnlu.

Importing `tflnlu` (the package) has already set TF_USE_LEGACY_KERAS=1; this module checks
that the switch took effect, so a user who imported TensorFlow with Keras 3 first gets a clear
error instead of a model that tfmot cannot quantize. TensorFlow is an extra (`tflnlu[train]`):
without it this import raises MissingTensorFlow saying how to install it. Its native start-up
lines are captured (tflnlu.quiet) unless the command runs with --verbose.
"""

from tflnlu.extras import TRAIN_EXTRA_HINT
from tflnlu.quiet import native_stderr_captured


class MissingTensorFlow(ImportError):
    pass


try:
    with native_stderr_captured():
        import tensorflow as tf
        import tf_keras as keras

        tf.config.list_physical_devices()  # the CUDA probe (and its cuInit error) happens here
except ImportError as e:
    if e.name not in ("tensorflow", "tf_keras"):
        raise
    raise MissingTensorFlow(TRAIN_EXTRA_HINT, name=e.name) from e

import tflnlu  # noqa: E402, F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)

if not tf.keras.__name__.startswith("tf_keras"):
    raise ImportError(
        "TensorFlow was imported with Keras 3 before tflnlu. Import tflnlu first, or set "
        "TF_USE_LEGACY_KERAS=1 in the environment before importing TensorFlow."
    )

tf.get_logger().setLevel("ERROR")  # checkpoint and tracing chatter would drown the progress lines

__all__ = ["tf", "keras", "MissingTensorFlow"]
