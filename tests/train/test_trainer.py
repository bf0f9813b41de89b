import dataclasses
import json

import h5py
import numpy as np
import pytest

from tflnlu.data.readers import read_splits
from tflnlu.outputs import OutputPathError
from tflnlu.train import run_dir
from tflnlu.train.config import TrainConfig
from tflnlu.train.run_dir import RunDirectoryError
from tflnlu.train.trainer import train

SMALL_MODEL = {"embed_dim": 16, "dpq_d": 4, "dpq_k": 4, "width": 8, "max_len": 12}


def weights_of(path):
    with h5py.File(path, "r") as f:
        arrays = []
        f.visititems(
            lambda name, obj: arrays.append((name, obj[()])) if isinstance(obj, h5py.Dataset) else None
        )
    return arrays


def quiet(_):
    pass


def test_writes_a_complete_run_directory(tiny_massive, tmp_path):
    splits = read_splits(tiny_massive, "massive").splits
    result = train(splits, tmp_path / "run", SMALL_MODEL, TrainConfig(epochs=3), log=quiet)
    out = tmp_path / "run"
    for name in (
        "config.json",
        "vocab.txt",
        "intents.txt",
        "tags.txt",
        "domains.txt",
        "weights.h5",
        "metrics.json",
        "history.json",
    ):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["splits"]) == {"train", "dev", "test"}
    assert metrics["splits"]["test"]["examples"] == 2
    assert result["epochs_run"] == 3 and len(json.loads((out / "history.json").read_text())) == 3
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["embedding"] == "dpq" and config["tokenizer"]["version"] == 1
    loaded = run_dir.load_run(out)
    assert loaded.vocab.tokens[:2] == ["<pad>", "<unk>"]
    assert loaded.labels.intents == ["alarm_query", "alarm_set", "play_music", "weather_query"]


def test_same_seed_same_weights(tiny_massive, tmp_path):
    splits = read_splits(tiny_massive, "massive").splits
    for name in ("a", "b"):
        train(splits, tmp_path / name, SMALL_MODEL, TrainConfig(epochs=2, seed=3), log=quiet)
    a, b = weights_of(tmp_path / "a" / "weights.h5"), weights_of(tmp_path / "b" / "weights.h5")
    assert [n for n, _ in a] == [n for n, _ in b]
    for (_, x), (_, y) in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_resume_continues_after_an_interruption(tiny_massive, tmp_path):
    splits = read_splits(tiny_massive, "massive").splits
    config = TrainConfig(epochs=4, patience=10, weight_average=0.5)

    def interrupt_after_epoch_2(line):
        if line.startswith("epoch 2/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(splits, tmp_path / "run", SMALL_MODEL, config, log=interrupt_after_epoch_2)
    assert not (tmp_path / "run" / "metrics.json").exists()
    state = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())
    assert state["epoch"] == 2

    with pytest.raises(OutputPathError, match="--resume"):
        train(splits, tmp_path / "run", SMALL_MODEL, config, log=quiet)
    with pytest.raises(RunDirectoryError, match="different configuration"):
        train(splits, tmp_path / "run", SMALL_MODEL, TrainConfig(epochs=5), resume=True, log=quiet)

    lines = []
    result = train(splits, tmp_path / "run", SMALL_MODEL, config, resume=True, log=lines.append)
    assert lines[0].startswith("resuming")
    assert [line.split()[1] for line in lines if line.startswith("epoch")] == ["3/4", "4/4"]
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    assert result["epochs_run"] == 4


def test_early_stopping(tiny_massive, tmp_path):
    splits = read_splits(tiny_massive, "massive").splits
    lines = []
    result = train(
        splits,
        tmp_path / "run",
        SMALL_MODEL,
        TrainConfig(epochs=50, patience=2, learning_rate=1e-6),
        log=lines.append,
    )
    assert result["epochs_run"] < 50
    assert any(line.startswith("early stop") for line in lines)


