"""Lesson 05's pictures and widgets: optimizers racing on 2-D loss surfaces.

Every path is made by the engine's REAL optimizers (``dlcore.optim``) moving a
2-element ``nn.Parameter``: its ``.grad`` is set to the surface's gradient, then
``optimizer.step()`` moves it, exactly as in training.

    from dlcore.viz import optimizers as vo
    paths = vo.race(vo.ROSENBROCK, vo.racers(lr_sgd=1e-3, lr_adaptive=0.05), steps=300)
    vo.draw_race(vo.ROSENBROCK, paths)
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .. import nn, optim
from . import plots

MakeOptimizer = Callable[[list], optim.Optimizer]
# Each racer has a colour of the course's colour-blind-safe palette AND its own line
# style and marker, so the paths can be told apart without colour too.
COLORS = {"SGD": "0.35", "SGD + momentum": plots.CLASS_COLORS[0],
          "RMSprop": plots.CLASS_COLORS[1], "Adam": plots.CLASS_COLORS[2]}
LINES = {"SGD": ("-", "o"), "SGD + momentum": ("--", "s"), "RMSprop": ("-.", "^"),
         "Adam": (":", "D")}


@dataclass(frozen=True)
class Surface:
    """A 2-D loss f(w1, w2) with its gradient, a start and where its minimum is.

    ``f`` takes arrays of any (same) shape; ``grad`` takes a (2,) point and
    returns the (2,) gradient. ``lr_sgd`` / ``lr_adaptive`` are learning rates
    that work for (SGD, momentum) and (RMSprop, Adam) here. ``lr_sgd_max`` tops
    the widget's "lr SGD" slider: large enough that SGD and momentum diverge,
    small enough that they take a few steps first, so momentum still shows.
    """
    name: str
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    start: tuple[float, float]
    minimum: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    lr_sgd: float
    lr_adaptive: float
    steps: int
    lr_sgd_max: float


def _ravine_f(x, y):
    return 0.02 * x**2 + y**2


def _ravine_grad(p):
    return np.array([0.04 * p[0], 2 * p[1]])


def _rosenbrock_f(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _rosenbrock_grad(p):
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


def _saddle_f(x, y):
    return x**2 + y**4 / 4 - y**2 / 2


def _saddle_grad(p):
    return np.array([2 * p[0], p[1] ** 3 - p[1]])


RAVINE = Surface("a ravine: 0.02 w1² + w2²", _ravine_f, _ravine_grad, (-9.0, 1.6), (0.0, 0.0),
                 (-10.0, 10.0), (-2.5, 2.5), lr_sgd=0.9, lr_adaptive=0.3, steps=100,
                 lr_sgd_max=2.0)
ROSENBROCK = Surface("Rosenbrock: (1 - w1)² + 100 (w2 - w1²)²", _rosenbrock_f,
                     _rosenbrock_grad, (-1.5, 2.0), (1.0, 1.0), (-2.0, 2.0), (-1.0, 3.0),
                     lr_sgd=1e-3, lr_adaptive=0.1, steps=500, lr_sgd_max=10**-2.6)
SADDLE = Surface("a saddle: w1² + w2⁴/4 - w2²/2", _saddle_f, _saddle_grad, (-2.0, 1e-3),
                 (0.0, 1.0), (-2.5, 2.5), (-1.8, 1.8), lr_sgd=0.05, lr_adaptive=0.05, steps=150,
                 lr_sgd_max=2.0)
# The same ravine turned by 45 degrees: its long axis is no longer a weight's axis.
_TURN = np.deg2rad(45.0)
_COS, _SIN = float(np.cos(_TURN)), float(np.sin(_TURN))


def _rotated_ravine_f(x, y):
    return _ravine_f(_COS * x + _SIN * y, -_SIN * x + _COS * y)


def _rotated_ravine_grad(p):
    g = _ravine_grad(np.array([_COS * p[0] + _SIN * p[1], -_SIN * p[0] + _COS * p[1]]))
    return np.array([_COS * g[0] - _SIN * g[1], _SIN * g[0] + _COS * g[1]])


ROTATED_RAVINE = Surface(
    "the same ravine turned by 45°", _rotated_ravine_f, _rotated_ravine_grad,
    (_COS * RAVINE.start[0] - _SIN * RAVINE.start[1],
     _SIN * RAVINE.start[0] + _COS * RAVINE.start[1]),
    (0.0, 0.0), (-10.0, 10.0), (-8.0, 8.0), lr_sgd=0.9, lr_adaptive=0.3, steps=100, lr_sgd_max=2.0)
SURFACES = (RAVINE, ROTATED_RAVINE, ROSENBROCK, SADDLE)


def run_optimizer(surface: Surface, make_optimizer: MakeOptimizer, steps: int,
                  start: tuple[float, float] | None = None, noise: float = 0.0,
                  seed: int = 0) -> np.ndarray:
    """Move a 2-element ``nn.Parameter`` from ``start`` with the optimizer that
    ``make_optimizer([param])`` builds; return the path, shape (steps + 1, 2).

    ``noise`` adds Gaussian noise of that size to each gradient, as a mini-batch
    would. A path that leaves the plot by a factor of 100 (diverges) stops early.
    """
    w = nn.Parameter(np.array(surface.start if start is None else start, dtype=np.float64))
    optimizer = make_optimizer([w])
    rng = np.random.default_rng(seed)
    limit = 100 * max(map(abs, surface.xlim + surface.ylim))
    path = [w.data.copy()]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            optimizer.zero_grad()
            w.grad += surface.grad(w.data)
            if noise:
                w.grad += noise * rng.standard_normal(2)
            optimizer.step()
            path.append(w.data.copy())
            if not np.all(np.isfinite(w.data)) or np.abs(w.data).max() > limit:
                break
    return np.array(path)


def racers(lr_sgd: float, lr_adaptive: float, momentum: float = 0.9, beta1: float = 0.9,
           beta2: float = 0.999) -> dict[str, MakeOptimizer]:
    """The four optimizers of the race, as functions from a parameter list to an
    optimizer. RMSprop keeps PyTorch's default smoothing, alpha = 0.99."""
    return {
        "SGD": partial(optim.SGD, lr=lr_sgd),
        "SGD + momentum": partial(optim.SGD, lr=lr_sgd, momentum=momentum),
        "RMSprop": partial(optim.RMSprop, lr=lr_adaptive),
        "Adam": partial(optim.Adam, lr=lr_adaptive, betas=(beta1, beta2)),
    }


