"""`tflnlu-eval`: run an exported .tflite over one data split in LiteRT.

    tflnlu-eval --model=out/hwu64/model.tflite --data=../shared/data/hwu64 --format=massive

Every model runs in LiteRT's Interpreter; one with the fused custom op gets the tflnlu
delegate (or, with --custom_op_route=compiled_model, runs through the LiteRT C API with the
tflnlu kernel registered). The model file is self-contained:
vocabulary, labels and max length come from its tflnlu metadata. Only the split evaluated is
read (a test file alone is enough). Without --data, the data the export measured (recorded
in the `export.json` beside the model) is used, and said so. Labels the model does not know
are refused (they could only be counted wrong), or with --unknown_labels=report scored and
counted separately. The Keras models' numbers from `export.json` are printed beside the
file's only when the data is the very split the export measured (same fingerprint).
"""

from __future__ import annotations

import json
from pathlib import Path

from tflnlu.cli.common import Command, FlagDefiner, UsageError
from tflnlu.data.builtin import BUILTIN_NAME
from tflnlu.data.example import DataError, fingerprint
from tflnlu.data.readers import CLINC_OOS_CHOICES, FORMATS, SPLITS, read_split
from tflnlu.export.options import EXPORT_JSON
from tflnlu.modelfile.flatbuffer import read_model_bytes
from tflnlu.modelfile.metadata import read_metadata
from tflnlu.nlu.encode import LabelSet, encode, unknown_intents, unknown_slot_types
from tflnlu.nlu.metrics import summary
from tflnlu.nlu.scoring import evaluate
from tflnlu.runtime.litert_c import LiteRTCustomOpModel
from tflnlu.runtime.parser import CUSTOM_OP_ROUTES, open_runner, subwords_of, vocabulary_of

UNKNOWN_LABEL_POLICIES = ("refuse", "report")


def define_flags(define: FlagDefiner) -> None:
    define.string("model", None, "Exported .tflite.")
    define.string("data", None, "Data: a directory, or one file (default: the data its export.json records).")
    define.enum("format", None, FORMATS, "Format of --data (default: the one its export.json records).")
    define.enum(
        "clinc_oos", "label", list(CLINC_OOS_CHOICES), "CLINC150 out-of-scope rows: an intent, or dropped."
    )
    define.enum("split", "test", list(SPLITS), "Split to evaluate.")
    define.enum(
        "unknown_labels",
        "refuse",
        list(UNKNOWN_LABEL_POLICIES),
        "Labels the model does not know: refuse the data, or report: score them (counted wrong) and count them.",
    )
    define.enum(
        "custom_op_route",
        "interpreter",
        list(CUSTOM_OP_ROUTES),
        "A custom-op file: the Interpreter with the tflnlu delegate, or the LiteRT C API's CompiledModel.",
    )


def export_record(model_path: str, log=print) -> dict | None:
    """export.json beside the model, checked; None when absent or damaged (said, not used)."""
    path = Path(model_path).with_name(EXPORT_JSON)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        _check_record(record)
        return record
    except (UnicodeDecodeError, ValueError) as e:
        log(f"{path} is damaged ({e}): its data and Keras numbers are not used")
        return {"damaged": f"{path} is damaged ({e})"}


