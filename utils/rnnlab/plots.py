"""Figures the notebooks share. Each helper titles and labels its axes, returns the
``Figure``, and saves it (PNG, 150 dpi) when given ``path``."""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from .training import History

STYLE = "whitegrid"
MODEL_COLORS = {"rnn": "tab:red", "lstm": "tab:green", "gru": "tab:blue"}


def _as_array(values) -> np.ndarray:
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=float)


LINESTYLES = ("-", "--", ":", "-.")


def _color(name: str, index: int) -> str:
    """The course colour of the model kind named in ``name`` ("RNN, cue first", "LSTM at init"), as a
    word anywhere; ``C<index>`` when it names none."""
    found = re.search(r"\b(rnn|lstm|gru)\b", name.lower())
    return MODEL_COLORS[found.group(1)] if found else f"C{index}"


def _styles(names) -> list[tuple[str, str]]:
    """(colour, line style) per name: curves of the same kind share its colour and differ in style
    ("RNN at init" solid, "RNN after training" dashed)."""
    styles, used = [], {}
    for index, name in enumerate(names):
        color = _color(name, index)
        styles.append((color, LINESTYLES[used.get(color, 0) % len(LINESTYLES)]))
        used[color] = used.get(color, 0) + 1
    return styles


def save_figure(fig: Figure, path: str | Path | None) -> Figure:
    """Save ``fig`` to ``path`` (parent folders created) when a path is given; return ``fig``."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150, bbox_inches="tight")
    return fig


def _positive(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: zeros, negatives and non-finite values become gaps (NaN)."""
    out = values.astype(float).copy()
    out[~np.isfinite(out) | (out <= 0)] = np.nan
    return out


def plot_gradient_decay(curves: Mapping[str, object], title: str, ylabel: str = r"$\|\partial L/\partial h_t\|$",
                        xlabel: str = "time step t", log: bool = True, notes: Mapping[str, str] | None = None,
                        path: str | Path | None = None, steps=None, panels: bool = False) -> Figure:
    """Per-step gradient norms, one line per curve (name -> (T,) values), log-y by default.

    steps: the x value of each point (default 0..T-1; pass 1..T when steps count from 1).
    panels: one panel per curve, side by side on a shared y axis, each over its own steps (a
    length-50 curve is not squeezed into the first eighth of a length-400 axis).

    Names that mention rnn/lstm/gru get the course colours (red/green/blue); a second curve of the
    same kind is dashed. ``notes``
    adds text to a curve's legend entry (e.g. its fitted decay). On a log axis,
    zero or non-finite values (underflow, NaN) are left as gaps.
    """
    styles = _styles(curves)
    with sns.axes_style(STYLE):
        if panels:
            fig, axes = plt.subplots(1, len(curves), figsize=(4.6 * len(curves), 4.5), sharey=True, squeeze=False)
            groups = [(axes[0, i], {name: values}, [styles[i]]) for i, (name, values) in enumerate(curves.items())]
        else:
            fig, ax = plt.subplots(figsize=(8, 4.5))
            groups = [(ax, curves, styles)]
        for number, (ax, group, group_styles) in enumerate(groups):
            _draw_decay(ax, group, group_styles, steps, log, notes)
            ax.set(xlabel=xlabel, ylabel=ylabel + (" (log scale)" if log else "") if number == 0 else "")
            ax.legend(loc="upper left" if panels else "best")  # a panel's line rises towards the loss, on the right
        if panels:
            fig.suptitle(title)
        else:
            groups[0][0].set_title(title)
        fig.tight_layout()
    return save_figure(fig, path)


def _draw_decay(ax, curves: Mapping[str, object], styles, steps, log: bool, notes) -> None:
    """The lines of ``plot_gradient_decay`` on one axis, with the note on gaps where a log axis has them."""
    gaps, xs = False, []
    for i, (name, values) in enumerate(curves.items()):
        y = _as_array(values)
        label = f"{name}: {notes[name]}" if notes and name in notes else name
        x = np.arange(len(y)) if steps is None else _as_array(steps)[: len(y)]
        shown = _positive(y) if log else y
        gaps |= bool(np.isnan(shown).any())
        xs.append(x)
        ax.plot(x, shown, label=label, color=styles[i][0], ls=styles[i][1], lw=1.8)
    if xs:
        ax.set_xlim(min(x.min() for x in xs), max(x.max() for x in xs))  # keep steps that are gaps in view
    if log:
        ax.set_yscale("log")
        if gaps:
            ax.text(0.01, 0.01, "no line: the value is 0 (float underflow) or not finite",
                    transform=ax.transAxes, fontsize=8, color="grey")


