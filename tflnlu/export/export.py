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
from tflnlu.data.example import Example, fingerprint
from tflnlu.data.hashed_vocab import HashedVocabulary
from tflnlu.data.tokenizer import TOKENIZER_VERSION
from tflnlu.data.vocab import UNK_ID, Vocabulary
from tflnlu.export.fuse import fuse_lookup
from tflnlu.export.golden import golden_texts, write_golden
from tflnlu.export.mcu import (
    c_array_sources,
    check_mcu_budgets,
    check_operators,
    op_resolver_source,
    verify_on_tflm,
)
from tflnlu.export.options import (
    EXPORT_JSON,
    GOLDEN_FILE,
    HEADER_FILE,
    MODEL_FILE,
    RESOLVER_FILE,
    SOURCE_FILE,
    TOKENIZER_JSON,
    ExportOptions,
    check_export_output,
    check_options_fit_run,
)
from tflnlu.export.quantize import convert_int8, quantize_aware_model
from tflnlu.io import atomic_directory, write_bytes_atomic, write_json_atomic
from tflnlu.layers.embeddings import CodebookLookup, DPQEmbedding, FullEmbedding
from tflnlu.modelfile.align import align_constants
from tflnlu.modelfile.flatbuffer import ModelInfo, read_model
from tflnlu.modelfile.metadata import HASHED_VOCAB, SUBWORDS, finish_model
from tflnlu.modelfile.size import check_budget, size_report
from tflnlu.models.joint import EMBEDDING_LAYER, ENCODER, PADDING_MASK, SUBWORD_LAYER, build_model
from tflnlu.nlu.encode import LabelSet, encode, intent_domains
from tflnlu.nlu.scoring import evaluate, score_outputs, seen_words
from tflnlu.runtime.litert import LiteRTModel
from tflnlu.runtime.litert_c import LiteRTCustomOpModel
from tflnlu.runtime.parser import Parser
from tflnlu.tf import keras
from tflnlu.train import run_dir
from tflnlu.train.config import TrainConfig
from tflnlu.train.predict import keras_predictor
from tflnlu.train.run_dir import Run, RunDirectoryError, load_run, read_config
from tflnlu.train.trainer import TrainingData, fine_tune


def export_embedding(trained: keras.layers.Layer, options: ExportOptions, row_order: list[int] | None = None):
    """The embedding's export form, its values fake-quantized to what the int8 file stores;
    with `row_order`, row i of it is the trained row row_order[i] (the file's id order)."""
    if isinstance(trained, DPQEmbedding):
        return trained.to_lookup(options.code_bits, quantize_codebook=True, row_order=row_order)
    table = trained.table.numpy()
    return int8_table_embedding(table if row_order is None else table[np.asarray(row_order)])


FileVocabulary = Vocabulary | HashedVocabulary


def file_vocabulary(vocab: Vocabulary, options: ExportOptions) -> tuple[FileVocabulary, list[int] | None]:
    """The vocabulary the file carries and, for a hashed one, the run's id of the word at each
    of its ids (the hash puts words in its own order, so the embedding's rows follow it)."""
    if options.vocabulary == "strings":
        return vocab, None
    hashed, tokens = HashedVocabulary.build(vocab.tokens, fingerprint_bits=options.fingerprint_bits)
    return hashed, [vocab.id(t) for t in tokens]


def vocabulary_report(
    run_vocab: Vocabulary, vocab: FileVocabulary, test: list[Example], max_len: int
) -> dict:
    """What the file's vocabulary costs and, for a hashed one, how often a test token the run
    does not know (among the first max_len, which the model reads) is taken for a known word:
    its false accepts, measured on real words."""
    if isinstance(vocab, Vocabulary):
        return {"kind": "strings", "words": len(vocab) - 2}
    unknown = [t for e in test for t in e.tokens[:max_len] if run_vocab.id(t) == UNK_ID]
    accepted = sum(vocab.id(t) != UNK_ID for t in unknown)
    return {
        "kind": "hashed",
        "words": vocab.words,
        "fingerprint_bits": vocab.fingerprint_bits,
        "stored_bytes": vocab.stored_bytes(),
        "bytes_per_word": vocab.stored_bytes() / max(1, vocab.words),
        "unknown_test_tokens": len(unknown),
        "false_accepts": accepted,
        "false_accept_rate": accepted / len(unknown) if unknown else None,
    }


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


