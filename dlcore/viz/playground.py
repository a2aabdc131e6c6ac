"""Lesson 06's playground, in the spirit of TensorFlow Playground, on dlcore.

The live playground (``playground("...")``): points of two classes on a plane, a
network learning to separate them, trained epoch by epoch on the kernel and drawn in
the browser many times a second: each hidden unit's output as a small heatmap in the
network diagram, the weights as lines (colour: sign, width: size), the decision
boundary over the training and test points, both losses. Input features (x1, x2,
their squares, product and sines), L1/L2 regularisation, noise, the training share,
the batch size; a click on the picture adds a point. The whole set-up is a short
string a teacher can share, hiding controls to make an exercise::

    playground("data=xor;features=x1,x2;hidden=4,2;act=tanh;lr=0.03;reg=l2:0.001;"
               "noise=10;ratio=50;hide=features,reg")

(the grammar is in ``parse_setup``). The widget is a thin layer over plain
functions: ``parse_setup``/``format_setup``, ``feature_matrix``, ``build_network``,
``add_regularization_grad``, and ``Trainer`` (``step()`` one epoch, ``frame()`` the
arrays drawn). ``playground.js`` draws them.

Also here: a run drawn once with matplotlib (``PlaygroundConfig``,
``train_playground``, ``draw_playground``, through ``dlcore.train.fit``), the
learning-rate sweep (``lr_sweep``, ``lr_sweep_widget``: each point appears as it
finishes) and the lesson's pictures of the training loop and the data splits.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .. import data, nn, optim, train
from ..rng import manual_seed
from . import plots
from . import widgets as widgets_core

# Choices offered by the widget: label -> value (the value is what the code uses).
DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "moons": data.make_moons,
    "circles": data.make_circles,
    "xor": data.make_xor,
    "spirals (2 arms)": partial(data.make_spirals, classes=2),
    "spirals (3 arms)": partial(data.make_spirals, classes=3),
}
ACTIVATIONS: dict[str, type[nn.Module]] = {"ReLU": nn.ReLU, "Tanh": nn.Tanh,
                                           "Sigmoid": nn.Sigmoid}
OPTIMIZERS: dict[str, Callable[..., optim.Optimizer]] = {
    "SGD": optim.SGD,
    "SGD + momentum 0.9": partial(optim.SGD, momentum=0.9),
    "RMSprop": optim.RMSprop,
    "Adam": optim.Adam,
}


@dataclass(frozen=True)
class PlaygroundConfig:
    """Everything that defines one run. ``dataset``, ``activation`` and
    ``optimizer`` are the callables themselves (see ``DATASETS``, ...)."""
    dataset: Callable[..., tuple[np.ndarray, np.ndarray]] = data.make_moons
    noise: float = 0.2
    n: int = 300
    val_fraction: float = 0.3
    hidden_layers: int = 2
    width: int = 8
    activation: type[nn.Module] = nn.Tanh
    optimizer: Callable[..., optim.Optimizer] = optim.Adam
    lr: float = 0.01
    batch_size: int = 16
    epochs: int = 100
    seed: int = 0


@dataclass
class PlaygroundRun:
    """The outcome of ``train_playground``: the data, the trained model and
    per-epoch curves (index 0 is before training). A run made by ``start_run`` also
    keeps what it needs to go on (``train_more``): the loss, the optimizer, the loader."""
    config: PlaygroundConfig
    model: nn.Sequential
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    curves: dict[str, list[float]] = field(default_factory=dict)
    diverged_at: int | None = None
    loss_fn: nn.Module | None = field(default=None, repr=False)
    optimizer: optim.Optimizer | None = field(default=None, repr=False)
    loader: data.DataLoader | None = field(default=None, repr=False)

    @property
    def epochs_done(self) -> int:
        return len(self.curves["loss"]) - 1


def make_data(config: PlaygroundConfig) -> tuple[np.ndarray, ...]:
    """(X_train, y_train, X_val, y_val): the data set split, stratified, by the seed."""
    X, y = config.dataset(n=config.n, noise=config.noise, seed=config.seed)
    split = data.train_val_test_split(X, y, val_size=config.val_fraction, test_size=0.0,
                                      seed=config.seed)
    return split.X_train, split.y_train, split.X_val, split.y_val


def build_model(config: PlaygroundConfig, num_classes: int) -> nn.Sequential:
    """2 inputs, ``hidden_layers`` x (Linear(width) + activation), one score per class.
    With 0 hidden layers it is a linear classifier (logistic regression)."""
    manual_seed(config.seed)
    layers: list[nn.Module] = []
    size = 2
    for _ in range(config.hidden_layers):
        layers += [nn.Linear(size, config.width), config.activation()]
        size = config.width
    layers.append(nn.Linear(size, num_classes))
    return nn.Sequential(*layers)


def _evaluate(model, loss_fn, X, y) -> tuple[float, float]:
    result = train.evaluate(model, [(X, y)], loss_fn)
    return result["loss"], result["accuracy"]


def start_run(config: PlaygroundConfig) -> PlaygroundRun:
    """The data, a fresh model, its optimizer and loader, and the losses before
    training (epoch 0): a run ready for ``train_more``."""
    X_train, y_train, X_val, y_val = make_data(config)
    num_classes = int(max(y_train.max(), y_val.max())) + 1
    model = build_model(config, num_classes)
    loss_fn = nn.CrossEntropyLoss()
    loader = data.DataLoader(data.TensorDataset(X_train, y_train),
                             batch_size=config.batch_size, shuffle=True, seed=config.seed)
    run = PlaygroundRun(config, model, X_train, y_train, X_val, y_val, loss_fn=loss_fn,
                        optimizer=config.optimizer(model.parameters(), lr=config.lr),
                        loader=loader)
    loss, acc = _evaluate(model, loss_fn, X_train, y_train)
    val_loss, val_acc = _evaluate(model, loss_fn, X_val, y_val)
    run.curves = {"loss": [loss], "accuracy": [acc], "val_loss": [val_loss],
                  "val_accuracy": [val_acc]}
    return run


def train_more(run: PlaygroundRun, epochs: int) -> bool:
    """Train ``run`` for ``epochs`` more epochs with ``dlcore.train.fit`` and extend its
    curves. The loader's shuffling and the optimizer's state carry on, so ten calls of
    one epoch give the same weights as one call of ten. A learning rate that makes the
    loss non-finite stops the run: ``run.diverged_at`` holds the epoch and this returns
    False (as it does for a run that had already diverged)."""
    if run.diverged_at is not None:
        return False
    if epochs == 0:
        return True
    with np.errstate(all="ignore"):   # a diverging run overflows; fit then stops it
        try:
            history = train.fit(run.model, run.loss_fn, run.optimizer, run.loader,
                                epochs=int(epochs), val_loader=[(run.X_val, run.y_val)],
                                progress=False)
        except train.NonFiniteLossError as err:
            run.diverged_at = run.epochs_done + err.epoch
            return False
    for key in run.curves:
        run.curves[key] += history[key]
    return True


def train_playground(config: PlaygroundConfig, snapshots: int = 1,
                     on_snapshot: Callable[[PlaygroundRun], None] | None = None,
                     epochs: int | None = None) -> PlaygroundRun:
    """Build the data and the model, then train for ``config.epochs`` epochs (or
    ``epochs``, say 0 for a look before training) with ``dlcore.train.fit``, in
    ``snapshots`` chunks; ``on_snapshot(run)`` is called after each chunk (the
    widget redraws there). A learning rate that makes the loss non-finite stops
    the run; ``run.diverged_at`` then holds the epoch."""
    run = start_run(config)
    total = config.epochs if epochs is None else epochs
    chunks = np.diff(np.linspace(0, total, max(1, snapshots) + 1).round()).astype(int)
    for chunk in chunks:
        if chunk == 0:
            continue
        if not train_more(run, int(chunk)):
            break
        if on_snapshot is not None:
            on_snapshot(run)
    return run


def _boundary(ax, run: PlaygroundRun) -> None:
    """The model's decision regions, light, under the training points (white
    edge) and the validation points (black edge)."""
    num_classes = run.model[-1].out_features
    X_all = np.concatenate([run.X_train, run.X_val])
    run.model.eval()
    with np.errstate(all="ignore"):
        xx, yy, zz = plots.surface(run.model, X_all, steps=100)
    finite = bool(np.all(np.isfinite(zz)))   # not so after a diverged run
    if finite and num_classes == 2:   # the probability of class 1: a smooth blue-to-red surface
        zz = nn.functional.softmax(zz, dim=-1)[..., 1]
        ax.contourf(xx, yy, zz, levels=np.linspace(0, 1, 11), cmap=plots.SURFACE_CMAP,
                    alpha=0.4, vmin=0, vmax=1)
        ax.contour(xx, yy, zz, levels=[0.5], colors="black", linewidths=1.5)
    elif finite:             # the most likely class at each point
        classes = zz.argmax(axis=-1)
        ax.contourf(xx, yy, classes, levels=np.arange(num_classes + 1) - 0.5,
                    cmap=plots.class_cmap(num_classes), alpha=0.3)
        ax.contour(xx, yy, classes, levels=np.arange(num_classes) + 0.5, colors="black",
                   linewidths=1)
    run.model.train()
    plots.scatter_classes(ax, run.X_train, run.y_train, size=20)
    colors = np.array(plots.CLASS_COLORS)[run.y_val % len(plots.CLASS_COLORS)]
    ax.scatter(run.X_val[:, 0], run.X_val[:, 1], s=26, c=colors, edgecolor="black",
               linewidth=1.0, zorder=4)
    ax.scatter([], [], s=26, facecolor="white", edgecolor="black", label="validation")
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")


def _describe(config: PlaygroundConfig) -> str:
    hidden = " → ".join([str(config.width)] * config.hidden_layers) or "none"
    name = {v: k for k, v in OPTIMIZERS.items()}.get(config.optimizer, "optimizer")
    return (f"hidden: {hidden} ({config.activation.__name__}), {name} lr {config.lr:.2g}, "
            f"batch {config.batch_size}")


def draw_playground(run: PlaygroundRun) -> Figure:
    """Left: the network. Middle: its decision boundary with the training points
    (filled) and validation points (ringed). Right: train and validation loss."""
    config = run.config
    with plots.style():
        fig, (ax_net, ax, ax_loss) = plots.subplots(
            "wide", 1, 3, gridspec_kw={"width_ratios": [0.8, 1.1, 1.1]})
        plots.network_diagram(run.model, ax=ax_net, max_units=8,
                              title=f"{sum(p.numel() for p in run.model.parameters())} "
                                    "weights and biases")
        ax_net.title.set_fontsize(10)
        for text in ax_net.texts:
            text.set_fontsize(8)
        _boundary(ax, run)
        c = run.curves
        status = (f"diverged at epoch {run.diverged_at}" if run.diverged_at else
                  f"epoch {run.epochs_done}: train {c['accuracy'][-1]:.0%}, "
                  f"validation {c['val_accuracy'][-1]:.0%} correct")
        ax.set_title(status, fontsize=10)
        epochs = np.arange(len(c["loss"]))
        ax_loss.plot(epochs, c["loss"], color=plots.CLASS_COLORS[0], lw=2, label="train loss")
        ax_loss.plot(epochs, c["val_loss"], "--", color=plots.CLASS_COLORS[1], lw=2,
                     label="validation loss")
        ax_loss.set_yscale("log")
        ax_loss.set_xlim(0, max(config.epochs, 1))
        finite = [v for v in c["loss"] + c["val_loss"] if math.isfinite(v) and v > 0]
        if finite:   # fixed-ish limits, so redraws during training do not jump
            ax_loss.set_ylim(min(0.01, 0.8 * min(finite)), max(1.0, 1.3 * max(finite)))
        if run.epochs_done == 0 and not run.diverged_at:
            ax_loss.text(0.5, 0.5, "not trained yet:\npress ▶ Train", ha="center",
                         va="center", transform=ax_loss.transAxes, fontsize=12, color="0.4")
        ax_loss.set_xlabel("epoch")
        ax_loss.set_ylabel("loss (log scale)")
        ax_loss.set_title(_describe(config), fontsize=8.5)
        ax_loss.grid(True, which="both", alpha=0.25)
        ax_loss.legend(loc="lower left", fontsize=8.5)
    return plots.finish(fig)


# -- the pictures of the lesson ---------------------------------------------------

def training_loop_figure() -> Figure:
    """The training loop as a cycle: batch, forward, loss, backward, step."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    stages = [("1. a mini-batch", "X, y = next batch\nfrom the DataLoader"),
              ("2. forward pass", "y_hat = model(X)"),
              ("3. loss", "loss = loss_fn(y_hat, y)"),
              ("4. backward pass", "model.backward(\n  loss_fn.backward())"),
              ("5. update", "optimizer.step()\noptimizer.zero_grad()")]
    angles = np.pi / 2 - 2 * np.pi * np.arange(5) / 5
    centres = np.stack([1.55 * np.cos(angles) * 1.45, 1.55 * np.sin(angles)], 1)
    with plots.style():
        # a size of its own: the cycle of five boxes needs the height of "wide" + 0.6 in
        fig, ax = plt.subplots(figsize=(10, 4.8), dpi=plots.DPI)
        for k, ((title, code), (x, y)) in enumerate(zip(stages, centres, strict=True)):
            ax.add_patch(FancyBboxPatch((x - 0.95, y - 0.38), 1.9, 0.76,
                                        boxstyle="round,pad=0.03,rounding_size=0.12",
                                        fc="white", ec=plots.CLASS_COLORS[k % 3], lw=2))
            ax.text(x, y + 0.17, title, ha="center", va="center", fontsize=11, weight="bold")
            ax.text(x, y - 0.14, code, ha="center", va="center", fontsize=8.5,
                    family="monospace")
        for k in range(5):
            a, b = centres[k], centres[(k + 1) % 5]
            ax.add_patch(FancyArrowPatch(a + 0.3 * (b - a), a + 0.7 * (b - a),
                                         arrowstyle="-|>", mutation_scale=18, color="0.4",
                                         connectionstyle="arc3,rad=-0.25", lw=1.5))
        ax.text(0, 0.12, "one turn = one step", ha="center", fontsize=11, weight="bold")
        ax.text(0, -0.25, "all the batches once = one epoch\nafter each epoch: "
                "evaluate on validation", ha="center", va="top", fontsize=9.5, color="0.3")
        ax.set_xlim(-3.5, 3.5)
        ax.set_ylim(-1.95, 2.05)
        ax.set_aspect("equal")
        ax.axis("off")
        fig.tight_layout()
    return plots.finish(fig)


