"""The single import point for TensorFlow and Keras 2 inside tflnlu.

Importing `tflnlu` (the package) has already set TF_USE_LEGACY_KERAS=1; this module
checks that the switch took effect, so a user who imported TensorFlow with Keras 3
first gets a clear error instead of a model that tfmot cannot quantize.
"""

import tensorflow as tf
import tf_keras as keras

import tflnlu  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)

if not tf.keras.__name__.startswith("tf_keras"):
    raise ImportError(
        "TensorFlow was imported with Keras 3 before tflnlu. Import tflnlu first, or set "
        "TF_USE_LEGACY_KERAS=1 in the environment before importing TensorFlow."
    )

tf.get_logger().setLevel("ERROR")  # checkpoint and tracing chatter would drown the progress lines

__all__ = ["tf", "keras"]
