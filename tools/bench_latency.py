"""Per-utterance LiteRT latency (1 thread) of exported models, and of the lookup alone.

    python tools/bench_latency.py \\
        --exports=uncompressed_int8:bench/hwu64_3/exports/full_qat_int8,builtin:...,custom_op:... \\
        --results=tools/results/latency_hwu64.json

Part 1, whole models: each export directory's model.tflite runs its own golden.jsonl ids
(real utterances) in two harnesses, the Python `Interpreter` (a custom-op file with the tflnlu
delegate) and LiteRT's C API CompiledModel (a custom-op file with the tflnlu kernel). Rounds are interleaved across models so that machine noise hits all of them
alike; a model's latency is the median over rounds of the per-utterance median, and its paired
ratio to the first export (per round, then the median over rounds).

Part 2, the embedding lookup alone (synthetic V x 128 table, 32 tokens, int8): one GATHER
from an int8 table against the shortest code-based builtin chains (8-bit codes: GATHER,
CAST, ADD, GATHER, RESHAPE; 4-bit packed codes: four more ops), each followed by the
same 128 -> 32 projection. It shows what a builtin lowering costs per op in LiteRT.

Part 3, the fused kernel alone: tools/bench_kernel.c times the C core for 32 tokens, unpacking
the codes (`kernel_ns`: the C API kernel, TFLite-Micro) and through the expanded table the
delegate builds at prepare (`expanded_ns`, `expanded_table_bytes`), next to one GATHER's work
(row copies from the uncompressed int8 table), with no runtime around them.

Part 4, the input ids outside the graph (what a subword file adds there): per utterance, the
Parser's tokens to ids (`token_ids`, word ids and, for a file with subwords, the hashed n-gram
ids), in Python, for each export's own golden texts.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from absl import app, flags

from tflnlu.io import write_json_atomic
from tflnlu.modelfile.flatbuffer import execution_order
from tflnlu.modelfile.kernel import CUSTOM_OP_NAME
from tflnlu.runtime.litert import LiteRTModel
from tflnlu.runtime.litert_c import LiteRTCustomOpModel

FLAGS = flags.FLAGS
flags.DEFINE_list("exports", None, "name:export_dir pairs (each with model.tflite and golden.jsonl).")
flags.DEFINE_string("results", "tools/results/latency_hwu64.json", "Results file.")
flags.DEFINE_integer("rounds", 40, "Interleaved rounds per model.", lower_bound=1)
flags.DEFINE_integer("utterances", 1100, "Utterances per round (from the golden file).", lower_bound=1)


def golden_texts(directory: Path, limit: int) -> list[str]:
    lines = (directory / "golden.jsonl").read_text(encoding="utf-8").splitlines()[:limit]
    return [json.loads(line)["text"] for line in lines]


def input_ids_cost(exports: dict[str, Path], utterances: int, repeats: int = 5) -> dict:
    """name -> microseconds per utterance to turn its tokens into the model input (the median
    over `repeats` passes), and whether the file reads subwords."""
    from tflnlu.data.tokenizer import tokenize
    from tflnlu.nlu.encode import token_ids
    from tflnlu.runtime import Parser

    costs = {}
    for name, directory in exports.items():
        parser = Parser(directory / "model.tflite")
        tokens = [tokenize(text) for text in golden_texts(directory, utterances)]
        passes = []
        for _ in range(repeats):
            started = time.perf_counter()
            for utterance in tokens:
                token_ids(utterance, parser.vocab, parser.max_len, parser.subwords)
            passes.append((time.perf_counter() - started) / len(tokens) * 1e6)
        costs[name] = {"us_per_utterance": float(np.median(passes)), "subwords": parser.subwords is not None}
    return costs


def golden_ids(directory: Path, limit: int) -> np.ndarray:
    lines = (directory / "golden.jsonl").read_text(encoding="utf-8").splitlines()[:limit]
    return np.array([json.loads(line)["ids"] for line in lines], np.int32)


def interleaved_latency(runners: dict, inputs: dict, rounds: int) -> dict:
    """name -> median over rounds of the per-utterance median latency, in microseconds."""
    per_round: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, runner in runners.items():
            runner.latencies = []
            for ids in inputs[name]:
                runner.raw_one(ids)
            per_round[name].append(float(np.median(runner.latencies)) * 1e6)
    return {
        name: {"median_us": float(np.median(v)), "min_round_us": float(np.min(v)), "per_round_us": v}
        for name, v in per_round.items()
    }


def paired_ratios(latency: dict, baseline: str) -> dict:
    """Each file's latency over the baseline file's (the first export) on the same route, per
    round, and the median of those ratios: the machine's speed drifts between rounds (by up
    to 40% here), a round's files share it, so the paired ratio is the steadier number."""
    ratios = {}
    for name, measured in latency.items():
        _, route = name.split("/")
        base = latency[f"{baseline}/{route}"]["per_round_us"]
        per_round = np.array(measured["per_round_us"]) / np.array(base)
        ratios[name] = {
            "median": float(np.median(per_round)),
            "rounds_at_most_1": float(np.mean(per_round <= 1.0)),
        }
    return ratios


