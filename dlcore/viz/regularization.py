"""Lesson 10 (dropout and batch normalization): overfitting, dropout, batch norm.

    from dlcore.viz import regularization as reg
    X, y, X_val, y_val = reg.few_digits(per_class=10)      # 100 training digits
    history = reg.train_dropout(0.5, X, y, X_val, y_val)   # a big MLP, dropout p = 0.5
    reg.dropout_figure({0.0: h0, 0.5: history}, p=0.5)     # curves with and without
    sweep = reg.batchnorm_lr_sweep(X, y, lrs=(0.01, 0.1, 1.0))
    reg.batchnorm_figure(sweep, lr=0.1)                    # loss per step, BN on and off
    plain = reg.pre_activations(reg.deep_mlp(8), X)        # what each layer hands its ReLU
    reg.activation_figure(plain, with_bn, layer=4)

Widgets: ``dropout_explorer`` (a slider for p and a Train button),
``batchnorm_explorer`` (a slider over the learning rates of a sweep) and
``activation_explorer`` (a slider over the layers).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import data, nn, optim, train
from ..rng import manual_seed
from . import plots
from .transfer import per_class

PLAIN, BATCH_NORM = "without batch norm", "with batch norm"
STYLES = {PLAIN: ("o", "-"), BATCH_NORM: ("s", "--")}     # marker and line of each network
_GREY = "#718096"
SKETCH_WIDTHS = (6, 9, 9, 4)          # the network the dropout pictures draw
SKETCH_HIDDEN = sum(SKETCH_WIDTHS[1:-1])


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
    return train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=lr),
                     loader, epochs=epochs, val_loader=(X_val, y_val), progress=False)


def thinned_network(ax, p: float, seed: int = 0, widths: Sequence[int] = SKETCH_WIDTHS) -> int:
    """Draw a small network as one training step of dropout sees it: each hidden
    unit dropped with probability ``p`` (grey, crossed out, its lines gone).
    Returns how many hidden units were dropped."""
    g = np.random.default_rng(seed)
    tallest = max(widths)
    positions = [np.linspace(w - 1, 0, w) - (w - 1) / 2 for w in widths]
    kept = [np.ones(w, bool) if i in (0, len(widths) - 1) else g.random(w) >= p
            for i, w in enumerate(widths)]
    for i in range(len(widths) - 1):
        for a, ya in enumerate(positions[i]):
            for b, yb in enumerate(positions[i + 1]):
                if kept[i][a] and kept[i + 1][b]:
                    ax.plot([i, i + 1], [ya, yb], color="#a0aec0", lw=0.6, zorder=1)
    for i, (ys, keep) in enumerate(zip(positions, kept, strict=True)):
        color = plots.CLASS_COLORS[0] if i == 0 else (
            plots.CLASS_COLORS[1] if i == len(widths) - 1 else plots.CLASS_COLORS[2])
        ax.scatter(np.full(keep.sum(), i), ys[keep], s=150, color=color, edgecolor="white",
                   zorder=3)
        ax.scatter(np.full((~keep).sum(), i), ys[~keep], s=150, color="white",
                   edgecolor="#a0aec0", zorder=3)
        ax.scatter(np.full((~keep).sum(), i), ys[~keep], s=60, marker="x", color="#a0aec0",
                   zorder=4)
    names = ["input", "hidden 1", "hidden 2", "output"]
    for i in range(len(widths)):
        ax.text(i, -tallest / 2 - 0.6, names[i] if i < len(names) else "", ha="center",
                va="top", fontsize=9)
    ax.set_xlim(-0.5, len(widths) - 0.5)
    ax.set_ylim(-tallest / 2 - 1.6, tallest / 2 + 0.3)
    ax.axis("off")
    return int(sum((~k).sum() for k in kept))


def dropout_figure(runs: Mapping[float, train.History], p: float, seed: int = 0) -> Figure:
    """Left: the network as one training step with dropout ``p`` sees it.
    Middle: training (solid) and validation (dashed) loss of the run with ``p``
    (if trained) beside the run without dropout (grey). Right: the final
    validation loss of every run in ``runs`` (p -> History), ``p`` ringed."""
    p = round(float(p), 2)
    with plots.style():
        fig, (ax_net, ax_loss, ax_p) = plt.subplots(
            1, 3, figsize=(11.0, 4.0), dpi=plots.DPI, layout="constrained",
            width_ratios=[0.8, 1.3, 0.9])
        dropped = thinned_network(ax_net, p, seed)
        ax_net.set_title(f"one training step, p = {p:g} (sketch):\n{dropped} of "
                         f"{SKETCH_HIDDEN} hidden units dropped", fontsize=10)
        shown = [(0.0, _GREY, "p = 0")] + ([(p, plots.CLASS_COLORS[1], f"p = {p:g}")]
                                             if p != 0.0 and p in runs else [])
        for key, color, label in shown:
            if key not in runs:
                continue
            h = runs[key]
            epochs = range(1, len(h["loss"]) + 1)
            ax_loss.plot(epochs, h["loss"], color=color, label=f"{label} train")
            ax_loss.plot(epochs, h["val_loss"], "--", color=color, label=f"{label} validation")
        ax_loss.set_yscale("log")
        ax_loss.set_xlabel("epoch")
        ax_loss.set_ylabel("loss (log scale)")
        if p in runs:
            last = runs[p]
            ax_loss.set_title(f"p = {p:g}: loss train {last['loss'][-1]:.3g}, validation "
                              f"{last['val_loss'][-1]:.3g}\nvalidation accuracy "
                              f"{last['val_accuracy'][-1]:.1%}", fontsize=10)
        else:
            ax_loss.set_title(f"p = {p:g} not trained yet: press ▶ Train", fontsize=10)
        if ax_loss.lines:
            ax_loss.legend(fontsize=8)
        ps = sorted(runs)
        ax_p.plot(ps, [runs[q]["val_loss"][-1] for q in ps], "o-", color=plots.CLASS_COLORS[0])
        if p in runs:
            ax_p.plot([p], [runs[p]["val_loss"][-1]], "o", ms=14, mfc="none",
                        mec=plots.ACCENT, mew=2.5)
        ax_p.set_xlim(-0.05, 0.95)
        ax_p.set_xlabel("dropout probability p")
        ax_p.set_ylabel("final validation loss")
        ax_p.set_title("every p tried (lower is better)", fontsize=10)
        ax_p.grid(True, alpha=0.3)
    return plots.finish(fig)


def dropout_explorer(X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
                     runs: Mapping[float, train.History] | None = None, epochs: int = 100):
    """A slider for p (redraws the thinned network and any run already trained
    with that p) and a Train button (trains the MLP with that p, a few seconds).
    ``runs`` (p -> History) seeds the picture with runs trained in the notebook."""
    import ipywidgets as widgets
    from IPython.display import display

    done = dict(runs or {})          # this widget's own runs, so going back is instant
    slider = widgets.FloatSlider(value=0.5, min=0.0, max=0.9, step=0.1, description="dropout p",
                                 tooltip="the probability that dropout zeroes a hidden unit at "
                                         "a training step: redraws the thinned network",
                                 continuous_update=False, style=plots.slider_style())
    button = widgets.Button(description="▶ Train", button_style="success",
                            tooltip="train the MLP with dropout p (a few seconds) and add "
                                    "its curves to the right-hand plot")
    out = widgets.Output(layout=widgets.Layout(height="380px", overflow="hidden"))

    def show(_change=None) -> None:
        fig = dropout_figure(done, slider.value)
        with out:
            out.clear_output(wait=True)
            display(fig)

    def on_train(_button) -> None:
        p = round(slider.value, 2)
        button.disabled = True
        try:
            if p not in done:
                done[p] = train_dropout(p, X, y, X_val, y_val, epochs=epochs)
            show()
        finally:
            button.disabled = False

    slider.observe(show, names="value")
    button.on_click(on_train)
    show()
    return widgets.VBox([widgets.HBox([slider, button]), out])


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
    batch norm (a cross where a run diverged). Right: the final loss against
    the learning rate for both, ``lr`` highlighted."""
    lrs = np.asarray(sweep["lr"])
    k = int(np.argmin(np.abs(np.log(lrs) - np.log(lr))))
    steps = max(len(run) for key in (PLAIN, BATCH_NORM) for run in sweep[key])
    colors = {PLAIN: plots.CLASS_COLORS[0], BATCH_NORM: plots.CLASS_COLORS[1]}
    with plots.style():
        fig, (ax, ax_lr) = plots.subplots("wide", 1, 2, width_ratios=[1.3, 1])
        top = 5.0
        for key in (PLAIN, BATCH_NORM):
            losses = sweep[key][k]
            finite = np.isfinite(losses) & (losses < top)
            ax.plot(np.arange(1, len(losses) + 1)[finite], losses[finite], color=colors[key],
                    ls=STYLES[key][1], lw=1.2, label=key)
            if len(losses) < steps or not finite[-1]:
                ax.plot(len(losses), top * 0.95, "x", color=colors[key], ms=12, mew=3,
                        label=f"{key}: diverged at step {len(losses)}")
        ax.set_ylim(0, top)
        ax.set_xlim(0, steps)
        ax.set_xlabel("training step")
        ax.set_ylabel("training loss (per mini-batch)")
        ax.set_title(f"learning rate {lrs[k]:g}")
        ax.legend(fontsize=9, loc="center right")
        for key in (PLAIN, BATCH_NORM):
            finals = np.array([final_loss(r, steps) for r in sweep[key]])
            ok = np.isfinite(finals)
            ax_lr.plot(lrs[ok], finals[ok], marker=STYLES[key][0], ls=STYLES[key][1],
                       color=colors[key], label=key)
            ax_lr.plot(lrs[~ok], np.full((~ok).sum(), 3.0), "x", color=colors[key], ms=10,
                       mew=2.5)
        ax_lr.axvspan(lrs[k] / 1.3, lrs[k] * 1.3, color=plots.ACCENT, alpha=0.3, lw=0)
        ax_lr.set_xscale("log")
        ax_lr.set_ylim(0, 3.2)
        ax_lr.set_xlabel("learning rate (log scale)")
        ax_lr.set_ylabel("final training loss (× = diverged)")
        ax_lr.set_title("after the last step, every learning rate")
        ax_lr.legend(fontsize=9, loc="upper left")
    return plots.finish(fig)


