"""Running a `--lookup=custom` export through the LiteRT C API (`libLiteRt.so` in the wheel).

The Python LiteRT packages cannot register a custom kernel; the C API's CompiledModel can
(`LiteRtAddCustomOpKernelOption`). No LiteRT headers ship anywhere, so the few functions
and structs used here are declared from `docs/litert_c_api_facts.md` (LiteRT 2.3.0), with
size checks. The kernel is C (`tflnlu/modelfile/kernel/litert_kernel.c`, around the C99 compute
core). The runtime ignores callback statuses, so the kernel counts its errors (bad options
or shapes, out-of-range ids or codes) in its own state, read and raised after each run.
"""

from __future__ import annotations

import ctypes as C
import time
from functools import cache
from pathlib import Path

import ai_edge_litert
import numpy as np
from ai_edge_litert import schema_py_generated as schema

from tflnlu.modelfile.align import ALIGNMENT
from tflnlu.modelfile.kernel import CUSTOM_OP_NAME, built_library
from tflnlu.runtime.litert import UtteranceRunner, checked_model_bytes, dequantize

PINNED_LITERT = "2.3.0"
_MAX_RANK = 8
_INT8, _INT32 = 9, 2  # LiteRtElementType
_CPU = 1  # kLiteRtHwAcceleratorCpu
_ENV_AUTO_REGISTER_ACCELERATORS, _ENV_MIN_LOG_SEVERITY, _ANY_INT = 24, 25, 2


class Layout(C.Structure):
    _fields_ = [
        ("rank", C.c_uint, 7),
        ("has_strides", C.c_uint, 1),
        ("dimensions", C.c_int32 * _MAX_RANK),
        ("strides", C.c_uint32 * _MAX_RANK),
    ]


class RankedTensorType(C.Structure):
    _fields_ = [("element_type", C.c_int), ("layout", Layout)]


class _AnyValue(C.Union):
    _fields_ = [("int_value", C.c_int64), ("real_value", C.c_double), ("ptr_value", C.c_void_p)]


class Any(C.Structure):  # LiteRtAny: a type tag and a value (16 bytes)
    _fields_ = [("type", C.c_int), ("value", _AnyValue)]


class EnvOption(C.Structure):  # the tag, then LiteRtAny at offset 8
    _fields_ = [("tag", C.c_int), ("value", Any)]


_INIT = C.CFUNCTYPE(C.c_int, C.c_void_p, C.c_void_p, C.c_size_t)
_LAYOUTS = C.CFUNCTYPE(C.c_int, C.c_void_p, C.c_size_t, C.POINTER(Layout), C.c_size_t, C.POINTER(Layout))
_RUN = C.CFUNCTYPE(C.c_int, C.c_void_p, C.c_size_t, C.POINTER(C.c_void_p), C.c_size_t, C.POINTER(C.c_void_p))
_DESTROY = C.CFUNCTYPE(C.c_int, C.c_void_p)


class CustomOpKernel(C.Structure):
    _fields_ = [("Init", _INIT), ("GetOutputLayouts", _LAYOUTS), ("Run", _RUN), ("Destroy", _DESTROY)]


# Struct sizes of LiteRT 2.3.0 (docs/litert_c_api_facts.md): a mismatch would link and then crash.
assert C.sizeof(Layout) == 68 and C.sizeof(RankedTensorType) == 72
assert C.sizeof(Any) == 16 and C.sizeof(EnvOption) == 24 and C.sizeof(CustomOpKernel) == 32


