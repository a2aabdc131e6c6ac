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

import functools
import time
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
from .widgets import FigureView, Player

SCALES = (0.5, 0.8, 1.0, 1.2, 1.5, 2.0)   # the reference curves of the gradient figure
FORWARD_COLOR, BACKWARD_COLOR = plots.FORWARD_COLOR, plots.BACKWARD_COLOR


# -- pictures --------------------------------------------------------------------------

def _box(ax, x, y, text, color):
    plots.box(ax, x, y, text, color=color, w=0.9, h=0.6, lw=2, rounding=0.1)


def _arrow(ax, a, b, color=ARROW_COLOR, rad=0.0):
    plots.arrow(ax, a, b, color=color, curve=rad, size=14)


def unrolled_figure(steps: int = 4, backward: bool = False) -> Figure:
    """Left: an RNN cell with its loop (h feeds back). Right: the same cell
    unrolled over ``steps`` time steps, one copy per step, sharing its weights.
    ``backward=True`` adds the gradient flowing back through time (vermillion)."""
    with plots.style():
        # a diagram drawn to scale (aspect 1): "wide" would leave bands above and below
        fig, ax = plt.subplots(figsize=(10.0, 3.6), dpi=plots.DPI)
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


def gradient_norms_by_length(scale: float, max_length: int = 100, hidden: int = 16,
                             seed: int = 0) -> np.ndarray:
    """``hidden_gradient_norms(scale, length)`` for every length from 1 to ``max_length``
    at once: row ``length - 1`` of the (max_length, max_length) result holds its
    ||dL/dh_t|| for t = 0 .. length-1 (zeros after).

    The same engine calls, going back one step at a time: run the RNN for the single
    step t+1 from the state h_t; its backward of dL/dh_{t+1} leaves dL/dh_t in
    ``grad_hx``. A batch of one row per length carries every loss back in the same pass
    (the input sequences of all lengths start alike: the same seeded draws), so this is
    ``max_length`` one-step calls instead of a restart from every step for every length.
    """
    rnn = scaled_rnn(scale, hidden, seed)
    x = np.random.default_rng(seed + 1).standard_normal((1, max_length, 1)).astype(np.float32)
    v = np.full(hidden, 1 / np.sqrt(hidden), dtype=np.float32)
    output, _ = rnn(x)                                   # h_0 .. h_{T-1}, as there
    lengths = np.arange(1, max_length + 1)
    grads = np.zeros((max_length, hidden), np.float32)   # dL/dh_t, one row per length
    norms = np.zeros((max_length, max_length))
    for t in reversed(range(max_length)):
        if t < max_length - 1:                           # one step back, from h_{t+1}
            h_t = np.repeat(output[:, t], max_length, axis=0)[None]
            out, _ = rnn(np.repeat(x[:, t + 1:t + 2], max_length, axis=0), h_t)
            rnn.backward(grads[:, None])
            grads = rnn.grad_hx[0][0]                    # (layers, N, H): layer 0
        grads[lengths - 1 == t] = v                      # the loss of this length reads h_t
        norms[:, t] = np.linalg.norm(grads, axis=1)
    return norms


@functools.lru_cache(maxsize=64)
def _norms_by_length(scale: float, max_length: int) -> np.ndarray:
    norms = gradient_norms_by_length(scale, max_length)
    norms.flags.writeable = False
    return norms


def _norms(scale: float, length: int) -> np.ndarray:
    """``hidden_gradient_norms(scale, length)``, kept: every length up to 100 (or
    ``length``) is computed at once for a scale, so a widget asks for them again at no
    cost."""
    return _norms_by_length(scale, max(length, 100))[length - 1, :length]


def _fill_gradient_figure(fig: Figure, scale: float, length: int, scales: tuple) -> bool:
    """Put the curves into a ``gradient_figure``; True if the y limits had to grow."""
    parts = fig.parts
    t = np.arange(length)
    if parts.length != length:                     # the grey reference curves
        for s, line, label in zip(scales, parts.references, parts.labels, strict=True):
            norms = _norms(s, length)
            line.set_data(t, norms)
            label.xy = (0, norms[0])
        parts.ax.set_xlim(-0.05 * length, length)      # room on the left for the labels
        # h₉₉ in Unicode, not mathtext: a new length redraws it
        subscript = str(length - 1).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
        parts.ax.set_xlabel(f"time step t  (the loss reads h{subscript}, on the right)")
        parts.length = length
    norms = _norms(scale, length)
    kind = ("explodes" if norms[0] > 10 else "vanishes" if norms[0] < 1e-2 else "survives")
    parts.chosen.set_data(t, norms)
    parts.chosen.set_label(f"scale {scale:g}: the gradient {kind}")
    parts.verdict.set_text(parts.chosen.get_label())
    if parts.span is None:
        parts.ax.relim()
        parts.ax.autoscale_view(scalex=False)
        return False
    low, high = parts.ax.get_ylim()
    if norms.max() > high:         # a scale between the span's ends exploded further
        parts.ax.set_ylim(low, 3 * norms.max())
        return True
    return False


