"""`tflnlu-export`: QAT fine-tuning and int8 .tflite export of a trained run, verified in LiteRT.

    tflnlu-export --run=runs/hwu64 --lookup=builtin --max_bytes=150000 --out=out/hwu64

Reads the run's data again (or --data/--format), fine-tunes with fake quantization, converts,
evaluates the .tflite in LiteRT on the test split, checks --max_bytes before writing, and
writes model.tflite, export.json (metrics, sizes, latency), vocab and label files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from absl import app, flags, logging

from tflnlu.data.builtin import BUILTIN_NAME
from tflnlu.data.example import DataError
from tflnlu.data.load import load_data
from tflnlu.data.readers import FORMATS
from tflnlu.export.export import LOOKUPS, TARGETS, ExportOptions, export_run
from tflnlu.export.size import BudgetExceeded, format_report
from tflnlu.train.metrics import summary

FLAGS = flags.FLAGS
flags.DEFINE_string("run", None, "Run directory written by tflnlu-train.")
flags.DEFINE_string("out", None, "Directory to write the export to.")
flags.DEFINE_enum("lookup", "builtin", LOOKUPS, "Codebook lookup lowering.")
flags.DEFINE_enum("code_bits", None, ["8", "4", "2"], "Bits per stored code (default: fewest that hold K).")
flags.DEFINE_integer(
    "qat_epochs", ExportOptions.qat_epochs, "Quantization-aware fine-tuning epochs.", lower_bound=1
)
flags.DEFINE_float(
    "qat_learning_rate", ExportOptions.qat_learning_rate, "QAT learning rate.", lower_bound=0.0
)
flags.DEFINE_bool("per_channel", True, "Per-channel weight scales (more accurate, 12 bytes per channel).")
flags.DEFINE_integer("max_bytes", None, "Fail (and write nothing) if the .tflite is larger.", lower_bound=1)
flags.DEFINE_enum(
    "target", "desktop", TARGETS, "mcu: also verify in TFLite-Micro and write C sources and the op resolver."
)
flags.DEFINE_integer(
    "max_flash_bytes", None, "--target=mcu: fail if the flatbuffer is larger.", lower_bound=1
)
flags.DEFINE_integer(
    "max_arena_bytes", None, "--target=mcu: fail if the TFLM arena needs more.", lower_bound=1
)
flags.DEFINE_string("data", None, "Data for QAT and evaluation (default: the run's own).")
flags.DEFINE_enum("format", None, FORMATS, "Format of --data (default: the run's).")


def run(
    run_dir: str, out: str, options: ExportOptions, data: str | None = None, fmt: str | None = None, log=print
) -> dict:
    config = json.loads((Path(run_dir) / "config.json").read_text(encoding="utf-8"))
    source = config["data"]
    if not data and not source:
        raise ValueError(f"{run_dir} does not record its data (trained through the Python API): pass --data")
    data = data or (None if source.get("source") == BUILTIN_NAME else source.get("source"))
    splits, _ = load_data(
        data,
        fmt or source.get("format", "massive"),
        source.get("languages", ["en"]),
        source.get("clinc_oos", "label"),
        False,
        log,
    )
    result = export_run(Path(run_dir), Path(out), splits, options, log)
    log(format_report(result["size"]))
    tests = result["test"]
    for name in ("fp32_keras", "qat_keras", "tflite"):
        log(f"{name:<11} {summary(tests[name])}")
    log(
        f"intent agreement with the QAT Keras model {result['intent_agreement_with_qat_keras']:.4f}; "
        f"LiteRT latency {result['latency']['mean_ms']:.3f} ms/utterance; "
        f"{result['compression']:.2%} smaller than the fp32 reference ({result['reference_fp32_bytes']:,} B)"
    )
    if "mcu" in result:
        log(format_mcu(result["mcu"]))
    log(f"export written to {out}")
    return result


def format_mcu(mcu: dict) -> str:
    versus = mcu["versus_litert_reference_kernels"]
    lines = [
        f"TFLite-Micro {mcu['tflite_micro_version']}: {summary(mcu['test'])}",
        f"  flash {mcu['flash_bytes']:,} B; tensor arena {mcu['arena_bytes']:,} B (fails at {mcu['fails_at_bytes']:,} B)",
        f"  {mcu['resolver_size']} operator kinds: "
        + ", ".join(f"{op} x{n}" for op, n in mcu["operators"].items()),
        f"  versus LiteRT reference kernels: identical int8 outputs on {versus['identical_outputs']:.2%} of test "
        f"utterances, same intent on {versus['same_intent']:.2%}, largest difference {versus['largest_int8_difference']}",
    ]
    first = versus["first_differing_operator"]
    if first:
        lines.append(
            f"  first differing operator: #{first['operator_index']} {first['operator']} (by {first['largest_difference']})"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    logging.set_verbosity(logging.WARNING)  # TensorFlow's checkpoint chatter would drown the progress lines
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    if not FLAGS.run or not FLAGS.out:
        raise app.UsageError("--run and --out are required")
    options = ExportOptions(
        lookup=FLAGS.lookup,
        code_bits=int(FLAGS.code_bits) if FLAGS.code_bits else None,
        qat_epochs=FLAGS.qat_epochs,
        qat_learning_rate=FLAGS.qat_learning_rate,
        max_bytes=FLAGS.max_bytes,
        per_channel=FLAGS.per_channel,
        target=FLAGS.target,
        max_flash_bytes=FLAGS.max_flash_bytes,
        max_arena_bytes=FLAGS.max_arena_bytes,
    )
    try:
        run(FLAGS.run, FLAGS.out, options, FLAGS.data, FLAGS.format)
    except BudgetExceeded as e:
        print(f"tflnlu-export: size budget exceeded: {e}", file=sys.stderr)
        return 3
    except (DataError, ValueError, FileNotFoundError) as e:
        print(f"tflnlu-export: error: {e}", file=sys.stderr)
        return 2
    return 0


def entry_point() -> None:
    app.run(main)
