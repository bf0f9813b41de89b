from tflnlu.data.vocab import PAD_ID, UNK_ID, Vocabulary, tag_list


def test_vocabulary_is_deterministic_and_reserves_pad_and_unk(tmp_path):
    vocab = Vocabulary.build([["b", "a", "b"], ["c", "a", "b"]], min_count=2)
    assert vocab.tokens == ["<pad>", "<unk>", "a", "b"]
    assert vocab.ids(["a", "zzz", "b"], max_len=5) == [2, UNK_ID, 3, PAD_ID, PAD_ID]
    assert vocab.ids(["a", "b", "a"], max_len=2) == [2, 3]
    vocab.save(tmp_path / "vocab.txt")
    assert Vocabulary.load(tmp_path / "vocab.txt").tokens == vocab.tokens


def test_max_size_keeps_the_most_frequent_and_counts_the_special_tokens():
    vocab = Vocabulary.build([["c", "b", "c", "a", "b", "c", "é"]], max_size=4)
    assert vocab.tokens == ["<pad>", "<unk>", "b", "c"]  # the two most frequent, in code-point order


def test_tag_list_has_outside_first_then_b_and_i_per_slot():
    assert tag_list([["O", "B-time", "I-time"], ["B-date"]]) == ["O", "B-date", "I-date", "B-time", "I-time"]
