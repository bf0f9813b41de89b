"""`tflnlu-export` as a function: QAT fine-tuning, int8 conversion, verification, size report.

Everything claimed about the export is measured on the written .tflite in LiteRT: accuracy
on the test split next to the Keras models' (fp32 run, and QAT), agreement of intents with
the QAT Keras model, latency, and sizes read from the flatbuffer.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import tflnlu
from tflnlu.data.example import fingerprint
from tflnlu.data.tokenizer import TOKENIZER_VERSION
from tflnlu.export.fuse import fuse_lookup
from tflnlu.export.golden import GOLDEN_FILE, golden_texts, write_golden
from tflnlu.export.mcu import (
    HEADER_FILE,
    RESOLVER_FILE,
    SOURCE_FILE,
    c_array_sources,
    check_mcu_budgets,
    check_operators,
    op_resolver_source,
    verify_on_tflm,
)
from tflnlu.export.quantize import convert_int8, quantize_aware_model
from tflnlu.io import atomic_directory, write_bytes_atomic, write_json_atomic
from tflnlu.layers.embeddings import CodebookLookup, DPQEmbedding, FullEmbedding
from tflnlu.modelfile.align import align_constants
from tflnlu.modelfile.flatbuffer import ModelInfo, read_model
from tflnlu.modelfile.metadata import finish_model
from tflnlu.modelfile.size import check_budget, size_report
from tflnlu.models.joint import EMBEDDING_LAYER, ENCODER, PADDING_MASK, build_model
from tflnlu.nlu.encode import LabelSet, encode
from tflnlu.nlu.scoring import evaluate, score_outputs
from tflnlu.outputs import OutputKind, prepare_output
from tflnlu.runtime.litert import LiteRTModel
from tflnlu.runtime.litert_c import LiteRTCustomOpModel
from tflnlu.tf import keras
from tflnlu.train import run_dir
from tflnlu.train.predict import keras_predictor
from tflnlu.train.run_dir import Run, load_run
from tflnlu.train.trainer import TrainConfig, fine_tune

MODEL_FILE = "model.tflite"
EXPORT_JSON = "export.json"
TOKENIZER_JSON = "tokenizer.json"
LOOKUPS = ("builtin", "custom")
TARGETS = ("desktop", "mcu")  # mcu: also verified in TFLite-Micro, with C sources and budgets

# What an export directory may hold; export.json, written with the rest in one atomic
# directory swap, marks a directory as an export.
EXPORT = OutputKind(
    "export",
    marker=EXPORT_JSON,
    entries=frozenset(
        {
            MODEL_FILE,
            EXPORT_JSON,
            TOKENIZER_JSON,
            GOLDEN_FILE,
            HEADER_FILE,
            SOURCE_FILE,
            RESOLVER_FILE,
            run_dir.VOCAB,
            *LabelSet.FILES.values(),
        }
    ),
)


@dataclass(frozen=True)
class ExportOptions:
    lookup: str = "builtin"
    code_bits: int | None = None  # 8, 4 or 2; default: the fewest that hold K
    qat_epochs: int = 3  # 0: post-training quantization only
    qat_learning_rate: float = 2e-4
    representative_examples: int = 300
    max_bytes: int | None = None
    per_channel: bool = True  # per-channel weight scales in convolutions
    seed: int = 0  # QAT fine-tuning and calibration sample
    target: str = "desktop"
    max_flash_bytes: int | None = None  # mcu: the whole flatbuffer
    max_arena_bytes: int | None = None  # mcu: the TFLM tensor arena

    def __post_init__(self):
        if self.lookup not in LOOKUPS:
            raise ValueError(f"lookup must be one of {LOOKUPS}, got {self.lookup!r}")
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {self.target!r}")
        if self.target == "mcu" and self.lookup != "builtin":
            raise ValueError(
                "--target=mcu needs --lookup=builtin: the pip TFLite-Micro runtime cannot register a custom op"
            )
        if self.target != "mcu" and (self.max_flash_bytes or self.max_arena_bytes):
            raise ValueError("--max_flash_bytes and --max_arena_bytes apply to --target=mcu only")


def export_embedding(run: Run, options: ExportOptions):
    """The embedding's export form, its values fake-quantized to what the int8 file stores."""
    trained = run.model.get_layer(EMBEDDING_LAYER)
    if isinstance(trained, DPQEmbedding):
        return trained.to_lookup(options.code_bits, quantize_codebook=True)
    return int8_table_embedding(trained.table.numpy())