def splits_figure(sizes: dict[str, int]) -> Figure:
    """A bar cut into the parts of a data set (name -> count), with what each is for."""
    roles = {"train": "fit the weights", "validation": "choose hyperparameters,\nstop early",
             "test": "measure once,\nat the very end"}
    total = sum(sizes.values())
    with plots.style():
        # a size of its own: one bar with its labels, as wide as "wide", a third as tall
        fig, ax = plt.subplots(figsize=(10, 2.0), dpi=plots.DPI)
        left = 0
        for k, (name, count) in enumerate(sizes.items()):
            ax.barh(0, count, left=left, color=plots.CLASS_COLORS[k], alpha=0.85,
                    edgecolor="white")
            ax.text(left + count / 2, 0, f"{name}\n{count:,} ({count / total:.0%})",
                    ha="center", va="center", color="white", fontsize=10, weight="bold")
            ax.text(left + count / 2, -0.62, roles.get(name, ""), ha="center", va="top",
                    fontsize=9, color=plots.CLASS_COLORS[k])
            left += count
        ax.set_xlim(0, total)
        ax.set_ylim(-1.35, 0.45)
        ax.axis("off")
        fig.tight_layout()
    return plots.finish(fig)


# -- learning-rate sweep -------------------------------------------------------------

class LrSweep:
    """A learning-rate sweep run one epoch at a time, what the widget plays: each
    ``step()`` trains the learning rate in turn for one more epoch (a fresh copy of the
    same model: same data, same initial weights) and, after its last epoch, records its
    final losses. ``result`` is ``{'lr', 'loss', 'val_loss', 'done'}``: the learning
    rates, their final losses (NaN until trained, or where training diverged) and how
    many are finished; ``training`` is the run in progress (None between two).
    ``finished=`` takes the result of a sweep already run (``lr_sweep``)."""

    def __init__(self, config: PlaygroundConfig, lrs: np.ndarray,
                 finished: dict[str, np.ndarray] | None = None):
        self.config = config
        self.lrs = np.asarray(lrs, dtype=float)
        n = len(self.lrs)
        self.result = {"lr": self.lrs, "loss": np.full(n, np.nan),
                       "val_loss": np.full(n, np.nan), "done": 0}
        if finished is not None:
            self.result.update(loss=np.array(finished["loss"], dtype=float),
                               val_loss=np.array(finished["val_loss"], dtype=float), done=n)
        self.training: PlaygroundRun | None = None

    @property
    def done(self) -> int:
        return self.result["done"]

    @property
    def finished(self) -> bool:
        return self.done >= len(self.lrs)

    def step(self) -> bool:
        """One more epoch of the learning rate in turn; False once all are finished."""
        if self.finished:
            return False
        if self.training is None:
            self.training = start_run(replace(self.config, lr=float(self.lrs[self.done])))
        run = self.training
        if run.epochs_done < self.config.epochs:
            train_more(run, 1)
        if run.diverged_at is not None or run.epochs_done >= self.config.epochs:
            i, final = self.done, run.curves["loss"][-1]
            if run.diverged_at is None and math.isfinite(final):
                self.result["loss"][i] = final
                self.result["val_loss"][i] = run.curves["val_loss"][-1]
            self.result["done"] = i + 1
            self.training = None
        return not self.finished

    def describe(self) -> str:
        text = f"{self.done} of {len(self.lrs)} learning rates trained"
        if self.training is not None:
            text = (f"lr {self.training.config.lr:.2g}: epoch {self.training.epochs_done} "
                    f"of {self.config.epochs} · " + text)
        return text


