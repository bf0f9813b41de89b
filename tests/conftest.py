"""Shared fixtures: small data sets written by the tests themselves, and the real data when present."""

from __future__ import annotations

from pathlib import Path

import pytest

import tflnlu  # noqa: F401  (sets TF_USE_LEGACY_KERAS before anything imports TensorFlow)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
HWU64 = SHARED_DATA / "hwu64"


def require_hwu64() -> Path:
    if not (HWU64 / "train.jsonl").is_file():
        pytest.skip(f"real data not found at {HWU64} (../shared/data is absent)")
    return HWU64


TINY_MASSIVE = {
    "train": [
        ("alarm_set", "alarm", "wake me up at [time : five am]"),
        ("alarm_set", "alarm", "set an alarm for [time : six pm] [date : tomorrow]"),
        ("alarm_query", "alarm", "what alarms do i have"),
        ("weather_query", "weather", "what is the weather in [place_name : paris]"),
        ("weather_query", "weather", "will it rain [date : today]"),
        ("play_music", "play", "play [artist_name : queen]"),
        ("play_music", "play", "put on some [artist_name : the beatles]"),
        ("alarm_query", "alarm", "list my alarms"),
    ],
    "dev": [
        ("alarm_set", "alarm", "wake me at [time : seven am]"),
        ("weather_query", "weather", "weather in [place_name : rome]"),
    ],
    "test": [
        ("play_music", "play", "play [artist_name : abba]"),
        ("weather_query", "weather", "is it sunny in [place_name : paris] [date : today]"),
    ],
}


def write_massive_dir(directory: Path, splits=TINY_MASSIVE) -> Path:
    import json

    directory.mkdir(parents=True, exist_ok=True)
    for split, rows in splits.items():
        lines = [
            json.dumps(
                {
                    "id": str(i),
                    "locale": "en-US",
                    "partition": split,
                    "scenario": scenario,
                    "intent": intent,
                    "utt": "",
                    "annot_utt": annot,
                }
            )
            for i, (intent, scenario, annot) in enumerate(rows)
        ]
        (directory / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


@pytest.fixture
def tiny_massive(tmp_path: Path) -> Path:
    return write_massive_dir(tmp_path / "tiny")


@pytest.fixture(autouse=True, scope="session")
def _builtin_cache_in_a_temporary_directory(tmp_path_factory):
    """The built-in data set's cache (tflnlu.data.builtin_cache) stays out of the user's home."""
    import os

    from tflnlu.data.builtin_cache import CACHE_DIR_VARIABLE

    previous = os.environ.get(CACHE_DIR_VARIABLE)
    os.environ[CACHE_DIR_VARIABLE] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        os.environ.pop(CACHE_DIR_VARIABLE, None)
    else:
        os.environ[CACHE_DIR_VARIABLE] = previous
