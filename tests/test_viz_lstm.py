"""Lesson 09's pictures and widgets: textbook gates equal the engine's LSTM, the
comparison of lengths reports what its models predict."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore import nn  # noqa: E402
from dlcore.data import adding_problem  # noqa: E402
from dlcore.nn import LastStep  # noqa: E402
from dlcore.viz import lstm as lv  # noqa: E402
from dlcore.viz import widgets as vw  # noqa: E402


def test_textbook_gates_give_the_engines_states(rng):
    lstm = nn.LSTM(3, 5, batch_first=True)
    x = rng.standard_normal((1, 7, 3)).astype(np.float32)
    gates = lv.lstm_gates(lstm, x[0])
    output, (h_n, c_n) = lstm(x)
    np.testing.assert_allclose(gates["h"], output[0], atol=1e-6)
    np.testing.assert_allclose(gates["c"][-1], c_n[0, 0], atol=1e-6)
    for name in "ifo":
        assert gates[name].shape == (7, 5)
        assert np.all((gates[name] > 0) & (gates[name] < 1)), name
    assert np.all(np.abs(gates["g"]) < 1)
    np.testing.assert_allclose(gates["c"][1], gates["f"][1] * gates["c"][0]
                               + gates["i"][1] * gates["g"][1], rtol=1e-6)


def test_textbook_gates_without_bias(rng):
    lstm = nn.LSTM(2, 3, bias=False, batch_first=True)
    x = rng.standard_normal((1, 4, 2)).astype(np.float32)
    np.testing.assert_allclose(lv.lstm_gates(lstm, x[0])["h"], lstm(x)[0][0], atol=1e-6)


def test_baselines_are_what_they_say():
    X, y = adding_problem(n=20000, length=10, seed=3)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(lv.BASELINE_MSE, abs=0.005)
    second = np.array([x[np.flatnonzero(x[:, 1])[1], 0] for x in X])
    assert np.mean((y[:, 0] - second - 0.5) ** 2) == pytest.approx(lv.LAST_ONLY_MSE, abs=0.003)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_adding_model_kinds(kind):
    model = lv.adding_model(kind, hidden=4)
    assert isinstance(model, LastStep)
    assert isinstance(model.recurrent, lv.KINDS[kind])
    assert model(np.zeros((3, 6, 2), np.float32)).shape == (3, 1)


@pytest.fixture(scope="module")
def tiny_results():
    return lv.compare_lengths(lengths=(3, 6), kinds=("RNN", "LSTM"), n_test=40, hidden=4,
                              epochs=2, n=64)


def test_compare_lengths_reports_its_models_errors(tiny_results):
    assert sorted(tiny_results) == [3, 6]
    for length, result in tiny_results.items():
        assert result.X_test.shape == (40, length, 2)
        for kind in ("RNN", "LSTM"):
            prediction = result.models[kind](result.X_test)[:, 0]
            np.testing.assert_allclose(result.predictions[kind], prediction, rtol=1e-6)
            mse = np.mean((prediction - result.y_test[:, 0]) ** 2)
            assert result.mse[kind] == pytest.approx(mse, rel=1e-5)


def test_training_on_the_adding_problem_beats_the_constant_answer():
    model = lv.train_adding("LSTM", length=5)          # the lesson's settings, ~1 s
    X, y = adding_problem(n=300, length=5, seed=7)
    assert np.mean((model(X) - y) ** 2) < 0.1 * lv.BASELINE_MSE


def test_lengths_figure_plots_the_errors_and_predictions(tiny_results):
    fig = lv.lengths_figure(tiny_results, 6)
    ax, ax2 = fig.axes
    rnn_line = next(line for line in ax.lines if line.get_label() == "RNN")
    np.testing.assert_allclose(rnn_line.get_ydata(), [tiny_results[n].mse["RNN"] for n in (3, 6)])
    offsets = fig.parts.points["LSTM"].get_offsets()
    np.testing.assert_allclose(offsets[:, 1], tiny_results[6].predictions["LSTM"], rtol=1e-6)
    np.testing.assert_allclose(offsets[:, 0], tiny_results[6].y_test[:, 0])
    assert "T = 6" in ax2.get_title()


def test_update_lengths_figure_moves_to_another_length(tiny_results):
    fig = lv.lengths_figure(tiny_results, 6)
    lv.update_lengths_figure(fig, 3)
    offsets = fig.parts.points["RNN"].get_offsets()
    np.testing.assert_allclose(offsets[:, 1], tiny_results[3].predictions["RNN"], rtol=1e-6)
    assert list(fig.parts.marker.get_xdata()) == [3, 3]
    assert fig.axes[1].get_title().startswith("T = 3")
    labels = [t.get_text() for t in fig.parts.legend.get_texts()]
    assert labels[0] == f"RNN: MSE {tiny_results[3].mse['RNN']:.3f}"


def test_gate_figure_shows_the_gates(tiny_results):
    model = tiny_results[6].models["LSTM"]
    x = tiny_results[6].X_test[0]
    fig = lv.gate_figure(model, x)
    gates = lv.lstm_gates(model.recurrent, x)
    heatmaps = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    for shown, key in zip(heatmaps, "ifoc", strict=True):
        np.testing.assert_allclose(shown, gates[key].T, rtol=1e-6)
    marked = x[np.flatnonzero(x[:, 1]), 0].sum()
    assert f"{marked:.3f}" in fig.axes[0].get_title()
    np.testing.assert_allclose([b.get_height() for b in fig.parts.bars], x[:, 0])


def test_update_gate_figure_shows_another_sequence(tiny_results):
    model = tiny_results[6].models["LSTM"]
    X = tiny_results[6].X_test
    fig = lv.gate_figure(model, X[0], c_limit=5.0)
    lv.update_gate_figure(fig, X[1])
    gates = lv.lstm_gates(model.recurrent, X[1])
    np.testing.assert_allclose(fig.parts.images["f"].get_array(), gates["f"].T, rtol=1e-6)
    assert fig.parts.images["c"].get_clim() == (-5.0, 5.0)      # one scale for all
    marked = np.flatnonzero(X[1, :, 1])
    assert [line.get_xdata()[0] for line in fig.parts.marks[0]] == list(marked)
    with pytest.raises(ValueError, match="6 steps"):
        lv.update_gate_figure(fig, X[0, :4])


def test_cell_state_limit_is_the_largest_cell_state(tiny_results):
    model = tiny_results[6].models["LSTM"]
    X = tiny_results[6].X_test[:5]
    largest = max(np.abs(lv.lstm_gates(model.recurrent, x)["c"]).max() for x in X)
    assert lv.cell_state_limit(model.recurrent, X) == pytest.approx(largest, rel=1e-5)


def test_cell_figure_names_the_three_gates():
    texts = " ".join(t.get_text() for t in lv.cell_figure().axes[0].texts)
    for word in ("forget gate", "input gate", "output gate", "cell state"):
        assert word in texts


def changed(box, control, value) -> bool:
    before = vw.image_array(box).copy()
    control.value = value
    return bool((before != vw.image_array(box)).any())


def kernel_ms(record) -> float:
    return record["compute_ms"] + record["draw_ms"] + record["encode_ms"]


def test_length_explorer_slider_shows_each_length(tiny_results):
    box = lv.length_explorer(tiny_results)
    slider = vw.find_control(box, "sequence length")
    assert slider.options == (3, 6) and slider.value == 6
    assert changed(box, slider, 3)
    assert box.view.fig.axes[1].get_title().startswith("T = 3")
    vw.TIMINGS.clear()
    slider.value = 6
    assert vw.TIMINGS[-1]["widget"] == "length_explorer" and kernel_ms(vw.TIMINGS[-1]) < 500


def test_gate_explorer_slider_shows_each_sequence(tiny_results):
    X = tiny_results[3].X_test
    box = lv.gate_explorer(tiny_results[3].models["LSTM"], X)
    slider = vw.find_control(box, "test sequence")
    assert slider.max == 39
    assert changed(box, slider, 7)
    np.testing.assert_allclose([b.get_height() for b in box.view.fig.parts.bars], X[7, :, 0])
    vw.TIMINGS.clear()
    slider.value = 8
    assert kernel_ms(vw.TIMINGS[-1]) < 500


def test_every_control_says_what_it_does(tiny_results):
    pytest.importorskip("ipywidgets")
    from test_viz_recurrent import controls_of
    for box in (lv.length_explorer(tiny_results),
                lv.gate_explorer(tiny_results[3].models["LSTM"], tiny_results[3].X_test)):
        controls = controls_of(box)
        assert controls
        for control in controls:
            assert control.description and len(control.tooltip or "") > 20, control
