"""dlcore.autograd.Value: every scalar operation against central differences, a
value used twice, the topological order, and the same gradients as PyTorch."""
from __future__ import annotations

import math

import pytest

from dlcore.autograd import Value, topological_order


def numeric(f, x: float, eps: float = 1e-6) -> float:
    return (f(x + eps) - f(x - eps)) / (2 * eps)


# (name, the expression on a Value, the same on a float)
UNARY = [
    ("add", lambda v: v + 1.5, lambda x: x + 1.5),
    ("radd", lambda v: 1.5 + v, lambda x: 1.5 + x),
    ("mul", lambda v: v * -2.5, lambda x: x * -2.5),
    ("rmul", lambda v: -2.5 * v, lambda x: -2.5 * x),
    ("sub", lambda v: v - 4.0, lambda x: x - 4.0),
    ("rsub", lambda v: 4.0 - v, lambda x: 4.0 - x),
    ("neg", lambda v: -v, lambda x: -x),
    ("pow 3", lambda v: v ** 3, lambda x: x ** 3),
    ("pow -1", lambda v: v ** -1, lambda x: x ** -1),
    ("pow 0.5", lambda v: v ** 0.5, lambda x: x ** 0.5),
    ("div", lambda v: v / 3.0, lambda x: x / 3.0),
    ("rdiv", lambda v: 3.0 / v, lambda x: 3.0 / x),
    ("tanh", lambda v: v.tanh(), math.tanh),
    ("exp", lambda v: v.exp(), math.exp),
    ("log", lambda v: v.log(), math.log),
    ("relu", lambda v: v.relu(), lambda x: max(x, 0.0)),
]


@pytest.mark.parametrize("name, on_value, on_float", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("x", [0.7, 1.9])
def test_each_operation_matches_central_differences(name, on_value, on_float, x):
    v = Value(x)
    out = on_value(v)
    assert out.data == pytest.approx(on_float(x))
    out.backward()
    assert v.grad == pytest.approx(numeric(on_float, x), rel=1e-6, abs=1e-8)


def test_relu_below_zero_passes_nothing():
    v = Value(-0.3)
    v.relu().backward()
    assert v.grad == 0.0


def test_binary_operations_give_both_inputs_their_gradient():
    a, b = Value(1.3), Value(-0.4)
    out = (a * b + a / b - b ** 2).tanh()
    out.backward()

    def f(x, y):
        return math.tanh(x * y + x / y - y ** 2)
    assert a.grad == pytest.approx(numeric(lambda x: f(x, -0.4), 1.3), rel=1e-6)
    assert b.grad == pytest.approx(numeric(lambda y: f(1.3, y), -0.4), rel=1e-6)


def test_a_value_used_twice_gets_the_sum_of_both_shares():
    a = Value(3.0)
    (a * a).backward()                         # d(a^2)/da = 2a, one a from each use
    assert a.grad == 6.0
    b = Value(2.0)
    (b + b).backward()
    assert b.grad == 2.0
    x, y = Value(2.0), Value(-3.0)
    (x * y + x).backward()                     # x feeds two nodes: y + 1
    assert x.grad == -2.0 and y.grad == 2.0


def test_gradients_accumulate_over_backward_calls_as_in_pytorch():
    a = Value(2.0)
    out = a * 5.0
    out.backward()
    out.backward()
    assert a.grad == 10.0


def test_topological_order_puts_inputs_before_their_users_and_each_node_once():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    d = c + a
    e = d * c                                  # c used twice, a three times
    order = topological_order(e)
    assert len(order) == len({id(n) for n in order}) == 5
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for child in node._prev:
            assert position[id(child)] < position[id(node)]
    assert order[-1] is e


def test_topological_order_of_a_deep_chain_does_not_recurse():
    x = Value(0.5)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.0)


def test_errors_name_what_was_wrong():
    with pytest.raises(TypeError, match="constant number"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(ValueError, match="positive"):
        Value(-1.0).log()
    with pytest.raises(TypeError, match="takes a number"):
        Value(Value(1.0))


@pytest.mark.torch
def test_same_gradients_as_pytorch():
    torch = pytest.importorskip("torch")
    a, b, c = Value(0.8), Value(-1.7), Value(2.2)
    out = ((a * b).tanh() + (c ** 2 / (a.exp() + 1)).log() - a * c).relu() + b * b
    out.backward()
    ta, tb, tc = (torch.tensor(v, dtype=torch.float64, requires_grad=True)
                  for v in (0.8, -1.7, 2.2))
    tout = torch.relu(torch.tanh(ta * tb) + torch.log(tc ** 2 / (torch.exp(ta) + 1)) - ta * tc) \
        + tb * tb
    tout.backward()
    assert out.data == pytest.approx(tout.item(), rel=1e-12)
    for mine, theirs in ((a, ta), (b, tb), (c, tc)):
        assert mine.grad == pytest.approx(theirs.grad.item(), rel=1e-12, abs=1e-15)
