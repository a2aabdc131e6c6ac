"""Lesson 08's pictures and widgets: recurrent networks, unrolled in time.

    from dlcore.viz import recurrent as rv
    rv.unrolled_figure(steps=4)                      # the RNN cell, unrolled
    norms = rv.hidden_gradient_norms(scale=0.9)      # ||dL/dh_t|| for t = 0..T-1
    rv.gradient_figure(scale=1.5)                    # vanishing and exploding, log scale
    model = rv.sine_model(); rv.train_sine(model)    # next-step prediction of sine waves
    rv.sine_figure(model, steps=60)                  # rolled forward on its own predictions

The models are ``nn.LastStep``: a recurrent layer and a head that reads only its
last output (sequence in, one prediction out). Every gradient here comes from the
engine's own ``backward`` (backpropagation through time).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .. import data, nn, optim, train
from ..nn import LastStep
from ..rng import manual_seed
from . import plots

SCALES = (0.5, 0.8, 1.0, 1.2, 1.5, 2.0)   # the reference curves of the gradient figure
FORWARD_COLOR, BACKWARD_COLOR = plots.FORWARD_COLOR, plots.BACKWARD_COLOR


# -- pictures --------------------------------------------------------------------------

def _box(ax, x, y, text, color, w=0.9, h=0.6):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, fc="white", ec=color, lw=2,
                                boxstyle="round,pad=0.02,rounding_size=0.1"))
    ax.text(x, y, text, ha="center", va="center", fontsize=11)


def _arrow(ax, a, b, color="0.35", rad=0.0, lw=1.6, style="-|>"):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=14, color=color,
                                 lw=lw, connectionstyle=f"arc3,rad={rad}"))


def unrolled_figure(steps: int = 4, backward: bool = False) -> Figure:
    """Left: an RNN cell with its loop (h feeds back). Right: the same cell
    unrolled over ``steps`` time steps, one copy per step, sharing its weights.
    ``backward=True`` adds the gradient flowing back through time (vermillion)."""
    with plots.style():
        fig, ax = plt.subplots(figsize=(11, 3.9), dpi=plots.DPI)
        color = plots.CLASS_COLORS[2]
        # folded
        _box(ax, 0, 0, "RNN\ncell", color)
        ax.text(0, -1.35, "$x_t$", ha="center", fontsize=12)
        _arrow(ax, (0, -1.15), (0, -0.32))
        _arrow(ax, (0, 0.32), (0, 1.05))
        ax.text(0, 1.2, "$h_t$", ha="center", fontsize=12)
        _arrow(ax, (0.45, 0.1), (0.45, -0.1), rad=-2.8)
        ax.text(0.95, 0.0, "$h_{t-1}$", fontsize=10, va="center")
        ax.text(1.55, 0, "=", fontsize=20, ha="center", va="center")
        # unrolled
        xs = 2.8 + 1.7 * np.arange(steps)
        for t, x in enumerate(xs, start=1):
            _box(ax, x, 0, "RNN\ncell", color)
            ax.text(x, -1.35, f"$x_{t}$", ha="center", fontsize=12)
            _arrow(ax, (x, -1.15), (x, -0.32))
            _arrow(ax, (x, 0.32), (x, 1.05))
            ax.text(x, 1.2, f"$h_{t}$", ha="center", fontsize=12)
            ax.text(x - 0.85, 0.12, f"$h_{t - 1}$", ha="center", fontsize=10)
            _arrow(ax, (x - 1.25, 0), (x - 0.46, 0))
            if backward:
                _arrow(ax, (x - 0.46, -0.22), (x - 1.25, -0.22), color=BACKWARD_COLOR)
        if backward:
            ax.text(xs[-1] + 0.3, 1.55, "loss $L$", color=BACKWARD_COLOR, fontsize=11)
            _arrow(ax, (xs[-1] + 0.55, 1.45), (xs[-1] + 0.15, 1.15), color=BACKWARD_COLOR)
            caption = ("backpropagation through time: dL/dh flows right to left,\n"
                       "multiplied at every step by $W_{hh}^T$ and the tanh slopes")
        else:
            caption = ("the same weights $W_{ih}$, $W_{hh}$, $b$ at every step:\n"
                       "$h_t = \\tanh(W_{ih} x_t + W_{hh} h_{t-1} + b)$")
        # Two short lines, centred on the unrolled cells: a one-line caption ran past the
        # right edge of the axes and was cut off in the notebook's tight crop.
        ax.text(xs.mean(), -2.05, caption, ha="center", va="center", fontsize=10.5,
                color=BACKWARD_COLOR if backward else "black", linespacing=1.5)
        ax.set_xlim(-0.8, xs[-1] + 1.0)
        ax.set_ylim(-2.55, 1.8)
        ax.set_aspect("equal")
        ax.axis("off")
        fig.tight_layout()
    return plots.finish(fig)


# -- vanishing and exploding gradients ---------------------------------------------------

def scaled_rnn(scale: float, hidden: int = 16, seed: int = 0) -> nn.RNN:
    """An ``nn.RNN(1, hidden)`` (tanh, no bias) whose recurrent weight W_hh is
    ``scale`` times a random orthogonal matrix: every direction is stretched by
    exactly ``scale`` at each step (before tanh)."""
    manual_seed(seed)
    rnn = nn.RNN(1, hidden, bias=False, batch_first=True)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((hidden, hidden)))
    rnn.weight_hh_l0.data[:] = scale * q
    return rnn


def hidden_gradient_norms(scale: float, length: int = 50, hidden: int = 16, seed: int = 0
                          ) -> np.ndarray:
    """||dL/dh_t|| for t = 0 .. length-1, where L = v . h_T (v a unit vector) is a
    loss that reads only the last hidden state, for ``scaled_rnn(scale)`` on a
    random input sequence.

    The engine keeps dL/dh_t inside its backward loop; to read it, start the
    same RNN at step t+1 from the state h_t: its backward leaves dL/d(initial
    state) in ``grad_hx``, which is exactly dL/dh_t.
    """
    rnn = scaled_rnn(scale, hidden, seed)
    g = np.random.default_rng(seed + 1)
    x = g.standard_normal((1, length, 1)).astype(np.float32)
    v = np.full((1, hidden), 1 / np.sqrt(hidden), dtype=np.float32)
    output, _ = rnn(x)                                   # h_1 .. h_T of the whole run
    norms = np.empty(length)
    norms[-1] = np.linalg.norm(v)                        # dL/dh_T = v
    for t in range(length - 1):
        out, _ = rnn(x[:, t + 1:], output[:, t][None])   # resume from h_t
        grad = np.zeros_like(out)
        grad[:, -1] = v
        rnn.backward(grad)
        norms[t] = np.linalg.norm(rnn.grad_hx[0])
    return norms


def gradient_figure(scale: float = 1.0, length: int = 50, scales: tuple = SCALES) -> Figure:
    """||dL/dh_t|| against t on a log scale: grey curves for the reference
    ``scales``, the chosen ``scale`` in colour."""
    with plots.style():
        fig, ax = plots.subplots("wide")
        t = np.arange(length)
        for s in scales:
            norms = hidden_gradient_norms(s, length)
            ax.plot(t, norms, color="#a0aec0", lw=1)
            ax.text(-0.5, norms[0], f"{s:g}", ha="right", va="center", fontsize=8,
                    color="#718096")
        norms = hidden_gradient_norms(scale, length)
        kind = ("explodes" if norms[0] > 10 else "vanishes" if norms[0] < 1e-2 else
                "survives")
        ax.plot(t, norms, color=BACKWARD_COLOR, lw=3,
                label=f"scale {scale:g}: the gradient {kind}")
        ax.set_yscale("log")
        ax.set_xlim(-4, length)
        ax.set_xlabel(f"time step t  (the loss reads $h_{{{length - 1}}}$, on the right)")
        ax.set_ylabel("||dL/dh_t||  (log scale)")
        ax.set_title(f"how much of the gradient reaches step t; grey: scales "
                     f"{', '.join(f'{s:g}' for s in scales)}")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="lower right")
    return plots.finish(fig)


# -- sine waves ------------------------------------------------------------------------

def sine_model(hidden: int = 32, seed: int = 0) -> LastStep:
    """RNN(1, hidden) and Linear(hidden, 1): a window of values in, the next value out."""
    manual_seed(seed)
    return LastStep(nn.RNN(1, hidden, batch_first=True), nn.Linear(hidden, 1))


def train_sine(model: LastStep, epochs: int = 80, n: int = 2000, window: int = 20,
               lr: float = 0.003, seed: int = 0) -> train.History:
    """Train on ``data.sine_waves`` (next-step prediction, MSE) with Adam."""
    X, y = data.sine_waves(n=n, window=window, seed=seed)
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=32, shuffle=True,
                             seed=seed)
    return train.fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=lr), loader,
                     epochs=epochs, progress=False)


def unseen_waves(n: int = 8, window: int = 20, steps: int = 100, seed: int = 100
               ) -> np.ndarray:
    """Clean sine waves the model never saw: (n, window + steps), the first
    ``window`` values to start from, the rest the truth to predict."""
    X, _ = data.sine_waves(n=n, window=window + steps, noise=0.0, seed=seed)
    return X[:, :, 0]


def roll_forward(model: nn.Module, start: np.ndarray, steps: int) -> np.ndarray:
    """Predict ``steps`` values after ``start`` (T,), feeding each prediction
    back in: the window slides by one, dropping its oldest value."""
    window = np.asarray(start, np.float32).copy()
    predictions = np.empty(steps, np.float32)
    model.eval()
    for k in range(steps):
        predictions[k] = model(window[None, :, None])[0, 0]
        window = np.append(window[1:], predictions[k])
    model.train()
    return predictions


def sine_figure(model: nn.Module, steps: int = 60, wave: int = 0,
                waves: np.ndarray | None = None, window: int = 20) -> Figure:
    """A test wave: the window the model starts from, the truth after it, and the
    model's prediction rolled forward ``steps`` steps."""
    waves = unseen_waves(window=window) if waves is None else waves
    series = waves[wave]
    steps = int(min(steps, len(series) - window))
    predicted = roll_forward(model, series[:window], steps)
    truth = series[window:window + steps]
    error = float(np.sqrt(np.mean((predicted - truth) ** 2)))
    with plots.style():
        fig, ax = plots.subplots("wide")
        t = np.arange(len(series))
        ax.plot(t, series, color="#a0aec0", lw=1.5, label="the true wave")
        ax.plot(t[:window], series[:window], "o-", color=plots.CLASS_COLORS[0], ms=4,
                label=f"given: {window} values")
        ax.plot(t[window:window + steps], predicted, "s--", color=plots.CLASS_COLORS[1], ms=3,
                label=f"predicted: {steps} steps, each fed back in")
        ax.axvspan(window - 0.5, window + steps - 0.5, color=plots.ACCENT, alpha=0.08)
        ax.set_ylim(-1.5, 1.5)
        ax.set_xlabel("time step")
        ax.set_ylabel("value")
        ax.set_title(f"test wave {wave}: root mean squared error over the prediction "
                     f"{error:.3f}")
        ax.legend(loc="lower left", ncols=3, fontsize=9)
    return plots.finish(fig)


