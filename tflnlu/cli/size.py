"""`tflnlu-size model.tflite --max_bytes=N`: the size report, failing CI when a model grows."""

from __future__ import annotations

import sys

from absl import app, flags

from tflnlu.export.flatbuffer import ModelFileError, read_model_file
from tflnlu.export.size import BudgetExceeded, check_budget, format_report, size_report

FLAGS = flags.FLAGS
flags.DEFINE_integer("max_bytes", None, "Exit 3 if the model is larger than this.", lower_bound=1)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        raise app.UsageError("usage: tflnlu-size MODEL.tflite [--max_bytes=N]")
    try:
        report = size_report(read_model_file(argv[1]))
    except ModelFileError as e:
        print(f"tflnlu-size: {e}", file=sys.stderr)
        return 2
    print(format_report(report))
    try:
        check_budget(report, FLAGS.max_bytes, argv[1])
    except BudgetExceeded as e:
        print(f"tflnlu-size: size budget exceeded: {e}", file=sys.stderr)
        return 3
    return 0


def entry_point() -> None:
    app.run(main)
