"""Training loops with progress bars, clipping and per-step gradient logs.

Every step logs the loss and, given a ``grad_norm_fn`` (a notebook's own), the norm of the
recurrent-weight gradient *before* clipping, so clipping never hides what the gradient did.
The language-model loop takes the loss as an argument: the loss, perplexity and gradient norm
are graded TODOs (nb04), whose references live in the instructor-only ``rnnlab_reference``.
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
from .text import PAD_ID


@dataclass
class History:
    """Logs of one training run.

    step_loss: training loss of every optimiser step (mean over the batch's targets).
    step_grad_norm: recurrent-weight gradient norm of every step, before clipping (when measured).
    epochs: one dict per epoch (``train_loss``, ``seconds``, and ``val_*`` when evaluated).
    """

    step_loss: list[float] = field(default_factory=list)
    step_grad_norm: list[float] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)

    def log_step(self, loss_value: float, grad_norm: float | None) -> None:
        """Record one optimiser step: its loss, and its gradient norm when one was measured."""
        self.step_loss.append(loss_value)
        if grad_norm is not None:
            self.step_grad_norm.append(grad_norm)

    def last(self, key: str) -> float:
        """The value of ``key`` in the last epoch's record."""
        return self.epochs[-1][key]


def _exp(mean_loss: float) -> float:
    """exp of a mean loss for the logs; ``inf`` when it overflows."""
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
                   clip: float | None, grad_norm_fn=None) -> float | None:
    """Backward, read the recurrent gradient norm, clip the global norm to ``clip``, step.

    Returns ``grad_norm_fn(model)`` read before clipping (a notebook's own measure of the
    recurrent-weight gradient), or None without one.
    """
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = None if grad_norm_fn is None else float(grad_norm_fn(model))
    if clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimiser.step()
    return grad_norm


def _postfix(bar, loss_value: float, grad_norm: float | None, **more) -> None:
    extra = {} if grad_norm is None else {"grad_hh": f"{grad_norm:.2e}"}
    bar.set_postfix(loss=f"{loss_value:.3f}", **more, **extra, refresh=False)


def train_classifier(model: nn.Module, train_loader: Iterable, epochs: int, lr: float, clip: float | None = None,
                     device: torch.device | str = "cpu", progress: bool = True, desc: str = "train",
                     grad_norm_fn=None) -> History:
    """Train a classifier of ``(ids (B,T), lengths (B,)) -> logits (B,)`` with Adam and BCE.

    Each epoch's record holds the per-review mean ``train_loss`` and ``seconds``; with
    ``grad_norm_fn(model)`` every step's value before clipping goes to ``step_grad_norm``.
    """
    optimiser, history = _start_training(model, epochs, lr, clip, device)
    for epoch in range(1, epochs + 1):
        model.train()
        started, total, count = time.perf_counter(), 0.0, 0
        bar = tqdm(train_loader, desc=f"{desc} epoch {epoch}/{epochs}", disable=not progress, leave=False)
        for ids, lengths, labels in bar:
            ids, labels = ids.to(device), labels.to(device)
            loss = F.binary_cross_entropy_with_logits(model(ids, lengths), labels)
            grad_norm = optimiser_step(model, optimiser, loss, clip, grad_norm_fn)
            loss_value = loss.detach().item()
            history.log_step(loss_value, grad_norm)
            total, count = total + loss_value * labels.numel(), count + labels.numel()
            _postfix(bar, loss_value, grad_norm)
        history.epochs.append({"epoch": epoch, "train_loss": total / max(count, 1),
                               "seconds": time.perf_counter() - started})
    return history


@torch.no_grad()
def evaluate_language_model(model: RecurrentLanguageModel, batches: Iterable, loss_fn,
                            device: torch.device | str = "cpu", pad_id: int = PAD_ID) -> dict:
    """Token-weighted mean loss (nats per token) and its exp, ``perplexity``, over ``(x, y)``
    windows, carrying the state across windows. ``loss_fn(logits (B, T, V), targets (B, T))``
    is the mean over the window's non-pad targets (the notebook's own)."""
    model.eval()
    total, tokens, state = 0.0, 0, None
    for x, y in batches:
        x, y = x.to(device), y.to(device)
        logits, state = model(x, state)
        n = int((y != pad_id).sum())
        if n:
            total += float(loss_fn(logits, y)) * n
        tokens += n
    if tokens == 0:
        raise ValueError("no target tokens to evaluate on")
    return {"loss": total / tokens, "perplexity": _exp(total / tokens)}


def train_language_model(model: RecurrentLanguageModel, train_batches: Iterable, epochs: int, lr: float,
                         loss_fn, valid_batches: Iterable | None = None, clip: float | None = 1.0,
                         device: torch.device | str = "cpu", progress: bool = True, desc: str = "train",
                         pad_id: int = PAD_ID, grad_norm_fn=None) -> History:
    """Truncated BPTT with Adam: the state is carried across windows and detached between them.

    ``model(x, state) -> (logits (B, T, V), state)``; ``loss_fn(logits, targets)`` is the mean
    over non-pad targets and ``grad_norm_fn(model)`` the recurrent-gradient norm (both the
    notebook's own). Each epoch's record holds token-weighted ``train_loss``,
    ``train_perplexity`` (its exp), ``seconds`` and, with ``valid_batches``, ``val_loss`` and
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
            loss = loss_fn(logits, y)
            grad_norm = optimiser_step(model, optimiser, loss, clip, grad_norm_fn)
            n = int((y != pad_id).sum())
            loss_value = loss.detach().item()
            history.log_step(loss_value, grad_norm)
            total, tokens = total + loss_value * n, tokens + n
            _postfix(bar, loss_value, grad_norm, ppl=f"{_exp(loss_value):.1f}")
        mean = total / max(tokens, 1)
        record = {"epoch": epoch, "train_loss": mean, "train_perplexity": _exp(mean),
                  "seconds": time.perf_counter() - started}
        if valid_batches is not None:
            scores = evaluate_language_model(model, valid_batches, loss_fn, device, pad_id)
            record.update(val_loss=scores["loss"], val_perplexity=scores["perplexity"])
        history.epochs.append(record)
    return history