def race(surface: Surface, optimizers: dict[str, MakeOptimizer], steps: int | None = None,
         noise: float = 0.0) -> dict[str, np.ndarray]:
    """Each optimizer's path from the same start: name -> (steps + 1, 2)."""
    steps = surface.steps if steps is None else steps
    return {name: run_optimizer(surface, make, steps, noise=noise)
            for name, make in optimizers.items()}


def distance_to_minimum(surface: Surface, path: np.ndarray) -> float:
    """How far the last point of ``path`` is from the surface's minimum."""
    return float(np.linalg.norm(path[-1] - np.array(surface.minimum)))


def _contours(ax, surface: Surface) -> None:
    xs = np.linspace(*surface.xlim, 300)
    ys = np.linspace(*surface.ylim, 300)
    X, Y = np.meshgrid(xs, ys)
    Z = surface.f(X, Y)
    levels = np.unique(np.quantile(Z, np.linspace(0, 1, 22) ** 2))
    ax.contourf(X, Y, Z, levels=levels, cmap="Blues_r", alpha=0.55)
    ax.contour(X, Y, Z, levels=levels, colors="0.55", linewidths=0.5)
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    ax.set_xlabel("w1")
    ax.set_ylabel("w2")


def draw_race(surface: Surface, paths: dict[str, np.ndarray]) -> Figure:
    """Left: the paths on the contours of the loss. Right: loss against step."""
    fig, (ax, ax_loss) = plt.subplots(1, 2, dpi=plots.DPI, figsize=(12, 4.8),
                                      gridspec_kw={"width_ratios": [1.25, 1]})
    _contours(ax, surface)
    f_min = float(surface.f(*np.array(surface.minimum)))
    # Drawn last to first, so plain SGD (often the slowest) stays on top.
    for name, path in reversed(paths.items()):
        color = COLORS.get(name)
        linestyle, marker = LINES.get(name, ("-", None))
        every = max(1, (len(path) - 1) // 12)
        diverged = len(path) > 1 and (not np.all(np.isfinite(path[-1]))
                                      or np.abs(path[-1]).max() > 10 * max(
                                          map(abs, surface.xlim + surface.ylim)))
        distance = distance_to_minimum(surface, path)
        label = f"{name}: diverged at step {len(path) - 1}" if diverged else (
            f"{name}: {distance:.2g} from the minimum" if distance >= 1e-3 else
            f"{name}: at the minimum")
        ax.plot(path[:, 0], path[:, 1], linestyle=linestyle, marker=marker, markevery=every,
                ms=5, color=color, lw=1.8, label=label)
        ax.plot(path[-1, 0], path[-1, 1], marker or "o", color=color, ms=8, mec="k")
        with np.errstate(over="ignore", invalid="ignore"):
            losses = surface.f(path[:, 0], path[:, 1]) - f_min
        ax_loss.semilogy(np.arange(len(path)), np.maximum(losses, 1e-12), color=color,
                         linestyle=linestyle, marker=marker, markevery=every, ms=5, lw=1.8,
                         label=name)
    ax.plot(*surface.start, "ks", ms=7, label="start")
    ax.plot(*surface.minimum, "*", color="gold", mec="k", ms=16, label="minimum")
    ax.set_title(surface.name, fontsize=11)
    handles, labels = ax.get_legend_handles_labels()
    order = list(range(len(paths)))[::-1] + list(range(len(paths), len(labels)))
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower right",
              fontsize=8.5, framealpha=0.9)
    handles, labels = ax_loss.get_legend_handles_labels()
    ax_loss.legend(handles[::-1], labels[::-1], fontsize=9)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss above the minimum (log scale)")
    ax_loss.set_title("how fast each one gets down", fontsize=11)
    ax_loss.set_ylim(1e-8, None)
    ax_loss.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    return plots.finish(fig)


