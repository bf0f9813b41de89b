"""One entry point to a data set: a path and format, or the built-in set when no path is given."""

from __future__ import annotations

from pathlib import Path

from tflnlu.data.readers import read_splits


def load_data(
    data: str | None,
    fmt: str,
    *,
    languages: list[str] = ("en",),
    clinc_oos: str = "label",
    skip_bad_rows: bool = False,
    log=print,
):
    """Splits and a description of where they came from (stored in the run's config)."""
    if data is None:
        from tflnlu.data.builtin import BUILTIN_NAME, load_builtin, resolve_languages

        languages = list(resolve_languages(languages))  # "all" recorded as the languages it meant
        shown = ",".join(languages) if len(languages) <= 5 else f"{len(languages)} languages"
        log(f"no --data: using the built-in data set ({BUILTIN_NAME}, {shown})")
        return load_builtin(tuple(languages), log=log), {"source": BUILTIN_NAME, "languages": languages}
    report = read_splits(Path(data), fmt, skip_bad=skip_bad_rows, clinc_oos=clinc_oos)
    if report.skipped:
        log(f"skipped {report.skipped} bad rows; first: {report.skipped_reasons[0]}")
    # absolute: the run (and the export after it) may be used from another directory
    info = {"source": str(Path(data).resolve()), "format": fmt, "skipped_rows": report.skipped}
    if fmt == "clinc150":
        info["clinc_oos"] = clinc_oos
    return report.splits, info
