"""The benchmark's variants: how each one is trained (or derived) and exported.

Every variant shares the data splits, the encoder and heads and the training settings of the
reference run `full` (fp32 table of width 128); only the embedding and the quantization
change. Each is measured on its *exported* file in LiteRT (fastText on its .ftz in fastText).
"""

from __future__ import annotations

import dataclasses
import gzip
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tflnlu.bench import posthoc
from tflnlu.data.subwords import SubwordSpec
from tflnlu.export.export import ExportOptions, export_run, int8_table_embedding
from tflnlu.export.quantize import convert_float
from tflnlu.io import write_bytes_atomic
from tflnlu.layers.codes import storage_bits
from tflnlu.layers.embeddings import CodebookLookup, FullEmbedding
from tflnlu.modelfile.flatbuffer import read_model
from tflnlu.modelfile.size import size_report
from tflnlu.models.config import ModelConfig
from tflnlu.models.joint import EMBEDDING_LAYER, ENCODER, build_model
from tflnlu.nlu.encode import encode
from tflnlu.nlu.scoring import evaluate, seen_words
from tflnlu.runtime.litert import LiteRTModel
from tflnlu.tf import keras
from tflnlu.train.config import TrainConfig
from tflnlu.train.run_dir import Run, load_run
from tflnlu.train.trainer import train

REFERENCE = "full_fp32"
PROJECTION = "project"  # the encoder's first layer: a 1x1 conv from the embedding width


@dataclass(frozen=True)
class Variant:
    name: str
    family: str  # what the table and plot group by
    description: str
    run: str  # the trained run it uses (trained once, shared by several variants)
    params: dict = field(default_factory=dict)


@dataclass
class Context:
    """What variants share while a benchmark runs: splits, trained runs and where to write."""

    splits: dict
    work: Path
    train_config: TrainConfig
    log: Callable[[str], None]
    qat_epochs: int = 3
    encoder: dict = field(default_factory=dict)  # encoder/head options shared by every run (width, pooling)
    per_channel: bool = True  # int8 weight scales of the exports
    resume: bool = False  # a run interrupted mid-training continues from its last finished epoch

    def run_dir(self, name: str, model_options: dict) -> Path:
        """The run `name`, trained on first use (kept across --resume). A run's own encoder
        options (a student's width) win over the benchmark's; its `teacher` names another
        run, trained first. With `resume`, a run cut off mid-training (a stopped session: the
        65-language runs take hours) goes on from its checkpoint instead of starting again."""
        directory = self.work / "runs" / name
        if not (directory / "weights.h5").is_file() or not (directory / "metrics.json").is_file():
            train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
            train_options = {k: v for k, v in model_options.items() if k in train_fields}
            if "teacher" in train_options:
                teacher = train_options["teacher"]
                train_options["teacher"] = str(self.run_dir(teacher, RUNS[teacher]))
            options = {**self.encoder, **{k: v for k, v in model_options.items() if k not in train_fields}}
            config = dataclasses.replace(self.train_config, **train_options)
            train(
                self.splits,
                directory,
                options,
                config,
                resume=self.resume,
                overwrite=not self.resume,
                log=self.log,
            )
        return directory


_K4_D16_MIN2 = {"embedding": "dpq", "dpq_variant": "sx", "dpq_k": 4, "dpq_d": 16, "min_count": 2}
_K4_D16_MIN3 = {**_K4_D16_MIN2, "min_count": 3}
_W32 = {"width": 32, "pooling": "max"}
_CLINC150_SMALL = {
    "embedding": "dpq",
    "dpq_variant": "sx",
    "dpq_k": 16,
    "dpq_d": 8,
    "min_count": 3,
    "pooling": "max",
}
_SUBWORDS = {
    "subwords": SubwordSpec(min_n=3, max_n=5, buckets=2048, per_token=12).to_json(),
    "subword_dpq_k": 4,
    "subword_dpq_d": 8,
}

