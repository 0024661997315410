"""Does an installed package offer a function that computes a graded TODO's answer?

``find_leaks(packages)`` calls every public module-level callable of the given packages with the
arguments of each graded TODO (random inputs) and reports those whose result holds the TODO's
answer: equal values anywhere in what they return (a tensor, a float, or a field of a returned
tuple, dict or dataclass), at a float32 tolerance. The references are the solutions' own answer
cells, run from ``solutions/`` (the instructor's, never exported).

Run as a script (``python answer_oracle.py PACKAGE...``) it prints one line per leak, so a test
can run it against the exported package in a fresh interpreter.
"""
from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import json
import pkgutil
import re
import sys
from collections import Counter
from pathlib import Path

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]
# Tools the later notebooks need that also compute nb01 TODO 4's one-line measures, whose recipe
# the TODO text itself gives (largest |eigenvalue|, largest singular value, 10 x the least-squares
# slope of log10 g_t): allowed, and named here so that nothing else slips in beside them.
ALLOWED = {("spectral_radius", "rnnlab.probes.spectral_stats"),
           ("largest_singular_value", "rnnlab.probes.spectral_stats"),
           ("decay_per_10_steps", "rnnlab.probes.fit_decay")}


def answer_cells(notebook: str, *grade_ids: str) -> str:
    cells = json.loads((ROOT / "solutions" / notebook).read_text())["cells"]
    wanted = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") in grade_ids]
    assert len(wanted) == len(grade_ids), (notebook, grade_ids)
    return "\n\n".join("".join(c["source"]) for c in wanted)


def course_cell(notebook: str, starts_with: str) -> str:
    cells = json.loads((ROOT / "solutions" / notebook).read_text())["cells"]
    return next("".join(c["source"]) for c in cells if "".join(c["source"]).startswith(starts_with))


def solution_functions() -> dict[str, object]:
    """The graded TODOs' functions, defined by the solution notebooks' answer cells."""
    from tqdm.auto import tqdm

    from rnnlab import models
    from rnnlab.text import PAD, PAD_ID, UNK, UNK_ID
    namespace = {"np": np, "torch": torch, "F": F, "nn": nn, "re": re, "Counter": Counter, "PAD": PAD, "UNK": UNK,
                 "PAD_ID": PAD_ID, "UNK_ID": UNK_ID, "tqdm": tqdm, "models": models, "D": 4, "H": 5, "V": 6, "SEED": 0}
    nb01 = "01_bptt_by_hand/bptt_by_hand.ipynb"
    exec(course_cell(nb01, "def init_rnn"), namespace)
    exec(answer_cells(nb01, "rnn_forward", "rnn_backward", "gru_forward", "gru_backward", "measures",
                      "clip_by_global_norm"), namespace)
    exec(answer_cells("02_imdb_gradient_probe/imdb_gradient_probe.ipynb", "hidden_grad_norms", "input_grad_norms"),
         namespace)
    exec(answer_cells("03_rnn_vs_lstm_sweep/rnn_vs_lstm_sweep.ipynb", "preprocess_text", "build_vocabulary",
                      "text_to_indices", "train_epoch", "evaluate", "gradient_flow", "lstm_state_norms"), namespace)
    exec(answer_cells("04_wikitext_perplexity/wikitext_perplexity.ipynb", "loss_and_metrics"), namespace)
    return namespace


