"""The fault catalogue (docs/faults.md), case by case: what each command does with bad flags,
bad paths, bad data, damaged artefacts and interruptions. Every case runs the real command
in-process (`execute`) and checks the exit code, that stderr is exactly one line naming the
command, what it says, and that nothing the user had was changed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TINY_MASSIVE, write_massive_dir
from tflnlu.cli import bench as bench_cli
from tflnlu.cli import eval as eval_cli
from tflnlu.cli import export as export_cli
from tflnlu.cli import size as size_cli
from tflnlu.cli import train as train_cli
from tflnlu.cli.common import execute

SMALL_FLAGS = ["--embed_dim=16", "--dpq_d=4", "--dpq_k=4", "--width=8", "--max_len=12", "--epochs=2"]


@dataclasses.dataclass
class Outcome:
    code: int
    out: str
    err: str


def run_cli(capsys, module, *args: str) -> Outcome:
    name = module.COMMAND.name
    code = execute(module.COMMAND, [name, *args])
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` with its bytes: "nothing was changed" is this, equal."""
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Tiny data, a trained run and a PTQ export of it (seconds), shared by the cases."""
    root = tmp_path_factory.mktemp("faults")
    data = write_massive_dir(root / "data")
    run = root / "run"
    assert execute(train_cli.COMMAND, ["tflnlu-train", f"--data={data}", f"--out={run}", *SMALL_FLAGS]) == 0
    export = root / "export"
    argv = ["tflnlu-export", f"--run={run}", f"--out={export}", "--qat_epochs=0"]
    assert execute(export_cli.COMMAND, argv) == 0
    return {"root": root, "data": data, "run": run, "export": export, "model": export / "model.tflite"}


def user_directory(tmp_path: Path) -> Path:
    directory = tmp_path / "notarun"
    (directory / "sub").mkdir(parents=True)
    (directory / "important.txt").write_text("precious\n")
    return directory


# ------------------------------------------------------------------ table: bad flags and paths

# (case id, command module, argv builder(world, tmp_path) -> list[str], exit code, stderr pattern)
Case = tuple[str, object, Callable[[dict, Path], list[str]], int, str]
CASES: list[Case] = [
    (
        "train-resume-into-a-user-directory",
        train_cli,
        lambda w, t: [f"--data={w['data']}", "--resume", f"--out={user_directory(t)}", *SMALL_FLAGS],
        2,
        r"--out=.*notarun is not empty and is not a tflnlu run \(no config\.json\).*nothing there was changed",
    ),
    (
        "train-overwrite-a-user-directory",
        train_cli,
        lambda w, t: [f"--data={w['data']}", "--overwrite", f"--out={user_directory(t)}", *SMALL_FLAGS],
        2,
        r"is not empty and is not a tflnlu run",
    ),
    (
        "train-out-is-a-file",
        train_cli,
        lambda w, t: [f"--data={w['data']}", f"--out={w['model']}"],
        2,
        r"--out=.*model\.tflite is a file, not a directory",
    ),
    (
        "train-out-below-a-file",
        train_cli,
        lambda w, t: [f"--data={w['data']}", f"--out={w['model']}/run"],
        2,
        r"cannot be created: .*model\.tflite is a file",
    ),
    (
        "train-bad-dilations",
        train_cli,
        lambda w, t: [f"--data={w['data']}", f"--out={t / 'new'}", "--dilations=1,0"],
        2,
        r"dilations must be one or more positive integers, got \[1, 0\]",
    ),
    (
        "train-dilations-not-integers",
        train_cli,
        lambda w, t: [f"--data={w['data']}", f"--out={t / 'new'}", "--dilations=1,two"],
        2,
        r"--dilations must be integers, got 1,two; usage: tflnlu-train",
    ),
    (
        "train-flag-out-of-range",
        train_cli,
        lambda w, t: [f"--out={t / 'new'}", "--epochs=0"],
        2,
        r"flag --epochs=0: .*\(see tflnlu-train --help\)",
    ),
    (
        "train-unknown-flag",
        train_cli,
        lambda w, t: ["--epoch=3"],
        2,
        r"Unknown command line flag 'epoch'.*\(see tflnlu-train --help\)",
    ),
    (
        "train-missing-data",
        train_cli,
        lambda w, t: [f"--data={t / 'nothing'}", f"--out={t / 'new'}"],
        2,
        r"nothing: no such file or directory",
    ),
    (
        "train-overwrite-a-run-holding-user-files",
        train_cli,
        lambda w, t: [
            f"--data={w['data']}",
            "--overwrite",
            f"--out={_run_with_user_file(w, t)}",
            *SMALL_FLAGS,
        ],
        2,
        r"holds files tflnlu did not write \(notes\.txt\)",
    ),
    (
        "train-resume-with-other-settings",
        train_cli,
        lambda w, t: [
            f"--data={w['data']}",
            "--resume",
            f"--out={_copy(w['run'], t / 'run')}",
            *SMALL_FLAGS,
            "--width=16",
        ],
        2,
        r"cannot resume .*other settings \(model\.width\).*--overwrite",
    ),
    (
        "train-resume-with-a-damaged-checkpoint-state",
        train_cli,
        lambda w, t: [
            f"--data={w['data']}",
            "--resume",
            f"--out={_damaged(w['run'], t, 'checkpoint/state.json', b'{')}",
            *SMALL_FLAGS,
        ],
        2,
        r"checkpoint/state\.json is damaged .*pass --overwrite to train it again",
    ),
    (
        "train-resume-and-overwrite",
        train_cli,
        lambda w, t: [
            f"--data={w['data']}",
            f"--out={_copy(w['run'], t / 'run')}",
            "--resume",
            "--overwrite",
        ],
        2,
        r"--resume and --overwrite contradict each other",
    ),
    (
        "train-empty-dilations",
        train_cli,
        lambda w, t: [f"--data={w['data']}", f"--out={t / 'new'}", "--dilations="],
        2,
        r"--dilations needs at least one integer",
    ),
    (
        "train-overwrite-a-run-with-a-user-file-in-its-checkpoint",
        train_cli,
        lambda w, t: [
            f"--data={w['data']}",
            "--overwrite",
            f"--out={_run_with_user_file(w, t, 'checkpoint/NOTES.txt')}",
        ],
        2,
        r"holds files tflnlu did not write \(checkpoint/NOTES\.txt\)",
    ),
    (
        "train-overwrite-a-run-with-a-hidden-user-file",
        train_cli,
        lambda w, t: [
            f"--data={w['data']}",
            "--overwrite",
            f"--out={_run_with_user_file(w, t, '.config.json.bak')}",
        ],
        2,
        r"holds files tflnlu did not write \(\.config\.json\.bak\)",
    ),
    (
        "export-code-bits-too-few-for-k",
        export_cli,
        lambda w, t: [f"--run={_run_with_k(w['run'], t, 16)}", f"--out={t / 'new'}", "--code_bits=2"],
        2,
        r"--code_bits=2 cannot hold the run's K=16 codes",
    ),
    (
        "export-recorded-data-has-moved",
        export_cli,
        lambda w, t: [f"--run={_run_with_moved_data(w['run'], t)}", f"--out={t / 'new'}"],
        2,
        r"no such file or directory: the data .*config\.json records has moved; pass --data",
    ),
    (
        "bench-empty-variants",
        bench_cli,
        lambda w, t: [f"--data={w['data']}", f"--out={t / 'b'}", "--variants="],
        2,
        r"--variants is empty",
    ),
    (
        "export-out-is-the-run",
        export_cli,
        lambda w, t: [f"--run={_copy(w['run'], t / 'run')}", f"--out={t / 'run'}", "--overwrite"],
        2,
        r"--out=.*run would replace the run .*: choose a directory outside it",
    ),
    (
        "export-out-contains-the-run",
        export_cli,
        lambda w, t: [f"--run={_copy(w['run'], t / 'runs' / 'a')}", f"--out={t / 'runs'}", "--overwrite"],
        2,
        r"would replace the run",
    ),
    (
        "export-out-is-a-user-directory",
        export_cli,
        lambda w, t: [f"--run={w['run']}", f"--out={user_directory(t)}", "--overwrite"],
        2,
        r"is not empty and is not a tflnlu export \(no export\.json\)",
    ),
    (
        "export-out-is-an-earlier-export",
        export_cli,
        lambda w, t: [f"--run={w['run']}", f"--out={_copy(w['export'], t / 'export')}"],
        2,
        r"already holds a tflnlu export: pass --overwrite to replace it",
    ),
    (
        "export-option-clash",
        export_cli,
        lambda w, t: [f"--run={w['run']}", f"--out={t / 'new'}", "--target=mcu", "--lookup=custom"],
        2,
        r"--target=mcu needs --lookup=builtin",
    ),
    (
        "export-custom-lookup-of-a-full-run",
        export_cli,
        lambda w, t: [f"--run={_full_embedding_run(w['run'], t)}", f"--out={t / 'new'}", "--lookup=custom"],
        2,
        r"--lookup=custom needs a DPQ run: a full embedding has no codes to look up",
    ),
    (
        "export-run-is-not-a-run",
        export_cli,
        lambda w, t: [f"--run={user_directory(t)}", f"--out={t / 'new'}"],
        2,
        r"notarun is not a tflnlu run: it has no config\.json",
    ),
    (
        "export-run-with-damaged-config",
        export_cli,
        lambda w, t: [f"--run={_damaged(w['run'], t, 'config.json', b'{not json')}", f"--out={t / 'new'}"],
        2,
        r"config\.json is damaged \(not JSON",
    ),
    (
        "export-run-with-truncated-weights",
        export_cli,
        lambda w, t: [f"--run={_damaged(w['run'], t, 'weights.h5', None)}", f"--out={t / 'new'}"],
        2,
        r"weights\.h5 (is damaged or truncated|changed since the run was trained).*train (the run|it) again",
    ),
    (
        "export-run-without-weights",
        export_cli,
        lambda w, t: [f"--run={_damaged(w['run'], t, 'weights.h5', 'delete')}", f"--out={t / 'new'}"],
        2,
        r"is not a finished tflnlu run: missing weights\.h5 .*--resume",
    ),
    (
        "eval-model-is-a-directory",
        eval_cli,
        lambda w, t: [f"--model={w['export']}", f"--data={w['data']}"],
        2,
        r"export is a directory: give the \.tflite file",
    ),
    (
        "eval-model-missing",
        eval_cli,
        lambda w, t: [f"--model={t / 'none.tflite'}", f"--data={w['data']}"],
        2,
        r"none\.tflite: cannot read \(No such file or directory\)",
    ),
    (
        "eval-truncated-model",
        eval_cli,
        lambda w, t: [f"--model={_truncated(w['model'], t)}", f"--data={w['data']}"],
        2,
        r"corrupt or truncated TFLite model|buffer .* ends past the end|the file is damaged",
    ),
    (
        "eval-a-flipped-weight-byte",
        eval_cli,
        lambda w, t: [f"--model={_flipped(w['model'], t)}", f"--data={w['data']}"],
        2,
        r"the file is damaged: its contents do not match the checksum",
    ),
    (
        "eval-labels-the-model-does-not-know",
        eval_cli,
        lambda w, t: [f"--model={w['model']}", f"--data={_foreign_data(t)}"],
        2,
        r"2 of 2 utterances have intents and 1 slot spans have types the model does not know .*--unknown_labels=report",
    ),
    (
        "eval-no-data-and-no-export-record",
        eval_cli,
        lambda w, t: [f"--model={_model_alone(w['model'], t)}"],
        2,
        r"pass --data \(no export\.json beside the model",
    ),
    (
        "eval-data-without-the-split",
        eval_cli,
        lambda w, t: [f"--model={w['model']}", f"--data={_only_train(t)}"],
        2,
        r"no test file: expected test\.jsonl in it",
    ),
    (
        "size-flipped-byte",
        size_cli,
        lambda w, t: [str(_flipped(w["model"], t))],
        2,
        r"the file is damaged",
    ),
    (
        "size-two-files",
        size_cli,
        lambda w, t: [str(w["model"]), str(w["model"])],
        2,
        r"give exactly one model file; usage: tflnlu-size",
    ),
    (
        "bench-out-is-a-user-directory",
        bench_cli,
        lambda w, t: [f"--data={w['data']}", f"--out={user_directory(t)}", "--variants=full_fp32"],
        2,
        r"is not empty and is not a tflnlu benchmark \(no results\.json\)",
    ),
]


def _copy(source: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(source, target)
    return target


def _run_with_user_file(world: dict, tmp_path: Path, name: str = "notes.txt") -> Path:
    run = _copy(world["run"], tmp_path / "run")
    (run / name).write_text("mine\n")
    return run


def _run_with_k(run: Path, tmp_path: Path, k: int) -> Path:
    """The run's config.json claiming K codes (refused from the config, before anything loads)."""
    copy = _copy(run, tmp_path / "k_run")
    config = json.loads((copy / "config.json").read_text())
    config["model"]["dpq_k"] = k
    (copy / "config.json").write_text(json.dumps(config))
    return copy


