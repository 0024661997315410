"""Reference evaluation and language-model metrics (instructor-only): the answers of nb03 TODO 6
(``evaluate``) and nb04 TODO 3 (``lm_loss``, ``perplexity``; ``recurrent_grad_norm`` is in
``rnnlab_reference.probes``)."""
from __future__ import annotations

import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.text import PAD_ID


def perplexity(mean_loss: float) -> float:
    """exp(mean cross-entropy in nats per token); ``inf`` when it overflows."""
    try:
        return math.exp(mean_loss)
    except OverflowError:
        return math.inf


@torch.no_grad()
def evaluate_classifier(model: nn.Module, loader: Iterable, device: torch.device | str = "cpu") -> dict:
    """Mean ``BCEWithLogits`` loss per review and accuracy (0..1) over ``(ids, lengths, labels)`` batches."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for ids, lengths, labels in loader:
        ids, labels = ids.to(device), labels.to(device)
        logits = model(ids, lengths)
        total_loss += float(F.binary_cross_entropy_with_logits(logits, labels, reduction="sum"))
        correct += int(((logits > 0).float() == labels).sum())
        count += labels.numel()
    if count == 0:
        raise ValueError("the evaluation loader is empty")
    return {"loss": total_loss / count, "accuracy": correct / count}


def language_model_loss(logits: torch.Tensor, targets: torch.Tensor, pad_id: int = PAD_ID,
                        reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy of logits (B, T, V) against targets (B, T), ignoring ``pad_id`` targets."""
    if logits.dim() != 3 or logits.shape[:2] != targets.shape:
        raise ValueError(f"logits must be (B, T, V) and targets (B, T); got {tuple(logits.shape)} "
                         f"and {tuple(targets.shape)}")
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           ignore_index=pad_id, reduction=reduction)
