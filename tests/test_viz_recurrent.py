"""Lesson 08's pictures and widgets: the gradients are the engine's, the forecasts roll."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore import nn, train  # noqa: E402
from dlcore.viz import recurrent as rv  # noqa: E402
from dlcore.viz import widgets as vw  # noqa: E402


def jacobian_norms(rnn: nn.RNN, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """||dL/dh_t|| for L = v . h_T by the chain rule written out (float64)."""
    W_hh = rnn.weight_hh_l0.data.astype(np.float64)
    hs, _ = rnn(x)
    hs = hs[0].astype(np.float64)
    grad = v.astype(np.float64)[0]
    norms = [np.linalg.norm(grad)]
    for t in range(len(hs) - 1, 0, -1):
        grad = W_hh.T @ (grad * (1 - hs[t] ** 2))           # dL/dh_{t-1}
        norms.append(np.linalg.norm(grad))
    return np.array(norms[::-1])


@pytest.mark.parametrize("scale", [0.6, 1.0, 1.8])
def test_hidden_gradient_norms_are_the_chain_rule(scale):
    norms = rv.hidden_gradient_norms(scale, length=20, hidden=8, seed=3)
    rnn = rv.scaled_rnn(scale, hidden=8, seed=3)
    x = np.random.default_rng(4).standard_normal((1, 20, 1)).astype(np.float32)
    expected = jacobian_norms(rnn, x, np.full((1, 8), 1 / np.sqrt(8)))
    np.testing.assert_allclose(norms, expected, rtol=1e-3)
    assert norms[-1] == pytest.approx(1.0)


def test_scaled_rnn_stretches_by_the_scale():
    rnn = rv.scaled_rnn(1.7, hidden=6)
    singular = np.linalg.svd(rnn.weight_hh_l0.data, compute_uv=False)
    np.testing.assert_allclose(singular, 1.7, rtol=1e-5)


def test_gradients_vanish_below_one_and_explode_above():
    small = rv.hidden_gradient_norms(0.5, length=50)
    large = rv.hidden_gradient_norms(2.0, length=50)
    assert small[0] < 1e-10 < small[-1]
    assert np.all(np.diff(np.log(small[:40])) > 0)           # shrinks step by step going back
    assert large[0] > 100 * large[-1]


def test_gradient_figure_highlights_the_chosen_scale():
    fig = rv.gradient_figure(scale=0.6, length=30, scales=(0.5, 1.5))
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert len(ax.lines) == 3
    # float32, batched over lengths: the same numbers up to rounding
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), rv.hidden_gradient_norms(0.6, 30),
                               rtol=1e-5)
    assert "vanishes" in ax.lines[-1].get_label()


@pytest.mark.parametrize("scale", [0.3, 1.0, 2.5])
def test_norms_of_every_length_at_once_are_the_restarted_runs(scale):
    """One pass back, a batch row per length, gives what restarting the RNN at every
    step gives for each length (zeros past its end; the same underflows to 0)."""
    norms = rv.gradient_norms_by_length(scale, max_length=40, hidden=8, seed=2)
    assert norms.shape == (40, 40)
    for length in (1, 7, 25, 40):
        expected = rv.hidden_gradient_norms(scale, length, hidden=8, seed=2)
        np.testing.assert_allclose(norms[length - 1, :length], expected, rtol=1e-5)
        assert not norms[length - 1, length:].any()


class Doubler(nn.Module):
    """Predicts twice the last value of its window: a known forecaster."""

    def forward(self, x):
        return 2 * x[:, -1]


def test_roll_forward_feeds_each_prediction_back():
    predictions = rv.roll_forward(Doubler(), np.array([3.0, 1.0, 0.5]), steps=4)
    np.testing.assert_allclose(predictions, [1.0, 2.0, 4.0, 8.0])


def test_sine_figure_plots_the_rolled_forecast():
    waves = rv.unseen_waves(n=2, window=20, steps=30)
    assert waves.shape == (2, 50)
    model = rv.sine_model(hidden=4)
    fig = rv.sine_figure(model, steps=12, wave=1, waves=waves)
    forecast = fig.parts.predicted
    np.testing.assert_allclose(forecast.get_ydata(), rv.roll_forward(model, waves[1, :20], 12),
                               rtol=1e-6)
    np.testing.assert_array_equal(forecast.get_xdata(), np.arange(20, 32))


def test_train_sine_lowers_the_loss():
    model = rv.sine_model(hidden=8)
    history = rv.train_sine(model, epochs=4, n=300)
    assert history["loss"][-1] < 0.5 * history["loss"][0]


def test_windows_figure_shows_inputs_and_targets():
    X = np.arange(12, dtype=np.float32).reshape(3, 4, 1)
    y = np.array([[10.0], [20.0], [30.0]], dtype=np.float32)
    fig = rv.windows_figure(X, y, count=2)
    assert len(fig.axes) == 2
    np.testing.assert_array_equal(fig.axes[1].lines[0].get_ydata(), X[1, :, 0])
    assert fig.axes[1].lines[1].get_ydata()[0] == 20.0


def test_unrolled_figure_draws_one_cell_per_step():
    forward = rv.unrolled_figure(steps=5)
    backward = rv.unrolled_figure(steps=5, backward=True)
    assert len(forward.axes[0].patches) == 4 + 4 * 5     # a box and 3 arrows per cell
    assert len(backward.axes[0].patches) == len(forward.axes[0].patches) + 5 + 1


def test_gradient_figure_updates_in_place_with_fixed_limits():
    fig = rv.gradient_figure(scale=0.8, length=20, scales=(0.5, 1.5), span=(0.3, 2.5),
                             max_length=40)
    limits = fig.axes[0].get_ylim()
    assert not rv.update_gradient_figure(fig, scale=2.0, length=20, scales=(0.5, 1.5))
    np.testing.assert_allclose(fig.parts.chosen.get_ydata(), rv.hidden_gradient_norms(2.0, 20),
                               rtol=1e-5)
    assert fig.axes[0].get_ylim() == limits                 # a new scale: same axes
    assert fig.parts.verdict.get_text() == "scale 2: the gradient explodes"
    assert not rv.update_gradient_figure(fig, scale=2.0, length=30, scales=(0.5, 1.5))
    assert fig.axes[0].get_xlim() == (-1.5, 30)
    np.testing.assert_allclose(fig.parts.references[1].get_ydata(),
                               rv.hidden_gradient_norms(1.5, 30), rtol=1e-5)
    assert fig.parts.labels[1].xy == (0, fig.parts.references[1].get_ydata()[0])
    # the y limits hold the span's ends and the references at every length up to 40
    assert fig.axes[0].get_ylim() == limits
    low, high = limits
    top = max(rv.hidden_gradient_norms(s, n).max() for s in (0.3, 2.5, 0.5, 1.5)
              for n in range(1, 41))
    assert 0 < low and high == pytest.approx(3 * top, rel=1e-5)
    # a scale inside the span that climbs above both its ends makes room (a full redraw)
    fig.axes[0].set_ylim(low, 1.0)
    assert rv.update_gradient_figure(fig, scale=2.0, length=30, scales=(0.5, 1.5))
    assert fig.axes[0].get_ylim()[1] == pytest.approx(3 * fig.parts.chosen.get_ydata().max())


def changed(box, control, value) -> bool:
    """Move ``control`` of widget ``box`` to ``value``; did the picture change?"""
    before = vw.image_array(box).copy()
    control.value = value
    return bool((before != vw.image_array(box)).any())


def kernel_ms(record) -> float:
    return record["compute_ms"] + record["draw_ms"] + record["encode_ms"]


def test_vanishing_widget_controls_change_the_curves_fast():
    box = rv.vanishing_widget(length=20)
    scale, length = vw.find_control(box, "scale"), vw.find_control(box, "length")
    assert scale.continuous_update and length.continuous_update    # cheap: follow the drag
    ylim = box.view.fig.axes[0].get_ylim()
    assert changed(box, scale, 1.8)
    np.testing.assert_allclose(box.view.fig.parts.chosen.get_ydata(),
                               rv.hidden_gradient_norms(1.8, 20), rtol=1e-5)
    assert changed(box, length, 30)
    assert len(box.view.fig.parts.references[0].get_xdata()) == 30
    assert box.view.fig.axes[0].get_xlim()[1] == 30 and box.view.fig.axes[0].get_ylim() == ylim
    for control, value in ((scale, 2.2), (length, 100), (scale, 0.4), (length, 10)):
        vw.TIMINGS.clear()
        assert changed(box, control, value)
        assert vw.TIMINGS[-1]["control"] == ("scale" if control is scale else "length")
        assert kernel_ms(vw.TIMINGS[-1]) < 500                   # gross-regression guard
        blitted = vw.image_array(box).copy()      # the layers a move redraws, blitted ...
        box.view.show()
        np.testing.assert_array_equal(vw.image_array(box), blitted)   # ... = a full redraw
    assert box.view.fig.axes[0].get_ylim() == ylim


def test_sine_trainer_takes_the_steps_of_fit():
    trainer = rv.SineTrainer(hidden=4, n=96)               # 3 mini-batches per epoch
    assert trainer.per_epoch == 3 and trainer.loss is None
    for _ in range(6):
        trainer.step()
    assert trainer.epoch == 2 and len(trainer.smooth) == 6
    model = rv.sine_model(hidden=4)
    history = rv.train_sine(model, epochs=2, n=96)
    np.testing.assert_allclose(trainer.epoch_losses, history["loss"], rtol=1e-5)
    for mine, theirs in zip(trainer.model.parameters(), model.parameters(), strict=True):
        np.testing.assert_allclose(mine.data, theirs.data, rtol=1e-5, atol=1e-7)


def test_sine_figure_plots_the_rolled_forecast_and_its_error():
    waves = rv.unseen_waves(n=2, window=20, steps=30)
    model = rv.sine_model(hidden=4)
    fig = rv.sine_figure(model, steps=12, wave=1, waves=waves)
    predicted = fig.parts.predicted.get_ydata()
    error = np.sqrt(np.mean((predicted - waves[1, 20:32]) ** 2))
    assert f"error {error:.3f}" in fig.axes[0].get_title()


def test_sine_predictor_trains_live_with_play_step_and_reset():
    box = rv.sine_predictor(hidden=4)
    player, trainer = box.player, box.state["trainer"]
    epochs = vw.find_control(box, "epochs to train")
    epochs.value = 5
    assert not player.done and trainer.epoch == 0
    before = vw.image_array(box).copy()
    vw.find_control(box, "Step").click()                    # one mini-batch
    assert trainer.steps == 1 and (vw.image_array(box) != before).any()
    assert "epoch 0.0 of 5" in player.status.value
    vw.TIMINGS.clear()
    player.play(max_steps=70, frame_every=10)               # no event loop: runs here
    assert trainer.steps == 71 and len(trainer.epoch_losses) == 1
    assert box.view.fig.parts.epoch_dots.get_ydata()[0] == trainer.epoch_losses[0]
    assert len(vw.TIMINGS) == 7                             # a frame every 10 steps
    assert np.median([kernel_ms(r) for r in vw.TIMINGS]) < 500   # blitted frames
    player.play(frame_every=100)                            # to the end: 5 epochs
    assert player.done and trainer.epoch == 5 and "done" in player.status.value
    epochs.value = 10                                       # raised: Train goes on
    assert not player.done and not player.play_button.disabled
    assert box.view.fig.parts.ax_loss.get_xlim() == (0, 10)
    blitted = vw.image_array(box).copy()          # the loss axis and the lines, blitted ...
    box.view.show()
    np.testing.assert_array_equal(vw.image_array(box), blitted)   # ... = a full redraw
    vw.find_control(box, "Reset").click()
    assert box.state["trainer"] is not trainer and box.state["trainer"].epoch == 0


def test_sine_predictor_starts_from_a_trained_model_and_its_sliders_redraw():
    model = rv.sine_model(hidden=4)
    box = rv.sine_predictor(model, history_of(40, 0.00233), hidden=4)
    assert box.state["trainer"].model is model and not box.player.done
    assert vw.find_control(box, "epochs to train").value == 80   # Train goes on at once
    assert "epoch 40.0 of 80, training loss 2.33e-03" in box.player.status.value
    vw.find_control(box, "epochs to train").value = 40            # as trained: nothing to do
    box.player.play()
    assert box.player.done and box.state["trainer"].epoch == 40
    steps, wave = vw.find_control(box, "values to forecast"), vw.find_control(box, "test wave")
    assert steps.max == 100 and wave.max == 7
    assert changed(box, steps, 30)
    assert len(box.view.fig.parts.predicted.get_xdata()) == 30
    assert changed(box, wave, 3)
    assert "test wave 3, 30 steps" in box.player.status.value
    vw.TIMINGS.clear()
    wave.value = 4
    assert kernel_ms(vw.TIMINGS[-1]) < 500


def history_of(epochs: int, loss: float) -> train.History:
    history = train.History()
    for epoch in range(1, epochs + 1):
        history.append(epoch, {"loss": loss})
    return history


def controls_of(widget) -> list:
    """Every slider and button inside a widget box, depth first."""
    import ipywidgets as widgets
    if isinstance(widget, widgets.Box):
        return [c for child in widget.children for c in controls_of(child)]
    return [widget] if isinstance(widget, (widgets.ValueWidget, widgets.Button)) and \
        not isinstance(widget, (widgets.Label, widgets.HTML, widgets.Image)) else []


def test_every_control_says_what_it_does():
    pytest.importorskip("ipywidgets")
    for box in (rv.vanishing_widget(length=20), rv.sine_predictor(rv.sine_model(hidden=4))):
        controls = controls_of(box)
        assert controls
        for control in controls:
            assert control.description and len(control.tooltip or "") >= 15, control
