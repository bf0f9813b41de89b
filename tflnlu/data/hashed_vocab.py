"""A vocabulary that stores no strings: a minimal perfect hash of the words and a fingerprint each.

At tens of thousands of words the front-coded vocabulary is as large as the DPQ codes. The
device never needs the strings, only "which id is this token, or is it unknown": a minimal
perfect hash (MPH) maps each of the n known words to its own slot in 0..n-1, and a short
per-slot fingerprint of the word tells a known word from an unknown one that happens to land
on the same slot (false accept rate 2**-bits). Strimel, Sathyendra and Peshterliev (Interspeech
2018, arXiv 1807.07520) used perfect hashing for this.

The MPH is hash-and-displace: words fall into buckets of about `BUCKET_SIZE`; buckets are
placed largest first, each with the smallest "pilot" that sends all its words to free slots.
Everything is 64-bit integer arithmetic on the UTF-8 bytes, so the Java core reproduces it
exactly (docs/model_file.md specifies the functions). Ids: 0 `<pad>`, 1 `<unk>`, a word in
slot s has id 2 + s, so the export orders the embedding rows by slot.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from tflnlu.data.vocab import PAD_ID, PAD_TOKEN, UNK_ID, UNK_TOKEN, Vocabulary, padded_ids

HASHED_VOCAB_VERSION = 1
MASK64 = (1 << 64) - 1
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
PILOT_STEP = 0x9E3779B97F4A7C15  # the golden-ratio increment of splitmix64
FINGERPRINT_SALT = 0xD6E8FEB86659FD93
BUCKET_SIZE = 4  # words per bucket on average: about 2 bits of pilot per word
FINGERPRINT_BITS = (4, 8, 12, 16)
MAX_PILOT = 1 << 24
SEED_ATTEMPTS = 32
FIRST_WORD_ID = 2  # ids 0 and 1 are <pad> and <unk>


def fnv1a64(data: bytes) -> int:
    value = FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * FNV_PRIME) & MASK64
    return value


def mix64(value: int) -> int:
    """splitmix64's finalizer: every input bit moves every output bit."""
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


def word_hash(word: str, seed: int) -> int:
    return mix64(fnv1a64(word.encode("utf-8")) ^ seed)


def bucket_of(key: int, buckets: int) -> int:
    return ((key >> 32) * buckets) >> 32  # multiply-shift: a 32-bit value scaled to 0..buckets-1


def slot_of(key: int, pilot: int, slots: int) -> int:
    return ((mix64((key + pilot * PILOT_STEP) & MASK64) >> 32) * slots) >> 32


def fingerprint_of(key: int, bits: int) -> int:
    return mix64(key ^ FINGERPRINT_SALT) & ((1 << bits) - 1)


class HashedVocabularyError(ValueError):
    """The stored form is damaged or was written by another version."""