def whole_models(exports: dict[str, Path], rounds: int, utterances: int) -> dict:
    runners, inputs, files = {}, {}, {}
    for name, directory in exports.items():
        model = (directory / "model.tflite").read_bytes()
        ops = [op for op, _ in execution_order(model)]
        files[name] = {"file_bytes": len(model), "operators": len(ops), "first_operators": ops[:12]}
        ids = golden_ids(directory, utterances)
        # every file in the Interpreter (a custom-op file with the tflnlu delegate), and in the C API
        runners[f"{name}/interpreter"], inputs[f"{name}/interpreter"] = LiteRTModel(model), ids
        runners[f"{name}/compiled_model"], inputs[f"{name}/compiled_model"] = LiteRTCustomOpModel(model), ids
        files[name]["custom_op"] = CUSTOM_OP_NAME in ops
    latency = interleaved_latency(runners, inputs, rounds)
    baseline = next(iter(exports))
    return {"files": files, "latency": latency, f"ratio_to_{baseline}": paired_ratios(latency, baseline)}


class _InvokeRunner:
    """The bare Interpreter.invoke() of a float-in model, for the lookup microbenchmark."""

    def __init__(self, model: bytes):
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_content=model, num_threads=1)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.latencies: list[float] = []

    def raw_one(self, ids: np.ndarray) -> None:
        self.interpreter.set_tensor(self.input, ids[None])
        started = time.perf_counter()
        self.interpreter.invoke()
        self.latencies.append(time.perf_counter() - started)


def lookup_alone(rounds: int, vocab: int = 4151, tokens: int = 32, dim: int = 128, width: int = 32) -> dict:
    """Int8 models of the lookup + a projection: one GATHER vs the shortest code chains."""
    from tflnlu.layers.codes import pack_codes, unpack_table
    from tflnlu.tf import tf

    groups, num_codes = 8, 16
    rng = np.random.default_rng(0)
    table = rng.normal(size=(vocab, dim)).astype(np.float32)
    codes = rng.integers(0, num_codes, (vocab, groups))
    codebook = rng.normal(size=(groups * num_codes, dim // groups)).astype(np.float32)
    projection = (rng.normal(size=(dim, width)) * 0.1).astype(np.float32)
    offsets = np.arange(groups, dtype=np.int32) * num_codes

    def project(x):
        return tf.nn.relu(tf.matmul(tf.reshape(x, [1, tokens, dim]), projection))

    def table_lookup(ids):
        return project(tf.gather(tf.constant(table), ids))

    def codes_8bit(ids):
        stored = tf.gather(tf.constant((codes - 128).astype(np.int8)), ids)
        return project(tf.gather(tf.constant(codebook), tf.cast(stored, tf.int32) + offsets + 128))

    def codes_4bit(ids):
        byte = tf.cast(tf.gather(tf.constant(pack_codes(codes, 4)), ids), tf.int32) + 128
        unpacked = tf.reshape(tf.gather(tf.constant(unpack_table(4)), byte), [1, tokens, groups])
        return project(tf.gather(tf.constant(codebook), tf.cast(unpacked, tf.int32) + offsets))

    def convert(fn) -> bytes:
        function = tf.function(fn, input_signature=[tf.TensorSpec([1, tokens], tf.int32)])
        converter = tf.lite.TFLiteConverter.from_concrete_functions(
            [function.get_concrete_function()], function
        )
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: (
            [rng.integers(0, vocab, (1, tokens)).astype(np.int32)] for _ in range(50)
        )
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        return converter.convert()

    models = {"int8_table_gather": table_lookup, "codes_8bit": codes_8bit, "codes_4bit_packed": codes_4bit}
    built = {name: convert(fn) for name, fn in models.items()}
    ids = rng.integers(0, vocab, (300, tokens)).astype(np.int32)
    latency = interleaved_latency(
        {name: _InvokeRunner(m) for name, m in built.items()}, {name: ids for name in built}, rounds
    )
    return {
        name: {"operators": [op for op, _ in execution_order(m)], **latency[name]}
        for name, m in built.items()
    }


def kernel_alone(vocab: int = 4151, tokens: int = 32, repeats: int = 200_000) -> dict:
    """The fused lookup's C kernel against one GATHER's row copies of the uncompressed int8
    [V, 128] table, in one C harness (tools/bench_kernel.c, gcc -O2): ns per 32-token lookup."""
    import subprocess
    import tempfile

    kernel = Path(__file__).resolve().parents[1] / "tflnlu" / "modelfile" / "kernel"
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        binary = Path(tmp) / "bench_kernel"
        sources = [str(Path(__file__).with_name("bench_kernel.c")), str(kernel / "codebook_lookup.c")]
        subprocess.run(["gcc", "-std=c11", "-O2", f"-I{kernel}", "-o", str(binary), *sources], check=True)
        for groups, codes, bits in ((16, 16, 4), (8, 16, 4), (16, 4, 2), (32, 16, 4)):
            args = [str(a) for a in (vocab, 128, groups, codes, bits, tokens, repeats)]
            measured = json.loads(
                subprocess.run([str(binary), *args], check=True, capture_output=True, text=True).stdout
            )
            results[f"D{groups}_K{codes}_{bits}bit"] = {k: v for k, v in measured.items() if k != "sink"}
    return {"tokens": tokens, "vocab": vocab, "dim": 128, **results}


def main(argv):
    del argv
    exports = {name: Path(path) for name, path in (item.split(":", 1) for item in FLAGS.exports or [])}
    results = {
        "settings": {"threads": 1, "rounds": FLAGS.rounds, "utterances": FLAGS.utterances},
        "whole_models": whole_models(exports, FLAGS.rounds, FLAGS.utterances) if exports else {},
        "lookup_alone": lookup_alone(FLAGS.rounds),
        "kernel_alone": kernel_alone(),
        "input_ids": input_ids_cost(exports, FLAGS.utterances) if exports else {},
    }
    write_json_atomic(Path(FLAGS.results), results)
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(app.run(main))
