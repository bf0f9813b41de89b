"""`tflnlu-bench`: every compression variant trained, exported and measured on the same splits.

    tflnlu-bench --data=../shared/data/hwu64 --format=massive --out=bench/hwu64

Trains the reference (fp32 table, d=128) and the variants that need their own training,
derives the task-agnostic baselines from the reference's table, exports each to .tflite and
measures the file in LiteRT; fastText 0.9.3 is the external peer (intent only). Writes
`results.json` after every variant (so `--resume` continues an interrupted benchmark),
`results.md` (the table) and `results.png` (accuracy against bytes, Pareto front drawn).
A variant that fails is reported with its error; the others still run.
"""

from __future__ import annotations

import dataclasses
import json
import time
import traceback
from pathlib import Path

from tflnlu.bench import report
from tflnlu.bench.fasttext_peer import PLAIN as FASTTEXT
from tflnlu.bench.fasttext_peer import WITH_SUBWORDS as FASTTEXT_WITH_SUBWORDS
from tflnlu.bench.variants import DPQ_VARIANTS, REFERENCE, RUNS, VARIANTS, Context, run_variant
from tflnlu.cli.common import Command, FlagDefiner, UsageError
from tflnlu.data.load import load_data
from tflnlu.data.readers import CLINC_OOS_CHOICES, FORMATS
from tflnlu.export.options import EXPORT, MODEL_FILE
from tflnlu.io import write_json_atomic, write_text_atomic
from tflnlu.models.config import POOLINGS
from tflnlu.outputs import Each, OutputKind, prepare_output, remove_owned
from tflnlu.train.config import TrainConfig
from tflnlu.train.run_dir import RUN


def define_flags(define: FlagDefiner) -> None:
    define.string("data", None, "Data set directory (default: the built-in one).")
    define.enum("format", "massive", FORMATS, "Format of --data.")
    define.list("languages", ["en"], "Languages of the built-in data set (used without --data), or all.")
    define.enum(
        "clinc_oos", "label", list(CLINC_OOS_CHOICES), "CLINC150 out-of-scope rows: an intent, or dropped."
    )
    define.string("out", "bench/default", "Directory for runs, exports and results.")
    define.list("variants", None, f"Subset of variants (default all): {', '.join(v.name for v in VARIANTS)}")
    define.list(
        "fasttext_cutoffs", ["1000", "2000", "5000"], "fastText quantize -cutoff values; empty: no fastText."
    )
    define.integer("epochs", TrainConfig.epochs, "Maximum training epochs per run.", lower_bound=1)
    define.integer(
        "qat_epochs", 3, "QAT epochs of the QAT variants (0: post-training quantization).", lower_bound=0
    )
    define.integer(
        "seed",
        TrainConfig.seed,
        "Training seed of every run (to measure seed noise).",
        lower_bound=0,
        upper_bound=2**32 - 1,
    )
    define.bool("resume", False, "Keep the finished variants of --out/results.json and run the rest.")
    define.bool("overwrite", False, "Replace an earlier benchmark in --out (only its own files).")
    define.list(
        "seeds", None, "Train and measure every variant once per seed (e.g. 0,1,2): means and spreads."
    )
    define.string("title", None, "Title of the plot (default: the data directory's name).")
    define.integer("width", None, "Encoder channels of every run (default: ModelConfig's).", lower_bound=1)
    define.enum("pooling", None, list(POOLINGS), "Intent pooling of every run (default: ModelConfig's).")
    define.bool("per_channel", True, "Per-channel int8 weight scales in the exports.")


RESULTS = "results.json"
# A benchmark directory: results.json marks it; the runs, exports and reports are its own.
SEEDS_DIR = "seeds"  # --seeds: one whole benchmark per seed, in seeds/<seed>/
FASTTEXT_FILES = OutputKind(
    "fastText peer",
    marker="train.txt",
    entries=frozenset({"train.txt"}),
    patterns=(r"model(_minn3_maxn5)?\.bin", r"model(_minn3_maxn5)?_cutoff\d+\.ftz"),
)
# A variant's export: an export directory, or (the fp32 reference) its model.tflite alone.
VARIANT_EXPORT = OutputKind("variant export", marker=MODEL_FILE, entries=EXPORT.entries)
BENCHMARK = OutputKind(
    "benchmark",
    marker=RESULTS,
    entries=frozenset(
        {RESULTS, "results.md", "results.png", "runs", "exports", FASTTEXT, SEEDS_DIR}
        | {f"{name}.error.txt" for name in [*(v.name for v in VARIANTS), FASTTEXT]}
    ),
    resumable=True,
    children={
        "runs": Each(RUN, frozenset(RUNS)),
        "exports": Each(VARIANT_EXPORT, frozenset(v.name for v in VARIANTS)),
        FASTTEXT: FASTTEXT_FILES,
    },
)
BENCHMARK.children[SEEDS_DIR] = Each(BENCHMARK)  # a multi-seed benchmark holds one per seed


