"""The tflnlu delegate runs the fused lookup in the classic Interpreter: LiteRT 2.3's and
TensorFlow 2.21's (its struct declarations are written by hand, so running it in both is
the guard against layout drift), with outputs identical to the builtin lowering."""

import numpy as np
import pytest

from tflnlu.data.readers import read_splits
from tflnlu.export.export import ExportOptions, export_run
from tflnlu.modelfile.kernel import delegate_library
from tflnlu.runtime.litert import LiteRTModel
from tflnlu.train.config import TrainConfig
from tflnlu.train.trainer import train

SMALL = {"embed_dim": 16, "dpq_d": 4, "dpq_k": 16, "width": 8, "max_len": 12}
QUIET = {"log": lambda _: None}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One conversion written both ways (post-training quantization: quick)."""
    from tests.conftest import write_massive_dir

    root = tmp_path_factory.mktemp("delegate")
    splits = read_splits(write_massive_dir(root / "data"), "massive").splits
    train(splits, root / "run", SMALL, TrainConfig(epochs=3), **QUIET)
    results = {
        lookup: export_run(
            root / "run", root / lookup, splits, ExportOptions(qat_epochs=0, lookup=lookup), **QUIET
        )
        for lookup in ("builtin", "custom")
    }
    vocab_size = len((root / "run" / "vocab.txt").read_text(encoding="utf-8").splitlines())
    model_bytes = {lookup: (root / lookup / "model.tflite").read_bytes() for lookup in results}
    return model_bytes, results, vocab_size


def _random_ids(vocab_size: int, count: int = 300) -> np.ndarray:
    rng = np.random.default_rng(0)
    ids = rng.integers(0, vocab_size, size=(count, 12)).astype(np.int32)
    ids[::7, 5:] = 0  # padded utterances too
    return ids


def test_the_export_diffs_both_custom_op_routes_against_the_builtin_file(files):
    custom = files[1]["custom"]
    assert custom["identical_outputs_to_builtin"] == 1.0  # Interpreter + delegate
    assert custom["identical_outputs_compiled_model"] == 1.0  # the LiteRT C API


def test_litert_interpreter_with_the_delegate_equals_the_builtin_file_exactly(files):
    model_bytes, _, vocab_size = files
    builtin, custom = LiteRTModel(model_bytes["builtin"]), LiteRTModel(model_bytes["custom"])
    assert custom.delegates and not builtin.delegates
    for ids in _random_ids(vocab_size):
        for a, b in zip(custom.raw_one(ids), builtin.raw_one(ids), strict=True):
            np.testing.assert_array_equal(a, b)


def test_tensorflow_interpreter_with_the_delegate_equals_it_too(files):
    """Another build of the runtime (TF 2.21's tf.lite) with the same library."""
    from tflnlu.tf import tf

    model_bytes, _, vocab_size = files
    delegate = tf.lite.experimental.load_delegate(str(delegate_library()))
    runners = {
        name: tf.lite.Interpreter(
            model_content=model_bytes[name],
            experimental_delegates=[delegate] if name == "custom" else None,
            num_threads=1,
        ).get_signature_runner()
        for name in ("builtin", "custom")
    }
    key = next(iter(runners["custom"].get_input_details()))
    for ids in _random_ids(vocab_size, count=50):
        outputs = {name: runner(**{key: ids.reshape(1, -1)}) for name, runner in runners.items()}
        for output in outputs["builtin"]:
            np.testing.assert_array_equal(outputs["custom"][output], outputs["builtin"][output])


def test_out_of_range_ids_fail_the_invocation_with_a_message_and_never_read_past_a_buffer(files):
    model_bytes, _, vocab_size = files
    custom = LiteRTModel(model_bytes["custom"])
    with pytest.raises(RuntimeError, match="TFLNLU_CODEBOOK_LOOKUP: 12 ids or codes out of range"):
        custom.raw_one(np.full(12, vocab_size + 10_000, np.int32))
    with pytest.raises(RuntimeError, match="3 ids or codes out of range"):
        custom.raw_one(np.array([-1, -5, 2**31 - 1] + [0] * 9, np.int32))
    assert custom.raw_one(np.zeros(12, np.int32))[0].shape  # still usable afterwards


def test_the_expanded_table_is_built_once_per_node_and_freed_with_the_interpreter(files):
    """The delegate's fast path is really taken (the equality tests above then cover it), and
    its ~256 * d bytes go with the interpreter."""
    import ctypes
    import gc

    from ai_edge_litert.interpreter import Interpreter, load_delegate

    live = ctypes.CDLL(str(delegate_library())).tflnlu_delegate_live_tables
    live.restype = ctypes.c_int64
    model_bytes, _, vocab_size = files
    gc.collect()
    before = live()
    interpreter = Interpreter(
        model_content=model_bytes["custom"], experimental_delegates=[load_delegate(str(delegate_library()))]
    )
    interpreter.allocate_tensors()
    runner = interpreter.get_signature_runner()
    key = next(iter(runner.get_input_details()))
    runner(**{key: _random_ids(vocab_size, count=1)})
    runner(**{key: _random_ids(vocab_size, count=1)})
    assert live() == before + 1
    del runner, interpreter
    gc.collect()
    assert live() == before


def test_the_delegate_refuses_options():
    from ai_edge_litert.interpreter import load_delegate

    with pytest.raises(ValueError, match="takes no options"):
        load_delegate(str(delegate_library()), {"threads": "2"})


def test_a_custom_op_file_without_a_loadable_delegate_says_so(files, monkeypatch):
    from tflnlu.modelfile import kernel
    from tflnlu.modelfile.flatbuffer import ModelFileError
    from tflnlu.runtime.parser import open_runner

    def missing():
        raise FileNotFoundError("_tflnlu_delegate is not built")

    monkeypatch.setattr(kernel, "delegate_library", missing)
    with pytest.raises(
        ModelFileError, match=r"^m\.tflite uses the tflnlu custom op, and the tflnlu delegate cannot"
    ):
        open_runner(files[0]["custom"], "m.tflite")
    assert open_runner(files[0]["builtin"], "m.tflite")  # a builtin file needs no delegate


def test_more_code_groups_than_the_kernel_unpacks_are_refused_before_export():
    from tflnlu.export.options import check_options_fit_run

    with pytest.raises(ValueError, match="at most D=256 code groups, the run has D=512"):
        check_options_fit_run(ExportOptions(lookup="custom"), {"model": {"embedding": "dpq", "dpq_d": 512}})
    check_options_fit_run(ExportOptions(lookup="builtin"), {"model": {"embedding": "dpq", "dpq_d": 512}})
