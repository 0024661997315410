"""Text to integer ids: tokenizer, vocabulary, truncation and padding.

Conventions: ``<pad>`` has id 0 and ``<unk>`` id 1 in every vocabulary.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import torch
from torch.nn.utils.rnn import pad_sequence

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1

_HTML_TAG = re.compile(r"<[^>]{0,200}>")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?.,;:]")


def tokenize(text: str) -> list[str]:
    """Split a review into lower-case tokens.

    HTML tags (IMDB's ``<br />``) are removed; words (letters/digits with an optional
    apostrophe suffix such as ``don't``) and the punctuation ``! ? . , ; :`` become
    tokens; every other character separates tokens.
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize expects a str, got {type(text).__name__}")
    return _TOKEN.findall(_HTML_TAG.sub(" ", text).lower())


def split_whitespace(text: str) -> list[str]:
    """Tokens of pre-tokenised text (WikiText-2): a plain whitespace split."""
    return text.split()


class Vocabulary:
    """Token <-> id mapping, most frequent tokens first.

    ``<pad>`` = 0, ``<unk>`` = 1, then ``specials`` (e.g. ``<eos>``), then tokens by
    decreasing count (ties broken alphabetically, so the mapping is deterministic).
    ``max_size`` caps the total size, specials included.
    """

    def __init__(self, itos: Sequence[str]):
        if len(itos) < 2 or itos[PAD_ID] != PAD or itos[UNK_ID] != UNK:
            raise ValueError("a Vocabulary must start with '<pad>', '<unk>'")
        if len(set(itos)) != len(itos):
            raise ValueError("a Vocabulary's tokens must be unique")
        self.itos: list[str] = list(itos)
        self.stoi: dict[str, int] = {token: i for i, token in enumerate(self.itos)}

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], max_size: int,
              min_freq: int = 1, specials: Sequence[str] = ()) -> Vocabulary:
        """Count tokens over ``token_lists`` and keep the ``max_size`` most frequent.

        Raises ValueError when ``max_size`` cannot hold the specials or nothing was counted.
        """
        head = [PAD, UNK, *[s for s in specials if s not in (PAD, UNK)]]
        if max_size < len(head):
            raise ValueError(f"max_size={max_size} cannot hold the special tokens {head}")
        counts = Counter(token for tokens in token_lists for token in tokens)
        for special in head:
            counts.pop(special, None)
        if not counts:
            raise ValueError("cannot build a vocabulary from empty text: check that the data loaded")
        ranked = sorted((t for t, c in counts.items() if c >= min_freq),
                        key=lambda t: (-counts[t], t))
        return cls(head + ranked[: max_size - len(head)])

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of ``tokens``; unknown tokens map to ``<unk>`` (1)."""
        return [self.stoi.get(token, UNK_ID) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids``."""
        return [self.itos[int(i)] for i in ids]


def truncate(ids: Sequence[int], max_len: int, keep: str = "first") -> list[int]:
    """Keep the first (``keep="first"``) or the last (``keep="last"``) ``max_len`` ids."""
    if not isinstance(max_len, int) or max_len <= 0:
        raise ValueError(f"max_len must be a positive int, got {max_len!r}")
    if keep == "first":
        return list(ids[:max_len])
    if keep == "last":
        return list(ids[-max_len:])
    raise ValueError(f"keep must be 'first' or 'last', got {keep!r}")


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int = PAD_ID,
              side: str = "right") -> tuple[torch.Tensor, torch.Tensor]:
    """Pad id sequences into one tensor and keep their true lengths.

    Returns ``ids`` of shape (B, T_max) (int64) and ``lengths`` of shape (B,) (int64).
    ``side="right"`` puts the pads after the text (use the lengths, e.g. packing, so
    that pads never reach the final state); ``side="left"`` puts them before it, so the
    last column is every sequence's last real token.
    Raises ValueError for an empty batch or an empty sequence.
    """
    if len(sequences) == 0:
        raise ValueError("pad_batch got no sequences")
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
    if int(lengths.min()) <= 0:
        empty = int((lengths <= 0).nonzero()[0])
        raise ValueError(f"sequence {empty} is empty: drop empty texts before batching")
    if side not in ("right", "left"):
        raise ValueError(f"side must be 'right' or 'left', got {side!r}")
    tensors = [torch.as_tensor(s, dtype=torch.long) for s in sequences]
    if side == "left":
        tensors = [t.flip(0) for t in tensors]
    ids = pad_sequence(tensors, batch_first=True, padding_value=pad_id)
    return (ids.flip(1) if side == "left" else ids), lengths
