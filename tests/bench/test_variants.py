from pathlib import Path

from tflnlu.bench import variants
from tflnlu.train.config import TrainConfig


def test_a_run_overrides_training_fields_and_shares_the_encoder(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(
        variants, "train", lambda splits, directory, options, config, **kw: calls.append((options, config))
    )
    context = variants.Context({}, tmp_path, TrainConfig(epochs=7), print, encoder={"width": 32})
    directory = context.run_dir("dpq_sx_k4_d16_min2", variants.RUNS["dpq_sx_k4_d16_min2"])
    assert directory == Path(tmp_path) / "runs" / "dpq_sx_k4_d16_min2"
    ((options, config),) = calls
    assert options == {"embedding": "dpq", "dpq_variant": "sx", "dpq_k": 4, "dpq_d": 16, "width": 32}
    assert (config.min_count, config.epochs) == (2, 7)


def test_a_run_of_its_own_epochs_trains_longer_than_the_benchmark(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(
        variants, "train", lambda splits, directory, options, config, **kw: calls.append(config)
    )
    context = variants.Context({}, tmp_path, TrainConfig(epochs=10), print)
    context.run_dir("dpq_sx_k4_d16_min3_e16", variants.RUNS["dpq_sx_k4_d16_min3_e16"])
    (config,) = calls
    assert (config.epochs, config.min_count, config.patience) == (16, 3, TrainConfig.patience)


def test_every_variant_uses_a_known_run():
    assert {v.run for v in variants.VARIANTS} <= set(variants.RUNS)


def test_a_student_trains_its_teacher_first_and_keeps_its_own_width(monkeypatch, tmp_path):
    trained = []

    def fake_train(splits, directory, options, config, **kw):
        trained.append((directory.name, options, config.teacher))
        (directory).mkdir(parents=True)
        (directory / "weights.h5").write_text("")
        (directory / "metrics.json").write_text("{}")

    monkeypatch.setattr(variants, "train", fake_train)
    context = variants.Context({}, tmp_path, TrainConfig(), print, encoder={"width": 64})
    name = "w32_dpq_sx_k4_d16_min2_distilled"
    context.run_dir(name, variants.RUNS[name])
    (teacher, teacher_options, _), (student, options, teacher_dir) = trained
    assert (teacher, student) == ("full", name)
    assert teacher_options["width"] == 64 and options["width"] == 32  # the reference keeps --width
    assert teacher_dir == str(tmp_path / "runs" / "full")
    context.run_dir(name, variants.RUNS[name])
    assert len(trained) == 2  # both kept: nothing is trained twice


def test_a_variant_passes_its_weight_bits_to_the_export(monkeypatch, tmp_path):
    seen = []

    def fake_export(run_dir, out, splits, options, **kw):
        seen.append(options)
        return {
            "size": {"file_bytes": 1, "components": {}},
            "test": {"tflite": {}, "fp32_keras": {}},
            "latency": {},
        }

    monkeypatch.setattr(variants, "export_run", fake_export)
    monkeypatch.setattr(variants.Context, "run_dir", lambda self, name, options: tmp_path / name)
    context = variants.Context({}, tmp_path, TrainConfig(), print, per_channel=False)
    by_name = {v.name: v for v in variants.VARIANTS}
    variants.run_variant(by_name["dpq_sx_k4_d16_min2_int4"], context)
    variants.run_variant(by_name["dpq_sx_k4_d16_min2"], context)
    assert [(o.weight_bits, o.per_channel, o.qat_epochs) for o in seen] == [(4, False, 3), (8, False, 3)]


def test_a_resumed_benchmark_continues_an_interrupted_run_from_its_checkpoint(tiny_massive, tmp_path):
    """A stopped session must not cost the hours of a half-trained 65-language run."""
    import pytest

    from tflnlu.data.readers import read_splits

    splits = read_splits(tiny_massive, "massive").splits
    small = {"embed_dim": 16, "dpq_d": 4, "dpq_k": 4, "width": 8, "max_len": 12}
    config = TrainConfig(epochs=3, patience=10)

    def interrupt_after_epoch_1(line):
        if line.strip().startswith("epoch 1/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        variants.Context(splits, tmp_path, config, interrupt_after_epoch_1, encoder=small).run_dir(
            "full", variants.RUNS["full"]
        )
    lines = []
    resumed = variants.Context(splits, tmp_path, config, lines.append, encoder=small, resume=True)
    directory = resumed.run_dir("full", variants.RUNS["full"])
    assert lines[0].startswith(f"resuming {directory} after epoch 1")
    assert [line.split()[1] for line in lines if line.startswith("epoch")] == ["2/3", "3/3"]
    assert (directory / "metrics.json").is_file()