def _span_limits(span: tuple[float, float], scales: tuple, max_length: int
                 ) -> tuple[float, float]:
    """y limits (log scale) that hold the curve of any scale in ``span`` and the
    reference ``scales``, at any length up to ``max_length``."""
    curves = [_norms_by_length(s, max(max_length, 100))[:max_length] for s in (*span, *scales)]
    low = min(float(n[n > 0].min()) for n in curves if (n > 0).any())
    high = max(float(n.max()) for n in curves)
    # below 1e-20 (float32 even underflows to 0 at small scales) is all "vanished"
    return max(low / 3, 1e-20), high * 3


def gradient_figure(scale: float = 1.0, length: int = 50, scales: tuple = SCALES,
                    span: tuple[float, float] | None = None,
                    max_length: int | None = None) -> Figure:
    """||dL/dh_t|| against t on a log scale: grey curves for the reference
    ``scales``, the chosen ``scale`` in colour. With ``span`` (the lowest and highest
    scale a slider offers), the y limits fit any scale in it at any length up to
    ``max_length`` (default ``length``) and stay put when the scale or the length changes.
    ``update_gradient_figure`` shows another scale or length in the same figure;
    ``gradient_artists`` are all it changes (the x axis with them, for a new length)."""
    with plots.style():
        fig, ax = plots.subplots("wide")
        references = [ax.plot([], [], color="#a0aec0", lw=1)[0] for _ in scales]
        labels = [ax.annotate(f"{s:g}", (0, 1.0), xytext=(-3, 0), textcoords="offset points",
                              ha="right", va="center", fontsize=8, color="#718096")
                  for s in scales]
        (chosen,) = ax.plot([], [], color=BACKWARD_COLOR, lw=3, label=" ")
        # what the chosen curve does, in its colour (a text: cheaper to redraw than a legend)
        verdict = ax.text(0.98, 0.04, " ", transform=ax.transAxes, ha="right", va="bottom",
                          color=BACKWARD_COLOR, fontsize=10.5, weight="bold",
                          bbox=dict(fc="white", ec="#cbd5e0", alpha=0.9, boxstyle="round"))
        ax.set_yscale("log")
        # time steps: whole, round numbers, few of them (tick labels are what a move redraws)
        ax.xaxis.set_major_locator(MaxNLocator(6, integer=True, steps=[1, 2, 5, 10]))
        ax.set_ylabel("||dL/dh_t||  (log scale)")
        ax.set_title(f"how much of the gradient reaches step t; grey: scales "
                     f"{', '.join(f'{s:g}' for s in scales)}", y=1.0)
        ax.grid(True, which="major", alpha=0.3)
        if span is not None:
            ax.set_ylim(*_span_limits(span, tuple(scales), max_length or length))
        fig.parts = SimpleNamespace(ax=ax, references=references, labels=labels, chosen=chosen,
                                    verdict=verdict, length=None,
                                    span=span)
        _fill_gradient_figure(fig, scale, length, tuple(scales))
    return plots.finish(fig)


def update_gradient_figure(fig: Figure, scale: float = 1.0, length: int = 50,
                           scales: tuple = SCALES) -> bool:
    """Show another scale (or length) in a figure ``gradient_figure`` made. True when
    the y limits grew (a rare scale inside the span explodes beyond both its ends):
    then the whole figure must be drawn again, else only ``gradient_artists``."""
    return _fill_gradient_figure(fig, scale, length, tuple(scales))


def gradient_layers(fig: Figure) -> list[list]:
    """What a new length or scale changes in a ``gradient_figure`` with a ``span`` (fixed
    y limits), as two blitting layers: the x axis (its limits follow the length), the
    grey curves and their labels; over them the chosen scale's curve and its verdict.
    The y axis, its grid and the title are drawn once, under both."""
    parts = fig.parts
    return [[parts.ax.xaxis, *parts.references, *parts.labels], [parts.chosen, parts.verdict]]


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