def ravines_figure(paths: dict[str, dict[str, np.ndarray]]) -> Figure:
    """The ravine and the turned ravine side by side: ``paths`` maps each surface's
    name (``RAVINE.name``, ``ROTATED_RAVINE.name``) to {optimizer name: path}."""
    surfaces = [s for s in (RAVINE, ROTATED_RAVINE) if s.name in paths]
    fig, axes = plt.subplots(1, len(surfaces), dpi=plots.DPI, figsize=(6 * len(surfaces), 4.2),
                             squeeze=False)
    for ax, surface in zip(axes[0], surfaces, strict=True):
        _contours(ax, surface)
        for name, path in paths[surface.name].items():
            linestyle, marker = LINES.get(name, ("-", None))
            ax.plot(path[:, 0], path[:, 1], linestyle=linestyle, marker=marker, ms=4,
                    markevery=max(1, (len(path) - 1) // 20), color=COLORS.get(name), lw=1.6,
                    label=f"{name}: {distance_to_minimum(surface, path):.2g} from the minimum "
                          f"after {len(path) - 1} steps")
        ax.plot(*surface.start, "ks", ms=7)
        ax.plot(*surface.minimum, "*", color="gold", mec="k", ms=14)
        ax.set_title(surface.name.split(":")[0], fontsize=11)
        ax.legend(loc="lower right", fontsize=8.5, framealpha=0.9)
    fig.tight_layout()
    return plots.finish(fig)


def race_figure(surface: Surface, lr_sgd: float, lr_adaptive: float, momentum: float = 0.9,
                beta1: float = 0.9, beta2: float = 0.999, steps: int | None = None,
                noise: float = 0.0) -> Figure:
    """What ``optimizer_race`` shows for these settings: the four racers' paths."""
    paths = race(surface, racers(lr_sgd, lr_adaptive, momentum, beta1, beta2), steps, noise)
    return draw_race(surface, paths)


# -- the learning rate on a parabola ------------------------------------------------

def gd_on_parabola(lr: float, steps: int = 12, start: float = 2.0) -> np.ndarray:
    """Gradient descent (``optim.SGD``) on f(w) = w²: the values of w, (steps + 1,)."""
    w = nn.Parameter(np.array([start], dtype=np.float64))
    optimizer = optim.SGD([w], lr=lr)
    path = [w.data[0]]
    for _ in range(steps):
        optimizer.zero_grad()
        w.grad += 2 * w.data
        optimizer.step()
        path.append(w.data[0])
    return np.array(path)


def describe_lr(lr: float) -> str:
    """On f(w) = w² each step multiplies w by (1 - 2 lr): say what that does."""
    r = 1 - 2 * lr
    if abs(r) >= 1:
        return "too large: diverges"
    if r >= 0.7:
        return "too small: crawls"
    if r >= -0.3:
        return "about right"
    return "large: zig-zags"


def draw_learning_rates(lrs: tuple[float, ...] = (0.05, 0.3, 0.9, 1.05),
                        steps: int = 12) -> Figure:
    """One panel per learning rate (the steps of gradient descent on w²), and a
    last panel with the loss of each against the step."""
    n = len(lrs)
    fig, axes = plt.subplots(1, n + 1, dpi=plots.DPI, figsize=(3.3 * (n + 1), 3.6))
    w = np.linspace(-3, 3, 200)
    cmap = plt.get_cmap("viridis")
    for k, (ax, lr) in enumerate(zip(axes[:-1], lrs, strict=True)):
        path = gd_on_parabola(lr, steps)
        shown = path[np.abs(path) < 3.2]
        ax.plot(w, w**2, color="0.6", lw=1.5)
        color = plots.CLASS_COLORS[k % len(plots.CLASS_COLORS)]
        linestyle, marker = tuple(LINES.values())[k % len(LINES)]
        ax.plot(shown, shown**2, linestyle, color=color, lw=1.2, alpha=0.8)
        ax.scatter(shown, shown**2, c=np.arange(len(shown)), cmap=cmap, s=28, zorder=3,
                   vmin=0, vmax=steps)
        ax.set_ylim(-0.5, 9.5)
        ax.set_xlim(-3.2, 3.2)
        ax.set_title(f"lr = {lr:g}\n{describe_lr(lr)}", fontsize=10.5)
        ax.set_xlabel("w")
        if k == 0:
            ax.set_ylabel("loss f(w) = w²")
        axes[-1].semilogy(np.arange(len(path)), np.maximum(path**2, 1e-12), color=color,
                          linestyle=linestyle, marker=marker, ms=4, label=f"lr = {lr:g}")
    axes[-1].set_title("loss at each step", fontsize=10.5)
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1].set_xlabel("step")
    axes[-1].set_ylim(1e-6, 1e3)
    axes[-1].legend(fontsize=8.5)
    axes[-1].grid(True, alpha=0.3)
    fig.tight_layout()
    return plots.finish(fig)


