"""NLU metrics: intent accuracy, slot span F1 (exact span + type, seqeval-style), exact match."""

from __future__ import annotations

from collections.abc import Sequence

from tflnlu.data.example import bio_spans


def nlu_metrics(
    gold_intents: Sequence[str],
    pred_intents: Sequence[str],
    gold_tags: Sequence[Sequence[str]],
    pred_tags: Sequence[Sequence[str]],
) -> dict[str, float]:
    """Micro-averaged span F1 over all utterances; exact match needs the intent and every span.

    When the data has no slots at all (intent-only data), slot_f1 is reported as None.
    """
    if not (len(gold_intents) == len(pred_intents) == len(gold_tags) == len(pred_tags)):
        raise ValueError("gold and predicted sequences differ in length")
    n = len(gold_intents)
    correct_intents = tp = n_gold = n_pred = exact = 0
    for gi, pi, gt, pt in zip(gold_intents, pred_intents, gold_tags, pred_tags, strict=True):
        gold_spans, pred_spans = bio_spans(gt), bio_spans(pt)
        tp += len(gold_spans & pred_spans)
        n_gold += len(gold_spans)
        n_pred += len(pred_spans)
        correct_intents += gi == pi
        exact += gi == pi and gold_spans == pred_spans
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "intent_accuracy": correct_intents / n if n else 0.0,
        "slot_f1": f1 if n_gold else None,
        "slot_precision": precision if n_gold else None,
        "slot_recall": recall if n_gold else None,
        "exact_match": exact / n if n else 0.0,
        "examples": n,
    }


def dev_score(metrics: dict[str, float]) -> float:
    """The single number early stopping maximises: mean of intent accuracy and slot F1."""
    if metrics["slot_f1"] is None:
        return metrics["intent_accuracy"]
    return (metrics["intent_accuracy"] + metrics["slot_f1"]) / 2


def format_slot_f1(metrics: dict) -> str:
    return "n/a" if metrics["slot_f1"] is None else f"{metrics['slot_f1']:.4f}"


def summary(metrics: dict) -> str:
    """One line: intent accuracy, slot F1 and exact match."""
    return (
        f"intent {metrics['intent_accuracy']:.4f}  slot F1 {format_slot_f1(metrics)}  "
        f"exact {metrics['exact_match']:.4f}"
    )
