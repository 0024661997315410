r"""Tools for reading recurrent weights and gradient curves: gate blocks, spectral statistics,
decay fits, and the recurrent-weight gradient split by lag.

Nothing here computes a graded TODO's answer: the per-step probes that the notebooks ask
students to write live in the instructor-only ``rnnlab_reference`` (never exported).
``recurrent_grad_by_lag`` steps the *fused* module one step at a time (``torch.func.functional_call``
with a fresh copy of ``W_hh`` per step), so it holds no hand-written recurrence either.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

GATE_NAMES = {nn.RNN: ("h",), nn.LSTM: ("i", "f", "g", "o"), nn.GRU: ("r", "z", "n")}


def check_module(rnn: nn.Module) -> None:
    """Raise ValueError unless ``rnn`` is a one-layer, unidirectional, batch-first fused
    ``nn.RNN``/``nn.LSTM``/``nn.GRU`` without projection (what the lag analysis can step)."""
    if type(rnn) not in GATE_NAMES:
        raise ValueError(f"expected nn.RNN, nn.LSTM or nn.GRU, got {type(rnn).__name__}")
    if rnn.num_layers != 1 or rnn.bidirectional or getattr(rnn, "proj_size", 0):
        raise ValueError("one unidirectional layer without projection is supported; "
                         f"got num_layers={rnn.num_layers}, bidirectional={rnn.bidirectional}")
    if not rnn.batch_first:
        raise ValueError("expected a batch_first module (rnnlab.models.make_recurrent builds one)")


def gate_blocks(rnn: nn.Module) -> dict[str, torch.Tensor]:
    """The square (H, H) blocks of ``weight_hh_l0`` by gate: RNN ``h``; LSTM ``i f g o``; GRU ``r z n``."""
    check_module(rnn)
    names = GATE_NAMES[type(rnn)]
    return dict(zip(names, rnn.weight_hh_l0.detach().chunk(len(names), dim=0)))


@dataclass(frozen=True)
class SpectralStats:
    """Spectral radius (largest |eigenvalue|) and largest singular value of a square matrix."""

    spectral_radius: float
    largest_singular_value: float


def spectral_stats(weight) -> SpectralStats:
    """Spectral statistics of a square recurrent matrix (NumPy array or tensor, (H, H)).

    For an LSTM or GRU, ``weight_hh`` stacks one block per gate: pass one block from
    ``gate_blocks``. Raises ValueError for a non-square matrix.
    """
    matrix = weight.detach().cpu().double().numpy() if isinstance(weight, torch.Tensor) else np.asarray(weight, float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"need a square (H, H) matrix, got shape {matrix.shape}; for an LSTM/GRU "
                         "weight_hh pass one gate's block from rnnlab.probes.gate_blocks")
    return SpectralStats(float(np.max(np.abs(np.linalg.eigvals(matrix)))),
                         float(np.linalg.norm(matrix, ord=2)))


@dataclass(frozen=True)
class DecayFit:
    """A least-squares line through log10(norm) against step.

    orders_per_10_steps: orders of magnitude the norm loses per 10 steps going back in
    time from the loss (positive: vanishing; negative: exploding).
    slope, intercept: of log10(norm) = slope * step + intercept. n_points: points used.
    """

    orders_per_10_steps: float
    slope: float
    intercept: float
    n_points: int


def fit_decay(norms, steps=None) -> DecayFit:
    """Fit the decay rate of per-step gradient norms (T,), indexed so the loss is at the end.

    steps: the step of each norm (default 0..T-1). Zero, negative and non-finite norms
    (underflow, padding, NaN) are left out; raises ValueError if fewer than 2 remain.
    """
    values = np.asarray(norms.detach().cpu() if isinstance(norms, torch.Tensor) else norms, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"norms must be 1-D (T,), got shape {values.shape}")
    x = np.arange(len(values), dtype=float) if steps is None else np.asarray(steps, dtype=float)
    if x.shape != values.shape:
        raise ValueError(f"steps has shape {x.shape} but norms has {values.shape}")
    keep = np.isfinite(values) & (values > 0)
    if keep.sum() < 2:
        raise ValueError("need at least 2 positive finite norms to fit a decay rate")
    slope, intercept = np.polyfit(x[keep], np.log10(values[keep]), 1)
    return DecayFit(10.0 * float(slope), float(slope), float(intercept), int(keep.sum()))


def recurrent_grad_by_lag(model: nn.Module, x: torch.Tensor, y: torch.Tensor, state=None,
                          pad_id: int = 0) -> torch.Tensor:
    r"""Split a language model's recurrent-weight gradient by how far back it reaches.

    model: ``RecurrentLanguageModel`` (one layer, any kind); x, y: (B, T) input and target ids;
    L = mean cross-entropy over the non-pad targets (as in training). Every step gets its own
    copy of ``W_hh``, so autograd separates the term that the loss at step t sends through
    the use of ``W_hh`` at step s. Returns (T, *W_hh.shape): entry k is the sum over t of the
    terms with t - s = k, the part of :math:`\partial L/\partial W_{hh}` that reaches back k
    steps. The entries sum to :math:`\partial L/\partial W_{hh}`. Costs T backward passes.
    """
    module = model.rnn
    check_module(module)
    steps = x.shape[1]
    weights = [module.weight_hh_l0.detach().clone().requires_grad_(True) for _ in range(steps)]
    params = dict(module.named_parameters())
    embedded = model.embedding(x)
    hidden = []
    for t in range(steps):  # the fused module itself, one step at a time, with step t's copy of W_hh
        output, state = functional_call(module, {**params, "weight_hh_l0": weights[t]}, (embedded[:, t:t + 1], state))
        hidden.append(output[:, 0])
    count = (y != pad_id).sum().clamp(min=1)
    by_lag = torch.zeros(steps, *module.weight_hh_l0.shape, dtype=module.weight_hh_l0.dtype, device=x.device)
    for t in range(steps):
        loss_t = F.cross_entropy(model.decoder(hidden[t]), y[:, t], ignore_index=pad_id, reduction="sum") / count
        if not loss_t.requires_grad:
            continue
        grads = torch.autograd.grad(loss_t, weights[: t + 1], retain_graph=True, allow_unused=True)
        for s_, grad in enumerate(grads):
            if grad is not None:
                by_lag[t - s_] += grad
    return by_lag




@torch.no_grad()
def agreement_accuracy(model: nn.Module, vocab, probes, device: torch.device | str = "cpu") -> dict[int, float]:
    """How often a language model prefers the verb form that agrees with a subject ``gap`` words back.

    model: ``model(ids (B, T)) -> (logits (B, T, V), state)``, as the notebooks' language models;
    vocab: the ``rnnlab.text.Vocabulary`` it was trained with; probes: ``synthetic.agreement_probes``.
    Returns gap -> fraction (0..1) of probes where the logit of the agreeing verb exceeds that of
    the same verb in the other number, read at the last word of the probe (0.5: chance).
    Raises ValueError when a probe's words are not in the vocabulary (text without these sentences).
    """
    missing = sorted({w for p in probes for w in (*p.tokens, p.correct, p.wrong) if w not in vocab})
    if missing:
        raise ValueError(f"the agreement probes need words this vocabulary lacks ({', '.join(missing[:5])}, ...): "
                         "they measure models trained on the synthetic agreement corpus")
    was_training = model.training
    model.eval()
    by_gap: dict[int, list[bool]] = {}
    for gap in sorted({p.gap for p in probes}):
        group = [p for p in probes if p.gap == gap]
        ids = torch.tensor([vocab.encode(p.tokens) for p in group], device=device)
        last = model(ids)[0][:, -1]
        right = last.gather(1, torch.tensor([[vocab.stoi[p.correct]] for p in group], device=device))
        wrong = last.gather(1, torch.tensor([[vocab.stoi[p.wrong]] for p in group], device=device))
        by_gap[gap] = (right > wrong).squeeze(1).tolist()
    model.train(was_training)
    return {gap: sum(hits) / len(hits) for gap, hits in by_gap.items()}
