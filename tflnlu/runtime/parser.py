"""`Parser`: text in, intent and slots out, from an exported .tflite alone (numpy and LiteRT).

    from tflnlu.runtime import Parser
    parser = Parser("out/default/model.tflite")
    parse = parser.parse("wake me up at five am on friday")
    parse.intent, parse.confidence, parse.domain
    [(s.type, s.text, s.start, s.end) for s in parse.slots]   # offsets into the text passed in

Everything comes from the file: vocabulary, labels, tokenizer settings (its tflnlu metadata,
checksum-verified). Decoding is the one the golden file and the Java core use: the intent is
the argmax of the raw int8 scores and the tags the BIO-constrained Viterbi path over them
(both unchanged by dequantization), so all three agree exactly; the confidence is the softmax
of the dequantized intent scores. Every file runs in LiteRT's Interpreter; one with the fused
custom op gets the tflnlu delegate for it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tflnlu.data.example import bio_spans
from tflnlu.data.hashed_vocab import HashedVocabulary, HashedVocabularyError
from tflnlu.data.subwords import SubwordSpec
from tflnlu.data.tokenizer import normalize, normalized_prefix_lengths, original_span, split_normalized
from tflnlu.data.vocab import Vocabulary
from tflnlu.modelfile.flatbuffer import ModelFileError, read_model, read_model_bytes
from tflnlu.modelfile.kernel import CUSTOM_OP_NAME
from tflnlu.modelfile.metadata import HASHED_VOCAB, SUBWORDS, read_metadata
from tflnlu.nlu.decoding import log_softmax, viterbi_bio
from tflnlu.nlu.encode import token_ids


@dataclass(frozen=True)
class Slot:
    type: str
    text: str  # text[start:end] of the text passed in
    start: int  # offsets into the text passed in (Python string indices: code points)
    end: int


@dataclass(frozen=True)
class Parse:
    """What the model read in `text`. Offsets are into `text` itself, not its normalization."""

    text: str
    intent: str | None  # None when the text has no tokens
    confidence: float  # softmax probability of the intent (0.0 without tokens)
    domain: str | None  # the intent's domain when the model knows it
    slots: tuple[Slot, ...]
    tokens: tuple[str, ...]  # the normalized tokens the model saw (at most max_len)
    tags: tuple[str, ...]  # one BIO tag per token
    truncated: bool  # the text had more than max_len tokens; the rest was not read
    empty: bool  # the text has no tokens (empty, whitespace, or only separators)

    def to_json(self) -> dict:
        return {
            **asdict(self),
            "slots": [asdict(s) for s in self.slots],
            "tokens": list(self.tokens),
            "tags": list(self.tags),
        }


@dataclass(frozen=True)
class Analysis:
    """A parse with the steps that led to it (what the golden file records)."""

    parse: Parse
    normalized: str
    token_spans: tuple[tuple[int, int], ...]  # of the kept tokens, in `normalized`
    ids: np.ndarray  # [max_len] int32
    raw: tuple[np.ndarray, np.ndarray] | None  # int8 intent [I] and slot [max_len, S] scores


# How a file with the fused custom op runs: LiteRT's Interpreter with the tflnlu delegate (as
# every other file runs, and as on Android), or the LiteRT C API's CompiledModel with the kernel.
CUSTOM_OP_ROUTES = ("interpreter", "compiled_model")


def open_runner(model_bytes: bytes, source: str = "model", *, custom_op_route: str = "interpreter"):
    """The runner for this file: LiteRT's Interpreter (with the tflnlu delegate for a custom-op
    export), or for a custom-op export with `custom_op_route="compiled_model"` the C API."""
    if custom_op_route not in CUSTOM_OP_ROUTES:
        raise ValueError(f"custom_op_route must be one of {CUSTOM_OP_ROUTES}, got {custom_op_route!r}")
    custom = CUSTOM_OP_NAME in read_model(model_bytes, source).operators
    from tflnlu.runtime.litert import DelegateUnavailable, LiteRTModel

    try:
        if custom and custom_op_route == "compiled_model":
            from tflnlu.runtime.litert_c import LiteRTCustomOpModel

            return LiteRTCustomOpModel(model_bytes)
        return LiteRTModel(model_bytes)
    except DelegateUnavailable as e:  # the file needs the delegate: say so instead of blaming the file
        raise ModelFileError(
            f"{source} uses the tflnlu custom op, and the tflnlu delegate cannot be loaded ({e}); "
            "reinstall tflnlu with a C compiler (pip install -e .), or export with --lookup=builtin"
        ) from None
    except (ValueError, RuntimeError, TypeError, IndexError) as e:
        # A file tflnlu's own reader accepts but LiteRT does not: damaged where no checksum looks
        # (an older export), or not a tflnlu model at all.
        message = " ".join(str(e).split())[:200]
        raise ModelFileError(f"{source}: LiteRT cannot run this file ({message}); export it again") from None


def vocabulary_of(metadata: dict, source: str = "model") -> Vocabulary | HashedVocabulary:
    """The vocabulary a file carries (read_metadata's dict): its word list, or the hashed form
    (`tflnlu-export --vocabulary=hashed`), which maps tokens to the same kind of ids."""
    if HASHED_VOCAB not in metadata:
        return Vocabulary(metadata["vocab"])
    try:
        return HashedVocabulary.from_json(metadata[HASHED_VOCAB])
    except HashedVocabularyError as e:
        raise ModelFileError(f"{source}: {e}; export the model again") from None


def subwords_of(metadata: dict, source: str = "model") -> SubwordSpec | None:
    """The n-gram settings of a file with subwords (docs/tokenizer.md section 6), else None."""
    if SUBWORDS not in metadata:
        return None
    try:
        return SubwordSpec.from_json(metadata[SUBWORDS])
    except ValueError as e:
        raise ModelFileError(f"{source}: {e}; export the model again") from None


class Parser:
    """An exported model and everything it needs to read text (see the module docstring)."""

    def __init__(self, model: str | Path | bytes):
        source = "model" if isinstance(model, bytes) else str(model)
        data = model if isinstance(model, bytes) else read_model_bytes(model)
        metadata = read_metadata(data, source)
        self.vocab = vocabulary_of(metadata, source)
        self.subwords = subwords_of(metadata, source)
        self.intents, self.tags = metadata["intents"], metadata["tags"]
        self.intent_domains: dict[str, str] = metadata.get("intent_domains", {})
        self.runner = open_runner(data, source)
        self.max_len = self.runner.max_len
        if metadata["tokenizer"]["max_len"] != self.max_len:
            raise ModelFileError(f"{source}: its metadata's max_len differs from its input's length")

    def parse(self, text: str) -> Parse:
        return self.analyze(text).parse

    def analyze(self, text: str) -> Analysis:
        """The parse and how it was reached: normalized text, token spans, ids, raw scores."""
        normalized = normalize(text)
        tokens = split_normalized(normalized)
        kept = tokens[: self.max_len]
        ids = token_ids([t.text for t in kept], self.vocab, self.max_len, self.subwords)
        spans = tuple((t.start, t.end) for t in kept)
        if not kept:
            empty = Parse(text, None, 0.0, None, slots=(), tokens=(), tags=(), truncated=False, empty=True)
            return Analysis(empty, normalized, spans, ids, raw=None)
        raw = self.runner.raw_one(ids)
        intent = self.intents[int(raw[0].argmax())]
        scores = self.runner.dequantize(raw)[0].astype(np.float64)
        tags = tuple(self.tags[t] for t in viterbi_bio(raw[1][: len(kept)].astype(np.float64), self.tags))
        parse = Parse(
            text,
            intent,
            float(np.exp(log_softmax(scores)).max()),
            self.intent_domains.get(intent),
            slots=self._slots(text, kept, list(tags)),
            tokens=tuple(t.text for t in kept),
            tags=tags,
            truncated=len(tokens) > self.max_len,
            empty=False,
        )
        return Analysis(parse, normalized, spans, ids, raw=raw)

    @staticmethod
    def _slots(text: str, tokens, tags: list[str]) -> tuple[Slot, ...]:
        """Spans of tokens -> spans of the original text (through the normalization)."""
        lengths = normalized_prefix_lengths(text)
        slots = []
        for first, last, kind in sorted(bio_spans(tags)):
            start, end = original_span(lengths, tokens[first].start, tokens[last - 1].end)
            slots.append(Slot(kind, text[start:end], start, end))
        return tuple(slots)