def batchnorm_explorer(sweep: Mapping):
    """A slider over the learning rates of ``sweep`` (already computed)."""
    import ipywidgets as widgets

    options = [(f"{lr:g}", float(lr)) for lr in sweep["lr"]]
    controls = {"lr": widgets.SelectionSlider(options=options, value=options[len(options) // 2][1],
                                              description="learning rate",
                                              tooltip="the learning rate of the runs shown on "
                                                      "the left, marked on the right",
                                              style=plots.slider_style())}
    return plots.interactive_figure(lambda lr: batchnorm_figure(sweep, lr), controls,
                                    height="400px")


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
    of every layer's values, ``layer`` highlighted."""
    if not 1 <= layer <= len(plain):
        raise ValueError(f"layer must be between 1 and {len(plain)}, got {layer}")
    bins = np.linspace(-3, 3, 61)
    colors = {PLAIN: plots.CLASS_COLORS[0], BATCH_NORM: plots.CLASS_COLORS[1]}
    with plots.style():
        fig, (ax_a, ax_b, ax_std) = plt.subplots(1, 3, figsize=(11.0, 3.8), dpi=plots.DPI,
                                                 layout="constrained")
        for ax, key, values in ((ax_a, PLAIN, plain), (ax_b, BATCH_NORM, with_bn)):
            v = np.clip(values[layer - 1].ravel(), bins[0], bins[-1])
            ax.hist(v, bins=bins, color=colors[key])
            ax.set_title(f"layer {layer}, {key}\nstd {values[layer - 1].std():.3f}",
                         fontsize=10)
            ax.set_xlabel("value entering the ReLU")
            ax.set_yticks([])
        ax_a.set_ylabel("count")
        depth = np.arange(1, len(plain) + 1)
        for key, values in ((PLAIN, plain), (BATCH_NORM, with_bn)):
            ax_std.plot(depth, [v.std() for v in values], marker=STYLES[key][0],
                        ls=STYLES[key][1], color=colors[key], label=key)
        ax_std.axvspan(layer - 0.3, layer + 0.3, color=plots.ACCENT, alpha=0.3, lw=0)
        ax_std.set_yscale("log")
        ax_std.set_xticks(depth)
        ax_std.set_xlabel("layer")
        ax_std.set_ylabel("standard deviation (log scale)")
        ax_std.set_title("spread of the values, layer by layer", fontsize=10)
        ax_std.legend(fontsize=9)
    return plots.finish(fig)


def activation_explorer(plain: Sequence[np.ndarray], with_bn: Sequence[np.ndarray]):
    """A slider over the layers, redrawing ``activation_figure``."""
    import ipywidgets as widgets

    controls = {"layer": widgets.IntSlider(value=1, min=1, max=len(plain), description="layer",
                                           tooltip="which hidden layer's inputs to its ReLU "
                                                   "the histograms show",
                                           style=plots.slider_style())}
    return plots.interactive_figure(lambda layer: activation_figure(plain, with_bn, layer),
                                    controls, height="360px")