@dataclass
class Prepared:
    """Stage 1's result: the run, its data encoded, the export-form model and the fp32 numbers."""

    run: Run
    data: TrainingData  # the splits, encoded with the file's vocabulary and the run's labels
    model: keras.Model  # the export form (int8-faked embedding), before QAT
    fp32_test: dict  # the trained run's test metrics (the Keras fp32 model)
    before_qat: dict  # the export form's, before QAT
    vocab: FileVocabulary  # the file's vocabulary (the run's, or its hashed form)
    tokens: list[str]  # the words in the file's id order (vocab.txt beside the export)
    seen: frozenset[str]  # the training split's words (the unseen-span slot F1)

    @property
    def splits(self) -> dict:
        return self.data.splits

    @property
    def encoded(self) -> dict:
        return self.data.encoded


@dataclass
class Lowered:
    """Stage 4's result: the file to write (and the builtin file, the reference for a custom op)."""

    builtin_bytes: bytes
    model_bytes: bytes
    info: ModelInfo
    report: dict
    float_tensors: list[dict]


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
    """Export a run: prepare, QAT, convert, lower, verify, write (one function each, below).

    `model` replaces the model built from the run's export-form embedding and encoder (the
    benchmark's task-agnostic baselines pass their own); `options.qat_epochs` 0 is
    post-training quantization. `data_info` (where the data came from) is recorded in
    export.json with a fingerprint of the test split."""
    check_export_output(out, run_directory, overwrite)
    check_options_fit_run(options, read_config(run_directory))
    keras.utils.set_random_seed(options.seed)
    prepared = prepare(run_directory, splits, options, model=model, log=log)
    qat_model = quantize_aware(prepared, options, log)
    converted = convert(prepared, qat_model, options, log)
    lowered = lower(prepared, converted, options)
    result = verify(prepared, lowered, qat_model, options, log=log)
    result["data"] = {**(data_info or {}), "test_sha256": fingerprint(splits["test"])}
    write(Path(out), prepared, lowered, result, options=options)
    return result


def prepare(run_directory: Path, splits: dict, options: ExportOptions, *, model=None, log=print) -> Prepared:
    """Load the run, check the data is the run's, encode it with the file's vocabulary, build
    the export form (rows in that vocabulary's order)."""
    run = load_run(run_directory)
    check_data_matches_run(splits, run)
    vocab, row_order = file_vocabulary(run.vocab, options)
    if model is not None and row_order is not None:
        raise ValueError("--vocabulary=hashed exports a run's own model, not one passed in")
    config = run.model_config
    encoded = {
        name: encode(examples, vocab, run.labels, config.max_len, subwords=config.subword_spec)
        for name, examples in splits.items()
    }
    run_test = (
        encoded["test"]
        if vocab is run.vocab
        else encode(splits["test"], run.vocab, run.labels, config.max_len, subwords=config.subword_spec)
    )
    seen = seen_words(splits["train"])  # for the slot F1 on spans with a word unseen in training
    fp32 = evaluate(keras_predictor(run.model), run_test.ids, splits["test"], run.labels, seen=seen)
    if model is None:
        model = export_model(run, options, row_order)
    if options.lookup == "custom" and not isinstance(model.get_layer(EMBEDDING_LAYER), CodebookLookup):
        raise ValueError("--lookup=custom needs a DPQ run: a full embedding has no codes to look up")
    before = evaluate(keras_predictor(model), encoded["test"].ids, splits["test"], run.labels, seen=seen)
    log(
        f"fp32 test intent {fp32['intent_accuracy']:.4f}; int8 embedding, before QAT {before['intent_accuracy']:.4f}"
    )
    tokens = run.vocab.tokens if row_order is None else [run.vocab.tokens[i] for i in row_order]
    data = TrainingData(splits, encoded, run.labels)
    return Prepared(
        run, data, model, fp32_test=fp32, before_qat=before, vocab=vocab, tokens=tokens, seen=seen
    )


