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


def histograms_figure(run: DepthRun, layers: tuple[int, ...] | None = None) -> Figure:
    """Histograms of the outputs (top row) and of the input gradients (bottom row) of
    a few layers, on one shared x range per row, so a shrinking or exploding spread
    reads at a glance; each panel's title gives its standard deviation.
    ``update_histograms_figure(fig, run)`` draws another run into the same panels."""
    layers = layers or _layers_shown(len(run.activations))
    with plots.style():
        fig, axes = plots.subplots("wide", 2, len(layers), squeeze=False)
        fig.set_size_inches(plots.SIZES["wide"][0], 4.6)   # two rows of two-line titles
        hists = []
        for r, color in enumerate((plots.FORWARD_COLOR, plots.BACKWARD_COLOR)):
            row = []
            for ax in axes[r]:
                row.append(ax.stairs(np.zeros(HIST_BINS), np.linspace(-1, 1, HIST_BINS + 1),
                                     fill=True, color=color, alpha=0.85))
                ax.set_yticks([])
                ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
            hists.append(row)
        suptitle = fig.suptitle("", fontsize=12)
    fig.parts = SimpleNamespace(layers=layers, hists=hists, axes=axes, suptitle=suptitle)
    update_histograms_figure(fig, run)
    return plots.finish(fig)


def update_histograms_figure(fig: Figure, run: DepthRun) -> None:
    """Draw ``run`` (same depth) into the panels of a ``histograms_figure``."""
    parts = fig.parts
    rows = (("output of layer", run.activations), ("gradient at the input of layer",
                                                   run.gradients))
    for r, (what, values) in enumerate(rows):
        limit = max(float(np.abs(values[k - 1]).max()) for k in parts.layers) or 1.0
        limit = min(limit, 5 * max(float(values[k - 1].std()) for k in parts.layers) + 1e-12)
        edges = np.linspace(-limit, limit, HIST_BINS + 1)
        for ax, hist, k in zip(parts.axes[r], parts.hists[r], parts.layers, strict=True):
            v = values[k - 1].ravel()
            counts, _ = np.histogram(np.clip(v, -limit, limit), bins=edges)
            hist.set_data(counts, edges)
            ax.set_xlim(-limit, limit)
            ax.set_ylim(0, 1.05 * max(counts.max(), 1))
            ax.set_title(f"{what} {k}\nstd {v.std():.3g}", fontsize=10)
    parts.suptitle.set_text(f"{run.activation}, W ~ N(0, gain² / fan_in) with gain "
                            f"{run.gain:.2f}")


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
    once and kept, and a change redraws the same panels."""
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
    def run(activation: str, gain: float) -> DepthRun:
        return signal_through_depth(activation, gain, depth, width)

    def show(activation: str, gain: float) -> Figure:
        return histograms_figure(run(activation, gain))

    def update(fig: Figure, activation: str, gain: float) -> None:
        update_histograms_figure(fig, run(activation, gain))

    box = plots.interactive_figure(show, {"activation": activation, "gain": gain},
                                   update=update, columns=2, continuous=True,
                                   name="initialization.init_explorer")
    outer = widgets.VBox([box.children[0], preset, *box.children[1:]])
    outer.view, outer.controls, outer.redraw, outer.busy = (box.view, box.controls,
                                                            box.redraw, box.busy)
    return outer
