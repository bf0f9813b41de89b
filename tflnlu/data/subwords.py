"""Hashed character n-grams of a token (fastText's subwords), computed outside the graph.

A word never seen in training reads as `<unk>`: its context is all the model has. Song titles,
names and places are exactly such words, so each token also gets the ids of its character
n-grams with word-boundary marks (`<` and `>`), hashed into a fixed number of buckets (Bojanowski
et al. 2017, "Enriching Word Vectors with Subword Information"). The bucket table is learned
(and compressed) with the model; a new word shares n-grams with known ones.

docs/tokenizer.md section 6 is the specification; the Java core (`Subwords.java`) reproduces it
and tests/android_demo/test_java_core.py checks both on random strings. The hash is the hashed
vocabulary's (FNV-1a 64 of the UTF-8 bytes, then splitmix64's finalizer) with its own salt, and
the multiply-shift bucket: 64-bit integer arithmetic only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tflnlu.data.hashed_vocab import bucket_of, word_hash

SUBWORD_SALT = 0x5BD1E9955BD1E995
BEGIN, END = "<", ">"
NO_SUBWORD = 0  # ids of a bucket are 1..buckets: 0 fills a token's unused places and padding
MIN_N, MAX_N = 2, 8  # the lengths a specification may choose from
MAX_BUCKETS = 1 << 24


@dataclass(frozen=True)
class SubwordSpec:
    """Which n-grams, how many buckets, and how many ids a token keeps (the model's input
    width). Stored in the model file's metadata, so the runtime computes the same ids."""

    min_n: int = 3
    max_n: int = 5
    buckets: int = 4096
    per_token: int = 12

    def __post_init__(self):
        if not MIN_N <= self.min_n <= self.max_n <= MAX_N:
            raise ValueError(
                f"subword lengths {self.min_n}-{self.max_n}: expected {MIN_N} <= min <= max <= {MAX_N}"
            )
        if not 1 <= self.buckets <= MAX_BUCKETS:
            raise ValueError(f"subword buckets {self.buckets}: expected 1..{MAX_BUCKETS}")
        if not 1 <= self.per_token <= 64:
            raise ValueError(f"subwords per token {self.per_token}: expected 1..64")

    @classmethod
    def parse(cls, lengths: str, **fields) -> SubwordSpec:
        """`--subwords=3-5` (or `4`: one length); ValueError naming what was expected."""
        low, _, high = lengths.partition("-")
        try:
            return cls(min_n=int(low), max_n=int(high or low), **fields)
        except ValueError as e:
            if "subword" in str(e):
                raise
            raise ValueError(f"--subwords={lengths!r}: expected n-gram lengths like 3-5") from None

    def to_json(self) -> dict:
        return {
            "min_n": self.min_n,
            "max_n": self.max_n,
            "buckets": self.buckets,
            "per_token": self.per_token,
        }

    @classmethod
    def from_json(cls, stored: dict) -> SubwordSpec:
        if not isinstance(stored, dict) or set(stored) != {"min_n", "max_n", "buckets", "per_token"}:
            raise ValueError(f"subwords metadata {stored!r}: expected min_n, max_n, buckets, per_token")
        if not all(type(v) is int for v in stored.values()):
            raise ValueError(f"subwords metadata {stored!r}: the values must be integers")
        return cls(**stored)


def ngrams(token: str, spec: SubwordSpec) -> list[str]:
    """The n-grams of `<token>` by code point: every length from min_n up, each left to right,
    cut to per_token (so a long word keeps its short n-grams across its whole length)."""
    marked = BEGIN + token + END
    grams = [marked[i : i + n] for n in range(spec.min_n, spec.max_n + 1) for i in range(len(marked) - n + 1)]
    return grams[: spec.per_token]


def ngram_id(gram: str, buckets: int) -> int:
    return 1 + bucket_of(word_hash(gram, SUBWORD_SALT), buckets)


def token_subword_ids(token: str, spec: SubwordSpec) -> list[int]:
    """per_token ids: the n-grams' buckets, then NO_SUBWORD."""
    ids = [ngram_id(gram, spec.buckets) for gram in ngrams(token, spec)]
    return ids + [NO_SUBWORD] * (spec.per_token - len(ids))


def subword_ids(tokens: Sequence[str], spec: SubwordSpec, max_len: int) -> list[list[int]]:
    """[max_len][per_token]: the tokens cut to max_len like their word ids, padding rows 0."""
    rows = [token_subword_ids(token, spec) for token in tokens[:max_len]]
    return rows + [[NO_SUBWORD] * spec.per_token for _ in range(max_len - len(rows))]
