"""Run a Keras joint model over examples and score it (the same decoding the .tflite uses)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tflnlu.data.example import Example
from tflnlu.data.vocab import OUTSIDE_TAG
from tflnlu.models.decoding import log_softmax, viterbi_bio
from tflnlu.models.joint import INTENT_OUTPUT, SLOTS_OUTPUT
from tflnlu.tf import keras, tf
from tflnlu.train.encode import LabelSet, unknown_intents
from tflnlu.train.metrics import nlu_metrics

# ids [N, T] int32 -> (intent logits [N, I], slot logits [N, T, S])
Predictor = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


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


def decode(
    intent_logits: np.ndarray, slot_logits: np.ndarray, lengths: Sequence[int], labels: LabelSet
) -> tuple[list[str], list[list[str]]]:
    """Intent by argmax; tags by constrained BIO Viterbi over the real tokens.

    Tokens cut off by max_len are tagged 'O'.
    """
    intents = [labels.intents[i] for i in intent_logits.argmax(-1)]
    max_len = slot_logits.shape[1]
    log_probs = log_softmax(slot_logits.astype(np.float64))
    tags = [
        [labels.tags[t] for t in viterbi_bio(log_probs[row, : min(n, max_len)], labels.tags)]
        + [OUTSIDE_TAG] * max(0, n - max_len)
        for row, n in enumerate(lengths)
    ]
    return intents, tags


def evaluate(predict: Predictor, ids: np.ndarray, examples: Sequence[Example], labels: LabelSet) -> dict:
    return score_outputs(*predict(ids), examples, labels)


def score_outputs(
    intent_logits: np.ndarray, slot_logits: np.ndarray, examples: Sequence[Example], labels: LabelSet
) -> dict:
    """Metrics of outputs already computed (so they can serve other comparisons too)."""
    intents, tags = decode(intent_logits, slot_logits, [len(e.tokens) for e in examples], labels)
    metrics = nlu_metrics([e.intent for e in examples], intents, [e.tags for e in examples], tags)
    # Utterances the model cannot get right (an intent it was never trained on) are counted
    # wrong in the accuracy and reported here, so a low number can be read for what it is.
    metrics["unknown_intent_examples"] = sum(unknown_intents(examples, labels).values())
    return metrics
