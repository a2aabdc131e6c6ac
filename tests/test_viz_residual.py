"""Lesson 07's residual figure draws the numbers it is given, one style per network."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from dlcore.viz import residual  # noqa: E402


def test_each_network_keeps_its_colour_and_style_in_every_panel():
    signal = {"plain": [1.0, 0.5, 0.25], "residual": [1.0, 1.5, 2.0]}
    gradient = {"plain": [1e-6, 1e-3, 1.0], "residual": [4.0, 4.0, 4.0]}
    losses = {"shallow": [2.3, 1.0], "plain": [2.3, 2.3], "residual": [2.2, 0.3]}
    fig = residual.residual_figure(signal, gradient, losses)
    assert len(fig.axes) == 3
    styles = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            if line.get_label().startswith("_"):
                continue
            style = (line.get_color(), line.get_linestyle(), line.get_marker())
            assert styles.setdefault(line.get_label(), style) == style
    assert set(styles) == {"shallow", "plain", "residual"}
    assert len(set(styles.values())) == 3
    plotted = [line for line in fig.axes[1].get_lines() if line.get_label() == "plain"][0]
    np.testing.assert_allclose(plotted.get_ydata(), gradient["plain"])
    assert fig.axes[2].get_ylim()[1] >= np.log(10)


def test_the_loss_panel_counts_whole_epochs():
    fig = residual.residual_figure({"plain": [1.0, 0.5]}, {"plain": [1e-6, 1.0]},
                                   {"plain": [2.3, 2.0], "residual": [2.0, 0.6]})
    fig.canvas.draw()
    ticks = [t for t in fig.axes[2].get_xticks() if 1 <= t <= 2]
    assert ticks == [1, 2]                                 # no epoch 1.2, 1.4, ...