def todo_calls(ns: dict) -> list[tuple[str, object, tuple]]:
    """(TODO function name, solution function, arguments) for every graded TODO that is a function."""
    from rnnlab.models import RecurrentClassifier, RecurrentLanguageModel
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    X, target = rng.normal(size=(9, 4)), 3
    rnn_params, gru_params = ns["init_rnn"](4, 5, 6, rng), ns["init_gru"](4, 5, 6, rng)
    hs, _, probs = ns["rnn_forward"](X, rnn_params, target)
    hs_g, _, probs_g, gates_g = ns["gru_forward"](X, gru_params, target)
    classifier = RecurrentClassifier(20, 4, 5, kind="rnn")
    ids = torch.randint(2, 20, (3, 7))
    lengths = torch.tensor([7, 4, 6])
    labels = torch.tensor([1.0, 0.0, 1.0])
    batches = [(ids, lengths, labels)]
    lm = RecurrentLanguageModel(9, 3, 4, kind="lstm")
    x = torch.randint(1, 9, (2, 5))
    F.cross_entropy(lm(x)[0].reshape(-1, 9), x.reshape(-1)).backward()
    texts = ["The <b>cat</b> saw the dog's bone!", "a dog ran, the cat sat", "zebra bone, a yak saw"]  # ties
    cleaned = [ns["preprocess_text"](t) for t in texts]
    vocabulary = ns["build_vocabulary"](cleaned, 6)
    W = rng.normal(size=(5, 5))
    return [
        ("rnn_forward", ns["rnn_forward"], (X, rnn_params, target)),
        ("rnn_backward", ns["rnn_backward"], (X, hs, probs, target, rnn_params)),
        ("gru_forward", ns["gru_forward"], (X, gru_params, target)),
        ("gru_backward", ns["gru_backward"], (X, hs_g, gates_g, probs_g, target, gru_params)),
        ("spectral_radius", ns["spectral_radius"], (W,)),
        ("largest_singular_value", ns["largest_singular_value"], (W,)),
        ("decay_per_10_steps", ns["decay_per_10_steps"], (10.0 ** -(0.3 * np.arange(12.0) + rng.normal(0, 0.1, 12)),)),
        ("clip_by_global_norm", ns["clip_by_global_norm"],
         ({"a": rng.normal(size=(3, 2)), "b": rng.normal(size=4)}, 0.5)),
        ("hidden_grad_norms", ns["hidden_grad_norms"], (classifier, ids, lengths, labels)),
        ("input_grad_norms", ns["input_grad_norms"], (classifier, ids, lengths, labels)),
        ("gradient_flow", ns["gradient_flow"], (classifier, ids, lengths, labels)),
        ("lstm_state_norms", ns["lstm_state_norms"], (nn.LSTM(3, 4, batch_first=True), torch.randn(1, 6, 3))),
        ("preprocess_text", ns["preprocess_text"], (texts[0],)),
        ("build_vocabulary", ns["build_vocabulary"], (cleaned, 6)),
        ("text_to_indices", ns["text_to_indices"], (cleaned[1], vocabulary, 3)),
        ("evaluate", ns["evaluate"], (classifier, batches, "cpu")),
        ("train_epoch", ns["train_epoch"], (classifier, batches, "ADAM", "cpu", False)),
        ("lm_loss", ns["lm_loss"], (lm(x)[0].detach(), x)),
        ("perplexity", ns["perplexity"], (1.7,)),
        ("recurrent_grad_norm", ns["recurrent_grad_norm"], (lm,)),
    ]


# The arguments a student could adapt a package function to (what the TODO's inputs become in
# one line): the vocabulary TODO's cleaned texts as token lists.
ADAPTED = {"build_vocabulary": lambda args: ([text.split() for text in args[0]], *args[1:])}


def _fresh(args: tuple) -> tuple:
    """A deep copy of the arguments (gradients included; "ADAM" becomes an optimiser of the model)."""
    originals, args = args, copy.deepcopy(args)
    for old, new in zip(originals, args):
        if isinstance(old, nn.Module):
            for p_old, p_new in zip(old.parameters(), new.parameters()):
                p_new.grad = None if p_old.grad is None else p_old.grad.clone()
    return tuple(torch.optim.Adam(args[0].parameters(), lr=0.01) if isinstance(a, str) and a == "ADAM" else a
                 for a in args)


