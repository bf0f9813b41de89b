"""Readers for the supported data formats; each yields `Example`s per split.

Formats: `massive` (MASSIVE 1.1 JSONL, as in ../shared/data/hwu64), `clinc150`
(`data_full.json`), `bio` (`word:TAG ... <=> intent` lines), `csv` (`text,intent`, or
tab-separated for .tsv). A bad row raises DataError naming file, line and what was
expected, unless `skip_bad=True`, in which case it is counted in `ReadReport.skipped`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tflnlu.data.example import DataError, Example, Piece, example_from_pieces

FORMATS = ("massive", "clinc150", "bio", "csv")
SPLITS = ("train", "dev", "test")
OOS_INTENT = "oos"
CLINC_OOS_CHOICES = ("label", "drop")  # CLINC150's out-of-scope rows: their own intent, or left out
_DEV_FRACTION_PERCENT = 10

# File names accepted for each split inside a data directory.
_SPLIT_FILE_STEMS = {"train": ("train",), "dev": ("dev", "valid", "validation", "val"), "test": ("test",)}
_EXTENSIONS = {"massive": (".jsonl",), "bio": (".txt", ".bio", ""), "csv": (".csv", ".tsv")}


@dataclass
class ReadReport:
    """What a read produced, and how many bad rows it skipped (with the first few reasons)."""

    splits: dict[str, list[Example]] = field(default_factory=dict)
    skipped: int = 0
    skipped_reasons: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- MASSIVE annot_utt

_SLOT_RE = re.compile(r"\[([^\[\]:]*?)\s*:\s*([^\[\]]*?)\]")


def parse_annotated(annot: str) -> list[Piece]:
    """`wake me at [time : five am]` -> [("wake me at ", None), ("five am", "time")]."""
    pieces: list[Piece] = []
    pos = 0
    for match in _SLOT_RE.finditer(annot):
        _check_no_brackets(annot[pos : match.start()], pos)
        slot, words = match.group(1).strip(), match.group(2).strip()
        if not slot or not re.fullmatch(r"[\w.\-]+", slot):
            raise ValueError(f"bad slot name {slot!r} in {match.group(0)!r}")
        if not words:
            raise ValueError(f"slot {slot!r} has no words in {match.group(0)!r}")
        pieces += [(annot[pos : match.start()], None), (words, slot)]
        pos = match.end()
    _check_no_brackets(annot[pos:], pos)
    pieces.append((annot[pos:], None))
    return [p for p in pieces if p[0]]


def _check_no_brackets(text: str, offset: int) -> None:
    for i, ch in enumerate(text):
        if ch in "[]":
            raise ValueError(
                f"unbalanced or malformed bracket {ch!r} at character {offset + i}: "
                "expected slots written as [slot_type : words]"
            )


def _massive_rows(lines: _Lines) -> Iterator[tuple[int, Callable[[], tuple[str, Example]]]]:
    for line in lines:
        if line.strip():
            yield lines.line_number, lambda line=line: _massive_example(line)


def _massive_example(line: str) -> tuple[str, Example]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"not a JSON object ({e.msg})") from None
    except RecursionError:
        raise ValueError("not a JSON object (nested too deeply)") from None
    if not isinstance(row, dict):
        raise ValueError("expected a JSON object per line")
    for key in ("intent", "annot_utt"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise ValueError(f"missing or empty field {key!r}")
    domain = row.get("scenario") or None
    if domain is not None and not isinstance(domain, str):
        raise ValueError(f"field 'scenario' must be a string, got {type(domain).__name__}")
    locale = row.get("locale") if isinstance(row.get("locale"), str) else None  # per-language metrics
    example = example_from_pieces(
        parse_annotated(row["annot_utt"]), _label(row["intent"]), domain, language=locale
    )
    return str(row.get("partition", "")), example


# ---------------------------------------------------------------- BIO research format


def parse_bio_line(line: str) -> tuple[list[Piece], str]:
    """`play:O queen:B-artist <=> play_music` -> pieces and intent. Words split on the last ':'."""
    if "<=>" not in line:
        raise ValueError("expected 'word:TAG word:TAG ... <=> intent'")
    left, _, intent = line.rpartition("<=>")
    intent = intent.strip()
    if not intent or " " in intent:
        raise ValueError(f"expected one intent label after '<=>', got {intent!r}")
    pieces: list[Piece] = []
    span_words: list[str] = []
    span_type: str | None = None

    def flush() -> None:
        nonlocal span_words, span_type
        if span_words:
            pieces.append((" ".join(span_words), span_type))
            pieces.append((" ", None))
        span_words, span_type = [], None

    items = left.split()
    if not items:
        raise ValueError("empty utterance: no word:TAG items before '<=>'")
    for item in items:
        word, sep, tag = item.rpartition(":")
        if not sep or not word:
            raise ValueError(f"expected word:TAG, got {item!r}")
        prefix, _, slot = tag.partition("-")
        if tag == "O":
            flush()
            pieces += [(word, None), (" ", None)]
        elif prefix in ("B", "I") and slot:
            if prefix == "B" or slot != span_type:
                flush()
                span_type = slot
            span_words.append(word)
        else:
            raise ValueError(f"tag {tag!r} of {word!r} is not O, B-type or I-type")
    flush()
    return pieces, intent


def _bio_rows(lines: _Lines) -> Iterator[tuple[int, Callable[[], tuple[str, Example]]]]:
    for line in lines:
        if line.strip():
            yield lines.line_number, lambda line=line: ("", example_from_pieces(*parse_bio_line(line)))


# ---------------------------------------------------------------- CSV / TSV


def _csv_rows(lines: _Lines) -> Iterator[tuple[int, Callable[[], tuple[str, Example]]]]:
    delimiter = "\t" if lines.path.suffix.lower() == ".tsv" else ","
    rows = csv.reader(lines, delimiter=delimiter)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as e:  # a field over csv's size limit, a NUL in a quoted field ...
            yield lines.line_number, lambda e=e: _raise(ValueError(f"not a CSV row ({e})"))
            continue
        number = lines.line_number
        if not row or not any(cell.strip() for cell in row):
            continue
        if number == 1 and _is_header(row):
            continue
        yield number, lambda row=row: ("", _csv_example(row))


CSV_HEADERS = ({"text", "utterance", "sentence", "query"}, {"intent", "label", "class", "category"})


def _is_header(row: list[str]) -> bool:
    """A first row naming its columns (text,intent / utterance,label ...), not an example."""
    cells = [c.strip().lower() for c in row]
    return len(cells) == 2 and cells[0] in CSV_HEADERS[0] and cells[1] in CSV_HEADERS[1]


def _raise(error: Exception):
    raise error


def _label(name: str) -> str:
    """An intent or slot name as stored one per line in a run: no line breaks."""
    if "\n" in name or "\r" in name:
        raise ValueError(f"label {name!r} contains a line break")
    return name


def _csv_example(row: list[str]) -> Example:
    if len(row) != 2:
        raise ValueError(f"expected 2 fields (text, intent), got {len(row)}")
    text, intent = row[0], row[1].strip()
    if not intent:
        raise ValueError("empty intent")
    return example_from_pieces([(text, None)], _label(intent))


# ---------------------------------------------------------------- CLINC150


def read_clinc150(path: Path, oos: str = "label", skip_bad: bool = False) -> ReadReport:
    """CLINC150 `data_full.json`. oos='label': out-of-scope is the intent 'oos'; 'drop': left out."""
    if oos not in CLINC_OOS_CHOICES:
        raise ValueError(f"oos must be one of {CLINC_OOS_CHOICES}, got {oos!r}")
    path = Path(path)
    if path.is_dir():
        path = path / "data_full.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(str(path), None, f"not a readable UTF-8 JSON file ({e})") from None
    report = ReadReport()
    for split, key in (("train", "train"), ("dev", "val"), ("test", "test")):
        keys = [key] + ([f"oos_{key}"] if oos == "label" else [])
        rows = [row for k in keys for row in _clinc_list(data, k, path)]
        report.splits[split] = []
        for index, row in enumerate(rows):
            where = f"{path}[{split}][{index}]"
            try:
                if not (isinstance(row, list) and len(row) == 2 and all(isinstance(c, str) for c in row)):
                    raise ValueError("expected [text, intent]")
                report.splits[split].append(example_from_pieces([(row[0], None)], row[1]))
            except ValueError as e:
                _bad_row(report, DataError(where, None, str(e)), skip_bad)
    return report


def _clinc_list(data: object, key: str, path: Path) -> list:
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise DataError(str(path), None, f"expected a JSON object with a list under {key!r}")
    return data[key]


# ---------------------------------------------------------------- common


class _Lines:
    """Iterate the lines of a UTF-8 file, remembering the current line number.

    Lines are decoded one at a time, so an encoding error is reported at its own line; with
    `report` (skip_bad_rows) such a line is counted there and skipped like any bad row.
    """

    def __init__(self, path: Path, report: ReadReport | None = None):
        self.path, self.line_number, self.report = path, 0, report
        try:
            self._file = open(path, "rb")  # noqa: SIM115
        except OSError as e:
            raise DataError(str(path), None, f"cannot read ({e.strerror})") from None

    def __iter__(self) -> Iterator[str]:
        for raw in self._file:
            self.line_number += 1
            try:
                yield raw.decode("utf-8-sig" if self.line_number == 1 else "utf-8")
            except UnicodeDecodeError as e:
                error = DataError(str(self.path), self.line_number, f"not UTF-8 text ({e.reason})")
                _bad_row(self.report, error, skip_bad=self.report is not None)

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()


_ROW_READERS = {"massive": _massive_rows, "bio": _bio_rows, "csv": _csv_rows}


def _bad_row(report: ReadReport, error: DataError, skip_bad: bool) -> None:
    if not skip_bad:
        raise error
    report.skipped += 1
    if len(report.skipped_reasons) < 20:
        report.skipped_reasons.append(str(error))


def read_file(path: Path, fmt: str, skip_bad: bool = False) -> tuple[dict[str, list[Example]], ReadReport]:
    """Read one file; rows carrying a 'partition' (MASSIVE) are grouped by it, others under ''."""
    report = ReadReport()
    groups: dict[str, list[Example]] = {}
    with _Lines(Path(path), report if skip_bad else None) as lines:
        for number, make in _ROW_READERS[fmt](lines):
            try:
                partition, example = make()
            except ValueError as e:
                _bad_row(report, DataError(str(path), number, str(e)), skip_bad)
                continue
            groups.setdefault(partition, []).append(example)
    return groups, report


def _find_split_file(directory: Path, split: str, fmt: str) -> Path | None:
    for stem in _SPLIT_FILE_STEMS[split]:
        for ext in _EXTENSIONS[fmt]:
            candidate = directory / f"{stem}{ext}"
            if candidate.is_file():
                return candidate
    return None


def stable_fraction(key: str) -> int:
    """A percentile 0..99 from a hash of `key`: the same on every machine and run."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % 100


