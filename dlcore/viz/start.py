"""Lesson 00 (start here): the course map and a first widget.

``COURSE`` lists the lessons in order, ``course_map()`` draws them, and
``line_figure(w, b)`` is the plain function behind ``first_widget()``: a line
y = w x + b, the smallest "model" there is, redrawn as its sliders move.
"""
from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
from matplotlib.figure import Figure

from . import plots

# (notebook name, title, part): the 15 lessons in order.
COURSE = (
    ("00_start_here", "Start here", "Foundations"),
    ("01_neurons_and_layers", "Neurons and layers", "Foundations"),
    ("02_forward_pass", "The forward pass", "Foundations"),
    ("03_loss_functions", "Loss functions", "Foundations"),
    ("04_backward_pass", "The backward pass", "Learning"),
    ("05_optimizers", "Optimizers", "Learning"),
    ("06_training", "Training a network", "Learning"),
    ("07_convolutional_networks", "Convolutional networks", "Architectures"),
    ("08_recurrent_networks", "Recurrent networks", "Architectures"),
    ("09_lstm", "LSTM", "Architectures"),
    ("10_dropout_and_batch_norm", "Dropout and batch norm", "Techniques"),
    ("11_augmentation_and_transfer", "Augmentation and transfer", "Techniques"),
    ("12_applications", "Applications", "Techniques"),
    ("13_attention_and_transformers", "Attention, transformers", "Beyond"),
    ("14_autograd", "Autograd", "Beyond"),
)
PARTS = ("Foundations", "Learning", "Architectures", "Techniques", "Beyond")


def course_map(current: str | None = None) -> Figure:
    """The lessons as boxes, one row per part, read left to right, top to bottom.

    ``current`` (a notebook name such as ``'02_forward_pass'``) is highlighted.
    """
    with plots.style():
        fig, ax = plots.subplots("wide")
        fig.set_size_inches(10.0, 5.4)   # five rows of lessons need more height than "wide"
        rows = {part: [c for c in COURSE if c[2] == part] for part in PARTS}
        box_w, box_h, step = 2.5, 0.62, 2.75
        centres = []
        for r, part in enumerate(PARTS):
            y = -r * 1.0
            color = plots.CLASS_COLORS[r]
            ax.text(-0.25, y, part, ha="right", va="center", fontsize=11, weight="bold",
                    color=color)
            for k, (name, title, _) in enumerate(rows[part]):
                x = k * step + box_w / 2
                lit = name == current
                plots.box(ax, x, y, f"{name[:2]}  {title}", color=color, w=box_w, h=box_h,
                          fc=color if lit else "white", lw=2, fontsize=9, rounding=0.12,
                          text_color="white" if lit else "black")
                centres.append((x, y))
        for (x0, y0), (x1, y1) in itertools.pairwise(centres):
            if y0 == y1:
                plots.arrow(ax, (x0 + box_w / 2, y0), (x1 - box_w / 2, y1), color="#718096",
                            lw=1.2, head="->", size=10)
        ax.set_xlim(-1.9, 3 * step + box_w + 0.05)
        ax.set_ylim(-len(PARTS) + 0.5, 0.5)
        ax.axis("off")
        ax.set_title(f"The course: {len(COURSE)} lessons, each with an exercise notebook of the "
                     "same name")
    return plots.finish(fig)


def line_figure(w: float = 1.0, b: float = 0.0) -> Figure:
    """The line y = w x + b on x in [-3, 3], with the point at x = 1 marked and labelled,
    and the equation as the title.

    ``fig.parts`` holds the line, the point, its label and the title: the only artists
    ``update_line`` changes. The axes, their limits and ticks never move, so the widget
    draws them once and then redraws just these four over them (``line_artists``)."""
    x = np.linspace(-3, 3, 61)
    with plots.style():
        fig, ax = plots.subplots("small")
        ax.axhline(0, color="#cbd5e0", lw=1)
        ax.axvline(0, color="#cbd5e0", lw=1)
        (line,) = ax.plot(x, w * x + b, color=plots.CLASS_COLORS[0], lw=2.5)
        (point,) = ax.plot([1], [w + b], "o", color=plots.ACCENT, ms=9)
        label = ax.annotate("", (1, w + b), xytext=(-10, 0), textcoords="offset points",
                            ha="right", fontsize=11)
        ax.set_xlim(-3, 3)
        ax.set_ylim(-8, 8)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        title = ax.set_title(" ")
    fig.parts = SimpleNamespace(line=line, point=point, label=label, title=title)
    update_line(fig, w, b)
    return plots.finish(fig)


def update_line(fig: Figure, w: float = 1.0, b: float = 0.0) -> None:
    """Move the line and the point of a ``line_figure`` to y = w x + b."""
    parts = fig.parts
    parts.line.set_ydata(w * parts.line.get_xdata() + b)
    parts.point.set_ydata([w + b])
    parts.title.set_text(equation(w, b))
    # the point's label, left of it, on the side the line leaves free: above where the
    # line rises to the right (it runs below on the left), below where it falls
    parts.label.xy = (1, w + b)
    parts.label.set_text(f"at x = 1: y = {w + b:.1f}")
    parts.label.set_va("bottom" if w >= 0 else "top")
    parts.label.xyann = (-10, 4 if w >= 0 else -4)


def line_artists(fig: Figure) -> list:
    """What a move of the sliders changes in a ``line_figure``: everything else is drawn
    once and kept as the background."""
    parts = fig.parts
    return [parts.line, parts.point, parts.label, parts.title]


def equation(w: float, b: float) -> str:
    """``'y = 1.5 x - 1.0'``: the line's equation, one decimal."""
    return f"y = {w:.1f} x {'-' if b < 0 else '+'} {abs(b):.1f}"


def line_label(w: float, b: float) -> str:
    """The text the first widget's label shows."""
    slope = "rises" if w > 0 else ("falls" if w < 0 else "is flat")
    return f"{equation(w, b)}: the line {slope}, and crosses the y axis at {b:.1f}"


def first_widget():
    """Two sliders (w, b) that change a label and a small plot: if you can move
    them and see both change, widgets work in your JupyterLab."""
    import ipywidgets as widgets

    w = widgets.FloatSlider(value=1.0, min=-2.0, max=2.0, step=0.1, description="weight w",
                            style=plots.slider_style())
    b = widgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.5, description="bias b",
                            style=plots.slider_style())
    label = widgets.Label(value=line_label(w.value, b.value))

    def relabel(_change=None):
        label.value = line_label(w.value, b.value)

    w.observe(relabel, names="value")
    b.observe(relabel, names="value")
    plot = plots.interactive_figure(line_figure, {"w": w, "b": b}, update=update_line,
                                    animated=line_artists, continuous=True,
                                    name="start.first_widget")
    return widgets.VBox([label, plot])
