import itertools

import numpy as np

from tflnlu.nlu.decoding import allowed_transitions, log_softmax, viterbi_bio

TAGS = ["O", "B-a", "I-a", "B-b", "I-b"]


def is_valid(tag_ids):
    start, transition = allowed_transitions(TAGS)
    return start[tag_ids[0]] and all(transition[x, y] for x, y in itertools.pairwise(tag_ids))


def test_argmax_fragment_is_repaired():
    # argmax would give O, I-a: an I- with no B-
    log_probs = np.log(np.array([[0.6, 0.3, 0.0, 0.1, 0.0], [0.1, 0.0, 0.8, 0.1, 0.0]]) + 1e-9)
    best = viterbi_bio(log_probs, TAGS)
    assert is_valid(best)
    assert [TAGS[i] for i in best] == ["B-a", "I-a"]


def test_viterbi_is_the_best_valid_sequence_by_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(20):
        log_probs = log_softmax(rng.normal(size=(4, len(TAGS))))
        valid = [seq for seq in itertools.product(range(len(TAGS)), repeat=4) if is_valid(seq)]
        brute = max(valid, key=lambda seq: sum(log_probs[t, s] for t, s in enumerate(seq)))
        assert tuple(viterbi_bio(log_probs, TAGS)) == brute


def test_empty_utterance():
    assert viterbi_bio(np.zeros((0, len(TAGS))), TAGS) == []