# Trained runs: name -> model options (beyond the defaults of ModelConfig) and TrainConfig
# fields that differ from the benchmark's (min_count: vocabulary pruning, as fastText's -cutoff).
RUNS = {
    "full": {"embedding": "full", "embed_dim": 128},
    "lowrank16": {"embedding": "full", "embed_dim": 16},
    "lowrank32": {"embedding": "full", "embed_dim": 32},
    "dpq_sx_k16_d16": {"embedding": "dpq", "dpq_variant": "sx", "dpq_k": 16, "dpq_d": 16},
    "dpq_sx_k16_d8": {"embedding": "dpq", "dpq_variant": "sx", "dpq_k": 16, "dpq_d": 8},
    "dpq_sx_k4_d16": {"embedding": "dpq", "dpq_variant": "sx", "dpq_k": 4, "dpq_d": 16},
    "dpq_sx_k4_d8": {"embedding": "dpq", "dpq_variant": "sx", "dpq_k": 4, "dpq_d": 8},
    "dpq_sx_k16_d8_min2": {"embedding": "dpq", "dpq_variant": "sx", "dpq_k": 16, "dpq_d": 8, "min_count": 2},
    "dpq_sx_k4_d16_min2": _K4_D16_MIN2,
    "dpq_sx_k4_d8_min2": {"embedding": "dpq", "dpq_variant": "sx", "dpq_k": 4, "dpq_d": 8, "min_count": 2},
    "dpq_sx_k4_d16_min3": _K4_D16_MIN3,
    # Issue 16: the same table distilled from the reference run (soft intent targets).
    "dpq_sx_k4_d16_min3_distilled": {**_K4_D16_MIN3, "teacher": "full"},
    # Issue 16: the same table trained longer (its dev intent still rose at epoch 10 of the
    # 65-language benchmark, the reference's was flat from epoch 6); early stopping as usual.
    "dpq_sx_k4_d16_min3_e16": {**_K4_D16_MIN3, "epochs": 16},
    "dpq_vq_k16_d16": {"embedding": "dpq", "dpq_variant": "vq", "dpq_k": 16, "dpq_d": 16},
    # Issue 18: the HWU64 winner's table with hashed character 3- to 5-grams beside each word
    # (2,048 buckets in a DPQ table of their own, K=4 D=8: about 4.6 KB).
    "dpq_sx_k4_d16_min2_sub": {**_K4_D16_MIN2, **_SUBWORDS},
    # Students: an encoder of width 32 (max pooling) under the same DPQ table, on its own and
    # distilled from the reference run `full` (issue 14, lever 3).
    "w32_dpq_sx_k4_d16_min2": {**_K4_D16_MIN2, **_W32},
    "w32_dpq_sx_k4_d16_min2_distilled": {**_K4_D16_MIN2, **_W32, "teacher": "full"},
    # What `tflnlu-train` trains without flags (make run): DPQ-SX K=16 D=32, every word kept.
    "default": {},
    # CLINC150's small file: its 150-intent head is the biggest weight, so the intent features
    # are the max pool alone (64 wide, not 128), and words seen less than three times drop out.
    "dpq_sx_k16_d8_min3_max": _CLINC150_SMALL,
    "dpq_sx_k16_d8_min3_max_sub": {**_CLINC150_SMALL, **_SUBWORDS},  # issue 18 on CLINC150
}

