"""Training throughput on a data set (default: all 65 built-in languages) and whether the
input pipeline is the bottleneck: seconds per step with it, without it, and it alone.

    python tools/bench_throughput.py --languages=all --out=tools/results/throughput_ha65.json

Uses the model `tflnlu-train` would build with the given options (default: the default DPQ
model) and its training step; epochs repeat when the train split has fewer batches than the timing needs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import tflnlu  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
from tflnlu.data.load import load_data
from tflnlu.io import write_json_atomic
from tflnlu.models.joint import build_model
from tflnlu.train.config import TrainConfig
from tflnlu.train.trainer import TrainingData, step_timings, vocabulary_and_labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--format", default="massive")
    parser.add_argument("--languages", default="all")
    parser.add_argument("--model", default="{}", help='model options as JSON, e.g. {"embedding": "full"}')
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    started = time.monotonic()
    splits, info = load_data(args.data, args.format, languages=args.languages.split(","))
    loaded = time.monotonic() - started
    config = TrainConfig()
    vocab, labels, model_config = vocabulary_and_labels(splits["train"], config, json.loads(args.model))
    data = TrainingData.encode(splits, vocab, labels, model_config)
    timings = step_timings(build_model(model_config), data, config, steps=args.steps)
    result = {
        "data": info,
        "train_examples": len(splits["train"]),
        "vocabulary": len(vocab),
        "model": json.loads(args.model),
        "seconds_to_load_data": loaded,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        **timings,
    }
    write_json_atomic(Path(args.out), result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
