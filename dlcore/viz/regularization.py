"""Lesson 10 (dropout and batch normalization): overfitting, dropout, batch norm.

    from dlcore.viz import regularization as reg
    X, y, X_val, y_val = reg.few_digits(per_class=10)      # 100 training digits
    history = reg.train_dropout(0.5, X, y, X_val, y_val)   # a big MLP, dropout p = 0.5
    reg.dropout_figure({0.0: h0, 0.5: history}, p=0.5)     # curves with and without
    sweep = reg.batchnorm_lr_sweep(X, y, lrs=(0.01, 0.1, 1.0))
    reg.batchnorm_figure(sweep, lr=0.1)                    # loss per step, BN on and off
    plain = reg.pre_activations(reg.deep_mlp(8), X)        # what each layer hands its ReLU
    reg.activation_figure(plain, with_bn, layer=4)

Widgets: ``dropout_explorer`` (a slider for p and a player that trains live, epoch
by epoch: ``DropoutRun`` is ``train_dropout`` one epoch at a time),
``batchnorm_explorer`` (a slider over the learning rates of a sweep) and
``activation_explorer`` (a slider over the layers).
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from types import SimpleNamespace

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .. import data, nn, optim, rng, train
from ..rng import manual_seed
from . import plots
from .transfer import per_class
from .widgets import one_blas_thread

PLAIN, BATCH_NORM = "without batch norm", "with batch norm"
STYLES = {PLAIN: ("o", "-"), BATCH_NORM: ("s", "--")}     # marker and line of each network
_GREY = "#718096"
_EDGE = "#a0aec0"
_TOP = 5.0                            # the loss axis of the batch-norm runs
_BINS = np.linspace(-3, 3, 61)        # the histograms of values entering a ReLU
SKETCH_WIDTHS = (6, 9, 9, 4)          # the network the dropout pictures draw
SKETCH_HIDDEN = sum(SKETCH_WIDTHS[1:-1])
# Where the axes of each "wide" figure below go, (left, bottom, width, height) in figure
# fractions: the places constrained layout finds for them, written down, so that drawing
# a figure needs no layout pass (one costs two to three draws of the figure).
DROPOUT_AXES = ((0.004, 0.113, 0.224, 0.79), (0.297, 0.113, 0.364, 0.79),
                (0.744, 0.113, 0.252, 0.79))
BATCHNORM_AXES = ((0.043, 0.119, 0.5, 0.783), (0.614, 0.119, 0.382, 0.783))
ACTIVATION_AXES = ((0.025, 0.113, 0.292, 0.79), (0.339, 0.113, 0.292, 0.79),
                   (0.704, 0.113, 0.292, 0.79))


def _place(fig: Figure, boxes: Sequence[Sequence[float]]) -> None:
    """Put the axes of ``fig`` at ``boxes`` (figure fractions), one box per axes."""
    for ax, box in zip(fig.axes, boxes, strict=True):
        ax.set_position(box)


def few_digits(per_class_count: int = 10, seed: int = 0
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``per_class_count`` handwritten 8x8 digits of each class for training
    (pixels in [0, 1], rows of 64) and the whole validation split of
    ``load_digits``: ``(X, y, X_val, y_val)``."""
    digits = data.load_digits()
    X, y = per_class(digits.X_train, digits.y_train, per_class_count, seed)
    return X, y, digits.X_val, digits.y_val


# -- dropout -------------------------------------------------------------------------------

def dropout_mlp(p: float, width: int = 256, depth: int = 2) -> nn.Sequential:
    """An MLP far bigger than 100 digits need: ``depth`` hidden layers of
    ``width`` ReLUs, each followed by ``Dropout(p)``, then 10 outputs."""
    layers: list[nn.Module] = []
    size = 64
    for _ in range(depth):
        layers += [nn.Linear(size, width), nn.ReLU(), nn.Dropout(p)]
        size = width
    return nn.Sequential(*layers, nn.Linear(size, 10))


