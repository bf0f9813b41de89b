"""The one internal example type every reader produces, and how slot spans become BIO tags."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from tflnlu.data.tokenizer import normalize, split_normalized
from tflnlu.data.vocab import OUTSIDE_TAG


class DataError(ValueError):
    """Bad input data, located by file and line so the user can fix it."""

    def __init__(self, path: str, line: int | None, message: str):
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path, self.line, self.reason = str(path), line, message


@dataclass(frozen=True)
class Example:
    text: str
    tokens: tuple[str, ...]
    tags: tuple[str, ...]  # one BIO tag per token
    intent: str
    domain: str | None = None
    language: str | None = None  # set where a data set mixes languages (the built-in one)


# A piece of an utterance: its text and its slot type (None outside slots). A slot span is
# always exactly one piece, so two adjacent spans of one type stay two spans.
Piece = tuple[str, str | None]


def example_from_pieces(
    pieces: Sequence[Piece], intent: str, domain: str | None = None, language: str | None = None
) -> Example:
    """Tokenize the joined text and tag each token by the slot piece it overlaps.

    Pieces are normalized one by one and concatenated, so their character ranges stay known;
    the token split then runs over the whole normalized string exactly as it does at inference.
    Raises ValueError (the reader adds file and line) for an empty utterance or an empty slot.
    """
    normalized, ranges = "", []
    for text, slot in pieces:
        piece = normalize(text)
        ranges.append((len(normalized), len(normalized) + len(piece), slot))
        normalized += piece
    tokens = split_normalized(normalized)
    if not tokens:
        raise ValueError("empty utterance: it has no tokens")
    tags: list[str] = []
    begun: set[int] = set()
    for token in tokens:
        tag = OUTSIDE_TAG
        for index, (start, end, slot) in enumerate(ranges):
            if slot is not None and token.start < end and start < token.end:
                tag = ("I-" if index in begun else "B-") + slot
                begun.add(index)
                break
        tags.append(tag)
    for index, (_, _, slot) in enumerate(ranges):
        if slot is not None and index not in begun:
            raise ValueError(f"slot {slot!r} covers no token")
    text = "".join(text for text, _ in pieces)
    return Example(text, tuple(t.text for t in tokens), tuple(tags), intent, domain=domain, language=language)


def bio_spans(tags: Sequence[str]) -> set[tuple[int, int, str]]:
    """Spans (start, end exclusive, type) of a BIO sequence, seqeval-style: an I- tag that
    does not continue a span of its type starts a new one."""
    spans, start, kind = set(), -1, None
    for i, tag in enumerate([*tags, OUTSIDE_TAG]):
        prefix, _, slot = tag.partition("-")
        continues = prefix == "I" and slot == kind
        if start >= 0 and not continues:
            spans.add((start, i, kind))
            start, kind = -1, None
        if prefix in ("B", "I") and not continues:
            start, kind = i, slot
    return spans


def fingerprint(examples: Sequence[Example]) -> str:
    """sha256 of a split's texts and labels, in order: recorded by the export, compared by
    `tflnlu-eval` before it sets the export's Keras numbers beside its own."""
    digest = hashlib.sha256()
    for e in examples:
        digest.update(json.dumps([e.text, e.intent, e.domain, list(e.tags)], ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()