def export_model(run: Run, options: ExportOptions, row_order: list[int] | None) -> keras.Model:
    """The run's model with its tables in their export form (the n-gram table's rows are
    buckets, never reordered) and its trained encoder."""
    trained = run.model.get_layer(EMBEDDING_LAYER)
    ngrams = None
    if run.model_config.subwords is not None:
        ngrams = export_embedding(run.model.get_layer(SUBWORD_LAYER), options)
    model = build_model(
        run.model_config, embedding=export_embedding(trained, options, row_order), subword_embedding=ngrams
    )
    model.get_layer(ENCODER).set_weights(run.model.get_layer(ENCODER).get_weights())
    return model


def quantize_aware(prepared: Prepared, options: ExportOptions, log=print) -> keras.Model:
    """QAT fine-tuning (tfmot for the encoder; the embedding fakes its own int8), or with
    qat_epochs=0 the model as it is (post-training quantization)."""
    if not options.qat_epochs:
        return prepared.model
    qat_model = quantize_aware_model(prepared.model, options.per_channel, weight_bits=options.weight_bits)
    config = _qat_config(prepared.run, options)
    fine_tune(qat_model, prepared.data, config, log)
    return qat_model


def convert(prepared: Prepared, qat_model: keras.Model, options: ExportOptions, log=print) -> bytes:
    """The converter's full-integer int8 file, calibrated on a seeded sample of train."""
    train_ids = prepared.encoded["train"].ids
    sample = np.random.default_rng(options.seed).permutation(len(train_ids))[
        : options.representative_examples
    ]
    log("converting to int8 TFLite ...")
    return convert_int8(qat_model, train_ids[sample])


def lower(prepared: Prepared, converted: bytes, options: ExportOptions) -> Lowered:
    """Metadata and checksum in, the lookup as builtin ops or the fused custom op; the size
    budget and (mcu) TFLite-Micro's kernels checked before any long verification."""
    run = prepared.run
    metadata = model_metadata(
        prepared.vocab,
        run.labels,
        run.model_config.max_len,
        prepared.splits["train"],
        subwords=run.model_config.subwords,
    )
    builtin_bytes = finished_file(converted, prepared.model, metadata, lookup="builtin")
    model_bytes = builtin_bytes
    if options.lookup == "custom":
        model_bytes = finished_file(converted, prepared.model, metadata, lookup="custom")
    info = read_model(model_bytes)
    report = size_report(info)
    check_budget(report, options.max_bytes, "the exported model")
    if options.target == "mcu":
        check_operators(info)
    return Lowered(builtin_bytes, model_bytes, info, report=report, float_tensors=float_tensors(converted))


def finished_file(converted: bytes, model: keras.Model, metadata: dict, *, lookup: str) -> bytes:
    """The file as written from the converter's: metadata in, lean, sealed; with the custom
    lookup, the lookup chain fused into one op and the constants aligned."""
    if lookup == "custom":
        return align_constants(finish_model(_fuse(converted, model), metadata))
    return finish_model(converted, metadata)


def verify(
    prepared: Prepared, lowered: Lowered, qat_model: keras.Model, options: ExportOptions, log=print
) -> dict:
    """Everything export.json claims, measured on the file: LiteRT test metrics next to the
    Keras models', intent agreement, latency, compression; the two lowerings diffed; TFLM."""
    run, test, test_ids = prepared.run, prepared.splits["test"], prepared.encoded["test"].ids
    qat_outputs = keras_predictor(qat_model)(test_ids)
    builtin = LiteRTModel(lowered.builtin_bytes)
    runner = builtin if options.lookup == "builtin" else LiteRTModel(lowered.model_bytes)  # + the delegate
    started = time.monotonic()
    outputs = runner(test_ids)  # one pass: metrics, agreement and latency all come from it
    result = {
        "lookup": options.lookup,
        "test": {
            "fp32_keras": prepared.fp32_test,
            "before_qat": prepared.before_qat,
            "qat_keras": score_outputs(*qat_outputs, test, run.labels, seen=prepared.seen),
            "tflite": score_outputs(*outputs, test, run.labels, seen=prepared.seen),
        },
        "intent_agreement_with_qat_keras": float(np.mean(outputs[0].argmax(-1) == qat_outputs[0].argmax(-1))),
        "latency": runner.latency_ms(),
        "size": lowered.report,
        "reference_fp32_bytes": _fp32_reference_bytes(run),
        "float_tensors": lowered.float_tensors,
        "vocabulary": vocabulary_report(run.vocab, prepared.vocab, test, max_len=run.model_config.max_len),
        "seconds_litert_eval": time.monotonic() - started,
        "options": dataclasses.asdict(options),
    }
    result["compression"] = 1 - lowered.report["file_bytes"] / result["reference_fp32_bytes"]
    if runner is not builtin:  # the two lowerings of one conversion, diffed on every test utterance
        compiled = LiteRTCustomOpModel(lowered.model_bytes)  # the second route: the LiteRT C API
        for key, other in (
            ("identical_outputs_to_builtin", runner),
            ("identical_outputs_compiled_model", compiled),
        ):
            same = [_same(other.raw_one(row), builtin.raw_one(row)) for row in test_ids]
            result[key] = float(np.mean(same))
    if options.target == "mcu":
        result["mcu"] = _verify_mcu(prepared, lowered, options, log)
    return result


