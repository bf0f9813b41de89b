"""What a search leaves to read: one row per trial, the Pareto front, a table and a plot."""

from __future__ import annotations

import io
from pathlib import Path

import optuna

from tflnlu.fit.space import Candidate
from tflnlu.io import write_bytes_atomic, write_text_atomic

TRIALS_TABLE, FIT_PLOT = "trials.md", "fit.png"


def trial_rows(study: optuna.Study) -> list[dict]:
    """Every trial of the study as plain data (trials.json): state, candidate, sizes, scores."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        attrs = trial.user_attrs
        trained = "real_bytes" in attrs
        rows.append(
            {
                "number": trial.number,
                "state": trial.state.name,
                "params": trial.params,
                "candidate": Candidate(**trial.params).describe() if trial.params else "",
                "predicted_bytes": attrs.get("predicted_bytes"),
                "predicted_arena_bytes": attrs.get("predicted_arena_bytes"),
                "real_bytes": attrs.get("real_bytes"),
                "real_arena_bytes": attrs.get("real_arena_bytes"),
                "over_budget_bytes": attrs.get("over_budget_bytes", 0),
                "dev_score": trial.values[0] if trained and trial.values else None,
                "dev": attrs.get("dev"),
                "components": attrs.get("components"),
                "outcome": attrs.get("outcome", _state_outcome(trial)),
                "run": attrs.get("run"),
                "export": attrs.get("export"),
                "host": attrs.get("host"),
                "seconds": attrs.get("seconds"),
                "epochs": len(trial.intermediate_values),
            }
        )
    return rows


def _state_outcome(trial: optuna.trial.FrozenTrial) -> str:
    if trial.state == optuna.trial.TrialState.FAIL:
        return f"failed: {trial.system_attrs.get('fail_reason', 'see the worker log')}"[:300]
    return trial.state.name.lower()


def pareto_front(rows: list[dict]) -> list[dict]:
    """Trained files no other trained file beats on both bytes and dev score, by size. A
    configuration the sampler proposed again (answered from the study) is on it once, as the
    trial that trained it."""
    trained = list(
        {
            r["candidate"]: r for r in reversed(rows) if r["state"] == "COMPLETE" and r.get("real_bytes")
        }.values()
    )
    front = [
        r
        for r in trained
        if not any(
            o["real_bytes"] <= r["real_bytes"]
            and o["dev_score"] >= r["dev_score"]
            and (o["real_bytes"], o["dev_score"]) != (r["real_bytes"], r["dev_score"])
            for o in trained
        )
    ]
    return sorted(front, key=lambda r: r["real_bytes"])


def write_table(rows: list[dict], front: list[dict], path: Path) -> None:
    on_front = {r["number"] for r in front}
    lines = [
        "| trial | state | configuration | predicted bytes | real bytes | dev score | epochs | outcome |",
        "|---:|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        mark = " (front)" if r["number"] in on_front else ""
        score = "" if r["dev_score"] is None else f"{r['dev_score']:.4f}"
        lines.append(
            f"| {r['number']}{mark} | {r['state'].lower()} | {r['candidate']} | {_bytes(r['predicted_bytes'])} "
            f"| {_bytes(r['real_bytes'])} | {score} | {r['epochs']} | {r['outcome']} |"
        )
    write_text_atomic(path, "\n".join(lines) + "\n")


def _bytes(value) -> str:
    return "" if value is None else f"{value:,}"


def write_plot(rows: list[dict], front: list[dict], chosen: dict | None, path: Path) -> None:
    """Dev score against file bytes: every trained trial, the front joined, the choice ringed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    trained = [r for r in rows if r["state"] == "COMPLETE" and r.get("real_bytes")]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    axes.scatter([r["real_bytes"] for r in trained], [r["dev_score"] for r in trained], s=18, label="trials")
    axes.plot(
        [r["real_bytes"] for r in front], [r["dev_score"] for r in front], "-o", ms=4, label="Pareto front"
    )
    if chosen is not None:
        axes.scatter(
            [chosen["real_bytes"]], [chosen["dev_score"]], s=120, facecolors="none", edgecolors="red"
        )
        axes.annotate(f"chosen (trial {chosen['number']})", (chosen["real_bytes"], chosen["dev_score"]))
    axes.set_xlabel("file bytes")
    axes.set_ylabel("dev score (exported file)")
    axes.legend()
    figure.tight_layout()
    image = io.BytesIO()
    figure.savefig(image, format="png", dpi=110)
    plt.close(figure)
    write_bytes_atomic(path, image.getvalue())
