"""Running an exported .tflite in LiteRT (the desktop interpreter), one utterance at a time.

Exports have a fixed batch of 1 (what phones and microcontrollers run), so a data set is
scored by invoking once per utterance; per-utterance latency falls out of the same loop.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType, load_delegate

from tflnlu.modelfile import kernel
from tflnlu.modelfile.flatbuffer import read_model, read_model_bytes, with_operator_version_at_most
from tflnlu.modelfile.kernel import CUSTOM_OP_NAME
from tflnlu.modelfile.names import SIGNATURE_INPUT, SIGNATURE_OUTPUTS
from tflnlu.quiet import native_stderr_captured

INPUT_KEY = SIGNATURE_INPUT
OUTPUT_KEYS = SIGNATURE_OUTPUTS
# LiteRT 2.3's reference resolver registers these builtins only up to a version below what
# the converter writes for int4 filters, although the kernels run them (verified equal to
# the default kernels and TFLite-Micro); the reference run reads a copy declaring that version.
REFERENCE_RESOLVER_VERSIONS = {"DEPTHWISE_CONV_2D": 6}


def dequantize(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    if values.dtype in (np.int8, np.uint8, np.int16) and scale:
        return (values.astype(np.float32) - zero_point) * scale
    return values.astype(np.float32)


def checked_model_bytes(model: Path | bytes) -> bytes:
    """The bytes of a .tflite given as a path or as bytes, checked to be a whole model
    (ModelFileError with what is wrong otherwise), before an interpreter sees them."""
    data = model if isinstance(model, bytes) else read_model_bytes(model)
    read_model(data, "model" if isinstance(model, bytes) else str(model))
    return data


class DelegateUnavailable(RuntimeError):
    """The tflnlu delegate is not built or will not load (the file itself may be fine)."""


def tflnlu_delegate():
    """The tflnlu delegate for LiteRT's Interpreter (tflnlu/modelfile/kernel/tflite_delegate.c)."""
    try:
        return load_delegate(str(kernel.delegate_library()))
    except (FileNotFoundError, ValueError, OSError) as e:
        raise DelegateUnavailable(str(e)) from None


class UtteranceRunner:
    """What every runner of an exported file shares: `predict_one(ids [T])` from the subclass,
    the predictor interface over [N, T] and the latency summary of its invocations."""

    latencies: list[float]

    def predict_one(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def __call__(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predictor interface: ids [N, T] -> (intent logits [N, I], slot logits [N, T, S])."""
        results = [self.predict_one(row) for row in ids]
        return np.stack([r[0] for r in results]), np.stack([r[1] for r in results])

    def latency_ms(self) -> dict:
        if not self.latencies:
            return {}
        ms = np.array(self.latencies) * 1000
        return {
            "mean_ms": float(ms.mean()),
            "p50_ms": float(np.median(ms)),
            "p90_ms": float(np.percentile(ms, 90)),
        }


class LiteRTModel(UtteranceRunner):
    """A .tflite in LiteRT's Interpreter (1 thread by default, for comparable latency).

    By default LiteRT runs int8 graphs through XNNPACK; `reference_kernels=True` uses the
    reference kernels instead, the ones TFLite-Micro's are ported from (for bit comparisons).
    `preserve_all_tensors` keeps intermediate tensors readable after a run. A file with the
    fused lookup (`tflnlu-export --lookup=custom`) gets the tflnlu delegate, which claims
    those nodes (tflnlu/modelfile/kernel/tflite_delegate.c); every other op runs as usual.
    """

    def __init__(
        self,
        model: Path | bytes,
        num_threads: int = 1,
        reference_kernels: bool = False,
        preserve_all_tensors: bool = False,
    ):
        data = checked_model_bytes(model)
        custom = CUSTOM_OP_NAME in read_model(data).operators
        self.delegates = [tflnlu_delegate()] if custom else []
        if reference_kernels:
            for operator, version in REFERENCE_RESOLVER_VERSIONS.items():
                data = with_operator_version_at_most(data, operator, version=version)
        with native_stderr_captured():  # "INFO: Created TensorFlow Lite XNNPACK delegate"
            self.interpreter = Interpreter(
                model_content=data,
                num_threads=num_threads,
                experimental_op_resolver_type=OpResolverType.BUILTIN_REF
                if reference_kernels
                else OpResolverType.AUTO,
                experimental_preserve_all_tensors=preserve_all_tensors,
                experimental_delegates=self.delegates,
            )
            self.runner = self.interpreter.get_signature_runner()
            self.output_details = self.runner.get_output_details()
            missing = [k for k in OUTPUT_KEYS if k not in self.output_details]
            if missing:
                raise ValueError(f"the model has no output {missing}; a tflnlu export has {OUTPUT_KEYS}")
            self.ids_shape = tuple(int(n) for n in self.runner.get_input_details()[INPUT_KEY]["shape"][1:])
            self.max_len = self.ids_shape[0]  # [max_len] ids, or [max_len, 1 + per_token] with subwords
            self.latencies: list[float] = []
            self.raw_one(np.zeros(self.ids_shape, np.int32))  # the delegate is made (and announced) here
        self.latencies = []

    def raw_one(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The model's own outputs (int8 for an int8 export) for one utterance's ids [T]
        ([T, 1 + per_token] with subwords)."""
        started = time.perf_counter()
        out = self.runner(**{INPUT_KEY: ids.reshape(1, *self.ids_shape).astype(np.int32)})
        self.latencies.append(time.perf_counter() - started)
        return tuple(out[k][0] for k in OUTPUT_KEYS)

    def dequantize(self, raw: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return tuple(
            dequantize(r, *self.output_details[k]["quantization"])
            for r, k in zip(raw, OUTPUT_KEYS, strict=True)
        )

    def predict_one(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.dequantize(self.raw_one(ids))
