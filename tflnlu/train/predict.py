"""A Keras joint model as a `Predictor` (tflnlu.nlu.scoring): batched, traced once."""

from __future__ import annotations

import numpy as np

from tflnlu.models.joint import INTENT_OUTPUT, SLOTS_OUTPUT
from tflnlu.nlu.scoring import Predictor
from tflnlu.tf import keras, tf


def keras_predictor(model: keras.Model, batch_size: int = 256) -> Predictor:
    @tf.function(reduce_retracing=True)
    def forward(ids):
        out = model(ids, training=False)
        return out[INTENT_OUTPUT], out[SLOTS_OUTPUT]

    def predict(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parts = [forward(tf.constant(ids[i : i + batch_size])) for i in range(0, len(ids), batch_size)]
        return (
            np.concatenate([p[0].numpy() for p in parts]),
            np.concatenate([p[1].numpy() for p in parts]),
        )

    return predict