@dataclass(frozen=True)
class HashedVocabulary:
    """Token -> id like `tflnlu.data.vocab.Vocabulary`, with no strings kept."""

    words: int  # the hashed words (the vocabulary less <pad> and <unk>)
    seed: int
    fingerprint_bits: int
    pilots: tuple[int, ...]  # one per bucket
    fingerprints: tuple[int, ...]  # one per slot

    @classmethod
    def build(cls, tokens: Sequence[str], *, fingerprint_bits: int = 8) -> tuple[HashedVocabulary, list[str]]:
        """The hashed form of a vocabulary (<pad>, <unk>, words) and the tokens in its id order."""
        Vocabulary(tokens)  # the same rules: <pad>, <unk> first, no token repeated
        if fingerprint_bits not in FINGERPRINT_BITS:
            raise ValueError(f"fingerprint bits must be one of {FINGERPRINT_BITS}, got {fingerprint_bits!r}")
        words = list(tokens[2:])
        for seed in range(SEED_ATTEMPTS):
            keys = [word_hash(w, seed) for w in words]
            placed = _place(keys)
            if placed is not None:
                pilots, slot_words = placed
                vocab = cls(
                    len(words),
                    seed,
                    fingerprint_bits=fingerprint_bits,
                    pilots=tuple(pilots),
                    fingerprints=tuple(fingerprint_of(keys[i], fingerprint_bits) for i in slot_words),
                )
                return vocab, [PAD_TOKEN, UNK_TOKEN, *(words[i] for i in slot_words)]
        raise ValueError(f"no minimal perfect hash found for {len(words)} words in {SEED_ATTEMPTS} seeds")

    def __len__(self) -> int:
        return self.words + FIRST_WORD_ID

    def id(self, token: str) -> int:
        """The token's id, or UNK_ID; an unknown token is accepted with probability 2**-bits."""
        if token == PAD_TOKEN:
            return PAD_ID
        if token == UNK_TOKEN or not self.words:
            return UNK_ID
        key = word_hash(token, self.seed)
        slot = slot_of(key, self.pilots[bucket_of(key, len(self.pilots))], self.words)
        if self.fingerprints[slot] != fingerprint_of(key, self.fingerprint_bits):
            return UNK_ID
        return FIRST_WORD_ID + slot

    def ids(self, tokens: Sequence[str], max_len: int) -> list[int]:
        return padded_ids(self.id, tokens, max_len)

    def stored_bytes(self) -> int:
        """Bytes of the two binary fields before base64 (what the vocabulary costs in the file)."""
        return len(_varints(self.pilots)) + _packed_bytes(self.words, self.fingerprint_bits)

    def to_json(self) -> dict:
        return {
            "version": HASHED_VOCAB_VERSION,
            "words": self.words,
            "seed": self.seed,
            "fingerprint_bits": self.fingerprint_bits,
            "buckets": len(self.pilots),
            "pilots": base64.b64encode(_varints(self.pilots)).decode("ascii"),
            "fingerprints": base64.b64encode(_pack_bits(self.fingerprints, self.fingerprint_bits)).decode(
                "ascii"
            ),
        }

    @classmethod
    def from_json(cls, stored: dict) -> HashedVocabulary:
        """The stored form read back, every field checked (a damaged one is refused, never guessed):
        exactly what the Java core accepts, so the two never read one file two ways."""
        try:
            version, words, bits, buckets, seed = (
                _stored_integer(stored, name)
                for name in ("version", "words", "fingerprint_bits", "buckets", "seed")
            )
            if version != HASHED_VOCAB_VERSION:
                raise HashedVocabularyError(f"hashed vocabulary version {version} is not supported")
            if (
                bits not in FINGERPRINT_BITS
                or words < 0
                or buckets != -(-words // BUCKET_SIZE)
                or not 0 <= seed < 2**63
            ):
                raise HashedVocabularyError("hashed vocabulary: impossible sizes")
            pilots = _read_varints(base64.b64decode(stored["pilots"], validate=True), buckets)
            prints = _unpack_bits(base64.b64decode(stored["fingerprints"], validate=True), bits, words)
            return cls(words, seed, fingerprint_bits=bits, pilots=pilots, fingerprints=prints)
        except HashedVocabularyError:
            raise
        except (KeyError, TypeError, ValueError) as e:  # a missing field, a wrong type, bad base64
            raise HashedVocabularyError(f"hashed vocabulary is damaged ({e})") from None


def _stored_integer(stored: dict, name: str) -> int:
    value = stored[name]
    if type(value) is not int:  # not a string, a float or a bool, which int() would take
        raise HashedVocabularyError(f"hashed vocabulary is damaged ({name!r} is not an integer)")
    return value


def _place(keys: list[int]) -> tuple[list[int], list[int]] | None:
    """Pilots per bucket and, per slot, the index of its word; None when these keys do not work."""
    n = len(keys)
    if len(set(keys)) != n:
        return None  # two words share a 64-bit hash under this seed
    buckets = -(-n // BUCKET_SIZE)
    members: list[list[int]] = [[] for _ in range(buckets)]
    for index, key in enumerate(keys):
        members[bucket_of(key, buckets)].append(index)
    pilots, slot_words, taken = [0] * buckets, [0] * n, [False] * n
    for bucket in sorted(range(buckets), key=lambda b: (-len(members[b]), b)):
        pilot = _pilot(members[bucket], keys, taken)
        if pilot is None:
            return None
        pilots[bucket] = pilot
        for index in members[bucket]:
            slot = slot_of(keys[index], pilot, n)
            taken[slot], slot_words[slot] = True, index
    return pilots, slot_words


def _pilot(indices: list[int], keys: list[int], taken: list[bool]) -> int | None:
    """The smallest pilot that sends every word of a bucket to its own free slot."""
    n = len(taken)
    for pilot in range(MAX_PILOT):
        slots = {slot_of(keys[i], pilot, n) for i in indices}
        if len(slots) == len(indices) and not any(taken[s] for s in slots):
            return pilot
    return None


def _varints(values: Sequence[int]) -> bytes:
    """LEB128: seven bits a byte, low first, high bit set while more follow."""
    out = bytearray()
    for value in values:
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out)


def _read_varints(data: bytes, count: int) -> tuple[int, ...]:
    values, value, shift = [], 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if shift > 28:
            raise HashedVocabularyError("hashed vocabulary: a pilot is too long")
        if not byte & 0x80:
            values.append(value)
            value, shift = 0, 0
    if shift or len(values) != count:
        raise HashedVocabularyError(f"hashed vocabulary: {len(values)} pilots stored, {count} expected")
    return tuple(values)


def _packed_bytes(count: int, bits: int) -> int:
    return -(-count * bits // 8)


def _pack_bits(values: Sequence[int], bits: int) -> bytes:
    """Little-endian bit stream: value i occupies bits [i*bits, (i+1)*bits)."""
    out = bytearray(_packed_bytes(len(values), bits))
    for index, value in enumerate(values):
        position = index * bits
        for bit in range(bits):
            if value >> bit & 1:
                out[(position + bit) >> 3] |= 1 << ((position + bit) & 7)
    return bytes(out)


def _unpack_bits(data: bytes, bits: int, count: int) -> tuple[int, ...]:
    if len(data) != _packed_bytes(count, bits):
        raise HashedVocabularyError(f"hashed vocabulary: {len(data)} fingerprint bytes for {count} words")
    values = []
    for index in range(count):
        position, value = index * bits, 0
        for bit in range(bits):
            value |= (data[(position + bit) >> 3] >> ((position + bit) & 7) & 1) << bit
        values.append(value)
    return tuple(values)
