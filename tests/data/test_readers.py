import json
import re

import pytest

from tests.conftest import require_hwu64
from tflnlu.data.example import DataError, bio_spans, example_from_pieces
from tflnlu.data.readers import parse_annotated, parse_bio_line, read_splits


def test_parse_annotated_splits_slots_from_text():
    assert parse_annotated("wake me at [time : five am] on [date : friday]") == [
        ("wake me at ", None),
        ("five am", "time"),
        (" on ", None),
        ("friday", "date"),
    ]


@pytest.mark.parametrize(
    "annot, message",
    [
        ("wake me [time : five am", "bracket"),
        ("wake me ] up", "bracket"),
        ("wake me [time five am]", "bracket"),
        ("wake me [time : ]", "no words"),
        ("wake me [ : five]", "slot name"),
    ],
)
def test_parse_annotated_rejects_malformed_slots(annot, message):
    with pytest.raises(ValueError, match=message):
        parse_annotated(annot)


def test_slot_tags_follow_tokens_not_brackets():
    example = example_from_pieces([("call ", None), ("john", "person"), ("'s phone", None)], "call")
    assert example.tokens == ("call", "john", "'s", "phone")
    assert example.tags == ("O", "B-person", "O", "O")
    adjacent = example_from_pieces([("a b", "x"), (" ", None), ("c", "x")], "i")
    assert bio_spans(adjacent.tags) == {(0, 2, "x"), (2, 3, "x")}


def test_bio_spans_treat_a_dangling_i_as_a_new_span():
    assert bio_spans(["O", "I-a", "I-a", "B-b", "I-a"]) == {(1, 3, "a"), (3, 4, "b"), (4, 5, "a")}


def test_reads_massive_directory(tiny_massive):
    report = read_splits(tiny_massive, "massive")
    assert [len(report.splits[s]) for s in ("train", "dev", "test")] == [8, 2, 2]
    first = report.splits["train"][0]
    assert (first.intent, first.domain) == ("alarm_set", "alarm")
    assert first.tags == ("O", "O", "O", "O", "B-time", "I-time")


def test_reads_a_single_massive_locale_file_by_partition(tmp_path, tiny_massive):
    lines = []
    for split in ("train", "dev", "test"):
        lines += (tiny_massive / f"{split}.jsonl").read_text().splitlines()
    (tmp_path / "en-US.jsonl").write_text("\n".join(lines) + "\n")
    report = read_splits(tmp_path / "en-US.jsonl", "massive")
    assert [len(report.splits[s]) for s in ("train", "dev", "test")] == [8, 2, 2]


def test_bad_row_names_file_and_line_and_can_be_skipped(tiny_massive):
    path = tiny_massive / "train.jsonl"
    rows = path.read_text().splitlines()
    rows[2] = json.dumps({"intent": "x", "annot_utt": "broken [slot : words"})
    rows.insert(4, "{not json")
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"train\.jsonl:3: .*bracket"):
        read_splits(tiny_massive, "massive")
    report = read_splits(tiny_massive, "massive", skip_bad=True)
    assert report.skipped == 2
    assert len(report.splits["train"]) == 7
    assert "train.jsonl:5" in report.skipped_reasons[1]


@pytest.mark.parametrize(
    "row, message",
    [
        ({"annot_utt": "hello"}, "missing or empty field 'intent'"),
        ({"intent": "greet", "annot_utt": " ?? "}, None),  # punctuation only: still has tokens
        ({"intent": "greet", "annot_utt": "   "}, "missing or empty field 'annot_utt'"),
        ({"intent": "greet", "annot_utt": "\u200b"}, "empty utterance"),
    ],
)
def test_massive_field_errors(tmp_path, tiny_massive, row, message):
    path = tiny_massive / "test.jsonl"
    path.write_text(path.read_text() + json.dumps(row) + "\n")
    if message is None:
        read_splits(tiny_massive, "massive")
        return
    with pytest.raises(DataError, match=rf"test\.jsonl:3: {message}"):
        read_splits(tiny_massive, "massive")


