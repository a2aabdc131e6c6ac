"""The optimizer race uses the real optimizers and their paths behave as taught."""
from __future__ import annotations

from functools import partial

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from dlcore import numerical_gradient, optim, rel_error  # noqa: E402
from dlcore.viz import optimizers as vo  # noqa: E402

RACE_FIGURE = vo.race_figure      # the real one; the widget tests record its calls


@pytest.mark.parametrize("surface", vo.SURFACES, ids=lambda s: s.name.split(":")[0])
def test_surface_gradients_match_numerical(surface):
    p = np.array([0.7, -0.4])
    numeric = numerical_gradient(lambda: float(surface.f(p[0], p[1])), p)
    assert rel_error(surface.grad(p), numeric) < 1e-6


def test_adam_on_rosenbrock_gets_close_to_one_one():
    s = vo.ROSENBROCK
    path = vo.run_optimizer(s, partial(optim.Adam, lr=0.1), steps=500)
    start = np.linalg.norm(np.array(s.start) - 1)
    assert vo.distance_to_minimum(s, path) < 0.3 < start
    assert s.f(*path[-1]) < 0.05 * s.f(*np.array(s.start))


def test_path_is_exactly_what_the_optimizer_does():
    s = vo.RAVINE
    path = vo.run_optimizer(s, partial(optim.SGD, lr=0.1), steps=3)
    w = np.array(s.start)
    for k in range(1, 4):
        w = w - 0.1 * s.grad(w)
        np.testing.assert_allclose(path[k], w)


def test_momentum_beats_sgd_in_the_ravine_and_adaptive_methods_beat_both():
    s = vo.RAVINE
    paths = vo.race(s, vo.racers(s.lr_sgd, s.lr_adaptive), steps=100)
    d = {name: vo.distance_to_minimum(s, p) for name, p in paths.items()}
    assert d["SGD + momentum"] < d["SGD"]
    assert d["RMSprop"] < d["SGD"] and d["Adam"] < d["SGD"]
    assert all(len(p) == 101 for p in paths.values())


def test_plain_sgd_lingers_at_the_saddle():
    s = vo.SADDLE
    paths = vo.race(s, vo.racers(s.lr_sgd, s.lr_adaptive), steps=80)
    assert abs(paths["SGD"][-1, 1]) < 0.2          # still near w2 = 0, the saddle
    assert abs(paths["Adam"][-1, 1] - 1) < 0.2      # Adam is in the valley at w2 = 1


def test_too_large_a_learning_rate_diverges_and_stops_early():
    s = vo.ROSENBROCK
    path = vo.run_optimizer(s, partial(optim.SGD, lr=0.05), steps=200)
    assert len(path) < 201
    fig = vo.draw_race(s, {"SGD": path})
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"SGD: diverged at step {len(path) - 1}" in labels
    plt.close(fig)


