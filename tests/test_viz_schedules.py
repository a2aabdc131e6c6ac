"""Lesson 05's schedule pictures and widget show what the engine's schedulers do."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore.optim import lr_scheduler  # noqa: E402
from dlcore.viz import schedules as vs  # noqa: E402

SCHEDULES = {
    "constant": None,
    "step": lambda opt, total: lr_scheduler.StepLR(opt, step_size=total // 3 + 1, gamma=0.1),
    "cosine": lambda opt, total: lr_scheduler.CosineAnnealingLR(opt, T_max=total),
    "one-cycle": lambda opt, total: lr_scheduler.OneCycleLR(
        opt, max_lr=opt.param_groups[0]["lr"], total_steps=total),
}


def test_lr_per_step_follows_each_schedule():
    total = 90
    constant = vs.lr_per_step(None, total, lr=0.1)
    np.testing.assert_allclose(constant, 0.1)
    step = vs.lr_per_step(SCHEDULES["step"], total, lr=0.1)
    np.testing.assert_allclose(step[[0, 30, 31, 62, 89]], [0.1, 0.1, 0.01, 0.001, 0.001],
                               rtol=1e-12)
    cosine = vs.lr_per_step(SCHEDULES["cosine"], total, lr=0.1)
    assert cosine[0] == pytest.approx(0.1) and cosine[-1] < 1e-3
    assert np.all(np.diff(cosine) <= 0)
    cycle = vs.lr_per_step(SCHEDULES["one-cycle"], total, lr=0.1)
    assert cycle[0] == pytest.approx(0.1 / 25)                 # starts at max_lr / div_factor
    assert int(np.argmax(cycle)) == pytest.approx(0.3 * total, abs=1)
    assert cycle.max() == pytest.approx(0.1) and cycle[-1] < 1e-4


def test_schedules_figure_has_one_titled_panel_per_schedule():
    fig = vs.schedules_figure(SCHEDULES, total_steps=60, lr=0.1)
    assert [ax.get_title() for ax in fig.axes] == list(SCHEDULES)
    drawn = fig.axes[2].get_lines()[0].get_ydata()
    np.testing.assert_allclose(drawn, vs.lr_per_step(SCHEDULES["cosine"], 60, 0.1))


def test_schedule_run_trains_with_the_schedule_it_draws():
    lrs, history, diverged = vs.schedule_run(SCHEDULES["cosine"], lr=0.1, epochs=2)
    assert diverged is None and len(history) == 2
    assert len(lrs) == 2 * 40                           # 40 batches of 32 per epoch
    assert lrs[0] == pytest.approx(0.1) and lrs[-1] < 1e-3
    assert history["loss"][-1] < history["loss"][0]
    fig = vs.schedule_run_figure("cosine", lrs, history)
    assert "cosine" in fig.axes[0].get_title()
    assert f"{history['val_accuracy'][-1]:.1%}" in fig.axes[2].get_title()


def test_the_live_run_is_schedule_run_one_batch_at_a_time():
    run = vs.LiveScheduleRun(SCHEDULES["cosine"], lr=0.1, epochs=2)
    steps = 0
    while run.step():
        steps += 1
    lrs, history, diverged = vs.schedule_run(SCHEDULES["cosine"], lr=0.1, epochs=2)
    assert steps + 1 == run.steps_done == 80 and run.diverged is None and diverged is None
    np.testing.assert_allclose(run.lrs, lrs)
    for key in ("loss", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(run.history[key], history[key], rtol=1e-10)


def test_the_widget_trains_live_with_the_chosen_schedule_and_starts_again_on_a_change():
    pytest.importorskip("ipywidgets")
    from dlcore.viz import widgets

    box = vs.schedule_explorer(SCHEDULES, lr=0.1, epochs=2)
    fig = box.view.fig
    lr_line = fig.parts.lr_line
    np.testing.assert_allclose(lr_line.get_ydata(), 0.1)         # constant, not trained
    assert len(fig.parts.batch_loss.get_xdata()) == 0
    before = widgets.image_array(box)
    widgets.find_control(box, "schedule").value = "cosine"
    assert fig.axes[0].get_title() == "learning rate: cosine"
    np.testing.assert_allclose(lr_line.get_ydata(), vs.lr_per_step(SCHEDULES["cosine"], 80, 0.1))
    assert (widgets.image_array(box) != before).any()
    untrained = widgets.image_array(box)
    widgets.find_control(box, "Step").click()                  # one batch
    assert len(fig.parts.batch_loss.get_xdata()) == 1
    assert (widgets.image_array(box) != untrained).any()
    box.player.play_button.click()              # Train; no event loop: to the end
    assert box.player.done and "validation accuracy" in box.player.status.value
    run = box.state["run"]
    assert len(fig.parts.val_acc.get_xdata()) == 2 and run.steps_done == 80
    assert fig.parts.acc_text.get_text() == f"last: {100 * run.history['val_accuracy'][-1]:.1f}%"
    widgets.find_control(box, "epochs").value = 3               # a change starts afresh
    assert box.state["run"] is not run and len(fig.parts.batch_loss.get_xdata()) == 0
    assert not box.player.done and "press Train" in box.player.status.value
    # every panel against the epoch, 0 to the slider's most epochs: the axes hold still
    assert all(ax.get_xlim() == (0, 12.2) for ax in fig.axes)
    np.testing.assert_allclose(lr_line.get_xdata()[[0, -1]], [0, 3 - 1 / 40])
    widgets.find_control(box, "Reset").click()
    assert box.state["run"].steps_done == 0


def test_a_control_change_shows_what_a_full_redraw_shows():
    # A control redraws only the axes it moves, the schedule and the legend over the
    # saved background; training frames only the curves (as JPEG), the last one as PNG.
    pytest.importorskip("ipywidgets")
    from dlcore.viz import widgets

    box = vs.schedule_explorer(SCHEDULES, lr=0.1, epochs=2)
    for name, value in (("epochs", 3), ("lr", 0.5), ("name", "one-cycle")):
        box.controls[name].value = value
        shown = widgets.image_array(box)
        assert box.view.widget.format == "png"
        box.view.show()
        np.testing.assert_array_equal(shown, widgets.image_array(box), err_msg=name)
    assert box.view.fig.axes[0].get_xlim() == (0, 12.2) and box.view.fig.axes[0].get_ylim()[1] \
        == pytest.approx(1.08 * 0.5)
    box.player.step()
    assert box.view.widget.format == "jpeg"
    box.player.play()
    assert box.player.done and box.view.widget.format == "png"
    shown = widgets.image_array(box)
    box.view.show()
    np.testing.assert_array_equal(shown, widgets.image_array(box))


def test_a_control_change_redraws_fast():
    # A gross-regression guard: a change rebuilds nothing but the model and one picture.
    # CPU time of this process, so a loaded machine (CI) does not make it flaky.
    pytest.importorskip("ipywidgets")
    import time

    box = vs.schedule_explorer(SCHEDULES, lr=0.1, epochs=2)
    lr = box.controls["lr"]
    times = []
    for value in (0.2, 0.05, 0.3):
        start = time.process_time()
        lr.value = value
        times.append(time.process_time() - start)
    assert min(times) < 0.5


def test_a_diverging_run_is_drawn_with_what_happened_not_raised():
    lrs, history, diverged = vs.schedule_run(None, lr=100.0, epochs=2)
    assert diverged.startswith("the loss became inf at epoch 1, step")
    assert history is None                              # no epoch finished
    fig = vs.schedule_run_figure("constant", lrs, history, diverged)
    texts = [t.get_text() for t in fig.axes[1].texts]
    assert texts and texts[0].startswith("training stopped:")
