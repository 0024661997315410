"""The probes against independent oracles: the instructor-only references of the graded probe
TODOs (``rnnlab_reference.probes``) and the tools students get (``rnnlab.probes``).

Finite differences never use rnnlab's unroll: the perturbed loss is computed by the fused
module itself, split at step t (state injected between two fused calls).
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rnnlab import probes
from rnnlab.models import RecurrentClassifier, make_recurrent
from rnnlab_reference import probes as reference
from rnnlab_reference.training import language_model_loss

KINDS = ["rnn", "lstm", "gru"]
EPS = 1e-6


def double_classifier(kind, vocab=11, embed=4, hidden=5, seed=0):
    torch.manual_seed(seed)
    return RecurrentClassifier(vocab, embed, hidden, kind).double()


def batch(b=3, t=7, vocab=11, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(2, vocab, (b, t), generator=g), torch.randint(0, 2, (b,), generator=g).double()


def fused_loss(model, x, labels, t=None, delta=None):
    """BCE on the fused module's final state, with h_t replaced by h_t + delta (B, H)."""
    rnn = model.rnn
    if t is None:
        _, state = rnn(x)
    else:
        _, state = rnn(x[:, : t + 1])
        if isinstance(state, tuple):
            state = (state[0] + delta.unsqueeze(0), state[1])
        else:
            state = state + delta.unsqueeze(0)
        if t + 1 < x.shape[1]:
            _, state = rnn(x[:, t + 1:], state)
    final = state[0][-1] if isinstance(state, tuple) else state[-1]
    return F.binary_cross_entropy_with_logits(model.head(final).squeeze(-1), labels)


def finite_difference_hidden_grads(model, ids, labels):
    """Central differences of dL/dh_t for every t: (B, T, H) in float64."""
    with torch.no_grad():
        x = model.embed(ids)
        b, t_len = ids.shape
        h = model.rnn.hidden_size
        grads = torch.zeros(b, t_len, h, dtype=torch.float64)
        for t in range(t_len):
            for i in range(b):
                for j in range(h):
                    delta = torch.zeros(b, h, dtype=torch.float64)
                    delta[i, j] = EPS
                    up = fused_loss(model, x, labels, t, delta)
                    down = fused_loss(model, x, labels, t, -delta)
                    grads[i, t, j] = (up - down) / (2 * EPS)
    return grads


def rel_error(a, b):
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("kind", KINDS)
def test_unroll_equals_fused_forward(kind):
    torch.manual_seed(3)
    rnn = make_recurrent(kind, 4, 6).double()
    x = torch.randn(2, 9, 4, dtype=torch.float64)
    h0 = torch.randn(1, 2, 6, dtype=torch.float64)
    state = (h0, torch.randn(1, 2, 6, dtype=torch.float64)) if kind == "lstm" else h0
    outputs, final = rnn(x, state)
    unrolled = reference.unroll(rnn, x, state)
    torch.testing.assert_close(torch.stack(unrolled.hidden, 1), outputs, rtol=0, atol=1e-12)
    if kind == "lstm":
        torch.testing.assert_close(unrolled.cell[-1], final[1][0], rtol=0, atol=1e-12)
    else:
        assert unrolled.cell is None