VARIANTS = (
    Variant(REFERENCE, "fp32", "fp32 table d=128, fp32 .tflite (the reference)", "full"),
    Variant("full_ptq_int8", "int8", "post-training full-integer int8", "full", params={"qat_epochs": 0}),
    Variant("full_qat_int8", "int8", "quantization-aware int8", "full"),
    Variant("lowrank_r16_qat", "low-rank", "low-rank table r=16 trained end to end, QAT int8", "lowrank16"),
    Variant("lowrank_r32_qat", "low-rank", "low-rank table r=32 trained end to end, QAT int8", "lowrank32"),
    Variant(
        "svd_r16", "task-agnostic", "SVD rank 16 of the fp32 table, int8 PTQ", "full", params={"svd_rank": 16}
    ),
    Variant(
        "svd_r32", "task-agnostic", "SVD rank 32 of the fp32 table, int8 PTQ", "full", params={"svd_rank": 32}
    ),
    Variant(
        "pq_k16_d16",
        "task-agnostic",
        "k-means PQ K=16 D=16 of the fp32 table, int8 PTQ",
        "full",
        params={"pq": (16, 16)},
    ),
    Variant(
        "pq_k16_d8",
        "task-agnostic",
        "k-means PQ K=16 D=8 of the fp32 table, int8 PTQ",
        "full",
        params={"pq": (16, 8)},
    ),
    Variant(
        "scalar_int4_rows",
        "task-agnostic",
        "per-row scalar int4 of the fp32 table, int8 PTQ",
        "full",
        params={"scalar_bits": 4},
    ),
    Variant(
        "scalar_int2_rows",
        "task-agnostic",
        "per-row scalar int2 of the fp32 table, int8 PTQ",
        "full",
        params={"scalar_bits": 2},
    ),
    Variant(
        "tfmot_cluster16",
        "clustering",
        "tfmot weight clustering, 16 clusters, int8 PTQ",
        "full",
        params={"clusters": 16},
    ),
    Variant(
        "tfmot_cluster32",
        "clustering",
        "tfmot weight clustering, 32 clusters, int8 PTQ",
        "full",
        params={"clusters": 32},
    ),
    Variant("dpq_sx_k16_d16", "DPQ (task-aware)", "DPQ-SX K=16 D=16, QAT int8", "dpq_sx_k16_d16"),
    Variant("dpq_sx_k16_d8", "DPQ (task-aware)", "DPQ-SX K=16 D=8, QAT int8", "dpq_sx_k16_d8"),
    Variant("dpq_sx_k4_d16", "DPQ (task-aware)", "DPQ-SX K=4 D=16, QAT int8", "dpq_sx_k4_d16"),
    Variant("dpq_sx_k4_d8", "DPQ (task-aware)", "DPQ-SX K=4 D=8, QAT int8", "dpq_sx_k4_d8"),
    Variant("dpq_vq_k16_d16", "DPQ (task-aware)", "DPQ-VQ K=16 D=16, QAT int8", "dpq_vq_k16_d16"),
    Variant(
        "dpq_sx_k16_d8_min2",
        "DPQ + pruned vocabulary",
        "DPQ-SX K=16 D=8, words seen once dropped (<unk>), QAT int8",
        "dpq_sx_k16_d8_min2",
    ),
    Variant(
        "dpq_sx_k4_d16_min2",
        "DPQ + pruned vocabulary",
        "DPQ-SX K=4 D=16, words seen once dropped (<unk>), QAT int8",
        "dpq_sx_k4_d16_min2",
    ),
    # Issue 14's levers, each on its own and together (the reference stays `full_fp32`).
    Variant(
        "dpq_sx_k4_d16_min2_int4",
        "int4 weights",
        "DPQ-SX K=4 D=16, pruned vocabulary, QAT int4 weights / int8 activations",
        "dpq_sx_k4_d16_min2",
        params={"weight_bits": 4},
    ),
    Variant(
        "w32_dpq_sx_k4_d16_min2",
        "small encoder",
        "width-32 encoder (max pooling), DPQ-SX K=4 D=16, pruned vocabulary, QAT int8",
        "w32_dpq_sx_k4_d16_min2",
    ),
    Variant(
        "w32_dpq_sx_k4_d16_min2_distilled",
        "small encoder",
        "the same student distilled from the reference run, QAT int8",
        "w32_dpq_sx_k4_d16_min2_distilled",
    ),
    Variant(
        "w32_dpq_sx_k4_d16_min2_distilled_int4",
        "int4 weights",
        "the distilled student, QAT int4 weights / int8 activations",
        "w32_dpq_sx_k4_d16_min2_distilled",
        params={"weight_bits": 4},
    ),
    Variant(
        "dpq_sx_k16_d8_min3_max",
        "DPQ + pruned vocabulary",
        "DPQ-SX K=16 D=8, words seen < 3 times dropped, max pooling, QAT int8",
        "dpq_sx_k16_d8_min3_max",
    ),
    Variant(
        "dpq_sx_k16_d8_min3_max_int4",
        "int4 weights",
        "the same run, QAT int4 weights / int8 activations",
        "dpq_sx_k16_d8_min3_max",
        params={"weight_bits": 4},
    ),
    # Issue 16: the vocabulary stored without strings (minimal perfect hash + 8-bit fingerprints).
    Variant(
        "dpq_sx_k4_d16_min2_int4_hashed",
        "hashed vocabulary",
        "DPQ-SX K=4 D=16, pruned vocabulary, int4 weights, hashed vocabulary (8-bit fingerprints)",
        "dpq_sx_k4_d16_min2",
        params={"weight_bits": 4, "vocabulary": "hashed"},
    ),
    Variant(
        "dpq_sx_k4_d8_min2_int4_hashed",
        "hashed vocabulary",
        "DPQ-SX K=4 D=8 (2 bytes a word), pruned vocabulary, int4 weights, hashed vocabulary",
        "dpq_sx_k4_d8_min2",
        params={"weight_bits": 4, "vocabulary": "hashed"},
    ),
    Variant(
        "dpq_sx_k4_d16_min3_int4_hashed",
        "hashed vocabulary",
        "DPQ-SX K=4 D=16 (4 bytes a word), words seen < 3 times dropped, int4 weights, hashed vocabulary",
        "dpq_sx_k4_d16_min3",
        params={"weight_bits": 4, "vocabulary": "hashed"},
    ),
    Variant(
        "dpq_sx_k4_d16_min2_int4_subwords",
        "subwords",
        "DPQ-SX K=4 D=16, pruned vocabulary, int4 weights, hashed 3-5-grams (2,048 buckets, K=4 D=8)",
        "dpq_sx_k4_d16_min2_sub",
        params={"weight_bits": 4},
    ),
    Variant(
        "dpq_sx_k16_d8_min3_max_int4_subwords",
        "subwords",
        "CLINC150's small file (K=16 D=8, min_count 3, max pooling, int4) with hashed 3-5-grams",
        "dpq_sx_k16_d8_min3_max_sub",
        params={"weight_bits": 4},
    ),
    Variant(
        "dpq_sx_k4_d16_min3_distilled_int4_hashed",
        "hashed vocabulary",
        "the same file's run distilled from the reference run, int4 weights, hashed vocabulary",
        "dpq_sx_k4_d16_min3_distilled",
        params={"weight_bits": 4, "vocabulary": "hashed"},
    ),
    Variant(
        "dpq_sx_k4_d16_min3_e16_int4_hashed",
        "hashed vocabulary",
        "the same file's run trained for up to 16 epochs (not 10), int4 weights, hashed vocabulary",
        "dpq_sx_k4_d16_min3_e16",
        params={"weight_bits": 4, "vocabulary": "hashed"},
    ),
    Variant(
        "dpq_sx_k4_d16_min3_e16_int4_hashed_qat_lr5e5",
        "hashed vocabulary",
        "the 16-epoch run, its QAT fine-tuning at learning rate 5e-5 (not 2e-4)",
        "dpq_sx_k4_d16_min3_e16",
        params={"weight_bits": 4, "vocabulary": "hashed", "qat_learning_rate": 5e-5},
    ),
    Variant(
        "dpq_sx_k4_d16_min3_e16_int4_hashed_qat_ema",
        "hashed vocabulary",
        "the 16-epoch run, its QAT fine-tuning evaluated and exported as a moving average (decay 0.999)",
        "dpq_sx_k4_d16_min3_e16",
        params={"weight_bits": 4, "vocabulary": "hashed", "qat_weight_average": 0.999},
    ),
    Variant("default_qat_int8", "defaults", "tflnlu-train's defaults, QAT int8 (make run)", "default"),
    Variant(
        "default_qat_int4",
        "defaults",
        "tflnlu-train's defaults, QAT int4 weights / int8 activations",
        "default",
        params={"weight_bits": 4},
    ),
)


