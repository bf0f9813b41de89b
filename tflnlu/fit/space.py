"""The search space of `tflnlu-fit`, as data: every lever of the accuracy-per-byte work.

A `Candidate` is one point of it; it knows the options it gives `tflnlu-train` and
`tflnlu-export`, so the search trains and exports exactly what a user could by hand.
Choices are strings and numbers (what an Optuna study stores); the DPQ shape is "KxD".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from tflnlu.export.options import ExportOptions

# parameter -> its choices, smallest file first where that is clear.
SPACE: dict[str, tuple] = {
    "dpq": ("4x8", "16x4", "16x8", "4x16", "16x16", "16x32"),  # K codes per group x D groups
    "min_count": (5, 3, 2, 1),  # words seen fewer times read as <unk>
    "width": (24, 32, 48, 64),  # encoder channels
    "pooling": ("max", "max_mean"),  # intent features: 1x or 2x the width
    "weight_bits": (4, 8),  # convolution and dense weights (logits layers stay 8-bit)
    "per_channel": (False, True),  # weight scales: one per tensor, or one per output channel
}


@dataclass(frozen=True)
class Candidate:
    dpq: str = "16x8"
    min_count: int = 2
    width: int = 64
    pooling: str = "max_mean"
    weight_bits: int = 8
    per_channel: bool = False

    def __post_init__(self):
        for name, value in asdict(self).items():
            if value not in SPACE[name]:
                raise ValueError(f"{name} must be one of {list(SPACE[name])}, got {value!r}")

    @property
    def dpq_k(self) -> int:
        return int(self.dpq.split("x")[0])

    @property
    def dpq_d(self) -> int:
        return int(self.dpq.split("x")[1])

    def model_options(self) -> dict:
        """tflnlu-train's model flags (the embedding width stays the default 128)."""
        return {
            "embedding": "dpq",
            "dpq_variant": "sx",
            "dpq_k": self.dpq_k,
            "dpq_d": self.dpq_d,
            "width": self.width,
            "pooling": self.pooling,
        }

    def train_options(self) -> dict:
        return {"min_count": self.min_count}

    def export_options(self, **overrides) -> ExportOptions:
        return ExportOptions(weight_bits=self.weight_bits, per_channel=self.per_channel, **overrides)

    def key(self) -> str:
        """The candidate as one short string (a study attribute's name)."""
        return ",".join(f"{name}={value}" for name, value in asdict(self).items())

    @classmethod
    def from_key(cls, key: str) -> Candidate:
        """The inverse of `key`: "dpq=16x8,min_count=3,..." (names left out keep their default).

        Values are matched against the space's choices as text, so "4" and "False" parse."""
        values = {}
        for part in filter(None, (p.strip() for p in key.split(","))):
            name, _, text = part.partition("=")
            if name not in SPACE:
                raise ValueError(f"unknown parameter {name!r} in {key!r}: expected one of {list(SPACE)}")
            matches = [choice for choice in SPACE[name] if str(choice) == text.strip()]
            if not matches:
                raise ValueError(f"{name} must be one of {[str(c) for c in SPACE[name]]}, got {text!r}")
            values[name] = matches[0]
        return cls(**values)

    def params(self) -> dict:
        """The candidate as an Optuna trial's parameters (for `enqueue_trial`)."""
        return asdict(self)

    def describe(self) -> str:
        bits = f"int{self.weight_bits}{' per-channel' if self.per_channel else ''}"
        return f"DPQ {self.dpq} min_count {self.min_count} width {self.width} {self.pooling} {bits}"
