"""Turning slot logits into a valid BIO sequence: constrained Viterbi decoding.

A per-token argmax can emit `I-x` after `O` or after `B-y`, which fragments spans. The
decoder instead picks the most probable tag sequence in which every `I-x` continues a
`B-x` or `I-x`. It runs outside the model (numpy here, plain Java on Android), costs
T x S x S operations, and needs no trained parameters, so the .tflite stays a pure argmax-
free network that returns logits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_FORBIDDEN = -1e9


def allowed_transitions(tags: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(start_allowed [S], transition_allowed [S, S] from -> to) for BIO tags."""
    start = np.array([not t.startswith("I-") for t in tags])
    transition = np.ones((len(tags), len(tags)), bool)
    for j, to in enumerate(tags):
        if to.startswith("I-"):
            transition[:, j] = [frm in (f"B-{to[2:]}", to) for frm in tags]
    return start, transition


def viterbi_bio(log_probs: np.ndarray, tags: Sequence[str]) -> list[int]:
    """Most probable valid tag ids for one utterance: log_probs [T, S] (T real tokens)."""
    if len(log_probs) == 0:
        return []
    start, transition = allowed_transitions(tags)
    penalty = np.where(transition, 0.0, _FORBIDDEN)
    score = log_probs[0] + np.where(start, 0.0, _FORBIDDEN)
    back = np.zeros(log_probs.shape, np.int64)
    for t in range(1, len(log_probs)):
        candidates = score[:, None] + penalty  # [from, to]
        back[t] = candidates.argmax(0)
        score = candidates.max(0) + log_probs[t]
    best = [int(score.argmax())]
    for t in range(len(log_probs) - 1, 0, -1):
        best.append(int(back[t, best[-1]]))
    return best[::-1]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
