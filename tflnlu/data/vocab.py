"""Vocabulary and label lists: deterministic, saved as plain UTF-8 text, one entry a line."""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from tflnlu.io import write_text_atomic

VOCAB_FILE = "vocab.txt"  # the vocabulary beside a run or an export: token of id i on line i
PAD_TOKEN = "<pad>"
UNK_TOKEN = "<unk>"
PAD_ID = 0
UNK_ID = 1
OUTSIDE_TAG = "O"  # the BIO tag of a token outside every slot; always tag id 0


class Vocabulary:
    """Token <-> id. Id 0 is padding, id 1 unknown (docs/tokenizer.md section 4)."""

    def __init__(self, tokens: Sequence[str]):
        if list(tokens[:2]) != [PAD_TOKEN, UNK_TOKEN]:
            raise ValueError(f"a vocabulary must start with {PAD_TOKEN!r}, {UNK_TOKEN!r}")
        self.tokens = list(tokens)
        self._ids = {t: i for i, t in enumerate(self.tokens)}
        if len(self._ids) != len(self.tokens):
            raise ValueError("a vocabulary must not repeat a token")

    @classmethod
    def build(
        cls, token_lists: Iterable[Sequence[str]], min_count: int = 1, max_size: int | None = None
    ) -> Vocabulary:
        """The `max_size` most frequent tokens seen `min_count` times (ties broken by the string),
        in code-point order: sorted words front-code to a third less in the model's metadata
        (tflnlu.modelfile.metadata), and the order of ids means nothing to the model."""
        counts = collections.Counter(t for tokens in token_lists for t in tokens)
        kept = sorted((t for t, n in counts.items() if n >= min_count), key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[: max(0, max_size - 2)]
        return cls([PAD_TOKEN, UNK_TOKEN, *sorted(kept)])

    def __len__(self) -> int:
        return len(self.tokens)

    def id(self, token: str) -> int:
        return self._ids.get(token, UNK_ID)

    def ids(self, tokens: Sequence[str], max_len: int) -> list[int]:
        return padded_ids(self.id, tokens, max_len)

    def save(self, path: Path) -> None:
        write_text_atomic(path, "".join(t + "\n" for t in self.tokens))

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        return cls(read_lines(path))


def padded_ids(token_id: Callable[[str], int], tokens: Sequence[str], max_len: int) -> list[int]:
    """Ids of the first `max_len` tokens, padded with PAD_ID to `max_len` (every vocabulary's rule)."""
    ids = [token_id(t) for t in tokens[:max_len]]
    return ids + [PAD_ID] * (max_len - len(ids))


def read_lines(path: Path) -> list[str]:
    """One entry a line. Split on "\\n" only: str.splitlines() also splits on U+2028 and other
    characters a label may hold."""
    text = Path(path).read_text(encoding="utf-8")
    return text.removesuffix("\n").split("\n") if text else []


def save_labels(path: Path, labels: Sequence[str]) -> None:
    write_text_atomic(path, "".join(label + "\n" for label in labels))


def tag_list(tag_lists: Iterable[Sequence[str]]) -> list[str]:
    """All BIO tags seen, 'O' first, then B-x and I-x for every slot type, sorted."""
    slot_types = sorted({t[2:] for tags in tag_lists for t in tags if t != OUTSIDE_TAG})
    return [OUTSIDE_TAG] + [f"{p}-{s}" for s in slot_types for p in ("B", "I")]
