"""What an export is asked to do and what it writes: options and file names (TF-free, so the
CLI defines its flags and the deploy side reads an export directory without TensorFlow)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tflnlu.data.hashed_vocab import FINGERPRINT_BITS
from tflnlu.data.vocab import VOCAB_FILE
from tflnlu.nlu.encode import LabelSet
from tflnlu.outputs import OutputKind, prepare_output

GOLDEN_FILE = "golden.jsonl"
GOLDEN_CHOICES = ("sample", "none")  # write the golden file (raw scores for a sample), or skip it
HEADER_FILE, SOURCE_FILE, RESOLVER_FILE = "model_data.h", "model_data.cc", "micro_op_resolver.h"  # mcu
MODEL_FILE = "model.tflite"
EXPORT_JSON = "export.json"
TOKENIZER_JSON = "tokenizer.json"
LOOKUPS = ("builtin", "custom")
MAX_CUSTOM_OP_GROUPS = 256  # the fused kernel unpacks a row's codes on its stack (codebook_lookup.c)
TARGETS = ("desktop", "mcu")  # mcu: also verified in TFLite-Micro, with C sources and budgets
# Bits per weight of the convolutions and dense layers (activations stay int8). 4: tfmot's
# n-bit QAT, which the converter writes as INT4 filters (two per byte); LiteRT 2.3 and the
# pinned TFLite-Micro both run them (docs/model_file.md, "int4 weights").
WEIGHT_BITS = (8, 4)
# The vocabulary inside the file: its words front-coded, or a minimal perfect hash plus a
# fingerprint per word that stores no strings (docs/model_file.md, "Hashed vocabulary").
VOCABULARIES = ("strings", "hashed")

# What an export directory may hold; export.json, written with the rest in one atomic
# directory swap, marks a directory as an export.
EXPORT = OutputKind(
    "export",
    marker=EXPORT_JSON,
    entries=frozenset(
        {
            MODEL_FILE,
            EXPORT_JSON,
            TOKENIZER_JSON,
            GOLDEN_FILE,
            HEADER_FILE,
            SOURCE_FILE,
            RESOLVER_FILE,
            VOCAB_FILE,
            *LabelSet.FILES.values(),
        }
    ),
)


@dataclass(frozen=True)
class ExportOptions:
    lookup: str = "builtin"
    code_bits: int | None = None  # 8, 4 or 2; default: the fewest that hold K
    qat_epochs: int = 3  # 0: post-training quantization only
    qat_learning_rate: float = 2e-4
    # Exponential moving average of the weights during QAT (0 = off, the raw weights): the
    # training run's averaging carried into fine-tuning, so the file is not a noisy iterate.
    qat_weight_average: float = 0.0
    representative_examples: int = 300
    max_bytes: int | None = None
    per_channel: bool = True  # per-channel weight scales in convolutions
    weight_bits: int = 8  # 8 or 4 (WEIGHT_BITS)
    seed: int = 0  # QAT fine-tuning and calibration sample
    target: str = "desktop"
    max_flash_bytes: int | None = None  # mcu: the whole flatbuffer
    max_arena_bytes: int | None = None  # mcu: the TFLM tensor arena
    golden: str = "sample"  # the golden file for the Java core ("none": not written)
    vocabulary: str = "strings"  # VOCABULARIES
    fingerprint_bits: int = 8  # hashed vocabulary: an unknown word is taken for a known one at 2**-bits

    def __post_init__(self):
        if self.lookup not in LOOKUPS:
            raise ValueError(f"lookup must be one of {LOOKUPS}, got {self.lookup!r}")
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {self.target!r}")
        if self.target == "mcu" and self.lookup != "builtin":
            raise ValueError(
                "--target=mcu needs --lookup=builtin: the pip TFLite-Micro runtime cannot register a custom op"
            )
        if self.weight_bits not in WEIGHT_BITS:
            raise ValueError(f"--weight_bits must be one of {WEIGHT_BITS}, got {self.weight_bits!r}")
        if self.weight_bits != 8 and not self.qat_epochs:
            raise ValueError(
                f"--weight_bits={self.weight_bits} needs quantization-aware training (--qat_epochs > 0): "
                "the converter writes low-bit weights only where QAT fake-quantized them"
            )
        if self.qat_learning_rate <= 0:
            raise ValueError(f"--qat_learning_rate must be positive, got {self.qat_learning_rate}")
        if not 0 <= self.qat_weight_average < 1:
            raise ValueError(f"--qat_weight_average must be in [0, 1), got {self.qat_weight_average}")
        if self.golden not in GOLDEN_CHOICES:
            raise ValueError(f"golden must be one of {GOLDEN_CHOICES}, got {self.golden!r}")
        if self.vocabulary not in VOCABULARIES:
            raise ValueError(f"--vocabulary must be one of {VOCABULARIES}, got {self.vocabulary!r}")
        if self.fingerprint_bits not in FINGERPRINT_BITS:
            raise ValueError(
                f"--fingerprint_bits must be one of {FINGERPRINT_BITS}, got {self.fingerprint_bits!r}"
            )
        if self.target != "mcu" and (self.max_flash_bytes or self.max_arena_bytes):
            raise ValueError("--max_flash_bytes and --max_arena_bytes apply to --target=mcu only")


def check_options_fit_run(options: ExportOptions, run_config: dict) -> None:
    """Options the run cannot satisfy, refused from its config.json alone (before any work)."""
    model = run_config.get("model", {})
    if options.lookup == "custom" and model.get("embedding") == "full":
        raise ValueError("--lookup=custom needs a DPQ run: a full embedding has no codes to look up")
    groups = model.get("dpq_d")
    if options.lookup == "custom" and isinstance(groups, int) and groups > MAX_CUSTOM_OP_GROUPS:
        raise ValueError(
            f"--lookup=custom handles at most D={MAX_CUSTOM_OP_GROUPS} code groups, the run has D={groups}: "
            "export with --lookup=builtin"
        )
    codes = model.get("dpq_k")
    if (
        options.code_bits
        and model.get("embedding") == "dpq"
        and isinstance(codes, int)
        and codes > 2**options.code_bits
    ):
        raise ValueError(
            f"--code_bits={options.code_bits} cannot hold the run's K={codes} codes: leave it out, or pass 4 or 8"
        )


def check_export_output(out: Path, run_directory: Path, overwrite: bool, data: str | None = None) -> None:
    """Before any work: `out` is new, empty or an earlier export (replaced only with
    `overwrite`), and neither the run nor the data lies inside it."""
    protected = [(Path(run_directory), "the run"), *([(Path(data), "the data")] if data else [])]
    prepare_output(Path(out), EXPORT, overwrite=overwrite, protected=protected, replaced_whole=True)
