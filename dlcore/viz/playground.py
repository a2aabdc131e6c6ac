"""Lesson 06's playground, in the spirit of TensorFlow Playground, on dlcore.

Pick a 2-D data set, its noise, the network's depth, width and activation, the
optimizer, learning rate and batch size; train; watch the decision boundary and
the learning curves. Plus a learning-rate sweep: final loss against lr.

    from dlcore.viz import playground as pg
    config = pg.PlaygroundConfig(dataset=pg.DATASETS["circles"], hidden_layers=1)
    run = pg.train_playground(config)
    pg.draw_playground(run)

Everything trains through ``dlcore.train.fit`` on the real layers and optimizers.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import data, nn, optim, train
from ..rng import manual_seed
from . import plots

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
    per-epoch curves (index 0 is before training)."""
    config: PlaygroundConfig
    model: nn.Sequential
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    curves: dict[str, list[float]] = field(default_factory=dict)
    diverged_at: int | None = None

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


def train_playground(config: PlaygroundConfig, snapshots: int = 1,
                     on_snapshot: Callable[[PlaygroundRun], None] | None = None,
                     epochs: int | None = None) -> PlaygroundRun:
    """Build the data and the model, then train for ``config.epochs`` epochs (or
    ``epochs``, say 0 for a look before training) with ``dlcore.train.fit``, in
    ``snapshots`` chunks; ``on_snapshot(run)`` is called after each chunk (the
    widget redraws there). A learning rate that makes the loss non-finite stops
    the run; ``run.diverged_at`` then holds the epoch."""
    X_train, y_train, X_val, y_val = make_data(config)
    num_classes = int(max(y_train.max(), y_val.max())) + 1
    model = build_model(config, num_classes)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = config.optimizer(model.parameters(), lr=config.lr)
    loader = data.DataLoader(data.TensorDataset(X_train, y_train),
                             batch_size=config.batch_size, shuffle=True, seed=config.seed)
    run = PlaygroundRun(config, model, X_train, y_train, X_val, y_val)
    loss, acc = _evaluate(model, loss_fn, X_train, y_train)
    val_loss, val_acc = _evaluate(model, loss_fn, X_val, y_val)
    run.curves = {"loss": [loss], "accuracy": [acc], "val_loss": [val_loss],
                  "val_accuracy": [val_acc]}
    total = config.epochs if epochs is None else epochs
    chunks = np.diff(np.linspace(0, total, max(1, snapshots) + 1).round()).astype(int)
    with np.errstate(all="ignore"):   # a diverging run overflows; fit then stops it
        for epochs in chunks:
            if epochs == 0:
                continue
            try:
                history = train.fit(model, loss_fn, optimizer, loader, epochs=int(epochs),
                                    val_loader=[(X_val, y_val)], progress=False)
            except train.NonFiniteLossError as err:
                run.diverged_at = run.epochs_done + err.epoch
                break
            for key in run.curves:
                run.curves[key] += history[key]
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
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
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
        fig, (ax_net, ax, ax_loss) = plt.subplots(
            1, 3, figsize=(14, 4.6), dpi=plots.DPI,
            gridspec_kw={"width_ratios": [0.9, 1.15, 1.1]})
        plots.network_diagram(run.model, ax=ax_net, max_units=8,
                              title=f"{sum(p.numel() for p in run.model.parameters())} "
                                    "weights and biases")
        _boundary(ax, run)
        c = run.curves
        status = (f"diverged at epoch {run.diverged_at}" if run.diverged_at else
                  f"epoch {run.epochs_done}: train {c['accuracy'][-1]:.0%}, "
                  f"validation {c['val_accuracy'][-1]:.0%} correct")
        ax.set_title(status, fontsize=11)
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
        ax_loss.set_ylabel("cross-entropy loss (log scale)")
        ax_loss.set_title(_describe(config), fontsize=9.5)
        ax_loss.grid(True, which="both", alpha=0.25)
        ax_loss.legend(loc="upper right")
        fig.tight_layout()
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

