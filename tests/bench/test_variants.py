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


def test_every_variant_uses_a_known_run():
    assert {v.run for v in variants.VARIANTS} <= set(variants.RUNS)
