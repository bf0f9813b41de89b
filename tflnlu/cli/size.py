"""`tflnlu-size model.tflite --max_bytes=N`: the size report, failing CI when a model grows.

The file is checked before it is measured: a truncated or damaged flatbuffer, a checksum that
does not match, or damaged tflnlu metadata exit 2 naming the problem. A .tflite that tflnlu did
not write (no metadata) is measured all the same, and said so.
"""

from __future__ import annotations

from tflnlu.cli.common import Command, FlagDefiner, UsageError
from tflnlu.modelfile.flatbuffer import CHECKSUM_METADATA, read_model, read_model_bytes
from tflnlu.modelfile.metadata import METADATA_NAME, read_metadata
from tflnlu.modelfile.size import check_budget, format_report, overhead_report, size_report


def define_flags(define: FlagDefiner) -> None:
    define.integer("max_bytes", None, "Exit 3 if the model is larger than this.", lower_bound=1)
    define.bool("overhead", False, "Also break the non-constant bytes down: names, shapes, quantization, ...")


def main(values, positional: list[str]) -> int:
    if len(positional) != 1:
        raise UsageError("give exactly one model file")
    path = positional[0]
    data = read_model_bytes(path)
    info = read_model(data, path)  # ModelFileError: truncated, corrupt, checksum mismatch
    if METADATA_NAME in info.metadata:
        read_metadata(data, path)  # damaged metadata is an error here too
    else:
        print(f"{path}: no tflnlu metadata (not written by tflnlu-export); measured all the same")
    if CHECKSUM_METADATA not in info.metadata and METADATA_NAME in info.metadata:
        print(f"{path}: no checksum (exported by an older tflnlu): damage cannot be detected")
    report = size_report(info)
    print(format_report(report))
    if values.overhead:
        metadata = sum(len(v) for v in info.metadata.values())
        print(f"{report['components']['overhead']:>10,} bytes  overhead, of which:")
        print(f"{metadata:>10,} bytes    metadata contents ({', '.join(info.metadata)})")
        for name, size in overhead_report(data).items():
            print(f"{size:>10,} bytes    {name}")
    check_budget(report, values.max_bytes, path)
    return 0


COMMAND = Command("tflnlu-size", "tflnlu-size MODEL.tflite [--max_bytes=N]", define_flags, main)