@pytest.mark.parametrize("fmt", ["massive", "csv", "bio"])
def test_unreadable_encoding_is_reported_with_its_line_and_can_be_skipped(tmp_path, fmt):
    good = {
        "massive": b'{"intent": "greet", "annot_utt": "hello there"}\n',
        "csv": b"hello there,greet\n",
        "bio": b"hello:O there:O <=> greet\n",
    }[fmt]
    bad = {
        "massive": b'{"intent": "x", "annot_utt": "caf\xe9"}\n',
        "csv": b"caf\xe9,x\n",
        "bio": b"caf\xe9:O <=> x\n",
    }[fmt]
    ext = {"massive": ".jsonl", "csv": ".csv", "bio": ".txt"}[fmt]
    (tmp_path / f"train{ext}").write_bytes(good * 20)
    (tmp_path / f"test{ext}").write_bytes(good + good + bad + good)
    with pytest.raises(DataError, match=rf"test{re.escape(ext)}:3: not UTF-8"):
        read_splits(tmp_path, fmt)
    report = read_splits(tmp_path, fmt, skip_bad=True)
    assert report.skipped == 1 and len(report.splits["test"]) == 3
    assert report.skipped_reasons[0].endswith(f"test{ext}:3: not UTF-8 text (invalid continuation byte)")


@pytest.mark.parametrize(
    "fmt,ext,row", [("csv", ".csv", "{text},{intent}"), ("bio", ".txt", "{words} <=> {intent}")]
)
def test_a_single_file_is_a_whole_data_set(tmp_path, fmt, ext, row):
    """No partitions: 10% test and 10% dev set aside by a hash of the text, the same every time."""
    texts = [f"utterance number {i}" for i in range(200)]
    words = {t: " ".join(f"{w}:O" for w in t.split()) for t in texts}
    path = tmp_path / f"all{ext}"
    path.write_text(
        "".join(row.format(text=t, words=words[t], intent=f"i{i % 3}") + "\n" for i, t in enumerate(texts))
    )
    splits = read_splits(path, fmt).splits
    assert sum(len(v) for v in splits.values()) == 200
    assert 10 <= len(splits["test"]) <= 30 and 10 <= len(splits["dev"]) <= 30
    assert not {e.text for e in splits["test"]} & {e.text for e in splits["train"]}
    assert read_splits(path, fmt).splits == splits


def test_a_single_file_with_mixed_partitions_is_refused(tmp_path):
    path = tmp_path / "locale.jsonl"
    rows = [
        {"partition": "train", "intent": "a", "annot_utt": "x"},
        {"partition": "valid", "intent": "a", "annot_utt": "y"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError, match=r"locale\.jsonl: rows carry partition 'valid'"):
        read_splits(path, "massive")


def test_one_split_alone(tmp_path, tiny_massive):
    from tflnlu.data.readers import read_split

    assert len(read_split(tiny_massive, "massive", "test").splits["test"]) == 2
    assert len(read_split(tiny_massive / "test.jsonl", "massive", "test").splits["test"]) == 2
    (tiny_massive / "dev.jsonl").unlink()
    with pytest.raises(DataError, match="no dev file, and the 10% of train carved as dev is empty"):
        read_split(tiny_massive, "massive", "dev")  # 8 training rows: none hashes into the 10%
    (tiny_massive / "test.jsonl").unlink()
    with pytest.raises(DataError, match=r"no test file: expected test\.jsonl in it"):
        read_split(tiny_massive, "massive", "test")


def test_bio_format(tmp_path):
    line = "play:O the:B-artist beatles:I-artist on:O spotify:B-service <=> play_music"
    pieces, intent = parse_bio_line(line)
    example = example_from_pieces(pieces, intent)
    assert example.tags == ("O", "B-artist", "I-artist", "O", "B-service")
    (tmp_path / "train.txt").write_text(line + "\n" + "hi:O <=> greet\n" * 20)
    (tmp_path / "test.txt").write_text("hello:O there:O <=> greet\nbad:X-y <=> greet\n")
    with pytest.raises(DataError, match=r"test\.txt:2: tag 'X-y'"):
        read_splits(tmp_path, "bio")
    with pytest.raises(ValueError, match="<=>"):
        parse_bio_line("play:O music:O")
    with pytest.raises(ValueError, match="word:TAG"):
        parse_bio_line("play music:O <=> x")


def test_csv_and_tsv(tmp_path):
    (tmp_path / "train.csv").write_text(
        "text,intent\n" + "".join(f'"hi, number {i}",greet\n' for i in range(30))
    )
    (tmp_path / "test.csv").write_text("text,intent\nhello,greet\nno intent here\n")
    with pytest.raises(DataError, match=r"test\.csv:3: expected 2 fields"):
        read_splits(tmp_path, "csv")
    (tmp_path / "test.csv").write_text("hello,greet\n")
    report = read_splits(tmp_path, "csv")
    assert report.splits["test"][0].tokens == ("hello",)
    assert report.splits["train"][0].tags == ("O",) * 4
    assert report.splits["dev"], "a missing dev split is carved from train"
    assert len(report.splits["train"]) + len(report.splits["dev"]) == 30
    tsv = tmp_path / "tsv"
    tsv.mkdir()
    (tsv / "train.tsv").write_text("a b\tx\n")
    (tsv / "test.tsv").write_text("c\ty\n")
    assert read_splits(tsv, "csv").splits["test"][0].intent == "y"


def test_clinc150_oos_label_or_drop(tmp_path):
    data = {k: [["book a flight", "book_flight"], ["hi", "greeting"]] for k in ("train", "val", "test")}
    data.update({f"oos_{k}": [["what is love", "oos"]] for k in ("train", "val", "test")})
    (tmp_path / "data_full.json").write_text(json.dumps(data))
    labelled = read_splits(tmp_path, "clinc150", clinc_oos="label")
    assert [e.intent for e in labelled.splits["test"]] == ["book_flight", "greeting", "oos"]
    dropped = read_splits(tmp_path / "data_full.json", "clinc150", clinc_oos="drop")
    assert len(dropped.splits["test"]) == 2
    data["train"].append(["only text"])
    (tmp_path / "data_full.json").write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"\[train\]\[2\]: expected \[text, intent\]"):
        read_splits(tmp_path, "clinc150")