def _verify_mcu(prepared: Prepared, lowered: Lowered, options: ExportOptions, log=print) -> dict:
    log("verifying in TFLite-Micro: whole test split, arena bisection ...")
    test, labels = prepared.splits["test"], prepared.run.labels
    mcu = verify_on_tflm(
        lowered.model_bytes,
        lowered.info,
        prepared.encoded["test"].ids,
        lambda i, s: score_outputs(i, s, test, labels),
    )
    check_mcu_budgets(
        mcu["flash_bytes"], mcu["arena_bytes"], options.max_flash_bytes, options.max_arena_bytes
    )
    return mcu


def write(out: Path, prepared: Prepared, lowered: Lowered, result: dict, *, options: ExportOptions) -> None:
    """Every file of the export into a temporary directory, swapped in whole at the end."""
    run, splits = prepared.run, prepared.splits
    with atomic_directory(out) as directory:
        write_bytes_atomic(directory / MODEL_FILE, lowered.model_bytes)
        if options.target == "mcu":
            _write_mcu_sources(directory, lowered.model_bytes, lowered.info)
        Vocabulary(prepared.tokens).save(directory / run_dir.VOCAB)
        run.labels.save(directory)
        tokenizer = {"version": TOKENIZER_VERSION, "max_len": run.model_config.max_len}
        if run.model_config.subwords is not None:
            tokenizer[SUBWORDS] = run.model_config.subwords
        write_json_atomic(directory / TOKENIZER_JSON, tokenizer)
        if options.golden != "none":
            texts = golden_texts([e.text for e in splits["test"]], [e.text for e in splits.get("dev", [])])
            result["golden_records"] = write_golden(
                directory / GOLDEN_FILE, texts, Parser(lowered.builtin_bytes)
            )
        write_json_atomic(directory / EXPORT_JSON, result)


def _qat_config(run: Run, options: ExportOptions) -> TrainConfig:
    """The run's own training settings with the QAT epochs, learning rate and averaging."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    settings = {k: v for k, v in run.config.get("train", {}).items() if k in fields}
    overrides = {
        "epochs": options.qat_epochs,
        "learning_rate": options.qat_learning_rate,
        "weight_average": options.qat_weight_average,
    }
    try:
        return TrainConfig(**{**settings, **overrides})
    except (TypeError, ValueError) as e:
        raise RunDirectoryError(
            f"{run.directory / run_dir.CONFIG} is damaged: 'train' settings ({e})"
        ) from None


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


def model_metadata(
    vocab: FileVocabulary,
    labels: LabelSet,
    max_len: int,
    train: list[Example],
    *,
    subwords: dict | None = None,
) -> dict:
    """What the file carries besides the graph (tflnlu.modelfile.metadata writes it)."""
    stored = {"vocab": vocab.tokens} if isinstance(vocab, Vocabulary) else {HASHED_VOCAB: vocab.to_json()}
    if subwords is not None:
        stored[SUBWORDS] = subwords
    return {
        "tflnlu_version": tflnlu.__version__,
        "tokenizer": {"version": TOKENIZER_VERSION, "max_len": max_len},
        **stored,
        "intents": labels.intents,
        "tags": labels.tags,
        "domains": labels.domains,
        "intent_domains": intent_domains(train),
    }