def train_dropout(p: float, X: np.ndarray, y: np.ndarray, X_val: np.ndarray,
                  y_val: np.ndarray, epochs: int = 100, lr: float = 1e-3,
                  batch_size: int = 50, seed: int = 0) -> train.History:
    """Train ``dropout_mlp(p)`` with Adam from the initial weights of
    ``manual_seed(seed)`` (the same for every p) and return its History
    (training loss in train mode, validation loss and accuracy in eval mode)."""
    manual_seed(seed)
    model = dropout_mlp(p)
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=batch_size, shuffle=True,
                             seed=seed)
    with one_blas_thread():               # small products: faster on one thread
        return train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=lr),
                         loader, epochs=epochs, val_loader=(X_val, y_val), progress=False)


class NetworkSketch:
    """A small network drawn once, units and the lines between them; ``show(p, seed)``
    then thins it as one training step with dropout ``p`` sees it (each hidden unit
    dropped with probability ``p``: white, crossed out, its lines gone) by recolouring
    the artists already drawn, and returns how many hidden units were dropped."""

    def __init__(self, ax, widths: Sequence[int] = SKETCH_WIDTHS):
        self.ax, self.widths = ax, tuple(widths)
        last = len(widths) - 1
        self.positions = [np.linspace(w - 1, 0, w) - (w - 1) / 2 for w in widths]
        segments, self.pairs = [], []
        for i in range(last):
            for a, ya in enumerate(self.positions[i]):
                for b, yb in enumerate(self.positions[i + 1]):
                    segments.append([(i, ya), (i + 1, yb)])
                    self.pairs.append((i, a, b))
        self.lines = LineCollection(segments, colors=_EDGE, linewidths=0.6, zorder=1)
        ax.add_collection(self.lines)
        # All units as one scatter and all crosses as another: two artists to redraw.
        layer = np.repeat(np.arange(len(widths)), widths)
        self.hidden = (layer > 0) & (layer < last)        # which units dropout may drop
        self.colors = np.array([to_rgba(plots.CLASS_COLORS[0] if i == 0 else
                                        plots.CLASS_COLORS[1] if i == last else
                                        plots.CLASS_COLORS[2]) for i in layer])
        xs, ys = layer.astype(float), np.concatenate(self.positions)
        self.units = ax.scatter(xs, ys, s=150, c=self.colors, edgecolor="white", zorder=3)
        self.crosses = ax.scatter(xs, ys, s=0.0, marker="x", color=_EDGE, zorder=4)
        tallest = max(widths)
        names = ["input", "hidden\n1", "hidden\n2", "output"]
        for i in range(len(widths)):
            ax.text(i, -tallest / 2 - 0.6, names[i] if i < len(names) else "", ha="center",
                    va="top", fontsize=9)
        ax.set_xlim(-0.5, last + 0.5)
        ax.set_ylim(-tallest / 2 - 1.6, tallest / 2 + 0.3)
        ax.axis("off")

    def show(self, p: float, seed: int = 0) -> int:
        g = np.random.default_rng(seed)
        last = len(self.widths) - 1
        kept = [np.ones(w, bool) if i in (0, last) else g.random(w) >= p
                for i, w in enumerate(self.widths)]
        edge, none = to_rgba(_EDGE), (0.0, 0.0, 0.0, 0.0)
        self.lines.set_colors([edge if kept[i][a] and kept[i + 1][b] else none
                               for i, a, b in self.pairs])
        on = np.concatenate(kept)
        white = np.array(to_rgba("white"))
        self.units.set_facecolor(np.where(on[:, None], self.colors, white))
        self.units.set_edgecolor(np.where(on[:, None], white, to_rgba(_EDGE)))
        self.crosses.set_sizes(np.where(on, 0.0, 60.0))
        return int((~on).sum())


def thinned_network(ax, p: float, seed: int = 0, widths: Sequence[int] = SKETCH_WIDTHS) -> int:
    """Draw a small network as one training step of dropout sees it: each hidden
    unit dropped with probability ``p`` (white, crossed out, its lines gone).
    Returns how many hidden units were dropped."""
    return NetworkSketch(ax, widths).show(p, seed)


