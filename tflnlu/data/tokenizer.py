"""Tokenizer: the executable form of `docs/tokenizer.md` (read that first).

Kept deliberately small and table-free so the Android demo can reproduce it in Java
character for character. Every token carries its character span in the *normalized*
string, which is how readers map slot annotations onto tokens.
"""

from __future__ import annotations

import bisect
import unicodedata
from dataclasses import dataclass

TOKENIZER_VERSION = 1

APOSTROPHE = "'"
APOSTROPHE_LOOKALIKES = "\u2018\u2019\u02bc\u0060\u00b4"

# Code points that are tokens of their own (scripts written without spaces).
IDEOGRAPH_RANGES: tuple[tuple[int, int], ...] = (
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x20000, 0x2FA1F),  # CJK Extensions B-F, Compatibility Supplement
)

_APOSTROPHE_TABLE = {ord(c): APOSTROPHE for c in APOSTROPHE_LOOKALIKES}


@dataclass(frozen=True)
class Token:
    text: str
    start: int  # character offset in the normalized string
    end: int


def normalize(text: str) -> str:
    """NFKC, apostrophe look-alikes to U+0027, then lower case (spec section 1)."""
    return unicodedata.normalize("NFKC", text).translate(_APOSTROPHE_TABLE).lower()


def _char_class(ch: str) -> str:
    code = ord(ch)
    category = unicodedata.category(ch)
    if category[0] in "ZC":
        return "separator"
    if any(lo <= code <= hi for lo, hi in IDEOGRAPH_RANGES):
        return "ideograph"
    if ch == APOSTROPHE:
        return "apostrophe"
    return {"L": "letter", "M": "mark", "N": "digit"}.get(category[0], "symbol")


def split_normalized(text: str) -> list[Token]:
    """Split an already-normalized string into tokens (spec sections 2 and 3)."""
    tokens: list[Token] = []
    start = -1  # start of the token being built, or -1
    kind = ""  # "letter" or "digit": the kind of the token being built

    def close(end: int) -> None:
        nonlocal start
        if start >= 0:
            tokens.append(Token(text[start:end], start, end))
            start = -1

    for i, ch in enumerate(text):
        cls = _char_class(ch)
        if cls == "mark":
            if start < 0:
                start, kind = i, "letter"
            continue
        if cls in ("letter", "digit"):
            if start >= 0 and kind != cls:
                close(i)
            if start < 0:
                start, kind = i, cls
            continue
        close(i)
        next_is_letter = i + 1 < len(text) and _char_class(text[i + 1]) == "letter"
        if cls == "apostrophe" and next_is_letter:
            start, kind = i, "letter"
        elif cls != "separator":
            tokens.append(Token(ch, i, i + 1))
    close(len(text))
    return tokens


def tokenize(text: str) -> list[str]:
    """The token strings of raw user text."""
    return [t.text for t in split_normalized(normalize(text))]


_CHUNK_BREAKS = " \t\n\r"


def normalized_prefix_lengths(text: str) -> list[int]:
    """L[i] = len(normalize(text[:i])) for i = 0..len(text): how far into the normalized string
    each position of the original reaches (NFKC and lower() may grow or shrink a character).

    Computed per chunk starting at an ASCII whitespace: such a character never composes with
    its neighbours under NFKC, and it stops lower()'s only context rule (Final_Sigma), so the
    chunks normalize independently (checked; the whole-text fallback is quadratic but exact).
    """
    starts = [0] + [i for i, ch in enumerate(text) if ch in _CHUNK_BREAKS and i > 0]
    lengths, offset = [0], 0
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        chunk = text[start:end]
        lengths += [offset + len(normalize(chunk[:k])) for k in range(1, len(chunk) + 1)]
        offset = lengths[-1]
    if offset != len(normalize(text)):  # not expected; exact regardless
        lengths = [len(normalize(text[:i])) for i in range(len(text) + 1)]
    return lengths


def original_span(lengths: list[int], start: int, end: int) -> tuple[int, int]:
    """The slice of the original text whose normalization is the normalized characters
    [start, end): from the last position reaching `start` to the last reaching at most `end`
    (so a combining mark NFKC merged into the token's last letter is inside), one further when
    a character expanding past `end` is cut (`lengths` from normalized_prefix_lengths)."""
    first = bisect.bisect_right(lengths, start) - 1
    last = bisect.bisect_right(lengths, end) - 1
    if lengths[last] < end:
        last += 1
    return first, min(last, len(lengths) - 1)
