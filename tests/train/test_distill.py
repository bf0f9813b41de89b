"""Distillation: the loss, the checks on the teacher, and a student that follows its teacher."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import TINY_MASSIVE, write_massive_dir
from tflnlu.data.readers import read_splits
from tflnlu.tf import tf
from tflnlu.train.config import TrainConfig
from tflnlu.train.distill import distillation_loss
from tflnlu.train.run_dir import RunDirectoryError, load_run
from tflnlu.train.trainer import train

SMALL = {"embed_dim": 16, "dpq_d": 4, "dpq_k": 4, "width": 16, "max_len": 12}
QUIET = {"log": lambda _: None}
FIT = TrainConfig(epochs=40, patience=40, weight_average=0.0, unk_rate=0.0, learning_rate=0.01)


def test_the_loss_is_zero_for_the_teachers_own_outputs_and_positive_otherwise():
    rng = np.random.default_rng(0)
    teacher = {
        "intent": tf.constant(rng.normal(size=(3, 4)), tf.float32),
        "slots": tf.constant(rng.normal(size=(3, 5, 6)), tf.float32),
    }
    mask = tf.ones((3, 5))
    assert float(
        distillation_loss(teacher, teacher, mask, temperature=2.0, with_slots=True)
    ) == pytest.approx(0.0, abs=1e-6)
    other = {k: v + tf.constant(rng.normal(size=v.shape), tf.float32) for k, v in teacher.items()}
    assert float(distillation_loss(other, teacher, mask, temperature=2.0, with_slots=True)) > 0.01
    # padding tokens do not count
    masked = {"intent": teacher["intent"], "slots": other["slots"]}
    assert float(
        distillation_loss(masked, teacher, tf.zeros((3, 5)), temperature=2.0, with_slots=True)
    ) == pytest.approx(0.0, abs=1e-6)


@pytest.fixture(scope="module")
def swapped_teacher(tmp_path_factory):
    """A teacher trained with two intents swapped: a student that learns only from it (weight 1)
    must predict the swapped intents, whatever its own labels say."""
    root = tmp_path_factory.mktemp("distill")
    swap = {"alarm_set": "play_music", "play_music": "alarm_set"}
    rows = [(swap.get(i, i), d, a) for i, d, a in TINY_MASSIVE["train"]]
    # dev = train: the kept (best-dev) weights are the ones that fit the swapped labels
    data = write_massive_dir(root / "swapped", {s: rows for s in ("train", "dev", "test")})
    train(read_splits(data, "massive").splits, root / "teacher", SMALL, FIT, **QUIET)
    return root, swap


def test_a_student_follows_its_teacher(swapped_teacher, tmp_path):
    """Its own labels say alarm_set, its teacher play_music: with distill_weight=1 it says play_music."""
    import dataclasses

    root, swap = swapped_teacher
    rows = TINY_MASSIVE["train"]
    # Its training labels are the true ones; its dev split (which only picks the kept epoch) has
    # the teacher's. Without the distillation loss it would learn the true labels and keep them.
    swapped_rows = [(swap.get(i, i), d, a) for i, d, a in rows]
    data = write_massive_dir(tmp_path / "data", {"train": rows, "dev": swapped_rows, "test": rows})
    splits = read_splits(data, "massive").splits
    config = dataclasses.replace(
        FIT, epochs=80, patience=80, teacher=str(root / "teacher"), distill_weight=1.0
    )
    train(splits, tmp_path / "student", SMALL, config, **QUIET)
    assert json.loads((tmp_path / "student" / "config.json").read_text())["train"]["teacher"] == str(
        root / "teacher"
    )
    student, teacher = load_run(tmp_path / "student"), load_run(root / "teacher")
    ids = np.array([student.vocab.ids(e.tokens, 12) for e in splits["train"]], np.int32)
    said = [student.labels.intents[i] for i in student.model.predict(ids, verbose=0)["intent"].argmax(-1)]
    taught = [teacher.labels.intents[i] for i in teacher.model.predict(ids, verbose=0)["intent"].argmax(-1)]
    assert [taught[i] for i in range(len(rows))] == [swap.get(e.intent, e.intent) for e in splits["train"]]
    assert np.mean([s == t for s, t in zip(said, taught, strict=True)]) >= 0.75
    swapped_rows = [i for i, e in enumerate(splits["train"]) if e.intent in swap]
    assert sum(said[i] == swap[splits["train"][i].intent] for i in swapped_rows) >= len(swapped_rows) - 1


def test_a_teacher_with_other_labels_is_refused(swapped_teacher, tmp_path):
    root, _ = swapped_teacher
    rows = {s: [(i + "_x", d, a) for i, d, a in r] for s, r in TINY_MASSIVE.items()}
    splits = read_splits(write_massive_dir(tmp_path / "other", rows), "massive").splits
    with pytest.raises(RunDirectoryError, match="trained on other labels"):
        train(
            splits, tmp_path / "student", SMALL, TrainConfig(epochs=1, teacher=str(root / "teacher")), **QUIET
        )
