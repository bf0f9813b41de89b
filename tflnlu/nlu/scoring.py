"""Model outputs -> intents and BIO tags -> metrics: the decoding every runner of a model shares
(Keras, LiteRT, TFLite-Micro), so their numbers differ only where their outputs do."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tflnlu.data.example import Example
from tflnlu.data.vocab import OUTSIDE_TAG
from tflnlu.nlu.decoding import log_softmax, viterbi_bio
from tflnlu.nlu.encode import LabelSet, unknown_intents
from tflnlu.nlu.metrics import nlu_metrics

# ids [N, T] int32 -> (intent logits [N, I], slot logits [N, T, S])
Predictor = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


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


def seen_words(train: Sequence[Example]) -> frozenset[str]:
    """Every token of the training split (before any vocabulary cut): what "seen in training"
    means for the unseen-span slot F1."""
    return frozenset(token for example in train for token in example.tokens)


def evaluate(
    predict: Predictor,
    ids: np.ndarray,
    examples: Sequence[Example],
    labels: LabelSet,
    *,
    seen: frozenset[str] | None = None,
) -> dict:
    return score_outputs(*predict(ids), examples, labels, seen=seen)


def score_outputs(
    intent_logits: np.ndarray,
    slot_logits: np.ndarray,
    examples: Sequence[Example],
    labels: LabelSet,
    *,
    seen: frozenset[str] | None = None,
) -> dict:
    """Metrics of outputs already computed (so they can serve other comparisons too). With
    `seen` (seen_words of the training split), also the slot F1 on spans with an unseen word."""
    intents, tags = decode(intent_logits, slot_logits, [len(e.tokens) for e in examples], labels)
    metrics = nlu_metrics(
        [e.intent for e in examples],
        intents,
        [e.tags for e in examples],
        tags,
        tokens=[e.tokens for e in examples],
        seen_words=seen,
    )
    # Utterances the model cannot get right (an intent it was never trained on) are counted
    # wrong in the accuracy and reported here, so a low number can be read for what it is.
    metrics["unknown_intent_examples"] = sum(unknown_intents(examples, labels).values())
    by_language = per_language(examples, intents, tags)
    if by_language:
        metrics["by_language"] = by_language
    return metrics


def per_language(examples: Sequence[Example], intents: list[str], tags: list[list[str]]) -> dict:
    """Intent accuracy and slot F1 of each language, for a split that mixes languages (else {}):
    a pooled number can hide one language the model fails."""
    languages = sorted({e.language for e in examples if e.language})
    if len(languages) < 2:
        return {}
    rows: dict[str, list[int]] = {language: [] for language in languages}
    for row, example in enumerate(examples):
        if example.language:
            rows[example.language].append(row)
    result = {}
    for language, chosen in rows.items():
        metrics = nlu_metrics(
            [examples[r].intent for r in chosen],
            [intents[r] for r in chosen],
            [examples[r].tags for r in chosen],
            [tags[r] for r in chosen],
        )
        result[language] = {
            "examples": len(chosen),
            "intent_accuracy": metrics["intent_accuracy"],
            "slot_f1": metrics["slot_f1"],
        }
    return result
