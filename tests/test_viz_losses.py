"""dlcore.viz.losses: MSE squares and softmax bars reflect their inputs."""
from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from dlcore.viz import losses

matplotlib.use("Agg")


def test_mse_figure_reports_the_engines_mse_and_draws_one_square_per_point():
    x = np.array([0.0, 1.0, 2.0])
    y = np.array([1.0, 1.0, 4.0])
    fig = losses.mse_figure(1.0, 0.0, x, y)      # errors -1, 0, -2: MSE 5/3
    ax, ax_loss = fig.axes
    assert "1.667" in ax.get_title()
    sides = sorted(abs(p.get_height()) for p in ax.patches)
    np.testing.assert_allclose(sides, [0.0, 1.0, 2.0])
    np.testing.assert_allclose([abs(p.get_width()) for p in ax.patches],
                               [abs(p.get_height()) for p in ax.patches])
    marker = ax_loss.get_lines()[-1]
    assert marker.get_xdata()[0] == 1.0 and marker.get_ydata()[0] == pytest.approx(5 / 3)
    slopes, curve = ax_loss.get_lines()[0].get_data()
    assert slopes[np.argmin(curve)] == pytest.approx(1.8, abs=0.06)   # least squares, b = 0


def test_softmax_bars_are_the_probabilities_and_sum_to_one():
    fig = losses.softmax_figure([2.0, 1.0, 0.1], target=1)
    ax_z, ax_p, ax_loss = fig.axes
    heights = np.array([bar.get_height() for bar in ax_p.patches])
    e = np.exp([2.0, 1.0, 0.1])
    np.testing.assert_allclose(heights, e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose([bar.get_height() for bar in ax_z.patches], [2.0, 1.0, 0.1])
    loss = -np.log(e[1] / e.sum())
    assert f"{loss:.3f}" in ax_loss.get_title()
    assert ax_loss.get_lines()[-1].get_ydata()[0] == pytest.approx(loss, rel=1e-6)


def test_softmax_figure_highlights_the_target_and_survives_huge_logits():
    fig = losses.softmax_figure([1000.0, 0.0, -1000.0], target=2)
    ax_p = fig.axes[1]
    colours = [bar.get_facecolor() for bar in ax_p.patches]
    assert colours[2] != colours[0] and colours[0] == colours[1]
    np.testing.assert_allclose([b.get_height() for b in ax_p.patches], [1.0, 0.0, 0.0])
    assert "2000.000" in fig.axes[2].get_title()
    with pytest.raises(ValueError, match="target must be a class index"):
        losses.softmax_figure([1.0, 2.0], target=2)


def test_softmax_explorer_moves_bars_and_loss_with_each_logit_and_the_target():
    import ipywidgets as widgets

    from dlcore.viz import widgets as vw

    box = losses.softmax_explorer(num_classes=4)
    fig = box.view.fig
    sliders = [vw.find_control(box, f"logit z{c}") for c in range(4)]
    assert all(isinstance(s, widgets.FloatSlider) and s.continuous_update for s in sliders)
    before = vw.image_array(box).copy()
    for s, v in zip(sliders, [1.0, 3.0, 0.0, -1.0], strict=True):
        s.value = v
    vw.find_control(box, "true class").value = 1
    assert box.view.fig is fig
    e = np.exp([1.0, 3.0, 0.0, -1.0])
    np.testing.assert_allclose([b.get_height() for b in fig.axes[1].patches], e / e.sum(),
                               rtol=1e-6)
    loss = -np.log(e[1] / e.sum())
    assert f"{loss:.3f}" in fig.axes[2].get_title()
    colours = [b.get_facecolor() for b in fig.axes[1].patches]
    assert colours[1] != colours[0] == colours[2] == colours[3]
    assert (vw.image_array(box) != before).any()


def test_mse_explorer_moves_the_line_the_squares_and_the_curve():
    from dlcore.viz import widgets as vw

    x = np.array([0.0, 1.0, 2.0])
    y = np.array([1.0, 1.0, 4.0])
    box = losses.mse_explorer(x, y)
    fig = box.view.fig
    ax, ax_loss = fig.axes
    ylim = ax_loss.get_ylim()
    before = vw.image_array(box).copy()
    vw.find_control(box, "slope w").value = 1.0
    vw.find_control(box, "intercept b").value = 1.0     # errors 0, 1, -1: MSE 2/3
    assert box.view.fig is fig
    assert "0.667" in ax.get_title()
    np.testing.assert_allclose(sorted(abs(p.get_height()) for p in ax.patches), [0, 1, 1])
    slopes, curve = fig.parts.curve.get_data()
    assert slopes[np.argmin(curve)] == pytest.approx(1.2, abs=0.06)   # least squares, b = 1
    assert "fixed at +1.00" in fig.parts.marker_legend.get_texts()[0].get_text()
    assert ax_loss.get_ylim() == ylim                   # the loss axis holds still
    assert (vw.image_array(box) != before).any()


@pytest.mark.parametrize("make, control, value", [
    (lambda: losses.softmax_explorer(3), "logit z0", -2.0),
    (lambda: losses.mse_explorer(np.arange(10.0), np.arange(10.0)), "intercept b", 1.5),
])
def test_each_move_is_fast_in_the_kernel(make, control, value):
    import time

    from dlcore.viz import widgets as vw

    box = make()
    t0 = time.process_time()   # CPU time: a loaded machine does not fail it
    vw.find_control(box, control).value = value
    assert time.process_time() - t0 < 0.5      # gross-regression guard


@pytest.mark.parametrize("make, moves", [
    (lambda: losses.softmax_explorer(3), [("true class", 1), ("logit z2", 5.0)]),
    (lambda: losses.mse_explorer(np.arange(5.0), np.arange(5.0) ** 1.5),
     [("slope w", 2.5), ("intercept b", -1.0), ("slope w", 1.0)]),
])
def test_blitted_frames_equal_a_full_redraw(make, moves):
    from dlcore.viz import widgets as vw

    box = make()
    for control, value in moves:
        vw.find_control(box, control).value = value
    blitted = vw.image_array(box).copy()
    box.view.show()
    np.testing.assert_array_equal(vw.image_array(box), blitted)