def _selected(names: list[str] | None):
    known = {v.name: v for v in VARIANTS}
    unknown = sorted(set(names or []) - set(known))
    if unknown:
        raise ValueError(f"unknown variants {unknown}; known: {', '.join(known)}")
    chosen = [v for v in VARIANTS if not names or v.name in names]
    if REFERENCE not in [v.name for v in chosen]:
        chosen.insert(0, known[REFERENCE])  # every ratio needs the reference
    return chosen


def _run_seconds(work: Path, run: str) -> float | None:
    metrics = work / "runs" / run / "metrics.json"
    if not metrics.is_file():
        return None
    data = json.loads(metrics.read_text(encoding="utf-8"))
    return (data.get("seconds_per_epoch") or 0) * data.get("epochs_run", 0)


def run(
    data: str | None,
    fmt: str,
    out: str,
    variant_names: list[str] | None = None,
    *,
    fasttext_cutoffs: tuple[int, ...] = (1000, 2000, 5000),
    train_config: TrainConfig | None = None,
    qat_epochs: int = 3,
    resume: bool = False,
    overwrite: bool = False,
    clinc_oos: str = "label",
    languages: list[str] = ("en",),
    title: str | None = None,
    encoder: dict | None = None,
    per_channel: bool = True,
    log=print,
) -> dict:
    """`encoder` (e.g. {"width": 32, "pooling": "max"}) applies to every run, reference included,
    except where a run sets its own (the students of RUNS). `out` must be new, empty or an earlier
    benchmark (continued with `resume`, replaced with `overwrite`): checked before any training."""
    variants = _selected(variant_names)
    work = Path(out)
    if prepare_output(work, BENCHMARK, overwrite=overwrite, keep=resume) == "ours, replaced":
        remove_owned(work, BENCHMARK)
    work.mkdir(parents=True, exist_ok=True)
    train_config = train_config or TrainConfig()
    settings = {
        "encoder": encoder or {},
        "per_channel": per_channel,
        "epochs": train_config.epochs,
        "seed": train_config.seed,
    }
    # bad data: nothing written
    splits, settings["data"] = load_data(data, fmt, languages=languages, clinc_oos=clinc_oos, log=log)
    rows = _previous_rows(work / RESULTS, settings, resume)
    context = Context(
        splits,
        work,
        train_config,
        lambda line: log(f"    {line}"),  # each epoch of a training: progress on long runs
        qat_epochs=qat_epochs,
        encoder=encoder or {},
        per_channel=per_channel,
        resume=resume,
    )
    steps = [v.name for v in variants] + ([FASTTEXT] if fasttext_cutoffs else [])
    started, done_seconds = time.monotonic(), []
    for index, name in enumerate(steps, 1):
        if name in rows or (name == FASTTEXT and any(n.startswith(FASTTEXT) for n in rows)):
            continue
        log(_progress(index, len(steps), name, elapsed=time.monotonic() - started, done_seconds=done_seconds))
        step_started = time.monotonic()
        _run_step(name, variants, context, rows, fasttext_cutoffs=fasttext_cutoffs, log=log)
        done_seconds.append(time.monotonic() - step_started)
        write_json_atomic(work / RESULTS, {"rows": rows, "settings": settings})
    descriptions = {v.name: v.description for v in variants}
    families = {v.name: v.family for v in variants}
    title = title or Path(data or "built-in").name
    return finish(rows, work, descriptions, families, title=title, settings=settings)


