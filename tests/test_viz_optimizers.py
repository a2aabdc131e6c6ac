"""The optimizer race uses the real optimizers and their paths behave as taught."""
from __future__ import annotations

from functools import partial

import matplotlib

matplotlib.use("Agg")

import time  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from dlcore import numerical_gradient, optim, rel_error  # noqa: E402
from dlcore.viz import optimizers as vo  # noqa: E402
from dlcore.viz import plots, widgets  # noqa: E402


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
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert f"SGD\ndiverged at step {len(path) - 1}" in labels
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
def race_widget():
    """The optimizer race widget (no event loop here: every change plays the race to
    its end at once, as the learner sees it after about two seconds)."""
    pytest.importorskip("ipywidgets")
    return vo.optimizer_race()


def push_to_end(slider) -> None:
    """What the browser test does: End, or Home if the slider is already at its end."""
    log = hasattr(slider, "base")
    high = slider.base ** slider.max if log else slider.max
    low = slider.base ** slider.min if log else slider.min
    slider.value = low if slider.value >= high else high


def shown_paths(box) -> dict:
    return {name: np.column_stack(line.get_data())
            for name, line in box.view.fig.parts.paths.items()}


def expected_paths(box) -> dict:
    settings = {name: c.value for name, c in box.controls.items() if name != "surface"}
    steps, noise = settings.pop("steps"), settings.pop("noise")
    return vo.race(box.controls["surface"].value, vo.racers(**settings), steps, noise)


@pytest.mark.parametrize("surface", [
    vo.ROSENBROCK,     # where momentum did nothing once lr SGD had been pushed to 2
    pytest.param(vo.RAVINE, marks=pytest.mark.slow),
    pytest.param(vo.SADDLE, marks=pytest.mark.slow),
], ids=lambda s: s.name.split(":")[0])
def test_every_race_control_changes_the_figure_one_after_the_other(surface, race_widget):
    # The widget's sliders, each pushed to its end in turn (as tests/browser does): each
    # move must race again with the new setting and change the picture, even with the
    # earlier ones at their extremes.
    box = race_widget
    box.controls["surface"].value = surface
    before = widgets.image_array(box)
    for name, slider in box.controls.items():
        if name == "surface":
            continue
        push_to_end(slider)
        assert box.live.finished and not box.player.done, name   # shown at once, Race replays
        expected = expected_paths(box)
        for racer, path in shown_paths(box).items():
            np.testing.assert_array_equal(path, expected[racer])
        after = widgets.image_array(box)
        assert not np.array_equal(before, after), f"moving {name} changed nothing"
        before = after


def test_choosing_a_surface_races_there_with_its_learning_rates_and_lr_sgd_range(
        race_widget):
    box = race_widget
    lr_sgd = box.controls["lr_sgd"]
    for surface in (vo.RAVINE, vo.ROSENBROCK, vo.SADDLE, vo.ROSENBROCK):
        widgets.TIMINGS.clear()
        box.controls["surface"].value = surface
        shows = [t for t in widgets.TIMINGS if t["control"] == "surface"]
        assert len(shows) == 1                               # one restart, not three
        assert box.view.fig.parts.surface is surface and box.live.surface is surface
        assert box.view.fig.parts.ax.get_title() == surface.name
        assert lr_sgd.value == pytest.approx(surface.lr_sgd)
        assert lr_sgd.base ** lr_sgd.max == pytest.approx(surface.lr_sgd_max)
        assert box.controls["lr_adaptive"].value == pytest.approx(surface.lr_adaptive)
        assert box.live.steps == box.controls["steps"].value == surface.steps
        for racer, path in shown_paths(box).items():
            np.testing.assert_array_equal(path, expected_paths(box)[racer])


