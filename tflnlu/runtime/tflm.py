"""Running an exported .tflite in TensorFlow Lite for Microcontrollers (the `tflite-micro` wheel).

What a microcontroller runs is TFLM, not LiteRT: its kernels, its type rules (GATHER only on
int8/float32 tables) and its tensor arena. This module runs a model there, one utterance at a
time, and finds the smallest arena it works in.

The arena search runs each probe in a child process: with an arena a little too small the
pip runtime does not always fail cleanly (it can abort or crash inside allocation), and a
crash must count as "does not fit", not take the export down.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tflnlu.modelfile.flatbuffer import execution_order
from tflnlu.runtime.litert import LiteRTModel, UtteranceRunner, checked_model_bytes, dequantize

PINNED_TFLM = "0.dev20261023182759"
ARENA_ALIGNMENT = 16  # TFLM aligns arena allocations to 16 bytes (MicroArenaBufferAlignment)
EVAL_ARENA_BYTES = 1 << 20  # generous arena for evaluation; the minimum is measured separately
PROBE_TIMEOUT_S = 60


def _runtime():
    """The TFLM Python runtime, imported on first use (it is only needed for MCU exports)."""
    try:
        import tflite_micro
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as e:
        raise RuntimeError(
            f"the MCU target needs tflite-micro=={PINNED_TFLM} and pyyaml (pip install -e .): {e}"
        ) from None
    if not tflite_micro.__version__.startswith(PINNED_TFLM):  # it reports "<version>-g<commit>"
        raise RuntimeError(
            f"tflnlu is tested with tflite-micro=={PINNED_TFLM}, found {tflite_micro.__version__}"
        )
    return runtime


class TFLMModel(UtteranceRunner):
    """An int8 .tflite in the TFLM interpreter (batch 1). Outputs are told apart by rank:
    intent logits [1, I], slot logits [1, T, S]."""

    def __init__(
        self, model: Path | bytes, arena_bytes: int = EVAL_ARENA_BYTES, preserve_all_tensors: bool = False
    ):
        data = checked_model_bytes(model)
        runtime = _runtime()
        config = runtime.InterpreterConfig
        self.interpreter = runtime.Interpreter.from_bytes(
            data,
            arena_size=arena_bytes,
            intrepreter_config=config.kPreserveAllTensors
            if preserve_all_tensors
            else config.kAllocationRecording,
        )
        self.input = self.interpreter.get_input_details(0)
        self.ids_shape = tuple(int(n) for n in self.input["shape"][1:])
        self.max_len = self.ids_shape[0]  # [max_len] ids, or [max_len, 1 + per_token] with subwords
        details = [self.interpreter.get_output_details(i) for i in range(2)]
        ranks = [len(d["shape"]) for d in details]
        if sorted(ranks) != [2, 3]:
            raise ValueError(f"expected intent [1, I] and slot [1, T, S] outputs, got ranks {ranks}")
        self.intent_index, self.slot_index = (0, 1) if ranks[0] == 2 else (1, 0)
        self.quantization = [
            (float(q["scales"][0]), int(q["zero_points"][0])) if len(q["scales"]) else (0.0, 0)
            for q in (
                details[self.intent_index]["quantization_parameters"],
                details[self.slot_index]["quantization_parameters"],
            )
        ]
        self.latencies: list[float] = []

    def raw_one(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        started = time.perf_counter()
        self.interpreter.set_input(ids.reshape(1, *self.ids_shape).astype(np.int32), 0)
        self.interpreter.invoke()
        intent = self.interpreter.get_output(self.intent_index)[0].copy()
        slots = self.interpreter.get_output(self.slot_index)[0].copy()
        self.latencies.append(time.perf_counter() - started)
        return intent, slots

    def dequantize(self, raw: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return tuple(dequantize(r, s, z) for r, (s, z) in zip(raw, self.quantization, strict=True))

    def predict_one(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.dequantize(self.raw_one(ids))


def first_difference(model_bytes: bytes, ids: np.ndarray) -> dict | None:
    """The first operator, in execution order, whose output differs between TFLM and LiteRT's
    reference kernels for one utterance: where a TFLM/LiteRT difference comes from."""
    tflm = TFLMModel(model_bytes, preserve_all_tensors=True)
    litert = LiteRTModel(model_bytes, reference_kernels=True, preserve_all_tensors=True)
    tflm.raw_one(ids)
    litert.raw_one(ids)
    for index, (name, outputs) in enumerate(execution_order(model_bytes)):
        for tensor in outputs:
            ours = np.asarray(tflm.interpreter.GetTensor(tensor, 0)["tensor_data"]).astype(np.int64).ravel()
            theirs = litert.interpreter.get_tensor(tensor).astype(np.int64).ravel()
            largest = int(np.abs(ours - theirs).max()) if ours.shape == theirs.shape else -1
            if largest:
                return {
                    "operator_index": index,
                    "operator": name,
                    "tensor": tensor,
                    "largest_difference": largest,
                }
    return None


def arena_works(model_path: Path, arena_bytes: int) -> bool:
    """True when TFLM allocates the model in `arena_bytes` and runs one full-length utterance."""
    result = subprocess.run(
        [sys.executable, "-m", "tflnlu.runtime.tflm", str(model_path), str(arena_bytes)],
        capture_output=True,
        timeout=PROBE_TIMEOUT_S,
    )
    return result.returncode == 0 and result.stdout.strip().endswith(b"OK")


def minimum_arena(model_bytes: bytes, upper: int = EVAL_ARENA_BYTES, works=arena_works) -> dict:
    """Smallest arena (a multiple of ARENA_ALIGNMENT) TFLM runs the model in, by bisection.

    Returns the size and the evidence: the size works and one alignment step less fails.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.tflite"
        path.write_bytes(model_bytes)
        if not works(path, upper):
            raise RuntimeError(f"TFLM cannot run the model even with a {upper:,}-byte arena")
        low, high = 0, upper // ARENA_ALIGNMENT  # in alignment steps: low fails (0 bytes), high works
        probes = 1
        while high - low > 1:
            middle = (low + high) // 2
            probes += 1
            if works(path, middle * ARENA_ALIGNMENT):
                high = middle
            else:
                low = middle
        return {
            "arena_bytes": high * ARENA_ALIGNMENT,
            "fails_at_bytes": low * ARENA_ALIGNMENT,
            "alignment": ARENA_ALIGNMENT,
            "probes": probes,
        }


def _probe(model_path: str, arena_bytes: str) -> None:
    """Child-process body of `arena_works`: allocate, run one full-length input, print OK."""
    interpreter = _runtime().Interpreter.from_bytes(
        Path(model_path).read_bytes(), arena_size=int(arena_bytes)
    )
    shape = interpreter.get_input_details(0)["shape"]
    interpreter.set_input(np.ones(shape, np.int32), 0)
    interpreter.invoke()
    print("OK", flush=True)


if __name__ == "__main__":
    _probe(*sys.argv[1:3])
