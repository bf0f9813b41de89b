"""Training settings (TF-free: the CLIs define their flags from these defaults before
TensorFlow is imported)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 2e-3
    patience: int = 8
    seed: int = 0
    min_count: int = 1
    max_vocab: int | None = None
    slot_loss_weight: float = 3.0
    domain_loss_weight: float = 0.5
    # Probability of replacing a training token by <unk>: teaches the model what to do
    # with words it never saw (names, places), which are the heart of most slots.
    unk_rate: float = 0.1
    label_smoothing: float = 0.1  # on the intent head
    # Evaluate and keep an exponential moving average of the weights (0 = off): a cheap
    # ensemble over the last ~1/(1-decay) steps, steadier than the raw weights on small data.
    weight_average: float = 0.999
    # Distillation: a trained run whose intent and per-token slot distributions the model also
    # learns (Hinton et al. 2015: KL at a temperature, scaled by its square), mixed with the
    # label loss as (1 - distill_weight) * labels + distill_weight * teacher.
    teacher: str | None = None
    distill_weight: float = 0.5
    distill_temperature: float = 2.0

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1 or self.patience < 1 or self.min_count < 1:
            raise ValueError("epochs, batch_size, patience and min_count must be positive")
        if not 0 <= self.weight_average < 1:
            raise ValueError(f"weight_average must be in [0, 1), got {self.weight_average}")
        if not 0 <= self.unk_rate < 1:
            raise ValueError(f"unk_rate must be in [0, 1), got {self.unk_rate}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if not 0 <= self.distill_weight <= 1 or self.distill_temperature <= 0:
            raise ValueError("distill_weight must be in [0, 1] and distill_temperature positive")