def int8_table_embedding(table: np.ndarray) -> FullEmbedding:
    """A plain table as an embedding fake-quantized to int8 over its own range."""
    layer = FullEmbedding(*table.shape, (float(table.min()), float(table.max())), name=EMBEDDING_LAYER)
    layer.build(None)
    layer.table.assign(table)
    return layer


def float_tensors(model_bytes: bytes) -> list[dict]:
    """Tensors that stay float in the int8 file, each with the reason."""
    reasons = []
    for tensor in read_model(model_bytes).tensors:
        if tensor.dtype == "FLOAT32":
            reasons.append(
                {
                    "tensor": tensor.name,
                    "why": "padding mask: 0/1 computed from the int32 ids, then QUANTIZE to int8"
                    if PADDING_MASK in tensor.name
                    else "unexpected float tensor",
                }
            )
    return reasons


def check_data_matches_run(splits: dict, run: Run) -> None:
    """Refuse data the run was not trained on: its labels would be scored as never predicted."""
    unknown = sorted({e.intent for e in splits["train"] if e.intent} - set(run.labels.intents))
    if unknown:
        shown = ", ".join(repr(i) for i in unknown[:3])
        raise ValueError(
            f"the data does not match the run: its training split has {len(unknown)} intent(s) the run "
            f"does not know ({shown}{', ...' if len(unknown) > 3 else ''}); pass the data the run was "
            "trained on (--data and --format)"
        )


def check_export_output(out: Path, run_directory: Path, overwrite: bool, data: str | None = None) -> None:
    """Before any work: `out` is new, empty or an earlier export (replaced only with
    `overwrite`), and neither the run nor the data lies inside it."""
    protected = [(Path(run_directory), "the run"), *([(Path(data), "the data")] if data else [])]
    prepare_output(Path(out), EXPORT, overwrite=overwrite, protected=protected)


def export_run(
    run_directory: Path,
    out: Path,
    splits: dict,
    options: ExportOptions = ExportOptions(),
    log=print,
    model: keras.Model | None = None,
    *,
    overwrite: bool = False,
    data_info: dict | None = None,
) -> dict:
    """Export a run. `model` replaces the model built from the run's export-form embedding
    and encoder (the benchmark's task-agnostic baselines pass their own); `options.qat_epochs`
    0 is post-training quantization (no fine-tuning). `data_info` (where the data came from)
    is recorded in export.json with a fingerprint of the test split."""
    check_export_output(out, run_directory, overwrite)
    keras.utils.set_random_seed(options.seed)
    run = load_run(run_directory)
    check_data_matches_run(splits, run)
    max_len = run.model_config.max_len
    encoded = {name: encode(examples, run.vocab, run.labels, max_len) for name, examples in splits.items()}
    test, test_ids = splits["test"], encoded["test"].ids
    fp32_metrics = evaluate(keras_predictor(run.model), test_ids, test, run.labels)

    if model is None:
        model = build_model(run.model_config, embedding=export_embedding(run, options))
        model.get_layer(ENCODER).set_weights(run.model.get_layer(ENCODER).get_weights())
    if options.lookup == "custom" and not isinstance(model.get_layer(EMBEDDING_LAYER), CodebookLookup):
        raise ValueError("--lookup=custom needs a DPQ run: a full embedding has no codes to look up")
    before_qat = evaluate(keras_predictor(model), test_ids, test, run.labels)
    log(
        f"fp32 test intent {fp32_metrics['intent_accuracy']:.4f}; int8 embedding, before QAT {before_qat['intent_accuracy']:.4f}"
    )

    qat_model = model
    if options.qat_epochs:  # 0: post-training quantization, no fine-tuning
        qat_model = quantize_aware_model(model, options.per_channel)
        fine_tune(qat_model, encoded, splits, run.labels, _qat_config(run, options), log)
    qat_outputs = keras_predictor(qat_model)(test_ids)
    after_qat = score_outputs(*qat_outputs, test, run.labels)

    rng = np.random.default_rng(options.seed)
    calibration = encoded["train"].ids[
        rng.permutation(len(encoded["train"].ids))[: options.representative_examples]
    ]
    log("converting to int8 TFLite ...")
    converted = convert_int8(qat_model, calibration)
    kept_float = float_tensors(converted)  # before names are shortened: the reasons need them
    builtin_bytes = finish_model(converted, _metadata(run))
    model_bytes = builtin_bytes
    if options.lookup == "custom":
        model_bytes = align_constants(finish_model(_fuse(converted, model), _metadata(run)))
    info = read_model(model_bytes)
    report = size_report(info)
    check_budget(report, options.max_bytes, "the exported model")
    if options.target == "mcu":
        check_operators(info)  # fail on a missing TFLM kernel before any long work

    builtin = LiteRTModel(builtin_bytes)
    runner = builtin if options.lookup == "builtin" else LiteRTCustomOpModel(model_bytes)
    started = time.monotonic()
    tflite_outputs = runner(test_ids)  # one pass: metrics, agreement and latency all come from it
    tflite_metrics = score_outputs(*tflite_outputs, test, run.labels)
    agreement = float(np.mean(tflite_outputs[0].argmax(-1) == qat_outputs[0].argmax(-1)))
    result = {
        "lookup": options.lookup,
        "test": {
            "fp32_keras": fp32_metrics,
            "before_qat": before_qat,
            "qat_keras": after_qat,
            "tflite": tflite_metrics,
        },
        "intent_agreement_with_qat_keras": agreement,
        "latency": runner.latency_ms(),
        "size": report,
        "reference_fp32_bytes": _fp32_reference_bytes(run),
        "float_tensors": kept_float,
        "seconds_litert_eval": time.monotonic() - started,
        "options": dataclasses.asdict(options),
        "data": {**(data_info or {}), "test_sha256": fingerprint(test)},
    }
    result["compression"] = 1 - report["file_bytes"] / result["reference_fp32_bytes"]
    if runner is not builtin:  # the two lowerings of one conversion, diffed on every test utterance
        result["identical_outputs_to_builtin"] = float(
            np.mean([_same(runner.raw_one(row), builtin.raw_one(row)) for row in test_ids])
        )
    if options.target == "mcu":
        log("verifying in TFLite-Micro: whole test split, arena bisection ...")
        result["mcu"] = verify_on_tflm(
            model_bytes, info, test_ids, lambda i, s: score_outputs(i, s, test, run.labels)
        )
        check_mcu_budgets(
            result["mcu"]["flash_bytes"],
            result["mcu"]["arena_bytes"],
            options.max_flash_bytes,
            options.max_arena_bytes,
        )
    with atomic_directory(Path(out)) as directory:
        write_bytes_atomic(directory / MODEL_FILE, model_bytes)
        if options.target == "mcu":
            _write_mcu_sources(directory, model_bytes, info)
        run.vocab.save(directory / run_dir.VOCAB)
        run.labels.save(directory)
        write_json_atomic(directory / TOKENIZER_JSON, {"version": TOKENIZER_VERSION, "max_len": max_len})
        result["golden_records"] = write_golden(
            directory / GOLDEN_FILE,
            golden_texts([e.text for e in test], [e.text for e in splits.get("dev", [])]),
            builtin,
            run.vocab,
            run.labels,
        )
        write_json_atomic(directory / EXPORT_JSON, result)
    return result