def test_missing_split_and_unknown_format(tmp_path, tiny_massive):
    (tiny_massive / "test.jsonl").unlink()
    with pytest.raises(
        DataError, match=r"no test examples found \(massive format\): expected a file named test\.jsonl"
    ):
        read_splits(tiny_massive, "massive")
    (tmp_path / "train.csv").write_text("hi,greet\n")
    with pytest.raises(DataError, match=r"expected a file named test\.csv, test\.tsv in it"):
        read_splits(tmp_path, "csv")
    with pytest.raises(ValueError, match="unknown format"):
        read_splits(tiny_massive, "xml")
    with pytest.raises(DataError, match="no such file"):
        read_splits(tmp_path / "nowhere", "massive")


def test_real_hwu64_reads_cleanly():
    report = read_splits(require_hwu64(), "massive")
    assert [len(report.splits[s]) for s in ("train", "dev", "test")] == [8970, 990, 1076]
    assert report.skipped == 0
    assert len({e.intent for e in report.splits["train"]}) == 64


@pytest.mark.parametrize(
    "row, message",
    [
        ('{"intent": "a", "annot_utt": "x", "scenario": 5}', "field 'scenario' must be a string, got int"),
        (
            '{"intent": "a", "annot_utt": "x", "scenario": ["s"]}',
            "field 'scenario' must be a string, got list",
        ),
        ('{"intent": "a\\nb", "annot_utt": "x"}', "label 'a\\nb' contains a line break"),
        ("[" * 100_000 + "]" * 100_000, "not a JSON object"),
    ],
)
def test_rows_that_used_to_crash_are_bad_rows(tmp_path, tiny_massive, row, message):
    (tiny_massive / "test.jsonl").write_text(row + "\n")
    with pytest.raises(DataError, match=rf"test\.jsonl:1: {re.escape(message)}"):
        read_splits(tiny_massive, "massive")


def test_a_csv_field_over_the_size_limit_is_a_bad_row(tmp_path):
    (tmp_path / "train.csv").write_text("hi there,greet\n" * 20)
    (tmp_path / "test.csv").write_text('hello,greet\n"' + "a" * 200_000 + '",greet\nbye,leave\n')
    with pytest.raises(DataError, match=r"test\.csv:\d+: not a CSV row \(field larger than field limit"):
        read_splits(tmp_path, "csv")
    report = read_splits(tmp_path, "csv", skip_bad=True)
    assert report.skipped == 1 and [e.intent for e in report.splits["test"]] == ["greet", "leave"]


@pytest.mark.parametrize("header", ["text,intent", "utterance,label", "Sentence,Class"])
def test_a_csv_header_is_not_an_example(tmp_path, header):
    (tmp_path / "train.csv").write_text(f"{header}\n" + "hi there,greet\n" * 20)
    (tmp_path / "test.csv").write_text("hello,greet\n")
    intents = {e.intent for e in read_splits(tmp_path, "csv").splits["train"]}
    assert intents == {"greet"}


def test_labels_with_unicode_line_separators_survive_the_label_files(tmp_path):
    from tflnlu.data.vocab import read_lines, save_labels

    save_labels(tmp_path / "intents.txt", ["joke\u2028tell", "b\u0085c", "d"])
    assert read_lines(tmp_path / "intents.txt") == ["joke\u2028tell", "b\u0085c", "d"]