def _run_with_moved_data(run: Path, tmp_path: Path) -> Path:
    copy = _copy(run, tmp_path / "moved_run")
    config = json.loads((copy / "config.json").read_text())
    config["data"]["source"] = str(tmp_path / "gone")
    (copy / "config.json").write_text(json.dumps(config))
    (copy / "checksums.json").unlink()  # the config was edited on purpose here
    return copy


def _damaged(run: Path, tmp_path: Path, name: str, contents) -> Path:
    copy = _copy(run, tmp_path / "damaged_run")
    target = copy / name
    if contents == "delete":
        target.unlink()
    elif contents is None:  # truncated to a third
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 3])
    else:
        target.write_bytes(contents)
    return copy


def _full_embedding_run(run: Path, tmp_path: Path) -> Path:
    """The run's config.json saying `embedding: full` (refused from the config alone)."""
    copy = _copy(run, tmp_path / "full_run")
    config = json.loads((copy / "config.json").read_text())
    config["model"]["embedding"] = "full"
    (copy / "config.json").write_text(json.dumps(config))
    return copy


def _truncated(model: Path, tmp_path: Path) -> Path:
    path = tmp_path / "truncated.tflite"
    path.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    return path


def _flipped(model: Path, tmp_path: Path) -> Path:
    """One bit of a weight changed: the flatbuffer still parses, only the checksum can tell."""
    from ai_edge_litert import schema_py_generated as schema

    from tflnlu.modelfile.flatbuffer import read_model

    data = bytearray(model.read_bytes())
    parsed = schema.Model.GetRootAsModel(bytes(data), 0)
    buffer = max((parsed.Buffers(i) for i in range(parsed.BuffersLength())), key=lambda b: b.DataLength())
    assert buffer.DataLength() > 100  # the largest constant: a weight tensor
    start = buffer._tab.Vector(buffer._tab.Offset(4))  # where its bytes start in the file
    data[start + 10] ^= 0x01
    read_model(bytes(data), check_digest=False)  # still a well-formed flatbuffer
    path = tmp_path / "flipped.tflite"
    path.write_bytes(bytes(data))
    return path