def _forecast_artists(ax, window: int, length: int) -> SimpleNamespace:
    """The lines of a forecast (empty until ``_fill_forecast``) in ``ax``, fixed limits."""
    (truth,) = ax.plot([], [], color="#a0aec0", lw=1.5, label="the true wave")
    (given,) = ax.plot([], [], "o-", color=plots.CLASS_COLORS[0], ms=4,
                       label=f"given: {window} values")
    (predicted,) = ax.plot([], [], "s--", color=plots.CLASS_COLORS[1], ms=3,
                           label="predicted, each value fed back in")
    ax.set_xlim(-1, length)
    ax.set_ylim(-1.5, 1.5)
    ax.set_xlabel("time step")
    ax.set_ylabel("value")
    ax.legend(loc="lower left", ncols=3, fontsize=9)
    return SimpleNamespace(truth=truth, given=given, predicted=predicted,
                           title=ax.set_title(" ", y=1.0), window=window)


def _fill_forecast(parts: SimpleNamespace, model: nn.Module, series: np.ndarray, steps: int,
                   wave: int) -> float:
    """Roll ``model`` forward ``steps`` steps from the start of ``series`` and put
    the lines into ``parts``; returns the root mean squared error."""
    window = parts.window
    steps = int(min(steps, len(series) - window))
    predicted = roll_forward(model, series[:window], steps)
    error = float(np.sqrt(np.mean((predicted - series[window:window + steps]) ** 2)))
    t = np.arange(len(series))
    parts.truth.set_data(t, series)
    parts.given.set_data(t[:window], series[:window])
    parts.predicted.set_data(t[window:window + steps], predicted)
    if parts.title is not None:
        parts.title.set_text(f"test wave {wave}, {steps} steps predicted: root mean "
                             f"squared error {error:.3f}")
    return error


def sine_figure(model: nn.Module, steps: int = 60, wave: int = 0,
                waves: np.ndarray | None = None, window: int = 20) -> Figure:
    """A test wave: the window the model starts from, the truth after it, and the
    model's prediction rolled forward ``steps`` steps."""
    waves = unseen_waves(window=window) if waves is None else waves
    with plots.style():
        fig, ax = plots.subplots("wide")
        fig.parts = _forecast_artists(ax, window, waves.shape[1])
        _fill_forecast(fig.parts, model, waves[wave], steps, wave)
    return plots.finish(fig)


class SineTrainer:
    """``train_sine`` one mini-batch at a time, for a picture that moves as it learns:
    the same data, loader (shuffled with ``seed``), Adam, loss and steps as
    ``train.fit``, so after k epochs the model is the one ``train_sine(model, k)``
    gives. ``step()`` trains on one mini-batch; ``epoch_losses`` are fit's
    ``history["loss"]`` (the mean over each epoch); ``smooth`` is a moving average of
    the mini-batch losses, one value per step, for a curve that moves every frame."""

    def __init__(self, model: LastStep | None = None, history: train.History | None = None,
                 hidden: int = 32, n: int = 2000, window: int = 20, lr: float = 0.003,
                 seed: int = 0):
        self.model = sine_model(hidden, seed) if model is None else model
        X, y = data.sine_waves(n=n, window=window, seed=seed)
        self.loader = data.DataLoader(data.TensorDataset(X, y), batch_size=32, shuffle=True,
                                      seed=seed)
        self.loss_fn = nn.MSELoss()
        self.optimizer = optim.Adam(self.model.parameters(), lr=lr)
        self.per_epoch = len(self.loader)
        self.epoch_losses = [] if history is None else list(history["loss"])
        self.steps = self.per_epoch * len(self.epoch_losses)   # mini-batches trained
        self.smooth_steps: list[float] = []
        self.smooth: list[float] = []
        self._batches = None
        self._sum = self._count = 0

    @property
    def epoch(self) -> float:
        """Epochs trained, fractional within an epoch."""
        return self.steps / self.per_epoch

    @property
    def loss(self) -> float | None:
        """The latest smoothed mini-batch loss (or the last epoch's, before a step)."""
        if self.smooth:
            return self.smooth[-1]
        return self.epoch_losses[-1] if self.epoch_losses else None

    def step(self) -> float:
        """Train on the next mini-batch (a new epoch reshuffles); returns its loss."""
        if self._batches is None:
            self._batches = iter(self.loader)
        batch = next(self._batches, None)
        if batch is None:                              # the epoch is over: the next one
            self._batches = iter(self.loader)
            batch = next(self._batches)
        X, y = batch
        self.model.train()
        loss = float(self.loss_fn(self.model(X), y))
        if not np.isfinite(loss):
            raise train.NonFiniteLossError(int(self.epoch) + 1, self.steps % self.per_epoch + 1,
                                           self.per_epoch, loss, self.optimizer.lr)
        self.model.backward(self.loss_fn.backward())
        self.optimizer.step()
        self.optimizer.zero_grad()
        self.steps += 1
        self._sum += loss * len(X)
        self._count += len(X)
        if self.steps % self.per_epoch == 0:           # fit's epoch loss: the mean over it
            self.epoch_losses.append(self._sum / self._count)
            self._sum = self._count = 0
        previous = self.smooth[-1] if self.smooth else loss
        self.smooth.append(0.9 * previous + 0.1 * loss)
        self.smooth_steps.append(self.epoch)
        return loss


