"""The two things every autograd engine needs besides its operations: the order in
which to visit the graph, and a switch that stops recording it.

A node is anything with ``_prev``, the tuple of nodes it was computed from
(a ``Value`` or a ``Tensor``). The backward pass must reach a node only after
every node that uses it has passed its gradient down, so it walks the
*reverse* of a topological order: an order in which each node comes after
all the nodes it was computed from.

    order = topological_order(loss)   # leaves first, loss last
    for node in reversed(order): ...  # loss first, leaves last
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_GRAD_ENABLED = True


def topological_order(root: Any) -> list[Any]:
    """Every node ``root`` depends on, each once, children before the node that
    uses them; ``root`` comes last.

    A depth-first search: a node is appended once all its children are.
    ``visited`` makes a node used twice (``a * a``, or a value feeding two
    branches) appear once, so its ``_backward`` runs once, after every use has
    added its share to its gradient. The search keeps its own stack instead of
    recursing, so a graph thousands of nodes deep (a long loop) does not hit
    Python's recursion limit.
    """
    order: list[Any] = []
    visited: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))                     # after its children
        for child in reversed(node._prev):
            if id(child) not in visited:
                stack.append((child, False))
    return order


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()``."""
    return _GRAD_ENABLED


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block operations record no graph, as ``torch.no_grad()``: the
    results have ``requires_grad=False`` and keep nothing for a backward pass.
    Use it to evaluate a model or to update weights in place.

        with no_grad():
            W.data -= lr * W.grad
    """
    global _GRAD_ENABLED
    before = _GRAD_ENABLED
    _GRAD_ENABLED = False
    try:
        yield
    finally:
        _GRAD_ENABLED = before
