"""Lesson 05's pictures and widgets: optimizers racing on 2-D loss surfaces.

Every path is made by the engine's REAL optimizers (``dlcore.optim``) moving a
2-element ``nn.Parameter``: its ``.grad`` is set to the surface's gradient, then
``optimizer.step()`` moves it, exactly as in training.

    from dlcore.viz import optimizers as vo
    paths = vo.race(vo.ROSENBROCK, vo.racers(lr_sgd=1e-3, lr_adaptive=0.05), steps=300)
    vo.draw_race(vo.ROSENBROCK, paths)
"""
from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator
from matplotlib.transforms import IdentityTransform

from .. import nn, optim
from . import plots, widgets

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


# The gradients compute with Python floats (a race takes thousands of them per slider
# move; NumPy's scalars are several times slower) and multiply rather than use ** so a
# diverging path overflows to inf instead of raising OverflowError.

def _ravine_grad(p):
    return np.array([0.04 * float(p[0]), 2 * float(p[1])])


def _rosenbrock_f(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _rosenbrock_grad(p):
    x, y = float(p[0]), float(p[1])
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def _saddle_f(x, y):
    return x**2 + y**4 / 4 - y**2 / 2


def _saddle_grad(p):
    x, y = float(p[0]), float(p[1])
    return np.array([2 * x, y * y * y - y])


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
    x, y = float(p[0]), float(p[1])
    g1, g2 = 0.04 * (_COS * x + _SIN * y), 2 * (-_SIN * x + _COS * y)   # the ravine's, turned
    return np.array([_COS * g1 - _SIN * g2, _SIN * g1 + _COS * g2])


ROTATED_RAVINE = Surface(
    "the same ravine turned by 45°", _rotated_ravine_f, _rotated_ravine_grad,
    (_COS * RAVINE.start[0] - _SIN * RAVINE.start[1],
     _SIN * RAVINE.start[0] + _COS * RAVINE.start[1]),
    (0.0, 0.0), (-10.0, 10.0), (-8.0, 8.0), lr_sgd=0.9, lr_adaptive=0.3, steps=100, lr_sgd_max=2.0)
SURFACES = (RAVINE, ROTATED_RAVINE, ROSENBROCK, SADDLE)


class Racer:
    """One optimizer moving a 2-element ``nn.Parameter`` over a surface, one step at a
    time: ``racer.step()`` sets ``.grad`` to the surface's gradient (plus noise) and
    calls ``optimizer.step()``; ``racer.path`` is every point so far, ``racer.losses``
    the loss above the minimum at each. It stops (``stopped``) once it has left the plot
    by a factor of 100 (diverged)."""

    def __init__(self, surface: Surface, make_optimizer: MakeOptimizer,
                 start: tuple[float, float] | None = None, noise: float = 0.0,
                 seed: int = 0):
        self.surface = surface
        self.w = nn.Parameter(np.array(surface.start if start is None else start,
                                       dtype=np.float64))
        self.optimizer = make_optimizer([self.w])
        self.noise = noise
        self.rng = np.random.default_rng(seed)
        self.limit = 100 * max(map(abs, surface.xlim + surface.ylim))
        self.path = [self.w.data.copy()]
        self.stopped = False

    @property
    def losses(self) -> np.ndarray:
        """The loss above the minimum at each point of the path."""
        path = np.array(self.path)
        with np.errstate(over="ignore", invalid="ignore"):
            return self.surface.f(path[:, 0], path[:, 1]) - float(
                self.surface.f(*np.array(self.surface.minimum)))

    def step(self, n: int = 1) -> None:
        """``n`` optimizer steps (fewer if it diverges first)."""
        # A race takes thousands of these steps at each move of a slider: the checks
        # around ``optimizer.step()`` are kept to plain float comparisons.
        limit = self.limit
        with np.errstate(over="ignore", invalid="ignore"):   # a diverging racer overflows
            for _ in range(n):
                if self.stopped:
                    return
                self.optimizer.zero_grad()
                self.w.grad += self.surface.grad(self.w.data)
                if self.noise:
                    self.w.grad += self.noise * self.rng.standard_normal(2)
                self.optimizer.step()
                w = self.w.data.copy()
                self.path.append(w)
                x, y = w.tolist()
                if not (abs(x) <= limit and abs(y) <= limit):    # also False for NaN
                    self.stopped = True


def run_optimizer(surface: Surface, make_optimizer: MakeOptimizer, steps: int,
                  start: tuple[float, float] | None = None, noise: float = 0.0,
                  seed: int = 0) -> np.ndarray:
    """Move a 2-element ``nn.Parameter`` from ``start`` with the optimizer that
    ``make_optimizer([param])`` builds; return the path, shape (steps + 1, 2).

    ``noise`` adds Gaussian noise of that size to each gradient, as a mini-batch
    would. A path that leaves the plot by a factor of 100 (diverges) stops early.
    """
    racer = Racer(surface, make_optimizer, start, noise, seed)
    racer.step(steps)
    return np.array(racer.path)


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


def _diverged(surface: Surface, path: np.ndarray) -> bool:
    return len(path) > 1 and (not np.all(np.isfinite(path[-1])) or np.abs(path[-1]).max()
                              > 10 * max(map(abs, surface.xlim + surface.ylim)))


def race_label(surface: Surface, name: str, path: np.ndarray) -> str:
    """What the legend says of a racer: how far from the minimum its last point is."""
    if _diverged(surface, path):
        return f"{name}\ndiverged at step {len(path) - 1}"
    distance = distance_to_minimum(surface, path)
    return f"{name}\n{distance:.2g} from the minimum" if distance >= 1e-3 else \
        f"{name}\nat the minimum"


@functools.lru_cache(maxsize=8)
def _surface_grid(surface: Surface, n: int = 150):
    """The surface on an n x n grid and its contour levels (denser near the minimum)."""
    X, Y = np.meshgrid(np.linspace(*surface.xlim, n), np.linspace(*surface.ylim, n))
    Z = surface.f(X, Y)
    return X, Y, Z, np.unique(np.quantile(Z, np.linspace(0, 1, 22) ** 2))


def _contours(ax, surface: Surface) -> list:
    """Filled contours of the loss and their lines; returns the artists (to remove)."""
    X, Y, Z, levels = _surface_grid(surface)
    filled = ax.contourf(X, Y, Z, levels=levels, cmap="Blues_r", alpha=0.55, zorder=0)
    # Thin lines drawn without antialiasing (each a crisp pixel wide): a widget's PNG of
    # the race is then ~40% smaller and encodes twice as fast, with no visible loss.
    lines = ax.contour(X, Y, Z, levels=levels, colors="0.55", linewidths=0.5, zorder=0.5,
                       antialiased=False)
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    ax.set_xlabel("w1")
    ax.set_ylabel("w2")
    return [filled, lines]


LOSS_FLOOR = 1e-8          # the loss panel's bottom: closer than this counts as arrived
LOSS_TOP = 1e4             # and its top (a diverging racer leaves through it)


@dataclass
class RaceParts:
    """The artists of a race figure, so a frame can move them: per racer the path on
    the contours, its head (last point) and its loss curve; the legend's texts.
    ``contours`` holds each surface's contour artists drawn so far (one shown)."""
    surface: Surface
    ax: object
    ax_loss: object
    contours: dict
    marks: list
    paths: dict
    heads: dict
    losses: dict
    legend: object
    label_of: dict

    @property
    def layers(self) -> list:
        """What a redraw may change, from the bottom up (``FigureView(layers=...)``):
        the contour panel (a new surface: its contours, axes, title, start and minimum;
        the loss panel's log axis and titles under it never change), the step axis of
        the loss panel (its grid under the curves; the steps slider), the racers' labels
        in the legend (their distances: every slider; see ``lift_labels``), the paths,
        heads and loss curves (every frame of a live race)."""
        ax = self.ax
        panel = [*(a for artists in self.contours.values() for a in artists),
                 ax.xaxis, ax.yaxis, *ax.spines.values(), ax.title, *self.marks]
        panel.sort(key=lambda artist: artist.get_zorder())     # as the axes draws them
        return [panel, [self.ax_loss.xaxis], list(self.label_of.values()),
                [*self.paths.values(), *self.heads.values(), *self.losses.values()]]

    def lift_labels(self) -> None:
        """For a widget, after its layout is frozen: the legend (its frame, lines and
        markers, laid out with the widest labels) becomes part of the still background,
        and each racer's label is a text of its own drawn over it, so a change redraws
        four texts rather than the whole legend."""
        renderer = self.legend.figure.canvas.get_renderer()
        for name, text in self.label_of.items():
            with widgets.unhinted_text():             # measured as the view draws it
                box = text.get_window_extent(renderer)
            self.label_of[name] = self.legend.figure.text(
                box.x0, box.y1, text.get_text(), transform=IdentityTransform(), ha="left",
                va="top", fontproperties=text.get_fontproperties(),
                linespacing=text.get_linespacing(), color=text.get_color())
            text.set_color("none")                # keeps its room in the legend, unseen


def race_axes(surface: Surface, names, steps: int) -> Figure:
    """An empty race figure (``fig.parts`` a ``RaceParts``): left the contours of
    ``surface`` with a line per racer, right the loss above the minimum (log scale)
    against the step, 0 .. ``steps``; the legend, right of both, names each racer and
    how far it is from the minimum."""
    names = list(names)
    with plots.style():
        fig, (ax, ax_loss) = plots.subplots("wide", 1, 2, width_ratios=[1.2, 1])
        every = max(1, steps // 12)
        paths, heads, losses = {}, {}, {}
        for name in names:
            color = COLORS.get(name)
            linestyle, marker = LINES.get(name, ("-", "o"))
            paths[name], = ax.plot([], [], linestyle=linestyle, marker=marker,
                                   markevery=every, ms=5, color=color, lw=1.8,
                                   label=f"{name}\n1.2e+02 from the minimum")  # widest
            heads[name], = ax.plot([], [], marker, color=color, ms=8, mec="k", zorder=5)
            losses[name], = ax_loss.semilogy([], [], color=color, linestyle=linestyle,
                                             marker=marker, markevery=every, ms=5, lw=1.8)
        marks = [ax.plot(*surface.start, "ks", ms=7, label="start", zorder=4)[0],
                 ax.plot(*surface.minimum, "*", color="gold", mec="k", ms=16,
                         label="minimum", zorder=4)[0]]
        ax.set_title(surface.name, fontsize=10.5)
        ax_loss.set_xlim(0, steps)
        ax_loss.set_ylim(LOSS_FLOOR, LOSS_TOP)
        # every second decade labelled, no minor ticks: fewer texts to draw at each change
        ax_loss.yaxis.set_major_locator(LogLocator(numticks=7))
        ax_loss.yaxis.set_minor_locator(NullLocator())
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("loss above the minimum (log)")
        ax_loss.set_title("how fast each one gets down", fontsize=10.5)
        ax_loss.grid(True, which="major", alpha=0.3)
        legend = fig.legend(loc="outside right upper", fontsize=8.5, framealpha=0.9)
        fig.parts = RaceParts(surface, ax, ax_loss, {surface: _contours(ax, surface)}, marks,
                              paths, heads, losses, legend,
                              {name: legend.get_texts()[i] for i, name in enumerate(names)})
    return plots.finish(fig)


def set_surface(fig: Figure, surface: Surface) -> None:
    """Put a race figure on another surface: new contours, limits, start and minimum."""
    parts = fig.parts
    if parts.surface is surface:
        return
    # Contouring a surface takes longer than drawing it: each surface's contours are
    # made once (``contour_all``), then hidden or shown.
    for artist in parts.contours[parts.surface]:
        artist.set_visible(False)
    if surface not in parts.contours:
        parts.contours[surface] = _contours(parts.ax, surface)
    for artist in parts.contours[surface]:
        artist.set_visible(True)
    parts.ax.set_xlim(surface.xlim)
    parts.ax.set_ylim(surface.ylim)
    parts.marks[0].set_data([surface.start[0]], [surface.start[1]])
    parts.marks[1].set_data([surface.minimum[0]], [surface.minimum[1]])
    parts.ax.set_title(surface.name, fontsize=10.5)
    parts.surface = surface


def contour_all(fig: Figure, surfaces=SURFACES) -> None:
    """Make the contours of every surface of a race figure now, hidden, so that
    ``set_surface`` only has to show them."""
    parts = fig.parts
    for surface in surfaces:
        if surface not in parts.contours:
            parts.contours[surface] = _contours(parts.ax, surface)
            for artist in parts.contours[surface]:
                artist.set_visible(False)
    parts.ax.set_xlim(parts.surface.xlim)            # _contours set the last one's
    parts.ax.set_ylim(parts.surface.ylim)


def set_race(fig: Figure, paths: dict[str, np.ndarray], losses: dict | None = None,
             labels: bool = True) -> None:
    """Show ``paths`` (name -> (k, 2), k may grow frame by frame) on a race figure;
    ``losses`` (name -> loss above the minimum at each point) if already known;
    ``labels``: also write each racer's distance to the minimum in the legend (else
    its name only)."""
    parts = fig.parts
    f_min = float(parts.surface.f(*np.array(parts.surface.minimum)))
    for name, path in paths.items():
        path = np.asarray(path)
        parts.paths[name].set_data(path[:, 0], path[:, 1])
        parts.heads[name].set_data(path[-1:, 0], path[-1:, 1])
        if losses is not None and name in losses:
            loss = np.asarray(losses[name])
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                loss = parts.surface.f(path[:, 0], path[:, 1]) - f_min
        parts.losses[name].set_data(np.arange(len(path)), np.clip(loss, 1e-12, 1e12))
        parts.label_of[name].set_text(race_label(parts.surface, name, path) if labels
                                      else f"{name}\n")


def draw_race(surface: Surface, paths: dict[str, np.ndarray],
              steps: int | None = None) -> Figure:
    """Left: the paths on the contours of the loss. Right: loss against step."""
    steps = steps or max(len(p) - 1 for p in paths.values())
    fig = race_axes(surface, paths, steps)
    set_race(fig, paths)
    return fig


def ravines_figure(paths: dict[str, dict[str, np.ndarray]]) -> Figure:
    """The ravine and the turned ravine side by side: ``paths`` maps each surface's
    name (``RAVINE.name``, ``ROTATED_RAVINE.name``) to {optimizer name: path}. The
    legend under each panel names each path with its distance to the minimum."""
    surfaces = [s for s in (RAVINE, ROTATED_RAVINE) if s.name in paths]
    with plots.style():
        fig, axes = plots.subplots("wide", 1, len(surfaces), squeeze=False)
        for ax, surface in zip(axes[0], surfaces, strict=True):
            _contours(ax, surface)
            for name, path in paths[surface.name].items():
                linestyle, marker = LINES.get(name, ("-", None))
                ax.plot(path[:, 0], path[:, 1], linestyle=linestyle, marker=marker, ms=4,
                        markevery=max(1, (len(path) - 1) // 20), color=COLORS.get(name),
                        lw=1.6, label=f"{name}: {distance_to_minimum(surface, path):.2g} "
                                      f"from the minimum after {len(path) - 1} steps")
            ax.plot(*surface.start, "ks", ms=7)
            ax.plot(*surface.minimum, "*", color="gold", mec="k", ms=14)
            ax.set_title(surface.name.split(":")[0], fontsize=10.5)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=8.5,
                      frameon=False)
    return plots.finish(fig)


def race_figure(surface: Surface, lr_sgd: float, lr_adaptive: float, momentum: float = 0.9,
                beta1: float = 0.9, beta2: float = 0.999, steps: int | None = None,
                noise: float = 0.0) -> Figure:
    """What ``optimizer_race`` shows for these settings once the race is over."""
    paths = race(surface, racers(lr_sgd, lr_adaptive, momentum, beta1, beta2), steps, noise)
    return draw_race(surface, paths, surface.steps if steps is None else steps)


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
    last panel with the loss of each against the step (``fig.parts``: the artists
    ``set_learning_rate`` moves when there is one learning rate)."""
    n = len(lrs)
    with plots.style():
        fig, axes = plots.subplots("wide", 1, n + 1)
        w = np.linspace(-3, 3, 200)
        parts = []
        for k, (ax, lr) in enumerate(zip(axes[:-1], lrs, strict=True)):
            ax.plot(w, w**2, color="0.6", lw=1.5)
            color = plots.CLASS_COLORS[k % len(plots.CLASS_COLORS)]
            linestyle, marker = tuple(LINES.values())[k % len(LINES)]
            line, = ax.plot([], [], linestyle, color=color, lw=1.2, alpha=0.8)
            dots = ax.scatter(np.zeros(steps + 1), np.zeros(steps + 1),
                              c=np.arange(steps + 1), cmap="viridis", s=28, zorder=3,
                              vmin=0, vmax=steps)
            ax.set_ylim(-0.5, 9.5)
            ax.set_xlim(-3.2, 3.2)
            ax.set_xlabel("w")
            if k == 0:
                ax.set_ylabel("loss f(w) = w²")
            loss, = axes[-1].semilogy([], [], color=color, linestyle=linestyle,
                                      marker=marker, ms=4, label=f"lr = {lr:g}")
            parts.append((ax, line, dots, loss))
        axes[-1].set_title("loss at each step", fontsize=10.5)
        axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
        axes[-1].set_xlabel("step")
        axes[-1].set_xlim(-0.5, steps + 0.5)
        axes[-1].set_ylim(1e-6, 1e3)
        axes[-1].grid(True, alpha=0.3)
        if n > 1:       # under the panel, off the curves
            axes[-1].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2),
                            ncol=2, frameon=False, handlelength=1.5, columnspacing=0.8)
        fig.parts = parts
        for k, lr in enumerate(lrs):
            _set_panel(parts[k], lr, steps)
    return plots.finish(fig)


def _set_panel(part, lr: float, steps: int) -> None:
    ax, line, dots, loss = part
    path = gd_on_parabola(lr, steps)
    shown = path[np.abs(path) < 3.2]
    line.set_data(shown, shown**2)
    # Points off the plot (a diverging run) are parked outside it, keeping their colours.
    xy = np.full((steps + 1, 2), 10.0)
    xy[:len(shown)] = np.column_stack([shown, shown**2])
    dots.set_offsets(xy)
    ax.set_title(f"lr = {lr:g}\n{describe_lr(lr)}", fontsize=10)
    with np.errstate(over="ignore"):
        loss.set_data(np.arange(len(path)), np.clip(path**2, 1e-12, 1e12))


def set_learning_rate(fig: Figure, lr: float, steps: int = 12) -> None:
    """Move a one-learning-rate ``draw_learning_rates`` figure to ``lr``."""
    _set_panel(fig.parts[0], lr, steps)


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
    with plots.style():
        fig, (ax, ax_loss) = plots.subplots("wide", 1, 2)
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
    ax_loss.legend(fontsize=8.5)
    return plots.finish(fig)


# -- widgets -------------------------------------------------------------------------

def learning_rate_explorer():
    """A widget: one learning-rate slider; gradient descent on w² follows the drag."""
    import ipywidgets as ipw

    lr = ipw.FloatSlider(value=0.3, min=0.01, max=1.1, step=0.01,
                         description="learning rate lr", readout_format=".2f",
                         style=plots.slider_style(), layout=ipw.Layout(width="450px"))

    def draw(lr: float) -> Figure:
        return draw_learning_rates((lr,))

    def moving(fig: Figure) -> list:     # the path, its dots, its loss curve and the title
        ax, line, dots, loss = fig.parts[0]
        return [line, dots, loss, ax.title]

    # A move redraws only those over the rest (the parabola, the axes, their ticks).
    return plots.interactive_figure(draw, {"lr": lr}, update=set_learning_rate,
                                    animated=moving, continuous=True,
                                    name="learning_rate_explorer")


RACE_FRAMES = 60          # a race is played in about this many frames (2.4 s at 25 a second)


# The settings each racer depends on: a slider that moves only some of them (momentum,
# Adam's betas, one of the learning rates) re-runs only those racers.
RACER_SETTINGS = {"SGD": ("lr_sgd",), "SGD + momentum": ("lr_sgd", "momentum"),
                  "RMSprop": ("lr_adaptive",), "Adam": ("lr_adaptive", "beta1", "beta2")}


@functools.lru_cache(maxsize=256)
def _kept_racer(surface: Surface, name: str, own: tuple, noise: float) -> Racer:
    """One racer for its own settings (``own``: the items of ``RACER_SETTINGS[name]``),
    kept with the steps it has taken: a longer race steps it on from there."""
    make = racers(**{"lr_sgd": 1.0, "lr_adaptive": 1.0, **dict(own)})[name]
    return Racer(surface, make, noise=noise)


def _finished_path(surface: Surface, name: str, own: tuple, steps: int, noise: float
                   ) -> np.ndarray:
    """That racer's path over ``steps`` steps: the first steps of the longest race it has
    run (its noise comes in the same order), stepped on if this one is longer."""
    racer = _kept_racer(surface, name, own, noise)
    if len(racer.path) <= steps:
        racer.step(steps + 1 - len(racer.path))   # nothing if it has stopped (diverged)
    return np.array(racer.path[:steps + 1])


def _finished_race(surface: Surface, settings: tuple) -> dict[str, np.ndarray]:
    """Every racer's whole path for these settings (a ``LiveRace.settings`` as sorted
    items), each racer kept once run: a slider moved back to a value it had shows that
    race at once, a slider re-runs only the racers it changes, and more steps only
    take the steps added."""
    settings = dict(settings)
    steps, noise = int(settings["steps"]), settings["noise"]
    return {name: _finished_path(surface, name,
                                 tuple((key, settings[key]) for key in RACER_SETTINGS[name]),
                                 steps, noise)
            for name in racers(1.0, 1.0)}


class LiveRace:
    """The four racers of ``optimizer_race`` stepping together, and the figure showing
    them: ``step()`` moves every racer ``chunk`` optimizer steps (False when the race
    is over), ``draw()`` puts their paths so far on the figure."""

    def __init__(self, fig: Figure, surface: Surface, settings: dict):
        self.fig = fig
        self.restart(surface, settings)

    def restart(self, surface: Surface, settings: dict) -> None:
        self.settings = dict(settings)
        settings = dict(settings)
        self.surface = surface
        self.steps = int(settings.pop("steps"))
        noise = settings.pop("noise")
        self.racers = {name: Racer(surface, make, noise=noise)
                       for name, make in racers(**settings).items()}
        self.done_steps = 0
        self.chunk = max(1, -(-self.steps // RACE_FRAMES))
        parts = self.fig.parts
        parts.ax_loss.set_xlim(0, self.steps)
        for line in (*parts.paths.values(), *parts.losses.values()):
            line.set_markevery(max(1, self.steps // 12))

    def step(self) -> bool:
        if self.finished:                       # a race shown finished: play it again
            self.restart(self.surface, self.settings)
        n = min(self.chunk, self.steps - self.done_steps)
        for racer in self.racers.values():
            racer.step(n)
        self.done_steps += n
        if all(r.stopped for r in self.racers.values()):
            self.done_steps = self.steps        # every racer has left the plot
        return self.done_steps < self.steps

    def run(self) -> None:
        """The whole race at once (the same paths as stepping it to the end)."""
        paths = _finished_race(self.surface, tuple(sorted(self.settings.items())))
        for name, racer in self.racers.items():
            racer.path = list(paths[name])
            racer.stopped = True                # nothing left to step
        self.done_steps = self.steps

    @property
    def finished(self) -> bool:
        return self.done_steps >= self.steps

    def draw(self) -> None:
        """The paths so far; the legend says how far each got once the race is over."""
        set_race(self.fig, {n: r.path for n, r in self.racers.items()},
                 labels=self.finished)

    def status(self) -> str:
        """The step and each racer's distance to the minimum, as the race goes."""
        def far(racer):
            path = np.array(racer.path[-1:])
            if _diverged(self.surface, np.array(racer.path[-2:])):
                return "diverged"
            return f"{distance_to_minimum(self.surface, path):.2g}"
        distances = ", ".join(f"{name} {far(r)}" for name, r in self.racers.items())
        return f"step {self.done_steps} of {self.steps} · from the minimum: {distances}"


class KeptPixels(Artist):
    """An artist that puts back pixels saved from the canvas (``canvas.copy_from_bbox``):
    a copy of memory, with none of an image's resampling."""

    def __init__(self, region):
        super().__init__()
        self.region = region

    def draw(self, renderer) -> None:
        renderer.restore_region(self.region)


class SurfacePanels:
    """Each surface's contour panel (contours, axes, title, start and minimum), drawn
    once and kept as pixels: showing a surface again puts those pixels back (a copy of
    memory, about a millisecond) instead of drawing the panel (its two axes' ticks and
    labels cost most of it). ``use(surface)`` makes the layer ``layer`` of ``view``
    show ``surface``'s panel, drawing it first if needed; ``draw_missing()`` draws the
    ones not yet kept (the widget does it in idle time once it is shown)."""

    def __init__(self, view: widgets.FigureView, layer: int = 0):
        self.view, self.layer = view, layer
        self.panel = list(view.layers[layer])      # every surface's artists (one shown)
        self.images: dict = {}
        self.started = False                       # drawing the others in idle time

    def draw(self, surface: Surface):
        """Draw ``surface``'s panel over the still background and keep its pixels."""
        fig = self.view.fig
        shown = fig.parts.surface
        set_surface(fig, surface)
        canvas = fig.canvas
        with widgets.unhinted_text():
            canvas.draw()                          # the background (nothing animated)
            renderer = canvas.get_renderer()
            for artist in self.panel:
                if artist.get_visible():
                    artist.draw(renderer)
        image = KeptPixels(canvas.copy_from_bbox(fig.bbox))
        set_surface(fig, shown)
        self.images[surface] = image
        return image

    def use(self, surface: Surface) -> None:
        image = self.images.get(surface) or self.draw(surface)
        self.view.layers[self.layer][:] = [image]

    def draw_missing(self) -> bool:
        """Draw one surface's panel not kept yet; False when all are kept."""
        missing = [surface for surface in SURFACES if surface not in self.images]
        if missing:
            self.draw(missing[0])
        return len(missing) > 1


def optimizer_race():
    """A widget: pick a surface, set learning rates, momentum and betas; the four
    optimizers race from the same start. A change shows the finished race at once;
    Run race plays it live (Pause, Step, Reset below the picture)."""
    import ipywidgets as ipw

    def slider(cls, description, **kwargs):
        return cls(description=description, continuous_update=False,
                   style=plots.slider_style(), layout=ipw.Layout(width="440px"), **kwargs)

    surface = ipw.Dropdown(options=[(s.name, s) for s in SURFACES], value=ROSENBROCK,
                           description="loss surface", style=plots.slider_style(),
                           layout=ipw.Layout(width="440px"))
    lr_sgd = slider(ipw.FloatLogSlider, "learning rate: SGD, SGD + momentum",
                    value=ROSENBROCK.lr_sgd, base=10, min=-4,
                    max=float(np.log10(ROSENBROCK.lr_sgd_max)), step=0.1,
                    readout_format=".1e")
    lr_adaptive = slider(ipw.FloatLogSlider, "learning rate: RMSprop, Adam",
                         value=ROSENBROCK.lr_adaptive, base=10, min=-3, max=0, step=0.1,
                         readout_format=".1e")
    momentum = slider(ipw.FloatSlider, "momentum μ (SGD + momentum)", value=0.9, min=0,
                      max=0.99, step=0.01)
    beta1 = slider(ipw.FloatSlider, "Adam β1 (averages gradients)", value=0.9, min=0,
                   max=0.99, step=0.01)
    beta2 = slider(ipw.FloatSlider, "Adam β2 (averages squares)", value=0.999, min=0.5,
                   max=0.999, step=0.001, readout_format=".3f")
    steps = slider(ipw.IntSlider, "steps per optimizer", value=ROSENBROCK.steps, min=10,
                   max=1000, step=10)
    noise = slider(ipw.FloatSlider, "gradient noise (as a mini-batch)", value=0.0,
                   min=0.0, max=2.0, step=0.1)
    sliders = dict(lr_sgd=lr_sgd, lr_adaptive=lr_adaptive, momentum=momentum, beta1=beta1,
                   beta2=beta2, steps=steps, noise=noise)

    def settings() -> dict:
        # noise rounded: the value a slider's arrow key gives (0.30000000000000004) and
        # the one run ahead in idle time (see race_neighbours_when_idle) are one race
        return {name: round(control.value, 6) if name == "noise" else control.value
                for name, control in sliders.items()}

    fig = race_axes(ROSENBROCK, racers(1, 1), steps=1000)
    contour_all(fig)                            # a new surface is then only a redraw
    widgets.freeze_layout(fig)                  # with the widest legend labels
    fig.parts.lift_labels()
    live = LiveRace(fig, ROSENBROCK, settings())
    live.run()                                  # shown finished when the widget appears
    live.draw()
    # The loss panel's frame, log axis and titles are drawn once; a new surface redraws
    # the contour panel and what lies over it; a slider only the legend and the paths
    # (the steps slider the step axis too); a live frame only the paths.
    view = widgets.FigureView(fig, layers=fig.parts.layers, name="optimizer_race")
    surface_layer, step_axis, legend_layer = 0, 1, 2
    view.show(control="(first)")
    panels = SurfacePanels(view, surface_layer)

    def draw_panels_when_idle() -> None:
        """Keep every surface's panel, one each 50 ms while the kernel has nothing else
        to do (not while a race plays), so that a new surface is only a copy of pixels,
        the first one a learner picks included. Started when the widget is made, and
        again at each change if there was no event loop then (a test: there, surfaces
        are drawn when first shown)."""
        if panels.started:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        panels.started = True

        def next_one() -> None:
            if player.playing or panels.draw_missing():
                loop.call_later(0.05, next_one)

        loop.call_later(0.05, next_one)
    legend = {"finished": True}          # what the legend shows: distances, or names only
    idle = {"token": None, "jobs": []}   # the races run ahead, left to run

    def race_neighbours_when_idle() -> None:
        """Run the races one noise step either side of the current one, a racer each
        20 ms while the kernel has nothing else to do. A new noise value re-runs all four
        racers (50-75 ms; every other slider re-runs one or two), so the next value an
        arrow key or a small move gives is then already run. A newer change cancels it."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        now, shown = settings(), surface.value
        jobs = [(name, tuple((key, now[key]) for key in keys), value)
                for value in (round(now["noise"] + noise.step, 6),
                              round(now["noise"] - noise.step, 6))
                if noise.min <= value <= noise.max
                for name, keys in RACER_SETTINGS.items()]
        token = idle["token"] = object()
        idle["jobs"] = jobs

        def next_one() -> None:
            if idle["token"] is not token or player.playing or not jobs:
                return
            name, own, value = jobs.pop(0)
            _finished_path(shown, name, own, int(now["steps"]), value)
            loop.call_later(0.02, next_one)

        loop.call_later(0.02, next_one)

    def show_frame() -> None:
        live.draw()
        # The labels change when a race starts (names only) or ends (distances). A race
        # played from its end shows its first steps at once and its labels a frame later.
        first_frame = player.playing and live.done_steps <= live.chunk
        if live.finished != legend["finished"] and not first_frame:
            # JPEG while it moves (encodes several times faster), PNG once it settles
            view.refresh(legend_layer, control="race",
                         format="png" if live.finished else "jpeg")
            legend["finished"] = live.finished
        else:
            view.frame(control="race", format="jpeg")

    def reset() -> None:
        live.restart(surface.value, settings())

    # A race step takes microseconds: one step a frame, or the race is over in one frame.
    player = widgets.Player(live.step, show_frame, reset, status=live.status,
                            play_label="Run race", max_steps_per_frame=1)
    holding = {"redraw": False}          # True while a new surface sets its sliders

    def restart(change=None) -> None:
        if holding["redraw"]:
            return
        player.pause()
        start = time.perf_counter()
        new_surface = fig.parts.surface is not surface.value   # new contours and limits
        steps_shown = fig.parts.ax_loss.get_xlim()
        set_surface(fig, surface.value)
        live.restart(surface.value, settings())
        live.run()                       # the whole race at once: Run race replays it
        live.draw()
        control = next((k for k, c in {"surface": surface, **sliders}.items()
                        if change is not None and c is change.get("owner")), "")
        compute_ms = 1e3 * (time.perf_counter() - start)
        moved = fig.parts.ax_loss.get_xlim() != steps_shown
        layer = surface_layer if new_surface else step_axis if moved else legend_layer
        if new_surface:
            panels.use(surface.value)
        player.rearm()           # its status line first: the browser lays it out meanwhile
        view.refresh(layer, control=control, compute_ms=compute_ms)
        legend["finished"] = True
        draw_panels_when_idle()
        race_neighbours_when_idle()

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
        restart(change)                            # once, with all the new settings

    surface.observe(on_surface, names="value")
    for control in sliders.values():
        control.observe(restart, names="value")
    draw_panels_when_idle()              # in a notebook: between the cells that follow
    race_neighbours_when_idle()
    left = ipw.VBox([surface, lr_sgd, lr_adaptive, steps])
    right = ipw.VBox([momentum, beta1, beta2, noise])
    box = ipw.VBox([ipw.HBox([left, right]), view.widget, player.widget])
    box.view, box.player, box.live, box.controls = view, player, live, {"surface": surface,
                                                                        **sliders}
    box.panels, box.races_ahead = panels, idle
    return box