class DropoutRun:
    """``train_dropout`` one epoch at a time, for a widget that trains live: the same
    model, data, optimizer and seeds, so epoch for epoch the same numbers.
    ``step()`` trains one epoch (False once all are done); ``history`` grows.

    The run keeps its own state of the engine's random generator (dropout's masks),
    so whatever else draws from it between two epochs changes nothing."""

    def __init__(self, p: float, X: np.ndarray, y: np.ndarray, X_val: np.ndarray,
                 y_val: np.ndarray, epochs: int = 100, lr: float = 1e-3,
                 batch_size: int = 50, seed: int = 0):
        outer = rng.generator().bit_generator.state
        manual_seed(seed)
        self.p, self.epochs, self.val = p, epochs, (X_val, y_val)
        self.model = dropout_mlp(p)
        self.loader = data.DataLoader(data.TensorDataset(X, y), batch_size=batch_size,
                                      shuffle=True, seed=seed)
        self.optimizer = optim.Adam(self.model.parameters(), lr=lr)
        self.loss_fn = nn.CrossEntropyLoss()
        self.history = train.History()
        self._state = rng.generator().bit_generator.state
        rng.generator().bit_generator.state = outer

    @property
    def finished(self) -> bool:
        return len(self.history) >= self.epochs

    def step(self) -> bool:
        """Train one more epoch; returns whether any are left."""
        if self.finished:
            return False
        generator = rng.generator()
        outer, generator.bit_generator.state = generator.bit_generator.state, self._state
        try:
            with one_blas_thread():
                epoch = train.fit(self.model, self.loss_fn, self.optimizer, self.loader,
                                  epochs=1, val_loader=self.val, progress=False)
        finally:
            self._state = generator.bit_generator.state
            generator.bit_generator.state = outer
        self.history.append(len(self.history) + 1, epoch.last())
        return not self.finished


def _loss_limits(histories: Iterable, bottom: float = 1e-3, top: float = 4.0):
    """Fixed limits of the log-scale loss axis, widened only if a loss falls outside
    (so live frames can redraw just the curves)."""
    values = [v for h in histories if h is not None and len(h) for key in ("loss", "val_loss")
              for v in h[key] if v > 0]
    if values:
        bottom, top = min(bottom, min(values) / 1.5), max(top, max(values) * 1.5)
    return bottom, top


def dropout_figure(runs: Mapping[float, train.History], p: float, seed: int = 0,
                   epochs: int | None = None, history: train.History | None = None) -> Figure:
    """Left: the network as one training step with dropout ``p`` sees it.
    Middle: training (solid) and validation (dashed) loss of the run with ``p``
    (``history``, or ``runs[p]`` if trained) beside the run without dropout (grey).
    Right: the final validation loss of every run in ``runs`` (p -> History), ``p``
    ringed. ``epochs``: the length of the epoch axis (default: the longest run).

    The figure keeps its artists in ``fig.parts``; ``update_dropout_figure`` changes
    them. It changes only two layers of them (everything else, axes, ticks and legend,
    stays as drawn: a widget redraws just these): ``fig.parts.settings``, what changes
    with p (the sketch, the run without dropout, the ring), and ``fig.parts.moving``,
    what changes at every epoch of training (the curves of p and their numbers)."""
    longest = max([len(h) for h in runs.values()] + [len(history or ()), 1])
    with plots.style():
        fig, (ax_net, ax_loss, ax_p) = plots.subplots("wide", 1, 3, layout=None)
        _place(fig, DROPOUT_AXES)
        sketch = NetworkSketch(ax_net)
        ax_net.set_title(" \n ", fontsize=10)
        vermillion = plots.CLASS_COLORS[1]
        ref_train, = ax_loss.plot([], [], color=_GREY, ls="-", label="p = 0, train")
        ref_val, = ax_loss.plot([], [], color=_GREY, ls="--", label="p = 0, validation")
        train_line, = ax_loss.plot([], [], color=vermillion, ls="-", label="chosen p, train")
        val_line, = ax_loss.plot([], [], color=vermillion, ls="--",
                                 label="chosen p, validation")
        ax_loss.set_yscale("log")
        ax_loss.set_xlim(0, (epochs or longest) + 1)
        ax_loss.set_ylim(*_loss_limits(runs.values()))
        ax_loss.set_xlabel("epoch")
        ax_loss.set_ylabel("loss (log scale)")
        ax_loss.set_title(" \n ", fontsize=10)
        ax_loss.legend(fontsize=8, loc="lower left")        # drawn once: it never changes
        finals, = ax_p.plot([], [], "o-", color=plots.CLASS_COLORS[0])
        ring, = ax_p.plot([], [], "o", ms=14, mfc="none", mec=plots.ACCENT, mew=2.5)
        ax_p.set_xlim(-0.05, 0.95)
        ax_p.set_xlabel("dropout probability p")
        ax_p.set_ylabel("final validation loss")
        ax_p.set_title("every p tried (lower is better)", fontsize=10)
        ax_p.grid(True, alpha=0.3)
    settings = [sketch.lines, sketch.units, sketch.crosses, ax_net.title, ref_train, ref_val,
                finals, ring]
    moving = [train_line, val_line, ax_loss.title]
    fig.parts = SimpleNamespace(sketch=sketch, net=ax_net, loss=ax_loss, ps=ax_p,
                                ref=(ref_train, ref_val), lines=(train_line, val_line),
                                finals=finals, ring=ring, shown=None, settings=settings,
                                moving=moving)
    update_dropout_figure(fig, runs, p, seed, history)
    return plots.finish(fig)


