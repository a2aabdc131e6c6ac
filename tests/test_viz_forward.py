"""dlcore.viz.forward: activations with their derivatives, and the grid warp."""
from __future__ import annotations

import matplotlib
import numpy as np
import pytest

import dlcore
from dlcore import nn
from dlcore.viz import forward

matplotlib.use("Agg")


@pytest.mark.parametrize("make, f, df", [
    (nn.Sigmoid, lambda x: 1 / (1 + np.exp(-x)), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
    (nn.Tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    (nn.ReLU, lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float)),
])
def test_activation_and_derivative_come_from_forward_and_backward(make, f, df):
    x = np.linspace(-4, 4, 17) + 0.01
    y, dy = forward.activation_and_derivative(make(), x)
    np.testing.assert_allclose(y, f(x), rtol=1e-9)
    np.testing.assert_allclose(dy, df(x), rtol=1e-9, atol=1e-12)


def test_activation_figure_marks_the_chosen_point():
    fig = forward.activation_figure(nn.Sigmoid, x0=2.0, x_range=(-5.0, 5.0))
    ax_f, ax_d = fig.axes
    s = 1 / (1 + np.exp(-2.0))
    assert ax_f.get_lines()[-1].get_ydata()[0] == pytest.approx(s)
    assert ax_d.get_lines()[-1].get_ydata()[0] == pytest.approx(s * (1 - s))
    assert "f(2.00) = 0.881" in ax_f.get_title()
    assert "f'(2.00) = 0.105" in ax_d.get_title()
    assert ax_f.get_xlim() == (-5.0, 5.0)


def test_activation_figure_survives_an_empty_range():
    fig = forward.activation_figure(nn.Tanh, x0=6.0, x_range=(6.0, 6.0))
    assert fig.axes[0].get_xlim() == (6.0, 7.0)


def test_activation_figure_shades_saturation_only_where_the_derivative_is_tiny():
    fig = forward.activation_figure(nn.Tanh, x0=0.0, x_range=(-6.0, 6.0))
    shaded = fig.axes[1].collections[0].get_paths()
    xs = np.concatenate([p.vertices[:, 0] for p in shaded])
    # tanh' = 1 - tanh^2 < 0.05 where |x| > atanh(sqrt(0.95)) ~ 2.18
    assert np.abs(xs).min() == pytest.approx(np.arctanh(np.sqrt(0.95)), abs=0.04)
    fig = forward.activation_figure(forward.ACTIVATIONS[2][1], x0=1.0, x_range=(1.0, 3.0))
    assert not fig.axes[1].collections[0].get_paths()   # ReLU on x > 0 never saturates


def test_grid_lines_cover_the_box():
    lines = forward.grid_lines((0, 1, 0, 2), num_lines=3, points_per_line=5)
    assert lines.shape == (6, 5, 2)
    np.testing.assert_allclose(lines[1, :, 1], 1.0)     # middle horizontal line
    np.testing.assert_allclose(lines[4, :, 0], 0.5)     # middle vertical line


def test_grid_warp_figure_moves_the_data_through_the_chosen_layers():
    dlcore.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2))
    X = np.array([[0.0, 0.0], [1.0, -1.0], [-2.0, 0.5]], dtype=np.float32)
    y = np.array([0, 1, 1])
    for layer in range(len(model) + 1):
        fig = forward.grid_warp_figure(model, layer, X, y, num_lines=5)
        data = next(c for c in fig.axes[1].collections if c.get_label() == "data")
        expected = X if layer == 0 else model[:layer](X)
        np.testing.assert_allclose(data.get_offsets(), expected, rtol=1e-5, atol=1e-6)
        grid = [c for c in fig.axes[1].collections if c.get_label().endswith("lines")]
        assert [len(c.get_segments()) for c in grid] == [5, 5]
        segment = grid[0].get_segments()[2]                 # the middle horizontal line
        start = fig.axes[0].collections[0].get_segments()[2]
        np.testing.assert_allclose(segment, start if layer == 0 else model[:layer](start),
                                   rtol=1e-5, atol=1e-6)
    assert "after (1) Tanh()" in forward.grid_warp_figure(model, 2, X, y).axes[1].get_title()