def plot_accuracy_vs_length(results: Mapping[str, Mapping[int, float]], title: str,
                            path: str | Path | None = None, ylabel: str = "test accuracy") -> Figure:
    """Accuracy against sequence length: results is model name -> {length: accuracy (0..1)}."""
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        styles = _styles(results)
        for i, (name, by_length) in enumerate(results.items()):
            lengths = sorted(by_length)
            ax.plot(lengths, [by_length[n] for n in lengths], marker="o", label=name, color=styles[i][0],
                    ls=styles[i][1])
        ax.axhline(0.5, color="grey", ls="--", lw=1, label="chance")
        ax.set_xscale("log", base=2)
        all_lengths = sorted({n for by_length in results.values() for n in by_length})
        ax.set_xticks(all_lengths, [str(n) for n in all_lengths])
        ax.set(title=title, xlabel="sequence length (tokens, log scale)", ylabel=ylabel, ylim=(0.4, 1.02))
        ax.legend()
        fig.tight_layout()
    return save_figure(fig, path)


def smooth(values, window: int) -> np.ndarray:
    """Moving average over ``window`` points (shorter at the start): (N,) -> (N,)."""
    y = _as_array(values)
    if window <= 1 or len(y) == 0:
        return y
    cumulative = np.cumsum(np.insert(y, 0, 0.0))
    counts = np.minimum(np.arange(1, len(y) + 1), window)
    return (cumulative[1:] - cumulative[np.arange(1, len(y) + 1) - counts]) / counts


def plot_training_curves(histories: Mapping[str, History], title: str, path: str | Path | None = None,
                         smoothing: int = 20, perplexity: bool = False) -> Figure:
    """Two panels per run: training loss (or perplexity, log) and recurrent gradient norm (log),
    both per optimiser step, smoothed over ``smoothing`` steps."""
    with sns.axes_style(STYLE):
        fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(12, 4.2))
        for i, (name, history) in enumerate(histories.items()):
            loss = smooth(history.step_loss, smoothing)
            color = _color(name, i)
            ax_loss.plot(np.exp(loss) if perplexity else loss, label=name, color=color)
            ax_grad.plot(_positive(smooth(history.step_grad_norm, smoothing)), label=name, color=color)
        if perplexity:
            ax_loss.set_yscale("log")
        ax_loss.set(title="training perplexity (log scale)" if perplexity else "training loss",
                    xlabel="optimiser step", ylabel="perplexity" if perplexity else "loss")
        ax_grad.set_yscale("log")
        ax_grad.set(title="recurrent-weight gradient norm, before clipping", xlabel="optimiser step",
                    ylabel=r"$\|\nabla W_{hh}\|_2$ (log scale)")
        for ax in (ax_loss, ax_grad):
            ax.legend()
        fig.suptitle(title)
        fig.tight_layout()
    return save_figure(fig, path)


def plot_state_norms(norms: Mapping[str, object], title: str, path: str | Path | None = None,
                     ylabel: str = "state norm", log: bool = False) -> Figure:
    """Mean (line) and interquartile band of per-step state norms: name -> (B, T) or (T,) values."""
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for i, (name, values) in enumerate(norms.items()):
            y = np.atleast_2d(_as_array(values))
            steps = np.arange(y.shape[1])
            color = _color(name, i)
            ax.plot(steps, np.nanmean(y, axis=0), label=name, color=color)
            if y.shape[0] > 1:
                low, high = np.nanpercentile(y, [25, 75], axis=0)
                ax.fill_between(steps, low, high, color=color, alpha=0.2)
        if log:
            ax.set_yscale("log")
        ax.set(title=title, xlabel="time step t", ylabel=ylabel + (" (log scale)" if log else ""))
        ax.legend()
        fig.tight_layout()
    return save_figure(fig, path)


LABEL_COLORS = {1: "tab:blue", 0: "tab:orange"}
LABEL_NAMES = {1: "positive", 0: "negative"}


def plot_state_traces(panels: Mapping[str, object], labels, title: str, path: str | Path | None = None,
                      ylabels: Mapping[str, str] | None = None) -> Figure:
    """One panel per entry of ``panels`` (panel title -> list of per-review traces, each (T_i,)),
    stacked vertically; review ``i`` is drawn in the colour of ``labels[i]`` (1 positive,
    0 negative). ``ylabels`` maps a panel title to its y-axis label (default "state norm")."""
    labels = [int(label) for label in labels]
    with sns.axes_style(STYLE):
        fig, axes = plt.subplots(len(panels), 1, figsize=(11, 3.2 * len(panels)), squeeze=False)
        for ax, (name, traces) in zip(axes[:, 0], panels.items()):
            if len(traces) != len(labels):
                raise ValueError(f"panel {name!r} has {len(traces)} traces for {len(labels)} labels")
            shown = set()
            for trace, label in zip(traces, labels):
                ax.plot(_as_array(trace), color=LABEL_COLORS[label], alpha=0.7, lw=1.2,
                        label=None if label in shown else LABEL_NAMES[label])
                shown.add(label)
            ax.set(title=name, xlabel="time step t (word position)",
                   ylabel=(ylabels or {}).get(name, "state norm"))
        handles, names = axes[0, 0].get_legend_handles_labels()
        fig.suptitle(title)
        fig.tight_layout(rect=(0, 0, 0.87, 1))  # one legend for every panel, right of them: it hides no trace
        fig.legend(handles, names, loc="center left", bbox_to_anchor=(0.87, 0.5), title="review")
    return save_figure(fig, path)