def test_the_race_steps_resets_and_replays_with_blitted_frames(race_widget):
    box = race_widget
    player, live = box.player, box.live
    finished = widgets.image_array(box)
    assert not player.done and "step 500 of 500" in player.status.value
    player.play()                                     # Race on a finished race: again
    assert player.done and live.done_steps == 500
    np.testing.assert_array_equal(widgets.image_array(box), finished)
    player.reset()
    assert live.done_steps == 0 and not player.done
    assert all(len(p) == 1 for p in shown_paths(box).values())       # at the start
    assert not np.array_equal(widgets.image_array(box), finished)
    widgets.TIMINGS.clear()
    player.step()
    assert box.view.widget.format == "jpeg"                       # live frames: JPEG
    assert live.done_steps == live.chunk == 9                     # 500 steps in 60 frames
    assert all(len(p) == 10 for p in shown_paths(box).values())
    assert "step 9 of 500" in player.status.value and "from the minimum" in player.status.value
    player.play()
    assert player.done and live.done_steps == 500
    frames = [t for t in widgets.TIMINGS if t["control"] == "race"]
    assert len(frames) == -(-500 // 9)
    assert box.view.widget.format == "png"                        # the finished race: PNG
    np.testing.assert_array_equal(widgets.image_array(box), finished)   # the same race again


def test_a_racer_takes_n_steps_at_once_as_it_takes_them_one_by_one():
    s = vo.ROSENBROCK
    make = partial(optim.Adam, lr=0.1)
    together, one_by_one = vo.Racer(s, make, noise=0.5), vo.Racer(s, make, noise=0.5)
    together.step(7)
    for _ in range(7):
        one_by_one.step()
    np.testing.assert_array_equal(np.array(together.path), np.array(one_by_one.path))
    path = np.array(together.path)
    np.testing.assert_allclose(together.losses, s.f(path[:, 0], path[:, 1]) - s.f(1.0, 1.0))
    diverging = vo.Racer(s, partial(optim.SGD, lr=0.05))
    diverging.step(200)                        # stops once it has left the plot
    assert diverging.stopped and len(diverging.path) < 201


def test_each_race_control_shows_what_a_full_redraw_shows(race_widget):
    # A slider redraws only the step axis, the legend and the paths over the saved
    # contours (a new surface redraws everything): the picture must be the full one.
    box = race_widget
    hinting = matplotlib.rcParams["text.hinting"]
    moves = [("steps", 100), ("lr_sgd", 10 ** -2.6), ("noise", 1.0), ("surface", vo.RAVINE),
             ("momentum", 0.5), ("surface", vo.ROSENBROCK)]
    for name, value in moves:
        box.controls[name].value = value
        shown = widgets.image_array(box)
        assert box.view.widget.format == "png"              # a settled picture: sharp
        box.view.show()
        np.testing.assert_array_equal(shown, widgets.image_array(box), err_msg=name)
    assert matplotlib.rcParams["text.hinting"] == hinting    # drawn unhinted, then restored
    ax_loss = box.view.fig.parts.ax_loss
    assert ax_loss.get_xlim() == (0, 500)                   # Rosenbrock's steps again
    # Every surface's contours were made with the widget; one surface's are shown.
    parts = box.view.fig.parts
    visible = [c for c in parts.ax.collections if c.get_visible()]
    assert set(parts.contours) == set(vo.SURFACES) and len(parts.ax.collections) == 8
    assert visible == parts.contours[vo.ROSENBROCK]
    assert parts.ax.get_xlim() == vo.ROSENBROCK.xlim and parts.ax.get_ylim() == vo.ROSENBROCK.ylim


def test_a_longer_race_steps_on_from_the_kept_racers():
    # The widget keeps each racer: more steps step it on, fewer show its first steps; the
    # paths are those of a fresh run, noise included.
    settings = dict(lr_sgd=1e-3, lr_adaptive=0.1, momentum=0.9, beta1=0.9, beta2=0.999,
                    noise=0.5)
    short = vo._finished_race(vo.ROSENBROCK, tuple(sorted({**settings, "steps": 100}.items())))
    long = vo._finished_race(vo.ROSENBROCK, tuple(sorted({**settings, "steps": 250}.items())))
    again = vo._finished_race(vo.ROSENBROCK, tuple(sorted({**settings, "steps": 100}.items())))
    for name, make in vo.racers(1e-3, 0.1).items():
        fresh = vo.run_optimizer(vo.ROSENBROCK, make, 250, noise=0.5)
        np.testing.assert_array_equal(long[name], fresh, err_msg=name)
        np.testing.assert_array_equal(short[name], fresh[:101], err_msg=name)
        np.testing.assert_array_equal(again[name], fresh[:101], err_msg=name)


def test_a_surface_shown_again_is_its_kept_panel_pixel_for_pixel(race_widget):
    # A surface's contour panel is drawn once and kept as pixels: shown again, the
    # picture is the one drawing the panel gives.
    box = race_widget
    for surface in (vo.SADDLE, vo.ROSENBROCK, vo.SADDLE):   # the last from kept pixels
        box.controls["surface"].value = surface
    assert {vo.SADDLE, vo.ROSENBROCK} <= set(box.panels.images)
    assert box.view.layers[0] == [box.panels.images[vo.SADDLE]]
    kept = widgets.image_array(box)
    box.view.layers[0][:] = box.panels.panel                # draw the panel itself
    box.view.show()
    np.testing.assert_array_equal(kept, widgets.image_array(box))


def test_after_the_first_change_every_surface_is_kept_in_idle_time(race_widget):
    import asyncio
    import time

    box = race_widget

    async def touch_and_wait():
        box.controls["noise"].value = 0.5
        deadline = time.monotonic() + 30
        while len(box.panels.images) < len(vo.SURFACES) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    asyncio.run(touch_and_wait())
    assert set(box.panels.images) == set(vo.SURFACES)
    box.controls["surface"].value = vo.RAVINE                # now a copy of pixels
    assert box.view.layers[0] == [box.panels.images[vo.RAVINE]]


def test_the_races_one_noise_step_either_side_are_run_in_idle_time(race_widget):
    # A new noise value re-runs all four racers; the values an arrow key gives next are
    # run while the kernel waits, so that move finds its four racers kept.
    import asyncio
    import time

    box = race_widget
    noise = box.controls["noise"]

    vo._kept_racer.cache_clear()              # no racer kept from another test

    async def move_and_wait():
        noise.value = 1.3
        deadline = time.monotonic() + 30
        while box.races_ahead["jobs"] and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        before = vo._kept_racer.cache_info()
        noise.value = noise.value + noise.step           # 1.4000000000000001
        return before, vo._kept_racer.cache_info()

    before, after = asyncio.run(move_and_wait())
    assert after.misses == before.misses                 # nothing run: all four kept
    assert after.hits >= before.hits + 4


def test_a_widget_made_in_a_notebook_keeps_every_surface_before_any_change():
    # In a kernel the widget is made on a running event loop: the panels are drawn in
    # idle time from then on, so even the first surface a learner picks is a copy.
    import asyncio
    import time

    async def make_and_wait():
        box = vo.optimizer_race()
        deadline = time.monotonic() + 30
        while len(box.panels.images) < len(vo.SURFACES) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return box

    box = asyncio.run(make_and_wait())
    assert set(box.panels.images) == set(vo.SURFACES)
    box.controls["surface"].value = vo.SADDLE
    assert box.view.layers[0] == [box.panels.images[vo.SADDLE]]


def test_a_race_played_live_on_the_event_loop_ends_on_the_full_picture(race_widget):
    # As in the notebook: Run race plays on the kernel's event loop, frame by frame (its
    # first frame before the labels are rewritten), and ends on the finished race's PNG.
    import asyncio

    box = race_widget
    box.controls["steps"].value = 60                   # a short race: 60 frames of a step

    async def run_race():
        box.player.toggle()
        while box.player.playing:
            await asyncio.sleep(0.01)

    widgets.TIMINGS.clear()
    asyncio.run(run_race())
    frames = [t for t in widgets.TIMINGS if t["control"] == "race"]
    assert box.player.done and len(frames) == 60 and box.view.widget.format == "png"
    labels = [t.get_text() for t in box.view.fig.parts.label_of.values()]
    assert all("minimum" in label or "diverged" in label for label in labels)
    shown = widgets.image_array(box)
    box.view.show()
    np.testing.assert_array_equal(shown, widgets.image_array(box))


def test_a_race_frame_and_a_restart_are_fast(race_widget):
    # Gross-regression guards in CPU time (a loaded CI machine does not make them flaky).
    box = race_widget
    box.player.reset()
    box.player.step()
    start = time.process_time()
    for _ in range(5):
        box.live.draw()
        box.view.frame()
    assert (time.process_time() - start) / 5 < 0.15
    start = time.process_time()
    box.view.show()
    assert time.process_time() - start < 0.5
    for value in (0.5, 0.0, 0.9):               # a slider: the race again, and a picture
        start = time.process_time()
        box.controls["momentum"].value = value
        assert time.process_time() - start < 0.5


def test_the_learning_rate_explorer_moves_its_picture_with_the_slider():
    pytest.importorskip("ipywidgets")
    box = vo.learning_rate_explorer()
    fig = box.view.fig
    lr = widgets.find_control(box, "learning rate")
    before = widgets.image_array(box)
    start = time.process_time()
    lr.value = 1.05
    assert time.process_time() - start < 0.5
    assert box.view.fig is fig
    assert fig.axes[0].get_title() == "lr = 1.05\ntoo large: diverges"
    np.testing.assert_allclose(fig.parts[0][3].get_ydata(),
                               np.clip(vo.gd_on_parabola(1.05) ** 2, 1e-12, 1e12))
    assert not np.array_equal(widgets.image_array(box), before)
    assert lr.continuous_update                     # cheap: the picture follows the drag
    # A move redraws the path, its dots, its loss and the title over the rest: the
    # picture is the one a full redraw of the same state gives, pixel for pixel.
    lr.value = 0.3
    moved = widgets.image_array(box).copy()
    box.view.show()
    np.testing.assert_array_equal(moved, widgets.image_array(box))


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
    assert tuple(fig.get_size_inches()) == plots.SIZES["wide"]
    fig = vo.draw_learning_rates((0.05, 0.3, 0.9, 1.05))
    assert len(fig.axes) == 5 and tuple(fig.get_size_inches()) == plots.SIZES["wide"]
    for make in (lambda: vo.ravines_figure({vo.RAVINE.name: {}}),
                 lambda: vo.draw_minibatch_paths(vo.minibatch_paths((200,), epochs=1))):
        assert tuple(make().get_size_inches()) == plots.SIZES["wide"]


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
