import pytest

from tflnlu.data.tokenizer import normalize, split_normalized, tokenize


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("Wake me up at 5am, please!!", ["wake", "me", "up", "at", "5", "am", ",", "please", "!", "!"]),
        (
            "What\u2019s the weather in S\u00e3o Paulo?",
            ["what", "'s", "the", "weather", "in", "s\u00e3o", "paulo", "?"],
        ),
        ("rock 'n' roll", ["rock", "'n", "'", "roll"]),
        ("\u6771\u4eac\u306e\u5929\u6c17", ["\u6771", "\u4eac", "\u306e", "\u5929", "\u6c17"]),
        ("\ufb01le", ["file"]),  # NFKC expands the ligature
        ("  \t\n", []),
        ("", []),
        ("e\u0301t\u00e9", ["\u00e9t\u00e9"]),  # NFKC composes e + combining acute
        ("room 101b", ["room", "101", "b"]),
        ("\u0301x", ["\u0301x"]),  # a leading mark starts a token
        ("a\u200bb", ["a", "b"]),  # zero-width space (Cf) separates
        ("ÉCOLE", ["école"]),
    ],
)
def test_tokenize_follows_the_spec(text, tokens):
    assert tokenize(text) == tokens


def test_token_offsets_point_into_the_normalized_text():
    text = normalize("Turn ON the living-room light's dimmer")
    for token in split_normalized(text):
        assert text[token.start : token.end] == token.text


def test_tokens_never_contain_separators():
    for token in tokenize("a\u00a0b\u2028c\u3000d"):
        assert len(token) == 1
