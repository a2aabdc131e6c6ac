"""Shared plotting helpers: one style, and the pictures several lessons draw.

Every function here draws with matplotlib and returns a closed ``Figure``
(closed so a notebook shows it once, where it is returned or displayed, and
so widgets that redraw it do not pile up open figures). A notebook shows it by
ending a cell with it, or with ``display(fig)``; a test reads its axes.

    from dlcore.viz import plots
    fig = plots.decision_boundary(model, X, y)      # what a 2-D classifier does
    fig = plots.network_diagram(model)              # circles and lines from a Sequential

Style: ``with plots.style():`` sets the course's fonts and sizes; ``subplots``
makes a figure of one of the fixed ``SIZES``; ``finish`` closes it.
Colours: ``CLASS_COLORS`` colour class 0, 1, 2, ... the same way in every lesson.
They are Okabe and Ito's palette for colour-blind readers (Okabe & Ito, "Color
Universal Design", 2008): blue, vermillion, bluish green, orange, reddish purple,
sky blue, yellow, black, then grey and wine for the 9th and 10th digit classes.
Blue and vermillion, classes 0 and 1, differ in lightness and in hue for the
1 in 12 men with red-green colour blindness, where a red and a green turn the
same olive. A model's output surface uses ``SURFACE_CMAP``, blue (low, class 0)
through white to vermillion (high, class 1); ``ACCENT`` (orange) marks the one
thing a figure points at; ``FORWARD_COLOR`` and ``BACKWARD_COLOR`` draw the two
passes of backpropagation; ``LINESTYLES`` and ``MARKERS`` tell compared lines
apart without colour.
"""
from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import CenteredNorm, LinearSegmentedColormap, ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

