"""The benchmark's outputs: ratios against the reference, the Pareto front, the Markdown
table and the accuracy-vs-bytes plot."""

from __future__ import annotations

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
    return row


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
        "| variant | what | file bytes | compression | intent acc | slot F1 | exact | intent degr. | slot F1 degr. | latency ms | train s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in rows.items():
        label = f"**{name}**" if name in front else name
        if "error" in row:
            lines.append(
                f"| {label} | {descriptions.get(name, '')} | failed: {row['error']} | | | | | | | | |"
            )
            continue
        test, degradation, std = row["test"], row.get("relative_degradation", {}), row.get("test_std", {})
        size = f"{row['file_bytes']:,}" + (f" (gzip {row['gzip_bytes']:,})" if "gzip_bytes" in row else "")
        lines.append(
            f"| {label} | {descriptions.get(name, '')} | {size} | {100 * row.get('compression', 0):.2f}% | "
            f"{_score(test.get('intent_accuracy'), std.get('intent_accuracy'))} | "
            f"{_score(test.get('slot_f1'), std.get('slot_f1'))} | {_score(test.get('exact_match'), std.get('exact_match'))} | "
            f"{_percent(degradation.get('intent_accuracy'))} | {_percent(degradation.get('slot_f1'))} | "
            f"{row['latency_ms']:.3f} | {row.get('train_seconds', 0):.0f} |"
        )
    return (
        "\n".join(lines)
        + "\n\nBold: on the Pareto front of file bytes against intent accuracy. Degradation is relative to the reference (positive = worse)"
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
