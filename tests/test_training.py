import math

import pytest
import torch
import torch.nn.functional as F

from rnnlab.loaders import EOS, LanguageModelBatches, ReviewDataset, batchify, review_loader
from rnnlab.models import RecurrentClassifier, RecurrentLanguageModel
from rnnlab.runtime import set_seed
from rnnlab.synthetic import synthetic_reviews
from rnnlab.text import Vocabulary, tokenize
from rnnlab.training import evaluate_language_model, optimiser_step, train_classifier, train_language_model
from rnnlab_reference.probes import recurrent_grad_norm
from rnnlab_reference.training import evaluate_classifier, language_model_loss, perplexity


def review_loaders(n=256, length=12, cue_at=1.0, seed=0):
    train, test = (synthetic_reviews(n, length, cue_at=cue_at, seed=seed + k) for k in (0, 1))
    vocab = Vocabulary.build([tokenize(t) for t in train.texts], 200)
    return (review_loader(ReviewDataset(train, vocab, 100), 32, shuffle=True, seed=seed),
            review_loader(ReviewDataset(test, vocab, 100), 128), len(vocab))


def run_classifier(seed=0, epochs=2, clip=None):
    set_seed(seed)
    train, test, vocab_size = review_loaders(seed=seed)
    model = RecurrentClassifier(vocab_size, 8, 16, "gru")
    history = train_classifier(model, train, epochs, 1e-2, clip=clip, progress=False, grad_norm_fn=recurrent_grad_norm)
    return model, history, test


def test_classifier_learns_a_near_cue():
    model, history, test = run_classifier(epochs=3)
    assert evaluate_classifier(model, test)["accuracy"] > 0.95
    assert history.step_loss[-1] < history.step_loss[0]
    assert len(history.step_loss) == len(history.step_grad_norm) == 3 * 8
    assert set(history.epochs[0]) == {"epoch", "train_loss", "seconds"}


def test_classifier_training_without_a_norm_function_logs_no_norms():
    set_seed(0)
    train, _, vocab_size = review_loaders(n=64)
    history = train_classifier(RecurrentClassifier(vocab_size, 4, 4), train, 1, 1e-2, progress=False)
    assert history.step_grad_norm == [] and len(history.step_loss) == 2


def test_cpu_training_repeats_bit_for_bit():
    model_a, history_a, _ = run_classifier(seed=3, clip=0.5)
    model_b, history_b, _ = run_classifier(seed=3, clip=0.5)
    assert history_a.step_loss == history_b.step_loss
    assert history_a.step_grad_norm == history_b.step_grad_norm
    for p, q in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(p, q)
    _, history_c, _ = run_classifier(seed=4, clip=0.5)
    assert history_c.step_loss != history_a.step_loss


