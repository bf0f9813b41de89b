"""Subword ids against docs/tokenizer.md section 6, written out again here from the text."""

import pytest

from tflnlu.data.subwords import NO_SUBWORD, SubwordSpec, ngrams, subword_ids, token_subword_ids

M = (1 << 64) - 1


def id_from_the_specification(gram: str, buckets: int) -> int:
    key = 0xCBF29CE484222325
    for byte in gram.encode("utf-8"):
        key = ((key ^ byte) * 0x100000001B3) & M
    key ^= 0x5BD1E9955BD1E995
    key = ((key ^ (key >> 30)) * 0xBF58476D1CE4E5B9) & M
    key = ((key ^ (key >> 27)) * 0x94D049BB133111EB) & M
    key ^= key >> 31
    return 1 + (((key >> 32) * buckets) >> 32)


def test_the_ngrams_of_a_word_are_every_length_then_every_start():
    assert ngrams("cat", SubwordSpec()) == ["<ca", "cat", "at>", "<cat", "cat>", "<cat>"]
    assert ngrams("a", SubwordSpec(min_n=2, max_n=3)) == ["<a", "a>", "<a>"]


def test_a_long_word_keeps_its_short_ngrams_across_its_whole_length():
    grams = ngrams("wonderful", SubwordSpec(per_token=12))
    assert len(grams) == 12
    assert grams[:9] == ["<wo", "won", "ond", "nde", "der", "erf", "rfu", "ful", "ul>"]
    assert grams[9:] == ["<won", "wond", "onde"]


def test_ngrams_are_cut_by_code_point_not_by_utf16_unit():
    assert ngrams("😀a", SubwordSpec()) == ["<😀a", "😀a>", "<😀a>"]


@pytest.mark.parametrize("token", ["cat", "😀a", "straße", "日", "'s", "x" * 30])
@pytest.mark.parametrize("buckets", [1, 7, 4096, 1 << 24])
def test_ids_are_the_specified_hash(token, buckets):
    spec = SubwordSpec(buckets=buckets)
    expected = [id_from_the_specification(g, buckets) for g in ngrams(token, spec)]
    ids = token_subword_ids(token, spec)
    assert ids == expected + [NO_SUBWORD] * (spec.per_token - len(expected))
    assert all(1 <= i <= buckets for i in expected)


def test_a_sequence_is_cut_and_padded_like_its_word_ids():
    spec = SubwordSpec(per_token=4)
    rows = subword_ids(["play", "jazz", "now"], spec, max_len=2)
    assert rows == [token_subword_ids("play", spec), token_subword_ids("jazz", spec)]
    rows = subword_ids(["hi"], spec, max_len=3)
    assert rows[1:] == [[0, 0, 0, 0], [0, 0, 0, 0]] and len(rows[0]) == 4


def test_bad_specifications_say_what_was_expected():
    assert SubwordSpec.parse("3-5") == SubwordSpec(3, 5)
    assert SubwordSpec.parse("4", buckets=99) == SubwordSpec(4, 4, 99)
    with pytest.raises(ValueError, match="expected n-gram lengths like 3-5"):
        SubwordSpec.parse("three")
    with pytest.raises(ValueError, match="expected 2 <= min <= max <= 8"):
        SubwordSpec.parse("5-3")
    with pytest.raises(ValueError, match="buckets 0"):
        SubwordSpec(buckets=0)
    with pytest.raises(ValueError, match="expected min_n, max_n, buckets, per_token"):
        SubwordSpec.from_json({"min_n": 3})
    with pytest.raises(ValueError, match="must be integers"):
        SubwordSpec.from_json({"min_n": 3, "max_n": 5, "buckets": 4096.0, "per_token": 12})
    assert SubwordSpec.from_json(SubwordSpec().to_json()) == SubwordSpec()
