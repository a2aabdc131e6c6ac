"""Lesson 10's widgets compute what they claim: dropout thins the sketch at rate p and
narrows the gap between training and validation loss; batch norm keeps every layer's
values at unit spread and trains where the plain network diverges."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import time  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from figure_checks import assert_inside_and_apart  # noqa: E402

import dlcore  # noqa: E402
from dlcore import nn  # noqa: E402
from dlcore.data import load_digits, standardize  # noqa: E402
from dlcore.viz import regularization as reg  # noqa: E402
from dlcore.viz import widgets  # noqa: E402


@pytest.fixture(scope="module")
def few():
    return reg.few_digits(10)


@pytest.fixture(scope="module")
def dropout_runs(few):
    X, y, X_val, y_val = few
    return {p: reg.train_dropout(p, X, y, X_val, y_val) for p in (0.0, 0.5)}   # the lesson's runs


def test_few_digits_are_balanced_raw_pixels(few):
    X, y, X_val, y_val = few
    assert X.shape == (100, 64) and np.bincount(y).tolist() == [10] * 10
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert len(X_val) == 179


def test_dropout_mlp_puts_dropout_after_every_hidden_layer():
    model = reg.dropout_mlp(0.3, width=32, depth=3)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "ReLU", "Dropout"] * 3 + ["Linear"]
    assert all(m.p == 0.3 for m in model if isinstance(m, nn.Dropout))


def test_without_dropout_the_big_mlp_overfits_and_dropout_narrows_the_gap(dropout_runs):
    plain, dropped = dropout_runs[0.0], dropout_runs[0.5]
    assert plain["loss"][-1] < 0.01                                  # memorised
    assert plain["val_loss"][-1] > min(plain["val_loss"]) + 0.02     # validation turned up
    assert dropped["loss"][-1] > 2 * plain["loss"][-1]               # cannot memorise as well
    assert min(dropped["val_loss"]) < min(plain["val_loss"])
    assert np.argmin(dropped["val_loss"]) > np.argmin(plain["val_loss"])


def test_same_seed_same_run(few):
    X, y, X_val, y_val = few
    a = reg.train_dropout(0.5, X, y, X_val, y_val, epochs=3)
    b = reg.train_dropout(0.5, X, y, X_val, y_val, epochs=3)
    assert a["val_loss"] == b["val_loss"]


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_thinned_network_drops_about_p_of_the_hidden_units(p):
    fig, ax = plt.subplots()
    dropped = [reg.thinned_network(ax, p, seed=s) for s in range(40)]
    plt.close(fig)
    assert abs(np.mean(dropped) / reg.SKETCH_HIDDEN - p) < 0.06


def test_dropout_figure_shows_the_runs_and_asks_for_training(dropout_runs):
    fig = reg.dropout_figure(dropout_runs, p=0.5)
    _, ax_loss, ax_p = fig.axes
    reference, current = fig.parts.ref, fig.parts.lines
    np.testing.assert_allclose(reference[0].get_ydata(), dropout_runs[0.0]["loss"])
    np.testing.assert_allclose(current[1].get_ydata(), dropout_runs[0.5]["val_loss"])
    assert [t.get_text() for t in ax_loss.get_legend().get_texts()] == [
        "p = 0, train", "p = 0, validation", "chosen p, train", "chosen p, validation"]
    assert ax_loss.get_title().startswith("p = 0.5, epoch 100")
    np.testing.assert_allclose(ax_p.lines[0].get_ydata(),
                               [dropout_runs[0.0]["val_loss"][-1],
                                dropout_runs[0.5]["val_loss"][-1]])
    assert "epoch 100" in ax_loss.get_title()
    fig = reg.dropout_figure(dropout_runs, p=0.3)
    assert "press ▶ Train" in fig.axes[1].get_title()
    assert len(fig.parts.lines[0].get_xdata()) == 0              # nothing trained for 0.3
    assert len(fig.parts.ref[0].get_xdata()) == 100              # the run without dropout


def test_dropout_run_is_train_dropout_one_epoch_at_a_time(few):
    X, y, X_val, y_val = few
    whole = reg.train_dropout(0.5, X, y, X_val, y_val, epochs=5, seed=1)
    run = reg.DropoutRun(0.5, X, y, X_val, y_val, epochs=5, seed=1)
    steps = 0
    while run.step():
        steps += 1
        dlcore.rng.generator().random(1000)      # other draws between epochs change nothing
    assert steps == 4 and run.finished and not run.step()
    assert run.history["val_loss"] == whole["val_loss"]
    assert run.history["loss"] == whole["loss"]


def _cpu_ms(fn):
    """The kernel's CPU time for one call, in ms: a gross-regression guard that a
    loaded machine does not make flaky (wall time would)."""
    t0 = time.process_time()
    fn()
    return 1e3 * (time.process_time() - t0)


def test_dropout_widget_trains_live_and_keeps_every_run(few, dropout_runs):
    X, y, X_val, y_val = few
    box = reg.dropout_explorer(X, y, X_val, y_val, runs={0.0: dropout_runs[0.0]}, epochs=6)
    slider = widgets.find_control(box, "dropout p")
    player = box.player
    assert slider.value == 0.3 and not widgets.find_control(box, "Train").disabled
    slider.value = 0.5
    before = widgets.image_array(box).copy()
    assert _cpu_ms(lambda: setattr(slider, "value", 0.3)) < 500
    after = widgets.image_array(box)
    assert before.shape == after.shape and (before != after).any()
    assert "not trained yet" in box.fig.axes[1].get_title()
    assert "press" in player.status.value

    # two layers: what p sets (sketch, reference run, ring), then what each epoch moves
    assert box.view.layers == [box.fig.parts.settings, box.fig.parts.moving]
    assert box.fig.parts.loss.title in box.fig.parts.moving
    step = widgets.find_control(box, "Step")
    assert _cpu_ms(step.click) < 500                             # one epoch and its frame
    train_line, val_line = box.fig.parts.lines
    assert len(train_line.get_xdata()) == 1 and "epoch 1/6" in player.status.value
    player.play(max_steps=2)
    assert len(val_line.get_ydata()) == 3 and "epoch 3" in box.fig.axes[1].get_title()
    assert not player.done and 0.3 not in box.runs
    player.play()                                                # to the end
    assert player.done and "done" in player.status.value
    assert box.view.widget.format == "png"                       # settled: a PNG
    expected = reg.train_dropout(0.3, X, y, X_val, y_val, epochs=6)
    assert box.runs[0.3]["val_loss"] == expected["val_loss"]
    np.testing.assert_allclose(val_line.get_ydata(), expected["val_loss"])
    np.testing.assert_allclose(box.fig.parts.finals.get_xdata(), [0.0, 0.3])   # joined the plot

    widgets.find_control(box, "Reset").click()                  # this p again, from epoch 0
    assert len(train_line.get_xdata()) == 0 and not player.done
    slider.value = 0.0                                           # a finished run: shown at once
    assert len(train_line.get_xdata()) == 100 and not player.done
    assert not widgets.find_control(box, "Train").disabled       # Train replays it live
    player.step()
    assert len(train_line.get_xdata()) == 1


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_network_sketch_redraws_in_place(p):
    fig, ax = plt.subplots()
    sketch = reg.NetworkSketch(ax)
    n_artists = len(ax.get_children())
    dropped = sketch.show(p, seed=3)
    fig2, ax2 = plt.subplots()
    assert dropped == reg.thinned_network(ax2, p, seed=3)        # the same draw
    assert len(ax.get_children()) == n_artists                   # recoloured, nothing added
    crossed = sketch.crosses.get_sizes() > 0
    assert crossed.sum() == dropped and not crossed[~sketch.hidden].any()   # hidden units only
    white = np.all(sketch.units.get_facecolors() == 1.0, axis=1)
    np.testing.assert_array_equal(white, crossed)                           # dropped: white
    plt.close(fig)
    plt.close(fig2)


def test_deep_mlp_layout():
    kinds = [type(m).__name__ for m in reg.deep_mlp(2, 16, batch_norm=True)]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU"] * 2 + ["Linear"]
    assert "BatchNorm1d" not in [type(m).__name__ for m in reg.deep_mlp(2, 16)]


def test_batch_norm_keeps_unit_spread_where_plain_values_shrink():
    X = standardize(load_digits()).X_train[:300]
    dlcore.manual_seed(0)
    plain = reg.pre_activations(reg.deep_mlp(6), X)
    dlcore.manual_seed(0)
    with_bn = reg.pre_activations(reg.deep_mlp(6, batch_norm=True), X)
    assert len(plain) == len(with_bn) == 6 and plain[0].shape == (300, 64)
    stds = [v.std() for v in plain]
    assert stds[-1] < 0.3 * stds[0]
    np.testing.assert_allclose([v.std() for v in with_bn], 1.0, atol=0.01)
    np.testing.assert_allclose([v.mean() for v in with_bn], 0.0, atol=1e-4)
    fig = reg.activation_figure(plain, with_bn, layer=4)
    assert "layer 4" in fig.axes[0].get_title() and f"{stds[3]:.3f}" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="between 1 and 6"):
        reg.activation_figure(plain, with_bn, layer=7)

    box = reg.activation_explorer(plain, with_bn)
    slider = widgets.find_control(box, "layer")
    before = widgets.image_array(box).copy()
    assert _cpu_ms(lambda: setattr(slider, "value", 5)) < 500
    assert (widgets.image_array(box) != before).any()
    fig = box.view.fig
    assert "layer 5" in fig.axes[0].get_title() and f"{stds[4]:.3f}" in fig.axes[0].get_title()
    counts, _ = np.histogram(np.clip(plain[4].ravel(), -3, 3), np.linspace(-3, 3, 61))
    np.testing.assert_allclose(fig.parts.hists[reg.PLAIN].get_data().values,
                               counts / counts.max())                 # tallest bar = 1
    assert fig.axes[0].get_ylim() == (0, 1.05)                        # fixed: only bars move


@pytest.fixture(scope="module")
def sweep():
    digits = standardize(load_digits())
    return reg.batchnorm_lr_sweep(digits.X_train, digits.y_train, [0.01, 0.3], steps=100)


def test_batch_norm_trains_where_the_plain_network_diverges_or_crawls(sweep):
    plain_slow, plain_fast = sweep[reg.PLAIN]
    bn_slow, bn_fast = sweep[reg.BATCH_NORM]
    assert len(plain_fast) < 100 and not np.isfinite(plain_fast[-1])       # diverged
    assert reg.final_loss(plain_fast, 100) == float("inf")
    assert len(bn_fast) == len(bn_slow) == len(plain_slow) == 100
    assert reg.final_loss(bn_fast, 100) < 0.3
    assert reg.final_loss(bn_slow, 100) < 0.5 * reg.final_loss(plain_slow, 100)


def test_batchnorm_figure_marks_the_divergence(sweep):
    fig = reg.batchnorm_figure(sweep, lr=0.3)
    ax, ax_lr = fig.axes
    steps = len(sweep[reg.PLAIN][1])
    assert ax.get_title() == f"learning rate 0.3\ndiverged: without batch norm at step {steps}"
    cross = fig.parts.crosses[reg.PLAIN]
    assert cross.get_xdata()[0] == steps and len(fig.parts.crosses[reg.BATCH_NORM].get_xdata()) == 0
    assert fig.parts.band.get_x() < 0.3 < fig.parts.band.get_x() + fig.parts.band.get_width()
    reg.update_batchnorm_figure(fig, sweep, lr=0.01)
    assert ax.get_title() == "learning rate 0.01\nneither run diverged"
    assert len(cross.get_xdata()) == 0
    assert fig.parts.band.get_x() < 0.01 < fig.parts.band.get_x() + fig.parts.band.get_width()
    np.testing.assert_allclose(fig.parts.curves[reg.PLAIN].get_ydata(), sweep[reg.PLAIN][0])


def test_batchnorm_widget_moves_to_the_learning_rate_fast(sweep):
    box = reg.batchnorm_explorer(sweep)
    slider = widgets.find_control(box, "learning rate")
    before = widgets.image_array(box).copy()
    new = 0.3 if slider.value != 0.3 else 0.01
    assert _cpu_ms(lambda: setattr(slider, "value", new)) < 500
    assert (widgets.image_array(box) != before).any()
    assert box.view.fig.axes[0].get_title().startswith(f"learning rate {new:g}\n")


def test_train_steps_records_every_step_and_repeats():
    X = standardize(load_digits()).X_train[:256]
    y = load_digits().y_train[:256]
    runs = []
    for _ in range(2):
        dlcore.manual_seed(0)
        runs.append(reg.train_steps(reg.deep_mlp(2, 16), X, y, lr=0.05, steps=10))
    assert runs[0].shape == (10,)
    np.testing.assert_array_equal(runs[0], runs[1])


def controls_of(widget) -> list:
    """Every slider, dropdown and button inside a widget box, depth first."""
    import ipywidgets
    kinds = (ipywidgets.widgets.widget_int._Int, ipywidgets.widgets.widget_float._Float,
             ipywidgets.SelectionSlider, ipywidgets.Dropdown, ipywidgets.Button)
    if isinstance(widget, ipywidgets.Box):
        return [c for child in widget.children for c in controls_of(child)]
    return [widget] if isinstance(widget, kinds) else []


def test_every_widget_control_says_what_it_does(few):
    X, y, X_val, y_val = few
    sweep = reg.batchnorm_lr_sweep(X[:64], y[:64], lrs=(0.1, 1.0), steps=2)
    layers = [np.array([-1.0, 1.0, 2.0]), np.array([-2.0, 0.5, 1.0])]
    boxes = (reg.dropout_explorer(X, y, X_val, y_val, runs={}),
             reg.batchnorm_explorer(sweep), reg.activation_explorer(layers, layers))
    assert [len(controls_of(box)) for box in boxes] == [4, 1, 1]   # slider + 3 buttons
    for box in boxes:
        for control in controls_of(box):
            assert control.description and len(control.tooltip or "") > 20, control


def test_figures_need_no_layout_pass_and_fit(dropout_runs, sweep):
    fig = reg.dropout_figure(dropout_runs, p=0.5)
    assert_inside_and_apart(fig)
    fig = reg.batchnorm_figure(sweep, lr=0.3)
    assert_inside_and_apart(fig)
    values = [np.random.default_rng(k).standard_normal((100, 8)) * 0.4 ** k for k in range(8)]
    fig = reg.activation_figure(values, values, layer=6)
    assert_inside_and_apart(fig)
    plt.close("all")


def test_train_starts_from_a_run_prepared_when_p_was_chosen(few):
    X, y, X_val, y_val = few
    box = reg.dropout_explorer(X, y, X_val, y_val, epochs=3)
    slider = widgets.find_control(box, "dropout p")
    slider.value = 0.6                                   # builds the run of 0.6 in advance
    built = []
    original = reg.DropoutRun.__init__
    reg.DropoutRun.__init__ = lambda self, *a, **k: built.append(a) or original(self, *a, **k)
    try:
        box.player.step()                                 # the first epoch: no model to build
    finally:
        reg.DropoutRun.__init__ = original
    assert built == [] and "epoch 1/3" in box.player.status.value
    box.player.play()
    assert box.runs[0.6]["val_loss"] == reg.train_dropout(0.6, X, y, X_val, y_val,
                                                          epochs=3)["val_loss"]
