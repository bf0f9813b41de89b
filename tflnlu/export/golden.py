"""Golden file: utterances -> tokens -> ids -> (raw int8 outputs) -> decoded intent and slots.

Written by `tflnlu-export` through the `Parser` on the exported .tflite itself, so the
Android demo's Java code proves, utterance by utterance, that it tokenizes, looks up and pads
exactly as Python does (every record), and decodes raw scores exactly as Python does (the
records that carry them); the Python tests run the Parser on the file (builtin or custom op)
against the same records. One JSON object per line. Raw scores are kept for a sample only
(every RAW_EVERY-th record and the edge cases), and slot scores for the real tokens only:
on HWU64 that is about 0.5 MB instead of 27 MB, with the same proof for decoding.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from tflnlu.data.example import bio_spans
from tflnlu.data.tokenizer import split_normalized
from tflnlu.io import write_text_atomic
from tflnlu.runtime.parser import Analysis, Parser

GOLDEN_MIN_RECORDS = 1000  # the test split, then dev utterances until there are this many
RAW_EVERY = 10  # raw scores for every 10th record (and every edge case)

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


def golden_record(analysis: Analysis, with_raw: bool) -> dict:
    """One utterance: tokens, ids, decoded intent, tags and slots (token spans and normalized
    text, as the Java core reports them; `spans` in the original text, as the Parser does), and
    with `with_raw` the raw int8 scores (slot rows of the real tokens only)."""
    parse = analysis.parse
    tokens = analysis.token_spans
    record = {
        "text": parse.text,
        "tokens": [t.text for t in split_normalized(analysis.normalized)],  # all, as the Java tokenizer gives
        "ids": analysis.ids.tolist(),
        "intent": parse.intent,
        "tags": list(parse.tags),
        "slots": [
            {
                "type": kind,
                "start": start,
                "end": end,
                "text": analysis.normalized[tokens[start][0] : tokens[end - 1][1]],
            }
            for start, end, kind in sorted(bio_spans(parse.tags))
        ],
        "spans": [{"type": s.type, "start": s.start, "end": s.end, "text": s.text} for s in parse.slots],
    }
    if with_raw and analysis.raw is not None:
        record["intent_raw"] = analysis.raw[0].tolist()
        record["slots_raw"] = analysis.raw[1][: len(tokens)].tolist()
    return record


def golden_records(texts: Sequence[str], parser: Parser, raw_every: int = RAW_EVERY) -> list[dict]:
    """Records of `texts`; raw scores for every `raw_every`-th one and for the edge cases."""
    edge = set(EDGE_CASES)
    return [
        golden_record(parser.analyze(text), with_raw=i % raw_every == 0 or text in edge)
        for i, text in enumerate(texts)
    ]


def golden_texts(test: Sequence[str], dev: Sequence[str]) -> list[str]:
    """The test split and the edge cases, topped up with dev utterances to GOLDEN_MIN_RECORDS."""
    missing = max(0, GOLDEN_MIN_RECORDS - len(test) - len(EDGE_CASES))
    return [*test, *dev[:missing], *EDGE_CASES]


def write_golden(path: Path, texts: Sequence[str], parser: Parser) -> int:
    records = golden_records(texts, parser)
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return len(records)
