"""The Android demo's Java core against Python: golden file, random strings, no Android imports.

Compiles `android_demo/core` (main and tests) with javac and runs its JUnit tests, the golden
test on a fresh export of a model trained on the built-in data set (over 1,000 utterances).
Skips only when Java is absent; a missing JUnit is an install error (`make install-test`).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tflnlu.data.tokenizer import normalize, split_normalized

CORE = Path(__file__).resolve().parents[2] / "android_demo" / "core"
JUNIT_JARS = (Path("/usr/share/java/junit4.jar"), Path("/usr/share/java/hamcrest-core.jar"))
PACKAGE = "dev.tflnlu.core"
UNIT_TESTS = (
    "TokenizerTest",
    "VocabularyTest",
    "HashedVocabularyTest",
    "SubwordsTest",
    "BioDecoderTest",
    "JsonTest",
    "ModelMetadataTest",
)

pytestmark = pytest.mark.skipif(
    shutil.which("javac") is None or shutil.which("java") is None,
    reason="Java (javac, java) is not installed",
)


@pytest.fixture(scope="module")
def classpath(tmp_path_factory) -> str:
    missing = [str(jar) for jar in JUNIT_JARS if not jar.is_file()]
    assert not missing, (
        f"JUnit not found ({', '.join(missing)}): install Debian's junit4 (make install-test does)"
    )
    out = tmp_path_factory.mktemp("classes")
    sources = [str(p) for p in sorted(CORE.rglob("*.java"))]
    jars = ":".join(str(j) for j in JUNIT_JARS)
    subprocess.run(
        ["javac", "--release", "8", "-Werror", "-Xlint:all", "-cp", jars, "-d", str(out), *sources],
        check=True,
    )
    return f"{out}:{jars}"


def run_junit(classpath: str, classes, *properties: str) -> str:
    result = subprocess.run(
        [
            "java",
            *properties,
            "-cp",
            classpath,
            "org.junit.runner.JUnitCore",
            *(f"{PACKAGE}.{c}" for c in classes),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result.stdout


def test_java_unit_tests_pass(classpath):
    assert re.search(r"OK \(\d+ tests\)", run_junit(classpath, UNIT_TESTS))


@pytest.fixture(scope="module")
def builtin_export(tmp_path_factory) -> Path:
    from tflnlu.data.builtin import load_builtin
    from tflnlu.export.export import ExportOptions, export_run
    from tflnlu.train.config import TrainConfig
    from tflnlu.train.trainer import train

    root = tmp_path_factory.mktemp("golden")
    splits = load_builtin()
    config = {"embed_dim": 32, "dpq_d": 8, "dpq_k": 16, "width": 32, "max_len": 16}
    train(splits, root / "run", config, TrainConfig(epochs=5), log=lambda _: None)
    export_run(root / "run", root / "out", splits, ExportOptions(qat_epochs=1), log=lambda _: None)
    return root / "out"


@pytest.fixture(scope="module")
def hashed_export(builtin_export) -> Path:
    """The same run exported with the string-free vocabulary (rows in hashed-id order)."""
    from tflnlu.data.builtin import load_builtin
    from tflnlu.export.export import ExportOptions, export_run

    options = ExportOptions(qat_epochs=0, vocabulary="hashed", fingerprint_bits=8)  # PTQ: quick
    out = builtin_export.parent / "hashed"
    export_run(builtin_export.parent / "run", out, load_builtin(), options, log=lambda _: None)
    return out


@pytest.mark.slow  # about 75 s with its export: `make test-slow` runs it (the default suite stays near 15 minutes)
def test_the_golden_file_of_a_hashed_export_is_reproduced_by_java(classpath, hashed_export):
    records = (hashed_export / "golden.jsonl").read_text(encoding="utf-8").splitlines()
    output = run_junit(classpath, ["GoldenTest"], f"-Dtflnlu.export={hashed_export}")
    assert f"golden: {len(records)} records identical" in output


@pytest.fixture(scope="module")
def subword_export(tmp_path_factory) -> Path:
    """A small model with subwords on the built-in set: its input is [max_len, 1 + per_token]."""
    from tflnlu.data.builtin import load_builtin
    from tflnlu.data.subwords import SubwordSpec
    from tflnlu.export.export import ExportOptions, export_run
    from tflnlu.train.config import TrainConfig
    from tflnlu.train.trainer import train

    root = tmp_path_factory.mktemp("golden_subwords")
    splits = load_builtin()
    spec = SubwordSpec(min_n=3, max_n=5, buckets=256, per_token=8)
    config = {"embed_dim": 16, "dpq_d": 4, "dpq_k": 4, "width": 16, "max_len": 16, "subwords": spec.to_json()}
    train(splits, root / "run", config, TrainConfig(epochs=2), log=lambda _: None)
    export_run(root / "run", root / "out", splits, ExportOptions(qat_epochs=0), log=lambda _: None)
    return root / "out"


@pytest.mark.slow  # about 60 s with its training: `make test-slow` runs it
def test_the_golden_file_of_a_subword_export_is_reproduced_by_java(classpath, subword_export):
    """Java computes the n-gram ids into the model's one input exactly as Python does, on every
    record, and decodes the raw scores of the sample as Python does."""
    records = (subword_export / "golden.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(json.loads(records[0])["ids"][0]) == 1 + 8  # [T][1 + per_token] rows
    output = run_junit(classpath, ["GoldenTest"], f"-Dtflnlu.export={subword_export}")
    assert f"golden: {len(records)} records identical" in output


@pytest.fixture(scope="module")
def java_hash(classpath):
    """HashServer over one hashed vocabulary of random words (supplementary characters too)."""
    import random

    from tflnlu.data.hashed_vocab import HashedVocabulary

    rng = random.Random(0)
    alphabet = "abcdefghijklmnopqrstuvwxyzéßçøœ日本語한국어😀🎵𝔘"
    words = sorted({"".join(rng.choices(alphabet, k=rng.randint(1, 9))) for _ in range(3000)})
    vocab, _ = HashedVocabulary.build(["<pad>", "<unk>", *words], fingerprint_bits=12)
    with java_server(classpath, "HashServer", first_line=vocab.to_json()) as ask:
        yield vocab, words, lambda token: tuple(ask(token))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_java_hashed_vocabulary_equals_python_on_random_strings(java_hash, data):
    """Any string (lone surrogates excluded: not UTF-8), and the vocabulary's own words: the
    64-bit key and the id are the same in both languages."""
    from tflnlu.data.hashed_vocab import word_hash

    vocab, words, ask = java_hash
    token = data.draw(st.one_of(st.sampled_from(words), st.text(st.characters(blacklist_categories=["Cs"]))))
    assert ask(token) == (f"{word_hash(token, vocab.seed):016x}", vocab.id(token))


@pytest.fixture(scope="module")
def java_subwords(classpath):
    from tflnlu.data.subwords import SubwordSpec

    spec = SubwordSpec(min_n=2, max_n=6, buckets=(1 << 24) - 3, per_token=20)
    with java_server(classpath, "SubwordServer", first_line=spec.to_json()) as ask:
        yield spec, ask


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(st.characters(blacklist_categories=["Cs"]), max_size=12))
def test_java_subword_ids_equal_python_on_random_strings(java_subwords, token):
    """Any token (supplementary characters: two UTF-16 units in Java, one code point in both
    specifications): the same n-grams and the same bucket ids."""
    from tflnlu.data.subwords import ngrams, token_subword_ids

    spec, ask = java_subwords
    assert ask(token) == [ngrams(token, spec), token_subword_ids(token, spec)]


def test_golden_file_is_reproduced_by_java(classpath, builtin_export):
    records = (builtin_export / "golden.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(records) >= 1000
    assert any(json.loads(line)["slots"] for line in records), "a golden file without slots proves little"
    output = run_junit(classpath, ["GoldenTest"], f"-Dtflnlu.export={builtin_export}")
    decoded = sum('"intent_raw"' in line for line in records)
    assert decoded >= len(records) // 10
    assert f"golden: {len(records)} records identical ({decoded} decoded from raw scores)" in output


def test_the_python_parser_reads_the_same_golden_file(builtin_export):
    """The other half of the parity proof: the file on disk, read back, is what the Parser
    gives (intent, tags, slots with offsets into the original text) for every record; and it
    stays proportionate to the model (raw scores for a sample only)."""
    from tflnlu.runtime import Parser

    parser = Parser(builtin_export / "model.tflite")
    golden = builtin_export / "golden.jsonl"
    for line in golden.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        parse = parser.parse(record["text"])
        assert (parse.intent, list(parse.tags)) == (record["intent"], record["tags"]), record["text"]
        assert [[s.type, s.start, s.end, s.text] for s in parse.slots] == [
            [s["type"], s["start"], s["end"], s["text"]] for s in record["spans"]
        ]
    assert golden.stat().st_size < 30 * (builtin_export / "model.tflite").stat().st_size


@contextlib.contextmanager
def java_server(classpath: str, main_class: str, *, first_line=None):
    """A Java test helper that answers one JSON line per JSON line sent: `ask(value)` -> answer."""
    process = subprocess.Popen(
        ["java", "-cp", classpath, f"{PACKAGE}.{main_class}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    if first_line is not None:
        process.stdin.write(json.dumps(first_line) + "\n")

    def ask(value):
        process.stdin.write(json.dumps(value, ensure_ascii=True) + "\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    try:
        yield ask
    finally:
        process.stdin.close()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def java_tokenizer(classpath):
    with java_server(classpath, "TokenizerServer") as ask:
        yield lambda text: [tuple(t) for t in ask(text)]


# Scripts and characters where tokenizers part ways: Latin with accents and combining marks,
# Greek (final sigma), Turkish dotted I, CJK and kana, Hangul, Arabic, Devanagari, digits of
# other scripts, fullwidth and compatibility forms (NFKC), punctuation, apostrophe look-alikes,
# spaces, zero-width and control characters, emoji (surrogate pairs in Java).
SCRIPT_RANGES = (
    (0x0020, 0x007E),  # ASCII
    (0x00C0, 0x024F),  # Latin with accents
    (0x0300, 0x036F),  # combining marks
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x04FF),  # Cyrillic
    (0x0600, 0x06FF),  # Arabic
    (0x0900, 0x097F),  # Devanagari
    (0x2000, 0x24FF),  # punctuation, symbols, enclosed digits (NFKC)
    (0x3000, 0x30FF),  # CJK punctuation, kana
    (0x4E00, 0x4E80),  # CJK ideographs
    (0xAC00, 0xAC40),  # Hangul
    (0xFB00, 0xFB06),  # ligatures (NFKC)
    (0xFF00, 0xFF65),  # fullwidth forms (NFKC)
    (0x1F300, 0x1F64F),  # emoji
)
INTERESTING = st.one_of(
    st.sampled_from(
        list("\u2018\u2019\u02bc\u0060\u00b4'\u0130\u0131\u03a3\u03c2\u1e9e\u00df\u200b\u00a0\t\n\u2028")
    ),
    *(st.characters(min_codepoint=low, max_codepoint=high) for low, high in SCRIPT_RANGES),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_java_tokenizer_equals_python_on_random_strings(java_tokenizer, unknown_to_java, data):
    text = data.draw(st.text(INTERESTING.filter(lambda c: ord(c) not in unknown_to_java), max_size=40))
    expected = [(t.text, t.start, t.end) for t in split_normalized(normalize(text))]
    assert java_tokenizer(text) == expected


UNICODE_14_ADDITIONS = 838  # code points Unicode 14.0 (Python 3.11) assigned after 13.0 (Java 17)


@pytest.fixture(scope="module")
def unknown_to_java(classpath) -> set[int]:
    """Every code point, alone between two letters, through both tokenizers in one Java run:
    the set where they differ. The only allowed differences are characters that Java's older
    Unicode tables do not know yet (it reads them as unassigned: separators)."""
    code_points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    texts = [f"a{chr(c)}b" for c in code_points]
    answers = subprocess.run(
        ["java", "-cp", classpath, f"{PACKAGE}.TokenizerServer"],
        input="".join(json.dumps(t) + "\n" for t in texts),
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    ).stdout.splitlines()
    assert len(answers) == len(texts)
    as_separator = [["a", 0, 1], ["b", 2, 3]]
    differing = {}
    for code_point, text, answer in zip(code_points, texts, answers, strict=True):
        java = json.loads(answer)
        if java != [[t.text, t.start, t.end] for t in split_normalized(normalize(text))]:
            differing[code_point] = java
    wrong = {hex(c): java for c, java in differing.items() if java != as_separator}
    assert not wrong, (
        f"Java tokenizes these differently, not as unknown characters: {dict(list(wrong.items())[:10])}"
    )
    return set(differing)


def test_tokenizers_agree_on_every_code_point_java_knows(unknown_to_java):
    assert len(unknown_to_java) <= UNICODE_14_ADDITIONS


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_java_tokenizer_equals_python_on_any_unicode(java_tokenizer, unknown_to_java, data):
    known = st.characters(codec="utf-8", exclude_categories=("Cs",)).filter(
        lambda c: ord(c) not in unknown_to_java
    )
    text = data.draw(st.text(known, max_size=30))
    expected = [(t.text, t.start, t.end) for t in split_normalized(normalize(text))]
    assert java_tokenizer(text) == expected


def test_core_never_imports_android():
    sources = sorted(CORE.rglob("*.java"))
    assert sources, f"no Java sources under {CORE}"
    offenders = [
        f"{path.relative_to(CORE)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bandroid\.", line) and not line.lstrip().startswith(("//", "*", "/*"))
    ]
    assert not offenders, "core/ must stay plain Java:\n" + "\n".join(offenders)


APP = CORE.parent / "app"
JNI_CHECK = Path(__file__).parent / "jni_check"


def test_the_delegates_jni_library_builds_from_the_apps_cmake_file_and_loads_in_java(tmp_path):
    """No NDK here: the app's CMakeLists.txt builds libtflnlu_delegate.so with the host
    compiler at -Wall -Wextra -Werror against the JDK's jni.h, and the app's own
    TflnluDelegate class (against a one-method stand-in for LiteRT's Delegate) loads it."""
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")
    jdk_include = Path(shutil.which("javac")).resolve().parents[1] / "include"
    flags = f"-I{jdk_include} -I{jdk_include / 'linux'}"
    build = tmp_path / "build"
    subprocess.run(
        ["cmake", "-S", str(APP / "src/main/cpp"), "-B", str(build), f"-DCMAKE_C_FLAGS={flags}"],
        check=True,
        capture_output=True,
    )
    subprocess.run(["cmake", "--build", str(build)], check=True, capture_output=True)
    assert (build / "libtflnlu_delegate.so").is_file()
    sources = [APP / "src/main/java/dev/tflnlu/demo/TflnluDelegate.java", *sorted(JNI_CHECK.rglob("*.java"))]
    classes = tmp_path / "classes"
    subprocess.run(
        ["javac", "--release", "8", "-Werror", "-Xlint:all", "-d", str(classes), *map(str, sources)],
        check=True,
    )
    result = subprocess.run(
        ["java", f"-Djava.library.path={build}", "-cp", str(classes), "dev.tflnlu.demo.DelegateCheck"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split("\n")[:2] == ["handle nonzero", "errors 0"]


def test_copy_model_takes_a_custom_op_export_only_with_the_delegate(tmp_path):
    demo = tmp_path / "android_demo"
    demo.mkdir()
    shutil.copy(CORE.parent / "copy_model.sh", demo / "copy_model.sh")
    exports = {"builtin": b"TFL3 builtin ops only", "custom": b"TFL3 ... TFLNLU_CODEBOOK_LOOKUP ..."}
    for name, data in exports.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "model.tflite").write_bytes(data)

    def copy(*args):
        return subprocess.run(["sh", str(demo / "copy_model.sh"), *args], capture_output=True, text=True)

    assets = demo / "app/src/main/assets/model.tflite"
    assert copy(str(tmp_path / "builtin")).returncode == 0 and assets.read_bytes() == exports["builtin"]
    refused = copy(str(tmp_path / "custom"))
    assert refused.returncode == 2 and "pass --with-delegate" in refused.stderr
    assert assets.read_bytes() == exports["builtin"]  # unchanged
    assert copy(str(tmp_path / "custom"), "--with-delegate").returncode == 0
    assert assets.read_bytes() == exports["custom"]
