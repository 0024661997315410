import pytest
import torch

from rnnlab.loaders import (
    EOS,
    EncodedReviews,
    LanguageModelBatches,
    ReviewDataset,
    batchify,
    encode_lines,
    language_model_batches,
    review_loader,
)
from rnnlab.synthetic import Reviews
from rnnlab.text import Vocabulary, tokenize

REVIEWS = Reviews(["a good film", "bad <br /> bad bad film indeed", "good"], [1, 0, 1])


def vocab_for(texts, specials=()):
    return Vocabulary.build([tokenize(t) for t in texts], max_size=50, specials=specials)


def test_review_batches_keep_lengths_and_labels():
    vocab = vocab_for(REVIEWS.texts)
    dataset = ReviewDataset(REVIEWS, vocab, max_len=4)
    ids, lengths, labels = next(iter(review_loader(dataset, batch_size=3)))
    assert ids.shape == (3, 4) and lengths.tolist() == [3, 4, 1]
    assert labels.dtype == torch.float32 and labels.tolist() == [1.0, 0.0, 1.0]
    assert ids[0].tolist()[:3] == vocab.encode(["a", "good", "film"]) and ids[0, 3] == 0


def test_review_dataset_keeps_last_tokens():
    vocab = vocab_for(REVIEWS.texts)
    dataset = ReviewDataset(REVIEWS, vocab, max_len=2, keep="last")
    assert dataset[1][0].tolist() == vocab.encode(["film", "indeed"])


def test_left_padding_puts_last_tokens_in_last_column():
    vocab = vocab_for(REVIEWS.texts)
    ids, _, _ = next(iter(review_loader(ReviewDataset(REVIEWS, vocab, 10), 3, side="left")))
    assert ids[:, -1].tolist() == vocab.encode(["film", "indeed", "good"])


def test_shuffling_is_seeded():
    vocab = vocab_for(REVIEWS.texts)
    dataset = ReviewDataset(Reviews(REVIEWS.texts * 10, REVIEWS.labels * 10), vocab, 10)

    def order(seed):
        return [ids.tolist() for ids, _, _ in review_loader(dataset, 4, shuffle=True, seed=seed)]

    assert order(7) == order(7) and order(7) != order(8)


def test_review_dataset_errors():
    vocab = vocab_for(REVIEWS.texts)
    with pytest.raises(ValueError, match="no reviews"):
        ReviewDataset(Reviews([], []), vocab, 5)
    with pytest.raises(ValueError, match=r"reviews \[1\] have no tokens"):
        ReviewDataset(Reviews(["good", "<br />"], [1, 0]), vocab, 5)
    with pytest.raises(ValueError, match="positive int"):
        ReviewDataset(REVIEWS, vocab, 0)
    with pytest.raises(ValueError, match="batch_size"):
        review_loader(ReviewDataset(REVIEWS, vocab, 5), 0)


def test_encoded_reviews_batch_like_review_dataset():
    vocab = vocab_for(REVIEWS.texts)
    own = EncodedReviews([vocab.encode(tokenize(t))[:4] for t in REVIEWS.texts], REVIEWS.labels)
    ours = next(iter(review_loader(own, batch_size=3)))
    reference = next(iter(review_loader(ReviewDataset(REVIEWS, vocab, max_len=4), batch_size=3)))
    for a, b in zip(ours, reference):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="2 id sequences but 1 labels"):
        EncodedReviews([[2], [3]], [1])
    with pytest.raises(ValueError, match=r"reviews \[0\] have no tokens"):
        EncodedReviews([[], [3]], [1, 0])


def test_encode_lines_appends_eos_and_skips_blank_lines():
    lines = [" the cat ", "", " sat "]
    vocab = Vocabulary.build([line.split() for line in lines], 20, specials=(EOS,))
    assert vocab.decode(encode_lines(lines, vocab)) == ["the", "cat", EOS, "sat", EOS]
    with pytest.raises(ValueError, match="no '<eos>'"):
        encode_lines(lines, Vocabulary.build([["x"]], 5))


def test_batchify_makes_contiguous_rows():
    rows = batchify(torch.arange(11), 3)
    assert rows.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    with pytest.raises(ValueError, match="too few"):
        batchify(torch.arange(5), 3)
    with pytest.raises(ValueError, match="1-D"):
        batchify(torch.zeros(2, 2), 1)


def test_windows_do_not_overlap_and_use_each_target_once():
    rows = batchify(torch.arange(2 * 23), 2)  # two rows of 23 tokens
    windows = LanguageModelBatches(rows, seq_len=5)
    pairs = list(windows)
    assert len(pairs) == len(windows) == 5  # ceil(22 / 5)
    assert [x.shape[1] for x, _ in pairs] == [5, 5, 5, 5, 2]
    for x, y in pairs:
        torch.testing.assert_close(y, x + 1)  # y is x shifted by one token
    targets = torch.cat([y for _, y in pairs], dim=1)
    torch.testing.assert_close(targets, rows[:, 1:])
    assert windows.n_targets == targets.numel() == 44
    inputs = torch.cat([x for x, _ in pairs], dim=1)
    torch.testing.assert_close(inputs, rows[:, :-1])  # consecutive windows continue each row


def test_language_model_batches_errors():
    with pytest.raises(ValueError, match="seq_len"):
        LanguageModelBatches(torch.zeros(2, 5, dtype=torch.long), 0)
    with pytest.raises(ValueError, match="from batchify"):
        LanguageModelBatches(torch.zeros(5, dtype=torch.long), 2)


def test_language_model_batches_end_to_end():
    lines = ["a b c d", "e f g h"] * 3
    vocab = Vocabulary.build([line.split() for line in lines], 20, specials=(EOS,))
    windows = language_model_batches(lines, vocab, batch_size=2, seq_len=4)
    assert windows.rows.shape == (2, 15) and len(windows) == 4