def windows_figure(X: np.ndarray, y: np.ndarray, count: int = 3) -> Figure:
    """The first ``count`` training examples of a next-value task: the window
    x_1..x_T (N, T, 1) as dots joined by lines, and the target y (N, 1) as a star."""
    with plots.style():
        fig, axes = plots.subplots("wide", 1, count, sharey=True)
        for k, ax in enumerate(np.atleast_1d(axes)):
            T = X.shape[1]
            ax.plot(np.arange(1, T + 1), X[k, :, 0], "o-", ms=3.5, color=plots.CLASS_COLORS[0],
                    label="input $x_1 .. x_T$")
            ax.plot(T + 1, y[k, 0], "*", ms=14, color=plots.CLASS_COLORS[1],
                    label="target: next value")
            ax.set_xlabel("time step t")
            ax.set_title(f"example {k}", fontsize=10)
            ax.set_ylim(-1.3, 1.75)
            if k == 0:
                ax.set_ylabel("value")
                ax.legend(loc="upper left", fontsize=8.5)
    return plots.finish(fig)


# -- widgets ---------------------------------------------------------------------------

def vanishing_widget(length: int = 50):
    """A slider for the recurrent weight's scale: ||dL/dh_t|| against t."""
    import ipywidgets as widgets

    controls = {"scale": widgets.FloatSlider(value=0.8, min=0.3, max=2.5, step=0.1,
                                             description="scale of W_hh",
                                             tooltip="W_hh is this number times a rotation: "
                                                     "below 1 it shrinks the gradient at "
                                                     "every step back, above 1 it stretches it",
                                             continuous_update=False,
                                             style=plots.slider_style()),
                "length": widgets.IntSlider(value=length, min=10, max=100, step=10,
                                            description="sequence length T",
                                            tooltip="how many steps the RNN reads; the loss "
                                                    "reads only the last hidden state",
                                            continuous_update=False,
                                            style=plots.slider_style())}
    return plots.interactive_figure(gradient_figure, controls, height="420px", columns=2)