def update_dropout_figure(fig: Figure, runs: Mapping[float, train.History], p: float,
                          seed: int = 0, history: train.History | None = None) -> bool:
    """Change a ``dropout_figure`` in place to show ``p`` (and ``history``, the run of
    ``p`` so far, if given). Only ``fig.parts.settings`` and ``.moving`` change,
    unless an axis had to change its limits (a loss outside the loss axis, a new final
    loss on the right): then it returns True (the whole figure needs drawing again)."""
    parts = fig.parts
    p = round(float(p), 2)
    if parts.shown != (p, seed):
        dropped = parts.sketch.show(p, seed)
        parts.net.set_title(f"one step, p = {p:g} (sketch):\n{dropped} of {SKETCH_HIDDEN} "
                            "hidden units dropped", fontsize=10)
        parts.shown = (p, seed)
    run = history if history is not None else runs.get(p)
    reference = runs.get(0.0) if p != 0.0 else None
    for lines, h in ((parts.ref, reference), (parts.lines, run)):
        for line, key in zip(lines, ("loss", "val_loss"), strict=True):
            values = h[key] if h is not None and len(h) else []
            line.set_data(np.arange(1, len(values) + 1), values)
    if run is not None and len(run):
        parts.loss.set_title(f"p = {p:g}, epoch {len(run)}: loss train {run['loss'][-1]:.3g}, "
                             f"validation {run['val_loss'][-1]:.3g}\nvalidation accuracy "
                             f"{run['val_accuracy'][-1]:.1%}", fontsize=10)
    else:
        parts.loss.set_title(f"p = {p:g} not trained yet:\npress ▶ Train", fontsize=10)
    ps = sorted(runs)
    finals = [runs[q]["val_loss"][-1] for q in ps]
    parts.finals.set_data(ps, finals)
    parts.ring.set_data(([p], [runs[p]["val_loss"][-1]]) if p in runs else ([], []))
    limits = parts.loss.get_ylim(), parts.ps.get_ylim()
    if finals:
        pad = max(0.02, 0.15 * (max(finals) - min(finals)))
        parts.ps.set_ylim(min(finals) - pad, max(finals) + pad)
    bottom, top = limits[0]
    new = _loss_limits([reference, run, *runs.values()])
    parts.loss.set_ylim(min(bottom, new[0]), max(top, new[1]))
    return (parts.loss.get_ylim(), parts.ps.get_ylim()) != limits


