import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from rnnlab import plots
from rnnlab.training import History


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_gradient_decay_is_log_scale_titled_and_saved(tmp_path):
    curves = {"rnn": 0.5 ** np.arange(50)[::-1], "gru": torch.linspace(0.1, 1, 50)}
    path = tmp_path / "fig" / "decay.png"
    fig = plots.plot_gradient_decay(curves, "decay at init", notes={"rnn": "3.0 orders / 10 steps"}, path=path)
    ax = fig.axes[0]
    assert path.stat().st_size > 0
    assert ax.get_yscale() == "log" and ax.get_title() == "decay at init"
    assert ax.get_xlabel() and "log scale" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["rnn: 3.0 orders / 10 steps", "gru"]
    assert [line.get_color() for line in ax.get_lines()] == ["tab:red", "tab:blue"]


def test_log_axis_leaves_underflow_as_gaps():
    fig = plots.plot_gradient_decay({"rnn": [0.0, 1e-30, np.inf, 1.0]}, "t")
    y = fig.axes[0].get_lines()[0].get_ydata()
    assert np.isnan(y[0]) and y[1] == 1e-30 and np.isnan(y[2])
    assert fig.axes[0].get_xlim() == (0, 3), "steps that underflowed stay in view"
    assert any("underflow" in t.get_text() for t in fig.axes[0].texts)


def test_gradient_decay_custom_steps():
    fig = plots.plot_gradient_decay({"rnn": [1.0, 2.0, 3.0]}, "t", steps=np.arange(1, 4))
    assert list(fig.axes[0].get_lines()[0].get_xdata()) == [1, 2, 3]


def test_linear_gradient_decay():
    fig = plots.plot_gradient_decay({"a": [1, 2]}, "t", log=False)
    assert fig.axes[0].get_yscale() == "linear" and "log" not in fig.axes[0].get_ylabel()


def test_accuracy_vs_length(tmp_path):
    fig = plots.plot_accuracy_vs_length({"rnn": {50: 0.8, 400: 0.55}, "lstm": {50: 0.85, 400: 0.8}},
                                        "accuracy vs length", path=tmp_path / "acc.png")
    ax = fig.axes[0]
    assert ax.get_title() == "accuracy vs length" and "sequence length" in ax.get_xlabel()
    assert list(ax.get_lines()[0].get_xdata()) == [50, 400]
    assert (tmp_path / "acc.png").exists()


def test_training_curves_two_log_panels():
    history = History(step_loss=list(np.linspace(5, 3, 30)), step_grad_norm=list(np.logspace(0, -3, 30)))
    fig = plots.plot_training_curves({"rnn": history, "lstm": history}, "runs", perplexity=True)
    loss_ax, grad_ax = fig.axes
    assert loss_ax.get_yscale() == grad_ax.get_yscale() == "log"
    assert fig._suptitle.get_text() == "runs"
    assert grad_ax.get_ylabel().endswith("(log scale)")


def test_smooth_is_a_trailing_mean():
    np.testing.assert_allclose(plots.smooth([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(plots.smooth([1, 2], 1), [1, 2])


def test_state_norms_band():
    fig = plots.plot_state_norms({"lstm cell": np.random.default_rng(0).random((5, 20)), "rnn": np.ones(20)},
                                 "states", log=True)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 2 and len(ax.collections) == 1  # a band only where there are samples
    assert ax.get_yscale() == "log"


def test_state_traces_one_panel_each_coloured_by_label(tmp_path):
    traces = [np.arange(10.0), np.ones(7), torch.ones(12)]
    fig = plots.plot_state_traces({"rnn h": traces, "lstm c": traces}, [1, 0, 1], "dynamics",
                                  ylabels={"lstm c": r"$\|c_t\|$"}, path=tmp_path / "c.png")
    assert (tmp_path / "c.png").is_file() and len(fig.axes) == 2
    top, bottom = fig.axes
    assert [len(line.get_xdata()) for line in top.get_lines()] == [10, 7, 12]
    assert top.get_lines()[0].get_color() == top.get_lines()[2].get_color() != top.get_lines()[1].get_color()
    legend = fig.legends[0]  # one legend beside the panels, over no trace
    assert [t.get_text() for t in legend.get_texts()] == ["positive", "negative"] and top.get_legend() is None
    fig.canvas.draw()
    right_of_panels = max(ax.get_window_extent().x1 for ax in fig.axes)
    assert legend.get_window_extent().x0 >= right_of_panels
    assert bottom.get_ylabel() == r"$\|c_t\|$" and top.get_ylabel() == "state norm"
    with pytest.raises(ValueError, match="2 traces for 3 labels"):
        plots.plot_state_traces({"x": traces[:2]}, [1, 0, 1], "bad")


def test_colours_follow_the_model_kind_anywhere_in_the_name():
    """ "RNN, cue first" and "LSTM, reviews" take their kind's colour; two curves of one kind differ in style."""
    figure = plots.plot_accuracy_vs_length({"LSTM, cue first": {50: 0.9}, "RNN, cue first": {50: 0.5},
                                      "LSTM, reviews": {50: 0.8}}, title="t")
    lines = [line for line in figure.axes[0].get_lines() if line.get_label() != "chance"]
    assert [line.get_color() for line in lines] == ["tab:green", "tab:red", "tab:green"]
    assert [line.get_linestyle() for line in lines] == ["-", "-", "--"]
    figure = plots.plot_gradient_decay({"RNN at init": [1.0, 0.1], "RNN after training": [1.0, 0.5]}, title="t")
    assert [(line.get_color(), line.get_linestyle()) for line in figure.axes[0].get_lines()] == \
        [("tab:red", "-"), ("tab:red", "--")]


def test_decay_panels_give_each_curve_its_own_steps(tmp_path):
    """nb02's T=50 and T=400 curves: side by side on one y axis, neither squeezed into the other's steps."""
    short, long = 10.0 ** -np.arange(50.0)[::-1], 10.0 ** -np.arange(400.0)[::-1]
    fig = plots.plot_gradient_decay({"RNN, T=50": short, "RNN, T=400": long}, "decay", panels=True,
                                    steps=np.arange(1, 401), path=tmp_path / "p.png")
    left, right = fig.axes
    assert left.get_xlim() == (1, 50) and right.get_xlim() == (1, 400)
    assert left.get_yscale() == right.get_yscale() == "log" and left.get_shared_y_axes().joined(left, right)
    assert fig._suptitle.get_text() == "decay" and (tmp_path / "p.png").is_file()
