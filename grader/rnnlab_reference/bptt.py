"""float64 ``torch.autograd`` oracles of notebook 01's NumPy RNN and GRU (instructor-only).

Both step the recurrence in torch from h_0 = 0 and score the last state with a softmax
cross-entropy, exactly as ``rnn_forward``/``gru_forward`` specify; autograd then gives
dL/dh_t for every t and the parameter gradients, independently of any hand-written backward.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def rnn_reference(X: np.ndarray, params: dict, target: int):
    """States (T, H), loss (float), dL/dh_t (T, H) and {name: dL/dparam} of the vanilla RNN.

    X: (T, D); params: W_xh (H, D), W_hh (H, H), b_h (H,), W_hy (V, H), b_y (V,); target: int.
    """
    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    x = torch.tensor(X, dtype=torch.float64)
    h = torch.zeros(p["W_hh"].shape[0], dtype=torch.float64)
    states = []
    for t in range(x.shape[0]):
        h = torch.tanh(p["W_xh"] @ x[t] + p["W_hh"] @ h + p["b_h"])
        states.append(h)
    loss = F.cross_entropy((p["W_hy"] @ h + p["b_y"])[None], torch.tensor([target]))
    grads = torch.autograd.grad(loss, states + list(p.values()))
    dh = torch.stack(grads[: len(states)]).numpy()
    return (torch.stack(states).detach().numpy(), float(loss.detach()), dh,
            {k: g.numpy() for k, g in zip(p, grads[len(states):])})


def gru_reference(X: np.ndarray, params: dict, target: int):
    """States (T, H), loss (float) and dL/dh_t (T, H) of the GRU (PyTorch's gate convention:
    h_t = (1 - z_t) n_t + z_t h_{t-1}). params as ``init_gru`` returns them."""
    p = {k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()}
    x = torch.tensor(X, dtype=torch.float64)
    h = torch.zeros(p["W_hr"].shape[0], dtype=torch.float64, requires_grad=True)
    states = []
    for t in range(x.shape[0]):
        r = torch.sigmoid(p["W_xr"] @ x[t] + p["W_hr"] @ h + p["b_r"])
        z = torch.sigmoid(p["W_xz"] @ x[t] + p["W_hz"] @ h + p["b_z"])
        n = torch.tanh(p["W_xn"] @ x[t] + p["b_xn"] + r * (p["W_hn"] @ h + p["b_hn"]))
        h = (1 - z) * n + z * h
        states.append(h)
    loss = F.cross_entropy((p["W_hy"] @ h + p["b_y"])[None], torch.tensor([target]))
    dh = torch.stack(torch.autograd.grad(loss, states)).numpy()
    return torch.stack(states).detach().numpy(), float(loss.detach()), dh