def training_figure(trainer: SineTrainer, steps: int = 60, wave: int = 0,
                    waves: np.ndarray | None = None, epochs: int = 80) -> Figure:
    """Left: the forecast of ``trainer.model`` on a test wave (as ``sine_figure``).
    Right: its training loss so far (log scale) against epochs, up to ``epochs``.
    ``fig.parts.layers`` are the loss axis's x axis (its limits follow ``epochs``) and the
    lines that move as it trains, for ``FigureView(layers=...)``: everything else stays
    (the other limits and the titles are fixed; the numbers go in the widget's status
    line, text being the costliest thing to draw).
    ``fig.parts.error`` is the forecast's root mean squared error."""
    waves = unseen_waves() if waves is None else waves
    with plots.style():
        fig, (ax, ax_loss) = plots.subplots("wide", 1, 2, width_ratios=[2.3, 1])
        parts = _forecast_artists(ax, 20, waves.shape[1])
        parts.title.set_text("forecast of a test wave the RNN never saw")
        parts.title = None                              # its numbers: the status line
        (parts.loss_line,) = ax_loss.plot([], [], color=plots.CLASS_COLORS[0], lw=1.5,
                                          label="mini-batches\n(moving average)")
        (parts.epoch_dots,) = ax_loss.plot([], [], "o", color=plots.CLASS_COLORS[1], ms=3.5,
                                           label="mean of each epoch")
        ax_loss.set_yscale("log")
        ax_loss.set_ylim(1e-4, 1.0)
        ax_loss.set_xlabel("epoch")
        ax_loss.set_ylabel("training loss (MSE, log)")
        ax_loss.grid(True, which="major", alpha=0.3)
        ax_loss.legend(loc="upper right", fontsize=8)
        ax_loss.set_title("training loss", y=1.0)
        parts.ax_loss = ax_loss
        # blitted in two layers: the loss axis's x axis (its limits follow the epochs
        # slider: ticks and vertical grid lines redrawn when it moves), and over it the
        # lines, redrawn every live frame
        parts.layers = [[ax_loss.xaxis], [parts.truth, parts.given, parts.predicted,
                                          parts.loss_line, parts.epoch_dots]]
        parts.forecast_of = None
        fig.parts = parts
        update_training_figure(fig, trainer, steps, wave, waves, epochs)
    return plots.finish(fig)


def update_training_figure(fig: Figure, trainer: SineTrainer, steps: int, wave: int,
                           waves: np.ndarray, epochs: int) -> bool:
    """Put the trainer's current state into a figure ``training_figure`` made (the
    loss axes' limits follow ``epochs``; True when they moved). The forecast is rolled
    again only when the model trained or the wave or the number of steps changed."""
    parts = fig.parts
    forecast_of = (trainer, trainer.steps, id(waves), wave, steps)
    if parts.forecast_of != forecast_of:
        parts.error = _fill_forecast(parts, trainer.model, waves[wave], steps, wave)
        parts.forecast_of = forecast_of
    parts.loss_line.set_data(trainer.smooth_steps, trainer.smooth)
    parts.epoch_dots.set_data(np.arange(1, len(trainer.epoch_losses) + 1), trainer.epoch_losses)
    limits = (0, max(epochs, trainer.epoch, 1))
    if parts.ax_loss.get_xlim() == limits:
        return False
    parts.ax_loss.set_xlim(*limits)
    return True


