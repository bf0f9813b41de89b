"""Examples -> fixed-length integer arrays, and the label sets that define the model's outputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tflnlu.data.example import Example
from tflnlu.data.subwords import SubwordSpec, subword_ids
from tflnlu.data.vocab import OUTSIDE_TAG, Vocabulary, read_lines, save_labels, tag_list

NO_LABEL = -1  # a dev/test label the training split never showed: never predicted


@dataclass(frozen=True)
class LabelSet:
    intents: list[str]
    tags: list[str]  # BIO tags, OUTSIDE_TAG first
    domains: list[str]  # empty when the data has no domains

    @classmethod
    def from_examples(cls, train: Sequence[Example]) -> LabelSet:
        domains = sorted({e.domain for e in train if e.domain})
        if len(domains) < 2 or any(not e.domain for e in train):
            domains = []  # a domain head needs a domain on every example, and two to choose from
        return cls(sorted({e.intent for e in train}), tag_list(e.tags for e in train), domains)

    FILES = {"intents": "intents.txt", "tags": "tags.txt", "domains": "domains.txt"}

    def save(self, directory: Path) -> None:
        for field, name in self.FILES.items():
            save_labels(Path(directory) / name, getattr(self, field))

    @classmethod
    def load(cls, directory: Path) -> LabelSet:
        return cls(**{field: read_lines(Path(directory) / name) for field, name in cls.FILES.items()})


def intent_domains(examples: Sequence[Example]) -> dict[str, str]:
    """Each intent's domain, the most frequent among its examples (ties: the first in name
    order); empty when the data has no domains. Stored in the model file so a parse can name
    the domain without a domain head in the graph."""
    counts: dict[str, dict[str, int]] = {}
    for example in examples:
        if example.domain:
            by_domain = counts.setdefault(example.intent, {})
            by_domain[example.domain] = by_domain.get(example.domain, 0) + 1
    return {intent: min(c, key=lambda d: (-c[d], d)) for intent, c in sorted(counts.items())}


def unknown_intents(examples: Sequence[Example], labels: LabelSet) -> dict[str, int]:
    """Intents of `examples` the label set does not have, with their number of utterances."""
    known = set(labels.intents)
    counts: dict[str, int] = {}
    for example in examples:
        if example.intent not in known:
            counts[example.intent] = counts.get(example.intent, 0) + 1
    return counts


def unknown_slot_types(examples: Sequence[Example], labels: LabelSet) -> dict[str, int]:
    """Slot types of `examples` the tag set does not have, with their number of spans."""
    known = set(labels.tags)
    counts: dict[str, int] = {}
    for example in examples:
        for tag in example.tags:
            if tag.startswith("B-") and tag not in known:
                counts[tag[2:]] = counts.get(tag[2:], 0) + 1
    return counts


@dataclass
class EncodedSplit:
    ids: np.ndarray  # [N, max_len] int32, or [N, max_len, 1 + per_token] with subwords
    intents: np.ndarray  # [N] int32, NO_LABEL if unknown
    tags: np.ndarray  # [N, max_len] int32 (padding and unknown tags: 0 = 'O')
    domains: np.ndarray  # [N] int32 (0 when there is no domain head)
    token_mask: np.ndarray  # [N, max_len] float32, 1 for real (not truncated) tokens


def token_ids(
    tokens: Sequence[str], vocab: Vocabulary, max_len: int, subwords: SubwordSpec | None = None
) -> np.ndarray:
    """One utterance's model input: [max_len] word ids, or with `subwords` [max_len, 1 +
    per_token], each token's word id then its n-gram ids (docs/tokenizer.md section 6)."""
    words = np.asarray(vocab.ids(tokens, max_len), np.int32)
    if subwords is None:
        return words
    return np.concatenate(
        [words[:, None], np.asarray(subword_ids(tokens, subwords, max_len), np.int32)], axis=1
    )


def encode(
    examples: Sequence[Example],
    vocab: Vocabulary,
    labels: LabelSet,
    max_len: int,
    *,
    subwords: SubwordSpec | None = None,
) -> EncodedSplit:
    intent_ids = {name: i for i, name in enumerate(labels.intents)}
    tag_ids = {name: i for i, name in enumerate(labels.tags)}
    domain_ids = {name: i for i, name in enumerate(labels.domains)}
    n = len(examples)
    width = () if subwords is None else (1 + subwords.per_token,)
    split = EncodedSplit(
        ids=np.zeros((n, max_len, *width), np.int32),
        intents=np.full((n,), NO_LABEL, np.int32),
        tags=np.zeros((n, max_len), np.int32),
        domains=np.zeros((n,), np.int32),
        token_mask=np.zeros((n, max_len), np.float32),
    )
    for row, example in enumerate(examples):
        length = min(len(example.tokens), max_len)
        split.ids[row] = token_ids(example.tokens, vocab, max_len, subwords)
        split.intents[row] = intent_ids.get(example.intent, NO_LABEL)
        split.tags[row, :length] = [tag_ids.get(t, tag_ids[OUTSIDE_TAG]) for t in example.tags[:length]]
        split.domains[row] = domain_ids.get(example.domain or "", 0)
        split.token_mask[row, :length] = 1.0
    return split