def test_grid_warp_figure_rejects_wide_layers_and_bad_steps():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2))
    X = np.zeros((4, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="draws 2-D outputs"):
        forward.grid_warp_figure(model, 1, X)
    with pytest.raises(ValueError, match="between 0 and 3"):
        forward.grid_warp_figure(model, 4, X)


def test_activation_explorer_redraws_the_curves_for_each_control():
    from dlcore.viz import widgets as vw

    box = forward.activation_explorer()
    fig = box.view.fig
    ax_f, ax_d = fig.axes
    before = vw.image_array(box).copy()
    vw.find_control(box, "activation function").value = nn.Tanh
    assert box.view.fig is fig
    x, y = fig.parts.f_line.get_data()
    np.testing.assert_allclose(y, np.tanh(x), rtol=1e-9)
    assert ax_f.get_title().startswith("tanh:") and (vw.image_array(box) != before).any()
    vw.find_control(box, "marker at input x").value = 0.0
    assert "f'(0.00) = 1.000" in ax_d.get_title()
    np.testing.assert_allclose(fig.parts.guides[0].get_xdata(), [0.0, 0.0])
    vw.find_control(box, "input range shown").value = (-1.0, 1.0)
    assert ax_f.get_xlim() == (-1.0, 1.0)
    assert not fig.parts.legend.get_visible()        # tanh' > 5% of its peak on [-1, 1]
    vw.find_control(box, "input range shown").value = (-10.0, 10.0)
    assert fig.parts.legend.get_visible()
    assert fig.parts.legend in fig.legends           # under the axes, never over a curve
    assert len(ax_d.collections) == 1                # the old shading was replaced


def test_grid_warp_explorer_moves_the_points_to_each_step():
    from dlcore.viz import widgets as vw

    dlcore.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2))
    X = np.array([[0.0, 0.0], [1.0, -1.0], [-2.0, 0.5]], dtype=np.float32)
    box = forward.grid_warp_explorer(model, X, np.array([0, 1, 1]), classifier=True)
    fig = box.view.fig
    slider = vw.find_control(box, "modules applied")
    before = vw.image_array(box).copy()
    for layer in (1, 2, 3):
        slider.value = layer
        assert box.view.fig is fig
        data = next(c for c in fig.axes[1].collections if c.get_label() == "data")
        np.testing.assert_allclose(data.get_offsets(), model[:layer](X), rtol=1e-5, atol=1e-6)
        assert fig.parts.legend.get_visible() == (layer == 3)   # the decision line, last only
    assert fig.axes[1].get_title() == "after (2) Linear(2 -> 2)"
    assert (vw.image_array(box) != before).any()
    # A move redraws the right panel and the title over the input plane drawn once:
    # the picture is the one a full redraw of the same state gives, pixel for pixel.
    slider.value = 1
    moved = vw.image_array(box).copy()
    box.view.show()
    np.testing.assert_array_equal(moved, vw.image_array(box))


@pytest.mark.parametrize("control, value", [("activation function", nn.ReLU),
                                            ("marker at input x", -2.0),
                                            ("input range shown", (-3.0, 9.0))])
def test_activation_explorer_moves_are_fast_in_the_kernel(control, value):
    import time

    from dlcore.viz import widgets as vw

    box = forward.activation_explorer()
    t0 = time.process_time()   # CPU time: a loaded machine does not fail it
    vw.find_control(box, control).value = value
    assert time.process_time() - t0 < 0.5      # gross-regression guard


def test_grid_warp_figure_draws_the_decision_line_after_the_last_module_only():
    dlcore.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2))
    X = np.array([[0.0, 0.0], [1.0, -1.0]], dtype=np.float32)
    last = forward.grid_warp_figure(model, 3, X, classifier=True)
    line = next(l for l in last.axes[1].get_lines() if l.get_label().startswith("decision"))
    np.testing.assert_allclose(line.get_xdata(), line.get_ydata())   # score 1 = score 0
    middle = forward.grid_warp_figure(model, 2, X, classifier=True)
    assert not [l for l in middle.axes[1].get_lines()
                if l.get_label().startswith("decision") and len(l.get_xdata())]
    assert not middle.parts.legend.get_visible()


def test_activations_overview_plots_the_three_classics_and_their_slopes():
    fig = forward.activations_overview((-2.0, 2.0))
    ax_f, ax_d = fig.axes
    assert [l.get_label() for l in ax_f.get_lines()[:3]] == ["sigmoid", "tanh", "ReLU"]
    x, dsig = ax_d.get_lines()[0].get_data()
    assert dsig.max() == pytest.approx(0.25) and x[np.argmax(dsig)] == pytest.approx(0.0)
    x, drelu = ax_d.get_lines()[2].get_data()
    np.testing.assert_array_equal(drelu, (x > 0).astype(float))


def test_shapes_figure_labels_every_array_with_its_shape():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    fig = forward.shapes_figure(model, batch_size=5)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert [t for t in texts if "(" in t and "," in t and "->" not in t] == [
        "X (5, 3)", "h1 (5, 4)", "h2 (5, 4)", "y_hat (5, 2)"]
    assert "Linear(3 -> 4)" in texts and "ReLU()" in texts
    from matplotlib.patches import Rectangle

    boxes = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert len(fig.axes[0].patches) == len(boxes) + 3       # an arrow between neighbours
    assert [round(b.get_width() / boxes[0].get_width() * 3) for b in boxes] == [3, 4, 4, 2]


def test_activation_explorer_blits_the_marker_as_a_full_redraw_draws_it():
    from dlcore.viz import widgets as vw

    box = forward.activation_explorer()
    for control, value in (("activation function", nn.Tanh), ("marker at input x", -3.0),
                           ("marker at input x", 0.5)):
        vw.find_control(box, control).value = value
    blitted = vw.image_array(box).copy()
    box.view.show()
    np.testing.assert_array_equal(vw.image_array(box), blitted)