def parts(value, depth: int = 0) -> list:
    """Every number, array, string, list of ints or dict inside ``value`` (tuples, dicts, dataclasses)."""
    if depth > 3:
        return []
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "fiu":
            return []
        return [float(value.reshape(-1)[0])] if value.size == 1 else [np.squeeze(value).astype(float)]
    if isinstance(value, (bool, type(None))):
        return []
    if isinstance(value, (int, float, np.floating, str)):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [p for f in dataclasses.fields(value) for p in parts(getattr(value, f.name), depth + 1)]
    if isinstance(value, dict):
        found = [dict(value)] if all(isinstance(k, str) for k in value) else []
        return found + [p for v in value.values() for p in parts(v, depth + 1)]
    if isinstance(value, (tuple, list)):
        if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return [list(value)]
        return [p for v in value for p in parts(v, depth + 1)]
    if hasattr(value, "__dict__") and not isinstance(value, (type, nn.Module)) and not inspect.ismodule(value) \
            and not callable(value):  # an object a package returns: its public attributes (a Vocabulary's stoi)
        return [p for k, v in vars(value).items() if not k.startswith("_") for p in parts(v, depth + 1)]
    return []


def _meaningful(part) -> bool:
    if isinstance(part, np.ndarray):
        return part.size > 1 and np.isfinite(part).any() and np.abs(part).max() > 0
    if isinstance(part, (float, np.floating)):
        return part not in (0.0, 1.0) and np.isfinite(part)
    return bool(part) if isinstance(part, (str, list, dict)) else False


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=1e-12, equal_nan=True)
    if isinstance(a, (float, np.floating)) and isinstance(b, (float, np.floating, int)) and not isinstance(b, bool):
        return bool(np.isclose(a, b, rtol=1e-4, atol=0))
    if isinstance(a, (int, np.integer, str)) and type(a) is type(b):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(_plain(a[k]), _plain(b[k])) for k in a)
    return False


def _plain(value):
    if isinstance(value, torch.Tensor):
        value = value.detach().double().cpu().numpy()
    return value.astype(float) if isinstance(value, np.ndarray) else value


def public_callables(package: str) -> dict[str, object]:
    root = importlib.import_module(package)
    modules = [root] + [importlib.import_module(f"{package}.{m.name}") for m in pkgutil.iter_modules(root.__path__)]
    found = {}
    for module in modules:
        for name, value in vars(module).items():
            if name.startswith("_") or not callable(value):
                continue
            home = getattr(value, "__module__", "") or ""
            if home.split(".")[0] == package:
                found[f"{home}.{getattr(value, '__qualname__', name)}"] = value
                if inspect.isclass(value):  # its alternative constructors too (Vocabulary.build)
                    for attribute, raw in vars(value).items():
                        if not attribute.startswith("_") and isinstance(raw, (classmethod, staticmethod)):
                            found[f"{home}.{value.__qualname__}.{attribute}"] = getattr(value, attribute)
    return found


def find_leaks(packages: list[str]) -> list[tuple[str, str]]:
    """(TODO, callable) for every public callable whose result holds the TODO's answer."""
    ns = solution_functions()
    candidates = {k: v for p in packages for k, v in public_callables(p).items()}
    leaks = []
    for todo, solution, args in todo_calls(ns):
        torch.manual_seed(1)
        expected = [p for p in parts(solution(*_fresh(args))) if _meaningful(p)]
        assert expected, f"{todo}: the solution's answer has no comparable part"
        tries = [args] + ([ADAPTED[todo](args)] if todo in ADAPTED else [])
        for name, candidate in sorted(candidates.items()):
            if inspect.isclass(candidate) and issubclass(candidate, BaseException):
                continue
            for attempt in tries:
                try:
                    torch.manual_seed(1)
                    result = parts(candidate(*_fresh(attempt)))
                except Exception:  # noqa: BLE001 - most callables reject these arguments
                    continue
                finally:
                    plt.close("all")
                if any(_same(e, r) for e in expected for r in result) and (todo, name) not in ALLOWED:
                    leaks.append((todo, name))
                    break
    return leaks


if __name__ == "__main__":
    for todo, name in find_leaks(sys.argv[1:]):
        print(f"LEAK {todo} <- {name}")
    print("checked", ", ".join(f"{p}: {len(public_callables(p))} callables from {importlib.import_module(p).__file__}"
                               for p in sys.argv[1:]))
