"""`tflnlu-export`: QAT fine-tuning and int8 .tflite export of a trained run, verified in LiteRT.

    tflnlu-export --run=runs/hwu64 --lookup=builtin --max_bytes=150000 --out=out/hwu64

Reads the run's data again (or --data/--format), fine-tunes with fake quantization, converts,
evaluates the .tflite in LiteRT on the test split, checks --max_bytes before writing, and
writes model.tflite, export.json (metrics, sizes, latency), vocab and label files.
"""

from __future__ import annotations

from pathlib import Path

from tflnlu.cli.common import Command, FlagDefiner, UsageError
from tflnlu.data.builtin import BUILTIN_NAME
from tflnlu.data.example import DataError
from tflnlu.data.hashed_vocab import FINGERPRINT_BITS
from tflnlu.data.load import load_data
from tflnlu.data.readers import FORMATS
from tflnlu.export.options import (
    GOLDEN_CHOICES,
    LOOKUPS,
    TARGETS,
    VOCABULARIES,
    WEIGHT_BITS,
    ExportOptions,
    check_export_output,
    check_options_fit_run,
)
from tflnlu.layers.codes import CODE_STORAGE_BITS
from tflnlu.modelfile.size import format_report
from tflnlu.nlu.metrics import summary
from tflnlu.train.run_dir import read_config


def define_flags(define: FlagDefiner) -> None:
    define.string("run", None, "Run directory written by tflnlu-train.")
    define.string("out", None, "Directory to write the export to.")
    define.enum("lookup", "builtin", LOOKUPS, "Codebook lookup lowering.")
    define.enum(
        "code_bits",
        None,
        [str(b) for b in CODE_STORAGE_BITS],
        "Bits per stored code (default: fewest that hold K).",
    )
    define.integer(
        "qat_epochs", ExportOptions.qat_epochs, "Quantization-aware fine-tuning epochs.", lower_bound=0
    )
    define.float("qat_learning_rate", ExportOptions.qat_learning_rate, "QAT learning rate.", lower_bound=0.0)
    define.float(
        "qat_weight_average",
        ExportOptions.qat_weight_average,
        "Decay of a moving average of the weights during QAT, evaluated and exported (0: off).",
        lower_bound=0.0,
        upper_bound=0.999999,
    )
    define.enum(
        "weight_bits",
        str(ExportOptions.weight_bits),
        [str(b) for b in WEIGHT_BITS],
        "Bits per convolution and dense weight (4: int4 filters, QAT at 4 bits; activations int8).",
    )
    define.bool("per_channel", True, "Per-channel weight scales (more accurate, 12 bytes per channel).")
    define.integer("max_bytes", None, "Fail (and write nothing) if the .tflite is larger.", lower_bound=1)
    define.enum(
        "target",
        "desktop",
        TARGETS,
        "mcu: also verify in TFLite-Micro and write C sources and the op resolver.",
    )
    define.integer("max_flash_bytes", None, "--target=mcu: fail if the flatbuffer is larger.", lower_bound=1)
    define.integer("max_arena_bytes", None, "--target=mcu: fail if the TFLM arena needs more.", lower_bound=1)
    define.string("data", None, "Data for QAT and evaluation (default: the run's own).")
    define.enum("format", None, FORMATS, "Format of --data (default: the run's).")
    define.bool("overwrite", False, "Replace an earlier export in --out (only its own files).")
    define.enum(
        "vocabulary",
        ExportOptions.vocabulary,
        VOCABULARIES,
        "The vocabulary in the file: its words, or hashed (no strings; unknown words false-accepted at 2^-bits).",
    )
    define.enum(
        "fingerprint_bits",
        str(ExportOptions.fingerprint_bits),
        [str(b) for b in FINGERPRINT_BITS],
        "--vocabulary=hashed: fingerprint bits per word.",
    )
    define.enum(
        "golden", "sample", list(GOLDEN_CHOICES), "Write golden.jsonl for the Java core's tests, or not."
    )


