"""Speed ratios of rnnlab against bare PyTorch, measured side by side in one run.

(a) training throughput: tokens/s of ``rnnlab.training.train_classifier`` (DataLoader,
    packing, progress bar, per-step recurrent-gradient logging) divided by tokens/s of a
    bare loop over the same fused module on the same pre-made batches. Target >= 0.9.
(b) probe cost: ``rnnlab_reference.probes.classifier_hidden_grad_norms`` (the instructor's reference probe)
at T=400, B=64, H=128
    divided by one fused forward+backward of the same model on the same batch. Target <= 3.

Rounds alternate between the two sides so machine noise hits both; the median ratio is
reported. Run: ``make benchmark`` (or ``python benchmarks/bench_rnnlab.py --quick``).
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.loaders import ReviewDataset, review_loader
from rnnlab.models import RecurrentClassifier
from rnnlab.runtime import set_seed
from rnnlab.synthetic import synthetic_reviews
from rnnlab.text import Vocabulary, tokenize
from rnnlab.training import train_classifier
from rnnlab_reference.probes import classifier_hidden_grad_norms


class BareClassifier(nn.Module):
    """Embedding -> fused module -> linear on h_n: no packing, no checks."""

    def __init__(self, vocab_size, embed_dim, hidden_dim, kind):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind](embed_dim, hidden_dim, batch_first=True)
        self.head = nn.Linear(hidden_dim, 1)

    def forward(self, ids):
        _, state = self.rnn(self.embedding(ids))
        h_n = state[0] if isinstance(state, tuple) else state
        return self.head(h_n[-1]).squeeze(-1)


def bare_epoch(model, batches):
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    for ids, labels in batches:
        loss = F.binary_cross_entropy_with_logits(model(ids), labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()


def training_ratio(kind, n, length, batch, embed, hidden, rounds):
    reviews = synthetic_reviews(n, length=length, seed=0)
    vocab = Vocabulary.build([tokenize(t) for t in reviews.texts], 500)
    loader = review_loader(ReviewDataset(reviews, vocab, length), batch, shuffle=True, seed=0)
    batches = [(ids, labels) for ids, _, labels in loader]
    tokens = sum(ids.numel() for ids, _ in batches)
    torch.optim.Adam(nn.Linear(1, 1).parameters())  # first Adam imports torch._dynamo (~1.6 s): not ours to time
    ratios = []
    for round_ in range(rounds):
        set_seed(0)
        ours = RecurrentClassifier(len(vocab), embed, hidden, kind)
        bare = BareClassifier(len(vocab), embed, hidden, kind)
        seconds = {}
        sides = [("ours", lambda ours=ours: train_classifier(ours, loader, epochs=1, lr=1e-3, desc=f"rnnlab {kind}")),
                 ("bare", lambda bare=bare: bare_epoch(bare, batches))]
        for name, run in sides if round_ % 2 == 0 else sides[::-1]:  # alternate who goes first
            started = time.perf_counter()
            run()
            seconds[name] = time.perf_counter() - started
        ours_rate, bare_rate = tokens / seconds["ours"], tokens / seconds["bare"]
        ratios.append(ours_rate / bare_rate)
    return statistics.median(ratios), ours_rate, bare_rate


def probe_ratio(kind, batch, length, embed, hidden, rounds):
    set_seed(0)
    model = RecurrentClassifier(1000, embed, hidden, kind)
    ids = torch.randint(2, 1000, (batch, length))
    labels = torch.randint(0, 2, (batch,)).float()
    lengths = torch.full((batch,), length)

    def fused():
        model.zero_grad()
        F.binary_cross_entropy_with_logits(model(ids, lengths), labels).backward()

    def probe():
        classifier_hidden_grad_norms(model, ids, lengths, labels)

    fused(), probe()  # warm-up
    ratios = []
    for _ in range(rounds):
        started = time.perf_counter()
        fused()
        fused_s = time.perf_counter() - started
        started = time.perf_counter()
        probe()
        ratios.append((time.perf_counter() - started) / fused_s)
    return statistics.median(ratios), fused_s


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and reviews")
    args = parser.parse_args()
    rounds = 3 if args.quick else 5
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("(a) training loop tokens/s, rnnlab / bare fused loop (target >= 0.9)")
    for kind in ("rnn", "lstm"):
        ratio, ours, bare = training_ratio(kind, n=512 if args.quick else 1024, length=100, batch=64,
                                           embed=64, hidden=128, rounds=rounds)
        print(f"    {kind:4s} T=100 B=64 H=128: ratio {ratio:.2f}  (last round {ours:,.0f} vs {bare:,.0f} tokens/s)")
    print("(b) dL/dh_t probe / one fused forward+backward, T=400 B=64 H=128 (target <= 3)")
    for kind in ("rnn", "lstm", "gru"):
        ratio, fused_s = probe_ratio(kind, batch=64, length=400, embed=64, hidden=128, rounds=rounds)
        print(f"    {kind:4s}: ratio {ratio:.2f}  (fused forward+backward {fused_s * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
