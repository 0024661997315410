import pytest
import torch
from torch import nn

from rnnlab.models import RecurrentClassifier, RecurrentLanguageModel, detach_state, make_recurrent

KINDS = ["rnn", "lstm", "gru"]


@pytest.mark.parametrize("pad_handling", ["pack", "gather"])
@pytest.mark.parametrize("kind", KINDS)
def test_classifier_shapes_and_padding_invariance(kind, pad_handling):
    torch.manual_seed(0)
    model = RecurrentClassifier(20, 6, 8, kind, pad_handling=pad_handling).eval()
    ids = torch.randint(2, 20, (3, 5))
    logits = model(ids)
    assert logits.shape == (3,)
    padded = torch.cat([ids, torch.zeros(3, 4, dtype=torch.long)], dim=1)
    torch.testing.assert_close(model(padded, torch.tensor([5, 5, 5])), logits)
    short = model(ids[:1, :2])
    mixed = model(torch.cat([torch.cat([ids[:1, :2], torch.zeros(1, 3, dtype=torch.long)], 1), ids[1:]]),
                  torch.tensor([2, 5, 5]))
    torch.testing.assert_close(mixed, torch.cat([short, logits[1:]]))


@pytest.mark.parametrize("kind", KINDS)
def test_language_model_shapes_and_state_carry(kind):
    torch.manual_seed(0)
    model = RecurrentLanguageModel(30, 6, 8, kind).eval()
    ids = torch.randint(0, 30, (2, 7))
    logits, state = model(ids)
    assert logits.shape == (2, 7, 30)
    h_n = state[0] if kind == "lstm" else state
    assert h_n.shape == (1, 2, 8)
    first, state_a = model(ids[:, :3])
    second, _ = model(ids[:, 3:], detach_state(state_a))
    torch.testing.assert_close(torch.cat([first, second], 1), logits)
    detached = detach_state(state_a)
    assert all(not s.requires_grad for s in (detached if isinstance(detached, tuple) else (detached,)))
    assert detach_state(None) is None


def test_unknown_kind_says_which_exist():
    with pytest.raises(ValueError, match=r"unknown model kind 'transformer': use one of \['gru', 'lstm', 'rnn'\]"):
        RecurrentClassifier(10, 4, 4, "transformer")


@pytest.mark.parametrize("size", [0, -2])
def test_non_positive_sizes(size):
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        make_recurrent("rnn", 3, size)


def test_wrong_input_shapes():
    model = RecurrentClassifier(10, 4, 4)
    with pytest.raises(ValueError, match="int64 tensor of shape \\(batch, time\\)"):
        model(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="ids is empty"):
        model(torch.zeros(2, 0, dtype=torch.long))
    with pytest.raises(ValueError, match="lengths must have shape \\(2,\\)"):
        model(torch.zeros(2, 3, dtype=torch.long), torch.tensor([3]))
    with pytest.raises(ValueError, match="1..3"):
        model(torch.zeros(2, 3, dtype=torch.long), torch.tensor([3, 4]))


@pytest.mark.parametrize("kind", KINDS)
def test_pack_and_gather_agree(kind):
    torch.manual_seed(0)
    model = RecurrentClassifier(20, 6, 8, kind, pad_handling="pack").double()
    ids = torch.randint(2, 20, (4, 9))
    lengths = torch.tensor([9, 1, 5, 7])
    for row, n in enumerate(lengths.tolist()):
        ids[row, n:] = 0
    packed = model(ids, lengths)
    model.pad_handling = "gather"
    torch.testing.assert_close(model(ids, lengths), packed, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="pad_handling must be one of"):
        RecurrentClassifier(20, 6, 8, kind, pad_handling="left")


def test_chrono_init_sets_forget_and_input_biases_of_every_lstm():
    """Forget-gate bias (ih + hh) in [log 1, log(T-1)], input-gate bias its negative, cell and output gates
    untouched; the LSTM's forget gate at zero input then keeps e.g. sigma(log 399) = 0.9975 per step."""
    import math

    from rnnlab.models import chrono_init

    torch.manual_seed(0)
    model = nn.Sequential(nn.LSTM(3, 8, num_layers=2, batch_first=True), nn.LSTMCell(3, 5), nn.RNN(3, 4))
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    assert chrono_init(model, 400) == 2
    for prefix, suffixes, hidden in (("0.", ["_l0", "_l1"], 8), ("1.", [""], 5)):
        for suffix in suffixes:
            total = (dict(model.named_parameters())[f"{prefix}bias_ih{suffix}"]
                     + dict(model.named_parameters())[f"{prefix}bias_hh{suffix}"]).detach()
            forget, input_gate = total[hidden:2 * hidden], total[:hidden]
            assert (forget >= 0).all() and (forget <= math.log(399) + 1e-6).all() and forget.std() > 0.3
            assert torch.allclose(input_gate, -forget)
            for name in (f"{prefix}bias_ih{suffix}", f"{prefix}bias_hh{suffix}"):
                assert torch.equal(dict(model.named_parameters())[name][2 * hidden:], before[name][2 * hidden:])
    assert all(torch.equal(p, before[f"2.{n}"]) for n, p in model[2].named_parameters())  # no LSTM: untouched
    assert chrono_init(nn.Linear(2, 2), 10) == 0
    with pytest.raises(ValueError, match="max_steps"):
        chrono_init(model, 2)