def dropout_explorer(X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
                     runs: Mapping[float, train.History] | None = None, epochs: int = 100):
    """A slider for p (redraws the thinned network, and the run of that p if trained)
    and a player that trains the MLP with that p live, one epoch a frame (▶ Train,
    Pause, Step: one epoch, Reset: start this p again): the curves grow as it learns,
    and a finished run joins the right-hand plot. ``runs`` (p -> History) seeds the
    picture with runs trained in the notebook.

    Fast because the figure is drawn whole once, then blitted in two layers: a move of
    the slider redraws what depends on p (``fig.parts.settings``) and the curves over
    the saved rest, a frame of training only the growing curves and their numbers
    (``fig.parts.moving``); and an epoch takes a few ms (``one_blas_thread``)."""
    import ipywidgets as widgets

    from .widgets import FigureView, Player

    done = dict(runs or {})          # finished runs, so going back to a p is instant
    start = next((q for q in (0.3, 0.2, 0.4, 0.1, 0.6, 0.7, 0.9) if q not in done), 0.5)
    slider = widgets.FloatSlider(value=start, min=0.0, max=0.9, step=0.1, description="dropout p",
                                 tooltip="the probability that dropout zeroes a hidden unit at "
                                         "a training step: redraws the thinned network",
                                 style=plots.slider_style())
    # run: the run shown live (None: show the finished run of p, if any); ready: a run of
    # p built in advance (its model initialised), so that ▶ Train's first frame is one
    # epoch and one blit away.
    state = SimpleNamespace(p=round(slider.value, 2), run=None, ready=None, joined=False)

    def current() -> train.History | None:
        return state.run.history if state.run is not None else done.get(state.p)

    fig = dropout_figure(done, state.p, epochs=epochs)
    # JPEG while it moves: a frame encodes in ~3 ms instead of ~20 for a PNG of this
    # wide figure; a finished run is sent as a PNG.
    view = FigureView(fig, layers=[fig.parts.settings, fig.parts.moving],
                      name="dropout_explorer", format="jpeg")

    def redraw(control: str, settings_changed: bool) -> None:
        """The picture after a change: everything if an axis had to change its limits,
        else both layers (p or the finished runs changed) or only the top one (an epoch)."""
        t0 = time.perf_counter()
        limits_changed = update_dropout_figure(fig, done, state.p, history=current())
        ms = 1e3 * (time.perf_counter() - t0)
        settled = "png" if state.run is not None and state.run.finished else None
        if limits_changed:
            view.show(control=control, compute_ms=ms, format=settled)
        elif settings_changed:
            view.refresh(0, control=control, compute_ms=ms, format=settled)
        else:
            view.frame(control=control, compute_ms=ms)

    def step() -> bool:
        if state.run is None:        # a new run (for a p trained before: the same run, live)
            state.run = state.ready or DropoutRun(state.p, X, y, X_val, y_val, epochs=epochs)
            state.ready = None
        more = state.run.step()
        if not more:
            done[state.p] = state.run.history      # joins the right-hand plot
            state.joined = True
        return more

    def frame() -> None:
        redraw("Train", settings_changed=state.joined)
        state.joined = False

    def reset() -> None:
        state.run = DropoutRun(state.p, X, y, X_val, y_val, epochs=epochs)

    def status() -> str:
        h = current()
        if h is None or not len(h):
            return f"p = {state.p:g}: press ▶ Train ({epochs} epochs)"
        return (f"p = {state.p:g}: epoch {len(h)}/{epochs}, loss {h['loss'][-1]:.3f}, "
                f"validation {h['val_loss'][-1]:.3f}")

    # One epoch a frame: 100 epochs play in about 4 s at 25 frames a second, slow
    # enough to watch the validation loss turn up.
    player = Player(step, frame, reset, status=status, play_label="Train",
                    controls=[slider], max_steps_per_frame=1)
    for button, tip in ((player.play_button, "train the MLP with dropout p live, epoch by "
                                             "epoch (a p trained before: the same run again); "
                                             "press again to pause"),
                        (player.step_button, "train one more epoch, then pause"),
                        (player.reset_button, "forget this p's run and start it again from "
                                              "the same initial weights")):
        button.tooltip = tip

    def select(_change=None) -> None:
        state.p, state.run = round(slider.value, 2), None
        player.done = False                 # Train: this p live (again, if trained before)
        player.steps = 0
        player.pause()                      # buttons and status for this p
        redraw("dropout p", settings_changed=True)
        state.ready = DropoutRun(state.p, X, y, X_val, y_val, epochs=epochs)   # picture sent

    view.show(control="(first)")
    t0 = time.perf_counter()
    select()
    slider.continuous_update = time.perf_counter() - t0 < 0.06
    slider.observe(select, names="value")
    box = widgets.VBox([slider, player.widget, view.widget])
    box.view, box.player, box.fig, box.runs = view, player, fig, done
    return box


# -- batch normalization -----------------------------------------------------------------

