"""Training and evaluation loops with progress bars, clipping and per-step gradient logs.

Every step logs the loss and the L2 norm of the recurrent-weight gradient (``weight_hh``)
*before* clipping, so clipping never hides what the gradient did.
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .models import RecurrentLanguageModel, detach_state
from .probes import recurrent_grad_norm
from .text import PAD_ID


@dataclass
class History:
    """Logs of one training run.

    step_loss: training loss of every optimiser step (mean over the batch's targets).
    step_grad_norm: recurrent-weight gradient norm of every step, before clipping.
    epochs: one dict per epoch (``train_loss``, ``seconds``, and ``val_*`` when evaluated).
    """

    step_loss: list[float] = field(default_factory=list)
    step_grad_norm: list[float] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)

    def last(self, key: str) -> float:
        """The value of ``key`` in the last epoch's record."""
        return self.epochs[-1][key]


def perplexity(mean_loss: float) -> float:
    """exp(mean cross-entropy in nats per token); ``inf`` when it overflows."""
    try:
        return math.exp(mean_loss)
    except OverflowError:
        return math.inf


def _start_training(model: nn.Module, epochs: int, lr: float, clip: float | None,
                    device: torch.device | str) -> tuple[torch.optim.Optimizer, History]:
    """Check the schedule, move the model, and return a fresh Adam optimiser and History."""
    if not isinstance(epochs, int) or epochs <= 0:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    if clip is not None and not clip > 0:
        raise ValueError(f"clip must be positive or None, got {clip!r}")
    model.to(device)
    return torch.optim.Adam(model.parameters(), lr=lr), History()


def optimiser_step(model: nn.Module, optimiser: torch.optim.Optimizer, loss: torch.Tensor,
                   clip: float | None, grad_norm_fn=recurrent_grad_norm) -> float:
    """Backward, read the recurrent gradient norm, clip the global norm to ``clip``, step.

    Returns the recurrent-weight gradient norm before clipping, as ``grad_norm_fn(model)``
    measures it (default ``rnnlab.probes.recurrent_grad_norm``).
    """
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = float(grad_norm_fn(model))
    if clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimiser.step()
    return grad_norm


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


def train_classifier(model: nn.Module, train_loader: Iterable, epochs: int, lr: float,
                     val_loader: Iterable | None = None, clip: float | None = None,
                     device: torch.device | str = "cpu", progress: bool = True, desc: str = "train"
                     ) -> History:
    """Train a classifier of ``(ids (B,T), lengths (B,)) -> logits (B,)`` with Adam and BCE.

    Each epoch's record holds ``train_loss``, ``seconds`` and, with ``val_loader``,
    ``val_loss`` and ``val_accuracy``.
    """
    optimiser, history = _start_training(model, epochs, lr, clip, device)
    for epoch in range(1, epochs + 1):
        model.train()
        started, total, count = time.perf_counter(), 0.0, 0
        bar = tqdm(train_loader, desc=f"{desc} epoch {epoch}/{epochs}", disable=not progress, leave=False)
        for ids, lengths, labels in bar:
            ids, labels = ids.to(device), labels.to(device)
            loss = F.binary_cross_entropy_with_logits(model(ids, lengths), labels)
            grad_norm = optimiser_step(model, optimiser, loss, clip)
            loss_value = loss.detach().item()
            history.step_loss.append(loss_value)
            history.step_grad_norm.append(grad_norm)
            total, count = total + loss_value * labels.numel(), count + labels.numel()
            bar.set_postfix(loss=f"{loss_value:.3f}", grad_hh=f"{grad_norm:.2e}", refresh=False)
        record = {"epoch": epoch, "train_loss": total / max(count, 1), "seconds": time.perf_counter() - started}
        if val_loader is not None:
            scores = evaluate_classifier(model, val_loader, device)
            record.update(val_loss=scores["loss"], val_accuracy=scores["accuracy"])
        history.epochs.append(record)
    return history


def language_model_loss(logits: torch.Tensor, targets: torch.Tensor, pad_id: int = PAD_ID,
                        reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy of logits (B, T, V) against targets (B, T), ignoring ``pad_id`` targets."""
    if logits.dim() != 3 or logits.shape[:2] != targets.shape:
        raise ValueError(f"logits must be (B, T, V) and targets (B, T); got {tuple(logits.shape)} "
                         f"and {tuple(targets.shape)}")
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           ignore_index=pad_id, reduction=reduction)


@torch.no_grad()
def evaluate_language_model(model: RecurrentLanguageModel, batches: Iterable, device: torch.device | str = "cpu",
                            pad_id: int = PAD_ID) -> dict:
    """Token-weighted mean loss (nats per token) and perplexity over ``(x, y)`` windows,
    carrying the state across windows."""
    model.eval()
    total, tokens, state = 0.0, 0, None
    for x, y in batches:
        x, y = x.to(device), y.to(device)
        logits, state = model(x, state)
        total += float(language_model_loss(logits, y, pad_id, reduction="sum"))
        tokens += int((y != pad_id).sum())
    if tokens == 0:
        raise ValueError("no target tokens to evaluate on")
    return {"loss": total / tokens, "perplexity": perplexity(total / tokens)}


def train_language_model(model: RecurrentLanguageModel, train_batches: Iterable, epochs: int, lr: float,
                         valid_batches: Iterable | None = None, clip: float | None = 1.0,
                         device: torch.device | str = "cpu", progress: bool = True, desc: str = "train",
                         pad_id: int = PAD_ID, loss_fn=None, grad_norm_fn=recurrent_grad_norm) -> History:
    """Truncated BPTT with Adam: the state is carried across windows and detached between them.

    ``model(x, state) -> (logits (B, T, V), state)``; ``loss_fn(logits, targets)`` (default
    ``language_model_loss``, mean over non-pad targets) and ``grad_norm_fn(model)`` can be a
    notebook's own. Each epoch's record holds token-weighted ``train_loss``,
    ``train_perplexity``, ``seconds`` and, with ``valid_batches``, ``val_loss`` and
    ``val_perplexity``.
    """
    optimiser, history = _start_training(model, epochs, lr, clip, device)
    for epoch in range(1, epochs + 1):
        model.train()
        started, total, tokens, state = time.perf_counter(), 0.0, 0, None
        bar = tqdm(train_batches, desc=f"{desc} epoch {epoch}/{epochs}", disable=not progress, leave=False)
        for x, y in bar:
            x, y = x.to(device), y.to(device)
            logits, state = model(x, detach_state(state))
            loss = loss_fn(logits, y) if loss_fn else language_model_loss(logits, y, pad_id)
            grad_norm = optimiser_step(model, optimiser, loss, clip, grad_norm_fn)
            n = int((y != pad_id).sum())
            loss_value = loss.detach().item()
            history.step_loss.append(loss_value)
            history.step_grad_norm.append(grad_norm)
            total, tokens = total + loss_value * n, tokens + n
            bar.set_postfix(loss=f"{loss_value:.3f}", ppl=f"{perplexity(loss_value):.1f}",
                            grad_hh=f"{grad_norm:.2e}", refresh=False)
        mean = total / max(tokens, 1)
        record = {"epoch": epoch, "train_loss": mean, "train_perplexity": perplexity(mean),
                  "seconds": time.perf_counter() - started}
        if valid_batches is not None:
            scores = evaluate_language_model(model, valid_batches, device, pad_id)
            record.update(val_loss=scores["loss"], val_perplexity=scores["perplexity"])
        history.epochs.append(record)
    return history
