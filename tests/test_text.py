import pytest
import torch

from rnnlab.text import PAD_ID, UNK_ID, Vocabulary, pad_batch, split_whitespace, tokenize, truncate


def test_tokenize_lowercases_and_drops_html():
    assert tokenize("A <b>GREAT</b> film!<br /><br />Really.") == ["a", "great", "film", "!", "really", "."]


def test_tokenize_keeps_contractions_and_splits_symbols():
    assert tokenize("Don't -- 10/10 (sic)") == ["don't", "10", "10", "sic"]


def test_tokenize_rejects_non_text():
    with pytest.raises(TypeError, match="expects a str"):
        tokenize(None)


def test_split_whitespace_keeps_wikitext_tokens():
    assert split_whitespace(" = Valkyria @-@ Chronicles = \n") == ["=", "Valkyria", "@-@", "Chronicles", "="]


def test_vocabulary_specials_cap_and_order():
    vocab = Vocabulary.build([["b", "a", "b", "c"], ["a", "b", "d"]], max_size=5, specials=("<eos>",))
    assert vocab.itos == ["<pad>", "<unk>", "<eos>", "b", "a"]  # b:3, a:2, then c/d cut by the cap
    assert (vocab.stoi["<pad>"], vocab.stoi["<unk>"]) == (PAD_ID, UNK_ID)
    assert vocab.encode(["a", "zzz"]) == [4, UNK_ID]
    assert vocab.decode([3, 1]) == ["b", "<unk>"]


def test_vocabulary_ties_break_alphabetically():
    vocab = Vocabulary.build([["z", "y", "x"]], max_size=10)
    assert vocab.itos[2:] == ["x", "y", "z"]


def test_vocabulary_min_freq():
    assert "rare" not in Vocabulary.build([["rare", "common", "common"]], max_size=10, min_freq=2)


@pytest.mark.parametrize("lists,size,match", [([], 10, "empty text"), ([["a"]], 1, "cannot hold")])
def test_vocabulary_errors(lists, size, match):
    with pytest.raises(ValueError, match=match):
        Vocabulary.build(lists, max_size=size)


def test_truncate_keeps_first_or_last():
    assert truncate([1, 2, 3, 4], 2) == [1, 2]
    assert truncate([1, 2, 3, 4], 2, keep="last") == [3, 4]
    assert truncate([1, 2], 5) == [1, 2]


@pytest.mark.parametrize("max_len", [0, -3, 2.5])
def test_truncate_rejects_non_positive_length(max_len):
    with pytest.raises(ValueError, match="positive int"):
        truncate([1, 2, 3], max_len)


def test_truncate_rejects_unknown_side():
    with pytest.raises(ValueError, match="'first' or 'last'"):
        truncate([1], 1, keep="middle")


def test_pad_batch_right_and_left():
    ids, lengths = pad_batch([[5, 6, 7], [8]])
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]
    ids, lengths = pad_batch([[5, 6, 7], [8]], side="left")
    assert ids.tolist() == [[5, 6, 7], [0, 0, 8]] and lengths.tolist() == [3, 1]
    assert ids.dtype == torch.long


@pytest.mark.parametrize("seqs,match", [([], "no sequences"), ([[1], []], "sequence 1 is empty")])
def test_pad_batch_errors(seqs, match):
    with pytest.raises(ValueError, match=match):
        pad_batch(seqs)