def deep_mlp(depth: int = 4, width: int = 64, batch_norm: bool = False,
             in_features: int = 64, num_classes: int = 10) -> nn.Sequential:
    """``depth`` blocks of Linear -> [BatchNorm1d] -> ReLU, then a Linear output.
    PyTorch's default initialisation, as every layer of the engine."""
    layers: list[nn.Module] = []
    size = in_features
    for _ in range(depth):
        layers.append(nn.Linear(size, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.ReLU())
        size = width
    return nn.Sequential(*layers, nn.Linear(size, num_classes))


def train_steps(model: nn.Module, X: np.ndarray, y: np.ndarray, lr: float, steps: int = 150,
                batch_size: int = 64, momentum: float = 0.9, seed: int = 0) -> np.ndarray:
    """SGD with momentum for ``steps`` mini-batches; the loss of every step.

    Training stops at the first loss that is not finite (the run diverged):
    the returned array is then shorter than ``steps`` and ends with that loss."""
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=batch_size, shuffle=True,
                             drop_last=True, seed=seed)
    losses: list[float] = []
    model.train()
    with np.errstate(all="ignore"):        # a diverging run overflows; we stop it below
        while len(losses) < steps:
            for X_batch, y_batch in loader:
                loss = loss_fn(model(X_batch), y_batch)
                losses.append(float(loss))
                if not np.isfinite(loss) or len(losses) == steps:
                    return np.array(losses)
                model.backward(loss_fn.backward())
                optimizer.step()
                optimizer.zero_grad()
    return np.array(losses)


def batchnorm_lr_sweep(X: np.ndarray, y: np.ndarray, lrs: Sequence[float], depth: int = 4,
                       width: int = 64, steps: int = 150, seed: int = 0) -> dict:
    """For each learning rate, train ``deep_mlp`` without and with batch norm
    (the same initial Linear weights: ``manual_seed(seed)`` before each) and
    keep their losses per step: ``{'lr': (K,), PLAIN: [K arrays], BATCH_NORM: [...]}``."""
    sweep: dict = {"lr": np.asarray(lrs, dtype=float), PLAIN: [], BATCH_NORM: []}
    for lr in sweep["lr"]:
        for key, batch_norm in ((PLAIN, False), (BATCH_NORM, True)):
            manual_seed(seed)
            model = deep_mlp(depth, width, batch_norm)
            sweep[key].append(train_steps(model, X, y, float(lr), steps, seed=seed))
    return sweep


def final_loss(losses: np.ndarray, steps: int, last: int = 10) -> float:
    """Mean loss of the last ``last`` steps; inf for a run that diverged."""
    if len(losses) < steps or not np.all(np.isfinite(losses[-last:])):
        return float("inf")
    return float(np.mean(losses[-last:]))


def batchnorm_figure(sweep: Mapping, lr: float) -> Figure:
    """Left: the loss at every step at learning rate ``lr``, with and without
    batch norm (a cross where a run diverged, the title says at which step). Right:
    the final loss against the learning rate for both, ``lr`` highlighted.
    ``update_batchnorm_figure`` moves it to another learning rate of the sweep in
    place, changing only ``fig.parts.moving``."""
    lrs = np.asarray(sweep["lr"])
    steps = max(len(run) for key in (PLAIN, BATCH_NORM) for run in sweep[key])
    colors = {PLAIN: plots.CLASS_COLORS[0], BATCH_NORM: plots.CLASS_COLORS[1]}
    with plots.style():
        fig, (ax, ax_lr) = plots.subplots("wide", 1, 2, layout=None)
        _place(fig, BATCHNORM_AXES)
        curves, crosses = {}, {}
        for key in (PLAIN, BATCH_NORM):
            curves[key], = ax.plot([], [], color=colors[key], ls=STYLES[key][1], lw=1.2,
                                   label=key)
            crosses[key], = ax.plot([], [], "x", color=colors[key], ms=12, mew=3)
        ax.set_ylim(0, _TOP / 0.82)            # a band above the curves for the legend
        ax.set_yticks(np.arange(_TOP + 1))
        ax.set_xlim(0, steps)
        ax.set_xlabel("training step")
        ax.set_ylabel("training loss (per mini-batch)")
        ax.set_title(" \n ", fontsize=10)
        # One legend, drawn once, in the band above the curves (a cross may sit anywhere
        # below it): both curves and the cross that marks a divergence.
        ax.legend(handles=[curves[PLAIN], curves[BATCH_NORM],
                           Line2D([], [], ls="", marker="x", color=_GREY, ms=8, mew=2.5,
                                  label="where a run diverged")],
                  fontsize=9, loc="upper center", ncol=2)
        band = ax_lr.axvspan(lrs[0] / 1.3, lrs[0] * 1.3, color=plots.ACCENT, alpha=0.3, lw=0)
        for key in (PLAIN, BATCH_NORM):
            finals = np.array([final_loss(r, steps) for r in sweep[key]])
            ok = np.isfinite(finals)
            ax_lr.plot(lrs[ok], finals[ok], marker=STYLES[key][0], ls=STYLES[key][1],
                       color=colors[key], label=key)
            ax_lr.plot(lrs[~ok], np.full((~ok).sum(), 3.0), "x", color=colors[key], ms=10,
                       mew=2.5)
        ax_lr.set_xscale("log")
        ax_lr.set_ylim(0, 3.2)
        ax_lr.set_xlabel("learning rate (log scale)")
        ax_lr.set_ylabel("final training loss (× = diverged)")
        ax_lr.set_title("after the last step, every learning rate")
        ax_lr.legend(fontsize=9, loc="upper left")
    # The band moves; the points on the right are redrawn over it, so it never veils them.
    moving = [*curves.values(), *crosses.values(), ax.title, band, *ax_lr.lines]
    fig.parts = SimpleNamespace(ax=ax, curves=curves, crosses=crosses, band=band, steps=steps,
                                moving=moving)
    update_batchnorm_figure(fig, sweep, lr)
    return plots.finish(fig)


