"""The string-free vocabulary: exact for known words, 2**-bits false accepts, a stored form
that reads back identically and refuses damage."""

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tflnlu.data.hashed_vocab import (
    HashedVocabulary,
    HashedVocabularyError,
    fnv1a64,
    mix64,
    word_hash,
)
from tflnlu.data.vocab import PAD_TOKEN, UNK_ID, UNK_TOKEN


def random_words(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = {"".join(rng.choices(string.ascii_lowercase, k=rng.randint(1, 9))) for _ in range(count)}
    return sorted(words)


def test_hash_functions_match_their_published_values():
    # FNV-1a 64 test vectors (the empty string and "a"), splitmix64's finalizer of 0 and 1.
    assert fnv1a64(b"") == 0xCBF29CE484222325
    assert fnv1a64(b"a") == 0xAF63DC4C8601EC8C
    assert mix64(0) == 0
    assert mix64(1) == 0x5692161D100B05E5


def test_every_word_finds_its_own_id_and_ids_are_a_permutation():
    words = random_words(3000)
    vocab, order = HashedVocabulary.build([PAD_TOKEN, UNK_TOKEN, *words])
    assert sorted(order[2:]) == words and order[:2] == [PAD_TOKEN, UNK_TOKEN]
    assert [vocab.id(w) for w in order] == list(range(len(order)))
    assert len(vocab) == len(words) + 2
    assert vocab.ids(["<pad>", order[5], "zzzzzzzzzzzz"], 5)[:2] == [0, 5]


@pytest.mark.parametrize("bits", [4, 8])
def test_false_accepts_are_about_two_to_the_minus_bits(bits):
    words = random_words(4000)
    vocab, _ = HashedVocabulary.build([PAD_TOKEN, UNK_TOKEN, *words], fingerprint_bits=bits)
    unknown = [w + "Q" for w in words] * 5 + [w.upper() for w in words] * 5
    unknown = [f"{w}{i}" for i, w in enumerate(unknown)]
    rate = sum(vocab.id(u) != UNK_ID for u in unknown) / len(unknown)
    expected = 2.0**-bits
    assert expected / 2 < rate < expected * 2


def test_stored_form_reads_back_identically_and_is_small():
    words = random_words(2000)
    vocab, _ = HashedVocabulary.build([PAD_TOKEN, UNK_TOKEN, *words], fingerprint_bits=12)
    assert HashedVocabulary.from_json(vocab.to_json()) == vocab
    assert vocab.stored_bytes() / len(words) < 1.5 + 0.6  # 12-bit fingerprint plus pilots


def test_build_is_deterministic():
    tokens = [PAD_TOKEN, UNK_TOKEN, *random_words(500)]
    assert HashedVocabulary.build(tokens) == HashedVocabulary.build(tokens)


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s.update(version=2),
        lambda s: s.update(fingerprints=s["fingerprints"][:-4]),
        lambda s: s.update(pilots="!!!"),
        lambda s: s.update(buckets=s["buckets"] + 1),
        lambda s: s.update(fingerprint_bits=7),
        lambda s: s.pop("seed"),
    ],
)
def test_damaged_stored_forms_are_refused(damage):
    vocab, _ = HashedVocabulary.build([PAD_TOKEN, UNK_TOKEN, *random_words(300)])
    stored = vocab.to_json()
    damage(stored)
    with pytest.raises(HashedVocabularyError):
        HashedVocabulary.from_json(stored)


def test_bad_vocabularies_are_refused():
    with pytest.raises(ValueError, match="must start with"):
        HashedVocabulary.build(["a", "b"])
    with pytest.raises(ValueError, match="must not repeat"):
        HashedVocabulary.build([PAD_TOKEN, UNK_TOKEN, "a", "a"])
    with pytest.raises(ValueError, match="fingerprint bits"):
        HashedVocabulary.build([PAD_TOKEN, UNK_TOKEN, "a"], fingerprint_bits=5)


def test_a_vocabulary_of_only_the_specials():
    vocab, order = HashedVocabulary.build([PAD_TOKEN, UNK_TOKEN])
    assert order == [PAD_TOKEN, UNK_TOKEN] and vocab.id("anything") == UNK_ID
    assert HashedVocabulary.from_json(vocab.to_json()) == vocab


@settings(max_examples=40, deadline=None)
@given(
    st.sets(st.text(min_size=1, max_size=12).filter(lambda w: w not in (PAD_TOKEN, UNK_TOKEN)), max_size=60)
)
def test_any_strings_hash_exactly(words):
    """Any Unicode (supplementary characters included) maps to its own id."""
    vocab, order = HashedVocabulary.build([PAD_TOKEN, UNK_TOKEN, *sorted(words)])
    assert [vocab.id(w) for w in order] == list(range(len(order)))
    assert word_hash("é", 0) != word_hash("e\u0301", 0)  # bytes, not normalised text


# The same object and ids are pinned in android_demo's HashedVocabularyTest: a change on either
# side of the scheme breaks one of the two.
JAVA_PINNED_WORDS = ["<pad>", "<unk>", "wake", "me", "up", "été", "😀x", "alarm", "five"]
JAVA_PINNED = {
    "version": 1,
    "words": 7,
    "seed": 0,
    "fingerprint_bits": 8,
    "buckets": 2,
    "pilots": "AwA=",
    "fingerprints": "7dB2fXsO+g==",
}


def test_the_stored_form_pinned_in_the_java_test():
    vocab, tokens = HashedVocabulary.build(JAVA_PINNED_WORDS, fingerprint_bits=8)
    assert vocab.to_json() == JAVA_PINNED
    assert tokens == ["<pad>", "<unk>", "up", "alarm", "été", "wake", "me", "five", "😀x"]
    assert word_hash("😀x", 0) == 0x4D1F2D920F793DD1 and word_hash("", 7) == 0xF121E77647E3E933
