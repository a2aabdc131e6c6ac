"""Lesson 14's expression stepper: the examples evaluate as Python would, the
steps are Value.backward one node at a time, and the widget wires them up."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from dlcore.autograd import topological_order  # noqa: E402
from dlcore.viz import autograd as viz  # noqa: E402


@pytest.mark.parametrize("text", viz.EXAMPLES)
def test_examples_evaluate_like_python_and_step_to_value_backward(text):
    out = viz.parse_expression(text)
    env = {"tanh": math.tanh, "exp": math.exp, "log": math.log,
           "relu": lambda v: max(v, 0.0), **viz.VARIABLES}
    assert out.data == pytest.approx(eval(text, {"__builtins__": {}}, env))  # our own text
    steps = viz.backward_steps(out)
    stepped = {n.label: n.grad for n in topological_order(out)}
    again = viz.parse_expression(text)
    again.backward()
    assert stepped == pytest.approx({n.label: n.grad for n in topological_order(again)})
    inner = [n for n in topological_order(out) if n._prev]
    assert len(steps) == 2 + len(inner)
    assert [s.node for s in steps[2:]] == list(reversed(inner))
    assert steps[-1].grads[id(out)] == 1.0


def test_a_variable_used_twice_is_one_leaf_whose_gradient_adds_up():
    out = viz.parse_expression("a * a")
    leaves = [n for n in topological_order(out) if not n._prev]
    assert [n.label for n in leaves] == ["a"]
    steps = viz.backward_steps(out)
    assert steps[-1].grads[id(leaves[0])] == 2 * viz.VARIABLES["a"]
    assert "used twice" in steps[-1].formula


def test_gradients_appear_in_reverse_topological_order():
    out = viz.parse_expression("tanh(x * y + x)")
    steps = viz.backward_steps(out)
    assert steps[0].grads == {}
    assert steps[1].grads == {id(out): 1.0}
    known = [set(s.grads) for s in steps]
    assert all(a <= b for a, b in zip(known, known[1:], strict=False))   # only ever grows
    x = next(n for n in topological_order(out) if n.label == "x")
    # x feeds + (step 3) and * (step 4): its gradient is complete only at the end
    assert steps[3].grads[id(x)] != steps[4].grads[id(x)]
    assert steps[4].grads[id(x)] == pytest.approx(
        (1 - math.tanh(0.5 * -1.5 + 0.5) ** 2) * (-1.5 + 1))


def test_draw_graph_marks_the_current_node_and_rejects_a_bad_step():
    out = viz.parse_expression("relu(a * b + c) * x")
    steps = viz.backward_steps(out)
    fig = viz.draw_graph(out, steps, 3)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any(t.startswith("step 3 of 5") for t in texts)
    assert any("relu" in t for t in texts)
    assert sum(t.startswith("∂ ") for t in texts) == len(steps[3].grads)
    plain = viz.draw_graph(out)
    assert not any(t.startswith("∂ ") for t in (x.get_text() for x in plain.axes[0].texts))
    with pytest.raises(ValueError, match="step must be in 0..5"):
        viz.draw_graph(out, steps, 6)


def test_stepper_widget_reparses_steps_and_reports_errors():
    pytest.importorskip("ipywidgets")
    import time

    from dlcore.viz import widgets

    box = viz.backward_stepper("a * b + c")
    slider = widgets.find_control(box, "step of the backward pass")
    status, text = box.children[1], widgets.find_control(box, "expression")
    assert slider.max == 3 and "out = 4" in status.value
    fig = box.view.fig
    before = widgets.image_array(box)
    widgets.find_control(box, "next").click()
    widgets.find_control(box, "next").click()
    assert slider.value == 2 and box.view.fig is fig           # the same figure, changed
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "step 2 of 3" in box.caption.value and not any(t.startswith("step") for t in texts)
    assert sum(t.startswith("∂ ") for t in texts) == len(box.state["steps"][2].grads)
    assert (widgets.image_array(box) != before).any()
    before = widgets.image_array(box)
    back = widgets.find_control(box, "◀ back")
    back.click()
    assert slider.value == 1 and (widgets.image_array(box) != before).any()
    back.click()
    assert slider.value == 0 and back.disabled               # nothing before step 0
    assert not widgets.find_control(box, "next").disabled
    before = widgets.image_array(box)
    start = time.process_time()
    widgets.find_control(box, "example").value = "a * a"
    assert time.process_time() - start < 0.5          # CPU time: a gross-regression guard
    assert text.value == "a * a" and slider.value == 0 and slider.max == 2
    assert "step 0 of 2: Forward pass done" in box.caption.value
    assert (widgets.image_array(box) != before).any()
    shown = [t.get_text() for t in box.view.fig.axes[0].texts]
    assert shown.count("a") == 1 and "b" not in shown              # a * a's graph, alone
    slider.value = 2
    assert widgets.find_control(box, "next").disabled and not back.disabled
    text.value = "import os"
    assert "not a formula" in status.value and slider.max == 2
    widgets.find_control(box, "example").value = "a * b + c"      # drawn once, kept
    assert box.view.fig is fig and slider.value == 0 and slider.max == 3


def test_a_step_redraws_fast_and_matches_a_fresh_drawing():
    pytest.importorskip("ipywidgets")
    import time

    import numpy as np

    from dlcore.viz import widgets

    box = viz.backward_stepper("tanh(x * y + x)")
    slider = widgets.find_control(box, "step of the backward pass")
    start = time.process_time()
    slider.value = 4
    assert time.process_time() - start < 0.5         # CPU time: a gross-regression guard
    fresh = viz.draw_graph(box.state["out"], box.state["steps"], 4, caption=False)
    view = widgets.FigureView(fresh)
    view.show()
    np.testing.assert_array_equal(widgets.image_array(view), widgets.image_array(box))


def test_a_new_expression_on_the_kept_figure_matches_a_fresh_drawing():
    pytest.importorskip("ipywidgets")
    import numpy as np

    from dlcore.viz import widgets

    box = viz.backward_stepper("relu(a * b + c) * x")      # a bigger graph first
    widgets.find_control(box, "example").value = "a * a"
    widgets.find_control(box, "next").click()
    fresh = widgets.FigureView(viz.draw_graph(box.state["out"], box.state["steps"], 1,
                                              caption=False))
    fresh.show()
    np.testing.assert_array_equal(widgets.image_array(fresh), widgets.image_array(box))