def update_batchnorm_figure(fig: Figure, sweep: Mapping, lr: float) -> None:
    """Show learning rate ``lr`` (the nearest of the sweep) in a ``batchnorm_figure``:
    new curves, crosses, title and highlight; nothing else changes."""
    parts = fig.parts
    lrs = np.asarray(sweep["lr"])
    k = int(np.argmin(np.abs(np.log(lrs) - np.log(lr))))
    diverged = []
    for height, key in ((0.95, PLAIN), (0.85, BATCH_NORM)):
        losses = sweep[key][k]
        finite = np.isfinite(losses) & (losses < _TOP)
        parts.curves[key].set_data(np.arange(1, len(losses) + 1)[finite], losses[finite])
        if len(losses) < parts.steps or not finite[-1]:
            parts.crosses[key].set_data([len(losses)], [_TOP * height])
            diverged.append(f"{key} at step {len(losses)}")
        else:
            parts.crosses[key].set_data([], [])
    parts.ax.set_title(f"learning rate {lrs[k]:g}\n"
                       + (f"diverged: {', '.join(diverged)}" if diverged
                          else "neither run diverged"), fontsize=10)
    parts.band.set_x(lrs[k] / 1.3)
    parts.band.set_width(lrs[k] * 1.3 - lrs[k] / 1.3)


def batchnorm_explorer(sweep: Mapping):
    """A slider over the learning rates of ``sweep`` (already computed); a move
    redraws only the curves, crosses, title and highlight."""
    import ipywidgets as widgets

    options = [(f"{lr:g}", float(lr)) for lr in sweep["lr"]]
    controls = {"lr": widgets.SelectionSlider(options=options, value=options[len(options) // 2][1],
                                              description="learning rate",
                                              tooltip="the learning rate of the runs shown on "
                                                      "the left, marked on the right",
                                              style=plots.slider_style())}
    return plots.interactive_figure(lambda lr: batchnorm_figure(sweep, lr), controls,
                                    update=lambda fig, lr: update_batchnorm_figure(fig, sweep, lr),
                                    animated=lambda fig: fig.parts.moving,
                                    name="batchnorm_explorer")


# -- activations, layer by layer -----------------------------------------------------------

_ACTIVATIONS = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.GELU)


def pre_activations(model: nn.Sequential, X: np.ndarray) -> list[np.ndarray]:
    """What each activation layer of ``model`` receives, for the batch X: one
    (N, width) array per hidden layer. Runs in training mode (batch norm
    normalises with the batch's own statistics, as in a training step)."""
    model.train()
    values = []
    h = X
    for module in model:
        if isinstance(module, _ACTIVATIONS):
            values.append(h)
        h = module(h)
    return values