SIZES = {
    "small": (4.8, 3.4),
    "medium": (6.4, 4.4),
    "wide": (10.0, 4.2),
    "square": (5.2, 5.0),
}
DPI = 90
BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY, YELLOW, BLACK = (
    "#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
CLASS_COLORS = (BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY, YELLOW, BLACK,
                "#999999", "#882255")
SURFACE_CMAP = LinearSegmentedColormap.from_list("dlcore_surface",
                                                 [BLUE, "#ffffff", VERMILLION])
ACCENT = ORANGE
FORWARD_COLOR, BACKWARD_COLOR = BLUE, VERMILLION
LINESTYLES = ("-", "--", ":", "-.")          # the i-th of several compared lines ...
MARKERS = ("o", "s", "^", "D", "v", "P")     # ... and its marker, so colour is not needed
RC = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Draw inside this block to get the course's fonts and sizes."""
    with plt.rc_context(RC):
        yield


def subplots(size: str = "medium", nrows: int = 1, ncols: int = 1, **kwargs):
    """``plt.subplots`` with one of the fixed ``SIZES`` ('small', 'medium',
    'wide', 'square'), so a widget's figure never changes size as it redraws."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size!r}")
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=SIZES[size], dpi=DPI, **kwargs)


def finish(fig: Figure) -> Figure:
    """Close the figure (it stays drawable) and return it."""
    plt.close(fig)
    return fig


def class_cmap(num_classes: int) -> ListedColormap:
    """The first ``num_classes`` of ``CLASS_COLORS`` as a colormap."""
    return ListedColormap(CLASS_COLORS[:num_classes])


def scatter_classes(ax, X: np.ndarray, y: np.ndarray | None = None, *, size: float = 22,
                    label_prefix: str = "class ") -> None:
    """Points of a 2-D data set, coloured by class (one legend entry per class)."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"scatter_classes expected points (N, 2), got {X.shape}")
    if y is None:
        ax.scatter(X[:, 0], X[:, 1], s=size, color="#4a5568", edgecolor="white",
                   linewidth=0.6, zorder=3)
        return
    y = np.asarray(y).astype(int).ravel()
    for c in np.unique(y):
        pts = X[y == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=size, color=CLASS_COLORS[c % len(CLASS_COLORS)],
                   edgecolor="white", linewidth=0.6, zorder=3, label=f"{label_prefix}{c}")


def grid(X: np.ndarray, steps: int = 150, margin: float = 0.5,
         limits: tuple[float, float, float, float] | None = None):
    """A (steps, steps) mesh covering the points X (N, 2) plus a margin.

    Returns ``xx, yy`` (each (steps, steps)) and ``points`` (steps*steps, 2),
    the mesh as a batch a model can take.
    """
    if limits is None:
        X = np.asarray(X)
        limits = (X[:, 0].min() - margin, X[:, 0].max() + margin,
                  X[:, 1].min() - margin, X[:, 1].max() + margin)
    x0, x1, y0, y1 = limits
    xx, yy = np.meshgrid(np.linspace(x0, x1, steps), np.linspace(y0, y1, steps))
    points = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
    return xx, yy, points


def surface(fn: Callable[[np.ndarray], np.ndarray], X: np.ndarray, steps: int = 150,
            margin: float = 0.5, limits: tuple[float, float, float, float] | None = None):
    """Evaluate a model (or any function of a batch (N, 2)) over ``grid(X)``.

    Returns ``xx, yy, zz``: zz is (steps, steps) for a one-output model and
    (steps, steps, C) for a C-output one.
    """
    xx, yy, points = grid(X, steps, margin, limits)
    out = np.asarray(fn(points))
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.shape[0] != points.shape[0]:
        raise ValueError(f"surface: the function returned {out.shape[0]} rows for "
                         f"{points.shape[0]} grid points")
    return xx, yy, out.reshape(xx.shape + out.shape[1:])


def decision_boundary(model: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                      y: np.ndarray | None = None, *, ax=None, threshold: float | None = None,
                      steps: int = 150, title: str | None = None, size: str = "square",
                      colorbar: bool = True, boundary: bool = True,
                      legend: bool = True) -> Figure:
    """What a model does to every point of the plane around the data X (N, 2).

    One output (a score or a probability): its value as a blue-to-vermillion surface
    and the decision line where it crosses ``threshold`` (0.5 when every value
    lies in [0, 1], else 0; ``boundary=False`` leaves it out). C outputs:
    each point coloured by its argmax class. The data are drawn on top,
    coloured by their labels y (N,).
    """
    with style():
        if ax is None:
            fig, ax = subplots(size)
        else:
            fig = ax.figure
        xx, yy, zz = surface(model, X, steps)
        if zz.ndim == 2:
            if threshold is None:
                threshold = 0.5 if zz.min() >= 0 and zz.max() <= 1 else 0.0
            low, high = float(zz.min()), float(zz.max())
            if low >= 0 and high <= 1:
                low, high = 0.0, 1.0
            high = max(high, low + 1e-6)
            # The threshold is white, so the two sides read blue and vermillion.
            norm = CenteredNorm(vcenter=threshold,
                                halfrange=max(threshold - low, high - threshold))
            filled = ax.contourf(xx, yy, zz, levels=np.linspace(low, high, 21), norm=norm,
                                 cmap=SURFACE_CMAP, alpha=0.75)
            if boundary and low < threshold < high:
                ax.contour(xx, yy, zz, levels=[threshold], colors="black", linewidths=2)
            if colorbar:
                fig.colorbar(filled, ax=ax, shrink=0.8, label="model output",
                             ticks=MaxNLocator(5))
        else:
            classes = zz.argmax(axis=-1)
            num_classes = zz.shape[-1]
            ax.contourf(xx, yy, classes, levels=np.arange(num_classes + 1) - 0.5,
                        cmap=class_cmap(num_classes), alpha=0.3)
            ax.contour(xx, yy, classes, levels=np.arange(num_classes) + 0.5,
                       colors="black", linewidths=1)
        scatter_classes(ax, X, y)
        if y is not None and legend:
            ax.legend(loc="best", framealpha=0.9)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.set_xlim(xx.min(), xx.max())
        ax.set_ylim(yy.min(), yy.max())
        if title:
            ax.set_title(title)
    return finish(fig)


def interactive_figure(draw: Callable[..., Figure], controls: dict, *,
                       height: str = "440px", columns: int = 3):
    """A widget: ``controls`` (name -> ipywidget) above an ``Output`` of fixed
    height that shows ``draw(**values)`` and redraws it when a control moves.

    ``draw`` is the plain function a test calls; this adds only the wiring
    (``ipywidgets.interactive_output``), so no state lives in globals. Sliders
    redraw when released (``continuous_update=False``): a figure takes a few
    tenths of a second, too slow to follow a drag.
    """
    import ipywidgets as widgets
    from IPython.display import display

    def show(**values):
        display(draw(**values))

    for control in controls.values():      # redraw on release, not at every pixel of a drag
        if hasattr(control, "continuous_update"):
            control.continuous_update = False

    out = widgets.interactive_output(show, controls)
    out.layout = widgets.Layout(height=height, overflow="hidden")
    boxes = list(controls.values())
    rows = [widgets.HBox(boxes[i:i + columns]) for i in range(0, len(boxes), columns)]
    return widgets.VBox([*rows, out])


def show_source(obj: Any):
    """The source of a function, method or class as a highlighted code block,
    headed by its name and file: how every lesson shows the one true copy of the
    engine's code. ``plots.show_source(nn.Linear.backward)``.

    Returns an ``IPython.display.Markdown``: JupyterLab renders it as Python with
    syntax colours. Its text/plain form is a fixed line; its text/markdown is the
    source itself, which nbval compares too, so a lesson whose printed code has
    changed fails nbval until it is re-executed (as it should). A method inherited
    from a base class is shown with the base's name (``nn.BatchNorm1d.forward``
    is ``BatchNorm.forward``), where its code really is. No line numbers: they
    would change with every edit above the code.
    """
    import inspect
    import textwrap
    from pathlib import Path

    from IPython.display import Markdown

    try:
        path = Path(inspect.getsourcefile(obj)).resolve()
        code = textwrap.dedent(inspect.getsource(obj)).rstrip()
    except (TypeError, OSError) as err:
        raise TypeError(f"show_source: no Python source to show for {obj!r} (a function, "
                        "method or class defined in a .py file is needed)") from err
    package = Path(__file__).resolve().parents[1]          # .../dlcore
    where = (path.relative_to(package.parent) if package in path.parents else path).as_posix()
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", ""))
    return Markdown(f"`{name}`, from `{where}`:\n\n```python\n{code}\n```")


def slider_style() -> dict:
    """Let a control's description take the room it needs."""
    return {"description_width": "initial"}


def layer_sizes(model) -> list[tuple[int, str]]:
    """The columns of a network diagram: ``[(width, label), ...]``.

    ``model`` is a ``Sequential`` (or any iterable of modules) or a plain list
    of widths such as ``[2, 4, 1]``. Each ``Linear`` adds a column of its
    ``out_features`` units; a layer without parameters that follows (ReLU,
    Sigmoid, ...) names that column's activation.
    """
    items = list(model)
    if all(isinstance(i, (int, np.integer)) for i in items):
        if len(items) < 2 or min(items) < 1:
            raise ValueError(f"layer_sizes needs at least two positive widths, got {items}")
        return [(int(w), "") for w in items]
    columns: list[tuple[int, str]] = []
    for module in items:
        in_f, out_f = getattr(module, "in_features", None), getattr(module, "out_features", None)
        if in_f is not None and out_f is not None:
            if not columns:
                columns.append((int(in_f), ""))
            columns.append((int(out_f), ""))
        elif columns and not list(module.parameters()):
            width, label = columns[-1]
            name = type(module).__name__
            columns[-1] = (width, f"{label} + {name}" if label else name)
        else:
            raise ValueError(f"network diagram: cannot draw {type(module).__name__} "
                             "(only Linear layers and activations)")
    if not columns:
        raise ValueError("network diagram: the model has no Linear layer")
    return columns


def network_diagram(model, *, max_units: int = 8, title: str | None = None,
                    size: str = "wide", ax=None) -> Figure:
    """Circles (units) and lines (weights) for a stack of Linear layers.

    ``model``: a ``Sequential`` such as ``nn.Sequential(nn.Linear(2, 4),
    nn.ReLU(), nn.Linear(4, 1))`` or a list of widths ``[2, 4, 1]``. A layer
    wider than ``max_units`` shows its first and last units with a gap. The
    title counts the weights and biases (from the widths, so a list works too).
    """
    columns = layer_sizes(model)
    widths = [w for w, _ in columns]
    num_params = sum(a * b + b for a, b in itertools.pairwise(widths))
    with style():
        if ax is None:
            fig, ax = subplots(size)
        else:
            fig = ax.figure
        shown = max(min(w, max_units) for w in widths)
        positions = []
        for i, (width, _) in enumerate(columns):
            if width <= max_units:
                idx = list(range(width))
            else:
                half = max_units // 2
                idx = list(range(half)) + list(range(width - (max_units - half - 1), width))
            n = len(idx) + (1 if width > max_units else 0)
            ys = np.linspace(shown / 2, -shown / 2, n) if n > 1 else np.array([0.0])
            if width > max_units:
                gap = len(idx) // 2 if max_units % 2 else max_units // 2
                ax.text(i, ys[gap], "⋮", ha="center", va="center", fontsize=16, color="#4a5568")
                ys = np.delete(ys, gap)
            positions.append(ys)
        for i in range(len(columns) - 1):
            for y0 in positions[i]:
                for y1 in positions[i + 1]:
                    ax.plot([i, i + 1], [y0, y1], color="#a0aec0", lw=0.8, zorder=1)
        last = len(columns) - 1
        for i, ys in enumerate(positions):
            color = CLASS_COLORS[0] if i == 0 else (CLASS_COLORS[1] if i == last
                                                    else CLASS_COLORS[2])
            ax.scatter(np.full(len(ys), i), ys, s=420, color=color, edgecolor="white",
                       linewidth=1.5, zorder=3)
            role = "input" if i == 0 else ("output" if i == last else f"hidden {i}")
            width, act = columns[i]
            text = f"{role}\n{width} unit{'s' if width != 1 else ''}"
            if act:
                text += f"\n{act}"
            ax.text(i, -shown / 2 - 0.8, text, ha="center", va="top", fontsize=10)
        ax.set_xlim(-0.5, last + 0.5)
        ax.set_ylim(-shown / 2 - 2.6, shown / 2 + 0.8)
        ax.axis("off")
        ax.set_title(title or f"{last} layer{'s' if last != 1 else ''} of weights, "
                     f"{num_params:,} parameters (weights + biases)")
    return finish(fig)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray,
                     class_names: Sequence[str] | None = None, *, normalize: bool = False,
                     title: str | None = None, size: str = "square") -> Figure:
    """Counts (or row fractions, ``normalize=True``) of true class vs predicted class.

    The matrix is in ``fig.axes[0].images[0].get_array()``: row = true class,
    column = predicted class.
    """
    y_true = np.asarray(y_true).astype(int).ravel()
    y_pred = np.asarray(y_pred).astype(int).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"confusion_matrix: y_true {y_true.shape} and y_pred "
                         f"{y_pred.shape} must have the same length")
    num_classes = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    if class_names is not None:
        num_classes = max(num_classes, len(class_names))
    counts = np.zeros((num_classes, num_classes))
    np.add.at(counts, (y_true, y_pred), 1)
    matrix = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    names = list(class_names) if class_names is not None else [str(c) for c in
                                                               range(num_classes)]
    with style():
        fig, ax = subplots(size)
        ax.imshow(matrix, cmap="Blues", vmin=0)
        for (r, c), v in np.ndenumerate(matrix):
            dark = v > 0.6 * matrix.max()
            ax.text(c, r, f"{v:.2f}" if normalize else f"{int(v)}", ha="center", va="center",
                    fontsize=9, color="white" if dark else "black")
        ax.set_xticks(range(num_classes), names)
        ax.set_yticks(range(num_classes), names)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        accuracy = np.trace(counts) / max(counts.sum(), 1)
        ax.set_title(title or f"accuracy {accuracy:.1%}")
    return finish(fig)


def image_grid(images: np.ndarray, labels: Sequence | None = None, *, ncols: int = 8,
               cmap: str = "gray", title: str | None = None) -> Figure:
    """Images (N, H, W), (N, C, H, W) with C = 1 or 3, or (N, H, W, 3) in a grid, each titled by
    its label. The figure grows with the number of rows (0.9 inch per cell)."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] in (1, 3):   # (N, C, H, W), the engine's layout
        images = images.transpose(0, 2, 3, 1)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(f"image_grid expected images (N, H, W) or (N, H, W, 3), "
                         f"got {images.shape}")
    n = len(images)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    with style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(0.9 * ncols + 0.2, 0.95 * nrows + 0.3),
                                 dpi=DPI, squeeze=False, layout="constrained")
        for k, ax in enumerate(axes.flat):
            ax.axis("off")
            if k < n:
                ax.imshow(images[k], cmap=cmap if images.ndim == 3 else None)
                if labels is not None:
                    ax.set_title(str(labels[k]), fontsize=9)
        if title:
            fig.suptitle(title)
    return finish(fig)
