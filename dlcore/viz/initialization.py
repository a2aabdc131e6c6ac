"""Lesson 04's initialisation section: how the size of the first weights decides
whether signals survive a deep stack of layers, forward and backward.

A deep MLP of ``depth`` layers ``Linear(width, width)`` + activation, its weights
drawn W ~ N(0, gain^2 / fan_in) and its biases 0, gets a batch of standard normal
inputs. ``signal_through_depth`` runs the engine's own ``forward`` and ``backward``
layer by layer and keeps every layer's output and every layer's input gradient;
``histograms_figure`` draws them; ``init_explorer`` puts the gain and the
activation on controls.

    from dlcore.viz import initialization as vi
    run = vi.signal_through_depth("tanh", gain=1.0)   # Xavier / LeCun for tanh
    vi.histograms_figure(run)
    vi.std_figure({g: vi.signal_through_depth("relu", g) for g in (1.0, 2 ** 0.5, 2.0)})

The argument the lesson makes: a unit sums fan_in products w x, so with
independent zero-mean weights Var(z) = fan_in Var(w) E[x^2]. Keeping Var(z) the
same at every layer needs Var(w) = 1 / fan_in when the activation passes its
input through near 0 (tanh: gain 1, LeCun; Xavier's 2 / (fan_in + fan_out) is the
same for square layers), and Var(w) = 2 / fan_in for ReLU, which zeroes half
its inputs so E[x^2] = Var(z) / 2 (gain sqrt 2, He). The backward pass multiplies
by W^T, so the gradients grow or die by the same factor per layer.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from matplotlib.figure import Figure

from .. import nn
from ..rng import manual_seed
from . import plots
from .widgets import one_blas_thread

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}
GAINS = {"tanh": 1.0, "relu": math.sqrt(2.0)}      # Xavier/LeCun for tanh, He for ReLU
HIST_BINS = 60


@dataclass
class DepthRun:
    """One deep MLP at one initialisation: per layer (1..depth), its output values
    h_k (N, width) and dL/dh_{k-1}, the gradient arriving at its input (N, width),
    for a loss whose gradient at the top is standard normal."""
    activation: str
    gain: float
    activations: list[np.ndarray]
    gradients: list[np.ndarray]

    @property
    def activation_std(self) -> np.ndarray:
        """(depth,): the standard deviation of each layer's output."""
        return np.array([float(a.std()) for a in self.activations])

    @property
    def gradient_std(self) -> np.ndarray:
        """(depth,): the standard deviation of the gradient at each layer's input."""
        return np.array([float(g.std()) for g in self.gradients])


def deep_mlp(activation: str = "tanh", gain: float = 1.0, depth: int = 10, width: int = 128,
             seed: int = 0) -> nn.Sequential:
    """``depth`` times Linear(width, width) + activation, W ~ N(0, gain^2 / width),
    biases 0 (so only the weights' scale matters)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    if gain <= 0 or depth < 1 or width < 1:
        raise ValueError(f"deep_mlp needs gain > 0, depth >= 1 and width >= 1, got "
                         f"gain={gain}, depth={depth}, width={width}")
    manual_seed(seed)
    layers = []
    for _ in range(depth):
        linear = nn.Linear(width, width)
        nn.init.normal_(linear.weight, std=gain / math.sqrt(width))   # Var(w) = gain^2 / fan_in
        nn.init.zeros_(linear.bias)
        layers += [linear, ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


def signal_through_depth(activation: str = "tanh", gain: float = 1.0, depth: int = 10,
                         width: int = 128, n: int = 256, seed: int = 0) -> DepthRun:
    """Forward a standard normal batch (n, width) through ``deep_mlp``, then
    backward a standard normal gradient from the top, keeping what every layer
    gives out: the engine's own ``forward`` and ``backward``, one child at a time."""
    model = deep_mlp(activation, gain, depth, width, seed)
    rng = np.random.default_rng(seed + 1)
    h = rng.standard_normal((n, width)).astype(np.float32)
    activations = []
    children = list(model)
    for k in range(0, len(children), 2):                 # (Linear, activation) pairs
        h = children[k + 1](children[k](h))
        activations.append(h)
    grad = rng.standard_normal(h.shape).astype(np.float32)
    gradients = []
    for k in reversed(range(0, len(children), 2)):
        grad = children[k].backward(children[k + 1].backward(grad))
        gradients.insert(0, grad)                         # dL/d(this layer's input)
    return DepthRun(activation, float(gain), activations, gradients)


