r"""Reference probes (instructor-only): the answers of nb02 TODO 1-2 and nb03 TODO 7-8.

Why an unroll: a fused ``nn.RNN``/``nn.LSTM``/``nn.GRU`` computes all steps in one kernel.
Its ``output`` tensor is not what the next step reads in the autograd graph, so
``output.retain_grad()`` does not give :math:`\partial L/\partial h_t` (one gets ``None`` for a
loss on ``h_n``, or a gradient at the last step only for a loss on ``output[:, -1]``).
``unroll`` steps through time with the *module's own weights*, one autograd node per
:math:`h_t`; ``tests/test_reference_probes.py`` proves it equals the fused forward and checks the
gradients against central finite differences on the fused module.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.models import RecurrentClassifier, check_ids, recurrent_weights
from rnnlab.probes import check_module


@dataclass
class Unrolled:
    """States of an unrolled recurrence.

    hidden: T tensors of shape (B, H); ``hidden[t]`` is :math:`h_t`, a node of the graph.
    cell: T tensors (B, H) for an LSTM (:math:`c_t`), else None.
    """

    hidden: list[torch.Tensor]
    cell: list[torch.Tensor] | None


def rnn_step(rnn: nn.Module, x_t: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None,
             weight_hh: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    r"""One step of ``rnn``'s recurrence with its own weights; x_t (B, D), h and c (B, H).

    * RNN:  :math:`h' = \tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})` (or ReLU)
    * LSTM: :math:`i,f,g,o` from the stacked gates; :math:`c' = \sigma(f) c + \sigma(i)\tanh(g)`,
      :math:`h' = \sigma(o) \tanh(c')`
    * GRU:  :math:`r,z = \sigma(\cdot)`, :math:`n = \tanh(W_{in} x + b_{in} + r (W_{hn} h + b_{hn}))`,
      :math:`h' = (1-z) n + z h`

    Returns (h', c') with c' None except for an LSTM. ``weight_hh`` replaces ``weight_hh_l0``
    for this step (``recurrent_grad_by_lag`` gives every step its own copy).
    """
    gi = F.linear(x_t, rnn.weight_ih_l0, getattr(rnn, "bias_ih_l0", None))
    gh = F.linear(h, rnn.weight_hh_l0 if weight_hh is None else weight_hh, getattr(rnn, "bias_hh_l0", None))
    if isinstance(rnn, nn.LSTM):
        i, f, g, o = (gi + gh).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    if isinstance(rnn, nn.GRU):
        ir, iz, in_ = gi.chunk(3, dim=1)
        hr, hz, hn = gh.chunk(3, dim=1)
        r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
        n = torch.tanh(in_ + r * hn)
        return (1 - z) * n + z * h, None
    pre = gi + gh
    return (torch.tanh(pre) if rnn.nonlinearity == "tanh" else torch.relu(pre)), None


def unroll(rnn: nn.Module, x: torch.Tensor, state=None, weights_hh: list[torch.Tensor] | None = None) -> Unrolled:
    """Run a fused one-layer batch-first module step by step.

    x: (B, T, D) inputs (e.g. embeddings). state: initial h0 (1, B, H), or (h0, c0) for an
    LSTM, or None for zeros. weights_hh: optional T tensors used as W_hh at each step.
    Returns ``Unrolled`` with T hidden states (B, H) each.
    """
    check_module(rnn)
    if x.dim() != 3 or x.shape[2] != rnn.input_size:
        raise ValueError(f"x must have shape (batch, time, {rnn.input_size}), got {tuple(x.shape)}")
    batch, hidden = x.shape[0], rnn.hidden_size
    zeros = x.new_zeros(batch, hidden)
    if state is None:
        h, c = zeros, (zeros if isinstance(rnn, nn.LSTM) else None)
    elif isinstance(state, tuple):
        h, c = state[0][0], state[1][0]
    else:
        h, c = state[0], None
    hiddens, cells = [], []
    for t in range(x.shape[1]):
        h, c = rnn_step(rnn, x[:, t], h, c, None if weights_hh is None else weights_hh[t])
        hiddens.append(h)
        cells.append(c)
    return Unrolled(hiddens, cells if isinstance(rnn, nn.LSTM) else None)


def gather_final(hidden: list[torch.Tensor], lengths: torch.Tensor) -> torch.Tensor:
    """Each sequence's state at its last real step: (B, H) from T tensors (B, H) and lengths (B,)."""
    stacked = torch.stack(hidden, dim=1)
    return stacked[torch.arange(stacked.shape[0]), lengths.to(stacked.device) - 1]