def lr_sweep(config: PlaygroundConfig, lrs: np.ndarray) -> dict[str, np.ndarray]:
    """Train a fresh copy of the same model (same data, same initial weights)
    for each learning rate; return ``{'lr', 'loss', 'val_loss'}``, the final
    losses, NaN where training diverged."""
    lrs = np.asarray(lrs, dtype=float)
    loss = np.full(len(lrs), np.nan)
    val_loss = np.full(len(lrs), np.nan)
    for i, lr in enumerate(lrs):
        run = train_playground(replace(config, lr=float(lr)))
        final = run.curves["loss"][-1]
        if run.diverged_at is None and math.isfinite(final):
            loss[i] = final
            val_loss[i] = run.curves["val_loss"][-1]
    return {"lr": lrs, "loss": loss, "val_loss": val_loss}


def draw_lr_sweep(sweep: dict[str, np.ndarray], config: PlaygroundConfig | None = None
                  ) -> Figure:
    """Final loss against learning rate (log-log); diverged runs marked with x at the
    top; the best learning rate (lowest validation loss) starred."""
    lrs, loss, val_loss = sweep["lr"], sweep["loss"], sweep["val_loss"]
    with plots.style():
        fig, ax = plt.subplots(figsize=(8, 4.2), dpi=plots.DPI)
        ax.plot(lrs, loss, "o-", color=plots.CLASS_COLORS[0], label="train loss")
        ax.plot(lrs, val_loss, "s--", color=plots.CLASS_COLORS[1], label="validation loss")
        finite = np.isfinite(val_loss)
        top = np.nanmax(np.concatenate([loss, val_loss])) if finite.any() else 1.0
        if (~finite).any():
            ax.plot(lrs[~finite], np.full((~finite).sum(), top * 1.5), "x", color="black",
                    ms=10, mew=2, label="diverged (loss became nan)")
        if finite.any():
            best = int(np.nanargmin(val_loss))
            ax.plot(lrs[best], val_loss[best], "*", color=plots.ACCENT, mec="black", ms=18,
                    zorder=5, label=f"best: lr = {lrs[best]:.2g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("loss after training (log scale)")
        title = "learning-rate sweep"
        if config is not None:
            name = {v: k for k, v in OPTIMIZERS.items()}.get(config.optimizer, "")
            title += f": {name}, {config.epochs} epochs, batch {config.batch_size}"
        ax.set_title(title)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=9)
        fig.tight_layout()
    return plots.finish(fig)


# -- widgets -------------------------------------------------------------------------

def _dropdown(options: dict, value, description: str, tooltip: str = ""):
    import ipywidgets as widgets
    return widgets.Dropdown(options=list(options.items()), value=value,
                            description=description, tooltip=tooltip or None,
                            style=plots.slider_style(), layout=widgets.Layout(width="300px"))


