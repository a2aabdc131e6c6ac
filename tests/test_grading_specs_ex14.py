"""Exercise 14's specs: learner-style answers with the usual mistakes (`=` for `+=`, the
order reversed, no seed, a shared matrix not summed) get their hint; any valid
topological order passes; the engine's autograd and PyTorch are refused."""
from __future__ import annotations

import math

import numpy as np
import pytest

from dlcore.grading import get_spec, run_check
from dlcore.grading.specs.ex14_autograd import TOPO_REVERSED, TOPO_TWICE, _topo_compare

SEEDS = (0, 1, 7, 12345)


def make_value(assign=False, no_upstream=False, swap=False, tanh_of_input=False):
    """A learner's Value, right or with one typical mistake."""

    class Value:
        def __init__(self, data, _prev=(), _op=""):
            self.data = float(data)
            self.grad = 0.0
            self._prev = _prev
            self._op = _op
            self._backward = lambda: None

        def __add__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            out = Value(self.data + other.data, (self, other), "+")

            def _backward():
                g = 1.0 if no_upstream else out.grad
                if assign:
                    self.grad = g
                    other.grad = g
                else:
                    self.grad += g
                    other.grad += g
            out._backward = _backward
            return out

        def __mul__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            out = Value(self.data * other.data, (self, other), "*")

            def _backward():
                g = 1.0 if no_upstream else out.grad
                mine, theirs = (self.data, other.data) if swap else (other.data, self.data)
                if assign:
                    self.grad = mine * g
                    other.grad = theirs * g
                else:
                    self.grad += mine * g
                    other.grad += theirs * g
            out._backward = _backward
            return out

        def __pow__(self, k):
            out = Value(self.data ** k, (self,), "**")

            def _backward():
                g = 1.0 if no_upstream else out.grad
                self.grad += k * self.data ** (k - 1) * g
            out._backward = _backward
            return out

        def tanh(self):
            t = math.tanh(self.data)
            out = Value(t, (self,), "tanh")

            def _backward():
                g = 1.0 if no_upstream else out.grad
                self.grad += (1 - (self.data if tanh_of_input else t) ** 2) * g
            out._backward = _backward
            return out

        def exp(self):
            out = Value(math.exp(self.data), (self,), "exp")

            def _backward():
                self.grad += out.data * (1.0 if no_upstream else out.grad)
            out._backward = _backward
            return out

    return Value


def topo_sort(root):
    order, visited = [], set()

    def visit(node):
        if node not in visited:
            visited.add(node)
            for child in node._prev:
                visit(child)
            order.append(node)
    visit(root)
    return order


def topo_sort_kahn(root):
    """Another valid order (breadth-first from the leaves), unlike the engine's."""
    nodes, stack = [], [root]
    while stack:
        node = stack.pop()
        if node not in nodes:
            nodes.append(node)
            stack.extend(node._prev)
    waiting = {n: len(set(n._prev)) for n in nodes}
    users = {n: [m for m in nodes if n in m._prev] for n in nodes}
    ready = sorted((n for n in nodes if waiting[n] == 0), key=lambda n: -n.number)
    order = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for user in users[node]:
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    return order


def topo_sort_no_visited(root):
    order = []

    def visit(node):
        for child in node._prev:
            visit(child)
        order.append(node)
    visit(root)
    return order


def topo_sort_reversed(root):
    return topo_sort(root)[::-1]


def backward_right(root):
    root.grad = 1.0
    for node in reversed(topo_sort(root)):
        node._backward()


def backward_no_seed(root):
    for node in reversed(topo_sort(root)):
        node._backward()


def backward_forward_order(root):
    root.grad = 1.0
    for node in topo_sort(root):
        node._backward()


def matmul_backward(A, B, grad_out):
    dA = grad_out @ np.swapaxes(B, -1, -2)
    dB = np.swapaxes(A, -1, -2) @ grad_out
    while dA.ndim > A.ndim:
        dA = dA.sum(axis=0)
    while dB.ndim > B.ndim:
        dB = dB.sum(axis=0)
    return dA, dB


def matmul_backward_unsummed(A, B, grad_out):
    return grad_out @ np.swapaxes(B, -1, -2), np.swapaxes(A, -1, -2) @ grad_out


def matmul_backward_plain_T(A, B, grad_out):
    return grad_out @ B.T, A.T @ grad_out


def namespace(**names):
    """What a notebook holds: the learner's functions (backward finds topo_sort here)."""
    return dict(names)


