"""The backprop stepper records the engine's own values and gradients."""
from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore import nn, numerical_gradient, rel_error  # noqa: E402
from dlcore.viz import backprop  # noqa: E402


def test_steps_cover_forward_then_backward():
    model, loss_fn, x, y = backprop.tiny_network()
    steps = backprop.backprop_steps(model, loss_fn, x, y)
    # input, 3 layers, loss; dL/dy_hat, 3 layers backward
    assert [s.phase for s in steps] == ["forward"] * 5 + ["backward"] * 4
    assert [s.column for s in steps] == [0, 1, 2, 3, 4, 3, 2, 1, 0]
    assert set(steps[-1].grads) == {0, 1, 2, 3, 4}


def test_values_equal_the_forward_pass():
    model, loss_fn, x, y = backprop.tiny_network()
    steps = backprop.backprop_steps(model, loss_fn, x, y)
    last = steps[-1]
    h = model[1](model[0](x))
    np.testing.assert_allclose(last.values[2], h[0])
    y_hat = model(x)
    np.testing.assert_allclose(last.values[3], y_hat[0])
    assert last.values[4][0] == pytest.approx(loss_fn(y_hat, y))


def test_gradients_equal_the_engine_and_numerical_ones():
    model, loss_fn, x, y = backprop.tiny_network(seed=3)
    steps = backprop.backprop_steps(model, loss_fn, x, y)
    recorded = steps[-1].param_grads

    model.zero_grad()
    loss_fn(model(x), y)
    grad_x = model.backward(loss_fn.backward())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(recorded[name], p.grad, rtol=1e-12)
        numeric = numerical_gradient(lambda: loss_fn(model(x), y), p.data)
        assert rel_error(recorded[name], numeric) < 1e-6, name
    np.testing.assert_allclose(steps[-1].grads[0], grad_x[0])


def test_parameter_gradients_appear_only_after_their_layer():
    model, loss_fn, x, y = backprop.tiny_network()
    steps = backprop.backprop_steps(model, loss_fn, x, y)
    assert steps[5].param_grads == {}
    assert set(steps[6].param_grads) == {"2.weight", "2.bias"}
    assert set(steps[8].param_grads) == {"0.weight", "0.bias", "2.weight", "2.bias"}


def test_sigmoid_step_multiplies_by_the_local_derivative():
    model, loss_fn, x, y = backprop.tiny_network()
    steps = backprop.backprop_steps(model, loss_fn, x, y)
    h = steps[-1].values[2]
    np.testing.assert_allclose(steps[7].grads[1], steps[6].grads[2] * h * (1 - h))


def test_other_activations_and_sizes():
    model, loss_fn, x, y = backprop.tiny_network(hidden=3, activation=nn.Tanh)
    steps = backprop.backprop_steps(model, loss_fn, x, y)
    assert steps[-1].grads[1].shape == (3,)
    fig = backprop.draw_backprop_step(model, steps, len(steps) - 1)
    plt.close(fig)


def test_draw_each_step_gives_a_fixed_size_figure():
    model, loss_fn, x, y = backprop.tiny_network()
    steps = backprop.backprop_steps(model, loss_fn, x, y)
    sizes = set()
    for k in (0, 4, 8):
        fig = backprop.draw_backprop_step(model, steps, k)
        sizes.add(tuple(fig.get_size_inches()))
        assert fig.get_size_inches()[0] == 10.0          # the course's widest figure
        texts = " ".join(t.get_text() for t in fig.axes[0].texts)
        assert f"step {k} of 8" in texts
        assert bool(re.search(r"∂ [+-]\d", texts)) == (k >= 5)
        plt.close(fig)
    assert len(sizes) == 1
    with pytest.raises(ValueError, match="step must be in 0..8"):
        backprop.draw_backprop_step(model, steps, 9)


def test_update_shows_the_same_step_as_a_fresh_drawing():
    model, loss_fn, x, y = backprop.tiny_network()
    steps = backprop.backprop_steps(model, loss_fn, x, y)
    fig = backprop.draw_backprop_step(model, steps, 0)
    for k in (6, 2, 8):
        backprop.update_backprop_step(fig, k)
        fresh = backprop.draw_backprop_step(model, steps, k)
        assert [t.get_text() for t in fig.axes[0].texts] == [
            t.get_text() for t in fresh.axes[0].texts]
        assert [p.get_facecolor() for p in fig.axes[0].patches] == [
            p.get_facecolor() for p in fresh.axes[0].patches]
        plt.close(fresh)
    plt.close(fig)


def test_one_sample_only():
    model, loss_fn, _, _ = backprop.tiny_network()
    with pytest.raises(ValueError, match="one sample"):
        backprop.backprop_steps(model, loss_fn, np.zeros((2, 2)), np.zeros((2, 1)))


def test_stepper_slider_and_buttons_show_each_step():
    pytest.importorskip("ipywidgets")
    from dlcore.viz import widgets as vw

    box = backprop.backprop_stepper()
    fig = box.view.fig
    slider = vw.find_control(box, "step (forward, then backward)")
    assert slider.max == 8 and slider.continuous_update

    def title():
        return next(t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("step "))

    first = vw.image_array(box).copy()
    vw.find_control(box, "next ▶").click()
    assert slider.value == 1 and title().startswith("step 1 of 8 (forward)")
    assert (vw.image_array(box) != first).any()
    slider.value = 8
    assert box.view.fig is fig and title().startswith("step 8 of 8 (backward)")
    vw.find_control(box, "next ▶").click()                 # stays at the last step
    assert slider.value == 8
    vw.find_control(box, "◀ back").click()
    assert slider.value == 7 and title().startswith("step 7 of 8")


def test_a_step_is_fast_in_the_kernel():
    import time

    from dlcore.viz import widgets as vw

    box = backprop.backprop_stepper()
    t0 = time.process_time()   # CPU time: a loaded machine does not fail it
    vw.find_control(box, "next ▶").click()
    assert time.process_time() - t0 < 0.5      # gross-regression guard


def test_blitted_steps_equal_a_full_redraw():
    from dlcore.viz import widgets as vw

    box = backprop.backprop_stepper()
    for k in (3, 8, 6):
        vw.find_control(box, "step (forward").value = k
        blitted = vw.image_array(box).copy()
        box.view.show()
        np.testing.assert_array_equal(vw.image_array(box), blitted)
