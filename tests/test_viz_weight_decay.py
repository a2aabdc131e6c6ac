"""Lesson 10's weight-decay figure draws every run in both panels, each with its own
line style, and weight_norm measures the weights only."""
from __future__ import annotations

import numpy as np
import pytest

from dlcore import nn
from dlcore.train import History
from dlcore.viz import weight_decay as wd


def _history(values):
    h = History()
    for epoch, v in enumerate(values, start=1):
        h.append(epoch, {"loss": v, "val_loss": v + 0.1})
    return h


def test_weight_norm_counts_weights_not_biases():
    layer = nn.Linear(2, 2)
    layer.weight.data[:] = [[3.0, 0.0], [0.0, 4.0]]
    layer.bias.data[:] = 100.0
    assert wd.weight_norm(nn.Sequential(layer)) == pytest.approx(5.0)


def test_decay_figure_draws_each_run_twice_with_distinct_styles():
    runs = {"a": (_history([1.0, 0.5, 0.4]), np.array([1.0, 2.0, 3.0])),
            "b": (_history([1.0, 0.6, 0.5]), np.array([1.0, 1.5, 1.7]))}
    fig = wd.decay_figure(runs)
    left, right = fig.axes
    assert len(left.lines) == len(right.lines) == 2
    assert left.lines[0].get_linestyle() != left.lines[1].get_linestyle()
    np.testing.assert_allclose(right.lines[1].get_ydata(), [1.0, 1.5, 1.7])


def test_decay_figure_refuses_nothing_to_draw():
    with pytest.raises(ValueError, match="no runs"):
        wd.decay_figure({})
