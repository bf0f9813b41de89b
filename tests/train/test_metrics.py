import pytest

from tflnlu.nlu.metrics import dev_score, nlu_metrics


def test_span_f1_is_exact_span_and_type():
    gold = [["B-a", "I-a", "O", "B-b"], ["O", "B-a"]]
    pred = [["B-a", "I-a", "O", "B-a"], ["O", "B-a"]]  # one wrong type
    m = nlu_metrics(["x", "y"], ["x", "z"], gold, pred)
    assert m["slot_precision"] == pytest.approx(2 / 3)
    assert m["slot_recall"] == pytest.approx(2 / 3)
    assert m["slot_f1"] == pytest.approx(2 / 3)
    assert m["intent_accuracy"] == 0.5
    assert m["exact_match"] == 0.0  # first: wrong span type; second: wrong intent


def test_boundary_errors_count_as_misses():
    m = nlu_metrics(["x"], ["x"], [["B-a", "I-a"]], [["B-a", "O"]])
    assert m["slot_f1"] == 0.0 and m["exact_match"] == 0.0


def test_intent_only_data_has_no_slot_f1():
    m = nlu_metrics(["x", "y"], ["x", "y"], [["O"], ["O"]], [["O"], ["O"]])
    assert m["slot_f1"] is None and m["exact_match"] == 1.0
    assert dev_score(m) == 1.0


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        nlu_metrics(["x"], [], [[]], [[]])


def test_one_domain_is_no_domain_head():
    """Data whose examples all share one domain used to build a one-class domain head, which
    Keras' sparse cross-entropy rejects after the run directory was written."""
    from tflnlu.data.example import Example
    from tflnlu.nlu.encode import LabelSet

    one = [Example("a", ("a",), ("O",), f"i{i}", "alarm") for i in range(3)]
    two = [*one, Example("b", ("b",), ("O",), "i9", "weather")]
    assert LabelSet.from_examples(one).domains == []
    assert LabelSet.from_examples(two).domains == ["alarm", "weather"]


def test_a_split_that_mixes_languages_is_also_scored_per_language():
    from tflnlu.data.example import Example
    from tflnlu.nlu.scoring import per_language

    def example(language, intent, tags):
        return Example("x " * len(tags), ("x",) * len(tags), tuple(tags), intent, language=language)

    examples = [
        example("en", "a", ["B-t", "O"]),
        example("en", "b", ["O"]),
        example("de", "a", ["B-t"]),
        example(None, "a", ["O"]),  # without a language: in the pooled numbers only
    ]
    predicted_intents = ["a", "a", "a", "b"]
    predicted_tags = [["B-t", "O"], ["O"], ["O"], ["O"]]
    by_language = per_language(examples, predicted_intents, predicted_tags)
    assert by_language == {
        "de": {"examples": 1, "intent_accuracy": 1.0, "slot_f1": 0.0},
        "en": {"examples": 2, "intent_accuracy": 0.5, "slot_f1": 1.0},
    }
    assert per_language(examples[:2], predicted_intents[:2], predicted_tags[:2]) == {}  # one language


def test_tflnlu_eval_lists_languages_worst_first():
    from tflnlu.cli.eval import format_languages

    text = format_languages(
        {
            "en": {"examples": 1000, "intent_accuracy": 0.9, "slot_f1": 0.8},
            "de": {"examples": 50, "intent_accuracy": 0.7, "slot_f1": None},
        }
    )
    assert text.splitlines()[1].split() == ["de", "50", "utterances", "intent", "0.7000", "slot", "F1", "n/a"]
    assert text.splitlines()[2].split()[:2] == ["en", "1,000"]


def test_unseen_span_f1_scores_only_spans_with_a_word_training_never_had():
    """Gold and predicted spans alike are kept when they hold an unseen word."""
    import numpy as np

    from tflnlu.data.example import Example
    from tflnlu.nlu.encode import LabelSet
    from tflnlu.nlu.scoring import score_outputs, seen_words

    train = [Example("play jazz", ("play", "jazz"), ("O", "B-genre"), "play")]
    test = [
        Example("play zydeco", ("play", "zydeco"), ("O", "B-genre"), "play"),  # unseen, found
        Example("play jazz", ("play", "jazz"), ("O", "B-genre"), "play"),  # seen: not counted
        Example("play polka now", ("play", "polka", "now"), ("O", "B-genre", "O"), "play"),  # unseen, missed
    ]
    labels = LabelSet(["play"], ["O", "B-genre", "I-genre"], [])
    predicted_tags = [[0, 1], [0, 0], [0, 0, 1]]  # the last one predicts "now" (also unseen) as a genre
    slot_logits = np.full((3, 3, 3), -9.0)
    for row, tags in enumerate(predicted_tags):
        for t, tag in enumerate(tags):
            slot_logits[row, t, tag] = 9.0
    metrics = score_outputs(np.zeros((3, 1)), slot_logits, test, labels, seen=seen_words(train))
    assert metrics["unseen_slot_spans"] == 2
    assert metrics["unseen_slot_recall"] == pytest.approx(1 / 2)
    assert metrics["unseen_slot_precision"] == pytest.approx(1 / 2)  # "now" is a wrong unseen span
    assert metrics["unseen_slot_f1"] == pytest.approx(1 / 2)
    assert metrics["slot_recall"] == pytest.approx(1 / 3)  # the seen "jazz" is missed overall
    assert "unseen_slot_f1" not in score_outputs(np.zeros((3, 1)), slot_logits, test, labels)