def lr_sweep(config: PlaygroundConfig, lrs: np.ndarray) -> dict[str, np.ndarray]:
    """Train a fresh copy of the same model (same data, same initial weights)
    for each learning rate; return ``{'lr', 'loss', 'val_loss'}``, the final
    losses, NaN where training diverged."""
    sweep = LrSweep(config, lrs)
    while sweep.step():
        pass
    return {key: sweep.result[key] for key in ("lr", "loss", "val_loss")}


def draw_lr_sweep(sweep: dict[str, np.ndarray], config: PlaygroundConfig | None = None,
                  ylim: tuple[float, float] | None = None) -> Figure:
    """Final loss against learning rate (log-log); diverged runs marked with x at the
    top; the best learning rate (lowest validation loss) starred. A sweep still
    running has ``sweep["done"]`` (the learning rates finished): only those are drawn,
    on the axis of the whole sweep, and ``show_sweep_progress`` marks the one in
    training. ``update_lr_sweep`` redraws it in place. The legend sits beside the axes,
    never over a point. The y axis fits the losses, or, given ``ylim``, stays there
    (the widget's: points do not jump as others arrive)."""
    with plots.style():
        fig, ax = plots.subplots("wide")
        color = plots.CLASS_COLORS
        fig.parts = SimpleNamespace(
            ax=ax, ylim=ylim,
            loss=ax.plot([], [], "o-", color=color[0], label="train loss")[0],
            val_loss=ax.plot([], [], "s--", color=color[1], label="validation loss")[0],
            current=ax.plot([], [], "o", mfc="white", mec=color[0], mew=2, ms=9,
                            label="training now (train loss)")[0],
            diverged=ax.plot([], [], "x", color="black", ms=10, mew=2,
                             label="diverged (loss became nan)")[0],
            best=ax.plot([], [], "*", color=plots.ACCENT, mec="black", ms=18, zorder=5,
                         label="best: lowest validation loss")[0],
            best_text=ax.text(1.02, 0.6, "", transform=ax.transAxes, va="top", fontsize=10),
            hint=ax.text(0.5, 0.5, "not run yet for this setting: press ▶ Run sweep",
                         transform=ax.transAxes, ha="center", va="center", fontsize=12,
                         color="0.4", visible=False))
        p = fig.parts
        # Beside the axes (never over a point), and always the same: drawn once. A sweep
        # still to run (the widget's) may have a point in training, and diverge.
        live = "done" in sweep
        diverged = live or bool(np.isnan(sweep["val_loss"]).any())
        handles = [p.loss, p.val_loss] + [p.current] * live + [p.diverged] * diverged + [p.best]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
        p.best_text.set_y(0.94 - 0.058 * len(handles))      # just under the legend
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(sweep["lr"][0] / 2, sweep["lr"][-1] * 2)
        ax.set_xlabel("learning rate (log scale)")
        # the y label as a text of its own, drawn once with the background (as the axis's
        # label it would be drawn, and placed, again with the ticks at each redraw)
        ax.text(-0.085, 0.5, "loss after training (log scale)", rotation=90, ha="center",
                va="center", transform=ax.transAxes, fontsize=plt.rcParams["axes.labelsize"])
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 0.1, 1, 10
        ax.minorticks_off()              # halves the time of a redraw; the grid is major
        ax.grid(True, which="major", alpha=0.3)
        if ylim is not None:
            ax.set_ylim(*ylim)
        update_lr_sweep(fig, sweep, config)
    return plots.finish(fig)


def update_lr_sweep(fig: Figure, sweep: dict[str, np.ndarray],
                    config: PlaygroundConfig | None = None) -> None:
    """Put ``sweep`` (finished or not) into a figure ``draw_lr_sweep`` made: the
    points, the y limits, the best learning rate, the title."""
    parts = fig.parts
    lrs = sweep["lr"]
    done = int(sweep.get("done", len(lrs)))
    x, loss, val_loss = lrs[:done], sweep["loss"][:done], sweep["val_loss"][:done]
    parts.loss.set_data(x, loss)
    parts.val_loss.set_data(x, val_loss)
    finite = np.isfinite(val_loss)
    values = np.concatenate([loss, val_loss])
    values = values[np.isfinite(values) & (values > 0)]
    low, top = (values.min(), values.max()) if values.size else (1e-2, 1.0)
    if parts.ylim is None:
        # two powers of ten inside at least, so the log axis always has two labelled ticks
        parts.ax.set_ylim(min(low / 1.6, 10 ** np.floor(np.log10(top * 2.5)) / 10), top * 2.5)
    marks = min(top * 1.5, parts.ax.get_ylim()[1] / 1.3)     # diverged: near the top
    parts.diverged.set_data(x[~finite], np.full((~finite).sum(), marks))
    if finite.any():
        best = int(np.nanargmin(val_loss))
        parts.best.set_data([lrs[best]], [val_loss[best]])
        parts.best_text.set_text(f"best: lr = {lrs[best]:.2g}")
    else:
        parts.best.set_data([], [])
        parts.best_text.set_text("")
    title = ["learning-rate sweep"]
    if config is not None:
        data_name = {v: k for k, v in DATASETS.items()}.get(config.dataset, "")
        name = {v: k for k, v in OPTIMIZERS.items()}.get(config.optimizer, "")
        title = [data_name, name, f"{config.epochs} epochs, batch {config.batch_size}"]
    if done < len(lrs):
        title.append(f"{done} of {len(lrs)} learning rates")
    parts.ax.set_title(" · ".join(t for t in title if t))


def show_sweep_progress(fig: Figure, run: PlaygroundRun | None) -> None:
    """Mark the learning rate in training (``run``, or None) at its training loss so
    far, kept inside the axes (a diverging run would leave them); with nothing trained
    nor training, say how to start."""
    current = fig.parts.current
    fig.parts.hint.set_visible(run is None and len(fig.parts.loss.get_xdata()) == 0)
    value = run.curves["loss"][-1] if run is not None else math.nan
    if not (math.isfinite(value) and value > 0):
        current.set_data([], [])
        return
    low, high = fig.parts.ax.get_ylim()
    current.set_data([run.config.lr], [min(max(value, low * 1.1), high / 1.1)])


# The widget's loss axis, fixed: every setting's losses (from a near-perfect fit to a
# blown-up run) fit, and the axis need not be drawn again when a point arrives.
SWEEP_YLIM = (1e-3, 30.0)