def run(
    run_dir: str,
    out: str,
    options: ExportOptions,
    data: str | None = None,
    fmt: str | None = None,
    log=print,
    *,
    overwrite: bool = False,
) -> dict:
    """The export job; `out` and the run are checked before the data is read."""
    run_config = read_config(Path(run_dir))
    check_options_fit_run(options, run_config)
    data, data_info = _recorded_data(Path(run_dir), run_config, data, fmt)
    check_export_output(Path(out), Path(run_dir), overwrite, data)
    from tflnlu.export.export import export_run  # TensorFlow: imported once the checks passed

    splits, _ = load_data(
        data,
        data_info["format"],
        languages=data_info["languages"],
        clinc_oos=data_info["clinc_oos"],
        log=log,
    )
    result = export_run(
        Path(run_dir), Path(out), splits, options, log=log, overwrite=overwrite, data_info=data_info
    )
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
    if result["vocabulary"]["kind"] == "hashed":
        log(format_hashed(result["vocabulary"]))
    log(f"export written to {out}")
    return result


def format_hashed(report: dict) -> str:
    rate = report["false_accept_rate"]
    measured = (
        "no unknown test tokens" if rate is None else f"{rate:.2%} of {report['unknown_test_tokens']:,}"
    )
    return (
        f"hashed vocabulary: {report['words']:,} words, {report['stored_bytes']:,} B "
        f"({report['bytes_per_word']:.2f} B/word at {report['fingerprint_bits']} bits); "
        f"unknown test tokens taken for known words: {measured}"
    )


def _recorded_data(run_dir: Path, run_config: dict, data: str | None, fmt: str | None) -> tuple:
    """The data to export with (--data, or what the run recorded) and its description."""
    source = run_config.get("data") or {}
    if not data and not source:
        raise ValueError(f"{run_dir} does not record its data (trained through the Python API): pass --data")
    recorded = None if data else source.get("source")
    data = data or (None if recorded == BUILTIN_NAME else recorded)
    config_file = run_dir / "config.json"
    if recorded and recorded != BUILTIN_NAME and not Path(recorded).exists():
        moved = f"no such file or directory: the data {config_file} records has moved; pass --data"
        raise DataError(recorded, None, moved)
    if not fmt and source.get("format", "massive") not in FORMATS:
        raise DataError(
            str(config_file), None, f"unknown data format {source.get('format')!r}: pass --format"
        )
    data_info = {
        "source": data or BUILTIN_NAME,
        "format": fmt or source.get("format", "massive"),
        "languages": source.get("languages", ["en"]),
        "clinc_oos": source.get("clinc_oos", "label"),
    }
    return data, data_info


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


def main(values, positional: list[str]) -> int:
    if positional:
        raise UsageError(f"unexpected arguments: {' '.join(positional)}")
    if not values.run or not values.out:
        raise UsageError("--run and --out are required")
    if values["fingerprint_bits"].present and values.vocabulary != "hashed":
        raise UsageError("--fingerprint_bits applies to --vocabulary=hashed only")
    options = ExportOptions(
        lookup=values.lookup,
        code_bits=int(values.code_bits) if values.code_bits else None,
        qat_epochs=values.qat_epochs,
        qat_learning_rate=values.qat_learning_rate,
        qat_weight_average=values.qat_weight_average,
        max_bytes=values.max_bytes,
        per_channel=values.per_channel,
        weight_bits=int(values.weight_bits),
        target=values.target,
        max_flash_bytes=values.max_flash_bytes,
        max_arena_bytes=values.max_arena_bytes,
        golden=values.golden,
        vocabulary=values.vocabulary,
        fingerprint_bits=int(values.fingerprint_bits),
    )
    run(values.run, values.out, options, data=values.data, fmt=values.format, overwrite=values.overwrite)
    return 0


COMMAND = Command(
    "tflnlu-export",
    "tflnlu-export --run=RUN_DIR --out=DIR [--lookup=builtin|custom] [--target=desktop|mcu] [--max_bytes=N]",
    define_flags,
    main,
    on_interrupt=lambda values: f"nothing was written to {values.out} (an earlier export there is unchanged)",
)
