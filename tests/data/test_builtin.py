from tflnlu.data.builtin import load_builtin
from tflnlu.data.example import bio_spans


def test_builtin_data_set_is_deterministic_and_split_by_template():
    a, b = load_builtin(samples_per_template=2), load_builtin(samples_per_template=2)
    assert a == b
    assert all(a[split] for split in ("train", "dev", "test"))
    assert len({e.intent for e in a["train"]}) >= 30
    train_texts = {e.text for e in a["train"]}
    overlap = sum(e.text in train_texts for e in a["test"]) / len(a["test"])
    assert overlap < 0.2, "test utterances come from templates train never saw"


def test_builtin_examples_carry_slot_spans():
    examples = load_builtin(samples_per_template=2)["train"]
    slot_types = {span[2] for e in examples for span in bio_spans(e.tags)}
    assert {"area", "name", "brightness"} <= slot_types
    for e in examples:
        assert len(e.tokens) == len(e.tags) > 0
