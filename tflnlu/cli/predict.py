"""`tflnlu-predict`: ask an exported model what utterances mean (numpy and LiteRT only).

    tflnlu-predict --model=out/default/model.tflite "turn on the kitchen lights"
    tflnlu-predict --model=out/default/model.tflite --json < utterances.txt > parses.jsonl

Texts come from the arguments, or one per line from standard input when there are none. Each
parse gives the intent, its probability, the domain when the model knows it, and the slots
with their offsets into the text as given. Text longer than the model's max_len tokens is
parsed on its first max_len tokens (and marked truncated); text without tokens gets an empty
parse (marked empty), never an error.
"""

from __future__ import annotations

import json
import sys

from tflnlu.cli.common import Command, FlagDefiner, UsageError
from tflnlu.runtime.parser import Parse, Parser


def define_flags(define: FlagDefiner) -> None:
    define.string("model", None, "Exported .tflite.")
    define.bool("json", False, "One JSON object per text (JSON Lines) instead of readable text.")


def format_parse(parse: Parse) -> str:
    """Readable lines: the text, the intent (or why there is none), then one line per slot."""
    if parse.empty:
        return f"{parse.text!r}\n  (no tokens: nothing to parse)"
    domain = f", domain {parse.domain}" if parse.domain else ""
    lines = [repr(parse.text), f"  intent {parse.intent} ({parse.confidence:.2f}){domain}"]
    lines += [f"  {s.type:<16} {s.text!r} [{s.start}:{s.end}]" for s in parse.slots]
    if parse.truncated:
        lines.append(f"  (truncated: only the first {len(parse.tokens)} tokens were read)")
    return "\n".join(lines)


def texts_from(positional: list[str], stdin=None):
    """The arguments, or the lines of standard input (without their line ends)."""
    if positional:
        yield from positional
        return
    for line in stdin or sys.stdin:
        yield line.rstrip("\r\n")


def run(model: str, texts, *, as_json: bool = False, out=None) -> int:
    """Parse every text; returns how many were parsed."""
    out = out or sys.stdout
    parser = Parser(model)
    count = 0
    for text in texts:
        parse = parser.parse(text)
        print(json.dumps(parse.to_json(), ensure_ascii=False) if as_json else format_parse(parse), file=out)
        count += 1
    return count


def main(values, positional: list[str]) -> int:
    if not values.model:
        raise UsageError("--model is required")
    run(values.model, texts_from(positional), as_json=values.json)
    return 0


COMMAND = Command(
    "tflnlu-predict",
    'tflnlu-predict --model=MODEL.tflite [--json] "text" ... (or texts on standard input, one per line)',
    define_flags,
    main,
)