def _previous_rows(results_path: Path, settings: dict, resume: bool) -> dict[str, dict]:
    """The finished rows of an earlier run of the same settings (--resume); writes a fresh
    results.json otherwise, which marks the directory as a benchmark from the start."""
    rows: dict[str, dict] = {}
    if resume and results_path.is_file():
        saved = _read_results(results_path)
        # older files: seed 0, and no record of the data (the same was assumed)
        if {
            "seed": TrainConfig.seed,
            "data": settings["data"],
            **saved.get("settings", settings),
        } != settings:
            raise ValueError(
                f"--resume with other settings than {results_path}'s {saved['settings']}: use another --out"
            )
        rows = {n: r for n, r in saved["rows"].items() if "error" not in r}
    if not results_path.is_file():
        write_json_atomic(results_path, {"rows": {}, "settings": settings})
    return rows


def _read_results(path: Path) -> dict:
    """results.json of an earlier run, checked (ValueError naming the file otherwise)."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is damaged (not JSON: {e}): use another --out, or --overwrite") from None
    rows_ok = isinstance(saved, dict) and isinstance(saved.get("rows"), dict)
    if not rows_ok or not all(isinstance(r, dict) for r in saved["rows"].values()):
        raise ValueError(f"{path} is damaged (no 'rows' of results): use another --out, or --overwrite")
    if not isinstance(saved.get("settings", {}), dict):
        raise ValueError(
            f"{path} is damaged ('settings' is not an object): use another --out, or --overwrite"
        )
    return saved


def _progress(index: int, total: int, name: str, *, elapsed: float, done_seconds: list[float]) -> str:
    remaining = total - index + 1
    eta = (
        f", about {sum(done_seconds) / len(done_seconds) * remaining / 60:.0f} min left"
        if done_seconds
        else ""
    )
    return f"[{index}/{total}] {name} ({elapsed / 60:.1f} min elapsed{eta})"


def _run_step(name: str, variants, context: Context, rows: dict, *, fasttext_cutoffs, log) -> None:
    """One variant (or the fastText peer) into `rows`; a failure is recorded, not raised."""
    try:
        if name == FASTTEXT:
            from tflnlu.bench.fasttext_peer import run_fasttext

            rows.update(run_fasttext(context.splits, fasttext_cutoffs, context.work / "fasttext"))
        else:
            variant = next(v for v in variants if v.name == name)
            row = run_variant(variant, context)
            row["train_seconds"] = _run_seconds(context.work, variant.run)
            rows[name] = row
    except Exception as e:  # one failing variant is reported; the others still run
        rows[name] = {"error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]}
        log(f"  failed: {rows[name]['error']}")
        (context.work / f"{name}.error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        return
    summary = rows.get(name) or rows.get(FASTTEXT)
    if summary:
        log(f"  {summary['file_bytes']:,} bytes, test intent {summary['test']['intent_accuracy']:.4f}")


def run_seeds(
    data: str | None,
    fmt: str,
    out: str,
    variant_names: list[str] | None = None,
    *,
    seeds: tuple[int, ...],
    train_config: TrainConfig | None = None,
    resume: bool = False,
    overwrite: bool = False,
    title: str | None = None,
    log=print,
    **options,
) -> dict:
    """The benchmark once per seed (each a whole benchmark in out/seeds/<seed>/, resumable on its
    own), then out/results.json, .md and .png with every metric's mean and spread per variant:
    "within 2%" compares the variant's mean with the reference's mean."""
    if len(set(seeds)) != len(seeds) or not seeds:
        raise UsageError(f"--seeds must be distinct integers, got {list(seeds)}")
    work = Path(out)
    if prepare_output(work, BENCHMARK, overwrite=overwrite, keep=resume) == "ours, replaced":
        remove_owned(work, BENCHMARK)
    train_config = train_config or TrainConfig()
    settings = {"seeds": list(seeds), "epochs": train_config.epochs, "options": sorted(options)}
    if not (work / RESULTS).is_file():  # marks `out` as a benchmark from the start, for --resume
        write_json_atomic(work / RESULTS, {"rows": {}, "settings": settings})
    per_seed = {}
    for index, seed in enumerate(seeds, 1):
        log(f"== seed {seed} ({index}/{len(seeds)})")
        config = dataclasses.replace(train_config, seed=seed)
        result = run(
            data,
            fmt,
            str(work / SEEDS_DIR / str(seed)),
            variant_names,
            train_config=config,
            resume=resume,
            log=log,
            **options,
        )
        per_seed[seed] = result["rows"]
    variants = _selected(variant_names)
    descriptions = {v.name: v.description for v in variants}
    families = {v.name: v.family for v in variants}
    title = f"{title or Path(data or 'built-in').name}, mean over seeds {', '.join(map(str, seeds))}"
    return finish(
        report.aggregate_seeds(per_seed), work, descriptions, families, title=title, settings=settings
    )


def in_variant_order(rows: dict) -> dict:
    """Rows in the order of VARIANTS, then the rest (fastText) as they came: a resumed run
    keeps its earlier rows first otherwise."""
    order = {v.name: i for i, v in enumerate(VARIANTS)}
    return dict(sorted(rows.items(), key=lambda item: order.get(item[0], len(order))))


def _fasttext_description(row: str) -> str:
    subwords = " with character n-grams (-minn 3 -maxn 5)" if row.startswith(FASTTEXT_WITH_SUBWORDS) else ""
    cutoff = row.rsplit("cutoff", 1)[1] if "cutoff" in row else None
    kind = f", quantized (-qnorm -retrain -cutoff {cutoff})" if cutoff else ", unquantized .bin"
    return f"fastText 0.9.3 supervised{subwords}{kind}"


def finish(rows: dict, work: Path, descriptions: dict, families: dict, *, title: str, settings: dict) -> dict:
    rows = in_variant_order(rows)
    for name in rows:
        if name.startswith(FASTTEXT):
            descriptions[name] = _fasttext_description(name)
            families[name] = "fastText (external)"
    report.add_ratios(rows, REFERENCE)
    front = report.pareto_front({n: r for n, r in rows.items() if "error" not in r})
    write_json_atomic(
        work / RESULTS, {"rows": rows, "pareto_front_intent": front, "runs": RUNS, "settings": settings}
    )
    tables = report.markdown_table(rows, descriptions, front)
    languages = [report.language_table(rows, REFERENCE)]
    dpq_rows = {n for n in rows if n in DPQ_VARIANTS}
    if report.best_within(rows, REFERENCE, among=dpq_rows) != report.best_within(rows, REFERENCE):
        languages.append(report.language_table(rows, REFERENCE, among=dpq_rows))  # and the best DPQ file
    write_text_atomic(work / "results.md", "\n".join(filter(None, [tables, *languages])))
    report.plot(
        rows, {n: families.get(n, "other") for n in rows}, work / "results.png", f"tflnlu benchmark: {title}"
    )
    return {"rows": rows, "pareto_front_intent": front}


def main(values, positional: list[str]) -> int:
    if positional:
        raise UsageError(f"unexpected arguments: {' '.join(positional)}")
    if values["variants"].present and not values.variants:
        raise UsageError("--variants is empty: name the variants to run, or leave the flag out for all")
    try:
        cutoffs = tuple(int(c) for c in values.fasttext_cutoffs if c)
    except ValueError:
        raise UsageError(
            f"--fasttext_cutoffs must be integers, got {','.join(values.fasttext_cutoffs)}"
        ) from None
    options = {
        "fasttext_cutoffs": cutoffs,
        "train_config": TrainConfig(epochs=values.epochs, seed=values.seed),
        "qat_epochs": values.qat_epochs,
        "resume": values.resume,
        "overwrite": values.overwrite,
        "clinc_oos": values.clinc_oos,
        "languages": values.languages,
        "title": values.title,
        "encoder": {
            k: v for k, v in {"width": values.width, "pooling": values.pooling}.items() if v is not None
        },
        "per_channel": values.per_channel,
    }
    if values.seeds:
        if values["seed"].present:
            raise UsageError("pass --seed or --seeds, not both")
        seeds = _integers(values.seeds, "--seeds")
        run_seeds(values.data, values.format, values.out, values.variants, seeds=seeds, **options)
    else:
        run(values.data, values.format, values.out, values.variants, **options)
    return 0


def _integers(items: list[str], flag: str) -> tuple[int, ...]:
    try:
        return tuple(int(item) for item in items)
    except ValueError:
        raise UsageError(f"{flag} must be integers, got {','.join(items)}") from None


COMMAND = Command(
    "tflnlu-bench",
    "tflnlu-bench [--data=PATH --format=FMT] --out=DIR [--variants=a,b] [--resume | --overwrite]",
    define_flags,
    main,
    on_interrupt=lambda values: (
        f"finished variants are in {values.out}/{RESULTS}; run the same command with --resume to go on"
    ),
)


if __name__ == "__main__":  # python -m tflnlu.cli.bench
    from tflnlu.cli.launch import bench

    bench()