# A variant's params that are export options as they are (ExportOptions' own default when
# absent); qat_epochs and per_channel default to the benchmark's instead. Whatever is left
# derives a model from the run (_derived_model).
_EXPORT_PARAMS = ("qat_learning_rate", "qat_weight_average", "weight_bits", "vocabulary")


def run_variant(variant: Variant, context: Context) -> dict:
    """Train (or reuse) the variant's run, derive and export its model; the measured row."""
    run_dir = context.run_dir(variant.run, RUNS[variant.run])
    out = context.work / "exports" / variant.name
    if variant.name == REFERENCE:
        return _fp32_row(load_run(run_dir), context, out)
    params = dict(variant.params)
    exported = {name: params.pop(name) for name in _EXPORT_PARAMS if name in params}
    options = ExportOptions(
        qat_epochs=params.pop("qat_epochs", context.qat_epochs),
        per_channel=params.pop("per_channel", context.per_channel),
        **exported,
    )
    model = None
    if params:  # task-agnostic and clustering variants: PTQ of a model derived from `full`
        options = dataclasses.replace(options, qat_epochs=0)
        model = _derived_model(load_run(run_dir), params, context)
    result = export_run(run_dir, out, context.splits, options, log=context.log, model=model, overwrite=True)
    tests = result["test"]
    row = {
        "file_bytes": result["size"]["file_bytes"],
        "components": result["size"]["components"],
        "test": tests["tflite"],
        "keras_fp32_test": tests["fp32_keras"],
        "latency_ms": result["latency"].get("p50_ms"),
    }
    if "clusters" in variant.params:
        row["gzip_bytes"] = len(gzip.compress((out / "model.tflite").read_bytes(), 9))
    return row