# -- stochastic gradient descent on a real model -------------------------------------

def regression_data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points around the line y = 2 x + 1: X (n, 1), y (n, 1)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 1))
    return X, 2 * X + 1 + 0.3 * rng.standard_normal((n, 1))


def minibatch_paths(batch_sizes: tuple[int, ...] = (200, 20, 1), lr: float = 0.1,
                    epochs: int = 5, seed: int = 0) -> dict[int, np.ndarray]:
    """Fit ``nn.Linear(1, 1)`` to ``regression_data`` with ``optim.SGD`` from the
    same start, one path per batch size: batch_size -> (steps + 1, 2) values of
    (weight, bias). The full batch is gradient descent; smaller batches see a
    noisy estimate of the same gradient, but take more steps per epoch."""
    X, y = regression_data(seed=seed)
    loss_fn = nn.MSELoss()
    paths = {}
    for batch_size in batch_sizes:
        model = nn.Linear(1, 1).double()
        model.weight.data[...] = -2.0
        model.bias.data[...] = -2.0
        optimizer = optim.SGD(model.parameters(), lr=lr)
        rng = np.random.default_rng(seed + 1)
        path = [(model.weight.data[0, 0], model.bias.data[0])]
        for _ in range(epochs):
            order = rng.permutation(len(X))
            for i in range(0, len(X), batch_size):
                batch = order[i:i + batch_size]
                optimizer.zero_grad()
                loss_fn(model(X[batch]), y[batch])
                model.backward(loss_fn.backward())
                optimizer.step()
                path.append((model.weight.data[0, 0], model.bias.data[0]))
        paths[batch_size] = np.array(path)
    return paths


