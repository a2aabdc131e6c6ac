"""dlcore.viz.neurons: a neuron's decision line and network diagrams."""
from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from dlcore import nn
from dlcore.viz import neurons

matplotlib.use("Agg")

X = np.array([[-2.0, -1.0], [-1.0, -2.0], [2.0, 1.0], [1.0, 2.0]], dtype=np.float32)
Y = np.array([0, 0, 1, 1])


def test_make_neuron_computes_activation_of_weighted_sum():
    neuron = neurons.make_neuron(2.0, -1.0, 0.5, nn.Sigmoid)
    x = np.array([[1.0, 3.0]], dtype=np.float32)
    z = 2.0 * 1.0 - 1.0 * 3.0 + 0.5
    np.testing.assert_allclose(neuron(x), [[1 / (1 + np.exp(-z))]], rtol=1e-6)


@pytest.mark.parametrize("w1, w2, b", [(1.0, 1.0, 0.0), (2.0, -1.0, 0.5), (0.0, 1.0, -1.0),
                                      (1.0, 0.0, 0.5)])
def test_decision_line_lies_on_z_equals_zero_inside_the_box(w1, w2, b):
    ends = neurons.decision_line(w1, w2, b, (-3, 3, -3, 3))
    assert ends.shape == (2, 2)
    np.testing.assert_allclose(ends @ [w1, w2] + b, 0, atol=1e-9)
    assert np.all(np.abs(ends) <= 3 + 1e-9)
    assert np.linalg.norm(ends[0] - ends[1]) > 0


def test_decision_line_is_none_when_it_misses_the_box():
    assert neurons.decision_line(1.0, 0.0, -10.0, (-3, 3, -3, 3)) is None
    assert neurons.decision_line(0.0, 0.0, 1.0, (-3, 3, -3, 3)) is None


def _line(fig):
    return next(l for l in fig.axes[1].get_lines() if l.get_label() == "decision line")


def test_neuron_figure_moves_the_line_with_the_bias():
    fig = neurons.neuron_figure(1.0, 1.0, 0.0, nn.Sigmoid, X, Y)
    x, y = _line(fig).get_data()
    np.testing.assert_allclose(np.asarray(x) + np.asarray(y), 0.0, atol=1e-6)
    fig = neurons.neuron_figure(1.0, 1.0, -1.0, nn.Tanh, X, Y)
    x, y = _line(fig).get_data()
    np.testing.assert_allclose(np.asarray(x) + np.asarray(y), 1.0, atol=1e-6)
    assert "100%" in fig.axes[1].get_title()


def test_neuron_figure_reports_how_many_points_the_line_gets_right():
    fig = neurons.neuron_figure(-1.0, -1.0, 0.0, nn.Sigmoid, X, Y)   # w points the wrong way
    assert "puts 0% of" in fig.axes[1].get_title()
    fig = neurons.neuron_figure(1.0, 0.0, 1.5, nn.ReLU, X, Y)       # x1 = -1.5: 3 of 4
    assert "puts 75% of" in fig.axes[1].get_title()


def test_neuron_figure_draws_the_numbers_in_the_diagram():
    fig = neurons.neuron_figure(1.5, -0.5, 0.3, nn.ReLU, X, Y)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "= 1.5" in texts and "= -0.5" in texts and "b = 0.3" in texts and "ReLU" in texts


def test_build_network_and_its_figure():
    model = neurons.build_network(3, [5, 4], 2, nn.Tanh)
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    fig = neurons.network_figure(3, 2, 5, 2, nn.Tanh)
    ax = fig.axes[0]
    assert [len(c.get_offsets()) for c in ax.collections] == [3, 5, 5, 2]
    count = 3 * 5 + 5 + 5 * 5 + 5 + 5 * 2 + 2
    assert f"{count} parameters" in ax.get_title()


def test_explorers_build_with_sliders_and_an_output():
    import ipywidgets as widgets

    for box in (neurons.neuron_explorer(X, Y), neurons.network_builder()):
        controls = [c for row in box.children[:-1] for c in row.children]
        assert any(isinstance(c, widgets.FloatSlider | widgets.IntSlider) for c in controls)
        assert isinstance(box.children[-1], widgets.Output)