def _fp32_row(run: Run, context: Context, out: Path) -> dict:
    """The reference as a user would ship it without tflnlu: the fp32 model as an fp32 .tflite."""
    model_bytes = convert_float(run.model)
    out.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(out / "model.tflite", model_bytes)
    test = context.splits["test"]
    config = run.model_config
    ids = encode(test, run.vocab, run.labels, config.max_len, subwords=config.subword_spec).ids
    runner = LiteRTModel(model_bytes)
    metrics = evaluate(runner, ids, test, run.labels, seen=seen_words(context.splits["train"]))
    return {
        "file_bytes": len(model_bytes),
        "components": size_report(read_model(model_bytes))["components"],
        "test": metrics,
        "latency_ms": runner.latency_ms().get("p50_ms"),
    }


def _derived_model(run: Run, params: dict, context: Context) -> keras.Model:
    """The full run with its table compressed after training (no retraining, except tfmot's)."""
    table = run.model.get_layer(EMBEDDING_LAYER).table.numpy()
    config = run.model_config
    encoder_weights = run.model.get_layer(ENCODER).get_weights()
    if "svd_rank" in params:
        rows, basis = posthoc.svd_factors(table, params["svd_rank"])
        config = dataclasses.replace(config, embed_dim=params["svd_rank"])
        model = build_model(config, embedding=int8_table_embedding(rows))
        encoder = model.get_layer(ENCODER)
        projection = run.model.get_layer(ENCODER).get_layer(PROJECTION).get_weights()
        folded = np.einsum("rd,hwdc->hwrc", basis, projection[0])  # rows @ basis @ W = rows @ (basis @ W)
        for layer, source in zip(encoder.layers, run.model.get_layer(ENCODER).layers, strict=True):
            weights = source.get_weights()
            layer.set_weights([folded, weights[1]] if layer.name == PROJECTION else weights)
        return model
    if "pq" in params:
        num_codes, num_groups = params["pq"]
        codes, codebook = posthoc.product_quantize(table, num_codes, num_groups)
        embedding = CodebookLookup(codes, codebook, storage_bits(num_codes), True, name=EMBEDDING_LAYER)
    elif "scalar_bits" in params:
        codes, levels, scales = posthoc.scalar_quantize_rows(table, params["scalar_bits"])
        embedding = CodebookLookup(
            codes,
            levels,
            params["scalar_bits"],
            quantize_codebook=True,
            row_scales=scales,
            name=EMBEDDING_LAYER,
        )
    elif "clusters" in params:
        embedding = int8_table_embedding(_tfmot_clustered_table(run, params["clusters"], context))
    else:
        raise ValueError(f"unknown derived variant {params}")
    model = build_model(config, embedding=embedding)
    model.get_layer(ENCODER).set_weights(encoder_weights)
    return model


def _tfmot_clustered_table(run: Run, clusters: int, context: Context, epochs: int = 2) -> np.ndarray:
    """tfmot weight clustering of the embedding table, fine-tuned with the task for a few
    epochs as tfmot's guide does, then stripped: a table of `clusters` distinct values."""
    import tensorflow_model_optimization as tfmot

    from tflnlu.train.trainer import TrainingData, fine_tune

    clustering = tfmot.clustering.keras

    class ClusterableEmbedding(FullEmbedding, clustering.ClusterableLayer):
        def get_clusterable_weights(self):
            return [("table", self.table)]

    table = run.model.get_layer(EMBEDDING_LAYER).table.numpy()
    layer = ClusterableEmbedding(*table.shape, name=EMBEDDING_LAYER)
    layer.build(None)
    layer.table.assign(table)
    wrapped = clustering.cluster_weights(
        layer,
        number_of_clusters=clusters,
        cluster_centroids_init=clustering.CentroidInitialization.KMEANS_PLUS_PLUS,
    )
    model = build_model(run.model_config, embedding=wrapped)
    model.get_layer(ENCODER).set_weights(run.model.get_layer(ENCODER).get_weights())
    data = TrainingData.encode(context.splits, run.vocab, run.labels, run.model_config)
    tuning = dataclasses.replace(context.train_config, epochs=epochs, learning_rate=2e-4, weight_average=0.0)
    fine_tune(model, data, tuning, context.log)
    stripped = clustering.strip_clustering(model)
    clustered = stripped.get_layer(EMBEDDING_LAYER).table.numpy()
    distinct = len(np.unique(clustered))
    if distinct > clusters:
        raise RuntimeError(f"tfmot left {distinct} distinct values in the table, expected <= {clusters}")
    return clustered


def trains_a_dpq_table(variant: Variant) -> bool:
    """Whether the variant's file holds a DPQ embedding (the bench's per-language table also
    shows the best of these: the regime the seed paper is about)."""
    return RUNS[variant.run].get("embedding", ModelConfig.embedding) == "dpq"


DPQ_VARIANTS = frozenset(v.name for v in VARIANTS if trains_a_dpq_table(v))