def pixels(fig) -> np.ndarray:
    """The figure as the widget shows it: its rendered RGBA pixels."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


@pytest.mark.parametrize("surface", vo.SURFACES, ids=lambda s: s.name.split(":")[0])
def test_the_top_of_the_lr_sgd_range_diverges_late_enough_for_momentum_to_show(surface):
    # Above it SGD and momentum leave the plot within a step or two, the same way: on
    # Rosenbrock at lr 2 (the old top) both stopped at step 1 and momentum changed nothing.
    top = surface.lr_sgd_max
    sgd = vo.run_optimizer(surface, partial(optim.SGD, lr=top), surface.steps)
    assert 3 <= len(sgd) - 1 < surface.steps                # diverges, after a few steps
    shown = [pixels(vo.race_figure(surface, top, surface.lr_adaptive, momentum=m))
             for m in (0.5, 0.9, 0.99)]
    assert not np.array_equal(shown[0], shown[1])
    assert not np.array_equal(shown[1], shown[2])


@pytest.fixture
def race_widget(monkeypatch):
    """The optimizer race widget, its controls in the order they are on screen, and
    the list of (surface, settings) it draws, one entry per redraw."""
    pytest.importorskip("ipywidgets")
    drawn = []
    monkeypatch.setattr(vo, "race_figure",
                        lambda surface, **settings: drawn.append((surface, settings)))
    monkeypatch.setattr(vo, "_show", lambda fig: None)
    race = vo.optimizer_race()
    left, right = race.children[0].children
    surface, lr_sgd, lr_adaptive, steps = left.children
    momentum, beta1, beta2, noise = right.children
    controls = dict(lr_sgd=lr_sgd, lr_adaptive=lr_adaptive, steps=steps, momentum=momentum,
                    beta1=beta1, beta2=beta2, noise=noise)
    return surface, controls, drawn


def push_to_end(slider) -> None:
    """What the browser test does: End, or Home if the slider is already at its end."""
    log = hasattr(slider, "base")
    high = slider.base ** slider.max if log else slider.max
    low = slider.base ** slider.min if log else slider.min
    slider.value = low if slider.value >= high else high


@pytest.mark.parametrize("surface", [
    vo.ROSENBROCK,     # where momentum did nothing once lr SGD had been pushed to 2
    pytest.param(vo.RAVINE, marks=pytest.mark.slow),
    pytest.param(vo.SADDLE, marks=pytest.mark.slow),
], ids=lambda s: s.name.split(":")[0])
def test_every_race_control_changes_the_figure_one_after_the_other(surface, race_widget):
    # The widget's sliders, each pushed to its end in turn (as tests/browser does): each
    # move must change the figure, even with the earlier ones at their extremes.
    dropdown, controls, drawn = race_widget
    dropdown.value = surface
    before = pixels(RACE_FIGURE(surface, **drawn[-1][1]))
    for name, slider in controls.items():
        count = len(drawn)
        push_to_end(slider)
        assert len(drawn) == count + 1, f"moving {name} did not redraw once"
        shown, settings = drawn[-1]
        assert shown is surface and settings[name] == slider.value
        after = pixels(RACE_FIGURE(surface, **settings))
        assert not np.array_equal(before, after), f"moving {name} changed nothing"
        before = after


def test_choosing_a_surface_redraws_once_with_its_learning_rates_and_lr_sgd_range(
        race_widget):
    dropdown, controls, drawn = race_widget
    lr_sgd = controls["lr_sgd"]
    assert len(drawn) == 1 and drawn[0][0] is vo.ROSENBROCK      # drawn once when built
    for surface in (vo.RAVINE, vo.ROSENBROCK, vo.SADDLE, vo.ROSENBROCK):
        count = len(drawn)
        dropdown.value = surface
        assert len(drawn) == count + 1
        shown, settings = drawn[-1]
        assert shown is surface
        assert settings["lr_sgd"] == lr_sgd.value == pytest.approx(surface.lr_sgd)
        assert lr_sgd.base ** lr_sgd.max == pytest.approx(surface.lr_sgd_max)
        assert settings["lr_adaptive"] == pytest.approx(surface.lr_adaptive)
        assert settings["steps"] == surface.steps


def test_noise_changes_the_path_reproducibly():
    s = vo.RAVINE
    make = partial(optim.SGD, lr=0.3)
    a = vo.run_optimizer(s, make, 20, noise=0.5)
    b = vo.run_optimizer(s, make, 20, noise=0.5)
    c = vo.run_optimizer(s, make, 20)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_gd_on_parabola_follows_the_factor_one_minus_two_lr():
    for lr in (0.05, 0.3, 0.9, 1.05):
        path = vo.gd_on_parabola(lr, steps=5, start=2.0)
        np.testing.assert_allclose(path, 2.0 * (1 - 2 * lr) ** np.arange(6))
    assert vo.describe_lr(0.05).startswith("too small")
    assert vo.describe_lr(0.3) == "about right"
    assert vo.describe_lr(1.05).endswith("diverges")


def test_smaller_batches_take_more_steps_and_all_approach_the_line():
    paths = vo.minibatch_paths(batch_sizes=(200, 20), lr=0.1, epochs=3)
    assert len(paths[200]) == 4 and len(paths[20]) == 31
    start_loss = vo.regression_loss(np.array(-2.0), np.array(-2.0))
    end = {bs: vo.regression_loss(p[-1, 0], p[-1, 1]) for bs, p in paths.items()}
    assert end[20] < end[200] < start_loss


def test_figures_have_fixed_sizes():
    s = vo.SADDLE
    fig = vo.draw_race(s, vo.race(s, vo.racers(0.05, 0.05), steps=20))
    assert tuple(fig.get_size_inches()) == (12, 4.8)
    plt.close(fig)
    fig = vo.draw_learning_rates((0.3,))
    assert len(fig.axes) == 2
    plt.close(fig)


def test_widgets_build():
    pytest.importorskip("ipywidgets")
    assert vo.learning_rate_explorer().children
    assert vo.optimizer_race().children


def test_rmsprop_lands_on_the_aligned_ravine_but_not_the_turned_one():
    # Per-weight step sizes fit the axes: turned by 45 degrees, the ravine is no longer fixed.
    rms = partial(optim.RMSprop, lr=0.3)
    aligned = vo.run_optimizer(vo.RAVINE, rms, steps=100)
    turned = vo.run_optimizer(vo.ROTATED_RAVINE, rms, steps=100)
    assert vo.distance_to_minimum(vo.RAVINE, aligned) < 1e-6
    assert vo.distance_to_minimum(vo.ROTATED_RAVINE, turned) > 0.1
    # SGD has no favourite axes: the same distance on both.
    sgd = partial(optim.SGD, lr=0.9)
    assert vo.distance_to_minimum(vo.RAVINE, vo.run_optimizer(vo.RAVINE, sgd, 100)) == \
        pytest.approx(vo.distance_to_minimum(vo.ROTATED_RAVINE,
                                             vo.run_optimizer(vo.ROTATED_RAVINE, sgd, 100)))


def test_the_turned_ravine_is_the_ravine_turned():
    turn = np.deg2rad(45)
    R = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    p = np.array([-3.0, 0.7])
    q = R @ p
    assert vo.ROTATED_RAVINE.f(*q) == pytest.approx(vo.RAVINE.f(*p))
    np.testing.assert_allclose(vo.ROTATED_RAVINE.grad(q), R @ vo.RAVINE.grad(p))
    np.testing.assert_allclose(vo.ROTATED_RAVINE.start, R @ np.array(vo.RAVINE.start))


def test_rmsprop_first_step_is_lr_over_root_one_minus_alpha():
    # No bias correction: the lesson's explanation of RMSprop's spike on Rosenbrock.
    s = vo.ROSENBROCK
    path = vo.run_optimizer(s, partial(optim.RMSprop, lr=s.lr_adaptive), steps=1)
    np.testing.assert_allclose(np.abs(path[1] - path[0]), s.lr_adaptive / np.sqrt(1 - 0.99))
    adam = vo.run_optimizer(s, partial(optim.Adam, lr=s.lr_adaptive), steps=1)
    np.testing.assert_allclose(np.abs(adam[1] - adam[0]), s.lr_adaptive, rtol=1e-6)


def test_ravines_figure_labels_each_path_with_its_distance():
    paths = {s.name: vo.race(s, {"SGD": partial(optim.SGD, lr=0.9)}, steps=20)
             for s in (vo.RAVINE, vo.ROTATED_RAVINE)}
    fig = vo.ravines_figure(paths)
    assert len(fig.axes) == 2
    label = fig.axes[1].get_legend().get_texts()[0].get_text()
    d = vo.distance_to_minimum(vo.ROTATED_RAVINE, paths[vo.ROTATED_RAVINE.name]["SGD"])
    assert label == f"SGD: {d:.2g} from the minimum after 20 steps"
    plt.close(fig)


def test_racers_differ_by_line_style_and_marker_not_only_colour():
    styles = {(vo.LINES[name]) for name in vo.racers(0.1, 0.1)}
    assert len(styles) == 4