def _declare(lib: C.CDLL) -> None:
    vp, size, status = C.c_void_p, C.c_size_t, C.c_int
    signatures = {
        "LiteRtCreateEnvironment": (status, [C.c_int, C.POINTER(EnvOption), C.POINTER(vp)]),
        "LiteRtDestroyEnvironment": (None, [vp]),
        "LiteRtCreateModelFromBuffer": (status, [vp, vp, size, C.POINTER(vp)]),
        "LiteRtDestroyModel": (None, [vp]),
        "LiteRtCreateOptions": (status, [C.POINTER(vp)]),
        "LiteRtDestroyOptions": (None, [vp]),
        "LiteRtSetOptionsHardwareAccelerators": (status, [vp, C.c_int]),
        "LiteRtAddCustomOpKernelOption": (status, [vp, C.c_char_p, C.c_int, C.POINTER(CustomOpKernel), vp]),
        "LiteRtCreateCompiledModel": (status, [vp, vp, vp, C.POINTER(vp)]),
        "LiteRtDestroyCompiledModel": (None, [vp]),
        "LiteRtRunCompiledModel": (status, [vp, size, size, C.POINTER(vp), size, C.POINTER(vp)]),
        "LiteRtCreateTensorBufferFromHostMemory": (
            status,
            [C.POINTER(RankedTensorType), vp, size, vp, C.POINTER(vp)],
        ),
        "LiteRtDestroyTensorBuffer": (None, [vp]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes


@cache
def load_litert() -> C.CDLL:
    """libLiteRt.so, loaded once and globally (the kernel library resolves against it)."""
    from importlib.metadata import version

    if version("ai-edge-litert") != PINNED_LITERT:
        raise RuntimeError(
            f"the LiteRT C API declarations are for ai-edge-litert {PINNED_LITERT}, not {version('ai-edge-litert')}"
        )
    lib = C.CDLL(str(Path(ai_edge_litert.__file__).parent / "libLiteRt.so"), mode=C.RTLD_GLOBAL)
    _declare(lib)
    return lib


def _check(status: int, what: str) -> None:
    if status != 0:
        raise RuntimeError(f"LiteRT C API: {what} failed with status {status}")


def _aligned_array(nbytes: int) -> tuple[np.ndarray, int]:
    """A zeroed byte array and the address inside it that is 64-byte aligned."""
    raw = np.zeros(nbytes + ALIGNMENT, np.uint8)
    return raw, raw.ctypes.data + (-raw.ctypes.data) % ALIGNMENT


@cache
def load_lookup_kernel() -> C.CDLL:
    """The C kernel (`litert_kernel.c`), loaded after the libLiteRt.so it calls into."""
    load_litert()
    kernel = C.CDLL(str(built_library("_litert_kernel")))
    kernel.tflnlu_litert_kernel.restype = C.POINTER(CustomOpKernel)
    kernel.tflnlu_litert_kernel.argtypes = []
    kernel.tflnlu_kernel_state_new.restype = C.c_void_p
    kernel.tflnlu_kernel_state_new.argtypes = []
    kernel.tflnlu_kernel_state_free.restype = None
    kernel.tflnlu_kernel_state_free.argtypes = [C.c_void_p]
    kernel.tflnlu_kernel_take_errors.restype = C.c_int64
    kernel.tflnlu_kernel_take_errors.argtypes = [C.c_void_p]
    return kernel


class LiteRTCustomOpModel(UtteranceRunner):
    """A custom-op export compiled by LiteRT's CompiledModel, with the tflnlu kernel registered.

    Same predictor interface as `LiteRTModel`: ids [N, T] -> (intent logits, slot logits).
    """

    def __init__(self, model: Path | bytes):
        data = checked_model_bytes(model)
        self.lib = lib = load_litert()
        self.kernel = load_lookup_kernel()
        self.kernel_state = self.kernel.tflnlu_kernel_state_new()
        self._model_memory, address = _aligned_array(len(data))
        self._model_memory[address - self._model_memory.ctypes.data :][: len(data)] = np.frombuffer(
            data, np.uint8
        )
        options = (EnvOption * 2)()
        for option, (tag, value) in zip(
            options, [(_ENV_AUTO_REGISTER_ACCELERATORS, _CPU), (_ENV_MIN_LOG_SEVERITY, 3)], strict=True
        ):
            option.tag, option.value.type, option.value.value.int_value = tag, _ANY_INT, value
        self.env, self.model, self.compiled = C.c_void_p(), C.c_void_p(), C.c_void_p()
        _check(lib.LiteRtCreateEnvironment(2, options, C.byref(self.env)), "create environment")
        _check(
            lib.LiteRtCreateModelFromBuffer(self.env, address, len(data), C.byref(self.model)), "load model"
        )
        compile_options = C.c_void_p()
        _check(lib.LiteRtCreateOptions(C.byref(compile_options)), "create options")
        try:
            _check(lib.LiteRtSetOptionsHardwareAccelerators(compile_options, _CPU), "select CPU")
            _check(
                lib.LiteRtAddCustomOpKernelOption(
                    compile_options,
                    CUSTOM_OP_NAME.encode(),
                    1,
                    self.kernel.tflnlu_litert_kernel(),
                    self.kernel_state,
                ),
                "register the custom op",
            )
            _check(
                lib.LiteRtCreateCompiledModel(self.env, self.model, compile_options, C.byref(self.compiled)),
                "compile",
            )
        finally:
            lib.LiteRtDestroyOptions(compile_options)
        self._raise_kernel_errors()
        self._setup_io(data)
        self.latencies: list[float] = []

    def _setup_io(self, data: bytes) -> None:
        """Host buffers for the ids input and the two int8 outputs, in the subgraph's order."""
        model = schema.ModelT.InitFromPackedBuf(data, 0)
        subgraph = model.subgraphs[0]
        ids_tensor = subgraph.tensors[int(subgraph.inputs[0])]
        self.max_len = int(ids_tensor.shape[1])  # [1, max_len] or [1, max_len, 1 + per_token]
        self._buffers, self._views, self.output_quantization = [], [], []
        for index in [int(subgraph.inputs[0]), *(int(t) for t in subgraph.outputs)]:
            tensor = subgraph.tensors[index]
            dims = [int(d) for d in tensor.shape]
            element, itemsize, dtype = (
                (_INT32, 4, np.int32) if tensor.type == schema.TensorType.INT32 else (_INT8, 1, np.int8)
            )
            nbytes = int(np.prod(dims)) * itemsize
            memory, address = _aligned_array(nbytes)
            kind = RankedTensorType()
            kind.element_type, kind.layout.rank = element, len(dims)
            for i, d in enumerate(dims):
                kind.layout.dimensions[i] = d
            handle = C.c_void_p()
            _check(
                self.lib.LiteRtCreateTensorBufferFromHostMemory(
                    C.byref(kind), address, nbytes, None, C.byref(handle)
                ),
                "tensor buffer",
            )
            offset = address - memory.ctypes.data
            self._buffers.append((memory, handle))
            self._views.append(memory[offset : offset + nbytes].view(dtype).reshape(dims))
            if index != int(subgraph.inputs[0]):
                q = tensor.quantization
                self.output_quantization.append((float(q.scale[0]), int(q.zeroPoint[0])))
        # intent logits are [1, I], slot logits [1, T, S]
        self._order = sorted(range(len(subgraph.outputs)), key=lambda i: self._views[1 + i].ndim)
        self._inputs = (C.c_void_p * 1)(self._buffers[0][1])
        self._outputs = (C.c_void_p * len(subgraph.outputs))(*(h for _, h in self._buffers[1:]))

    def _raise_kernel_errors(self) -> None:
        errors = self.kernel.tflnlu_kernel_take_errors(self.kernel_state)
        if errors:
            raise RuntimeError(
                f"{CUSTOM_OP_NAME}: {errors} kernel errors (bad options or shapes, out-of-range ids or codes)"
            )

    def raw_one(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._views[0][...] = ids.reshape(self._views[0].shape)
        started = time.perf_counter()
        _check(
            self.lib.LiteRtRunCompiledModel(
                self.compiled, 0, 1, self._inputs, len(self._outputs), self._outputs
            ),
            "run",
        )
        self.latencies.append(time.perf_counter() - started)
        self._raise_kernel_errors()
        return tuple(self._views[1 + i][0].copy() for i in self._order)

    def dequantize(self, raw: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        scales = [self.output_quantization[i] for i in self._order]
        return tuple(dequantize(r, scale, zero) for r, (scale, zero) in zip(raw, scales, strict=True))

    def predict_one(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.dequantize(self.raw_one(ids))

    def close(self) -> None:
        for _, handle in getattr(self, "_buffers", []):
            self.lib.LiteRtDestroyTensorBuffer(handle)
        self._buffers = []
        for attr, destroy in (
            ("compiled", "LiteRtDestroyCompiledModel"),
            ("model", "LiteRtDestroyModel"),
            ("env", "LiteRtDestroyEnvironment"),
        ):
            handle = getattr(self, attr, None)
            if handle:
                getattr(self.lib, destroy)(handle)
                setattr(self, attr, None)
        if getattr(self, "kernel_state", None):
            self.kernel.tflnlu_kernel_state_free(self.kernel_state)
            self.kernel_state = None

    def __del__(self):
        self.close()