def regression_loss(w: np.ndarray, b: np.ndarray, seed: int = 0) -> np.ndarray:
    """The full-batch MSE of the line (w, b) on ``regression_data``, for arrays of w, b."""
    X, y = regression_data(seed=seed)
    X, y = X[:, 0], y[:, 0]
    return ((w[..., None] * X + b[..., None] - y) ** 2).mean(axis=-1)


def draw_minibatch_paths(paths: dict[int, np.ndarray], seed: int = 0) -> Figure:
    """Left: each batch size's path in (weight, bias) space. Right: the full
    loss against epochs."""
    fig, (ax, ax_loss) = plt.subplots(1, 2, dpi=plots.DPI, figsize=(11, 4.5))
    W, B = np.meshgrid(np.linspace(-2.5, 4, 120), np.linspace(-2.5, 3, 120))
    Z = regression_loss(W, B, seed)
    ax.contourf(W, B, Z, levels=25, cmap="Blues_r", alpha=0.6)
    ax.contour(W, B, Z, levels=25, colors="0.6", linewidths=0.4)
    n = len(regression_data(seed=seed)[0])
    for k, (batch_size, path) in enumerate(paths.items()):
        label = "full batch (gradient descent)" if batch_size >= n else (
            f"batch size {batch_size}")
        steps_per_epoch = -(-n // batch_size)
        color = plots.CLASS_COLORS[k % len(plots.CLASS_COLORS)]
        linestyle = tuple(LINES.values())[k % len(LINES)][0]
        ax.plot(path[:, 0], path[:, 1], "-", color=color, lw=1.2 if batch_size > 1 else 0.7,
                label=f"{label}: {len(path) - 1} steps")
        epochs = np.arange(len(path)) / steps_per_epoch
        ax_loss.semilogy(epochs, regression_loss(path[:, 0], path[:, 1], seed), color=color,
                         linestyle=linestyle,
                         lw=1.2, label=label)
    ax.plot(-2, -2, "ks", ms=7, label="start")
    ax.plot(2, 1, "*", color="gold", mec="k", ms=15, label="the true line y = 2x + 1")
    ax.set_xlabel("weight w")
    ax.set_ylabel("bias b")
    ax.set_title("SGD on nn.Linear(1, 1): the path of (w, b)", fontsize=11)
    ax.legend(fontsize=8.5, loc="lower right")
    ax_loss.set_xlabel("epoch (one pass over the 200 points)")
    ax_loss.set_ylabel("loss on all the data (MSE)")
    ax_loss.set_title("smaller batches: more, noisier steps per epoch", fontsize=11)
    ax_loss.grid(True, alpha=0.3)
    ax_loss.legend(fontsize=9)
    fig.tight_layout()
    return plots.finish(fig)


# -- widgets -------------------------------------------------------------------------

def _show(fig: Figure) -> None:
    from IPython.display import display
    display(fig)


def learning_rate_explorer():
    """A widget: one learning-rate slider; gradient descent on w² redrawn on release."""
    import ipywidgets as widgets

    lr = widgets.FloatSlider(value=0.3, min=0.01, max=1.1, step=0.01,
                             description="learning rate lr", continuous_update=False,
                             readout_format=".2f", style=plots.slider_style(),
                             layout=widgets.Layout(width="450px"))
    out = widgets.interactive_output(lambda lr: _show(draw_learning_rates((lr,))), {"lr": lr})
    out.layout = widgets.Layout(height="380px")
    return widgets.VBox([lr, out])


def optimizer_race():
    """A widget: pick a surface, set learning rates, momentum and betas; the four
    optimizers race from the same start (redrawn when a slider is released)."""
    import ipywidgets as widgets

    def slider(cls, description, **kwargs):
        return cls(description=description, continuous_update=False,
                   style={"description_width": "210px"},
                   layout=widgets.Layout(width="470px"), **kwargs)

    surface = widgets.Dropdown(options=[(s.name, s) for s in SURFACES], value=ROSENBROCK,
                               description="loss surface", style={"description_width": "210px"},
                               layout=widgets.Layout(width="470px"))
    lr_sgd = slider(widgets.FloatLogSlider, "learning rate: SGD, SGD + momentum",
                    value=ROSENBROCK.lr_sgd,
                    base=10, min=-4, max=float(np.log10(ROSENBROCK.lr_sgd_max)), step=0.1,
                    readout_format=".1e")
    lr_adaptive = slider(widgets.FloatLogSlider, "learning rate: RMSprop, Adam",
                         value=ROSENBROCK.lr_adaptive, base=10, min=-3, max=0, step=0.1,
                         readout_format=".1e")
    momentum = slider(widgets.FloatSlider, "momentum μ (SGD + momentum)", value=0.9, min=0,
                      max=0.99, step=0.01)
    beta1 = slider(widgets.FloatSlider, "Adam β1 (averages gradients)", value=0.9, min=0,
                   max=0.99, step=0.01)
    beta2 = slider(widgets.FloatSlider, "Adam β2 (averages squares)", value=0.999, min=0.5,
                   max=0.999, step=0.001, readout_format=".3f")
    steps = slider(widgets.IntSlider, "steps per optimizer", value=ROSENBROCK.steps, min=10,
                   max=1000,
                   step=10)
    noise = slider(widgets.FloatSlider, "gradient noise (as a mini-batch)", value=0.0,
                   min=0.0, max=2.0, step=0.1)

    sliders = dict(lr_sgd=lr_sgd, lr_adaptive=lr_adaptive, momentum=momentum, beta1=beta1,
                   beta2=beta2, steps=steps, noise=noise)
    out = widgets.Output(layout=widgets.Layout(height="500px"))
    holding = {"redraw": False}     # True while a new surface sets its sliders

    def redraw(_change=None) -> None:
        if holding["redraw"]:
            return
        settings = {name: control.value for name, control in sliders.items()}
        with out:
            out.clear_output(wait=True)
            _show(race_figure(surface.value, **settings))

    def on_surface(change) -> None:
        s = change["new"]
        # The lr SGD range is the surface's: past lr_sgd_max SGD and momentum leave the
        # plot at once, both the same way, and the momentum slider would do nothing.
        top = float(np.log10(s.lr_sgd_max))
        holding["redraw"] = True
        try:
            lr_sgd.max = max(lr_sgd.max, top)      # widen first: the value is never clamped
            lr_sgd.value, lr_adaptive.value, steps.value = s.lr_sgd, s.lr_adaptive, s.steps
            lr_sgd.max = top
        finally:
            holding["redraw"] = False
        redraw()                                   # once, with all the new settings

    surface.observe(on_surface, names="value")
    for control in sliders.values():
        control.observe(redraw, names="value")
    redraw()
    left = widgets.VBox([surface, lr_sgd, lr_adaptive, steps])
    right = widgets.VBox([momentum, beta1, beta2, noise])
    return widgets.VBox([widgets.HBox([left, right]), out])
