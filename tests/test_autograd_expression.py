"""The formula reader of lesson 14's stepper: formulas become Value graphs, anything
else is refused in plain words, and nothing is ever run as Python."""
from __future__ import annotations

import math

import pytest

from dlcore.autograd import Value, topological_order
from dlcore.autograd.expression import VARIABLES, ExpressionError, parse_expression


def test_a_formula_becomes_a_graph_of_values_with_names():
    out = parse_expression("tanh(a * b + c) * a")
    labels = [n.label for n in topological_order(out)]
    assert labels == ["a", "b", "n1", "c", "n2", "n3", "out"]
    assert out.data == pytest.approx(math.tanh(2.0 * -3.0 + 10.0) * 2.0)
    out.backward()
    a = topological_order(out)[0]
    assert a.grad == pytest.approx(math.tanh(4.0) + 2.0 * -3.0 * (1 - math.tanh(4.0) ** 2))


def test_other_variables_can_be_given():
    out = parse_expression("p * q", {"p": 1.5, "q": 4.0})
    assert out.data == 6.0
    with pytest.raises(ExpressionError, match="'a' is not a variable"):
        parse_expression("a", {"p": 1.0})
    assert set(VARIABLES) == {"a", "b", "c", "x", "y"}


def test_the_text_is_never_run():
    calls = []
    before = dict(VARIABLES)
    with pytest.raises(ExpressionError):
        parse_expression("__import__('builtins').print('ran')")
    with pytest.raises(ExpressionError):
        parse_expression("(lambda: calls.append(1))()")
    assert calls == [] and VARIABLES == before


@pytest.mark.parametrize("text, words", [
    ("__import__('os').system('ls')", "only the functions"),
    ("open('x')", "only the functions"),
    ("a.data", "not allowed"),
    ("[a, b]", "not allowed"),
    ("lambda: 1", "not allowed"),
    ("a if b else c", "not allowed"),
    ("'text'", "not a number"),
    ("True * a", "not a number"),
    ("q + 1", "'q' is not a variable"),
    ("tanh + 1", "'tanh' is a function"),
    ("a ** b", "must be a number"),
    ("a ** 50", "too large"),
    ("tanh(a, b)", "one argument"),
    ("log(b)", "positive"),
    ("exp(exp(exp(c)))", "out of range"),
    ("a *", "not a formula"),
    ("", "empty"),
    ("a + " * 40 + "a", "characters long"),
    ("+".join(["a*b"] * 20), "nodes"),
])
def test_anything_but_a_formula_is_refused_in_plain_words(text, words):
    with pytest.raises(ExpressionError, match=words):
        parse_expression(text)


def test_constants_are_folded_or_labelled():
    out = parse_expression("2 * 3 * a - 1")
    labels = {n.label for n in topological_order(out) if not n._prev}
    assert "6" in labels and "a" in labels
    assert out.data == pytest.approx(6 * 2.0 - 1)
    assert isinstance(parse_expression("2 + 3"), Value)