def activation_figure(plain: Sequence[np.ndarray], with_bn: Sequence[np.ndarray],
                      layer: int) -> Figure:
    """Histograms of what layer ``layer`` (from 1) hands its ReLU, without and
    with batch norm, on the same axis; right: the spread (standard deviation)
    of every layer's values, ``layer`` highlighted. Each histogram is scaled so its
    tallest bar fills the height (the count axis has no ticks: it is the shape that
    matters), so its axes never change. ``update_activation_figure`` moves it to
    another layer in place, changing only ``fig.parts.moving``."""
    colors = {PLAIN: plots.CLASS_COLORS[0], BATCH_NORM: plots.CLASS_COLORS[1]}
    counts = {key: [np.histogram(np.clip(v.ravel(), _BINS[0], _BINS[-1]), _BINS)[0]
                    for v in values] for key, values in ((PLAIN, plain), (BATCH_NORM, with_bn))}
    with plots.style():
        fig, (ax_a, ax_b, ax_std) = plots.subplots("wide", 1, 3, layout=None)
        _place(fig, ACTIVATION_AXES)
        hists = {}
        for ax, key in ((ax_a, PLAIN), (ax_b, BATCH_NORM)):
            hists[key] = ax.stairs(np.zeros(len(_BINS) - 1), _BINS, fill=True,
                                   color=colors[key])
            ax.set_xlim(_BINS[0], _BINS[-1])
            ax.set_ylim(0, 1.05)
            ax.set_xlabel("value entering the ReLU")
            ax.set_yticks([])
            ax.set_title(" \n ", fontsize=10)
        ax_a.set_ylabel("count, scaled to the tallest bar")
        depth = np.arange(1, len(plain) + 1)
        for key, values in ((PLAIN, plain), (BATCH_NORM, with_bn)):
            ax_std.plot(depth, [v.std() for v in values], marker=STYLES[key][0],
                        ls=STYLES[key][1], color=colors[key], label=key)
        band = ax_std.axvspan(0.7, 1.3, color=plots.ACCENT, alpha=0.3, lw=0)
        ax_std.set_yscale("log")
        ax_std.set_xticks(depth)
        ax_std.set_xlabel("layer")
        ax_std.set_ylabel("standard deviation (log scale)")
        ax_std.set_title("spread of the values, layer by layer", fontsize=10)
        ax_std.legend(fontsize=9)
    moving = [*hists.values(), ax_a.title, ax_b.title, band, *ax_std.lines]   # lines over band
    fig.parts = SimpleNamespace(axes={PLAIN: ax_a, BATCH_NORM: ax_b}, hists=hists, band=band,
                                counts=counts, values={PLAIN: plain, BATCH_NORM: with_bn},
                                layer=None, moving=moving)
    update_activation_figure(fig, layer)
    return plots.finish(fig)


def update_activation_figure(fig: Figure, layer: int) -> None:
    """Show layer ``layer`` (from 1) in an ``activation_figure``: the histograms
    (``fig.parts.counts[key][layer - 1]``, scaled to the tallest bar), the titles and
    the highlighted layer."""
    parts = fig.parts
    depth = len(parts.values[PLAIN])
    if not 1 <= layer <= depth:
        raise ValueError(f"layer must be between 1 and {depth}, got {layer}")
    for key, ax in parts.axes.items():
        counts = parts.counts[key][layer - 1]
        parts.hists[key].set_data(counts / max(counts.max(), 1))
        ax.set_title(f"layer {layer}, {key}\nstd {parts.values[key][layer - 1].std():.3f}",
                     fontsize=10)
    parts.band.set_x(layer - 0.3)
    parts.layer = layer


def activation_explorer(plain: Sequence[np.ndarray], with_bn: Sequence[np.ndarray]):
    """A slider over the layers, redrawing only the histograms, titles and highlight
    of ``activation_figure``."""
    import ipywidgets as widgets

    controls = {"layer": widgets.IntSlider(value=1, min=1, max=len(plain), description="layer",
                                           tooltip="which hidden layer's inputs to its ReLU "
                                                   "the histograms show",
                                           style=plots.slider_style())}
    return plots.interactive_figure(lambda layer: activation_figure(plain, with_bn, layer),
                                    controls, update=update_activation_figure,
                                    animated=lambda fig: fig.parts.moving,
                                    name="activation_explorer")
