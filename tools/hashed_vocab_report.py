"""Bytes per word and false-accept rate of the hashed vocabulary per fingerprint width, on a
real vocabulary and the real words it does not know (dev and test tokens unseen in train).

    python tools/hashed_vocab_report.py --data=../shared/data/hwu64 --format=massive \
        --out=tools/results/hashed_vocab_hwu64.json
    python tools/hashed_vocab_report.py --languages=all --out=tools/results/hashed_vocab_ha65.json

Next to it, what the file stores today for the same words: the front-coded list, zlib'd as
in the metadata (tflnlu.modelfile.metadata). The hashed form's bytes are its two binary
fields; in the file they are base64 inside the zlib'd JSON, which adds about 1% (an export's
own size report gives the file's real bytes).
"""

from __future__ import annotations

import argparse
import json
import time
import zlib
from pathlib import Path

import tflnlu  # noqa: F401
from tflnlu.data.hashed_vocab import FINGERPRINT_BITS, HashedVocabulary
from tflnlu.data.load import load_data
from tflnlu.data.vocab import UNK_ID, Vocabulary
from tflnlu.io import write_json_atomic
from tflnlu.modelfile.metadata import front_code


def unseen_tokens(splits: dict, vocab: Vocabulary) -> list[str]:
    """Every dev/test token occurrence the vocabulary lacks."""
    return [
        t for name in ("dev", "test") for e in splits.get(name, []) for t in e.tokens if vocab.id(t) == UNK_ID
    ]


def width_row(vocab: Vocabulary, bits: int, unseen: list[str], occurrences: list[str]) -> dict:
    started = time.monotonic()
    hashed, _ = HashedVocabulary.build(vocab.tokens, fingerprint_bits=bits)
    built = time.monotonic() - started
    accepted_words = sum(hashed.id(w) != UNK_ID for w in unseen)
    accepted_tokens = sum(hashed.id(t) != UNK_ID for t in occurrences)
    return {
        "fingerprint_bits": bits,
        "stored_bytes": hashed.stored_bytes(),
        "bytes_per_word": hashed.stored_bytes() / hashed.words,
        "false_accept_rate_unseen_words": accepted_words / len(unseen) if unseen else None,
        "false_accept_rate_unseen_tokens": accepted_tokens / len(occurrences) if occurrences else None,
        "expected_rate": 2.0**-bits,
        "build_seconds": built,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--format", default="massive")
    parser.add_argument("--languages", default="en")
    parser.add_argument("--min_count", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    splits, info = load_data(args.data, args.format, languages=args.languages.split(","))
    vocab = Vocabulary.build((e.tokens for e in splits["train"]), min_count=args.min_count)
    unknown_tokens = unseen_tokens(splits, vocab)
    unseen = sorted(set(unknown_tokens))
    listed = len(zlib.compress(front_code(vocab.tokens).encode("utf-8"), 9))
    result = {
        "data": info,
        "min_count": args.min_count,
        "words": len(vocab) - 2,
        "unseen_distinct_words": len(unseen),
        "unseen_token_occurrences": len(unknown_tokens),
        "front_coded_zlib_bytes": listed,
        "front_coded_bytes_per_word": listed / (len(vocab) - 2),
        "widths": [width_row(vocab, bits, unseen, unknown_tokens) for bits in FINGERPRINT_BITS],
    }
    write_json_atomic(Path(args.out), result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
