from tflnlu.data.vocab import PAD_ID, UNK_ID, Vocabulary, tag_list


def test_vocabulary_is_deterministic_and_reserves_pad_and_unk(tmp_path):
    vocab = Vocabulary.build([["b", "a", "b"], ["c", "a", "b"]], min_count=2)
    assert vocab.tokens == ["<pad>", "<unk>", "b", "a"]
    assert vocab.ids(["a", "zzz", "b"], max_len=5) == [3, UNK_ID, 2, PAD_ID, PAD_ID]
    assert vocab.ids(["a", "b", "a"], max_len=2) == [3, 2]
    vocab.save(tmp_path / "vocab.txt")
    assert Vocabulary.load(tmp_path / "vocab.txt").tokens == vocab.tokens


def test_max_size_counts_the_special_tokens():
    assert len(Vocabulary.build([["a", "b", "c"]], max_size=3)) == 3


def test_tag_list_has_outside_first_then_b_and_i_per_slot():
    assert tag_list([["O", "B-time", "I-time"], ["B-date"]]) == ["O", "B-date", "I-date", "B-time", "I-time"]
