"""The full description of a joint model: enough to rebuild it from the run directory."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from tflnlu.data.subwords import SubwordSpec
from tflnlu.layers.codes import DPQ_VARIANTS, validate_dpq

EMBEDDINGS = ("full", "dpq")
POOLINGS = ("max", "max_mean")
__all__ = ["DPQ_VARIANTS", "EMBEDDINGS", "POOLINGS", "ModelConfig"]


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    num_intents: int
    num_tags: int
    num_domains: int = 0  # 0: no domain head
    max_len: int = 32
    embedding: str = "dpq"
    embed_dim: int = 128
    dpq_k: int = 16
    dpq_d: int = 32
    dpq_variant: str = "sx"
    dpq_shared: bool = False
    width: int = 64
    dilations: tuple[int, ...] = (1, 2, 4)
    kernel: int = 3
    dropout: float = 0.25
    slot_context: bool = True  # add the pooled utterance vector to every token before the slot head
    separable: bool = True  # depthwise (1 x kernel) + 1x1 conv blocks; False: full (1 x kernel) convs
    pooling: str = "max_mean"  # intent features: "max" or "max_mean" (both, concatenated)
    # Hashed character n-grams per token (SubwordSpec.to_json(), docs/tokenizer.md section 6):
    # the input is then [max_len, 1 + per_token] ids, the word's and its n-grams', and the
    # n-gram table is a DPQ table of its own (K, D below) when the word table is one.
    subwords: dict | None = None
    subword_dpq_k: int = 4
    subword_dpq_d: int = 8

    def __post_init__(self):
        if self.embedding not in EMBEDDINGS:
            raise ValueError(f"embedding must be one of {EMBEDDINGS}, got {self.embedding!r}")
        for name in ("vocab_size", "num_intents", "num_tags", "max_len", "embed_dim", "width", "kernel"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.embedding == "dpq":
            validate_dpq(self.embed_dim, self.dpq_k, self.dpq_d, self.dpq_variant)
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if not self.dilations or any(
            not isinstance(d, int) or isinstance(d, bool) or d < 1 for d in self.dilations
        ):
            raise ValueError(f"dilations must be one or more positive integers, got {list(self.dilations)}")
        if self.dpq_shared and self.dpq_variant != "sx":
            raise ValueError("dpq_shared (one matrix for keys and values) applies to the SX variant only")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.subwords is not None:
            SubwordSpec.from_json(self.subwords)
            if self.embedding == "dpq":
                validate_dpq(self.embed_dim, self.subword_dpq_k, self.subword_dpq_d, self.dpq_variant)

    @property
    def subword_spec(self) -> SubwordSpec | None:
        return None if self.subwords is None else SubwordSpec.from_json(self.subwords)

    @property
    def ids_shape(self) -> tuple[int, ...]:
        """One utterance's input: [max_len] word ids, or [max_len, 1 + per_token] with subwords."""
        spec = self.subword_spec
        return (self.max_len,) if spec is None else (self.max_len, 1 + spec.per_token)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        data = dict(data)
        if "dilations" in data:
            data["dilations"] = tuple(data["dilations"])
        return cls(**data)