def carve_dev(train: list[Example]) -> tuple[list[Example], list[Example]]:
    """Move a fixed ~10% of train (chosen by a hash of the text) to dev."""
    dev = [e for e in train if stable_fraction(e.text) < _DEV_FRACTION_PERCENT]
    rest = [e for e in train if stable_fraction(e.text) >= _DEV_FRACTION_PERCENT]
    return rest, dev


def read_splits(path: Path, fmt: str, skip_bad: bool = False, clinc_oos: str = "label") -> ReadReport:
    """train/dev/test examples of a data set given as a directory (one file per split) or a file.

    A MASSIVE locale file is split by its `partition` field. A missing dev split is carved
    from train; a missing train or test split is an error.
    """
    path = _existing_source(path, fmt)
    if fmt == "clinc150":
        report = read_clinc150(path, oos=clinc_oos, skip_bad=skip_bad)
    else:
        report = _read_file_splits(path, fmt, skip_bad) if path.is_file() else ReadReport()
        for split in SPLITS if path.is_dir() else ():
            file = _find_split_file(path, split, fmt)
            if file is not None:
                groups, part = read_file(file, fmt, skip_bad)
                _merge_skipped(report, part)
                report.splits[split] = [e for examples in groups.values() for e in examples]
    return _complete_splits(report, path, fmt)


