"""The built-in data set's per-language cache: hit, key, damage, atomic replacement."""

import gzip

import pytest

from tflnlu.data import builtin
from tflnlu.data.builtin import load_builtin, resolve_languages
from tflnlu.data.builtin_cache import CACHE_DIR_VARIABLE, cache_directory, cache_key, cache_path

LANGUAGES = ("en", "de")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    return tmp_path / "cache"


def _forbid_expansion(monkeypatch):
    def expand(*args):
        raise AssertionError(f"expanded {args} instead of reading the cache")

    monkeypatch.setattr(builtin, "expand_language", expand)


def test_the_second_load_reads_every_language_from_the_cache(cache, monkeypatch):
    lines = []
    first = load_builtin(LANGUAGES, log=lines.append)
    assert first == load_builtin(LANGUAGES, use_cache=False)
    assert sorted(p.name.split("-")[1] for p in cache.iterdir()) == sorted(LANGUAGES)
    _forbid_expansion(monkeypatch)
    assert load_builtin(LANGUAGES, log=lines.append) == first
    assert lines == [f"built-in data: {n} of 2 languages from the cache in {cache}" for n in (0, 2)]


def test_the_key_holds_the_seed_samples_packages_and_code(cache, tmp_path):
    code = tmp_path / "code.py"
    code.write_text("a")
    key = cache_key("en", samples_per_template=6, seed=0, code_files=[code])
    assert set(key["packages"]) == {"home-assistant-intents", "hassil"}
    assert cache_path(key).parent == cache_directory() == cache
    others = [
        cache_key("en", samples_per_template=6, seed=1, code_files=[code]),
        cache_key("en", samples_per_template=5, seed=0, code_files=[code]),
        cache_key("de", samples_per_template=6, seed=0, code_files=[code]),
    ]
    code.write_text("b")
    others.append(cache_key("en", samples_per_template=6, seed=0, code_files=[code]))
    assert len({cache_path(k) for k in [key, *others]}) == 5


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data[:-12] + bytes([data[-12] ^ 1]) + data[-11:],  # a flipped bit: gzip's CRC
        lambda data: gzip.compress(b'{"key": {}, "splits": {}}'),  # another key
        lambda data: b"",
    ],
)
def test_a_damaged_cache_file_is_rebuilt_not_trusted(cache, damage):
    expected = load_builtin(("en",))
    (path,) = cache.iterdir()
    path.write_bytes(damage(path.read_bytes()))
    lines = []
    assert load_builtin(("en",), log=lines.append) == expected
    assert lines == [f"built-in data: 0 of 1 languages from the cache in {cache}"]
    assert gzip.decompress(path.read_bytes())  # replaced whole
    assert [p.name for p in cache.iterdir()] == [path.name]  # no temporary file left


def test_all_means_every_language_of_the_package_and_unknown_ones_are_named():
    every = resolve_languages(["all"])
    assert len(every) >= 60 and "en" in every and list(every) == sorted(every)
    with pytest.raises(ValueError, match=r"no Home Assistant intents for \['xx'\]; available: all or "):
        resolve_languages(["en", "xx"])