def hidden_grad_norms_per_sample(rnn: nn.Module, x: torch.Tensor,
                                 loss_fn: Callable[[torch.Tensor], torch.Tensor],
                                 lengths: torch.Tensor | None = None, state=None) -> torch.Tensor:
    r"""Per-sample :math:`\|\partial L/\partial h_t\|_2` for every step: (B, T).

    x: (B, T, D) inputs to ``rnn``; lengths: (B,) true lengths (default all T).
    loss_fn: maps the final hidden states (B, H), taken at each sequence's last real step,
    to the scalar loss L. Steps after a sequence's end do not reach L: their norm is 0.
    """
    lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.long) if lengths is None else lengths
    hidden = unroll(rnn, x, state).hidden
    loss = loss_fn(gather_final(hidden, lengths))
    if loss.dim() != 0:
        raise ValueError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}")
    grads = torch.autograd.grad(loss, hidden)
    return torch.stack([g.double().norm(dim=1) for g in grads], dim=1).detach()  # float64: cannot underflow first


def masked_mean(norms: torch.Tensor, lengths: torch.Tensor, align: str = "start") -> torch.Tensor:
    """Average per-sample values (B, T) over the sequences that are real at each step: (T,).

    align="start": index t is step t of every sequence.
    align="end": index T-1 is every sequence's last real step, T-1-k is k steps before it
    (use this to compare distance from the loss across reviews of different length).
    A step no sequence reaches is NaN.
    """
    batch, time = norms.shape
    steps = torch.arange(time).unsqueeze(0)
    lengths = lengths.to(norms.device).unsqueeze(1)
    if align == "end":
        source = (steps - (time - lengths)).clamp(min=0)
        norms, valid = norms.gather(1, source), steps >= time - lengths
    elif align == "start":
        valid = steps < lengths
    else:
        raise ValueError(f"align must be 'start' or 'end', got {align!r}")
    valid = valid.to(norms.dtype)
    return (norms * valid).sum(0) / valid.sum(0)  # 0/0 -> NaN where no sequence is real


def classifier_hidden_grad_norms(model: RecurrentClassifier, ids: torch.Tensor, lengths: torch.Tensor | None,
                                 labels: torch.Tensor, per_sample: bool = False, align: str = "start"
                                 ) -> torch.Tensor:
    r""":math:`\|\partial L/\partial h_t\|` of a ``RecurrentClassifier`` for every step.

    ids (B, T), lengths (B,), labels (B,) in {0, 1}; L is the batch-mean ``BCEWithLogits``
    loss on the state at each review's last real token. Returns (B, T) with
    ``per_sample=True``, else the mean over real steps (T,) (see ``masked_mean``).
    """
    lengths = check_ids(ids, lengths)
    head = model.head

    def loss_fn(final: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(head(final).squeeze(-1), labels.to(final.dtype))

    norms = hidden_grad_norms_per_sample(model.rnn, model.embed(ids), loss_fn, lengths)
    return norms if per_sample else masked_mean(norms, lengths, align)


def input_grad_norms(model: RecurrentClassifier, ids: torch.Tensor, lengths: torch.Tensor | None,
                     labels: torch.Tensor, per_sample: bool = False, align: str = "start") -> torch.Tensor:
    r""":math:`\|\partial L/\partial x_t\|`, the gradient reaching each word's embedding.

    Read at the embedding output, which is the fused module's input, so this works with
    the fused (packed) forward. Shapes and loss as ``classifier_hidden_grad_norms``.
    """
    lengths = check_ids(ids, lengths)
    embedded = model.embed(ids)
    logits = model.classify(embedded, lengths)
    loss = F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
    (grad,) = torch.autograd.grad(loss, embedded)
    norms = grad.double().norm(dim=2).detach()  # float64: cannot underflow first
    return norms if per_sample else masked_mean(norms, lengths, align)


def recurrent_grad_norm(model: nn.Module) -> float:
    """L2 norm of the gradient of every ``weight_hh`` of ``model`` together (call after backward).

    Raises RuntimeError when there is no gradient yet.
    """
    grads = [w.grad for w in recurrent_weights(model)]
    if any(g is None for g in grads):
        raise RuntimeError("weight_hh has no gradient: call loss.backward() before reading its norm")
    return float(torch.sqrt(sum((g.detach().double() ** 2).sum() for g in grads)))


@dataclass
class StateNorms:
    """Per-step L2 norms of the states: hidden (B, T); cell (B, T) for an LSTM, else None."""

    hidden: torch.Tensor
    cell: torch.Tensor | None


@torch.no_grad()
def state_norms(rnn: nn.Module, x: torch.Tensor) -> StateNorms:
    """||h_t|| (and ||c_t|| for an LSTM) at every step of ``rnn`` on inputs x (B, T, D)."""
    unrolled = unroll(rnn, x)
    hidden = torch.stack([h.norm(dim=1) for h in unrolled.hidden], dim=1)
    cell = None if unrolled.cell is None else torch.stack([c.norm(dim=1) for c in unrolled.cell], dim=1)
    return StateNorms(hidden, cell)
