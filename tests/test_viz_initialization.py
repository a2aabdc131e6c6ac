"""dlcore.viz.initialization: signals through depth against the initial weights' scale."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

from dlcore import nn
from dlcore.viz import initialization as vi

matplotlib.use("Agg")


def test_deep_mlp_draws_weights_with_the_asked_variance():
    model = vi.deep_mlp("relu", gain=2.0, depth=3, width=200)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert len(linears) == 3 and all(isinstance(m, nn.ReLU) for m in list(model)[1::2])
    for layer in linears:
        assert layer.weight.shape == (200, 200)
        assert layer.weight.data.std() == pytest.approx(2.0 / math.sqrt(200), rel=0.03)
        assert not layer.bias.data.any()


def test_the_run_keeps_every_layers_output_and_input_gradient():
    run = vi.signal_through_depth("tanh", 1.0, depth=4, width=16, n=32)
    assert len(run.activations) == len(run.gradients) == 4
    assert all(a.shape == (32, 16) for a in run.activations + run.gradients)
    assert run.activation_std.shape == run.gradient_std.shape == (4,)
    assert np.abs(run.activations[-1]).max() < 1                  # tanh outputs


def test_the_gradients_are_the_engines_backward():
    """The last gradient kept is what Sequential.backward returns for the same
    model, input and top gradient (same seeds)."""
    run = vi.signal_through_depth("relu", 1.3, depth=3, width=8, n=5, seed=4)
    model = vi.deep_mlp("relu", 1.3, depth=3, width=8, seed=4)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 8)).astype(np.float32)
    out = model(x)
    np.testing.assert_allclose(out, run.activations[-1], rtol=1e-6)
    grad = model.backward(rng.standard_normal(out.shape).astype(np.float32))
    np.testing.assert_allclose(grad, run.gradients[0], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_too_small_weights_kill_the_signal_and_too_large_ones_blow_it_up(activation):
    small = vi.signal_through_depth(activation, 0.5)
    large = vi.signal_through_depth(activation, 2.0 if activation == "relu" else 4.0)
    assert small.activation_std[-1] < 0.01 * small.activation_std[0]
    assert small.gradient_std[0] < 0.01 * small.gradient_std[-1]   # dies on its way down
    assert large.gradient_std[0] > 5 * large.gradient_std[-1]      # grows on its way down
    if activation == "relu":
        assert large.activation_std[-1] > 10 * large.activation_std[0]


def test_he_keeps_relu_signals_steady_and_five_thirds_keeps_tanh_signals_steady():
    """He (gain sqrt 2) for ReLU; for tanh, gain 1 (Xavier/LeCun) lets both shrink,
    PyTorch's calculate_gain('tanh') = 5/3 holds the activations and keeps the
    gradient within a factor 3 over ten layers."""
    he = vi.signal_through_depth("relu", math.sqrt(2))
    assert he.activation_std.max() < 1.5 * he.activation_std.min()
    assert he.gradient_std.max() < 1.5 * he.gradient_std.min()
    xavier = vi.signal_through_depth("tanh", 1.0)
    assert xavier.activation_std[-1] < 0.5 * xavier.activation_std[0]
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    tanh = vi.signal_through_depth("tanh", 5 / 3)
    assert tanh.activation_std.max() < 1.3 * tanh.activation_std.min()
    assert tanh.gradient_std.max() < 3 * tanh.gradient_std.min()


def test_figures_show_the_layers_and_the_gains():
    run = vi.signal_through_depth("relu", 1.0, depth=6, width=16, n=32)
    fig = vi.histograms_figure(run)
    assert len(fig.axes) == 8                                       # layers 1, 2, 4, 6
    assert fig.axes[0].get_title() == "output of layer 1"
    assert fig.axes[4].get_title() == "gradient at the input of layer 1"
    assert fig.parts.stds[0].get_text() == f"std {run.activations[0].std():.3g}"
    assert fig.parts.stds[7].get_text() == f"std {run.gradients[5].std():.3g}"
    fig = vi.std_figure({1.0: run, 2.0: vi.signal_through_depth("relu", 2.0, 6, 16, 32)})
    assert [line.get_label() for line in fig.axes[0].lines] == ["relu, gain 1.00",
                                                                 "relu, gain 2.00"]
    assert fig.axes[0].lines[0].get_linestyle() != fig.axes[0].lines[1].get_linestyle()


def test_histograms_share_a_round_range_per_row_and_count_every_value():
    run = vi.signal_through_depth("tanh", 4.0, depth=6, width=16, n=32)
    data = vi.histograms(run, (1, 2, 4, 6))
    assert data.counts.shape == (2, 4, vi.HIST_BINS) and data.stds.shape == (2, 4)
    assert (data.counts.sum(axis=2) == 32 * 16).all()              # every value counted
    assert data.limits[0] == 1.0                                   # tanh outputs: (-1, 1)
    widest = max(np.abs(run.gradients[k - 1]).max() for k in (1, 2, 4, 6))
    spread = 5 * max(run.gradients[k - 1].std() for k in (1, 2, 4, 6))
    assert min(widest, spread) <= data.limits[1] < 2.5 * min(widest, spread)
    mantissa = data.limits[1] / 10 ** np.floor(np.log10(data.limits[1]))
    assert any(mantissa == pytest.approx(m) for m in (1, 2, 2.5, 5))
    fig = vi.histograms_figure(run)
    low, high = fig.parts.ends[4]                                  # the gradients' row
    assert (low.get_text(), high.get_text()) == (f"\N{MINUS SIGN}{data.limits[1]:g}",
                                                 f"{data.limits[1]:g}")
    assert fig.axes[0].get_xlim() == fig.axes[7].get_xlim()        # the axes never change


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="activation must be one of"):
        vi.deep_mlp("sigmoid")
    with pytest.raises(ValueError, match="gain > 0"):
        vi.deep_mlp("tanh", gain=0)


def test_update_draws_the_same_panels_as_a_fresh_figure():
    small = vi.signal_through_depth("tanh", 0.5, depth=6, width=16, n=32)
    large = vi.signal_through_depth("relu", 2.0, depth=6, width=16, n=32)
    fig = vi.histograms_figure(small)
    vi.update_histograms_figure(fig, large)
    fresh = vi.histograms_figure(large)
    for name in ("stds", "ends"):
        texts = [[t.get_text() for t in np.ravel(getattr(f.parts, name))] for f in (fig, fresh)]
        assert texts[0] == texts[1]
    for a, b in zip(fig.parts.hists, fresh.parts.hists, strict=True):
        np.testing.assert_array_equal(a.get_data().values, b.get_data().values)
    assert max(fig.parts.hists[0].get_data().values) == 1.0      # scaled to the tallest bar
    assert fig._suptitle.get_text().startswith("relu, W ~ N(0, gain² / fan_in) with gain 2.00")
    assert fig.parts.shown.gain == 2.0
    counted = vi.histograms_figure(vi.histograms(large, (1, 2, 4, 6)))   # counted once
    assert [t.get_text() for t in counted.parts.stds] == [t.get_text() for t in fresh.parts.stds]


def test_the_widget_redraws_and_its_button_sets_the_preset_gain():
    import ipywidgets as widgets

    from dlcore.viz import widgets as vw

    box = vi.init_explorer(depth=3, width=8)
    fig = box.view.fig
    activation = vw.find_control(box, "activation of every layer")
    gain = vw.find_control(box, "weight std")
    button = vw.find_control(box, "set the argument's gain")
    assert isinstance(activation, widgets.Dropdown) and isinstance(gain, widgets.FloatLogSlider)
    before = vw.image_array(box).copy()
    activation.value = "relu"
    assert box.view.fig is fig and fig._suptitle.get_text().startswith("relu")
    assert (vw.image_array(box) != before).any()
    blitted = vw.image_array(box).copy()        # only the bars and numbers redrawn ...
    box.view.show()
    np.testing.assert_array_equal(vw.image_array(box), blitted)   # ... as a full redraw
    before = blitted
    gain.value = 0.25
    assert fig.parts.shown.gain == 0.25 and (vw.image_array(box) != before).any()
    button.click()
    assert gain.value == pytest.approx(math.sqrt(2))
    assert "gain 1.41" in fig._suptitle.get_text()
    activation.value = "tanh"
    button.click()
    assert gain.value == pytest.approx(1.0)
    assert fig._suptitle.get_text() == "tanh, W ~ N(0, gain² / fan_in) with gain 1.00"


def test_a_change_of_gain_is_fast_in_the_kernel():
    import time

    from dlcore.viz import widgets as vw

    box = vi.init_explorer()
    t0 = time.process_time()   # CPU time: a loaded machine does not fail it
    vw.find_control(box, "weight std").value = 2.0
    # gross-regression guard: a fresh ten-layer run and eight panels took 0.26-0.62 s of
    # CPU at load 7-8 (the BLAS threads fight the load), about 0.1 s on one quiet thread
    assert time.process_time() - t0 < 1.5
    vw.TIMINGS.clear()
    vw.find_control(box, "weight std").value = 1.0     # seen before: counted, blitted
    (record,) = vw.TIMINGS
    assert record["compute_ms"] < 20                     # no run, no counting: a cache hit
    assert record["draw_ms"] + record["encode_ms"] < 500   # ~60 ms at load 2