def _foreign_data(tmp_path: Path) -> Path:
    rows = {
        "test": [
            ("book_flight", "travel", "fly to [city : oslo]"),
            ("book_hotel", "travel", "a room in rome"),
        ]
    }
    return write_massive_dir(tmp_path / "foreign", rows)


def _model_alone(model: Path, tmp_path: Path) -> Path:
    path = tmp_path / "alone" / "model.tflite"
    path.parent.mkdir()
    path.write_bytes(model.read_bytes())
    return path


def _only_train(tmp_path: Path) -> Path:
    return write_massive_dir(tmp_path / "only_train", {"train": TINY_MASSIVE["train"]})


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_fault(case, world, tmp_path, capsys):
    _, module, argv, code, pattern = case
    before = snapshot(world["root"])
    args = argv(world, tmp_path)
    inputs = snapshot(tmp_path)
    outcome = run_cli(capsys, module, *args)
    assert outcome.code == code, outcome
    lines = outcome.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{module.COMMAND.name}: error: "), outcome.err
    import re

    assert re.search(pattern, lines[0]), lines[0]
    assert snapshot(world["root"]) == before  # the shared run, export and data are untouched
    assert snapshot(tmp_path) == inputs  # and so is everything the case made for itself


# ------------------------------------------------------------------ cases that are not one-liners


