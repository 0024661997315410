"""The solutions are the reference every submission is compared with (``rnnlab_grader.verdicts``):
they must agree with the instructor-only references, which ``test_probes.py`` and
``test_training.py`` check against finite differences, the ``W_hh = a I`` closed form and
PyTorch's own forward. Inputs are random and in float64 where the reference works in float64.
"""
import copy

import numpy as np
import pytest
import torch

from answer_oracle import solution_functions
from rnnlab.checks import rel_error
from rnnlab.models import RecurrentClassifier, RecurrentLanguageModel
from rnnlab_reference import bptt, probes, training


@pytest.fixture(scope="module")
def ns():
    return solution_functions()


@pytest.mark.parametrize("seed", [0, 1])
def test_numpy_bptt_agrees_with_autograd(ns, seed):
    rng = np.random.default_rng(seed)
    X, target = rng.normal(size=(14, 4)), 3
    params, gru = ns["init_rnn"](4, 5, 6, rng), ns["init_gru"](4, 5, 6, rng)
    hs, loss, probs = ns["rnn_forward"](X, params, target)
    dh, grads = ns["rnn_backward"](X, hs, probs, target, params)
    states, ref_loss, ref_dh, ref_grads = bptt.rnn_reference(X, params, target)
    assert rel_error(hs[1:], states, axis=0) < 1e-10 and abs(loss - ref_loss) < 1e-12
    assert rel_error(dh, ref_dh, axis=0) < 1e-10
    assert all(rel_error(grads[name], ref_grads[name]) < 1e-10 for name in params)
    hs_g, loss_g, probs_g, gates = ns["gru_forward"](X, gru, target)
    states_g, ref_loss_g, ref_dh_g = bptt.gru_reference(X, gru, target)
    assert rel_error(hs_g[1:], states_g, axis=0) < 1e-10 and abs(loss_g - ref_loss_g) < 1e-12
    assert rel_error(ns["gru_backward"](X, hs_g, gates, probs_g, target, gru), ref_dh_g, axis=0) < 1e-10


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_probes_agree_with_the_references(ns, kind):
    torch.manual_seed(3)
    model = RecurrentClassifier(25, 5, 6, kind=kind).double()
    ids = torch.randint(2, 25, (4, 9))
    lengths = torch.tensor([9, 2, 6, 1])
    for row, n in enumerate(lengths.tolist()):
        ids[row, n:] = 0
    labels = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    expected = probes.input_grad_norms(model, ids, lengths, labels)
    assert rel_error(ns["input_grad_norms"](model, ids, lengths, labels), expected) < 1e-10
    assert rel_error(ns["gradient_flow"](model, ids, lengths, labels), expected) < 1e-10
    if kind == "rnn":
        assert rel_error(ns["hidden_grad_norms"](model, ids, lengths, labels),
                         probes.classifier_hidden_grad_norms(model, ids, lengths, labels)) < 1e-10
    if kind == "lstm":
        x = torch.randn(1, 12, 5, dtype=torch.float64)
        hidden, cell = ns["lstm_state_norms"](model.rnn, x)
        norms = probes.state_norms(model.rnn, x)
        assert rel_error(hidden, norms.hidden[0]) < 1e-12 and rel_error(cell, norms.cell[0]) < 1e-12


def test_training_measures_agree_with_the_references(ns):
    torch.manual_seed(4)
    model = RecurrentClassifier(12, 4, 5, kind="lstm")
    batches = [(torch.tensor([[2, 3, 4], [5, 6, 0]]), torch.tensor([3, 2]), torch.tensor([1.0, 0.0])),
               (torch.tensor([[7, 0, 0]]), torch.tensor([1]), torch.tensor([1.0]))]
    loss, accuracy = ns["evaluate"](model, batches, "cpu")
    expected = training.evaluate_classifier(model, batches, "cpu")
    assert abs(loss - expected["loss"]) < 1e-6 and accuracy == expected["accuracy"]
    logits, targets = torch.randn(2, 5, 7), torch.randint(0, 7, (2, 5))
    assert torch.isclose(ns["lm_loss"](logits, targets), training.language_model_loss(logits, targets))
    assert ns["perplexity"](1.3) == pytest.approx(training.perplexity(1.3))
    lm = RecurrentLanguageModel(9, 3, 4, kind="rnn")
    x = torch.randint(1, 9, (2, 5))
    torch.nn.functional.cross_entropy(lm(x)[0].reshape(-1, 9), x.reshape(-1)).backward()
    assert ns["recurrent_grad_norm"](lm) == pytest.approx(probes.recurrent_grad_norm(lm), rel=1e-6)


@pytest.mark.parametrize("probe", ["hidden_grad_norms", "input_grad_norms", "gradient_flow"])
def test_norms_of_tiny_float32_gradients_do_not_underflow(ns, probe):
    """Gradients whose entries are about 1e-30 are ordinary float32 numbers, but a float32 norm
    squares them (1e-60) and reads exactly 0. The probes' norms (solutions and references) are
    taken in float64: they match the same model run in float64."""
    torch.manual_seed(6)
    model = RecurrentClassifier(12, 4, 3, kind="rnn")
    with torch.no_grad():
        model.head.weight.mul_(1e-30)  # dL/dh_T = (sigmoid - y) w_head: entries near 1e-30, and below
    ids, lengths, labels = torch.tensor([[3, 4, 5, 6]]), torch.tensor([4]), torch.tensor([1.0])
    assert torch.linalg.vector_norm(torch.full((3,), 1e-30)).item() == 0.0  # the float32 trap itself
    exact = ns[probe](copy.deepcopy(model).double(), ids, lengths, labels.double())
    measured = ns[probe](model, ids, lengths, labels)
    assert bool(torch.all(exact > 0)) and rel_error(measured.double(), exact) < 1e-5, (measured, exact)
    reference = (probes.classifier_hidden_grad_norms if probe == "hidden_grad_norms" else probes.input_grad_norms)
    assert rel_error(reference(model, ids, lengths, labels).double(), exact) < 1e-5