def sine_status(trained: int | None, loss: float | None, epochs: int) -> str:
    """The sine predictor's status line: the RNN shown (``trained`` epochs, its last
    training ``loss``; None if unknown) and, when the epochs slider says otherwise,
    what the Train button will do."""
    if trained is None:
        shown = "shown: the RNN trained above"
    elif trained == 0:
        shown = "shown: an untrained RNN"
    else:
        shown = f"shown: an RNN trained for {trained} epochs"
        if loss is not None:
            shown += f" (training loss {loss:.3g})"
    if trained == epochs:
        return shown
    return f"{shown}. Press Train to train a new one for {epochs} epochs."


def sine_predictor(model: LastStep | None = None, history: train.History | None = None,
                   hidden: int = 32):
    """Train an RNN on sine waves (button, for the epochs on the slider), roll it
    forward (sliders: how many steps; which test wave). Starts from ``model`` if
    given, trained as ``history`` says. The status line says which RNN is shown
    and, once the epochs slider differs from it, that Train will make a new one."""
    import ipywidgets as widgets
    from IPython.display import display

    if model is None:
        model, trained, loss = sine_model(hidden), 0, None
    elif history is not None:
        trained, loss = len(history), history["loss"][-1]
    else:
        trained, loss = None, None
    state = {"model": model, "trained": trained, "loss": loss}
    style = plots.slider_style()
    steps = widgets.IntSlider(value=60, min=1, max=100, description="steps to predict",
                              tooltip="how many values the RNN predicts, each fed back in "
                                      "as its next input",
                              continuous_update=False, style=style)
    wave = widgets.IntSlider(value=0, min=0, max=7, description="test wave",
                             tooltip="which of 8 waves the RNN never saw to forecast",
                             continuous_update=False, style=style)
    epochs = widgets.IntSlider(value=trained or 80, min=5, max=150, step=5,
                               description="epochs", continuous_update=False, style=style,
                               tooltip="epochs of training for the next RNN (press Train); "
                                       "moving it trains nothing")
    button = widgets.Button(description="▶ Train a new RNN", button_style="success",
                            tooltip="train a fresh RNN on the sine waves for the epochs on "
                                    "the slider (a few seconds), then forecast with it")
    status = widgets.Label()
    out = widgets.Output(layout=widgets.Layout(height="420px", overflow="hidden"))
    waves = unseen_waves()

    def redraw(_change=None) -> None:
        fig = sine_figure(state["model"], steps.value, wave.value, waves)
        with out:
            out.clear_output(wait=True)
            display(fig)

    def show_status(_change=None) -> None:
        status.value = sine_status(state["trained"], state["loss"], epochs.value)

    def on_train(_button) -> None:
        button.disabled = True
        try:
            status.value = f"training a new RNN for {epochs.value} epochs..."
            model = sine_model(hidden)
            history = train_sine(model, epochs=epochs.value)
            state.update(model=model, trained=len(history), loss=history["loss"][-1])
            show_status()
            redraw()
        finally:
            button.disabled = False

    steps.observe(redraw, names="value")
    wave.observe(redraw, names="value")
    epochs.observe(show_status, names="value")
    button.on_click(on_train)
    show_status()
    redraw()
    return widgets.VBox([widgets.HBox([steps, wave]), widgets.HBox([epochs, button]), status,
                         out])