def playground(config: PlaygroundConfig | None = None):
    """The widget. Changing a control shows the new data and the untrained
    network (cheap); the Train button trains it, redrawing a few times on the
    way (a few seconds at most)."""
    import ipywidgets as widgets
    from IPython.display import display

    c = config or PlaygroundConfig()
    style = plots.slider_style()
    small = widgets.Layout(width="300px")
    controls = {
        "dataset": _dropdown(DATASETS, c.dataset, "data set", "the points to separate"),
        "noise": widgets.FloatSlider(value=c.noise, min=0.0, max=0.5, step=0.05,
                                     description="noise in the data", continuous_update=False,
                                     tooltip="how far the points scatter from their pattern",
                                     style=style, layout=small),
        "hidden_layers": widgets.IntSlider(value=c.hidden_layers, min=0, max=4,
                                           description="hidden layers",
                                           tooltip="0: a linear model",
                                           continuous_update=False, style=style, layout=small),
        "width": widgets.IntSlider(value=c.width, min=1, max=16,
                                   description="units per hidden layer",
                                   continuous_update=False, style=style, layout=small),
        "activation": _dropdown(ACTIVATIONS, c.activation, "activation",
                                "the nonlinearity of every hidden layer"),
        "optimizer": _dropdown(OPTIMIZERS, c.optimizer, "optimizer"),
        "lr": widgets.FloatLogSlider(value=c.lr, base=10, min=-4, max=1, step=0.25,
                                     description="learning rate", readout_format=".1e",
                                     continuous_update=False, style=style, layout=small),
        "batch_size": widgets.Dropdown(options=[1, 4, 8, 16, 32, 64, 256], value=c.batch_size,
                                       description="batch size",
                                       tooltip="training points per step", style=style,
                                       layout=small),
        "epochs": widgets.IntSlider(value=c.epochs, min=10, max=300, step=10,
                                    description="epochs to train", continuous_update=False,
                                    tooltip="passes over the training points when you press Train",
                                    style=style, layout=small),
    }
    button = widgets.Button(description="▶ Train", button_style="success",
                            tooltip="train the network shown, for the chosen epochs",
                            layout=widgets.Layout(width="300px"))
    out = widgets.Output(layout=widgets.Layout(height="440px", overflow="hidden"))

    def current() -> PlaygroundConfig:
        return replace(c, **{name: w.value for name, w in controls.items()})

    def show(run: PlaygroundRun) -> None:
        fig = draw_playground(run)
        with out:
            out.clear_output(wait=True)
            display(fig)

    def preview(_change=None) -> None:
        show(train_playground(current(), epochs=0))

    def on_train(_button) -> None:
        button.disabled = True
        try:
            train_playground(current(), snapshots=5, on_snapshot=show)
        finally:
            button.disabled = False

    for w in controls.values():
        w.observe(preview, names="value")
    button.on_click(on_train)
    preview()
    names = list(controls)
    rows = [widgets.HBox([controls[n] for n in names[i:i + 3]]) for i in range(0, 9, 3)]
    return widgets.VBox([*rows, button, out])


def lr_sweep_widget(config: PlaygroundConfig | None = None, num_lrs: int = 9,
                    sweep: dict[str, np.ndarray] | None = None):
    """A learning-rate sweep: pick the data set, the optimizer and the number of
    epochs; the sweep (``num_lrs`` trainings from lr = 1e-4 to 10) reruns on
    release. ``sweep``, if given, is ``lr_sweep(config, ...)`` already computed:
    it is shown first instead of being computed again."""
    import ipywidgets as widgets
    from IPython.display import display

    c = config or PlaygroundConfig(epochs=20)
    lrs = np.logspace(-4, 1, num_lrs)
    optimizer = _dropdown(OPTIMIZERS, c.optimizer, "optimizer", "used for every learning rate")
    epochs = widgets.IntSlider(value=c.epochs, min=5, max=60, step=5,
                               description="epochs per learning rate", continuous_update=False,
                               style=plots.slider_style(), layout=widgets.Layout(width="340px"))
    dataset = _dropdown(DATASETS, c.dataset, "data set", "the points to separate")
    # Sweeps already run in this widget, so going back to a setting is instant.
    done: dict[PlaygroundConfig, dict[str, np.ndarray]] = {}
    if sweep is not None and np.allclose(sweep["lr"], lrs):
        done[c] = sweep

    def show(optimizer, epochs, dataset):
        cfg = replace(c, optimizer=optimizer, epochs=epochs, dataset=dataset)
        if cfg not in done:
            done[cfg] = lr_sweep(cfg, lrs)
        display(draw_lr_sweep(done[cfg], cfg))

    out = widgets.interactive_output(show, {"optimizer": optimizer, "epochs": epochs,
                                            "dataset": dataset})
    out.layout = widgets.Layout(height="400px", overflow="hidden")
    return widgets.VBox([widgets.HBox([dataset, optimizer, epochs]), out])
