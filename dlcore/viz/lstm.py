"""Lesson 09's pictures and widgets: the LSTM cell, its gates, and long memory.

    from dlcore.viz import lstm as lv
    lv.cell_figure()                                   # the cell state and three gates
    results = lv.compare_lengths((5, 10, 20))          # RNN vs LSTM on the adding problem
    lv.lengths_figure(results, 20)                     # test error and predictions
    lv.gate_figure(results[20].models["LSTM"], X[0])   # i, f, o and c over one sequence

``lstm_gates`` records one layer's gates step by step through the engine's own
loop, ``nn.LSTM.forward_steps`` (one copy of the LSTM's equations: the engine's).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .. import data, nn, optim, train
from ..nn import LastStep
from ..rng import manual_seed
from . import plots
from .diagrams import ARROW_COLOR

BASELINE_MSE = 1 / 6          # always answer 1.0: the variance of a sum of two U(0, 1)
LAST_ONLY_MSE = 1 / 12        # answer (second value + 0.5): forget the first marker
KINDS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}
KIND_COLORS = {"RNN": plots.CLASS_COLORS[0], "LSTM": plots.CLASS_COLORS[1],
               "GRU": plots.CLASS_COLORS[2]}
KIND_STYLES = {"RNN": ("o", "-"), "LSTM": ("s", "--"), "GRU": ("^", ":")}   # marker, line


def lstm_gates(lstm: nn.LSTM, x: np.ndarray) -> dict[str, np.ndarray]:
    """The gates and states of the first layer of ``lstm`` over one sequence
    x (T, D), from h_0 = c_0 = 0, by the engine's own loop, ``nn.LSTM.forward_steps``:

        i = sigma(W_ii x + b_ii + W_hi h + b_hi)     input gate
        f = sigma(W_if x + b_if + W_hf h + b_hf)     forget gate
        g = tanh (W_ig x + b_ig + W_hg h + b_hg)     candidate values
        o = sigma(W_io x + b_io + W_ho h + b_ho)     output gate
        c = f * c + i * g        h = o * tanh(c)

    Returns a dict of (T, H) arrays: 'i', 'f', 'g', 'o', 'c', 'h'.
    """
    x = np.asarray(x, lstm.weight_ih_l0.dtype)[:, None]         # (T, 1, D): a batch of one
    h0 = np.zeros((1, lstm.hidden_size), x.dtype)
    b_hh = lstm.bias_hh_l0.data if lstm.bias else None
    hs, _, (cs, gates, _) = lstm.forward_steps(lstm.input_projection(x), lstm.weight_hh_l0.data,
                                               b_hh, h0, h0)
    record = {name: np.array([step[k][0] for step in gates]) for k, name in enumerate("ifgo")}
    return record | {"c": cs[:, 0], "h": hs[:, 0]}


# -- the picture of the cell -------------------------------------------------------------

def _box(ax, x, y, text, color, w=0.7, h=0.5):
    plots.box(ax, x, y, text, color=color, w=w, h=h, lw=2, rounding=0.08)


def _arrow(ax, a, b, color=ARROW_COLOR, lw=1.6):
    plots.arrow(ax, a, b, color=color, lw=lw)


def _op(ax, x, y, text):
    ax.add_patch(plt.Circle((x, y), 0.2, fc="white", ec="0.2", lw=1.5, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=12, zorder=4)


def cell_figure() -> Figure:
    """The LSTM cell: the cell state c runs along the top, changed only by a
    multiplication (forget gate f) and an addition (input gate i times the
    candidate g); the output gate o decides how much of tanh(c) becomes h."""
    gate_color = {"f": plots.CLASS_COLORS[1], "i": plots.CLASS_COLORS[2],
                  "g": plots.CLASS_COLORS[4], "o": plots.CLASS_COLORS[3]}
    with plots.style():
        # a diagram drawn to scale (aspect 1): "wide" would leave bands above and below
        fig, ax = plt.subplots(figsize=(10.0, 3.6), dpi=plots.DPI)
        plots.box(ax, 4.0, 1.15, w=7.4, h=3.5, fc="#f7fafc", color="#a0aec0", lw=1,
                  rounding=0.2, zorder=0)
        top, gates_y = 2.4, 0.4
        # the cell state highway
        ax.text(-0.35, top, "$c_{t-1}$", ha="center", va="center", fontsize=13)
        _arrow(ax, (0, top), (1.8, top), color="black", lw=2.5)
        _op(ax, 2.0, top, "×")
        _arrow(ax, (2.2, top), (3.8, top), color="black", lw=2.5)
        _op(ax, 4.0, top, "+")
        _arrow(ax, (4.2, top), (8.1, top), color="black", lw=2.5)
        ax.text(8.45, top, "$c_t$", ha="center", va="center", fontsize=13)
        ax.text(4.6, top + 0.12, "cell state: long-term memory", fontsize=10, va="bottom")
        # gates from [h_{t-1}, x_t]
        ax.plot([0.0, 6.2], [-0.25, -0.25], color="0.35", lw=1.6)
        ax.text(-0.35, -0.25, "$h_{t-1}$", ha="center", va="center", fontsize=13)
        ax.text(3.0, -1.05, "$x_t$", ha="center", va="center", fontsize=13)
        _arrow(ax, (3.0, -0.85), (3.0, -0.27))
        for name, x, act in (("f", 2.0, "σ"), ("i", 2.95, "σ"), ("g", 4.05, "tanh"),
                             ("o", 5.4, "σ")):
            ax.plot([x, x], [-0.25, gates_y - 0.25], color="0.35", lw=1.6)
            _box(ax, x, gates_y, f"{name}: {act}", gate_color[name], w=0.72 + 0.12 * (act != "σ"))
        _arrow(ax, (2.0, gates_y + 0.25), (2.0, top - 0.2), color=gate_color["f"])
        _op(ax, 3.5, 1.35, "×")
        _arrow(ax, (2.95, gates_y + 0.25), (3.38, 1.2), color=gate_color["i"])
        _arrow(ax, (4.05, gates_y + 0.25), (3.62, 1.2), color=gate_color["g"])
        _arrow(ax, (3.65, 1.5), (3.92, top - 0.2), color="0.35")
        # output
        _box(ax, 6.3, 1.6, "tanh", "0.35", w=0.7, h=0.4)
        ax.plot([6.3, 6.3], [top, 1.8], color="0.35", lw=1.6)
        _op(ax, 6.3, 0.4, "×")
        _arrow(ax, (6.3, 1.4), (6.3, 0.6))
        _arrow(ax, (5.4 + 0.38, gates_y), (6.1, 0.4), color=gate_color["o"])
        _arrow(ax, (6.5, 0.4), (8.1, 0.4), color="0.35")
        ax.text(8.45, 0.4, "$h_t$", ha="center", va="center", fontsize=13)
        notes = [("f", "forget gate: how much of $c_{t-1}$ to keep"),
                 ("i", "input gate: how much of the candidate to write"),
                 ("g", "candidate: new values, in (-1, 1)"),
                 ("o", "output gate: how much of tanh($c_t$) to show as $h_t$")]
        for k, (name, text) in enumerate(notes):
            ax.text(8.9, 2.3 - 0.55 * k, f"{name}  {text}", color=gate_color[name],
                    fontsize=10, va="center")
        ax.text(8.9, 2.3 - 0.55 * 4 - 0.45, "$c_t = f \\odot c_{t-1} + i \\odot g$\n"
                "$h_t = o \\odot \\tanh(c_t)$", fontsize=12, va="center")
        ax.set_xlim(-0.8, 14.2)
        ax.set_ylim(-1.3, 3.2)
        ax.set_aspect("equal")
        ax.axis("off")
        fig.tight_layout()
    return plots.finish(fig)


# -- the adding problem at several lengths -----------------------------------------------

def adding_model(kind: str, hidden: int = 16, seed: int = 0) -> LastStep:
    """RNN, LSTM or GRU (2 -> hidden) and Linear(hidden, 1) on the last step."""
    manual_seed(seed)
    return LastStep(KINDS[kind](2, hidden, batch_first=True), nn.Linear(hidden, 1))


@dataclass
class LengthResult:
    """Models trained on the adding problem at one sequence length, their
    predictions on a test set, and their test mean squared errors."""
    length: int
    X_test: np.ndarray
    y_test: np.ndarray
    models: dict[str, LastStep] = field(default_factory=dict)
    predictions: dict[str, np.ndarray] = field(default_factory=dict)
    mse: dict[str, float] = field(default_factory=dict)


def train_adding(kind: str, length: int, hidden: int = 16, epochs: int = 20, n: int = 1000,
                 lr: float = 0.02, seed: int = 0) -> LastStep:
    """Train one model on ``n`` adding-problem sequences of ``length`` with Adam.
    (At 20 steps an LSTM sits on a plateau for its first epochs, then learns; with
    ``lr=0.02`` it left it by epoch 16 in each of seeds 0, 1, 2; with 0.01 it took
    up to 20 epochs, so 0.01 needs 25.)"""
    X, y = data.adding_problem(n=n, length=length, seed=seed)
    model = adding_model(kind, hidden, seed)
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=32, shuffle=True,
                             seed=seed)
    train.fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=lr), loader,
              epochs=epochs, progress=False, input_grad=False)   # no gradient for the data
    return model


def compare_lengths(lengths: tuple[int, ...] = (5, 10, 20), kinds: tuple[str, ...] =
                    ("RNN", "LSTM"), n_test: int = 500, **options) -> dict[int, LengthResult]:
    """For each length, train each kind (``train_adding(kind, length, **options)``)
    and measure it on ``n_test`` fresh sequences."""
    results = {}
    for length in lengths:
        X_test, y_test = data.adding_problem(n=n_test, length=length, seed=12345)
        result = LengthResult(length, X_test, y_test)
        for kind in kinds:
            model = train_adding(kind, length, **options)
            model.eval()
            result.models[kind] = model
            result.predictions[kind] = model(X_test)[:, 0]
            result.mse[kind] = float(np.mean((result.predictions[kind] - y_test[:, 0]) ** 2))
        results[length] = result
    return results


def lengths_figure(results: dict[int, LengthResult], length: int | None = None) -> Figure:
    """Left: test MSE against sequence length for each model, with the two
    baselines. Right: predictions against the truth at ``length``.
    ``update_lengths_figure`` shows another length in the same figure."""
    lengths = sorted(results)
    length = lengths[-1] if length is None else length
    kinds = list(results[length].mse)
    with plots.style():
        fig, (ax, ax2) = plots.subplots("wide", 1, 2)
        for kind in kinds:
            marker, line = KIND_STYLES[kind]
            ax.plot(lengths, [results[n].mse[kind] for n in lengths], marker=marker, ls=line,
                    lw=2, color=KIND_COLORS[kind], label=kind)
        ax.axhline(BASELINE_MSE, color="black", ls="--", lw=1)
        ax.text(lengths[0], BASELINE_MSE * 1.15, "always answer 1.0: 0.167", fontsize=9)
        ax.axhline(LAST_ONLY_MSE, color="0.5", ls=":", lw=1)
        ax.text(lengths[0], LAST_ONLY_MSE * 0.65, "remember only the 2nd number: 0.083",
                fontsize=9, color="0.4")
        marker_line = ax.axvline(length, color=plots.ACCENT, lw=6, alpha=0.3)
        ax.set_yscale("log")
        ax.minorticks_off()         # a tick mark per decade is enough; each costs drawing time
        ax.set_xticks(lengths)
        ax.set_xlabel("sequence length T")
        ax.set_ylabel("test mean squared error (log)")
        ax.set_title("the adding problem: error against length", y=1.0)
        ax.legend(loc="lower right")
        points = {kind: ax2.scatter([], [], s=9, alpha=0.6, color=KIND_COLORS[kind],
                                    marker=KIND_STYLES[kind][0], label=kind)
                  for kind in kinds}
        ax2.plot([0, 2], [0, 2], color="black", lw=1, label="perfect")
        ax2.set_xlim(0, 2)
        ax2.set_ylim(-0.2, 2.2)
        ax2.set_xlabel("true sum")
        ax2.set_ylabel("predicted sum")
        fig.parts = SimpleNamespace(results=results, marker=marker_line, points=points,
                                    legend=ax2.legend(loc="upper left", fontsize=9),
                                    title=ax2.set_title(" ", y=1.0))
        update_lengths_figure(fig, length)
    return plots.finish(fig)


def update_lengths_figure(fig: Figure, length: int) -> None:
    """Show the predictions at another trained ``length`` in a ``lengths_figure``."""
    parts = fig.parts
    chosen = parts.results[length]
    y = chosen.y_test[:, 0]
    parts.marker.set_xdata([length, length])
    texts = parts.legend.get_texts()
    for k, (kind, points) in enumerate(parts.points.items()):
        points.set_offsets(np.column_stack([y, chosen.predictions[kind]]))
        points.set_label(f"{kind}: MSE {chosen.mse[kind]:.3f}")
        texts[k].set_text(points.get_label())
    parts.title.set_text(f"T = {length}: predictions on {len(y)} test sequences")


def cell_state_limit(lstm: nn.LSTM, X: np.ndarray) -> float:
    """The largest |c_t| of the first layer over the sequences X (N, T, D): one colour
    scale for the cell state of all of them (one batched pass)."""
    X = np.asarray(X, lstm.weight_ih_l0.dtype).transpose(1, 0, 2)    # (T, N, D)
    h0 = np.zeros((X.shape[1], lstm.hidden_size), X.dtype)
    b_hh = lstm.bias_hh_l0.data if lstm.bias else None
    _, _, (cs, *_) = lstm.forward_steps(lstm.input_projection(X), lstm.weight_hh_l0.data,
                                        b_hh, h0, h0)
    return max(float(np.abs(cs).max()), 1e-6)


def gate_figure(model: LastStep, x: np.ndarray, target: float | None = None,
                c_limit: float | None = None) -> Figure:
    """One adding-problem sequence x (T, 2) through a trained LSTM: the input
    (values, marked ones highlighted), then the input, forget and output gates
    and the cell state of every hidden unit (rows) at every step (columns).
    The cell state's colours run over ±``c_limit`` (default: this sequence's
    largest |c|). ``update_gate_figure`` shows another sequence of the same length."""
    T = len(x)
    H = model.recurrent.hidden_size
    with plots.style():
        # five rows of pictures over the same time axis: taller than "wide", still
        # inside a 1280x900 screen (6.8 in = 612 px)
        fig, axes = plt.subplots(5, 1, figsize=(10.0, 6.8), dpi=plots.DPI,
                                 gridspec_kw={"height_ratios": [0.8, 1, 1, 1, 1]},
                                 layout="constrained")
        ax = axes[0]
        bars = ax.bar(range(T), np.zeros(T), color="#a0aec0", width=0.8)
        ax.bar([0], [0], color=plots.ACCENT, label="marked")      # the legend's swatch
        title = ax.set_title(" ", fontsize=11, y=1.0)
        ax.set_ylabel("input")
        ax.set_ylim(0, 1.05)
        ax.set_yticks([0, 1])
        ax.legend(loc="upper right", fontsize=8)
        rows = (("i", "input gate i"), ("f", "forget gate f"), ("o", "output gate o"),
                ("c", "cell state c"))
        images, marks = {}, []
        for ax, (key, name) in zip(axes[1:], rows, strict=True):
            gate = key != "c"
            images[key] = ax.imshow(np.zeros((H, T)), aspect="auto",
                                    cmap="viridis" if gate else "RdBu_r", vmin=0 if gate else -1,
                                    vmax=1, interpolation="nearest")
            marks.append([ax.axvline(-5, color="white" if gate else "black", lw=1, ls=":")
                          for _ in range(2)])
            ax.set_ylabel(f"{name}\nunit")
            ax.set_yticks([0, H - 1])
            if key == "o":   # one scale for the three gates (and the input, to align it)
                fig.colorbar(images[key], ax=list(axes[:4]), pad=0.01, aspect=30,
                             label="gate: 0 closed, 1 open")
        fig.colorbar(images["c"], ax=axes[4], pad=0.01, aspect=8, label="cell state")
        for ax in axes:         # one time axis, ticks at the bottom only: ticks are
            ax.set_xlim(-0.5, T - 0.5)   # most of a redraw (not sharex: cheaper too)
            if ax is not axes[-1]:
                ax.set_xticks([])
        axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
        axes[-1].set_xlabel("time step t (dotted lines: the marked steps)")
        fig.parts = SimpleNamespace(model=model, bars=bars, title=title, images=images,
                                    marks=marks, c_limit=c_limit)
        update_gate_figure(fig, x)
    return plots.finish(fig)


def update_gate_figure(fig: Figure, x: np.ndarray) -> None:
    """Show another sequence x (T, 2), of the figure's length, in a ``gate_figure``."""
    parts = fig.parts
    if len(x) != len(parts.bars):
        raise ValueError(f"update_gate_figure: the figure shows {len(parts.bars)} steps, "
                         f"got a sequence of {len(x)}")
    gates = lstm_gates(parts.model.recurrent, x)
    marked = np.flatnonzero(x[:, 1] > 0.5)
    for t, bar in enumerate(parts.bars):
        bar.set_height(x[t, 0])
        bar.set_color(plots.ACCENT if t in marked else "#a0aec0")
    prediction = float(parts.model(x[None])[0, 0])
    parts.title.set_text(f"the two marked values sum to {x[marked, 0].sum():.3f}; "
                         f"the LSTM says {prediction:.3f}")
    limit = parts.c_limit or max(float(np.abs(gates["c"]).max()), 1e-6)
    for key, image in parts.images.items():
        image.set_data(gates[key].T)                              # (H, T)
        if key == "c":
            image.set_clim(-limit, limit)
    for lines in parts.marks:
        for k, line in enumerate(lines):
            line.set_xdata([marked[k]] * 2 if k < len(marked) else [-5, -5])