def lr_sweep_widget(config: PlaygroundConfig | None = None, num_lrs: int = 9,
                    sweep: dict[str, np.ndarray] | None = None):
    """A learning-rate sweep: pick the data set, the optimizer and the number of
    epochs, then press "Run sweep": the ``num_lrs`` trainings, from lr = 1e-4 to 10,
    run one after the other, epoch by epoch, the one in training marked as it learns and
    each point drawn as it finishes. A change of setting does not train: it shows that
    setting's sweep, as far as it was run (going back to a setting is instant), or an
    empty axis to run. Reset starts the current setting's sweep again. ``sweep``, if
    given, is ``lr_sweep(config, ...)`` already computed: it is shown first."""
    import ipywidgets as widgets

    c = config or PlaygroundConfig(epochs=20)
    lrs = np.logspace(-4, 1, num_lrs)
    controls = {
        "dataset": _dropdown(DATASETS, c.dataset, "data set", "the points to separate"),
        "optimizer": _dropdown(OPTIMIZERS, c.optimizer, "optimizer",
                               "used for every learning rate"),
        "epochs": widgets.IntSlider(value=c.epochs, min=min(5, c.epochs), max=60, step=5,
                                    description="epochs per learning rate",
                                    continuous_update=False, style=plots.slider_style(),
                                    layout=widgets.Layout(width="330px")),
    }
    sweeps: dict[PlaygroundConfig, LrSweep] = {}     # every setting's sweep, as far as run
    if sweep is not None and np.allclose(sweep["lr"], lrs):
        sweeps[c] = LrSweep(c, lrs, finished=sweep)

    def current() -> PlaygroundConfig:
        return replace(c, **{name: w.value for name, w in controls.items()})

    state = SimpleNamespace(sweep=sweeps.setdefault(c, LrSweep(c, lrs)), drawn=None)
    fig = draw_lr_sweep(state.sweep.result, c, ylim=SWEEP_YLIM)
    p = fig.parts
    # Three layers, so nothing is drawn twice for nothing: the axes, their labels and
    # the legend, drawn once; what a finished learning rate or a control changes (the
    # points, the best learning rate, the title), redrawn by ``refresh``; the point in
    # training, redrawn alone for each live frame (a JPEG, soon replaced).
    view = widgets_core.FigureView(fig, name="lr_sweep", layers=[
        [p.loss, p.val_loss, p.diverged, p.best, p.best_text, p.ax.title],
        [p.current, p.hint]])

    def frame() -> None:
        t0 = time.perf_counter()
        s = state.sweep
        if state.drawn != (s.config, s.done):   # a point finished, or another setting
            update_lr_sweep(view.fig, s.result, s.config)
            show_sweep_progress(view.fig, s.training)
            state.drawn = (s.config, s.done)
            view.refresh(control="sweep", compute_ms=1e3 * (time.perf_counter() - t0))
        else:                                   # only the point in training moved
            show_sweep_progress(view.fig, s.training)
            view.frame(control="sweep", compute_ms=1e3 * (time.perf_counter() - t0),
                       format="jpeg")

    def reset() -> None:
        new = current()
        if new == state.sweep.config:           # Reset pressed: this setting from the start
            sweeps.pop(new, None)
        state.sweep = sweeps.setdefault(new, LrSweep(new, lrs))

    def step() -> bool:
        return state.sweep.step()               # one epoch of the learning rate in turn

    player = widgets_core.Player(step, frame, reset, status=lambda: state.sweep.describe(),
                                 play_label="Run sweep", controls=list(controls.values()))

    def show_done() -> None:                    # a finished sweep has nothing to run
        if state.sweep.finished:
            player.finish()
        else:
            player.rearm()

    def on_change(_change) -> None:
        player.reset()                          # pauses, picks the setting's sweep, draws
        show_done()

    for control in controls.values():
        control.observe(on_change, names="value")
    show_done()
    show_sweep_progress(view.fig, None)
    view.show(control="(first)")
    state.drawn = (state.sweep.config, state.sweep.done)
    box = widgets.VBox([widgets.HBox(list(controls.values())), player.widget, view.widget])
    box.view, box.controls, box.player = view, controls, player
    return box


# -- the live playground: plain functions ------------------------------------------

EXTENT = 6.0          # the plane is [-6, 6] x [-6, 6], as in TensorFlow Playground
GRID = 100            # the decision boundary is sent as a GRID x GRID uint8 image
THUMB = 25            # each unit's picture: THUMB x THUMB (every 4th grid point)
NUM_POINTS = 400      # points per data set, before the split
MAX_LAYERS, MAX_UNITS = 6, 8
LEARNING_RATES = (1e-5, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REG_RATES = (0.0, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)

# name in the set-up string -> (label shown, function of the two coordinates)
FEATURES: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "x1": ("x₁", lambda a, b: a),
    "x2": ("x₂", lambda a, b: b),
    "x1^2": ("x₁²", lambda a, b: a * a),
    "x2^2": ("x₂²", lambda a, b: b * b),
    "x1*x2": ("x₁x₂", lambda a, b: a * b),
    "sin(x1)": ("sin x₁", lambda a, b: np.sin(a)),
    "sin(x2)": ("sin x₂", lambda a, b: np.sin(b)),
}
_FEATURE_ALIASES = {"x1²": "x1^2", "x2²": "x2^2", "x1x2": "x1*x2", "x2*x1": "x1*x2",
                    "sinx1": "sin(x1)", "sin x1": "sin(x1)", "sinx2": "sin(x2)",
                    "sin x2": "sin(x2)"}
ACTIVATION_NAMES: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh,
                                                "sigmoid": nn.Sigmoid, "linear": nn.Identity}
OPTIMIZER_NAMES: dict[str, Callable[..., optim.Optimizer]] = {
    "sgd": optim.SGD, "momentum": partial(optim.SGD, momentum=0.9), "adam": optim.Adam}
REGULARIZATIONS = ("none", "l1", "l2")
# Control groups a set-up string can hide (``hide=features,reg``).
HIDEABLE = ("data", "noise", "ratio", "features", "hidden", "act", "lr", "reg", "batch",
            "opt", "points", "setup")


