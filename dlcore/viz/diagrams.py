"""Diagrams: boxes, arrows, and the circles-and-lines picture of a network.

One box and one arrow for every block diagram in the course (a data-flow of an LSTM
cell, a transformer block, a computational graph), so they all look alike:

    diagrams.box(ax, x, y, "tanh", color=plots.ACCENT)        # centred at (x, y)
    diagrams.arrow(ax, (x0, y0), (x1, y1))                     # tail to head
"""
from __future__ import annotations

import itertools

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .layers import layer_sizes
from .style import CLASS_COLORS, finish, style, subplots

ARROW_COLOR = "0.35"


def box(ax, x: float, y: float, text: str = "", *, color: str = "#4a5568", w: float = 0.7,
        h: float = 0.5, fc: str = "white", lw: float = 1.8, fontsize: float = 11,
        text_color: str | None = None, rounding: float = 0.06, zorder: float = 3,
        autoscale: bool = True):
    """A rounded box of width ``w`` and height ``h`` centred at (x, y), in data
    coordinates, with ``text`` in its middle; returns the patch. ``autoscale=False``
    leaves the axes' data limits alone (faster, for axes whose limits are set by hand)."""
    patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, fc=fc, ec=color, lw=lw,
                           boxstyle=f"round,pad=0,rounding_size={rounding}", zorder=zorder)
    _add(ax, patch, autoscale)
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize,
                color=text_color or "black", zorder=zorder + 1)
    return patch


def arrow(ax, start: tuple[float, float], end: tuple[float, float], *,
          color: str = ARROW_COLOR, lw: float = 1.6, head: str = "-|>", size: float = 13,
          shrink: float = 0.0, curve: float = 0.0, zorder: float = 2, autoscale: bool = True):
    """An arrow from ``start`` to ``end`` (data coordinates); ``shrink`` stops it that
    many points short of both ends, ``curve`` bends it (an arc, radians-ish, as
    matplotlib's ``arc3`` connection style). Returns the patch. ``autoscale=False`` as
    for ``box``: working out an arrow's path to update the data limits is most of the
    cost of adding it."""
    patch = FancyArrowPatch(start, end, arrowstyle=head, mutation_scale=size, color=color,
                            lw=lw, shrinkA=shrink, shrinkB=shrink, zorder=zorder,
                            connectionstyle=f"arc3,rad={curve}")
    _add(ax, patch, autoscale)
    return patch


def _add(ax, patch, autoscale: bool) -> None:
    if autoscale:
        ax.add_patch(patch)              # also widens the data limits to hold it
    else:
        ax.add_artist(patch)             # clipped to the axes all the same


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
        edges = [[(i, y0), (i + 1, y1)] for i in range(len(columns) - 1)
                 for y0 in positions[i] for y1 in positions[i + 1]]
        # one collection, not one line per weight: hundreds of Line2D cost seconds
        ax.add_collection(LineCollection(edges, colors="#a0aec0", linewidths=0.8, zorder=1))
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