# -- widgets -------------------------------------------------------------------------------

def gate_explorer(model: LastStep, X: np.ndarray):
    """A slider over the sequences of X (N, T, 2): the gates of the chosen one."""
    import ipywidgets as widgets

    index = widgets.IntSlider(value=0, min=0, max=len(X) - 1, description="test sequence",
                              tooltip="which test sequence the trained LSTM reads; the gates "
                                      "and cell state below are for that one",
                              style=plots.slider_style())

    limit = cell_state_limit(model.recurrent, X)    # one colour scale for every sequence

    def draw(index: int) -> Figure:
        return gate_figure(model, X[index], c_limit=limit)

    def update(fig: Figure, index: int) -> None:
        update_gate_figure(fig, X[index])

    def animated(fig: Figure) -> list:     # all but the axes, ticks and colour bars
        parts = fig.parts
        return [*parts.bars, parts.title, *parts.images.values(),
                *[line for lines in parts.marks for line in lines]]

    return plots.interactive_figure(draw, {"index": index}, update=update, columns=1,
                                    animated=animated, name="gate_explorer")


def length_explorer(results: dict[int, LengthResult]):
    """A slider over the trained lengths: both models' predictions at that length."""
    import ipywidgets as widgets

    lengths = sorted(results)
    length = widgets.SelectionSlider(options=lengths, value=lengths[-1],
                                     description="sequence length T",
                                     tooltip="the length whose models' predictions are shown "
                                             "on the right (marked on the left)",
                                     style=plots.slider_style())

    def draw(length: int) -> Figure:
        return lengths_figure(results, length)

    def animated(fig: Figure) -> list:     # the marker, the points and their legend
        parts = fig.parts
        return [parts.marker, *parts.points.values(), parts.legend, parts.title]

    return plots.interactive_figure(draw, {"length": length}, update=update_lengths_figure,
                                    columns=1, animated=animated, name="length_explorer")
