"""Distillation from a trained teacher run: the student (typically a compressed embedding and a
smaller encoder) learns the teacher's intent and per-token slot distributions besides the
labels. The teacher's vocabulary may differ (a pruned student vocabulary): student ids are
mapped to the teacher's before it reads them. Its labels must be the student's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tflnlu.data.vocab import UNK_ID, Vocabulary
from tflnlu.models.joint import INTENT_OUTPUT, SLOTS_OUTPUT
from tflnlu.nlu.encode import LabelSet
from tflnlu.tf import keras, tf
from tflnlu.train.run_dir import RunDirectoryError, load_run


@dataclass
class Teacher:
    directory: Path
    model: keras.Model
    id_map: tf.Tensor  # [student vocabulary] -> teacher ids (unknown words -> <unk>)

    def outputs(self, ids):
        """The teacher's logits on the student's ids; a student with subwords gives a word-only
        teacher its word ids alone, and one with the same subwords its n-gram ids too."""
        if len(ids.shape) == 2:
            return self.model(tf.gather(self.id_map, ids), training=False)
        words = tf.gather(self.id_map, ids[:, :, 0])
        if len(self.model.input.shape) == 2:
            return self.model(words, training=False)
        return self.model(tf.concat([words[:, :, tf.newaxis], ids[:, :, 1:]], axis=-1), training=False)


def load_teacher(
    directory: str | Path, vocab: Vocabulary, labels: LabelSet, max_len: int, *, subwords: dict | None = None
) -> Teacher:
    """The teacher run, checked to predict the student's labels over the same window (and,
    if it reads n-grams, the student's n-grams)."""
    run = load_run(Path(directory))
    if run.model_config.subwords is not None and run.model_config.subwords != subwords:
        raise RunDirectoryError(
            f"the teacher {directory} reads subwords {run.model_config.subwords}, the student {subwords}: "
            "train the teacher without subwords or with the student's"
        )
    if (run.labels.intents, run.labels.tags) != (labels.intents, labels.tags):
        raise RunDirectoryError(
            f"the teacher {directory} was trained on other labels (intents or slot tags differ): "
            "train the teacher on the same data"
        )
    if run.model_config.max_len != max_len:
        raise RunDirectoryError(
            f"the teacher {directory} reads {run.model_config.max_len} tokens, the student {max_len}"
        )
    teacher_ids = {token: i for i, token in enumerate(run.vocab.tokens)}
    id_map = np.array([teacher_ids.get(token, UNK_ID) for token in vocab.tokens], np.int32)
    return Teacher(Path(directory), run.model, tf.constant(id_map))


def distillation_loss(student: dict, teacher: dict, token_mask, *, temperature: float, with_slots: bool):
    """KL(teacher || student) of the intent and (masked, per token) slot distributions at
    `temperature`, times temperature squared so its gradients keep the label loss's scale."""
    kl = keras.losses.KLDivergence(reduction="none")

    def soft(logits):
        return tf.nn.softmax(logits / temperature, axis=-1)

    loss = tf.reduce_mean(kl(soft(teacher[INTENT_OUTPUT]), soft(student[INTENT_OUTPUT])))
    if with_slots:
        per_token = kl(soft(teacher[SLOTS_OUTPUT]), soft(student[SLOTS_OUTPUT])) * token_mask
        loss += tf.reduce_sum(per_token) / tf.maximum(tf.reduce_sum(token_mask), 1.0)
    return loss * temperature**2