def test_the_issue_command_keeps_the_users_files(world, tmp_path, capsys):
    """`tflnlu-train --resume --out=DIR` on a directory that is not a run deleted it (issue 12)."""
    directory = user_directory(tmp_path)
    outcome = run_cli(
        capsys, train_cli, f"--data={world['data']}", "--resume", f"--out={directory}", *SMALL_FLAGS
    )
    assert outcome.code == 2
    assert (directory / "important.txt").read_text() == "precious\n" and (directory / "sub").is_dir()
    assert sorted(p.name for p in directory.iterdir()) == ["important.txt", "sub"]


def test_ctrl_c_during_training_says_where_the_checkpoint_is(world, tmp_path, capsys, monkeypatch):
    from tflnlu.train import trainer

    original = trainer._Checkpointer.save

    def save_then_interrupt(self, state):
        original(self, state)
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer._Checkpointer, "save", save_then_interrupt)
    out = tmp_path / "run"
    outcome = run_cli(capsys, train_cli, f"--data={world['data']}", f"--out={out}", *SMALL_FLAGS)
    assert outcome.code == 130
    assert outcome.err == (
        f"tflnlu-train: error: interrupted: epoch 1 is the last checkpoint, in {out / 'checkpoint'}; "
        "run the same command with --resume to continue from there\n"
    )
    monkeypatch.setattr(trainer._Checkpointer, "save", original)
    resumed = run_cli(capsys, train_cli, f"--data={world['data']}", f"--out={out}", "--resume", *SMALL_FLAGS)
    assert resumed.code == 0 and "resuming" in resumed.out and "epoch 2/2" in resumed.out


