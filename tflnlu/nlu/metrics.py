"""NLU metrics: intent accuracy, slot span F1 (exact span + type, seqeval-style), exact match."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tflnlu.data.example import bio_spans


def span_f1(
    gold: Sequence[set], pred: Sequence[set], keep: Callable[[int, tuple], bool] | None = None
) -> tuple[float, float, float, int]:
    """Micro-averaged precision, recall, F1 and gold count over the spans `keep(row, span)`
    accepts (all when None)."""
    tp = n_gold = n_pred = 0
    for row, (gold_spans, pred_spans) in enumerate(zip(gold, pred, strict=True)):
        if keep is not None:
            gold_spans = {s for s in gold_spans if keep(row, s)}
            pred_spans = {s for s in pred_spans if keep(row, s)}
        tp += len(gold_spans & pred_spans)
        n_gold += len(gold_spans)
        n_pred += len(pred_spans)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, n_gold


def unseen_span_metrics(
    gold: Sequence[set], pred: Sequence[set], tokens: Sequence[Sequence[str]], seen_words: frozenset[str]
) -> dict:
    """Slot F1 on the spans (gold and predicted alike) that contain a word the training split
    never had: where slot values a model must read from their context, or from their
    characters, live. `unseen_slot_spans` counts the gold ones."""

    def has_unseen_word(row: int, span: tuple) -> bool:
        start, end, _ = span
        return any(word not in seen_words for word in tokens[row][start:end])

    precision, recall, f1, n_gold = span_f1(gold, pred, has_unseen_word)
    return {
        "unseen_slot_f1": f1 if n_gold else None,
        "unseen_slot_precision": precision if n_gold else None,
        "unseen_slot_recall": recall if n_gold else None,
        "unseen_slot_spans": n_gold,
    }


def nlu_metrics(
    gold_intents: Sequence[str],
    pred_intents: Sequence[str],
    gold_tags: Sequence[Sequence[str]],
    pred_tags: Sequence[Sequence[str]],
    *,
    tokens: Sequence[Sequence[str]] | None = None,
    seen_words: frozenset[str] | None = None,
) -> dict[str, float]:
    """Micro-averaged span F1 over all utterances; exact match needs the intent and every span.

    When the data has no slots at all (intent-only data), slot_f1 is reported as None. With the
    utterances' `tokens` and the training split's `seen_words`, also unseen_span_metrics.
    """
    if not (len(gold_intents) == len(pred_intents) == len(gold_tags) == len(pred_tags)):
        raise ValueError("gold and predicted sequences differ in length")
    n = len(gold_intents)
    gold = [bio_spans(t) for t in gold_tags]
    pred = [bio_spans(t) for t in pred_tags]
    correct_intents = sum(g == p for g, p in zip(gold_intents, pred_intents, strict=True))
    exact = sum(
        gi == pi and gs == ps for gi, pi, gs, ps in zip(gold_intents, pred_intents, gold, pred, strict=True)
    )
    precision, recall, f1, n_gold = span_f1(gold, pred)
    metrics = {
        "intent_accuracy": correct_intents / n if n else 0.0,
        "slot_f1": f1 if n_gold else None,
        "slot_precision": precision if n_gold else None,
        "slot_recall": recall if n_gold else None,
        "exact_match": exact / n if n else 0.0,
        "examples": n,
    }
    if seen_words is not None and tokens is not None and n_gold:
        metrics.update(unseen_span_metrics(gold, pred, tokens, seen_words))
    return metrics


def dev_score(metrics: dict[str, float]) -> float:
    """The single number early stopping maximises: mean of intent accuracy and slot F1."""
    if metrics["slot_f1"] is None:
        return metrics["intent_accuracy"]
    return (metrics["intent_accuracy"] + metrics["slot_f1"]) / 2


def format_slot_f1(metrics: dict) -> str:
    return "n/a" if metrics["slot_f1"] is None else f"{metrics['slot_f1']:.4f}"


def summary(metrics: dict) -> str:
    """One line: intent accuracy, slot F1 and exact match."""
    unseen = metrics.get("unseen_slot_f1")
    return (
        f"intent {metrics['intent_accuracy']:.4f}  slot F1 {format_slot_f1(metrics)}  "
        + (f"(unseen-word spans {unseen:.4f})  " if unseen is not None else "")
        + f"exact {metrics['exact_match']:.4f}"
    )