def _existing_source(path: Path, fmt: str) -> Path:
    """The data path, checked to exist, and the format, checked to be one tflnlu reads."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    path = Path(path)
    if not path.exists():
        raise DataError(str(path), None, "no such file or directory")
    return path


def _merge_skipped(report: ReadReport, part: ReadReport) -> None:
    report.skipped += part.skipped
    report.skipped_reasons += part.skipped_reasons[: max(0, 20 - len(report.skipped_reasons))]


def _read_file_splits(path: Path, fmt: str, skip_bad: bool) -> ReadReport:
    """One file: rows split by their `partition` field (a MASSIVE locale file), or, when no row
    has one (CSV, BIO, plain JSONL), a fixed 10% test and 10% dev chosen by a hash of the text."""
    groups, report = read_file(path, fmt, skip_bad)
    if set(groups) <= {""}:
        rows = groups.get("", [])
        report.splits["test"] = [e for e in rows if 10 <= stable_fraction(e.text) < 20]
        report.splits["dev"] = [e for e in rows if stable_fraction(e.text) < _DEV_FRACTION_PERCENT]
        report.splits["train"] = [e for e in rows if stable_fraction(e.text) >= 20]
        return report
    bad = sorted(set(groups) - set(SPLITS))
    if bad:
        raise DataError(
            str(path),
            None,
            f"rows carry partition {bad[0]!r}: every row of a one-file data set needs a partition "
            "train/dev/test, or none has one (then 10% test and 10% dev are set aside by a hash of the text)",
        )
    report.splits = {split: groups[split] for split in SPLITS if split in groups}
    return report


def expected_files(split: str, fmt: str) -> str:
    """The file names a data directory may hold for `split`, for messages."""
    names = [f"{stem}{ext}" for stem in _SPLIT_FILE_STEMS[split] for ext in _EXTENSIONS.get(fmt, ())]
    return ", ".join(names[:4]) + (" ..." if len(names) > 4 else "")


def _complete_splits(report: ReadReport, path: Path, fmt: str) -> ReadReport:
    for split in ("train", "test"):
        if not report.splits.get(split):
            where = (
                f"expected a file named {expected_files(split, fmt)} in it"
                if path.is_dir()
                else f"expected rows with partition {split!r}"
            )
            raise DataError(str(path), None, f"no {split} examples found ({fmt} format): {where}")
    if not report.splits.get("dev"):
        report.splits["train"], report.splits["dev"] = carve_dev(report.splits["train"])
    return report


def read_split(
    path: Path, fmt: str, split: str, clinc_oos: str = "label", skip_bad: bool = False
) -> ReadReport:
    """One split alone (what `tflnlu-eval` scores): a directory's file of that split, a one-file
    data set's rows of that partition, or a whole file without partitions. Only the dev split
    of a directory without a dev file needs the train file too (it is carved from it)."""
    path = _existing_source(path, fmt)
    if fmt == "clinc150":
        report = read_clinc150(path, oos=clinc_oos, skip_bad=skip_bad)
        report.splits = {split: report.splits[split]}
        return report
    if path.is_dir():
        file = _find_split_file(path, split, fmt)
        if file is None and split == "dev" and _find_split_file(path, "train", fmt):
            full = read_splits(path, fmt, skip_bad)
            if not full.splits["dev"]:
                raise DataError(str(path), None, "no dev file, and the 10% of train carved as dev is empty")
            full.splits = {split: full.splits[split]}
            return full
        if file is None:
            raise DataError(str(path), None, f"no {split} file: expected {expected_files(split, fmt)} in it")
        path = file
    groups, report = read_file(path, fmt, skip_bad)
    examples = [e for e in groups.get("", [])] if set(groups) <= {""} else groups.get(split, [])
    if not examples:
        raise DataError(str(path), None, f"no {split} examples found ({fmt} format)")
    report.splits = {split: examples}
    return report