def test_ctrl_c_during_export_writes_nothing(world, tmp_path, capsys, monkeypatch):
    from tflnlu.export import export

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "convert_int8", interrupted)
    out = _copy(world["export"], tmp_path / "export")
    before = snapshot(out)
    outcome = run_cli(
        capsys, export_cli, f"--run={world['run']}", f"--out={out}", "--overwrite", "--qat_epochs=0"
    )
    assert outcome.code == 130
    assert (
        "interrupted: nothing was written to" in outcome.err
        and "earlier export there is unchanged" in outcome.err
    )
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]  # no temporary left behind


def test_export_checks_its_output_before_reading_data(world, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(export_cli, "load_data", lambda *a, **k: pytest.fail("the data was read first"))
    outcome = run_cli(capsys, export_cli, f"--run={world['run']}", f"--out={user_directory(tmp_path)}")
    assert outcome.code == 2


def test_export_overwrite_replaces_an_earlier_export_only(world, tmp_path, capsys):
    out = _copy(world["export"], tmp_path / "export")
    (out / "golden.jsonl").write_text("old\n")
    outcome = run_cli(
        capsys, export_cli, f"--run={world['run']}", f"--out={out}", "--overwrite", "--qat_epochs=0"
    )
    assert outcome.code == 0, outcome.err
    assert (out / "golden.jsonl").read_text() != "old\n"
    assert (out / "model.tflite").read_bytes() == world["model"].read_bytes()  # the same seed, the same file


def test_exported_files_have_ordinary_modes(world):
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(world["export"].stat().st_mode) == 0o777 & ~umask
    for path in world["export"].iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path
    for path in world["run"].glob("*.*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_eval_without_data_uses_what_the_export_measured(world, capsys):
    outcome = run_cli(capsys, eval_cli, f"--model={world['model']}")
    assert outcome.code == 0, outcome.err
    assert f"no --data: using the data the export measured, {world['data']}" in outcome.out
    assert "keras fp32" in outcome.out and "keras QAT" in outcome.out


def test_eval_hides_the_keras_rows_for_other_data(world, tmp_path, capsys):
    rows = {"test": [("play_music", "play", "play [artist_name : queen]")]}
    outcome = run_cli(
        capsys, eval_cli, f"--model={world['model']}", f"--data={write_massive_dir(tmp_path / 'd', rows)}"
    )
    assert outcome.code == 0, outcome.err
    assert "keras fp32" not in outcome.out and "measured on other data: not shown" in outcome.out


def test_eval_reports_unknown_labels_when_asked(world, tmp_path, capsys):
    from tflnlu.cli.eval import run

    lines: list[str] = []
    metrics = run(
        str(world["model"]), str(_foreign_data(tmp_path)), unknown_labels="report", log=lines.append
    )
    assert metrics["unknown_labels"] == {"intent_examples": 2, "slot_spans": 1}
    assert metrics["unknown_intent_examples"] == 2 and metrics["intent_accuracy"] == 0.0
    assert any("labels the model does not know: 2 utterances" in line for line in lines)


@pytest.mark.parametrize("layout", ["test-file", "directory-with-only-test"])
def test_eval_needs_only_the_split_it_scores(world, tmp_path, capsys, layout):
    directory = write_massive_dir(tmp_path / "d", {"test": TINY_MASSIVE["test"]})
    data = directory / "test.jsonl" if layout == "test-file" else directory
    outcome = run_cli(capsys, eval_cli, f"--model={world['model']}", f"--data={data}")
    assert outcome.code == 0, outcome.err
    assert "tflite (LiteRT)" in outcome.out


def test_training_reports_test_intents_it_never_saw(tmp_path):
    from tflnlu.cli.train import run

    rows = dict(TINY_MASSIVE, test=[*TINY_MASSIVE["test"], ("book_taxi", "transport", "get me a taxi")])
    lines: list[str] = []
    result = run(
        str(write_massive_dir(tmp_path / "d", rows)),
        out=str(tmp_path / "run"),
        model_options={"embed_dim": 16, "dpq_d": 4, "dpq_k": 4, "width": 8, "max_len": 12},
        train_options={"epochs": 1},
        log=lines.append,
    )
    assert (
        "test: 1 of 3 utterances (33.3%) have an intent the training split does not have (book_taxi)"
        in "\n".join(lines)
    )
    assert result["splits"]["test"]["unknown_intent_examples"] == 1
    assert result["splits"]["dev"]["unknown_intent_examples"] == 0


def test_size_measures_a_foreign_tflite_and_says_so(world, tmp_path, capsys):
    """A .tflite without tflnlu metadata (here: the export with its metadata stripped)."""
    from ai_edge_litert import schema_py_generated as schema

    from tflnlu.modelfile.flatbuffer import pack_model

    model = schema.ModelT.InitFromPackedBuf(world["model"].read_bytes(), 0)
    model.metadata = [m for m in model.metadata if not m.name.startswith(b"tflnlu")]
    path = tmp_path / "foreign.tflite"
    path.write_bytes(pack_model(model))
    outcome = run_cli(capsys, size_cli, str(path))
    assert outcome.code == 0 and "no tflnlu metadata" in outcome.out and "whole file" in outcome.out


def test_help_lists_the_flags(capsys):
    outcome = run_cli(capsys, train_cli, "--help")
    assert outcome.code == 0 and outcome.out.startswith("usage: tflnlu-train") and "--resume" in outcome.out


def test_debug_shows_the_traceback(tmp_path, capsys):
    from tflnlu.data.example import DataError

    with pytest.raises(DataError):
        run_cli(capsys, train_cli, f"--data={tmp_path / 'nothing'}", f"--out={tmp_path / 'run'}", "--debug")


def test_an_internal_error_is_one_line_too(capsys):
    def broken(values, positional):
        raise KeyError("oops")

    command = dataclasses.replace(size_cli.COMMAND, main=broken)
    code = execute(command, ["tflnlu-size", "x"])
    err = capsys.readouterr().err
    assert code == 1
    assert (
        err
        == "tflnlu-size: error: internal error (KeyError: 'oops'); rerun with --debug for the traceback and report it\n"
    )


def test_every_console_script_is_a_command():
    """pyproject's scripts all go through the launcher, each to a Command of its own name."""
    import importlib
    import tomllib

    from tflnlu.cli import launch

    scripts = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]["scripts"]
    assert sorted(scripts) == sorted(f"tflnlu-{name}" for name in launch.COMMANDS)
    for name, target in scripts.items():
        assert target == f"tflnlu.cli.launch:{name.removeprefix('tflnlu-')}"
        assert importlib.import_module(f"tflnlu.cli.{name.removeprefix('tflnlu-')}").COMMAND.name == name


def test_export_records_its_data(world):
    """export.json records the data and its test split's fingerprint."""
    record = json.loads((world["export"] / "export.json").read_text())
    assert record["data"]["source"] == str(world["data"]) and len(record["data"]["test_sha256"]) == 64


def test_every_command_can_be_imported_and_run_in_one_process(capsys):
    """Flags are defined per run: no DuplicateFlagError between commands sharing --data, --out."""
    import importlib

    from tflnlu.cli.launch import COMMANDS

    for name in COMMANDS:
        module = importlib.import_module(f"tflnlu.cli.{name}")
        assert execute(module.COMMAND, [f"tflnlu-{name}", "--help"]) == 0
        assert capsys.readouterr().out.startswith(f"usage: tflnlu-{name}")


@pytest.mark.parametrize("lookup", ["builtin", "custom"])
def test_a_flipped_bit_anywhere_is_refused(world, tmp_path, lookup):
    """The checksum covers the whole file: 200 positions spread over it, one bit each, every one
    refused by the reader every command uses (and so by tflnlu-size and tflnlu-eval)."""
    from tflnlu.modelfile.flatbuffer import ModelFileError
    from tflnlu.modelfile.metadata import read_metadata

    model = world["model"]
    if lookup == "custom":
        out = tmp_path / "custom"
        argv = ["tflnlu-export", f"--run={world['run']}", f"--out={out}", "--qat_epochs=0", "--lookup=custom"]
        assert execute(export_cli.COMMAND, argv) == 0
        model = out / "model.tflite"
    data = model.read_bytes()
    read_metadata(data)  # whole, it reads
    for position in range(0, len(data), max(1, len(data) // 200)):
        damaged = bytearray(data)
        damaged[position] ^= 0x04
        with pytest.raises(ModelFileError):
            read_metadata(bytes(damaged))


def test_a_changed_run_file_is_found_by_its_checksum(world, tmp_path, capsys):
    """Two vocabulary lines swapped: the sizes still match, the checksum does not."""
    run = _copy(world["run"], tmp_path / "run")
    lines = (run / "vocab.txt").read_text().splitlines()
    lines[2], lines[3] = lines[3], lines[2]
    (run / "vocab.txt").write_text("\n".join(lines) + "\n")
    outcome = run_cli(capsys, export_cli, f"--run={run}", f"--out={tmp_path / 'out'}", "--qat_epochs=0")
    assert outcome.code == 2 and "vocab.txt changed since the run was trained" in outcome.err
    assert not (tmp_path / "out").exists()


def test_export_through_a_symlink_and_into_the_current_directory(world, tmp_path, capsys, monkeypatch):
    """A symlinked --out keeps pointing where it did (its target is replaced, whole); --out=.
    works in an empty directory, and leaves no temporary beside it."""
    target = _copy(world["export"], tmp_path / "target")
    (tmp_path / "link").symlink_to(target)
    argv = [
        f"--run={world['run']}",
        f"--out={tmp_path / 'link'}",
        "--overwrite",
        "--qat_epochs=0",
        "--golden=none",
    ]
    assert run_cli(capsys, export_cli, *argv).code == 0
    assert (tmp_path / "link").is_symlink() and not (target / "golden.jsonl").exists()
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    outcome = run_cli(
        capsys, export_cli, f"--run={world['run']}", "--out=.", "--qat_epochs=0", "--golden=none"
    )
    assert outcome.code == 0, outcome.err
    assert (here / "model.tflite").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here", "link", "target"]