def sine_predictor(model: LastStep | None = None, history: train.History | None = None,
                   hidden: int = 32):
    """Train an RNN on sine waves live (Train/Pause, Step: one mini-batch, Reset: a new
    untrained RNN) up to the epochs on the slider, and roll it forward (sliders: how
    many steps; which test wave); the forecast, the loss curve and the numbers move
    as it learns. Starts from ``model`` if given, trained as ``history`` says (further
    training continues it, with a fresh Adam)."""
    import ipywidgets as widgets

    state = {"trainer": SineTrainer(model, history, hidden)}
    style = plots.slider_style()
    steps = widgets.IntSlider(value=60, min=1, max=100, description="values to forecast",
                              tooltip="how many values the RNN predicts, each fed back in "
                                      "as its next input", style=style)
    wave = widgets.IntSlider(value=0, min=0, max=7, description="test wave",
                             tooltip="which of 8 waves the RNN never saw to forecast",
                             style=style)
    trained = len(state["trainer"].epoch_losses)      # Train at once goes 40 epochs further
    epochs = widgets.IntSlider(value=min(trained + 40, 150), min=5,
                               max=150, step=5, description="epochs to train",
                               tooltip="Train runs until the RNN has had this many epochs "
                                       "(then stops; raise it to train on)", style=style)
    waves = unseen_waves()

    def values() -> dict:
        return {"steps": steps.value, "wave": wave.value, "waves": waves,
                "epochs": epochs.value}

    fig = training_figure(state["trainer"], **values())
    view = FigureView(fig, layers=fig.parts.layers, name="sine_predictor",
                      format="jpeg")   # live frames: JPEG encodes in ~3 ms, PNG ~20

    def draw(control: str = "") -> None:
        """Redraw the lines (a live frame), and the loss axis under them if it moved."""
        start = time.perf_counter()
        moved = update_training_figure(view.fig, state["trainer"], **values())
        view.refresh(0 if moved else 1, control=control,
                     compute_ms=1e3 * (time.perf_counter() - start))

    def step() -> bool:
        trainer = state["trainer"]
        if trainer.epoch >= epochs.value:
            return False
        trainer.step()
        return trainer.epoch < epochs.value

    def reset() -> None:
        state["trainer"] = SineTrainer(hidden=hidden)

    def status() -> str:
        trainer = state["trainer"]
        loss = trainer.loss
        return (f"epoch {trainer.epoch:.1f} of {epochs.value}" +
                ("" if loss is None else f", training loss {loss:.2e}") +
                f" · test wave {wave.value}, {steps.value} steps: root mean squared error "
                f"{view.fig.parts.error:.3f}")

    # fps 40: a frame (forecast + PNG) takes ~35 ms, so Player's 60% of a period for
    # training between frames leaves ~20 frames/s (at 25 it would be ~17)
    player = Player(step, draw, reset, status=status, play_label="Train", controls=[epochs],
                    fps=40)
    player.done = state["trainer"].epoch >= epochs.value     # the RNN given is trained

    def show_status() -> None:
        # Player shows its status after each frame; a slider moved while paused needs it too
        player.status.value = (f"<span style='font-family:monospace'>{status()}"
                               + (" · done" if player.done else "") + "</span>")

    def on_slider(change) -> None:
        draw(control=change["owner"].description)
        show_status()

    def on_epochs(change=None) -> None:
        if state["trainer"].epoch < epochs.value:       # raised: Train goes on from here
            player.rearm()
        draw(control=epochs.description)                # the loss axis: 0 .. epochs
        show_status()

    steps.observe(on_slider, names="value")
    wave.observe(on_slider, names="value")
    epochs.observe(on_epochs, names="value")
    on_epochs()
    box = widgets.VBox([widgets.HBox([steps, wave, epochs]), player.widget, view.widget])
    box.view, box.player, box.state = view, player, state
    return box


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
                                             style=plots.slider_style()),
                "length": widgets.IntSlider(value=length, min=10, max=100, step=10,
                                            description="sequence length T",
                                            tooltip="how many steps the RNN reads; the loss "
                                                    "reads only the last hidden state",
                                            style=plots.slider_style())}
    span = (controls["scale"].min, controls["scale"].max)
    fig = gradient_figure(controls["scale"].value, controls["length"].value, span=span,
                          max_length=controls["length"].max)
    # Every length is computed at once for a scale (``gradient_norms_by_length``) and
    # kept, and the y limits hold every scale and length the sliders offer, so a move
    # redraws only what it changes over the rest (blitting in two layers): a new scale
    # its curve and verdict, a new length the x axis and the grey curves too. Quick
    # enough to follow the drag.
    view = FigureView(fig, layers=gradient_layers(fig), name="vanishing_widget")
    view.show(control="(first)")

    def redraw(change) -> None:
        start = time.perf_counter()
        grew = update_gradient_figure(fig, controls["scale"].value, controls["length"].value)
        timing = {"control": next(k for k, c in controls.items() if c is change["owner"]),
                  "compute_ms": 1e3 * (time.perf_counter() - start)}
        if grew:                                  # the y axis moved: everything again
            view.show(**timing)
        else:
            view.refresh(0 if timing["control"] == "length" else 1, **timing)

    for control in controls.values():
        control.continuous_update = True
        control.observe(redraw, names="value")
    box = widgets.VBox([widgets.HBox(list(controls.values())), view.widget])
    box.view, box.controls = view, controls
    return box
