"""Batches for training: padded review batches with lengths, and language-model windows.

Language-model batching follows the standard truncated-BPTT recipe (pytorch/examples
``word_language_model``): the token stream is cut into ``batch_size`` contiguous rows,
and each batch is the next non-overlapping window of ``seq_len`` columns, so every token
is a target exactly once per epoch. Carry the hidden state from one window to the next
and detach it (``rnnlab.models.detach_state``). The stride-1 overlapping windows some
tutorials use cost ``seq_len`` times more compute per epoch for the same text.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial

import torch
from torch.utils.data import DataLoader, Dataset

from .runtime import seeded_generator
from .synthetic import Reviews
from .text import PAD_ID, Vocabulary, pad_batch, split_whitespace, tokenize, truncate

EOS = "<eos>"


class EncodedReviews(Dataset):
    """Reviews already converted to ids: item ``i`` is ``(ids (L_i,) int64 tensor, label: int)``.

    ids: one sequence of token ids per review (e.g. from a notebook's own ``text_to_indices``);
    labels: one label per review, in {0, 1}.
    Raises ValueError for an empty data set, mismatched lengths or a review with no ids.
    """

    def __init__(self, ids: Sequence[Sequence[int]], labels: Sequence[int]):
        if len(ids) == 0:
            raise ValueError("no reviews: check the data source and n_reviews")
        if len(ids) != len(labels):
            raise ValueError(f"{len(ids)} id sequences but {len(labels)} labels")
        empty = [i for i, seq in enumerate(ids) if len(seq) == 0]
        if empty:
            raise ValueError(f"reviews {empty[:5]} have no tokens after cleaning: remove them first")
        self.ids = [torch.as_tensor(seq, dtype=torch.long) for seq in ids]
        self.labels = [int(label) for label in labels]

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.ids[i], self.labels[i]


class ReviewDataset(EncodedReviews):
    """Reviews encoded once with ``tokenizer`` and ``vocab``: items as ``EncodedReviews``.

    max_len: keep at most this many tokens per review, the first or the last (``keep``).
    Raises ValueError for an empty data set or a review with no tokens.
    """

    def __init__(self, reviews: Reviews, vocab: Vocabulary, max_len: int, keep: str = "first",
                 tokenizer: Callable[[str], list[str]] = tokenize):
        encoded = [truncate(vocab.encode(tokenizer(text)), max_len, keep) for text in reviews.texts]
        super().__init__(encoded, reviews.labels)


def collate_reviews(batch: Sequence[tuple[Sequence[int], int]], side: str = "right"
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Stack ``(ids, label)`` items into ``ids`` (B, T_max) int64, ``lengths`` (B,) int64,
    ``labels`` (B,) float32; padding on ``side`` (see ``rnnlab.text.pad_batch``)."""
    ids, lengths = pad_batch([item[0] for item in batch], side=side)
    labels = torch.tensor([float(item[1]) for item in batch], dtype=torch.float32)
    return ids, lengths, labels


def review_loader(dataset: ReviewDataset, batch_size: int, shuffle: bool = False, seed: int = 0,
                  side: str = "right") -> DataLoader:
    """A DataLoader of ``(ids, lengths, labels)`` batches; shuffling is seeded by ``seed``."""
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                      generator=seeded_generator(seed) if shuffle else None,
                      collate_fn=partial(collate_reviews, side=side))


def encode_lines(lines: Sequence[str], vocab: Vocabulary,
                 tokenizer: Callable[[str], list[str]] = split_whitespace) -> torch.Tensor:
    """One token stream (N,) int64: each non-blank line's ids followed by ``<eos>``.

    ``<eos>`` must be in the vocabulary (build it with ``specials=("<eos>",)``).
    """
    if EOS not in vocab:
        raise ValueError("the vocabulary has no '<eos>': build it with specials=('<eos>',)")
    eos = vocab.stoi[EOS]
    ids: list[int] = []
    for line in lines:
        tokens = tokenizer(line)
        if tokens:
            ids.extend(vocab.encode(tokens))
            ids.append(eos)
    if not ids:
        raise ValueError("no tokens in these lines: check the data source")
    return torch.tensor(ids, dtype=torch.long)


def batchify(stream: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Cut a token stream (N,) into ``batch_size`` contiguous rows: (batch_size, N // batch_size).

    The last ``N % batch_size`` tokens are dropped. Row ``b`` continues where its own
    previous window ended, which is what lets the hidden state carry over.
    """
    if stream.dim() != 1:
        raise ValueError(f"stream must be 1-D (N,), got shape {tuple(stream.shape)}")
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    width = stream.numel() // batch_size
    if width < 2:
        raise ValueError(f"{stream.numel()} tokens are too few for batch_size={batch_size}: "
                         "each row needs at least 2 tokens (use more text or a smaller batch)")
    return stream[: width * batch_size].view(batch_size, width)


class LanguageModelBatches:
    """Non-overlapping truncated-BPTT windows over a batchified stream.

    rows: (B, W) from ``batchify``. Iterating yields ``(x, y)``, both (B, L) int64 with
    ``y`` = ``x`` shifted by one token; L = ``seq_len`` except for a shorter last window.
    Every column but the first is a target exactly once: ``len(self)`` = ceil((W-1)/seq_len).
    """

    def __init__(self, rows: torch.Tensor, seq_len: int):
        if rows.dim() != 2 or rows.shape[1] < 2:
            raise ValueError(f"rows must be (B, W) with W >= 2 (from batchify), got {tuple(rows.shape)}")
        if not isinstance(seq_len, int) or seq_len <= 0:
            raise ValueError(f"seq_len must be a positive int, got {seq_len!r}")
        self.rows, self.seq_len = rows, seq_len

    def __len__(self) -> int:
        return -(-(self.rows.shape[1] - 1) // self.seq_len)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        width = self.rows.shape[1]
        for start in range(0, width - 1, self.seq_len):
            stop = min(start + self.seq_len, width - 1)
            yield self.rows[:, start:stop], self.rows[:, start + 1:stop + 1]

    @property
    def n_targets(self) -> int:
        """Target tokens per epoch: B * (W - 1)."""
        return self.rows.shape[0] * (self.rows.shape[1] - 1)


def language_model_batches(lines: Sequence[str], vocab: Vocabulary, batch_size: int,
                           seq_len: int) -> LanguageModelBatches:
    """``encode_lines`` + ``batchify`` + ``LanguageModelBatches`` in one call."""
    return LanguageModelBatches(batchify(encode_lines(lines, vocab), batch_size), seq_len)


__all__ = ["EOS", "PAD_ID", "ReviewDataset", "collate_reviews", "review_loader", "encode_lines",
           "batchify", "LanguageModelBatches", "language_model_batches"]
