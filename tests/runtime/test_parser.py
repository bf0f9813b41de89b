"""The deploy side: Parser and tflnlu-predict on a small export, and no TensorFlow anywhere."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import write_massive_dir
from tflnlu.cli.common import execute
from tflnlu.data.tokenizer import normalize, normalized_prefix_lengths, original_span, split_normalized


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from tflnlu.cli import export as export_cli
    from tflnlu.cli import train as train_cli

    root = tmp_path_factory.mktemp("parser")
    data = write_massive_dir(root / "data")
    small = ["--embed_dim=16", "--dpq_d=4", "--dpq_k=4", "--width=8", "--max_len=6", "--epochs=30"]
    assert (
        execute(train_cli.COMMAND, ["tflnlu-train", f"--data={data}", f"--out={root / 'run'}", *small]) == 0
    )
    for lookup in ("builtin", "custom"):
        argv = [
            "tflnlu-export",
            f"--run={root / 'run'}",
            f"--out={root / lookup}",
            "--qat_epochs=0",
            f"--lookup={lookup}",
        ]
        assert execute(export_cli.COMMAND, argv) == 0
    return root


@pytest.mark.parametrize("lookup", ["builtin", "custom"])
def test_a_parse_from_the_file_alone(exported, lookup):
    from tflnlu.runtime import Parser

    parser = Parser(exported / lookup / "model.tflite")
    parse = parser.parse("Wake me up at FIVE am")
    assert parse.intent in parser.intents and 0 < parse.confidence <= 1
    assert (
        parse.domain
        == {"alarm_set": "alarm", "alarm_query": "alarm", "weather_query": "weather", "play_music": "play"}[
            parse.intent
        ]
    )
    assert parse.tokens == ("wake", "me", "up", "at", "five", "am") and len(parse.tags) == 6
    assert not parse.truncated and not parse.empty
    for slot in parse.slots:
        assert "Wake me up at FIVE am"[slot.start : slot.end] == slot.text


def test_both_lowerings_parse_alike(exported):
    from tflnlu.runtime import Parser

    builtin, custom = (Parser(exported / lookup / "model.tflite") for lookup in ("builtin", "custom"))
    for text in [
        "play queen",
        "what is the weather in paris today",
        "set an alarm for six pm tomorrow",
        "xyzzy",
    ]:
        assert builtin.parse(text) == custom.parse(text)


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "?!"[:0], "\u200b\u200b"])
def test_text_without_tokens_is_an_empty_parse(exported, text):
    from tflnlu.runtime import Parser

    parse = Parser(exported / "builtin" / "model.tflite").parse(text)
    assert parse.empty and parse.intent is None and parse.slots == () and parse.confidence == 0.0


def test_long_text_is_read_on_its_first_max_len_tokens(exported):
    from tflnlu.runtime import Parser

    parser = Parser(exported / "builtin" / "model.tflite")
    parse = parser.parse("play queen " * 10)
    assert parse.truncated and len(parse.tokens) == parser.max_len == 6
    assert all(slot.end <= len("play queen " * 3) for slot in parse.slots)
    assert not parser.parse("play queen").truncated


def test_slot_offsets_are_into_the_original_text():
    """Normalization changes lengths (NFKC ligatures and full-width letters, İ lowering to two
    code points, composed accents): the spans still slice the text as given."""
    text = "ﬁnd İstanbul Ｐａｒｉｓ cafe\u0301 Σ."
    lengths = normalized_prefix_lengths(text)
    normalized = normalize(text)
    assert lengths[-1] == len(normalized)
    pieces = [text[slice(*original_span(lengths, t.start, t.end))] for t in split_normalized(normalized)]
    assert pieces == ["ﬁnd", "İstanbul", "Ｐａｒｉｓ", "cafe\u0301", "Σ", "."]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_every_token_lies_in_its_original_span(text):
    lengths = normalized_prefix_lengths(text)
    assert lengths == [len(normalize(text[:i])) for i in range(len(text) + 1)]
    normalized = normalize(text)
    for token in split_normalized(normalized):
        start, end = original_span(lengths, token.start, token.end)
        assert 0 <= start < end <= len(text)
        assert lengths[start] <= token.start and lengths[end] >= token.end


def test_predict_prints_readable_parses_and_json_lines(exported, capsys, monkeypatch):
    import io

    from tflnlu.cli import predict

    model = exported / "builtin" / "model.tflite"
    assert execute(predict.COMMAND, ["tflnlu-predict", f"--model={model}", "play queen", "  "]) == 0
    out = capsys.readouterr().out
    assert out.startswith("'play queen'\n  intent ") and "'  '\n  (no tokens: nothing to parse)" in out
    monkeypatch.setattr(sys, "stdin", io.StringIO("play abba\n\nwake me at five\n"))
    assert execute(predict.COMMAND, ["tflnlu-predict", f"--model={model}", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["text"] for line in lines] == ["play abba", "", "wake me at five"]
    assert lines[1]["empty"] and not lines[0]["empty"] and set(lines[0]) >= {"intent", "confidence", "slots"}


def test_the_deploy_side_never_imports_tensorflow(exported):
    """In a fresh interpreter: the Parser, tflnlu-predict, tflnlu-eval and tflnlu-size on both
    lowerings, then a look at sys.modules."""
    script = textwrap.dedent(
        f"""
        import sys
        from tflnlu.runtime import Parser
        from tflnlu.cli.launch import launch
        for lookup in ("builtin", "custom"):
            model = "{exported}/" + lookup + "/model.tflite"
            assert Parser(model).parse("play queen").intent
            assert launch("predict", ["tflnlu-predict", "--model=" + model, "--json", "play queen"]) == 0
            assert launch("eval", ["tflnlu-eval", "--model=" + model]) == 0
            assert launch("size", ["tflnlu-size", model]) == 0
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "tf_keras", "keras",
                        "tensorflow_model_optimization", "tflite_micro"))
        print("TF-MODULES", loaded)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "TF-MODULES []" in result.stdout


def test_training_without_tensorflow_says_how_to_install_it(exported, tmp_path):
    """TensorFlow made unimportable (None in sys.modules): the commands that need it check
    their flags and paths, then fail with one line naming the extra to install."""
    data, run = exported / "data", exported / "run"
    argv = {
        "train": [f"--data={data}", f"--out={tmp_path / 'run'}"],
        "export": [f"--run={run}", f"--out={tmp_path / 'export'}"],
        "bench": [f"--data={data}", f"--out={tmp_path / 'bench'}"],
    }
    script = "\n".join(
        [
            "import sys",
            "sys.modules['tensorflow'] = None",
            "from tflnlu.cli.launch import launch",
            f"for name, args in {argv!r}.items():",
            "    print(name, launch(name, ['tflnlu-' + name, *args]))",
        ]
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("\n")[:3] == ["train 2", "export 2", "bench 2"]
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["tflnlu-train", "tflnlu-export", "tflnlu-bench"]
    assert all("pip install 'tflnlu[train]'" in line for line in lines), lines
    assert not (tmp_path / "run").exists() and not (tmp_path / "export").exists()