def test_intent_only_data_trains_without_a_slot_loss(tmp_path):
    rows = "text,intent\n" + "".join(
        f"{text},{intent}\n"
        for text, intent in [
            ("wake me up", "alarm"),
            ("set an alarm", "alarm"),
            ("what is the weather", "weather"),
            ("will it rain", "weather"),
            ("play some music", "music"),
            ("put on a song", "music"),
        ]
    )
    for split in ("train", "dev", "test"):
        (tmp_path / f"{split}.csv").write_text(rows)
    splits = read_splits(tmp_path, "csv").splits
    result = train(splits, tmp_path / "run", SMALL_MODEL, TrainConfig(epochs=2), log=quiet)
    assert result["splits"]["test"]["slot_f1"] is None
    # the reported accuracy is the saved model's, recomputed here from its own predictions
    run = run_dir.load_run(tmp_path / "run")
    assert not run.model_config.slot_context  # no slots: no slot context layer in the file
    ids = np.array([run.vocab.ids(e.tokens, 12) for e in splits["test"]], np.int32)
    predicted = run.model.predict(ids, verbose=0)["intent"].argmax(-1)
    expected = np.mean(
        [run.labels.intents[p] == e.intent for p, e in zip(predicted, splits["test"], strict=True)]
    )
    assert result["splits"]["test"]["intent_accuracy"] == pytest.approx(expected)
    assert len(json.loads((tmp_path / "run" / "history.json").read_text())) == 2


def weights_digest(path) -> str:
    import hashlib

    digest = hashlib.sha256()
    for name, array in weights_of(path):
        digest.update(name.encode() + np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def test_resume_is_exact(tiny_massive, tmp_path):
    """Interrupted after epoch 2 and resumed = never interrupted, to the bit: shuffling and
    word dropout are seeded per epoch, dropout's generators, the optimizer and the weight
    average are in the checkpoint (a fixed dev score keeps every epoch's weights: patience)."""
    splits = read_splits(tiny_massive, "massive").splits
    config = TrainConfig(epochs=4, patience=10, weight_average=0.5, seed=5)
    model = {**SMALL_MODEL, "dropout": 0.5}
    train(splits, tmp_path / "whole", model, config, log=quiet)

    def interrupt_after_epoch_2(line):
        if line.startswith("epoch 2/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(splits, tmp_path / "resumed", model, config, log=interrupt_after_epoch_2)
    train(splits, tmp_path / "resumed", model, config, resume=True, log=quiet)
    whole, resumed = (json.loads((tmp_path / d / "history.json").read_text()) for d in ("whole", "resumed"))
    assert [h["loss"] for h in resumed] == [h["loss"] for h in whole]
    assert weights_digest(tmp_path / "resumed" / "weights.h5") == weights_digest(
        tmp_path / "whole" / "weights.h5"
    )
    # and dropout really draws: another seed gives other weights
    train(splits, tmp_path / "other", model, dataclasses.replace(config, seed=6), log=quiet)
    assert weights_digest(tmp_path / "other" / "weights.h5") != weights_digest(
        tmp_path / "whole" / "weights.h5"
    )


def test_step_timings_measure_the_step_with_and_without_the_input_pipeline(tiny_massive):
    from tflnlu.models.joint import build_model
    from tflnlu.train.trainer import TrainingData, step_timings, vocabulary_and_labels

    splits = read_splits(tiny_massive, "massive").splits
    config = TrainConfig(batch_size=2)
    vocab, labels, model_config = vocabulary_and_labels(splits["train"], config, SMALL_MODEL)
    data = TrainingData.encode(splits, vocab, labels, model_config)
    timings = step_timings(
        build_model(model_config), data, config, steps=3
    )  # more batches than one epoch has
    assert timings["seconds_per_step_with_pipeline"] > 0 and timings["seconds_per_step_without_pipeline"] > 0
    assert timings["steps"] == 3 and timings["batch_size"] == 2
    assert 0 < timings["seconds_per_batch_pipeline_alone"] < timings["seconds_per_step_with_pipeline"]


def test_fine_tuning_with_a_weight_average_keeps_the_average_not_the_last_step(tiny_massive):
    """QAT's fine-tuning with `weight_average` returns (and scores) the moving average of its
    weights: it lags behind the raw weights of the same steps, so it moved less from the start."""
    from tflnlu.models.joint import build_model
    from tflnlu.train.trainer import TrainingData, fine_tune, vocabulary_and_labels

    splits = read_splits(tiny_massive, "massive").splits
    config = TrainConfig(epochs=1, batch_size=2, learning_rate=0.05, seed=1)
    vocab, labels, model_config = vocabulary_and_labels(splits["train"], config, SMALL_MODEL)
    data = TrainingData.encode(splits, vocab, labels, model_config)
    start = build_model(model_config).get_weights()
    moved = {}
    for decay in (0.0, 0.9):
        model = build_model(model_config)
        model.set_weights(start)
        fine_tune(model, data, dataclasses.replace(config, weight_average=decay), log=quiet)
        moved[decay] = sum(
            float(np.sum((w - s) ** 2)) for w, s in zip(model.get_weights(), start, strict=True)
        )
    assert 0 < moved[0.9] < moved[0.0]
