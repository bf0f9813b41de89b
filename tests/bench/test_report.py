"""Benchmark report: ratios, Pareto front, table."""

import pytest

from tflnlu.bench import report


def rows():
    return {
        "ref": {
            "file_bytes": 1000,
            "test": {"intent_accuracy": 0.9, "slot_f1": 0.8, "exact_match": 0.7},
            "latency_ms": 1.0,
        },
        "small_good": {
            "file_bytes": 100,
            "test": {"intent_accuracy": 0.89, "slot_f1": 0.8, "exact_match": 0.7},
            "latency_ms": 1.0,
        },
        "small_bad": {
            "file_bytes": 150,
            "test": {"intent_accuracy": 0.5, "slot_f1": 0.4, "exact_match": 0.3},
            "latency_ms": 1.0,
        },
        "peer": {
            "file_bytes": 50,
            "test": {"intent_accuracy": 0.6, "slot_f1": None, "exact_match": None},
            "latency_ms": 0.1,
        },
        "broken": {"error": "RuntimeError: boom"},
    }


def test_ratios_against_the_reference():
    data = rows()
    report.add_ratios(data, "ref")
    assert data["small_good"]["compression"] == pytest.approx(0.9)
    assert data["small_good"]["relative_degradation"]["intent_accuracy"] == pytest.approx(0.01 / 0.9)
    assert data["peer"]["relative_degradation"]["slot_f1"] is None
    assert "compression" not in data["broken"]


def test_pareto_front_keeps_only_undominated_points():
    # small_bad is bigger and worse than small_good; the reference is the most accurate
    assert report.pareto_front({n: r for n, r in rows().items() if "error" not in r}) == [
        "peer",
        "small_good",
        "ref",
    ]
    assert report.pareto_front({n: r for n, r in rows().items() if "error" not in r}, "slot_f1") == [
        "small_good"
    ]


def test_table_reports_failures_and_marks_the_front():
    data = rows()
    report.add_ratios(data, "ref")
    table = report.markdown_table(data, {"ref": "the reference"}, ["small_good"])
    assert "| broken |  | failed: RuntimeError: boom |" in table
    assert "| **small_good** |" in table and "| 90.00% |" in table
    assert "| n/a |" in table  # the peer has no slot F1


def _with_languages(row, en, de):
    row = {**row, "test": {**row["test"]}}
    row["test"]["by_language"] = {
        "en": {"examples": 10, "intent_accuracy": en[0], "slot_f1": en[1]},
        "de": {"examples": 5, "intent_accuracy": de[0], "slot_f1": de[1]},
    }
    return row


def test_the_language_table_names_the_worst_language_of_the_best_file_within_2_percent():
    table_rows = rows()
    del table_rows["broken"]
    table_rows["ref"] = _with_languages(table_rows["ref"], en=(0.9, 0.8), de=(0.9, 0.8))
    table_rows["small_good"] = _with_languages(table_rows["small_good"], en=(0.9, 0.8), de=(0.85, 0.8))
    report.add_ratios(table_rows, "ref")
    table_rows["intent_only_peer"] = {"file_bytes": 10, "test": {"intent_accuracy": 0.9, "slot_f1": None}}
    report.add_ratios(table_rows, "ref")
    # peer and small_bad are > 2% worse; a file without slot F1 is not within, however small
    assert report.best_within(table_rows, "ref") == "small_good"
    text = report.language_table(table_rows, "ref")
    assert "| de | 5 | 0.9000 | 0.8500 | +5.6% |" in text
    assert "Worst language: **de**, +5.6%" in text and "pooled: intent +1.1%, slot F1 +0.0%" in text
    assert report.language_table(rows(), "ref") == ""  # one language: no table
    # among the DPQ files only: small_good is not one, so the most accurate of those named
    table_rows["small_bad"] = _with_languages(table_rows["small_bad"], en=(0.5, 0.4), de=(0.5, 0.4))
    assert report.best_within(table_rows, "ref", among={"small_bad"}) == "small_bad"
    assert "against `small_bad`" in report.language_table(table_rows, "ref", among={"small_bad"})


def test_the_dpq_variants_are_the_ones_whose_run_trains_a_dpq_table():
    from tflnlu.bench.variants import DPQ_VARIANTS

    assert {"dpq_sx_k4_d16_min2", "default_qat_int8", "dpq_sx_k4_d16_min3_int4_hashed"} <= DPQ_VARIANTS
    assert not {"full_fp32", "full_qat_int8", "svd_r16", "lowrank_r16_qat"} & DPQ_VARIANTS


def test_per_language_metrics_are_averaged_over_seeds():
    first = {"en": {"examples": 3, "intent_accuracy": 1.0, "slot_f1": 0.5}}
    second = {"en": {"examples": 3, "intent_accuracy": 0.5, "slot_f1": None}}
    assert report.mean_by_language([first, second]) == {
        "en": {"examples": 3, "intent_accuracy": 0.75, "slot_f1": None}
    }
    assert report.mean_by_language([first, None]) == {}
