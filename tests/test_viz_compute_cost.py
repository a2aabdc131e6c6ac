"""Lesson 09's batching figure draws time per example and the arithmetic rate from
the times it is given, one styled line per layer, and refuses mismatched input."""
from __future__ import annotations

import numpy as np
import pytest

from dlcore.viz import compute_cost


def test_batch_figure_divides_by_the_batch_and_counts_backward_twice():
    sizes = (1, 10)
    fig = compute_cost.batch_figure(sizes, {"a": [1e-3, 2e-3], "b": [1e-3, 1e-3]},
                                    {"a": 1e6, "b": 2e6})
    per_example, rate = fig.axes
    np.testing.assert_allclose(per_example.lines[0].get_ydata(), [1000.0, 200.0])
    np.testing.assert_allclose(rate.lines[1].get_ydata(), [3 * 2e6 / 1e-3 / 1e9,
                                                          3 * 2e6 * 10 / 1e-3 / 1e9])
    assert per_example.lines[0].get_linestyle() != per_example.lines[1].get_linestyle()


def test_batch_figure_refuses_bad_input():
    with pytest.raises(ValueError, match="no layers"):
        compute_cost.batch_figure((1, 2), {}, {})
    with pytest.raises(ValueError, match="2 batch sizes"):
        compute_cost.batch_figure((1, 2), {"a": [1.0]}, {"a": 1.0})
