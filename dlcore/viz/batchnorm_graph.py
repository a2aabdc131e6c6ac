"""Lesson 10's picture of batch norm's backward pass: its computation graph for one
feature over a batch of m values, each node with its forward formula and, under
it, the local rule that turns the gradient arriving at its output into gradients
for its inputs.

    from dlcore.viz import batchnorm_graph
    batchnorm_graph.graph_figure()

The lesson walks the same graph in NumPy, node by node, and checks the result
against ``nn.BatchNorm1d.backward``.
"""
from __future__ import annotations

from matplotlib.figure import Figure

from . import plots

# (name, x, y, forward formula, backward rule); x, y in data units of the figure.
NODES = (
    ("x", 0.0, 0.0, "$x_i$", "$dx_i = dd_i + d\\mu / m$"),
    ("mu", 2.3, 1.5, "$\\mu = \\frac{1}{m}\\sum_i x_i$", "$d\\mu = -\\sum_i dd_i$"),
    ("d", 2.3, 0.0, "$d_i = x_i - \\mu$",
     "$dd_i = s\\,d\\hat x_i + \\frac{2}{m} d_i\\, d\\sigma^2$"),
    ("var", 4.9, 1.5, "$\\sigma^2 = \\frac{1}{m}\\sum_i d_i^2$",
     "$d\\sigma^2 = -\\frac{1}{2} s^3\\, ds$"),
    ("s", 7.5, 1.5, "$s = 1/\\sqrt{\\sigma^2 + \\epsilon}$", "$ds = \\sum_i d_i\\, d\\hat x_i$"),
    ("xhat", 7.5, 0.0, "$\\hat x_i = d_i\\, s$", "$d\\hat x_i = \\gamma\\, dy_i$"),
    ("y", 10.1, 0.0, "$y_i = \\gamma \\hat x_i + \\beta$",
     "$d\\gamma = \\sum_i dy_i \\hat x_i,\\ d\\beta = \\sum_i dy_i$"),
)
EDGES = (("x", "mu"), ("x", "d"), ("mu", "d"), ("d", "var"), ("var", "s"), ("d", "xhat"),
         ("s", "xhat"), ("xhat", "y"))
BOX_W, BOX_H = 2.0, 0.55


def _on_box(center: tuple[float, float], toward: tuple[float, float]) -> tuple[float, float]:
    """Where the line from a box's ``center`` to ``toward`` leaves the box."""
    dx, dy = toward[0] - center[0], toward[1] - center[1]
    t = min(BOX_W / 2 / abs(dx) if dx else float("inf"),
            BOX_H / 2 / abs(dy) if dy else float("inf"))
    return center[0] + t * dx, center[1] + t * dy


def graph_figure() -> Figure:
    """Batch norm for one feature as a graph: forward formulas in the boxes (left
    to right), each node's backward rule beside it (right to left, in colour),
    with dy = dL/dy arriving from the loss on the right."""
    back = plots.BACKWARD_COLOR
    where = {name: (x, y) for name, x, y, _, _ in NODES}
    with plots.style():
        fig, ax = plots.subplots("wide")
        for a, b in EDGES:
            start, end = _on_box(where[a], where[b]), _on_box(where[b], where[a])
            plots.arrow(ax, start, end, lw=1.4)
        for _name, x, y, forward, backward in NODES:
            plots.box(ax, x, y, forward, color=plots.CLASS_COLORS[0], w=BOX_W, h=BOX_H,
                      rounding=0.08)
            above = y > 0                     # the top row's rules go above, clear of arrows
            ax.text(x, y + (BOX_H / 2 + 0.25) * (1 if above else -1), backward, ha="center",
                    va="center", fontsize=9.5, color=back)
        ax.annotate("$dy_i = \\partial L / \\partial y_i$\nfrom the loss", xy=(10.1, 0.3),
                    xytext=(10.1, 1.6), ha="center", va="center", fontsize=10, color=back,
                    arrowprops={"arrowstyle": "-|>", "color": back, "lw": 1.4})
        ax.text(5.05, -1.2, "forward: left to right, black arrows.   backward: each node's "
                "rule (in colour, next to it) runs right to left, from $dy$ to $dx$",
                ha="center", fontsize=10)
        ax.set_xlim(-1.2, 11.3)
        ax.set_ylim(-1.45, 2.3)
        ax.axis("off")
    return plots.finish(fig)
