"""The benchmark's outputs: ratios against the reference, the Pareto front, the Markdown
table and the accuracy-vs-bytes plot."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

METRICS = ("intent_accuracy", "slot_f1", "exact_match")


def add_ratios(rows: dict[str, dict], reference: str) -> None:
    """Compression (1 - bytes / reference bytes) and relative degradation of each metric."""
    ref = rows.get(reference)
    if not ref or "error" in ref:
        return
    for row in rows.values():
        if "error" in row:
            continue
        row["compression"] = 1 - row["file_bytes"] / ref["file_bytes"]
        row["relative_degradation"] = {
            m: (ref["test"][m] - row["test"][m]) / ref["test"][m]
            if row["test"].get(m) is not None and ref["test"].get(m)
            else None
            for m in METRICS
        }


def aggregate_seeds(per_seed: dict[int, dict[str, dict]]) -> dict[str, dict]:
    """One row per variant over seeds: every test metric's mean (in `test`, so ratios, the front
    and the plot read means) and sample standard deviation (`test_std`); file bytes are the
    largest seen (they do not depend on the seed). A variant that failed on any seed is an error."""
    seeds = sorted(per_seed)
    names = dict.fromkeys(name for rows in per_seed.values() for name in rows)
    rows = {}
    for name in names:
        runs = [per_seed[s].get(name) for s in seeds]
        failed = [
            f"seed {s}: {r['error'] if r else 'missing'}"
            for s, r in zip(seeds, runs, strict=True)
            if not r or "error" in r
        ]
        rows[name] = {"error": "; ".join(failed)[:300]} if failed else _mean_row(runs, seeds)
    return rows


def _mean_row(runs: list[dict], seeds: list[int]) -> dict:
    import numpy as np

    row = {k: v for k, v in runs[0].items() if k not in ("test", "relative_degradation", "compression")}
    row["file_bytes"] = max(r["file_bytes"] for r in runs)
    row["seeds"] = seeds
    row["test"], row["test_std"] = {}, {}
    for metric, value in runs[0]["test"].items():
        values = [r["test"].get(metric) for r in runs]
        if isinstance(value, int | float) and not isinstance(value, bool) and None not in values:
            row["test"][metric] = float(np.mean(values))
            row["test_std"][metric] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    for key in ("latency_ms", "train_seconds"):
        if all(isinstance(r.get(key), int | float) for r in runs):
            row[key] = float(np.mean([r[key] for r in runs]))
    by_language = mean_by_language([r["test"].get("by_language") for r in runs])
    if by_language:
        row["test"]["by_language"] = by_language
    return row


def mean_by_language(per_run: list[dict | None]) -> dict:
    """Each language's metrics averaged over runs (empty unless every run has the same languages)."""
    import numpy as np

    if not per_run or any(not r for r in per_run) or len({tuple(sorted(r)) for r in per_run}) != 1:
        return {}
    result = {}
    for language, first in per_run[0].items():
        result[language] = {"examples": first["examples"]}
        for metric in ("intent_accuracy", "slot_f1"):
            values = [r[language].get(metric) for r in per_run]
            result[language][metric] = None if None in values else float(np.mean(values))
    return result


WITHIN = 0.02  # "within 2%": relative degradation of the pooled means


def best_within(rows: dict[str, dict], reference: str, *, among: Collection[str] | None = None) -> str | None:
    """The smallest file within WITHIN of the reference on intent accuracy and slot F1 (the
    file a team would ship; one without a metric the reference has is not within); without
    one, the most accurate compressed file. `among`: only these rows compete (the DPQ files)."""
    candidates = {
        n: r
        for n, r in rows.items()
        if n != reference
        and "error" not in r
        and "relative_degradation" in r
        and (among is None or n in among)
    }
    if reference not in rows or not candidates:
        return None
    measured = [m for m in ("intent_accuracy", "slot_f1") if rows[reference]["test"].get(m) is not None]
    within = [
        n
        for n, r in candidates.items()
        if all((d := r["relative_degradation"].get(m)) is not None and d <= WITHIN for m in measured)
    ]
    if within:
        return min(within, key=lambda n: candidates[n]["file_bytes"])
    return max(candidates, key=lambda n: candidates[n]["test"]["intent_accuracy"], default=None)


