"""Benchmark of exported files: size, LiteRT latency (1 thread) and accuracy next to Keras.

    python tools/bench_export.py --runs=full:/tmp/bench_runs/full,dpq:/tmp/bench_runs/dpq_sx_k16_d16 \\
        --results=tools/results/export_hwu64.json

Each `name:run_dir` is exported with `tflnlu-export`'s defaults (builtin lookup, QAT); each
DPQ run also with the fused custom op (`name_custom_op`, run through the LiteRT C API) and with
per-tensor weight scales (`name_per_tensor`). Measured on the
written .tflite: the run's test split in LiteRT, per-utterance latency, sizes per component.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from absl import app, flags

from tflnlu.cli.export import run as export
from tflnlu.export.export import ExportOptions
from tflnlu.io import write_json_atomic

FLAGS = flags.FLAGS
flags.DEFINE_list("runs", None, "name:run_dir pairs to export.")
flags.DEFINE_string("results", "tools/results/export_hwu64.json", "Results file.")


def main(argv):
    del argv
    results = {}
    work = Path(tempfile.mkdtemp(prefix="tflnlu-export-bench-"))
    for item in FLAGS.runs:
        name, run_dir = item.split(":", 1)
        variants = {name: ExportOptions()}
        if "dpq" in name:
            variants[f"{name}_custom_op"] = ExportOptions(lookup="custom")
            variants[f"{name}_per_tensor"] = ExportOptions(per_channel=False)
        for variant, options in variants.items():
            print(f"== {variant}", flush=True)
            result = export(run_dir, str(work / variant), options, log=lambda line: print(line, flush=True))
            results[variant] = {
                "run": run_dir,
                "file_bytes": result["size"]["file_bytes"],
                "components": result["size"]["components"],
                "compression_vs_fp32_reference": result["compression"],
                "reference_fp32_bytes": result["reference_fp32_bytes"],
                "latency_ms": result["latency"],
                "test": {
                    k: {m: v[m] for m in ("intent_accuracy", "slot_f1", "exact_match")}
                    for k, v in result["test"].items()
                },
                "intent_agreement_with_qat_keras": result["intent_agreement_with_qat_keras"],
                "identical_outputs_to_builtin": result.get("identical_outputs_to_builtin"),
                "options": result["options"],
            }
    write_json_atomic(Path(FLAGS.results), results)
    print(f"written {FLAGS.results}")
    return 0


if __name__ == "__main__":
    sys.exit(app.run(main))