def _circle(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Class 0 inside a disc of radius 2.5, class 1 on a ring from 3.5 to 5.5."""
    half = n // 2
    radius = np.concatenate([rng.uniform(0, 2.5, half), rng.uniform(3.5, 5.5, n - half)])
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
    return X, (np.arange(n) >= half).astype(np.int64)


def _xor(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform in the square, kept off the axes; class 1 where x1 and x2 share a sign."""
    X = rng.uniform(0.3, 5.5, (n, 2)) * rng.choice([-1.0, 1.0], (n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(np.int64)


def _gauss(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two round clouds, class 0 around (-2, -2), class 1 around (2, 2)."""
    y = (np.arange(n) >= n // 2).astype(np.int64)
    return rng.normal(0, 1.0, (n, 2)) + np.where(y[:, None] == 1, 2.0, -2.0), y


def _spiral(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved arms, 1.6 turns each, radius growing to 5.5."""
    y = (np.arange(n) >= n // 2).astype(np.int64)
    t = rng.uniform(0.05, 1.0, n)
    angle = 1.6 * 2 * np.pi * t + np.pi * y
    return np.stack([5.5 * t * np.cos(angle), 5.5 * t * np.sin(angle)], 1), y


def _moons(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles."""
    y = (np.arange(n) >= n // 2).astype(np.int64)
    t = rng.uniform(0, np.pi, n)
    upper = np.stack([np.cos(t) - 0.5, np.sin(t) - 0.25], 1)
    lower = np.stack([0.5 - np.cos(t), 0.25 - np.sin(t)], 1)
    return 3.0 * np.where(y[:, None] == 0, upper, lower), y


POINT_SETS: dict[str, Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]]] = {
    "circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral, "moons": _moons}


class SetupError(ValueError):
    """A set-up string that cannot be read; the message names the part that is wrong."""


@dataclass(frozen=True)
class Setup:
    """Everything the live playground needs, as written in its set-up string.

    ``noise`` and ``ratio`` are percentages (the noise's standard deviation is
    ``noise / 100 * 2.5`` units of the plane; ``ratio`` % of the points train, the
    rest test). ``reg`` is ``"none"``, ``"l1"`` or ``"l2"`` with rate ``reg_rate``.
    ``epochs``: training stops there. ``hide``: control groups not shown (see
    ``HIDEABLE``)."""
    data: str = "circle"
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)
    act: str = "tanh"
    lr: float = 0.03
    reg: str = "none"
    reg_rate: float = 0.0
    noise: int = 0
    ratio: int = 50
    batch: int = 10
    opt: str = "sgd"
    epochs: int = 1000
    seed: int = 0
    hide: tuple[str, ...] = ()

    def __post_init__(self):
        _check(self)

    def __str__(self) -> str:
        return format_setup(self)


def _check(s: Setup) -> None:
    def bad(key, value, why):
        raise SetupError(f"{key}={value}: {why}")

    if s.data not in POINT_SETS:
        bad("data", s.data, f"unknown data set (one of {', '.join(POINT_SETS)})")
    if not s.features:
        bad("features", "", "choose at least one input feature")
    for f in s.features:
        if f not in FEATURES:
            bad("features", f, f"unknown feature (choose from {', '.join(FEATURES)})")
    if len(set(s.features)) != len(s.features):
        bad("features", ",".join(s.features), "a feature is listed twice")
    if len(s.hidden) > MAX_LAYERS:
        bad("hidden", ",".join(map(str, s.hidden)), f"at most {MAX_LAYERS} hidden layers")
    for units in s.hidden:
        if not 1 <= units <= MAX_UNITS:
            bad("hidden", units, f"each layer has 1 to {MAX_UNITS} units")
    if s.act not in ACTIVATION_NAMES:
        bad("act", s.act, f"unknown activation (one of {', '.join(ACTIVATION_NAMES)})")
    if not (math.isfinite(s.lr) and 0 < s.lr <= 10):
        bad("lr", s.lr, "the learning rate must be above 0 and at most 10")
    if s.reg not in REGULARIZATIONS:
        bad("reg", s.reg, "write none, l1:RATE or l2:RATE")
    if not (math.isfinite(s.reg_rate) and 0 <= s.reg_rate <= 10):
        bad("reg", s.reg_rate, "the rate must be between 0 and 10")
    if not 0 <= s.noise <= 50:
        bad("noise", s.noise, "noise is a percentage from 0 to 50")
    if not 10 <= s.ratio <= 90:
        bad("ratio", s.ratio, "the training share is a percentage from 10 to 90")
    if not 1 <= s.batch <= 100:
        bad("batch", s.batch, "the batch size is 1 to 100")
    if s.opt not in OPTIMIZER_NAMES:
        bad("opt", s.opt, f"unknown optimizer (one of {', '.join(OPTIMIZER_NAMES)})")
    if not 1 <= s.epochs <= 100_000:
        bad("epochs", s.epochs, "1 to 100000")
    if s.seed < 0:
        bad("seed", s.seed, "a seed is a whole number >= 0")
    for h in s.hide:
        if h not in HIDEABLE:
            bad("hide", h, f"cannot hide that (hideable: {', '.join(HIDEABLE)})")


def _number(key: str, text: str, kind=float):
    try:
        value = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise SetupError(f"{key}={text}: not {what}") from None
    return value


def parse_setup(text: str) -> Setup:
    """Read a set-up string: ``key=value`` pairs separated by ``;`` (spaces ignored,
    keys in any order, any key left out keeps its default)::

        data=xor;features=x1,x2;hidden=4,2;act=tanh;lr=0.03;reg=l2:0.001;noise=10;
        ratio=50;batch=10;opt=sgd;epochs=1000;seed=0;hide=features,reg

    data      circle | xor | gauss | spiral | moons
    features  some of x1, x2, x1^2, x2^2, x1*x2, sin(x1), sin(x2), comma-separated
    hidden    units of each hidden layer, comma-separated (1-8 units, at most 6
              layers); ``none`` for no hidden layer
    act       relu | tanh | sigmoid | linear
    lr        the learning rate (above 0, at most 10)
    reg       none | l1:RATE | l2:RATE  (penalty RATE * sum |w|, or RATE/2 * sum w^2)
    noise     0-50 (%);  ratio: 10-90 (% of the points used for training)
    batch     1-100;  opt: sgd | momentum | adam;  epochs: stop after;  seed: >= 0
    hide      control groups the learner does not see: data, noise, ratio, features,
              hidden, act, lr, reg, batch, opt, points, setup

    A mistake raises ``SetupError`` naming the part that is wrong.
    """
    values: dict = {}
    for part in text.replace("\n", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            raise SetupError(f"{part!r}: expected key=value")
        if key in values or (key == "reg" and "reg_rate" in values):
            raise SetupError(f"{key}: given twice")
        if key in ("data", "act", "opt"):
            values[key] = value.lower()
        elif key == "features":
            names = [n.strip().lower().replace(" ", "") for n in value.split(",") if n.strip()]
            values[key] = tuple(_FEATURE_ALIASES.get(n, n) for n in names)
        elif key == "hidden":
            if value.lower() in ("", "none", "0"):
                values[key] = ()
            else:
                values[key] = tuple(_number("hidden", n.strip(), int) for n in value.split(","))
        elif key == "reg":
            kind, _, rate = value.lower().partition(":")
            values["reg"] = kind.strip()
            if values["reg"] == "none":
                values["reg_rate"] = 0.0
            elif not rate:
                raise SetupError(f"reg={value}: give the rate too, as in reg={kind}:0.001")
            else:
                values["reg_rate"] = _number("reg", rate.strip())
        elif key in ("lr",):
            values[key] = _number(key, value)
        elif key in ("noise", "ratio", "batch", "epochs", "seed"):
            values[key] = _number(key, value, int)
        elif key == "hide":
            values[key] = tuple(h.strip().lower() for h in value.split(",") if h.strip())
        else:
            known = "data, features, hidden, act, lr, reg, noise, ratio, batch, opt, " \
                    "epochs, seed, hide"
            raise SetupError(f"unknown key {key!r} (known: {known})")
    return Setup(**values)


def format_setup(s: Setup) -> str:
    """The set-up string of ``s``: ``parse_setup(format_setup(s)) == s``. The main keys
    always appear; opt, epochs, seed and hide only when not the default."""
    reg = "none" if s.reg == "none" else f"{s.reg}:{s.reg_rate!r}"
    parts = [f"data={s.data}", f"features={','.join(s.features)}",
             f"hidden={','.join(map(str, s.hidden)) or 'none'}", f"act={s.act}",
             f"lr={s.lr!r}", f"reg={reg}", f"noise={s.noise}", f"ratio={s.ratio}",
             f"batch={s.batch}"]
    default = Setup()
    if s.opt != default.opt:
        parts.append(f"opt={s.opt}")
    if s.epochs != default.epochs:
        parts.append(f"epochs={s.epochs}")
    if s.seed != default.seed:
        parts.append(f"seed={s.seed}")
    if s.hide:
        parts.append(f"hide={','.join(s.hide)}")
    return ";".join(parts)


def make_points(s: Setup) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test, y_test): ``NUM_POINTS`` points of the data set, with
    noise, shuffled and split ``ratio`` % / the rest, all fixed by the seed."""
    rng = np.random.default_rng(s.seed)
    X, y = POINT_SETS[s.data](NUM_POINTS, rng)
    X = X + rng.normal(0, s.noise / 100 * 2.5, X.shape)
    X = np.clip(X, -EXTENT, EXTENT).astype(np.float32)
    order = rng.permutation(len(X))
    cut = round(len(X) * s.ratio / 100)
    train, test = order[:cut], order[cut:]
    return X[train], y[train], X[test], y[test]


def feature_matrix(X: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The network's inputs: one column per feature named, computed from the plane's
    coordinates X (N, 2)."""
    a, b = X[:, 0].astype(np.float32), X[:, 1].astype(np.float32)
    return np.stack([FEATURES[n][1](a, b) for n in names], 1).astype(np.float32)


def plane_grid(steps: int = GRID) -> np.ndarray:
    """(steps * steps, 2) points of the plane, row by row from the top (x2 = +6) to the
    bottom, each row from left (x1 = -6) to right: the pixels of the boundary image."""
    ticks = np.linspace(-EXTENT, EXTENT, steps, dtype=np.float32)
    x1, x2 = np.meshgrid(ticks, ticks[::-1])
    return np.stack([x1.ravel(), x2.ravel()], 1)


def build_network(s: Setup) -> nn.Sequential:
    """One input per feature, the hidden layers of ``s.hidden`` each followed by the
    activation, and two scores (one per class). Weights from dlcore's default
    initialisation, seeded by ``s.seed``."""
    manual_seed(s.seed)
    layers: list[nn.Module] = []
    size = len(s.features)
    for units in s.hidden:
        layers += [nn.Linear(size, units), ACTIVATION_NAMES[s.act]()]
        size = units
    layers.append(nn.Linear(size, 2))
    return nn.Sequential(*layers)


def _weights(model: nn.Sequential) -> list:
    return [m.weight for m in model if isinstance(m, nn.Linear)]


def regularization_penalty(model: nn.Sequential, kind: str, rate: float) -> float:
    """The penalty added to the loss: ``rate * sum |w|`` (l1) or ``rate / 2 * sum w^2``
    (l2) over every weight (not the biases); 0 for none."""
    if kind == "l1":
        return rate * sum(float(np.abs(w.data).sum()) for w in _weights(model))
    if kind == "l2":
        return rate / 2 * sum(float((w.data ** 2).sum()) for w in _weights(model))
    return 0.0


def add_regularization_grad(model: nn.Sequential, kind: str, rate: float) -> None:
    """Add the penalty's gradient to each weight's ``.grad``: ``rate * sign(w)`` for l1
    (it pulls every weight towards 0 by the same amount), ``rate * w`` for l2 (it shrinks
    each in proportion to its size)."""
    if kind == "none" or rate == 0:
        return
    for w in _weights(model):
        w.grad += rate * (np.sign(w.data) if kind == "l1" else w.data)


class Trainer:
    """The live playground without the widget: the points, the network, one epoch at
    a time, and the arrays of a frame.

        t = Trainer(parse_setup("data=xor;hidden=4"))
        t.step()          # one epoch of mini-batch training; False once done
        t.frame()         # what the widget draws (see ``frame``)
    """

    def __init__(self, setup: Setup | str = ""):
        self.setup = parse_setup(setup) if isinstance(setup, str) else setup
        self.added: list[tuple[float, float, int]] = []
        self.loss_fn = nn.CrossEntropyLoss()
        self.points_version = 0
        self.new_data()

    # -- building ------------------------------------------------------------------
    def new_data(self) -> None:
        """Draw the points again (after a change of data set, noise, ratio or seed) and
        start a new network."""
        self.X_train0, self.y_train0, self.X_test, self.y_test = make_points(self.setup)
        self.added = []
        self._join_points()
        self.new_network()

    def _join_points(self) -> None:
        extra = np.array(self.added, dtype=np.float32).reshape(-1, 3)
        self.X_train = np.concatenate([self.X_train0, extra[:, :2]])
        self.y_train = np.concatenate([self.y_train0, extra[:, 2].astype(np.int64)])
        self.F_train = feature_matrix(self.X_train, self.setup.features)
        self.F_test = feature_matrix(self.X_test, self.setup.features)
        self.points_version += 1

    def new_network(self) -> None:
        """Fresh weights (same seed: the same start every time), epoch 0."""
        s = self.setup
        self.F_train = feature_matrix(self.X_train, s.features)
        self.F_test = feature_matrix(self.X_test, s.features)
        self.F_grid = feature_matrix(plane_grid(), s.features)
        self.model = build_network(s)
        self.optimizer = OPTIMIZER_NAMES[s.opt](self.model.parameters(), lr=s.lr)
        self.rng = np.random.default_rng(s.seed)
        self.epoch = 0
        self.diverged = False
        train_loss, test_loss = self.losses()
        self.history = {"epoch": [0], "train": [train_loss], "test": [test_loss]}

    def apply(self, setup: Setup) -> str:
        """Move to a new set-up, rebuilding only what it needs: ``"data"`` (new points and
        network), ``"network"`` (new network), ``"live"`` (learning rate, regularisation,
        batch size or epochs: training goes on) or ``"same"``."""
        old, self.setup = self.setup, setup
        if (old.data, old.noise, old.ratio, old.seed) != (setup.data, setup.noise,
                                                          setup.ratio, setup.seed):
            self.new_data()
            return "data"
        if (old.features, old.hidden, old.act, old.opt) != (setup.features, setup.hidden,
                                                            setup.act, setup.opt):
            self.new_network()
            return "network"
        for group in self.optimizer.param_groups:
            group["lr"] = setup.lr
        same = (old.lr, old.reg, old.reg_rate, old.batch, old.epochs) == (
            setup.lr, setup.reg, setup.reg_rate, setup.batch, setup.epochs)
        return "same" if same else "live"

    def add_point(self, x1: float, x2: float, label: int) -> None:
        """A training point of class ``label`` at (x1, x2), clipped to the plane."""
        x1, x2 = (float(np.clip(v, -EXTENT, EXTENT)) for v in (x1, x2))
        self.added.append((x1, x2, int(label)))
        self._join_points()

    def clear_added(self) -> None:
        self.added = []
        self._join_points()

    # -- training ------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.diverged or self.epoch >= self.setup.epochs

    def step(self) -> bool:
        """One epoch: the training points in shuffled mini-batches of ``batch``, each a
        forward pass, the loss, the backward pass, the penalty's gradient, an optimizer
        step. Records both losses; returns False when training is over (the last epoch
        or a loss that is no longer finite)."""
        if self.done:
            return False
        s = self.setup
        order = self.rng.permutation(len(self.F_train))
        with np.errstate(all="ignore"):
            for start in range(0, len(order), s.batch):
                batch = order[start:start + s.batch]
                self.loss_fn(self.model(self.F_train[batch]), self.y_train[batch])
                self.model.backward(self.loss_fn.backward(), input_grad=False)
                add_regularization_grad(self.model, s.reg, s.reg_rate)
                self.optimizer.step()
                self.optimizer.zero_grad()
        self.epoch += 1
        train_loss, test_loss = self.losses()
        self.history["epoch"].append(self.epoch)
        self.history["train"].append(train_loss)
        self.history["test"].append(test_loss)
        self.diverged = not math.isfinite(train_loss)
        return not self.done

    def losses(self) -> tuple[float, float]:
        """Cross-entropy on the training points and on the test points (without the
        penalty)."""
        with np.errstate(all="ignore"):
            train_loss = float(self.loss_fn(self.model(self.F_train), self.y_train))
            test_loss = float(self.loss_fn(self.model(self.F_test), self.y_test))
        return train_loss, test_loss

    def accuracy(self) -> tuple[float, float]:
        with np.errstate(all="ignore"):
            return tuple(float((self.model(F).argmax(1) == y).mean())
                         for F, y in ((self.F_train, self.y_train), (self.F_test, self.y_test)))

    # -- what a frame shows --------------------------------------------------------
    def grid_outputs(self) -> list[np.ndarray]:
        """Every hidden layer's output (after its activation) at each point of
        ``plane_grid()``, then the two scores: (GRID * GRID, units) arrays. Run in
        chunks of ``GRID_CHUNK`` points: one big product makes OpenBLAS start its threads,
        which on a busy 2-core machine makes it 4 times slower."""
        chunks = []
        with np.errstate(all="ignore"):
            for start in range(0, len(self.F_grid), GRID_CHUNK):
                h, outs = self.F_grid[start:start + GRID_CHUNK], []
                for layer in self.model:
                    h = layer(h)
                    if not isinstance(layer, nn.Linear):
                        outs.append(h)
                chunks.append([*outs, h])
        return [np.concatenate(parts) for parts in zip(*chunks, strict=True)]

    def frame(self) -> dict:
        """The arrays of one frame:

        ``boundary``  (GRID, GRID) uint8: the probability of class 1 at each pixel of
                      the plane (row 0 at the top), times 255;
        ``units``     one (units, THUMB, THUMB) uint8 array per column of the network
                      diagram: the input features (each scaled to its largest value),
                      then each hidden layer's outputs; 0 stands for -1 (or less),
                      255 for +1 (or more);
        ``weights``   each Linear layer's weight matrix (out, in), float32;
        ``train_loss``, ``test_loss``, ``epoch``.
        """
        every = GRID // THUMB
        feats = self.F_grid.reshape(GRID, GRID, -1)[::every, ::every]
        scale = np.maximum(np.abs(feats).max(axis=(0, 1)), 1e-6)
        columns = [feats / scale]
        outputs = self.grid_outputs()
        columns += [h.reshape(GRID, GRID, -1)[::every, ::every] for h in outputs[:-1]]
        with np.errstate(all="ignore"):
            p1 = nn.functional.softmax(outputs[-1], dim=-1)[:, 1]
        boundary = np.nan_to_num(p1, nan=0.5).reshape(GRID, GRID)
        units = [_to_uint8(np.moveaxis(c, -1, 0), -1.0, 1.0) for c in columns]
        return {"boundary": _to_uint8(boundary, 0.0, 1.0), "units": units,
                "weights": [w.data.astype(np.float32) for w in _weights(self.model)],
                "train_loss": self.history["train"][-1], "test_loss": self.history["test"][-1],
                "epoch": self.epoch}


GRID_CHUNK = 1000     # rows per product: small enough for OpenBLAS's one-thread path


def _to_uint8(values: np.ndarray, low: float, high: float) -> np.ndarray:
    scaled = (np.nan_to_num(values, nan=(low + high) / 2) - low) / (high - low)
    return np.clip(np.rint(scaled * 255), 0, 255).astype(np.uint8)


# -- widgets -------------------------------------------------------------------------

def _dropdown(options: dict, value, description: str, tooltip: str = ""):
    import ipywidgets as widgets
    return widgets.Dropdown(options=list(options.items()), value=value,
                            description=description, tooltip=tooltip or None,
                            style=plots.slider_style(), layout=widgets.Layout(width="245px"))


# -- the live playground: the widget -----------------------------------------------

def _canvas_class():
    """The anywidget class, made on first use (so importing this module does not need
    anywidget or ipywidgets)."""
    global _Canvas
    if _Canvas is not None:
        return _Canvas
    import anywidget
    import traitlets as t

    class Playground(anywidget.AnyWidget):
        """The picture of the live playground, drawn in the browser on <canvas> from
        small arrays the kernel sends each frame (see ``Trainer.frame``): the network
        with each unit's output as a small heatmap and the weights as lines, the
        decision boundary with the points, the two losses. A click on the boundary
        sends ``{"event": "click", "x": x1, "y": x2, "shift": bool}`` to the kernel.
        After painting each frame the JS sets ``data-frame`` (a counter) on its root."""
        _esm = Path(__file__).with_name("playground.js")
        boundary = t.Bytes(b"").tag(sync=True)
        grid = t.Int(GRID).tag(sync=True)
        units = t.Bytes(b"").tag(sync=True)
        thumb = t.Int(THUMB).tag(sync=True)
        layer_sizes = t.List(t.Int()).tag(sync=True)
        feature_labels = t.List(t.Unicode()).tag(sync=True)
        weights = t.List().tag(sync=True)
        train_points = t.List().tag(sync=True)
        test_points = t.List().tag(sync=True)
        show_test = t.Bool(True).tag(sync=True)
        loss_epochs = t.List().tag(sync=True)
        train_loss = t.List().tag(sync=True)
        test_loss = t.List().tag(sync=True)
        epoch = t.Int(0).tag(sync=True)
        note = t.Unicode("").tag(sync=True)
        extent = t.Float(EXTENT).tag(sync=True)
        colors = t.List(t.Unicode(), [plots.CLASS_COLORS[0], plots.CLASS_COLORS[1]]
                        ).tag(sync=True)
        click_class = t.Int(1).tag(sync=True)
        added = t.Int(0).tag(sync=True)
        frame = t.Int(0).tag(sync=True)

    _Canvas = Playground
    return _Canvas


_Canvas = None
MAX_CURVE_POINTS = 300


def frame_state(trainer: Trainer, points_version: int | None = None) -> dict:
    """The traitlet values of the canvas for the trainer's current state (the points
    only if ``points_version`` differs from the trainer's)."""
    f = trainer.frame()
    h = trainer.history
    keep = np.unique(np.linspace(0, len(h["epoch"]) - 1,
                                 min(len(h["epoch"]), MAX_CURVE_POINTS)).round().astype(int))

    def curve(values):
        return [round(float(v), 5) if math.isfinite(v) else None for v in np.asarray(values)[keep]]

    state = {
        "boundary": f["boundary"].tobytes(),
        "units": b"".join(u.tobytes() for u in f["units"]),
        "layer_sizes": [len(u) for u in f["units"]],
        "feature_labels": [FEATURES[n][0] for n in trainer.setup.features],
        # the output's weights as one row: class 1's score minus class 0's decides
        "weights": [np.round(np.nan_to_num(w), 3).tolist()
                    for w in [*f["weights"][:-1], f["weights"][-1][1:] - f["weights"][-1][:1]]],
        "loss_epochs": [int(e) for e in np.asarray(h["epoch"])[keep]],
        "train_loss": curve(h["train"]), "test_loss": curve(h["test"]),
        "epoch": f["epoch"],
        "note": "diverged: the loss is no longer a number (lower the learning rate, "
                "then Reset)" if trainer.diverged else "",
    }
    if points_version != trainer.points_version:
        state["train_points"] = [[round(float(a), 3), round(float(b), 3), int(c)]
                                 for (a, b), c in zip(trainer.X_train, trainer.y_train,
                                                      strict=True)]
        state["added"] = len(trainer.added)
        state["test_points"] = [[round(float(a), 3), round(float(b), 3), int(c)]
                                for (a, b), c in zip(trainer.X_test, trainer.y_test,
                                                     strict=True)]
    return state


def _option(value: float, options: Sequence[float]) -> list[tuple[str, float]]:
    values = sorted(set(options) | {value})
    return [(f"{v:g}", v) for v in values]


def playground(setup: Setup | str = ""):
    """The live playground. ``setup`` is a set-up string (see ``parse_setup``) or a
    ``Setup``; the widget shows its current string, which a teacher can copy into a
    lesson, with ``hide=...`` to make an exercise of it.

    Train plays epochs on the kernel's event loop, 25 frames a second at most; the
    picture is drawn in the browser from the arrays of ``Trainer.frame``. Changing the
    data, the features or the network starts again (Reset); the learning rate, the
    regularisation and the batch size apply at once, even while it trains. A click on
    the picture adds a training point of the class chosen ("a click adds"), a
    shift-click one of the other class.

    Returns a VBox with ``.trainer``, ``.canvas`` (the anywidget), ``.player``,
    ``.controls`` (name -> control), ``.groups`` (hideable name -> box),
    ``.setup_text`` and ``.apply(setup_or_string)``.
    """
    import ipywidgets as widgets

    s = parse_setup(setup) if isinstance(setup, str) else setup
    trainer = Trainer(s)
    canvas = _canvas_class()()
    style = plots.slider_style()

    def layout(width="250px"):
        return widgets.Layout(width=width)

    c = {
        "data": widgets.Dropdown(options=list(POINT_SETS), value=s.data,
                                 description="data set", style=style, layout=layout(),
                                 tooltip="the points to separate"),
        "noise": widgets.IntSlider(value=s.noise, min=0, max=50, step=5,
                                   description="noise (%)", style=style, layout=layout(),
                                   tooltip="how far the points scatter from their pattern"),
        "ratio": widgets.IntSlider(value=s.ratio, min=10, max=90, step=10,
                                   description="training data (%)", style=style,
                                   layout=layout(), tooltip="the rest are test points"),
        "layers": widgets.IntSlider(value=len(s.hidden), min=0, max=MAX_LAYERS,
                                    description="hidden layers", style=style,
                                    layout=layout(), tooltip="0: a linear model"),
        "units": widgets.Text(value=",".join(map(str, s.hidden)),
                              description="units per layer", style=style, layout=layout(),
                              continuous_update=False,
                              tooltip=f"e.g. 4,2: 1 to {MAX_UNITS} units per layer"),
        "act": widgets.Dropdown(options=list(ACTIVATION_NAMES), value=s.act,
                                description="activation", style=style, layout=layout(),
                                tooltip="the nonlinearity of every hidden layer"),
        "lr": widgets.Dropdown(options=_option(s.lr, LEARNING_RATES), value=s.lr,
                               description="learning rate", style=style, layout=layout()),
        "reg": widgets.Dropdown(options=[("none", "none"), ("L1", "l1"), ("L2", "l2")],
                                value=s.reg, description="regularisation", style=style,
                                layout=layout(),
                                tooltip="L1: rate·Σ|w|, L2: rate/2·Σw² added to the loss"),
        "reg_rate": widgets.Dropdown(options=_option(s.reg_rate, REG_RATES),
                                     value=s.reg_rate, description="its rate",
                                     style=style, layout=layout(),
                                     tooltip="how strongly the penalty pulls weights to 0"),
        "batch": widgets.IntSlider(value=s.batch, min=1, max=30, description="batch size",
                                   style=style, layout=layout(),
                                   tooltip="training points per step"),
        "opt": widgets.Dropdown(options=[("SGD", "sgd"), ("SGD + momentum", "momentum"),
                                         ("Adam", "adam")], value=s.opt,
                                description="optimizer", style=style, layout=layout()),
        "click_class": widgets.ToggleButtons(
            options=[("blue", 0), ("vermillion", 1)], value=1,
            description="a click on the picture adds a point:",
            # ToggleButtons stack their description over the buttons (display: block);
            # one row instead, at its own width
            style={**style, "button_width": "90px"},
            layout=widgets.Layout(width="auto", flex="0 0 auto", display="flex",
                                  align_items="center"),
            tooltips=["a click on the picture adds a blue training point",
                      "a click on the picture adds a vermillion training point"]),
        "show_test": widgets.Checkbox(value=True, description="show test points",
                                      indent=False, layout=widgets.Layout(width="150px")),
    }
    feature_buttons = {name: widgets.ToggleButton(value=name in s.features, description=label,
                                                  tooltip=f"use {name} as an input",
                                                  layout=widgets.Layout(width="72px"))
                       for name, (label, _) in FEATURES.items()}
    clear = widgets.Button(description="remove added points", layout=widgets.Layout(
        width="auto"), tooltip="take away the points you added by clicking")
    setup_text = widgets.Text(value=format_setup(s), description="set-up",
                              continuous_update=False, style=style,
                              layout=widgets.Layout(width="100%"),
                              tooltip="copy it to share this set-up; paste one and press "
                                      "Enter to load it")
    message = widgets.HTML()
    groups = {
        "data": c["data"], "noise": c["noise"], "ratio": c["ratio"],
        "features": widgets.HBox([widgets.Label("input features"), *feature_buttons.values()]),
        "hidden": widgets.HBox([c["layers"], c["units"]]), "act": c["act"], "lr": c["lr"],
        "reg": widgets.HBox([c["reg"], c["reg_rate"]]), "batch": c["batch"], "opt": c["opt"],
        "points": widgets.HBox([c["click_class"], clear]),
        "setup": widgets.VBox([setup_text]),
    }
    state = {"version": None, "quiet": False}

    def push() -> None:
        values = frame_state(trainer, state["version"])
        state["version"] = trainer.points_version
        with canvas.hold_sync():
            for key, value in values.items():
                setattr(canvas, key, value)
            canvas.frame += 1

    def status() -> str:
        tr, te = trainer.history["train"][-1], trainer.history["test"][-1]
        return f"epoch {trainer.epoch} · training loss {tr:.3f} · test loss {te:.3f}"

    player = widgets_core.Player(trainer.step, push, trainer.new_network, status=status,
                                 play_label="Train")

    def read_controls() -> Setup:
        hidden_text = c["units"].value.replace(" ", "")
        try:
            hidden = tuple(int(u) for u in hidden_text.split(",") if u)
        except ValueError:
            raise SetupError(f"units per layer: {c['units'].value!r} is not a list of "
                             "whole numbers such as 4,2") from None
        return replace(trainer.setup, data=c["data"].value, noise=c["noise"].value,
                       ratio=c["ratio"].value, act=c["act"].value, lr=c["lr"].value,
                       reg=c["reg"].value, reg_rate=c["reg_rate"].value,
                       batch=c["batch"].value, opt=c["opt"].value, hidden=hidden,
                       features=tuple(n for n, b in feature_buttons.items() if b.value))

    def show_controls(s: Setup) -> None:
        state["quiet"] = True
        try:
            for key in ("data", "noise", "ratio", "act", "batch", "opt", "reg"):
                c[key].value = getattr(s, key)
            c["lr"].options = _option(s.lr, LEARNING_RATES)
            c["lr"].value = s.lr
            c["reg_rate"].options = _option(s.reg_rate, REG_RATES)
            c["reg_rate"].value = s.reg_rate
            c["layers"].value = len(s.hidden)
            c["units"].value = ",".join(map(str, s.hidden))
            for name, button in feature_buttons.items():
                button.value = name in s.features
            for name, group in groups.items():
                group.layout.display = "none" if name in s.hide else None
        finally:
            state["quiet"] = False
        setup_text.value = format_setup(s)

    def apply(new: Setup | str) -> None:
        """Load a set-up (a string or a Setup): the controls follow, and the picture."""
        try:
            new = parse_setup(new) if isinstance(new, str) else new
        except SetupError as err:
            message.value = f"<span style='color:#c53030'>set-up not loaded: {err}</span>"
            return
        message.value = ""
        show_controls(new)
        changed(new)

    def changed(new: Setup) -> None:
        kind = trainer.apply(new)
        setup_text.value = format_setup(new)
        if kind in ("data", "network"):
            player.reset()               # pauses, fresh weights, draws
        elif kind == "live":
            if trainer.done:
                player.finish()
            else:
                player.rearm()
            if not player.playing:
                push()

    def on_control(_change=None) -> None:
        if state["quiet"]:
            return
        try:
            new = read_controls()
        except (SetupError, ValueError) as err:
            message.value = f"<span style='color:#c53030'>{err}</span>"
            return
        message.value = ""
        if c["layers"].value != len(new.hidden):     # "units per layer" was typed in
            state["quiet"] = True
            c["layers"].value = len(new.hidden)
            state["quiet"] = False
        changed(new)

    def on_layers(change) -> None:
        if state["quiet"]:
            return
        units = [u for u in c["units"].value.replace(" ", "").split(",") if u]
        n = change["new"]
        units = (units + [units[-1] if units else "4"] * n)[:n]
        state["quiet"] = True
        c["units"].value = ",".join(units)
        state["quiet"] = False
        on_control()

    for key, control in c.items():
        if key in ("layers", "click_class", "show_test"):
            continue
        control.observe(on_control, names="value")
    def tick(change) -> None:          # a tick on the features in use
        change["owner"].icon = "check" if change["new"] else ""

    for button in feature_buttons.values():
        button.icon = "check" if button.value else ""
        button.observe(tick, names="value")
        button.observe(on_control, names="value")
    c["layers"].observe(on_layers, names="value")
    setup_text.observe(lambda change: apply(change["new"]) if not state["quiet"]
                       and change["new"] != format_setup(trainer.setup) else None,
                       names="value")
    widgets.jslink((c["show_test"], "value"), (canvas, "show_test"))
    widgets.link((c["click_class"], "value"), (canvas, "click_class"))

    def on_click(_widget, content, _buffers) -> None:
        if not isinstance(content, dict) or content.get("event") != "click":
            return
        label = int(c["click_class"].value)
        if content.get("shift"):
            label = 1 - label
        trainer.add_point(float(content["x"]), float(content["y"]), label)
        if not player.playing:
            push()

    def on_clear(_button) -> None:
        trainer.clear_added()
        if not player.playing:
            push()

    canvas.on_msg(on_click)
    clear.on_click(on_clear)
    show_controls(s)
    push()
    rows = [widgets.HBox([groups[k] for k in ("data", "noise", "ratio")]),
            groups["features"],
            widgets.HBox([groups["hidden"], groups["act"]]),
            widgets.HBox([groups[k] for k in ("lr", "batch", "opt")]),
            widgets.HBox([groups["reg"]]),
            widgets.HBox([player.widget]),
            canvas,
            widgets.HBox([groups["points"], c["show_test"]]),
            groups["setup"], message]
    box = widgets.VBox(rows)
    box.trainer, box.canvas, box.player, box.controls = trainer, canvas, player, c
    box.features, box.groups, box.setup_text, box.apply = (feature_buttons, groups,
                                                           setup_text, apply)
    box.message = message
    return box
