"""tflnlu: task-aware compressed joint intent + slot models for on-device NLU.

The Keras 2 API (tf-keras) is required by tensorflow-model-optimization, so the
switch that makes `tf.keras` resolve to tf-keras is set here, the one place that
runs before any tflnlu module imports TensorFlow.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