def _check_record(record: object) -> None:
    """The parts of export.json eval relies on have the types export writes."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    data, tests = record.get("data", {}), record.get("test", {})
    if not isinstance(data, dict) or not isinstance(data.get("source", ""), str):
        raise ValueError("'data' is not an object with a 'source' path")
    if not isinstance(tests, dict) or not all(
        isinstance(tests.get(k, {}), dict) for k in ("fp32_keras", "qat_keras")
    ):
        raise ValueError("'test' does not hold the Keras models' metrics")


def load_split(
    data: str | None, fmt: str | None, split: str, *, clinc_oos: str, record: dict | None, log=print
):
    """The examples of `split` and where they came from."""
    recorded = (record or {}).get("data") or {}
    if data is None:
        if not recorded.get("source"):
            why = (record or {}).get(
                "damaged"
            ) or "no export.json beside the model records which data it measured"
            raise UsageError(f"pass --data ({why})")
        data, fmt = recorded["source"], fmt or recorded.get("format", "massive")
        clinc_oos = recorded.get("clinc_oos", clinc_oos)
        log(f"no --data: using the data the export measured, {data}")
    if data == BUILTIN_NAME:
        from tflnlu.data.builtin import load_builtin

        return load_builtin(tuple(recorded.get("languages", ["en"])))[split], data
    report = read_split(Path(data), fmt or "massive", split, clinc_oos)
    return report.splits[split], data


def check_labels(examples, labels: LabelSet, policy: str, where: str) -> dict:
    """Counts of utterances and slot spans whose labels the model does not know; refused
    unless policy is "report"."""
    intents, slots = unknown_intents(examples, labels), unknown_slot_types(examples, labels)
    counts = {"intent_examples": sum(intents.values()), "slot_spans": sum(slots.values())}
    if (intents or slots) and policy == "refuse":
        named = sorted(intents)[:3] + sorted(slots)[:3]
        raise DataError(
            where,
            None,
            f"{counts['intent_examples']} of {len(examples)} utterances have intents and {counts['slot_spans']} "
            f"slot spans have types the model does not know ({', '.join(repr(n) for n in named)}): this is "
            "not the data it was trained on. Pass that data (--data, --format), or --unknown_labels=report to "
            "score them anyway (counted wrong, and counted separately)",
        )
    return counts


def run(
    model_path: str,
    data: str | None = None,
    fmt: str | None = None,
    split: str = "test",
    *,
    clinc_oos: str = "label",
    unknown_labels: str = "refuse",
    custom_op_route: str = "interpreter",
    log=print,
) -> dict:
    model_bytes = read_model_bytes(model_path)
    metadata = read_metadata(model_bytes, model_path)
    vocab = vocabulary_of(metadata, model_path)
    labels = LabelSet(metadata["intents"], metadata["tags"], metadata["domains"])
    record = export_record(model_path, log)
    examples, source = load_split(data, fmt, split, clinc_oos=clinc_oos, record=record, log=log)
    unknown = check_labels(examples, labels, unknown_labels, source)
    max_len, subwords = metadata["tokenizer"]["max_len"], subwords_of(metadata, model_path)
    ids = encode(examples, vocab, labels, max_len, subwords=subwords).ids
    model = open_runner(model_bytes, model_path, custom_op_route=custom_op_route)
    log(f"running {_route(model)}")
    metrics = evaluate(model, ids, examples, labels)
    metrics["latency"] = model.latency_ms()
    metrics["unknown_labels"] = unknown
    rows = [("tflite (LiteRT)", metrics)] + _keras_rows(record, split, examples, log)
    for name, m in rows:
        log(f"{name:<15} {summary(m)}")
    if metrics.get("by_language"):
        log(format_languages(metrics["by_language"]))
    if unknown["intent_examples"] or unknown["slot_spans"]:
        log(
            f"labels the model does not know: {unknown['intent_examples']} utterances (counted wrong), "
            f"{unknown['slot_spans']} slot spans (never found)"
        )
    log(
        f"LiteRT latency, 1 thread: mean {metrics['latency']['mean_ms']:.3f} ms, p90 {metrics['latency']['p90_ms']:.3f} ms"
    )
    return metrics


def _keras_rows(record: dict | None, split: str, examples, log) -> list[tuple[str, dict]]:
    """The export's Keras numbers, only for the very split the export measured."""
    if record is None or "damaged" in record or split != "test":
        return []
    measured = (record.get("data") or {}).get("test_sha256")
    tests = record.get("test") or {}
    if measured != fingerprint(examples) or not {"fp32_keras", "qat_keras"} <= set(tests):
        log("(the Keras numbers in export.json were measured on other data: not shown)")
        return []
    return [("keras fp32", tests["fp32_keras"]), ("keras QAT", tests["qat_keras"])]


def format_languages(by_language: dict) -> str:
    """One line per language, worst intent accuracy first (a pooled number can hide it)."""
    lines = ["per language (worst intent accuracy first):"]
    for language, m in sorted(by_language.items(), key=lambda item: item[1]["intent_accuracy"]):
        slot = "n/a" if m["slot_f1"] is None else f"{m['slot_f1']:.4f}"
        lines.append(
            f"  {language:<8} {m['examples']:>6,} utterances  intent {m['intent_accuracy']:.4f}  slot F1 {slot}"
        )
    return "\n".join(lines)


def _route(model) -> str:
    if isinstance(model, LiteRTCustomOpModel):
        return "the fused custom op through the LiteRT C API (CompiledModel)"
    if model.delegates:
        return "LiteRT Interpreter, the fused custom op on the tflnlu delegate"
    return "LiteRT Interpreter (builtin ops)"


def main(values, positional: list[str]) -> int:
    if positional or not values.model:
        raise UsageError(
            "--model is required" if not positional else f"unexpected arguments: {' '.join(positional)}"
        )
    run(
        values.model,
        values.data,
        values.format,
        values.split,
        clinc_oos=values.clinc_oos,
        unknown_labels=values.unknown_labels,
        custom_op_route=values.custom_op_route,
    )
    return 0


COMMAND = Command(
    "tflnlu-eval",
    "tflnlu-eval --model=MODEL.tflite [--data=PATH --format=FMT] [--split=test] [--unknown_labels=refuse|report]",
    define_flags,
    main,
)
