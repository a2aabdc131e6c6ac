"""Lesson 12's overview: eight applications, one recipe.

    from dlcore.viz import applications
    applications.overview_figure()        # input -> network -> output, for each application

The applications themselves live one per module: ``draw`` (handwriting),
``diagnosis`` (breast cancer), ``textgen`` (a character LSTM), ``recommender``
(embeddings) and ``sounds`` (spectrograms); the video, game and fraud
experiments are written in the lesson's cells, drawn by ``video``, ``games`` and
``fraud``.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from matplotlib.figure import Figure

from . import plots
from .widgets import FigureView

# (application, what goes in, the network, what comes out)
APPLICATIONS = (
    ("read handwriting", "an 8x8 image\n(N, 1, 8, 8)", "CNN: Conv2d, MaxPool2d,\nLinear",
     "10 probabilities:\nwhich digit"),
    ("diagnose a tumour", "30 measurements\n(N, 30)", "MLP: Linear, ReLU,\nLinear",
     "P(malignant),\nthen a threshold"),
    ("write text", "characters as ids\n(N, T)", "Embedding, LSTM,\nLinear",
     "P(next character),\nthen sample"),
    ("recommend films", "(user, film) ids\n(N, 2)", "two Embedding tables,\na dot product",
     "a rating, 1 to 5 stars"),
    ("hear intonation", "a sound -> its\nspectrogram (32, 32)",
     "CNN: 2 x (Conv2d,\nMaxPool2d), Linear", "4 probabilities:\nrising, falling, ..."),
    ("see motion", "a clip of 6 frames\n(N, 6, 1, 12, 12)", "a CNN on each frame,\nthen an RNN",
     "4 probabilities:\nwhich direction"),
    ("play a game", "a tic-tac-toe board\n(N, 9)", "MLP: Linear, ReLU,\nLinear",
     "P(X wins, draw, O wins),\nthen the best move"),
    ("flag fraud", "6 numbers about\na payment (N, 6)", "MLP: Linear, ReLU,\nLinear",
     "P(fraud),\nthen a threshold"),
)


def overview_figure() -> Figure:
    """One row per application: its input, its network and its output, and
    the loss that trains it written under the network."""
    losses = ("cross-entropy", "cross-entropy", "cross-entropy per step", "mean squared error",
              "cross-entropy", "cross-entropy", "cross-entropy", "cross-entropy")
    with plots.style():
        fig, ax = plots.subplots("wide")
        fig.set_size_inches(10.0, 0.95 * len(APPLICATIONS) + 0.9)     # "wide", a row each
        columns = {"input": 3.0, "network": 6.0, "output": 9.0}
        top = 1.1 * len(APPLICATIONS)
        for name, x in columns.items():
            ax.text(x, top + 0.75, name, ha="center", fontsize=12, weight="bold")
        for row, ((title, x_in, net, out), loss) in enumerate(zip(APPLICATIONS, losses,
                                                                  strict=True)):
            y = top - row * 1.1
            color = plots.CLASS_COLORS[row % len(plots.CLASS_COLORS)]
            ax.text(0.05, y, title, ha="left", va="center", fontsize=11, weight="bold")
            for column, text, edge in (("input", x_in, "0.55"), ("network", net, color),
                                       ("output", out, "0.55")):
                plots.box(ax, columns[column], y, text, color=edge, w=2.3, h=0.72,
                          fontsize=9.5, rounding=0.12)
            ax.text(columns["network"], y - 0.47, f"trained on {loss}", ha="center",
                    va="center", fontsize=8, color="0.35")
            for a, b in ((columns["input"] + 1.15, columns["network"] - 1.15),
                         (columns["network"] + 1.15, columns["output"] - 1.15)):
                plots.arrow(ax, (a, y), (b, y), lw=1.4)
        ax.set_xlim(0, 10.3)
        ax.set_ylim(top - 1.1 * len(APPLICATIONS) + 0.5, top + 1.1)
        ax.axis("off")
        ax.set_title("eight applications, one recipe: data, a network, a loss, training")
    return plots.finish(fig)


def live_figure(draw: Callable[..., Figure], controls: dict,
                update: Callable[..., None], animated: Callable[[Figure], Iterable], *,
                columns: int = 3, name: str = ""):
    """Like ``plots.interactive_figure`` with ``update``, for figures whose moving parts
    can be redrawn alone: ``animated(fig)`` lists them (lines, images, bars, titles, an
    axis whose limits change); the rest is drawn once and kept as a background, and a
    move redraws only those artists over it (``FigureView.frame``, blitting). Used by
    lesson 12's widgets; the returned VBox has ``.view``, ``.controls``, ``.redraw``."""
    import ipywidgets as widgets

    fig = draw(**{key: c.value for key, c in controls.items()})
    view = FigureView(fig, animated=animated(fig), name=name or getattr(draw, "__qualname__", ""))
    view.show(control="(first)")

    def redraw(change=None) -> None:
        owner = change.get("owner") if isinstance(change, dict) else None
        start = time.perf_counter()
        update(view.fig, **{key: c.value for key, c in controls.items()})
        view.frame(control=next((k for k, c in controls.items() if c is owner), ""),
                   compute_ms=1e3 * (time.perf_counter() - start))

    start = time.perf_counter()
    view.frame(control="(timing)")
    continuous = time.perf_counter() - start < 0.06        # follow the drag if cheap
    for control in controls.values():
        if hasattr(control, "continuous_update"):
            control.continuous_update = continuous
        control.observe(redraw, names="value")
    boxes = list(controls.values())
    rows = [widgets.HBox(boxes[i:i + columns]) for i in range(0, len(boxes), columns)]
    box = widgets.VBox([*rows, view.widget])
    box.view, box.controls, box.redraw = view, controls, redraw
    return box