def test_optimiser_step_logs_the_norm_before_clipping():
    torch.manual_seed(0)
    model = RecurrentClassifier(10, 4, 6, "rnn")
    reference = RecurrentClassifier(10, 4, 6, "rnn")
    reference.load_state_dict(model.state_dict())
    ids, labels = torch.randint(0, 10, (4, 9)), torch.tensor([0.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(model(ids), labels) * 100  # large gradient
    logged = optimiser_step(model, torch.optim.SGD(model.parameters(), lr=0.0), loss, clip=0.1,
                            grad_norm_fn=recurrent_grad_norm)
    (F.binary_cross_entropy_with_logits(reference(ids), labels) * 100).backward()
    assert logged == pytest.approx(float(reference.rnn.weight_hh_l0.grad.norm()), rel=1e-6)
    total_before = torch.nn.utils.clip_grad_norm_(reference.parameters(), 0.1)
    assert total_before > 0.1
    for p, q in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(p.grad, q.grad)


def test_uniform_language_model_has_perplexity_of_vocabulary_size():
    vocab_size = 37
    model = RecurrentLanguageModel(vocab_size, 4, 6, "lstm")
    with torch.no_grad():
        model.decoder.weight.zero_()
        model.decoder.bias.zero_()
    windows = LanguageModelBatches(batchify(torch.randint(2, vocab_size, (101,)), 4), seq_len=7)
    scores = evaluate_language_model(model, windows, language_model_loss)
    assert scores["perplexity"] == pytest.approx(vocab_size, rel=1e-6)
    assert scores["loss"] == pytest.approx(math.log(vocab_size), rel=1e-6)


def test_evaluation_is_token_weighted_across_windows():
    torch.manual_seed(0)
    model = RecurrentLanguageModel(20, 4, 6, "gru").eval()
    rows = batchify(torch.randint(2, 20, (2 * 24,)), 2)
    # windows of 10, 10 and 3 tokens
    scores = evaluate_language_model(model, LanguageModelBatches(rows, seq_len=10), language_model_loss)
    with torch.no_grad():
        logits, _ = model(rows[:, :-1])
        expected = F.cross_entropy(logits.reshape(-1, 20), rows[:, 1:].reshape(-1))
    assert scores["loss"] == pytest.approx(float(expected), rel=1e-5)


def test_language_model_loss_ignores_padding():
    logits = torch.randn(2, 3, 5)
    targets = torch.tensor([[1, 2, 0], [3, 0, 0]])
    keep = targets != 0
    expected = F.cross_entropy(logits[keep], targets[keep])
    assert float(language_model_loss(logits, targets)) == pytest.approx(float(expected))
    with pytest.raises(ValueError, match="logits must be \\(B, T, V\\)"):
        language_model_loss(logits, targets[:, :2])


def test_language_model_training_lowers_perplexity():
    set_seed(0)
    lines = ["the cat sat on the mat ."] * 40
    vocab = Vocabulary.build([line.split() for line in lines], 20, specials=(EOS,))
    from rnnlab.loaders import language_model_batches

    windows = language_model_batches(lines, vocab, batch_size=4, seq_len=8)
    model = RecurrentLanguageModel(len(vocab), 8, 16, "lstm")
    before = evaluate_language_model(model, windows, language_model_loss)["perplexity"]
    history = train_language_model(model, windows, 3, 1e-2, language_model_loss, valid_batches=windows, progress=False,
                                   grad_norm_fn=recurrent_grad_norm)
    assert history.last("val_perplexity") < before / 3
    assert {"train_perplexity", "val_perplexity", "seconds"} <= set(history.epochs[-1])
    assert all(g > 0 for g in history.step_grad_norm)


def test_perplexity_overflow_is_inf():
    assert perplexity(0.0) == 1.0 and perplexity(1e6) == math.inf


@pytest.mark.parametrize("kwargs,match", [({"epochs": 0}, "epochs"), ({"lr": -1.0}, "lr"), ({"clip": 0.0}, "clip")])
def test_schedule_errors(kwargs, match):
    train, _, vocab_size = review_loaders(n=8)
    args = {"epochs": 1, "lr": 1e-3, "clip": None} | kwargs
    with pytest.raises(ValueError, match=match):
        train_classifier(RecurrentClassifier(vocab_size, 4, 4), train, progress=False, **args)


def test_evaluate_empty_loader():
    with pytest.raises(ValueError, match="empty"):
        evaluate_classifier(RecurrentClassifier(5, 2, 2), [])


def test_language_model_training_uses_the_given_loss_and_norm():
    set_seed(0)
    lines = ["a b c d e f ."] * 20
    vocab = Vocabulary.build([line.split() for line in lines], 20, specials=(EOS,))
    from rnnlab.loaders import language_model_batches

    windows = language_model_batches(lines, vocab, batch_size=2, seq_len=5)
    calls = []

    def loss_fn(logits, targets):
        calls.append(targets.shape)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    history = train_language_model(RecurrentLanguageModel(len(vocab), 4, 6, "rnn"), windows, 1, 1e-2, loss_fn,
                                   progress=False, grad_norm_fn=lambda model: 42.0)
    assert len(calls) == len(windows) and history.step_grad_norm == [42.0] * len(windows)