@pytest.mark.parametrize("grade_id, ns", [
    ("value_backward", {"Value": make_value()}),
    ("topo_sort", {"topo_sort": topo_sort}),
    ("topo_sort", {"topo_sort": topo_sort_kahn}),
    ("backward_pass", {"backward": backward_right}),
    ("matmul_backward", {"matmul_backward": matmul_backward}),
])
def test_right_answers_pass_on_every_seed(grade_id, ns):
    report = run_check(get_spec(grade_id), ns, seeds=SEEDS)
    assert report.passed, report.text()


def test_kahn_order_differs_from_the_engine_order_yet_passes():
    spec = get_spec("topo_sort")
    differs = 0
    for case in spec.cases(SEEDS):
        mine = spec.run({"topo_sort": topo_sort_kahn}, case)
        differs += mine["order"].tolist() != spec.reference(case)["order"].tolist()
        assert _topo_compare(spec, mine, spec.reference(case), case).passed
    assert differs


@pytest.mark.parametrize("grade_id, ns, words", [
    ("value_backward", {"Value": make_value(assign=True)}, "never `=`"),
    ("value_backward", {"Value": make_value(no_upstream=True)}, "by out.grad"),
    ("value_backward", {"Value": make_value(swap=True)}, "the OTHER input"),
    ("value_backward", {"Value": make_value(tanh_of_input=True)}, "not a itself"),
    ("topo_sort", {"topo_sort": topo_sort_no_visited}, "visited"),
    ("topo_sort", {"topo_sort": topo_sort_reversed}, "The order is reversed"),
    ("backward_pass", {"backward": backward_no_seed}, "root.grad = 1.0"),
    ("backward_pass", {"backward": backward_forward_order}, "REVERSED"),
    ("matmul_backward", {"matmul_backward": matmul_backward_unsummed}, "sum its gradient"),
    ("matmul_backward", {"matmul_backward": matmul_backward_plain_T}, "LAST two axes"),
])
def test_typical_mistakes_get_their_hint(grade_id, ns, words):
    report = run_check(get_spec(grade_id), ns, seeds=SEEDS)
    assert not report.passed
    assert any(words in o.hint for o in report.outcomes if not o.passed), report.text()


def test_backward_without_a_seed_is_named_even_with_a_broken_walk():
    spec = get_spec("backward_pass")
    report = run_check(spec, {"backward": backward_no_seed})
    assert all("Every gradient is 0" in o.hint for o in report.outcomes)


def test_topo_comparer_names_each_problem():
    spec = get_spec("topo_sort")
    case = spec.cases()[-1]                                  # the diamond
    right = spec.reference(case)
    assert _topo_compare(spec, right, right, case).passed
    twice = {"order": np.array([0, 1, 3, 0, 2, 4, 5])}
    assert _topo_compare(spec, twice, right, case).hint == TOPO_TWICE
    backwards = {"order": right["order"][::-1].copy()}
    assert _topo_compare(spec, backwards, right, case).hint == TOPO_REVERSED
    short = _topo_compare(spec, {"order": np.array([4, 5])}, right, case)
    assert not short.passed and "misses 4 of the 6" in short.message
    mixed = _topo_compare(spec, {"order": np.array([0, 3, 1, 2, 4, 5])}, right, case)
    assert not mixed.passed and "before one of its inputs" in mixed.message
    assert not _topo_compare(spec, {"order": "nodes"}, right, case).passed


def test_topo_sort_returning_other_things_is_told_in_plain_words():
    spec = get_spec("topo_sort")
    for answer, words in ((lambda root: None, "returned None"),
                          (lambda root: 3, "should return a list"),
                          (lambda root: [n._prev for n in topo_sort(root)], "holds a tuple")):
        report = run_check(spec, {"topo_sort": answer})
        assert not report.passed and words in report.outcomes[0].message, report.text()


@pytest.mark.parametrize("grade_id, code", [
    ("value_backward", "from dlcore.autograd import Value\n"),
    ("topo_sort", "from dlcore.autograd import topological_order as topo_sort\n"),
    ("topo_sort", "from graphlib import TopologicalSorter\ndef topo_sort(root):\n    pass\n"),
    ("backward_pass",
     "import dlcore\ndef backward(root):\n    dlcore.autograd.Value.backward(root)\n"),
    ("matmul_backward", "import torch\ndef matmul_backward(A, B, grad_out):\n    pass\n"),
])
def test_ready_made_autodiff_is_refused(grade_id, code):
    spec = get_spec(grade_id)
    assert spec.refusal(code)
    assert not spec.refusal("# not dlcore.autograd, not torch\nx = 'autograd'\n")
