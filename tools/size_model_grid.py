"""The size model against real exports: predicted bytes (untrained) vs the trained file's.

    python tools/size_model_grid.py --data=../shared/data/hwu64 --format=massive \\
        --out=bench/size_grid --results=tools/results/size_model_hwu64.json

For each configuration of a grid spanning every lever of `tflnlu.fit.space` (DPQ shape,
vocabulary cut, width, pooling, weight bits, scales), the size model predicts the file
bytes from the untrained model; then the configuration is trained for `--epochs` (sizes do
not depend on how long) and exported with `tflnlu-export`'s own function, and the real
file's bytes are read. The results file holds every pair and the largest relative error
(tflnlu-fit's target: at most 2%). With --target=mcu the TFLite-Micro arena is compared too.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from absl import app, flags

from tflnlu.data.load import load_data
from tflnlu.export.export import export_run
from tflnlu.fit import size_model
from tflnlu.fit.space import Candidate
from tflnlu.io import write_json_atomic
from tflnlu.train.config import TrainConfig
from tflnlu.train.trainer import train

FLAGS = flags.FLAGS
flags.DEFINE_string("data", None, "Data set directory (default: the built-in one).")
flags.DEFINE_string("format", "massive", "Format of --data.")
flags.DEFINE_string("clinc_oos", "drop", "CLINC150 out-of-scope rows.")
flags.DEFINE_string("out", "bench/size_grid", "Work directory (runs and exports).")
flags.DEFINE_string("results", "tools/results/size_model_grid.json", "Results file.")
flags.DEFINE_integer("epochs", 1, "Training epochs per configuration.", lower_bound=1)
flags.DEFINE_enum("target", "desktop", ["desktop", "mcu"], "mcu: compare the TFLM arena too.")

# One change of each lever from a middle point, and a few corners.
GRID = (
    Candidate(dpq="16x8", min_count=2, width=64, pooling="max_mean", weight_bits=8, per_channel=True),
    Candidate(dpq="16x8", min_count=2, width=64, pooling="max_mean", weight_bits=8, per_channel=False),
    Candidate(dpq="4x16", min_count=2, width=64, pooling="max_mean", weight_bits=4, per_channel=False),
    Candidate(dpq="16x32", min_count=1, width=64, pooling="max_mean", weight_bits=8, per_channel=True),
    Candidate(dpq="16x4", min_count=5, width=32, pooling="max", weight_bits=4, per_channel=False),
    Candidate(dpq="4x8", min_count=3, width=24, pooling="max", weight_bits=4, per_channel=True),
    Candidate(dpq="16x16", min_count=1, width=48, pooling="max", weight_bits=8, per_channel=False),
    Candidate(dpq="4x16", min_count=2, width=32, pooling="max_mean", weight_bits=4, per_channel=False),
)


def measure(candidate: Candidate, splits: dict, work: Path, index: int) -> dict:
    """Predicted and real bytes (and arena) of one configuration."""
    predicted = size_model.estimate(candidate, splits["train"], target=FLAGS.target)
    run = work / f"run_{index}"
    config = TrainConfig(epochs=FLAGS.epochs, **candidate.train_options())
    train(splits, run, candidate.model_options(), config, overwrite=True, log=lambda line: None)
    options = candidate.export_options(qat_epochs=1, golden="none", target=FLAGS.target)
    result = export_run(run, work / f"export_{index}", splits, options, log=lambda line: None, overwrite=True)
    real = result["size"]["file_bytes"]
    row = {
        "candidate": dataclasses.asdict(candidate),
        "predicted_bytes": predicted.file_bytes,
        "real_bytes": real,
        "relative_error": (predicted.file_bytes - real) / real,
        "predicted_components": predicted.components,
        "real_components": result["size"]["components"],
    }
    if FLAGS.target == "mcu":
        row.update(predicted_arena=predicted.arena_bytes, real_arena=result["mcu"]["arena_bytes"])
    return row


def main(argv):
    del argv
    splits, _ = load_data(FLAGS.data, FLAGS.format, clinc_oos=FLAGS.clinc_oos, log=print)
    work = Path(FLAGS.out)
    rows = []
    for index, candidate in enumerate(GRID):
        rows.append(measure(candidate, splits, work, index))
        row = rows[-1]
        print(
            f"[{index + 1}/{len(GRID)}] {candidate.describe()}: predicted {row['predicted_bytes']:,} "
            f"real {row['real_bytes']:,} ({row['relative_error']:+.2%})",
            flush=True,
        )
        summary = {
            "data": FLAGS.data or "built-in",
            "target": FLAGS.target,
            "largest_relative_error": max(abs(r["relative_error"]) for r in rows),
            "rows": rows,
        }
        write_json_atomic(Path(FLAGS.results), summary)  # after every row: an interrupted grid keeps its rows
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}))


if __name__ == "__main__":
    app.run(main)
