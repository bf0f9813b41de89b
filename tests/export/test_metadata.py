import pytest
from hypothesis import given
from hypothesis import strategies as st

from tflnlu.export.metadata import front_code, front_decode

WORDS = ["<pad>", "<unk>", "a", "ab", "abc", "abcdefghijklmnop", "abcdefghijklmnopq", "b", "été", "étés"]
WORDS += ["😀x", "😀y", "2pm", "3"]
# The same string is decoded by android_demo's ModelMetadataTest.
FRONT_CODED = "0<pad>\n1unk>\n0a\n1b\n2c\n3defghijklmnop\n9jklmnopq\n0b\n0été\n3s\n0😀x\n1y\n02pm\n03"


def test_front_code_shares_at_most_nine_code_points_with_the_previous_word():
    assert front_code(WORDS) == FRONT_CODED
    assert front_decode(FRONT_CODED) == WORDS


def test_sorted_words_front_code_smaller_than_unsorted():
    words = [f"{stem}{suffix}" for stem in ("play", "set", "turn") for suffix in ("", "s", "ed", "ing")]
    by_ending = sorted(words, key=lambda w: w[::-1])
    assert len(front_code(sorted(words))) < len(front_code(by_ending))


words = st.text(
    st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), min_size=1, max_size=20
)


@given(st.lists(words, max_size=30))
def test_front_code_round_trips_any_words_in_any_order(vocab):
    assert front_decode(front_code(vocab)) == vocab


@pytest.mark.parametrize("bad", ["0ab\n3c", "0ab\n0", "0abcdefghijk\n:x", "0a\n\n0b", "/x"])
def test_malformed_front_coding_is_refused(bad):
    with pytest.raises(ValueError, match="malformed"):
        front_decode(bad)


@pytest.mark.parametrize("bad", ["", "a\nb"])
def test_words_that_cannot_be_front_coded_are_refused(bad):
    with pytest.raises(ValueError, match="non-empty without newlines"):
        front_code(["<pad>", bad])
