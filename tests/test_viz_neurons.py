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
    from matplotlib.collections import LineCollection

    units = [c for c in ax.collections if not isinstance(c, LineCollection)]
    assert [len(c.get_offsets()) for c in units] == [3, 5, 5, 2]
    count = 3 * 5 + 5 + 5 * 5 + 5 + 5 * 2 + 2
    assert f"{count} parameters" in ax.get_title()


def test_neuron_explorer_moves_the_line_and_recolours_the_surface_in_place():
    from dlcore.viz import widgets as vw

    box = neurons.neuron_explorer(X, Y)
    fig = box.view.fig
    before = vw.image_array(box).copy()
    surface = fig.parts.image.get_array().copy()
    vw.find_control(box, "bias b").value = -1.0          # w = (1, 0.5): x1 + 0.5 x2 = 1
    assert box.view.fig is fig
    x, y = _line(fig).get_data()
    np.testing.assert_allclose(np.asarray(x) + 0.5 * np.asarray(y), 1.0, atol=1e-6)
    assert (vw.image_array(box) != before).any()
    vw.find_control(box, "weight w2").value = 1.0
    assert "100%" in fig.axes[1].get_title()             # x1 + x2 = 1 splits the classes
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "= 1.0" in texts and "b = -1.0" in texts
    line_before = np.array(_line(fig).get_data())
    vw.find_control(box, "activation").value = nn.ReLU
    relu = fig.parts.image.get_array()
    assert relu.min() == 0.0 and not np.allclose(relu, surface)
    assert "ReLU" in " ".join(t.get_text() for t in fig.axes[0].texts)
    norm = fig.parts.image.norm
    assert norm.vmin + norm.vmax == 0.0                  # white on the line: ReLU(0) = 0
    np.testing.assert_allclose(_line(fig).get_data(), line_before)   # f does not move it


def test_neuron_explorer_blits_the_same_picture_a_full_redraw_gives():
    from dlcore.viz import widgets as vw

    box = neurons.neuron_explorer(X, Y)
    fig = box.view.fig
    colorbar = fig.axes[2]
    ticks = colorbar.get_yticks().copy()
    for control, value in (("weight w1", -1.0), ("bias b", 0.5), ("activation", nn.Tanh),
                           ("weight w2", 2.0), ("activation", nn.ReLU),
                           ("activation", nn.Identity), ("weight w1", 3.0)):
        vw.find_control(box, control).value = value
        blitted = vw.image_array(box).copy()
        box.view.show()          # a full redraw, colour bar and all: the same picture
        np.testing.assert_array_equal(vw.image_array(box), blitted)
    assert box.view.fig is fig and fig.parts.colorbar_axis in box.view.animated
    assert box.view.widget.format == "jpeg"             # the colour surface: JPEG
    assert not np.array_equal(colorbar.get_yticks(), ticks)   # a linear unit's new scale


def test_network_builder_redraws_the_diagram_for_new_widths():
    from matplotlib.collections import LineCollection

    from dlcore.viz import widgets as vw

    box = neurons.network_builder()
    fig = box.view.fig
    before = vw.image_array(box).copy()
    vw.find_control(box, "hidden layers").value = 2
    vw.find_control(box, "units per hidden layer").value = 5
    vw.find_control(box, "input units").value = 3
    vw.find_control(box, "output units").value = 2
    assert box.view.fig is fig
    ax = fig.axes[0]
    assert [len(c.get_offsets()) for c in ax.collections
            if not isinstance(c, LineCollection)] == [3, 5, 5, 2]
    (edges,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(edges.get_segments()) == 3 * 5 + 5 * 5 + 5 * 2     # one line per weight
    count = 3 * 5 + 5 + 5 * 5 + 5 + 5 * 2 + 2
    assert ax.get_title().startswith(f"{count} parameters")
    assert (vw.image_array(box) != before).any()
    vw.find_control(box, "hidden activation").value = nn.Tanh
    assert "Tanh" in " ".join(t.get_text() for t in ax.texts)


@pytest.mark.parametrize("make, control, value", [
    (lambda: neurons.neuron_explorer(X, Y), "weight w1", 2.0),
    (neurons.network_builder, "units per hidden layer", 12),
])
def test_each_move_is_fast_in_the_kernel(make, control, value):
    import time

    from dlcore.viz import widgets as vw

    box = make()
    t0 = time.process_time()   # CPU time: a loaded machine does not fail it
    vw.find_control(box, control).value = value
    assert time.process_time() - t0 < 0.5      # gross-regression guard
