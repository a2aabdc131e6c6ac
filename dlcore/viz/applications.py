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

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from . import plots

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


def _box(ax, x, y, text, color, w=2.3, h=0.72):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, fc="white", ec=color, lw=1.8,
                                boxstyle="round,pad=0.02,rounding_size=0.12"))
    ax.text(x, y, text, ha="center", va="center", fontsize=9.5)


def overview_figure() -> Figure:
    """One row per application: its input, its network and its output, and
    the loss that trains it written under the network."""
    losses = ("cross-entropy", "cross-entropy", "cross-entropy per step", "mean squared error",
              "cross-entropy", "cross-entropy", "cross-entropy", "cross-entropy")
    with plots.style():
        fig, ax = plots.subplots("wide")
        fig.set_size_inches(10.0, 0.95 * len(APPLICATIONS) + 0.9)
        columns = {"input": 3.0, "network": 6.0, "output": 9.0}
        top = 1.1 * len(APPLICATIONS)
        for name, x in columns.items():
            ax.text(x, top + 0.75, name, ha="center", fontsize=12, weight="bold")
        for row, ((title, x_in, net, out), loss) in enumerate(zip(APPLICATIONS, losses,
                                                                  strict=True)):
            y = top - row * 1.1
            color = plots.CLASS_COLORS[row % len(plots.CLASS_COLORS)]
            ax.text(0.05, y, title, ha="left", va="center", fontsize=11, weight="bold")
            _box(ax, columns["input"], y, x_in, "0.55")
            _box(ax, columns["network"], y, net, color)
            _box(ax, columns["output"], y, out, "0.55")
            ax.text(columns["network"], y - 0.47, f"trained on {loss}", ha="center",
                    va="center", fontsize=8, color="0.35")
            for a, b in ((columns["input"] + 1.15, columns["network"] - 1.15),
                         (columns["network"] + 1.15, columns["output"] - 1.15)):
                ax.add_patch(FancyArrowPatch((a, y), (b, y), arrowstyle="-|>",
                                             mutation_scale=13, color="0.35", lw=1.4))
        ax.set_xlim(0, 10.3)
        ax.set_ylim(top - 1.1 * len(APPLICATIONS) + 0.5, top + 1.1)
        ax.axis("off")
        ax.set_title("eight applications, one recipe: data, a network, a loss, training")
    return plots.finish(fig)
