"""`tflnlu-eval`: run an exported .tflite over a data split in LiteRT.

    tflnlu-eval --model=out/hwu64/model.tflite --data=../shared/data/hwu64 --format=massive

A model with the fused custom op runs through the LiteRT C API with the tflnlu kernel
registered; any other runs in LiteRT's Interpreter. The model file is self-contained: vocabulary, labels and max length come from its tflnlu
metadata. Prints intent accuracy, slot F1, exact match and latency, next to the Keras
models' numbers when the export's `export.json` sits beside the model.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from absl import app, flags, logging

from tflnlu.data.example import DataError
from tflnlu.data.load import load_data
from tflnlu.data.readers import FORMATS
from tflnlu.data.vocab import Vocabulary
from tflnlu.export.flatbuffer import ModelFileError, read_model
from tflnlu.export.kernel import CUSTOM_OP_NAME
from tflnlu.export.metadata import read_metadata
from tflnlu.runtime.litert import LiteRTModel
from tflnlu.runtime.litert_c import LiteRTCustomOpModel
from tflnlu.train.encode import LabelSet, encode
from tflnlu.train.metrics import summary
from tflnlu.train.predict import evaluate

FLAGS = flags.FLAGS
flags.DEFINE_string("model", None, "Exported .tflite.")
flags.DEFINE_string("data", None, "Data set (default: the built-in one).")
flags.DEFINE_enum("format", "massive", FORMATS, "Format of --data.")
flags.DEFINE_enum("split", "test", ["train", "dev", "test"], "Split to evaluate.")


def run(model_path: str, data: str | None, fmt: str, split: str = "test", log=print) -> dict:
    model_bytes = Path(model_path).read_bytes()
    metadata = read_metadata(model_bytes)
    vocab = Vocabulary(metadata["vocab"])
    labels = LabelSet(metadata["intents"], metadata["tags"], metadata["domains"])
    splits, _ = load_data(data, fmt, ["en"], "label", False, log)
    examples = splits[split]
    ids = encode(examples, vocab, labels, metadata["tokenizer"]["max_len"]).ids
    custom = CUSTOM_OP_NAME in read_model(model_bytes).operators
    model = LiteRTCustomOpModel(model_bytes) if custom else LiteRTModel(model_bytes)
    log(
        f"running {'the fused custom op through the LiteRT C API' if custom else 'LiteRT Interpreter (builtin ops)'}"
    )
    metrics = evaluate(model, ids, examples, labels)
    metrics["latency"] = model.latency_ms()
    rows = [("tflite (LiteRT)", metrics)]
    export_json = Path(model_path).with_name("export.json")
    if export_json.is_file() and split == "test":
        tests = json.loads(export_json.read_text(encoding="utf-8"))["test"]
        rows += [("keras fp32", tests["fp32_keras"]), ("keras QAT", tests["qat_keras"])]
    for name, m in rows:
        log(f"{name:<15} {summary(m)}")
    log(
        f"LiteRT latency, 1 thread: mean {metrics['latency']['mean_ms']:.3f} ms, p90 {metrics['latency']['p90_ms']:.3f} ms"
    )
    return metrics


def main(argv: list[str]) -> int:
    logging.set_verbosity(logging.WARNING)  # TensorFlow's checkpoint chatter would drown the progress lines
    if len(argv) > 1 or not FLAGS.model:
        raise app.UsageError("usage: tflnlu-eval --model=MODEL.tflite [--data=DIR --format=FMT]")
    try:
        run(FLAGS.model, FLAGS.data, FLAGS.format, FLAGS.split)
    except (ModelFileError, DataError, ValueError, FileNotFoundError) as e:
        print(f"tflnlu-eval: error: {e}", file=sys.stderr)
        return 2
    return 0


def entry_point() -> None:
    app.run(main)
