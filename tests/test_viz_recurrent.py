"""Lesson 08's pictures and widgets: the gradients are the engine's, the forecasts roll."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore import nn, train  # noqa: E402
from dlcore.viz import recurrent as rv  # noqa: E402


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
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), rv.hidden_gradient_norms(0.6, 30))
    assert "vanishes" in ax.lines[-1].get_label()


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
    forecast = fig.axes[0].lines[2]
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


def test_widgets_build():
    pytest.importorskip("ipywidgets")
    assert rv.vanishing_widget(length=20).children
    box = rv.sine_predictor(rv.sine_model(hidden=4))
    steps, wave = box.children[0].children
    assert steps.max == 100 and wave.max == 7


def history_of(epochs: int, loss: float) -> train.History:
    history = train.History()
    for epoch in range(1, epochs + 1):
        history.append(epoch, {"loss": loss})
    return history


def test_sine_status_says_what_train_will_do():
    assert rv.sine_status(80, 0.00233, 80) == ("shown: an RNN trained for 80 epochs "
                                               "(training loss 0.00233)")
    assert rv.sine_status(80, 0.00233, 120) == (
        "shown: an RNN trained for 80 epochs (training loss 0.00233). "
        "Press Train to train a new one for 120 epochs.")
    assert rv.sine_status(0, None, 80).startswith("shown: an untrained RNN. Press Train")
    assert rv.sine_status(None, None, 80).startswith("shown: the RNN trained above. Press")


def test_sine_predictor_epochs_slider_shows_what_train_will_do_without_training(
        monkeypatch):
    pytest.importorskip("ipywidgets")
    trained = []

    def fake_train(model, epochs):
        trained.append((model, epochs))
        return history_of(epochs, 0.5)

    drawn = []
    monkeypatch.setattr(rv, "train_sine", fake_train)
    monkeypatch.setattr(rv, "sine_figure",
                        lambda model, steps, wave, waves: drawn.append(model))
    first = rv.sine_model(hidden=4)
    box = rv.sine_predictor(first, history_of(80, 0.00233), hidden=4)
    (epochs, button), status = box.children[1].children, box.children[2]
    assert epochs.value == 80 and drawn == [first]
    assert status.value == "shown: an RNN trained for 80 epochs (training loss 0.00233)"

    epochs.value = 120                               # moving the slider: no training
    assert trained == [] and drawn == [first]
    assert status.value.endswith("Press Train to train a new one for 120 epochs.")

    button.click()                                   # Train: a new RNN, 120 epochs
    assert len(trained) == 1 and trained[0][1] == 120 and trained[0][0] is not first
    assert drawn[-1] is trained[0][0]
    assert status.value == "shown: an RNN trained for 120 epochs (training loss 0.5)"


def controls_of(widget) -> list:
    """Every slider and button inside a widget box, depth first."""
    import ipywidgets as widgets
    if isinstance(widget, widgets.Box):
        return [c for child in widget.children for c in controls_of(child)]
    return [widget] if isinstance(widget, (widgets.ValueWidget, widgets.Button)) and \
        not isinstance(widget, (widgets.Label, widgets.HTML)) else []


def test_every_control_says_what_it_does():
    pytest.importorskip("ipywidgets")
    for box in (rv.vanishing_widget(length=20), rv.sine_predictor(rv.sine_model(hidden=4))):
        controls = controls_of(box)
        assert controls
        for control in controls:
            assert control.description and len(control.tooltip or "") > 20, control
