"""The external peer: fastText 0.9.3 supervised classification, plain and quantized (.ftz).

fastText.zip (Joulin et al., 2016) is the task-agnostic product quantization recipe for text
classifiers; `quantize -qnorm -retrain -cutoff N` keeps the N most important words/n-grams.
Intent only: fastText has no slot filling. Text goes in through tflnlu's tokenizer, joined by
spaces, so both models see the same tokens.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from tflnlu.data.tokenizer import tokenize

LABEL_PREFIX = "__label__"
# As the shared data README's reference numbers: dim 100, word bigrams, 50 epochs.
SETTINGS = {"epoch": 50, "lr": 0.1, "wordNgrams": 2, "dim": 100, "minCount": 1, "thread": 1, "verbose": 0}
# fastText's character n-grams (its -minn/-maxn; supervised mode defaults to none).
SUBWORD_SETTINGS = {"minn": 3, "maxn": 5}
PLAIN = "fasttext"
WITH_SUBWORDS = "fasttext_minn3_maxn5"
FILE_STEMS = {PLAIN: "model", WITH_SUBWORDS: "model_minn3_maxn5"}  # in the bench's fasttext/ folder


def _write(examples, path: Path) -> None:
    lines = [f"{LABEL_PREFIX}{e.intent} {' '.join(tokenize(e.text))}\n" for e in examples if e.intent]
    path.write_text("".join(lines), encoding="utf-8")


def run_fasttext(splits: dict, cutoffs=(1000, 2000, 5000), work: Path | None = None) -> dict[str, dict]:
    """Rows for the plain model and each quantized cutoff, without and with fastText's own
    character n-grams (`-minn 3 -maxn 5`, the peer of `tflnlu-train --subwords=3-5`): .bin/.ftz
    bytes, test intent accuracy, per-utterance latency, training seconds."""
    work = Path(work or tempfile.mkdtemp(prefix="tflnlu-fasttext-"))
    work.mkdir(parents=True, exist_ok=True)
    train_file = work / "train.txt"
    _write(splits["train"], train_file)
    test = [e for e in splits["test"] if e.intent]
    rows = {}
    for name, settings in ((PLAIN, SETTINGS), (WITH_SUBWORDS, {**SETTINGS, **SUBWORD_SETTINGS})):
        rows.update(_train_and_quantize(name, settings, train_file, test, cutoffs=cutoffs, work=work))
    return rows


def _train_and_quantize(name: str, settings: dict, train_file: Path, test, *, cutoffs, work: Path) -> dict:
    """The row `name` (the plain model) and `name`_ftz_cutoff`N` for each cutoff."""
    import fasttext

    texts = [" ".join(tokenize(e.text)) for e in test]
    started = time.monotonic()
    model = fasttext.train_supervised(input=str(train_file), **settings)
    train_seconds = time.monotonic() - started
    stem = FILE_STEMS[name]
    plain = work / f"{stem}.bin"
    rows = {name: _measure(model, plain, texts, test, seconds=train_seconds)}
    for cutoff in cutoffs:
        model = fasttext.load_model(str(plain))  # quantize works in place: start from the plain model
        started = time.monotonic()
        model.quantize(input=str(train_file), qnorm=True, retrain=True, cutoff=cutoff, thread=1)
        rows[f"{name}_ftz_cutoff{cutoff}"] = _measure(
            model,
            work / f"{stem}_cutoff{cutoff}.ftz",
            texts,
            test,
            seconds=train_seconds + time.monotonic() - started,
        )
    return rows


def _measure(model, path: Path, texts, test, *, seconds: float) -> dict:
    model.save_model(str(path))
    latencies, correct = [], 0
    for text, example in zip(texts, test, strict=True):
        started = time.perf_counter()
        # The binding's own predict: fastText 0.9.3's Python wrapper calls
        # np.array(copy=False), which numpy 2 rejects.
        ((_, label),) = model.f.predict(text + "\n", 1, 0.0, "strict")
        latencies.append(time.perf_counter() - started)
        correct += label == LABEL_PREFIX + example.intent
    return {
        "file_bytes": path.stat().st_size,
        "test": {
            "intent_accuracy": correct / len(test),
            "slot_f1": None,
            "exact_match": None,
            "examples": len(test),
        },
        "latency_ms": float(np.median(latencies) * 1000),
        "train_seconds": seconds,
    }