def _layers_shown(depth: int) -> tuple[int, ...]:
    return tuple(sorted({1, max(1, depth // 3), max(1, 2 * depth // 3), depth}))


def _nice_ceil(x: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is >= x (> 0)."""
    power = 10.0 ** math.floor(math.log10(x))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= x * (1 - 1e-9))


@dataclass
class Histograms:
    """What ``histograms_figure`` draws of a run, for the layers shown: per row (outputs,
    input gradients) the half-width of its x range (``limits``, a round number), the
    counts of each layer's values in ``HIST_BINS`` equal bins over [-limit, limit]
    (values beyond it counted in the end bins) and their standard deviations."""
    activation: str
    gain: float
    layers: tuple[int, ...]
    limits: tuple[float, float]
    counts: np.ndarray            # (2, len(layers), HIST_BINS)
    stds: np.ndarray              # (2, len(layers))


def histograms(run: DepthRun, layers: tuple[int, ...]) -> Histograms:
    """Count the values of ``run`` for ``histograms_figure``: one shared x range per
    row, wide enough for the values of every layer shown (up to 5 standard deviations
    of the widest, so a few outliers do not squash the rest)."""
    limits, counts, stds = [], [], []
    for values in (run.activations, run.gradients):
        chosen = [values[k - 1].ravel() for k in layers]
        widest = max(float(np.abs(v).max()) for v in chosen)
        limit = min(widest, 5 * max(float(v.std()) for v in chosen)) or 1.0
        limit = _nice_ceil(limit)
        edges = np.linspace(-limit, limit, HIST_BINS + 1)
        counts.append([np.histogram(np.clip(v, -limit, limit), bins=edges)[0] for v in chosen])
        stds.append([float(v.std()) for v in chosen])
        limits.append(limit)
    return Histograms(run.activation, run.gain, tuple(layers), tuple(limits),
                      np.array(counts), np.array(stds))


def histograms_figure(run: DepthRun | Histograms, layers: tuple[int, ...] | None = None
                      ) -> Figure:
    """Histograms of the outputs (top row) and of the input gradients (bottom row) of
    a few layers, on one shared x range per row, so a shrinking or exploding spread
    reads at a glance; each panel gives its standard deviation. ``run`` may be a run's
    ``histograms`` (counted once). ``update_histograms_figure(fig, run)`` draws another
    run into the same panels.

    Drawn for speed: each panel's x axis runs from -1 to 1 in units of its row's range,
    its ends labelled with that range in real units by two texts of ours, and each
    histogram is scaled to its tallest bar; so the axes never change, and a new run
    changes only the artists in ``fig.parts.animated`` (the bars and the numbers)."""
    if isinstance(run, Histograms):                   # counted already: its layers
        layers = run.layers
    layers = layers or _layers_shown(len(run.activations))
    with plots.style():
        fig, axes = plots.subplots("wide", 2, len(layers), squeeze=False)
        fig.set_size_inches(plots.SIZES["wide"][0], 4.4)
        hists, stds, ends = [], [], []
        for r, (what, color) in enumerate((("output of layer", plots.FORWARD_COLOR),
                                            ("gradient at the input of layer",
                                             plots.BACKWARD_COLOR))):
            for ax, k in zip(axes[r], layers, strict=True):
                hists.append(ax.stairs(np.zeros(HIST_BINS), np.linspace(-1, 1, HIST_BINS + 1),
                                       fill=True, color=color, alpha=0.85))
                ax.set_xlim(-1.08, 1.08)
                ax.set_ylim(0, 1.3)                       # headroom for the std
                ax.set_yticks([])
                ax.set_xticks([-1, 0, 1], labels=["", "0", ""])
                ax.set_title(f"{what} {k}", fontsize=10)
                stds.append(ax.text(0.5, 0.96, "", transform=ax.transAxes, ha="center",
                                    va="top", fontsize=9.5))
                # the range's ends, where tick labels go (they change with the run),
                # aligned inwards so a wide one never runs into the next panel's
                ends.append([ax.annotate("", (x, 0), xycoords=ax.get_xaxis_transform(),
                                         xytext=(0, -3.5), textcoords="offset points",
                                         ha=align, va="top",
                                         fontsize=ax.xaxis.get_major_ticks()[1].label1
                                         .get_fontsize())
                             for x, align in ((-1, "left"), (1, "right"))])
        suptitle = fig.suptitle(" ", fontsize=12)
    fig.parts = SimpleNamespace(layers=tuple(layers), hists=hists, stds=stds, ends=ends,
                                suptitle=suptitle, shown=None)
    fig.parts.animated = [*hists, *stds, *(t for pair in ends for t in pair), suptitle]
    update_histograms_figure(fig, run)
    return plots.finish(fig)


def update_histograms_figure(fig: Figure, run: DepthRun | Histograms) -> None:
    """Draw ``run`` (same depth; or its ``histograms``, computed once) into the panels
    of a ``histograms_figure``."""
    parts = fig.parts
    data = run if isinstance(run, Histograms) else histograms(run, parts.layers)
    counts = data.counts.reshape(-1, HIST_BINS)
    for k, (hist, std, (low, high), count) in enumerate(
            zip(parts.hists, parts.stds, parts.ends, counts, strict=True)):
        hist.set_data(count / max(count.max(), 1))
        std.set_text(f"std {data.stds.flat[k]:.3g}")
        limit = data.limits[k // len(parts.layers)]
        low.set_text(f"\N{MINUS SIGN}{limit:g}")
        high.set_text(f"{limit:g}")
    parts.shown = data
    parts.suptitle.set_text(f"{data.activation}, W ~ N(0, gain² / fan_in) with gain "
                            f"{data.gain:.2f}")


def std_figure(runs: dict[float, DepthRun]) -> Figure:
    """Standard deviation of each layer's output (left) and of the gradient at its
    input (right) against depth, one line per gain, on a log scale."""
    with plots.style():
        fig, (ax_a, ax_g) = plots.subplots("wide", 1, 2)
        for i, (gain, run) in enumerate(runs.items()):
            style = dict(color=plots.CLASS_COLORS[i % len(plots.CLASS_COLORS)],
                         ls=plots.LINESTYLES[i % len(plots.LINESTYLES)],
                         marker=plots.MARKERS[i % len(plots.MARKERS)], ms=4,
                         label=f"{run.activation}, gain {gain:.2f}")
            layers = np.arange(1, len(run.activations) + 1)
            ax_a.plot(layers, run.activation_std, **style)
            ax_g.plot(layers, run.gradient_std, **style)
        for ax, title in ((ax_a, "spread of each layer's output (forward)"),
                          (ax_g, "spread of the gradient at each layer (backward)")):
            ax.set_yscale("log")
            ax.set_xlabel("layer")
            ax.set_ylabel("standard deviation (log)")
            ax.set_title(title)
            ax.legend(fontsize=9)
    return plots.finish(fig)


def init_explorer(depth: int = 10, width: int = 128):
    """A widget: the activation and the gain (with a button for Xavier and He) over
    ``histograms_figure`` of ``signal_through_depth``; each (activation, gain) is run
    and counted once and kept, and a change redraws only the bars and the numbers of
    the same panels."""
    import ipywidgets as widgets

    activation = widgets.Dropdown(options=[("tanh", "tanh"), ("ReLU", "relu")], value="tanh",
                                  description="activation of every layer",
                                  style=plots.slider_style())
    gain = widgets.FloatLogSlider(value=1.0, base=2, min=-2, max=2, step=0.25,
                                  description="gain: weight std × √fan_in",
                                  readout_format=".2f", style=plots.slider_style(),
                                  layout=widgets.Layout(width="460px"))
    preset = widgets.Button(description="set the argument's gain: 1 for tanh (Xavier), √2 "
                            "for ReLU (He)", layout=widgets.Layout(width="420px"))

    def use_preset(_button) -> None:
        gain.value = GAINS[activation.value]

    preset.on_click(use_preset)

    @functools.lru_cache(maxsize=64)
    def counted(activation: str, gain: float) -> Histograms:
        # one BLAS thread: these products are small, and on a busy two-core machine a
        # second thread made a run take 0.3-0.9 s instead of 0.05-0.1 s (same numbers)
        with one_blas_thread():
            run = signal_through_depth(activation, gain, depth, width)
        return histograms(run, _layers_shown(depth))

    def show(activation: str, gain: float) -> Figure:
        return histograms_figure(counted(activation, gain))

    def update(fig: Figure, activation: str, gain: float) -> None:
        update_histograms_figure(fig, counted(activation, gain))

    box = plots.interactive_figure(show, {"activation": activation, "gain": gain},
                                   update=update, animated=lambda fig: fig.parts.animated,
                                   columns=2, continuous=True,
                                   name="initialization.init_explorer")
    outer = widgets.VBox([box.children[0], preset, *box.children[1:]])
    outer.view, outer.controls, outer.redraw, outer.busy = (box.view, box.controls,
                                                            box.redraw, box.busy)
    return outer