def language_table(rows: dict[str, dict], reference: str, *, among: Collection[str] | None = None) -> str:
    """Per-language metrics of the reference and the best file (of those `among`), and the
    worst language (the largest relative intent or slot F1 drop); empty for a single-language
    benchmark."""
    best = best_within(rows, reference, among=among)
    ref_languages = rows.get(reference, {}).get("test", {}).get("by_language")
    best_languages = rows[best]["test"].get("by_language") if best else None
    if not ref_languages or not best_languages:
        return ""
    lines = [
        f"Per language: the reference `{reference}` against `{best}` ({rows[best]['file_bytes']:,} bytes).",
        "",
        "| language | test examples | ref intent | intent | intent degr. | ref slot F1 | slot F1 | slot F1 degr. |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    drops = {}
    for language, ref in sorted(ref_languages.items()):
        got = best_languages.get(language, {})
        degr = {m: _relative_drop(ref.get(m), got.get(m)) for m in ("intent_accuracy", "slot_f1")}
        drops[language] = max((d for d in degr.values() if d is not None), default=0.0)
        lines.append(
            f"| {language} | {ref['examples']:,} | {_score(ref.get('intent_accuracy'))} | {_score(got.get('intent_accuracy'))} | "
            f"{_percent(degr['intent_accuracy'])} | {_score(ref.get('slot_f1'))} | {_score(got.get('slot_f1'))} | "
            f"{_percent(degr['slot_f1'])} |"
        )
    worst = max(drops, key=drops.get)
    pooled = rows[best]["relative_degradation"]
    lines += [
        "",
        f"Worst language: **{worst}**, {_percent(drops[worst])} (largest relative drop of intent accuracy or slot F1); "
        f"pooled: intent {_percent(pooled.get('intent_accuracy'))}, slot F1 {_percent(pooled.get('slot_f1'))}.",
    ]
    return "\n".join(lines) + "\n"


def _relative_drop(reference, value):
    if reference is None or value is None or not reference:
        return None
    return (reference - value) / reference


def pareto_front(rows: dict[str, dict], metric: str = "intent_accuracy") -> list[str]:
    """Names of the rows no other row beats on both bytes (fewer) and `metric` (higher)."""
    points = {
        n: (r["file_bytes"], r["test"][metric])
        for n, r in rows.items()
        if "error" not in r and r["test"].get(metric) is not None
    }
    front = [
        name
        for name, (size, score) in points.items()
        if not any(s <= size and q >= score and (s, q) != (size, score) for s, q in points.values())
    ]
    return sorted(front, key=lambda n: points[n][0])


def _percent(value) -> str:
    return "n/a" if value is None else f"{100 * value:+.1f}%"


def _score(value, spread=None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4f}" if spread is None else f"{value:.4f} ± {spread:.4f}"


def markdown_table(rows: dict[str, dict], descriptions: dict[str, str], front: list[str]) -> str:
    lines = [
        "| variant | what | file bytes | compression | intent acc | slot F1 | slot F1, unseen-word spans | exact | intent degr. | slot F1 degr. | latency ms | train s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in rows.items():
        label = f"**{name}**" if name in front else name
        if "error" in row:
            lines.append(
                f"| {label} | {descriptions.get(name, '')} | failed: {row['error']} | | | | | | | | | |"
            )
            continue
        test, degradation, std = row["test"], row.get("relative_degradation", {}), row.get("test_std", {})
        size = f"{row['file_bytes']:,}" + (f" (gzip {row['gzip_bytes']:,})" if "gzip_bytes" in row else "")
        lines.append(
            f"| {label} | {descriptions.get(name, '')} | {size} | {100 * row.get('compression', 0):.2f}% | "
            f"{_score(test.get('intent_accuracy'), std.get('intent_accuracy'))} | "
            f"{_score(test.get('slot_f1'), std.get('slot_f1'))} | "
            f"{_score(test.get('unseen_slot_f1'), std.get('unseen_slot_f1'))} | "
            f"{_score(test.get('exact_match'), std.get('exact_match'))} | "
            f"{_percent(degradation.get('intent_accuracy'))} | {_percent(degradation.get('slot_f1'))} | "
            f"{row['latency_ms']:.3f} | {row.get('train_seconds', 0):.0f} |"
        )
    return (
        "\n".join(lines)
        + "\n\nBold: on the Pareto front of file bytes against intent accuracy. Degradation is relative to the reference (positive = worse)"
        + ". Unseen-word spans: gold and predicted slot spans with a word the training split never had"
        + "; with several seeds, metrics are mean ± sample standard deviation and degradations compare means.\n"
    )


def plot(rows: dict[str, dict], families: dict[str, str], path: Path, title: str) -> None:
    """Intent accuracy (and slot F1 where there is one) against file bytes, log scale, with
    the Pareto front drawn as a step line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    good = {n: r for n, r in rows.items() if "error" not in r}
    metrics = [
        m for m in ("intent_accuracy", "slot_f1") if any(r["test"].get(m) is not None for r in good.values())
    ]
    figure, axes = plt.subplots(1, len(metrics), figsize=(7 * len(metrics), 5), squeeze=False)
    for axis, metric in zip(axes[0], metrics, strict=True):
        for family in dict.fromkeys(families[n] for n in good):
            names = [n for n in good if families[n] == family and good[n]["test"].get(metric) is not None]
            if names:
                axis.scatter(
                    [good[n]["file_bytes"] for n in names],
                    [good[n]["test"][metric] for n in names],
                    label=family,
                    s=36,
                )
        front = pareto_front(good, metric)
        axis.step(
            [good[n]["file_bytes"] for n in front],
            [good[n]["test"][metric] for n in front],
            where="post",
            color="black",
            linewidth=1,
            label="Pareto front",
        )
        for name in front:
            axis.annotate(
                name,
                (good[name]["file_bytes"], good[name]["test"][metric]),
                fontsize=7,
                xytext=(4, -10),
                textcoords="offset points",
            )
        axis.set_xscale("log")
        axis.set_xlabel("bytes of the deployable file (log scale)")
        axis.set_ylabel(metric.replace("_", " "))
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8, loc="lower right")
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
