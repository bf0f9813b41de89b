"""Build step: compile the C99 codebook-lookup kernel with the system C compiler.

The result is a plain shared library (loaded with ctypes, not imported), built as a
setuptools extension so `pip install` compiles it like any other native part.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "tflnlu.modelfile.kernel._codebook_lookup",
            sources=["tflnlu/modelfile/kernel/codebook_lookup.c"],
            extra_compile_args=["-std=c99", "-O2", "-Wall", "-Wextra"],
            py_limited_api=False,
        ),
        # The LiteRT C API kernel around the same core; its LiteRt* symbols resolve against
        # libLiteRt.so, loaded first (so it is a separate library from the runtime-free core).
        Extension(
            "tflnlu.modelfile.kernel._litert_kernel",
            sources=["tflnlu/modelfile/kernel/litert_kernel.c", "tflnlu/modelfile/kernel/codebook_lookup.c"],
            extra_compile_args=["-std=c99", "-O2", "-Wall", "-Wextra"],
            py_limited_api=False,
        ),
        # The delegate for the classic Interpreter (load_delegate): the same core, no runtime
        # library to link (it only calls the function pointers the interpreter hands it).
        Extension(
            "tflnlu.modelfile.kernel._tflnlu_delegate",
            sources=["tflnlu/modelfile/kernel/tflite_delegate.c", "tflnlu/modelfile/kernel/codebook_lookup.c"],
            extra_compile_args=["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden"],
            py_limited_api=False,
        ),
    ]
)
