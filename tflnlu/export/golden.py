"""Golden file: utterances -> tokens -> ids -> raw int8 outputs -> decoded intent and slots.

Written by `tflnlu-export` from the exported .tflite itself, so the Android demo's Java code
can prove, utterance by utterance, that it tokenizes, looks up, pads and decodes exactly as
Python does. One JSON object per line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tflnlu.data.example import bio_spans
from tflnlu.data.tokenizer import normalize, split_normalized
from tflnlu.data.vocab import Vocabulary
from tflnlu.io import write_text_atomic
from tflnlu.nlu.decoding import viterbi_bio
from tflnlu.nlu.encode import LabelSet
from tflnlu.runtime.litert import LiteRTModel

GOLDEN_FILE = "golden.jsonl"
GOLDEN_MIN_RECORDS = 1000  # the test split, then dev utterances until there are this many

# Inputs where on-device NLU usually goes wrong, next to the test split's utterances.
EDGE_CASES = (
    "",
    "   ",
    "Ça va? Crème brûlée à São Paulo",
    "what's the weather… in New York?!?",
    "don\u2019t wake me before 6:30am",
    "set an alarm for 07.45 on 12/24",
    "play \u201cBohemian Rhapsody\u201d by QUEEN",
    "tell me a joke 😀😀",
    "東京の天気は",
    "xyzzyq plugh frobnicate",
    "e\u0301te\u0301 \ufb01nal \u2460",
    "wake " * 40,
    "!!!???...",
    "\u200bzero\u200bwidth\u200bspaces",
    "ΣΊΣΥΦΟΣ ΟΔΟΣ",
    "İstanbul ıi",
)


def golden_records(
    texts: Sequence[str], model: LiteRTModel, vocab: Vocabulary, labels: LabelSet
) -> list[dict]:
    records = []
    for text in texts:
        normalized = normalize(text)
        tokens = split_normalized(normalized)
        ids = np.array(vocab.ids([t.text for t in tokens], model.max_len), np.int32)
        raw = model.raw_one(ids)
        n = min(len(tokens), model.max_len)
        # Decoded from the raw int8 scores: the best path and the argmax do not change under
        # dequantization (a positive scale) or log-softmax (a shift per token), and integer
        # scores make the decoding exact, so Java reproduces it with no float rounding questions.
        tag_ids = viterbi_bio(raw[1][:n].astype(np.float64), labels.tags)
        tags = [labels.tags[t] for t in tag_ids]
        slots = [
            {
                "type": kind,
                "start": start,
                "end": end,
                "text": normalized[tokens[start].start : tokens[end - 1].end],
            }
            for start, end, kind in sorted(bio_spans(tags))
        ]
        records.append(
            {
                "text": text,
                "tokens": [t.text for t in tokens],
                "ids": ids.tolist(),
                "intent_raw": raw[0].tolist(),
                "slots_raw": raw[1].tolist(),
                "intent": labels.intents[int(raw[0].argmax())],
                "tags": tags,
                "slots": slots,
            }
        )
    return records


def golden_texts(test: Sequence[str], dev: Sequence[str]) -> list[str]:
    """The test split and the edge cases, topped up with dev utterances to GOLDEN_MIN_RECORDS."""
    missing = max(0, GOLDEN_MIN_RECORDS - len(test) - len(EDGE_CASES))
    return [*test, *dev[:missing], *EDGE_CASES]


def write_golden(
    path: Path, texts: Sequence[str], model: LiteRTModel, vocab: Vocabulary, labels: LabelSet
) -> int:
    records = golden_records(texts, model, vocab, labels)
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return len(records)
