"""Training: joint loss, early stopping on dev, per-epoch checkpoints that survive interruption.

`train()` is the whole job behind `tflnlu-train`: it builds the vocabulary and labels from
the training split, trains, keeps the best weights by dev score, and writes the run
directory (see run_dir.py). Everything random is seeded; after an interruption,
`resume=True` continues from the last finished epoch with the same best-so-far state.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import tflnlu
from tflnlu.data.example import Example
from tflnlu.data.tokenizer import TOKENIZER_VERSION
from tflnlu.data.vocab import UNK_ID, Vocabulary
from tflnlu.io import write_json_atomic
from tflnlu.models.config import ModelConfig
from tflnlu.models.joint import (
    DOMAIN_OUTPUT,
    INTENT_OUTPUT,
    SLOTS_OUTPUT,
    build_model,
    component_sizes,
    dropout_generators,
)
from tflnlu.nlu.encode import EncodedSplit, LabelSet, encode, unknown_intents
from tflnlu.nlu.metrics import dev_score, format_slot_f1
from tflnlu.nlu.scoring import evaluate, seen_words
from tflnlu.outputs import prepare_output
from tflnlu.tf import keras, tf
from tflnlu.train import run_dir
from tflnlu.train.config import TrainConfig
from tflnlu.train.distill import distillation_loss, load_teacher
from tflnlu.train.predict import keras_predictor
from tflnlu.train.run_dir import RunDirectoryError

Log = Callable[[str], None]


def _prepare_directory(out: Path, config: dict, *, resume: bool, overwrite: bool, log: Log) -> dict | None:
    """Check `out` and return the saved training state when resuming a run with the same config.

    Nothing but an earlier run's own files is ever removed (tflnlu.outputs): a directory that
    is not a run is refused whatever the flags, with or without --resume."""
    status = prepare_output(out, run_dir.RUN, overwrite=overwrite, keep=resume)
    if status == "ours, replaced":
        run_dir.remove_run_files(out)
    if status != "ours":
        return None
    saved = run_dir.read_config(out)
    if saved != config:
        changed = sorted(
            f"{section}.{key}"
            for section in set(saved) | set(config)
            for key in set(_section(saved, section)) | set(_section(config, section))
            if _section(saved, section).get(key) != _section(config, section).get(key)
        )
        raise RunDirectoryError(
            f"cannot resume {out}: it was started with a different configuration "
            f"({', '.join(changed[:5]) or 'other data'}); resume with the same flags, or pass --overwrite"
        )
    state_file = out / run_dir.CHECKPOINT_DIR / run_dir.CHECKPOINT_STATE
    if not state_file.is_file():
        log(f"{out} has no finished epoch to resume: starting it from epoch 1")
        return None
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        _check_state(state)
    except (UnicodeDecodeError, ValueError) as e:
        raise RunDirectoryError(
            f"{state_file} is damaged ({e}): the run cannot be resumed; pass --overwrite to train it again"
        ) from None
    if state["best_epoch"] and not (out / run_dir.WEIGHTS).is_file():
        raise RunDirectoryError(
            f"{out / run_dir.WEIGHTS} is missing: the run cannot be resumed; pass --overwrite to train it again"
        )
    return state


# The training state checkpoint/state.json holds: field -> type.
_STATE_FIELDS = {"epoch": int, "best_score": float, "best_epoch": int, "history": list, "prefix": str}


def _check_state(state: object) -> None:
    if not isinstance(state, dict):
        raise ValueError("not a JSON object")
    for name, kind in _STATE_FIELDS.items():
        value = state.get(name)
        ok = isinstance(value, int | float) if kind is float else isinstance(value, kind)
        if not ok or isinstance(value, bool):
            raise ValueError(f"'{name}' missing or not a {kind.__name__}")


def _section(config: dict, name: str) -> dict:
    value = config.get(name)
    return value if isinstance(value, dict) else {"": value}


class _WeightAverage(tf.Module):
    """Exponential moving average of the trainable weights, swapped in to evaluate and save."""

    def __init__(self, variables, decay: float):
        super().__init__(name="weight_average")
        self.decay = decay
        self.live = list(variables)
        self.averages = [tf.Variable(v, trainable=False) for v in self.live] if decay else []
        self.updates = tf.Variable(0.0, trainable=False)

    def update(self) -> None:
        """One step; early on the decay is lower, (1 + n) / (10 + n), so the average forgets the
        random initial weights quickly (as tf.train.ExponentialMovingAverage's num_updates)."""
        if not self.decay:
            return
        self.updates.assign_add(1.0)
        decay = tf.minimum(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        for average, live in zip(self.averages, self.live, strict=True):
            average.assign(decay * average + (1.0 - decay) * live)

    @contextmanager
    def applied(self):
        if not self.decay:
            yield
            return
        backup = [v.numpy() for v in self.live]
        for live, average in zip(self.live, self.averages, strict=True):
            live.assign(average)
        try:
            yield
        finally:
            for live, value in zip(self.live, backup, strict=True):
                live.assign(value)


class _Checkpointer:
    """Model + optimizer + loop state after every epoch; the state file is written last."""

    def __init__(self, directory: Path, model: keras.Model, optimizer, average: _WeightAverage):
        self.directory = directory
        self.checkpoint = tf.train.Checkpoint(
            model=model, optimizer=optimizer, average=average, dropout=dropout_generators(model)
        )

    def save(self, state: dict) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        prefix = f"epoch-{state['epoch']}"
        self.checkpoint.write(str(self.directory / prefix))
        write_json_atomic(self.directory / run_dir.CHECKPOINT_STATE, {**state, "prefix": prefix})
        for old in self.directory.glob("epoch-*"):
            if not old.name.startswith(prefix + "."):
                old.unlink()

    def restore(self, state: dict) -> None:
        try:
            self.checkpoint.read(str(self.directory / state["prefix"])).assert_existing_objects_matched()
        except (KeyError, ValueError, IndexError, AssertionError, tf.errors.OpError) as e:
            raise RunDirectoryError(
                f"the checkpoint in {self.directory} is damaged or incomplete "
                f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); pass --overwrite "
                "to train the run again"
            ) from None


def _make_train_step(
    model: keras.Model, optimizer, average: _WeightAverage, config: TrainConfig, *, teacher=None
):
    """One optimizer step on a batch; with a `teacher` (train/distill.py) the loss is
    (1 - distill_weight) * the label loss + distill_weight * the distillation loss."""
    sparse_ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    intent_ce = keras.losses.CategoricalCrossentropy(
        from_logits=True, label_smoothing=config.label_smoothing, reduction="none"
    )
    num_intents = model.output[INTENT_OUTPUT].shape[-1]
    # Intent-only data has the single tag "O": its slot loss is identically 0 (and Keras'
    # sparse cross-entropy rejects a last dimension of 1), so it is left out.
    has_slots = model.output[SLOTS_OUTPUT].shape[-1] > 1
    has_domains = DOMAIN_OUTPUT in model.output

    @tf.function(reduce_retracing=True)
    def step(ids, intents, tags, domains, token_mask):
        with tf.GradientTape() as tape:
            out = model(ids, training=True)
            intent_loss = tf.reduce_mean(intent_ce(tf.one_hot(intents, num_intents), out[INTENT_OUTPUT]))
            loss = intent_loss
            if has_slots:
                token_losses = sparse_ce(tags, out[SLOTS_OUTPUT]) * token_mask
                slot_loss = tf.reduce_sum(token_losses) / tf.maximum(tf.reduce_sum(token_mask), 1.0)
                loss += config.slot_loss_weight * slot_loss
            if has_domains:
                loss += config.domain_loss_weight * tf.reduce_mean(sparse_ce(domains, out[DOMAIN_OUTPUT]))
            if teacher is not None:
                soft = distillation_loss(
                    out,
                    teacher.outputs(ids),
                    token_mask,
                    temperature=config.distill_temperature,
                    with_slots=has_slots,
                )
                loss = (1.0 - config.distill_weight) * loss + config.distill_weight * soft
            if model.losses:
                loss += tf.add_n(model.losses)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        average.update()
        return loss

    return step


def _batches(split: EncodedSplit, config: TrainConfig, epoch: int):
    """Shuffled batches, the same for a given seed and epoch; tokens replaced by <unk> at unk_rate."""
    rng = np.random.default_rng([config.seed, epoch])
    order = rng.permutation(len(split.ids))
    for start in range(0, len(order), config.batch_size):
        rows = order[start : start + config.batch_size]
        ids = split.ids[rows].copy()
        words = ids[:, :, 0] if ids.ndim == 3 else ids  # a view: only word ids become <unk>
        words[...] = np.where((words > UNK_ID) & (rng.random(words.shape) < config.unk_rate), UNK_ID, words)
        yield ids, split.intents[rows], split.tags[rows], split.domains[rows], split.token_mask[rows]


@dataclass
class TrainingData:
    """The splits a training reads, encoded once, and the labels they are encoded with."""

    splits: dict[str, list[Example]]
    encoded: dict[str, EncodedSplit]
    labels: LabelSet

    @classmethod
    def encode(
        cls, splits: dict[str, list[Example]], vocab: Vocabulary, labels: LabelSet, config: ModelConfig
    ):
        encoded = {
            n: encode(e, vocab, labels, config.max_len, subwords=config.subword_spec)
            for n, e in splits.items()
        }
        return cls(splits, encoded, labels)


@dataclass
class _Loop:
    """What the epoch loop updates and saves: the model, its optimizer and weight average."""

    model: keras.Model
    optimizer: object
    average: _WeightAverage
    checkpointer: _Checkpointer | None = None

    @classmethod
    def new(cls, model: keras.Model, config: TrainConfig, checkpoint_dir: Path | None = None) -> _Loop:
        optimizer = keras.optimizers.Adam(config.learning_rate)
        optimizer.build(model.trainable_variables)
        average = _WeightAverage(model.trainable_variables, config.weight_average)
        checkpointer = _Checkpointer(checkpoint_dir, model, optimizer, average) if checkpoint_dir else None
        return cls(model, optimizer, average, checkpointer)


def train(
    splits: dict[str, list[Example]],
    out: Path,
    model_options: dict | None = None,
    config: TrainConfig = TrainConfig(),
    *,
    data_info: dict | None = None,
    resume: bool = False,
    overwrite: bool = False,
    log: Log = print,
    on_epoch: Callable[[dict], None] | None = None,
) -> dict:
    """Train a joint model on splits train/dev(/test) and write the run directory `out`:
    vocabulary and labels, the checked directory, the epoch loop, the final metrics.

    `on_epoch(record)` sees each finished epoch's record (its dev metrics and score) after the
    checkpoint, so an exception there (a search pruning the run) loses nothing finished.
    Returns the metrics written to metrics.json.
    """
    out = Path(out)
    vocab, labels, model_config = vocabulary_and_labels(splits["train"], config, model_options)
    run_config = _run_config(model_config, config, data_info)
    keras.utils.set_random_seed(config.seed)
    model = build_model(model_config)  # any configuration error surfaces before a file is written
    state = _prepare_directory(out, run_config, resume=resume, overwrite=overwrite, log=log)
    (out / run_dir.CHECKSUMS).unlink(missing_ok=True)  # the weights are about to change
    if state is None:
        write_json_atomic(out / run_dir.CONFIG, run_config)  # first: it marks the directory as a run
        vocab.save(out / run_dir.VOCAB)
        labels.save(out)
    data = TrainingData.encode(splits, vocab, labels, model_config)
    _report_unknown_labels(splits, labels, log)
    loop = _Loop.new(model, config, out / run_dir.CHECKPOINT_DIR)
    if state is not None:
        loop.checkpointer.restore(state)
        log(f"resuming {out} after epoch {state['epoch']} (best dev score {state['best_score']:.4f})")
    state = state or {"epoch": 0, "best_score": -1.0, "best_epoch": 0, "history": []}
    sizes = component_sizes(model)
    log(_describe(vocab, labels, model_config, sizes))
    teacher = None
    if config.teacher:
        teacher = load_teacher(
            config.teacher, vocab, labels, model_config.max_len, subwords=model_config.subwords
        )
    if teacher is not None:
        log(
            f"distilling from {teacher.directory} (weight {config.distill_weight}, temperature {config.distill_temperature})"
        )
    _fit(loop, state, data, config, out=out, log=log, teacher=teacher, on_epoch=on_epoch)
    return _final_metrics(model, state, data, sizes, out=out)


def _describe(vocab: Vocabulary, labels: LabelSet, model_config: ModelConfig, sizes: dict) -> str:
    """The run's one line about its data and model, before the first epoch."""
    ngrams = f"n-gram table {sizes['subwords']['bytes']:,} bytes, " if "subwords" in sizes else ""
    return (
        f"vocabulary {len(vocab)}, intents {len(labels.intents)}, tags {len(labels.tags)}, "
        f"domains {len(labels.domains)}; embedding {model_config.embedding}: "
        f"{sizes['embedding']['bytes']:,} bytes deployed, {ngrams}rest {sizes['rest']['parameters']:,} parameters"
    )


def vocabulary_and_labels(
    train_split: list[Example], config: TrainConfig, model_options: dict | None
) -> tuple[Vocabulary, LabelSet, ModelConfig]:
    """What a run of these options on this training split is: its words, labels and model."""
    examples = [e for e in train_split if e.intent]
    vocab = Vocabulary.build((e.tokens for e in examples), config.min_count, config.max_vocab)
    labels = LabelSet.from_examples(examples)
    # Data without slots (only the outside tag) gets no slot context layer: it would feed a
    # head that always says O, and cost a width x width matrix in the file.
    options = {"slot_context": len(labels.tags) > 1, **(model_options or {})}
    model_config = ModelConfig(
        vocab_size=len(vocab),
        num_intents=len(labels.intents),
        num_tags=len(labels.tags),
        num_domains=len(labels.domains),
        **options,
    )
    return vocab, labels, model_config


def _run_config(model_config: ModelConfig, config: TrainConfig, data_info: dict | None) -> dict:
    """config.json's contents, as they read back from disk (tuples are lists)."""
    run_config = {
        "model": model_config.to_dict(),
        "train": dataclasses.asdict(config),
        "data": data_info or {},
        "tokenizer": {"version": TOKENIZER_VERSION, "max_len": model_config.max_len},
        "tflnlu_version": tflnlu.__version__,
    }
    return json.loads(json.dumps(run_config))


def _final_metrics(model: keras.Model, state: dict, data: TrainingData, sizes: dict, *, out: Path) -> dict:
    """The best weights scored on every split; metrics.json and history.json written."""
    model.load_weights(str(out / run_dir.WEIGHTS))
    predict = keras_predictor(model)
    seen = seen_words(data.splits["train"])
    metrics = {
        name: evaluate(predict, data.encoded[name].ids, examples, data.labels, seen=seen)
        for name, examples in data.splits.items()
    }
    epoch_seconds = [h["seconds"] for h in state["history"]]
    result = {
        "splits": metrics,
        "sizes": sizes,
        "best_epoch": state["best_epoch"],
        "epochs_run": state["epoch"],
        "seconds_per_epoch": float(np.mean(epoch_seconds)) if epoch_seconds else None,
    }
    write_json_atomic(out / run_dir.METRICS, result)
    write_json_atomic(out / run_dir.HISTORY, state["history"])
    run_dir.write_checksums(out)  # last: the run is finished
    return result


def _report_unknown_labels(splits: dict[str, list[Example]], labels: LabelSet, log: Log) -> None:
    """Say how many dev/test utterances have an intent the training split never showed: the
    model cannot predict it, so each counts as wrong (metrics record `unknown_intent_examples`)."""
    for name, examples in splits.items():
        unknown = unknown_intents(examples, labels)
        if name != "train" and unknown:
            count = sum(unknown.values())
            shown = ", ".join(sorted(unknown)[:3]) + (", ..." if len(unknown) > 3 else "")
            log(
                f"{name}: {count} of {len(examples)} utterances ({count / len(examples):.1%}) have an intent "
                f"the training split does not have ({shown}): they count as wrong"
            )


def _fit(
    loop: _Loop,
    state: dict,
    data: TrainingData,
    config: TrainConfig,
    *,
    out: Path,
    log: Log,
    teacher=None,
    on_epoch: Callable[[dict], None] | None = None,
) -> None:
    """Epochs until `config.epochs` or `config.patience` epochs without a better dev score;
    the best weights saved as they come, the whole state checkpointed after every epoch."""
    step = _make_train_step(loop.model, loop.optimizer, loop.average, config, teacher=teacher)
    predict = keras_predictor(loop.model)
    steps = -(-len(data.encoded["train"].ids) // config.batch_size)
    while state["epoch"] < config.epochs and state["epoch"] - state["best_epoch"] < config.patience:
        epoch = state["epoch"] + 1
        started = time.monotonic()
        bar = keras.utils.Progbar(steps, verbose=1 if sys.stdout.isatty() else 0, stateful_metrics=["loss"])
        losses = []
        for i, batch in enumerate(_batches(data.encoded["train"], config, epoch)):
            losses.append(float(step(*batch)))
            bar.update(i + 1, [("loss", losses[-1])])
        seconds = time.monotonic() - started
        with loop.average.applied():
            dev = evaluate(predict, data.encoded["dev"].ids, data.splits["dev"], data.labels)
            score = dev_score(dev)
            improved = score > state["best_score"]
            if improved:
                run_dir.save_weights_atomic(loop.model, out / run_dir.WEIGHTS)
                state.update(best_score=score, best_epoch=epoch)
        state["epoch"] = epoch
        record = {
            "epoch": epoch,
            "loss": float(np.mean(losses)),
            "seconds": seconds,
            "dev": dev,
            "dev_score": score,
        }
        state["history"].append(record)
        loop.checkpointer.save(state)
        log(
            f"epoch {epoch}/{config.epochs}  loss {np.mean(losses):.4f}  dev intent {dev['intent_accuracy']:.4f}"
            f"  slot F1 {format_slot_f1(dev)}  ({seconds:.1f}s){'  *best' if improved else ''}"
        )
        if on_epoch is not None:
            on_epoch(record)
    if state["epoch"] - state["best_epoch"] >= config.patience:
        log(f"early stop: no dev improvement for {config.patience} epochs (best epoch {state['best_epoch']})")


def fine_tune(model: keras.Model, data: TrainingData, config: TrainConfig, log: Log = print) -> dict:
    """`config.epochs` epochs on an already trained model (quantization-aware fine-tuning),
    keeping the weights of the best dev epoch (their moving average with
    `config.weight_average`). Returns that epoch's dev metrics."""
    optimizer = keras.optimizers.Adam(config.learning_rate)
    average = _WeightAverage(model.trainable_variables, config.weight_average)
    step = _make_train_step(model, optimizer, average, config)
    predict = keras_predictor(model)
    best_score, best_weights, best_dev = -1.0, model.get_weights(), None
    for epoch in range(1, config.epochs + 1):
        started = time.monotonic()
        losses = [float(step(*batch)) for batch in _batches(data.encoded["train"], config, epoch)]
        with average.applied():
            dev = evaluate(predict, data.encoded["dev"].ids, data.splits["dev"], data.labels)
            score = dev_score(dev)
            if score > best_score:
                best_score, best_weights, best_dev = score, model.get_weights(), dev
        log(
            f"fine-tune epoch {epoch}/{config.epochs}  loss {np.mean(losses):.4f}  "
            f"dev intent {dev['intent_accuracy']:.4f}  ({time.monotonic() - started:.1f}s)"
        )
    model.set_weights(best_weights)
    return best_dev


def step_timings(model: keras.Model, data: TrainingData, config: TrainConfig, *, steps: int = 50) -> dict:
    """Seconds per training step on `data`'s train split, measured three ways after a warm-up:
    the step fed by the input pipeline `_fit` uses (shuffle, <unk> dropout, slicing), the
    step alone on one batch prepared once, and the pipeline alone. If the first is close to
    the second, the pipeline is not the bottleneck."""
    loop = _Loop.new(model, config)
    step = _make_train_step(loop.model, loop.optimizer, loop.average, config)
    train_split = data.encoded["train"]
    batches = itertools.chain.from_iterable(
        _batches(train_split, config, epoch) for epoch in itertools.count(1)
    )
    fixed = next(batches)
    for _ in range(5):  # tracing and the first allocations
        float(step(*fixed))
    started = time.monotonic()
    for _ in range(steps):
        float(step(*next(batches)))
    with_pipeline = (time.monotonic() - started) / steps
    started = time.monotonic()
    for _ in range(steps):
        float(step(*fixed))
    step_only = (time.monotonic() - started) / steps
    started = time.monotonic()
    for _ in range(steps):
        next(batches)
    pipeline_only = (time.monotonic() - started) / steps
    return {
        "batch_size": config.batch_size,
        "steps": steps,
        "seconds_per_step_with_pipeline": with_pipeline,
        "seconds_per_step_without_pipeline": step_only,
        "seconds_per_batch_pipeline_alone": pipeline_only,
        "examples_per_second": config.batch_size / with_pipeline,
    }