def _qat_config(run: Run, options: ExportOptions) -> TrainConfig:
    """The run's own training settings with the QAT epochs and learning rate, no averaging."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    settings = {k: v for k, v in run.config["train"].items() if k in fields}
    return TrainConfig(
        **{
            **settings,
            "epochs": options.qat_epochs,
            "learning_rate": options.qat_learning_rate,
            "weight_average": 0.0,
        }
    )


def _write_mcu_sources(directory: Path, model_bytes: bytes, info: ModelInfo) -> None:
    header, source = c_array_sources(model_bytes)
    write_bytes_atomic(directory / HEADER_FILE, header.encode())
    write_bytes_atomic(directory / SOURCE_FILE, source.encode())
    write_bytes_atomic(directory / RESOLVER_FILE, op_resolver_source(info).encode())


def _fuse(converted: bytes, model) -> bytes:
    lookup = model.get_layer(EMBEDDING_LAYER)
    return fuse_lookup(converted, lookup.bits, lookup.num_groups, lookup.num_codes)


def _same(a: tuple, b: tuple) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def _fp32_reference_bytes(run: Run) -> int:
    """fp32 bytes of the model a user would train without tflnlu: same encoder and heads,
    the full table at the same width (the ratio's denominator)."""
    config = run.model_config
    encoder_params = run.model.get_layer(ENCODER).count_params()
    return (config.vocab_size * config.embed_dim + encoder_params) * 4


def _metadata(run: Run) -> dict:
    return {
        "tflnlu_version": tflnlu.__version__,
        "tokenizer": {"version": TOKENIZER_VERSION, "max_len": run.model_config.max_len},
        "vocab": run.vocab.tokens,
        "intents": run.labels.intents,
        "tags": run.labels.tags,
        "domains": run.labels.domains,
    }
