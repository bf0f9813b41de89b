"""Benchmark: the fp32 `full` embedding against task-aware DPQ on one data set.

    python tools/bench_embeddings.py --data=../shared/data/hwu64 --out=tools/results/embeddings_hwu64.json

Trains each variant with the same encoder, heads and training settings, one after the other,
and writes a results file with, per variant: test/dev metrics, parameters and deployed bytes
of the embedding and of the rest, seconds per epoch, and the issue's targets checked
(full: intent >= 0.86 and slot F1 >= 0.70 on test; dpq: embedding >= 30x smaller than the
fp32 table and within 2% relative of full on both).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from absl import app, flags

from tflnlu.data.readers import read_splits
from tflnlu.io import write_json_atomic
from tflnlu.train.config import TrainConfig
from tflnlu.train.trainer import train

FLAGS = flags.FLAGS
flags.DEFINE_string("data", "../shared/data/hwu64", "MASSIVE-format data directory.")
flags.DEFINE_string("out", "tools/results/embeddings_hwu64.json", "Results file to write.")
flags.DEFINE_string("runs", None, "Where to keep the run directories (default: a temporary one).")
flags.DEFINE_integer("epochs", 60, "Maximum epochs per variant.")
flags.DEFINE_integer("seed", 0, "Seed.")

VARIANTS = {
    "full": {"embedding": "full"},
    "dpq_sx_k16_d16": {"embedding": "dpq", "dpq_variant": "sx", "dpq_k": 16, "dpq_d": 16},
    "dpq_vq_k16_d16": {"embedding": "dpq", "dpq_variant": "vq", "dpq_k": 16, "dpq_d": 16},
}
TARGETS = {"full_intent": 0.86, "full_slot_f1": 0.70, "dpq_min_ratio": 30.0, "dpq_max_rel_drop": 0.02}


def relative_drop(value: float, reference: float) -> float:
    return (reference - value) / reference


def check_targets(results: dict) -> dict:
    full = results["full"]
    full_bytes = full["sizes"]["embedding"]["bytes"]
    checks = {
        "full_intent_accuracy >= 0.86": full["test"]["intent_accuracy"] >= TARGETS["full_intent"],
        "full_slot_f1 >= 0.70": full["test"]["slot_f1"] >= TARGETS["full_slot_f1"],
    }
    for name, r in results.items():
        if name == "full" or "error" in r:
            continue
        ratio = full_bytes / r["sizes"]["embedding"]["bytes"]
        r["embedding_compression_x"] = ratio
        r["relative_drop"] = {
            k: relative_drop(r["test"][k], full["test"][k]) for k in ("intent_accuracy", "slot_f1")
        }
        checks[f"{name}: embedding >= 30x smaller ({ratio:.1f}x)"] = ratio >= TARGETS["dpq_min_ratio"]
        checks[f"{name}: within 2% relative of full"] = all(
            d <= TARGETS["dpq_max_rel_drop"] for d in r["relative_drop"].values()
        )
    return checks


def main(argv):
    del argv
    splits = read_splits(Path(FLAGS.data), "massive").splits
    runs = Path(FLAGS.runs or tempfile.mkdtemp(prefix="tflnlu-bench-"))
    results = {}
    for name, options in VARIANTS.items():
        print(f"== {name} ({list(VARIANTS).index(name) + 1}/{len(VARIANTS)})", flush=True)
        started = time.monotonic()
        metrics = train(
            splits,
            runs / name,
            options,
            TrainConfig(epochs=FLAGS.epochs, seed=FLAGS.seed),
            data_info={"source": FLAGS.data},
            overwrite=True,
            log=lambda line: print(line, flush=True),
        )
        results[name] = {
            "options": options,
            "test": metrics["splits"]["test"],
            "dev": metrics["splits"]["dev"],
            "sizes": metrics["sizes"],
            "seconds_per_epoch": metrics["seconds_per_epoch"],
            "epochs_run": metrics["epochs_run"],
            "best_epoch": metrics["best_epoch"],
            "seconds_total": time.monotonic() - started,
        }
    checks = check_targets(results)
    report = {
        "data": FLAGS.data,
        "seed": FLAGS.seed,
        "train_config": TrainConfig().__dict__,
        "results": results,
        "targets_met": checks,
    }
    write_json_atomic(Path(FLAGS.out), report)
    for name, r in results.items():
        print(
            f"{name:18s} test intent {r['test']['intent_accuracy']:.4f} slot F1 {r['test']['slot_f1']:.4f} "
            f"embedding {r['sizes']['embedding']['bytes']:,} B  {r['seconds_per_epoch']:.1f} s/epoch"
        )
    for check, ok in checks.items():
        print(("MET     " if ok else "NOT MET ") + check)
    print(json.dumps({"written": FLAGS.out}))
    return 0


if __name__ == "__main__":
    sys.exit(app.run(main))
