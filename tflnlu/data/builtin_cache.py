"""A cache of the built-in data set's expansion, one file per language.

Expanding all 65 languages takes minutes; the result depends only on the template packages,
tflnlu's data code (expansion, tokenizer, split rule) and its value lists, the Unicode
version, the samples per template and the seed. Those make the key (code and value files by
their bytes' sha256, so an edit there can never be served a stale cache). A file is gzip'd JSON written atomically; gzip's CRC
catches damage, and any file that does not read back exactly (damaged, truncated, another
key) is expanded again and replaced, never trusted.

A cache that cannot be written is a warning (the data was expanded anyway).
The directory: $TFLNLU_CACHE_DIR, else $XDG_CACHE_HOME/tflnlu, else ~/.cache/tflnlu.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import unicodedata
import warnings
import zlib
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from tflnlu.data.example import Example
from tflnlu.io import write_bytes_atomic

CACHE_FORMAT = 2  # 2: examples carry their language
CACHE_DIR_VARIABLE = "TFLNLU_CACHE_DIR"
TEMPLATE_PACKAGES = ("home-assistant-intents", "hassil")

Splits = dict[str, list[Example]]


def cache_directory() -> Path:
    if os.environ.get(CACHE_DIR_VARIABLE):
        return Path(os.environ[CACHE_DIR_VARIABLE])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tflnlu"


def cache_key(language: str, *, samples_per_template: int, seed: int, code_files: list[Path]) -> dict:
    """Everything the expansion of one language depends on."""
    code = hashlib.sha256()
    for path in sorted([*code_files, Path(__file__)]):  # this module's format too
        code.update(path.name.encode() + b"\0" + path.read_bytes())
    return {
        "format": CACHE_FORMAT,
        "language": language,
        "samples_per_template": samples_per_template,
        "seed": seed,
        "packages": {name: metadata.version(name) for name in TEMPLATE_PACKAGES},
        "code_sha256": code.hexdigest(),
        "unicode": unicodedata.unidata_version,  # NFKC and the tokenizer's character classes
    }


def cache_path(key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    return cache_directory() / f"builtin-{key['language']}-{digest}.json.gz"


def cached_splits(key: dict, expand: Callable[[], Splits]) -> tuple[Splits, bool]:
    """The language's splits from the cache, or expanded and cached; and whether it was a hit."""
    path = cache_path(key)
    stored = _read(path, key)
    if stored is not None:
        return stored, True
    splits = expand()
    try:
        write_bytes_atomic(path, _encode(key, splits))
    except OSError as e:  # an unwritable cache costs the next run time, not this run its data
        warnings.warn(
            f"the built-in data cache {path} cannot be written ({e}); expanding every time", stacklevel=2
        )
    return splits, False


def _encode(key: dict, splits: Splits) -> bytes:
    rows = {
        name: [[e.text, list(e.tokens), list(e.tags), e.intent, e.domain, e.language] for e in examples]
        for name, examples in splits.items()
    }
    text = json.dumps({"key": key, "splits": rows}, ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=1, mtime=0)


def _read(path: Path, key: dict) -> Splits | None:
    """The stored splits, or None for a missing, damaged or foreign file."""
    try:
        stored = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
        if stored["key"] != key or set(stored["splits"]) != {"train", "dev", "test"}:
            return None
        return {
            name: [
                Example(text, tuple(tokens), tuple(tags), intent, domain=domain, language=language)
                for text, tokens, tags, intent, domain, language in rows
            ]
            for name, rows in stored["splits"].items()
        }
    except FileNotFoundError:
        return None
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None  # damaged: expanded again and replaced
