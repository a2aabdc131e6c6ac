"""Read a formula such as ``"tanh(a * b + c)"`` into a graph of ``Value``s, safely.

The text is never run as Python. ``ast.parse`` turns it into a syntax tree, and
``parse_expression`` walks that tree accepting only numbers, the variables of
``VARIABLES``, ``+ - * / **`` (a constant exponent) and the functions
``tanh exp log relu``; anything else (names, attributes, calls, strings,
comprehensions...) is an ``ExpressionError`` that says in plain words what is
allowed. Lengths, exponents and graph sizes are capped, so a formula cannot
make the numbers overflow unnoticed or the drawing unreadable.

    out = parse_expression("a * a + b")     # a Value; out.backward() works as usual
"""
from __future__ import annotations

import ast
import operator

from .graph import topological_order
from .value import Value

VARIABLES = {"a": 2.0, "b": -3.0, "c": 10.0, "x": 0.5, "y": -1.5}
FUNCTIONS = ("tanh", "exp", "log", "relu")
MAX_LENGTH = 120
MAX_NODES = 40
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_APPLY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
          "**": operator.pow}


class ExpressionError(ValueError):
    """An expression the parser does not accept; the message says why in plain words."""


ALLOWED = (f"use numbers, the variables {', '.join(VARIABLES)}, + - * / ** and "
           f"{', '.join(FUNCTIONS)}( )")


def parse_expression(text: str, variables: dict[str, float] | None = None) -> Value:
    """The output ``Value`` of ``text``, its graph built by the autograd engine.

    Leaves are labelled with their variable names (or the number), inner nodes
    ``n1, n2, ...`` in the order they are computed, and the output ``out``.
    A variable used twice is one leaf used twice, as in Python.
    """
    variables = VARIABLES if variables is None else variables
    text = text.strip()
    if not text:
        raise ExpressionError(f"the expression is empty: {ALLOWED}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long; keep it under "
                              f"{MAX_LENGTH}")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"not a formula Python can read (at character "
                              f"{err.offset}): {ALLOWED}") from None
    leaves = {name: Value(value, label=name) for name, value in variables.items()}
    try:
        out = _build(tree.body, leaves)
    except (OverflowError, ZeroDivisionError) as err:
        raise ExpressionError(f"the numbers get out of range ({err}): try smaller "
                              "values") from None
    if not isinstance(out, Value):
        out = Value(out, label=_number(out))
    order = topological_order(out)
    if len(order) > MAX_NODES:
        raise ExpressionError(f"the graph has {len(order)} nodes; keep it under {MAX_NODES} "
                              "so it fits in the picture")
    for node in order:                   # constants made inside an operation (the 1 in a - 1)
        if not node.label:
            node.label = _number(node.data)
    inner = [node for node in order if node._prev]
    for k, node in enumerate(inner, start=1):
        node.label = f"n{k}"
    out.label = "out"
    return out


def _number(value: float) -> str:
    return f"{value:g}"


def _build(node: ast.AST, leaves: dict[str, Value]) -> Value | float:
    """The Value (or plain number, for a constant) of one syntax-tree node."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"{node.value!r} is not a number: {ALLOWED}")
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in leaves:
            known = "a function" if node.id in FUNCTIONS else "not a variable"
            raise ExpressionError(f"'{node.id}' is {known} here: {ALLOWED}")
        return leaves[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _build(node.operand, leaves)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left = _build(node.left, leaves)
        right = _build(node.right, leaves)
        symbol = _OPERATORS[type(node.op)]
        if symbol == "**":
            if isinstance(right, Value):
                raise ExpressionError("the exponent of ** must be a number, as in a ** 2")
            if abs(right) > 10:
                raise ExpressionError(f"the exponent {right:g} is too large: use -10 to 10")
        if not isinstance(left, Value) and not isinstance(right, Value):
            return _APPLY[symbol](left, right)            # two numbers: folded to a number
        if not isinstance(left, Value):
            left = Value(left, label=_number(left))
        return _APPLY[symbol](left, right)                # Value's own +, -, *, /, **
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            raise ExpressionError(f"only the functions {', '.join(FUNCTIONS)} can be called: "
                                  f"{ALLOWED}")
        if len(node.args) != 1 or node.keywords:
            raise ExpressionError(f"{name}( ) takes one argument, as in {name}(a * b)")
        arg = _build(node.args[0], leaves)
        if not isinstance(arg, Value):
            arg = Value(arg, label=_number(arg))
        if name == "log" and arg.data <= 0:
            raise ExpressionError(f"log needs a positive number, but its argument is "
                                  f"{arg.data:g}")
        return getattr(arg, name)()
    raise ExpressionError(f"'{ast.unparse(node)}' is not allowed: {ALLOWED}")