def test_unroll_supports_relu_rnn():
    torch.manual_seed(0)
    rnn = nn.RNN(3, 4, nonlinearity="relu", batch_first=True).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    torch.testing.assert_close(torch.stack(reference.unroll(rnn, x).hidden, 1), rnn(x)[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_hidden_grad_norms_match_finite_differences(kind):
    model = double_classifier(kind)
    ids, labels = batch()
    expected = finite_difference_hidden_grads(model, ids, labels).norm(dim=2)
    measured = reference.classifier_hidden_grad_norms(model, ids, None, labels, per_sample=True)
    assert measured.shape == (3, 7)
    assert rel_error(measured, expected) < 1e-6
    torch.testing.assert_close(reference.classifier_hidden_grad_norms(model, ids, None, labels),
                               expected.mean(0), rtol=1e-6, atol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_hidden_grad_norms_use_true_lengths(kind):
    """Padded rows: each review's gradients equal those of the review alone (scaled by 1/B)."""
    model = double_classifier(kind)
    ids, labels = batch(b=3, t=8)
    lengths = torch.tensor([8, 5, 2])
    ids[1, 5:] = 0
    ids[2, 2:] = 0
    norms = reference.classifier_hidden_grad_norms(model, ids, lengths, labels, per_sample=True)
    for row, n in enumerate(lengths.tolist()):
        alone = finite_difference_hidden_grads(model, ids[row:row + 1, :n], labels[row:row + 1]).norm(dim=2)[0]
        assert rel_error(norms[row, :n] * 3, alone) < 1e-6
        assert torch.all(norms[row, n:] == 0)


@pytest.mark.parametrize("kind", KINDS)
def test_input_grad_norms_match_finite_differences(kind):
    model = double_classifier(kind)
    ids, labels = batch(b=2, t=6)
    lengths = torch.tensor([6, 4])
    with torch.no_grad():
        x = model.embed(ids)
        expected = torch.zeros_like(x)
        for idx in np.ndindex(*x.shape):
            bump = torch.zeros_like(x)
            bump[idx] = EPS
            up = F.binary_cross_entropy_with_logits(model.classify(x + bump, lengths), labels)
            down = F.binary_cross_entropy_with_logits(model.classify(x - bump, lengths), labels)
            expected[idx] = (up - down) / (2 * EPS)
    measured = reference.input_grad_norms(model, ids, lengths, labels, per_sample=True)
    assert rel_error(measured, expected.norm(dim=2)) < 1e-6
    assert torch.all(measured[1, 4:] == 0)  # pads never reach the loss


@pytest.mark.parametrize("a", [0.5, 0.9, 1.5])
def test_linear_rnn_norms_follow_powers_of_a(a):
    """W_hh = a*I with positive inputs and weights keeps a ReLU RNN linear: g_t = g_{T-1} a^(T-1-t)."""
    torch.manual_seed(0)
    steps = 30
    rnn = nn.RNN(3, 4, nonlinearity="relu", batch_first=True).double()
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(a * torch.eye(4, dtype=torch.float64))
        rnn.weight_ih_l0.uniform_(0.1, 1.0)
        rnn.bias_ih_l0.fill_(0.1)
        rnn.bias_hh_l0.fill_(0.1)
    x = torch.rand(2, steps, 3, dtype=torch.float64) + 0.1
    readout = torch.randn(4, dtype=torch.float64)
    norms = reference.hidden_grad_norms_per_sample(rnn, x, lambda h: (h @ readout).sum()).mean(0)
    expected = norms[-1] * a ** torch.arange(steps - 1, -1, -1, dtype=torch.float64)
    assert rel_error(norms, expected) < 1e-10
    fit = probes.fit_decay(norms)
    assert fit.orders_per_10_steps == pytest.approx(-10 * math.log10(a), rel=1e-9)
    assert fit.n_points == steps


def test_retain_grad_on_fused_output_is_the_pitfall():
    """Why the probe unrolls: the fused output is not on the path of the loss on h_n."""
    torch.manual_seed(0)
    rnn = make_recurrent("rnn", 3, 4)
    outputs, h_n = rnn(torch.randn(2, 5, 3))
    outputs.retain_grad()
    h_n.sum().backward()
    assert outputs.grad is None


def test_masked_mean_aligns_by_start_or_end():
    norms = torch.tensor([[1.0, 2.0, 3.0], [10.0, 20.0, 0.0]])
    lengths = torch.tensor([3, 2])
    torch.testing.assert_close(reference.masked_mean(norms, lengths), torch.tensor([5.5, 11.0, 3.0]))
    torch.testing.assert_close(reference.masked_mean(norms, lengths, align="end"), torch.tensor([1.0, 6.0, 11.5]))
    assert torch.isnan(reference.masked_mean(norms, torch.tensor([1, 1]))[2])
    with pytest.raises(ValueError, match="'start' or 'end'"):
        reference.masked_mean(norms, lengths, align="middle")


def test_spectral_stats_known_matrix():
    # triangular: eigenvalues 0.5, 0.5; W^T W = [[0.25, 1.5], [1.5, 9.25]]
    stats = probes.spectral_stats(np.array([[0.5, 3.0], [0.0, 0.5]]))
    assert stats.spectral_radius == pytest.approx(0.5)
    assert stats.largest_singular_value == pytest.approx(math.sqrt((9.5 + math.sqrt(90)) / 2))
    assert probes.spectral_stats(torch.eye(3) * -2).spectral_radius == pytest.approx(2)


def test_spectral_stats_at_pytorch_default_init():
    """U(-1/sqrt(H), 1/sqrt(H)) entries: circular law radius 1/sqrt(3), top singular value 2/sqrt(3)."""
    torch.manual_seed(0)
    stats = probes.spectral_stats(make_recurrent("rnn", 8, 512).weight_hh_l0)
    assert stats.spectral_radius == pytest.approx(1 / math.sqrt(3), abs=0.04)
    assert stats.largest_singular_value == pytest.approx(2 / math.sqrt(3), abs=0.04)


def test_spectral_stats_rejects_stacked_gates():
    with pytest.raises(ValueError, match="gate_blocks"):
        probes.spectral_stats(make_recurrent("lstm", 3, 4).weight_hh_l0)


@pytest.mark.parametrize("kind,names", [("rnn", "h"), ("lstm", "ifgo"), ("gru", "rzn")])
def test_gate_blocks(kind, names):
    rnn = make_recurrent(kind, 3, 4)
    blocks = probes.gate_blocks(rnn)
    assert list(blocks) == list(names) and all(b.shape == (4, 4) for b in blocks.values())
    torch.testing.assert_close(torch.cat(list(blocks.values())), rnn.weight_hh_l0.detach())


def test_fit_decay_skips_underflow_and_needs_two_points():
    norms = np.array([0.0, 1e-3, 1e-2, 1e-1, np.nan, 10.0])
    fit = probes.fit_decay(norms)
    assert fit.orders_per_10_steps == pytest.approx(10.0) and fit.n_points == 4
    with pytest.raises(ValueError, match="at least 2"):
        probes.fit_decay([0.0, 1.0])
    with pytest.raises(ValueError, match="1-D"):
        probes.fit_decay(np.ones((2, 2)))


def test_recurrent_grad_norm_matches_manual():
    torch.manual_seed(0)
    model = RecurrentClassifier(10, 4, 5, "lstm")
    with pytest.raises(RuntimeError, match="call loss.backward"):
        reference.recurrent_grad_norm(model)
    model(torch.randint(0, 10, (2, 6))).sum().backward()
    assert reference.recurrent_grad_norm(model) == pytest.approx(float(model.rnn.weight_hh_l0.grad.norm()), rel=1e-6)
    with pytest.raises(ValueError, match="no weight_hh"):
        reference.recurrent_grad_norm(nn.Linear(2, 2))


@pytest.mark.parametrize("kind", KINDS)
def test_state_norms_match_fused_states(kind):
    torch.manual_seed(0)
    rnn = make_recurrent(kind, 3, 4).double()
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    outputs, state = rnn(x)
    norms = reference.state_norms(rnn, x)
    torch.testing.assert_close(norms.hidden, outputs.norm(dim=2))
    if kind == "lstm":
        torch.testing.assert_close(norms.cell[:, -1], state[1][0].norm(dim=1))
    else:
        assert norms.cell is None


def test_probe_input_errors():
    model = double_classifier("rnn")
    with pytest.raises(ValueError, match="shape \\(batch, time\\)"):
        reference.classifier_hidden_grad_norms(model, torch.zeros(3, dtype=torch.long), None, torch.zeros(3))
    with pytest.raises(ValueError, match="lengths must lie in 1..4"):
        reference.input_grad_norms(model, torch.ones(2, 4, dtype=torch.long), torch.tensor([0, 4]), torch.zeros(2))
    with pytest.raises(ValueError, match="one unidirectional layer"):
        reference.unroll(nn.LSTM(3, 4, num_layers=2, batch_first=True), torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match="batch_first"):
        reference.unroll(nn.GRU(3, 4), torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match="shape \\(batch, time, 4\\)"):
        reference.unroll(make_recurrent("rnn", 4, 4), torch.zeros(2, 3))


@pytest.mark.parametrize("kind", KINDS)
def test_recurrent_grad_by_lag_sums_to_the_fused_gradient(kind):
    from rnnlab.models import RecurrentLanguageModel

    torch.manual_seed(0)
    model = RecurrentLanguageModel(13, 4, 5, kind).double()
    x, y = torch.randint(1, 13, (3, 7)), torch.randint(0, 13, (3, 7))
    y[0, 2] = 0  # a pad target is ignored
    by_lag = probes.recurrent_grad_by_lag(model, x, y)
    logits, _ = model(x)
    (expected,) = torch.autograd.grad(language_model_loss(logits, y), model.rnn.weight_hh_l0)
    assert by_lag.shape == (7, *model.rnn.weight_hh_l0.shape)
    torch.testing.assert_close(by_lag.sum(0), expected, rtol=1e-10, atol=1e-12)


def test_recurrent_grad_by_lag_single_target_reaches_back_to_the_start():
    """A loss only at the last step: lag k is the use of W_hh at step T-1-k; lag T-1 is step 0,
    where h_{-1} = 0 so that term vanishes, and no lag beyond exists."""
    from rnnlab.models import RecurrentLanguageModel

    torch.manual_seed(1)
    model = RecurrentLanguageModel(9, 3, 4, "rnn").double()
    x = torch.randint(1, 9, (2, 6))
    y = torch.zeros(2, 6, dtype=torch.long)
    y[:, -1] = torch.tensor([3, 5])
    by_lag = probes.recurrent_grad_by_lag(model, x, y)
    norms = by_lag.flatten(1).norm(dim=1)
    assert torch.all(norms[:-1] > 0) and norms[-1] == 0


class _AgreeingModel(nn.Module):
    """A stand-in language model that prefers the plural verb after a plural subject, or never."""

    def __init__(self, vocab, knows):
        super().__init__()
        from rnnlab import synthetic

        self.vocab, self.knows = vocab, knows
        self.plural = {vocab.stoi[w] for w in synthetic.PLURAL_SUBJECTS}
        self.plural_verbs = [vocab.stoi[w] for w in synthetic.PLURAL_VERBS]
        self.singular_verbs = [vocab.stoi[w] for w in synthetic.SINGULAR_VERBS]

    def forward(self, ids):
        logits = torch.zeros(*ids.shape, len(self.vocab))
        for row in range(ids.shape[0]):
            plural = int(ids[row, 1]) in self.plural
            favoured = self.plural_verbs if (plural or not self.knows) else self.singular_verbs
            logits[row, :, favoured] = 1.0
        return logits, None


def test_agreement_accuracy_counts_the_agreeing_form():
    from rnnlab import synthetic
    from rnnlab.text import Vocabulary

    vocab = Vocabulary.build([line.split() for line in synthetic.agreement_corpus(300, seed=0)], 200)
    found = synthetic.agreement_probes((2, 9), per_gap=10, seed=0)
    assert len(found) == 20 and {len(p.tokens) for p in found} == {4, 11}
    assert all((p.correct in synthetic.PLURAL_VERBS) == (p.tokens[1] in synthetic.PLURAL_SUBJECTS) for p in found)
    assert probes.agreement_accuracy(_AgreeingModel(vocab, knows=True), vocab, found) == {2: 1.0, 9: 1.0}
    assert probes.agreement_accuracy(_AgreeingModel(vocab, knows=False), vocab, found) == {2: 0.5, 9: 0.5}
    with pytest.raises(ValueError, match="vocabulary lacks"):
        probes.agreement_accuracy(_AgreeingModel(vocab, knows=True), Vocabulary(["<pad>", "<unk>", "the"]), found)
