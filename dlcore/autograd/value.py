"""A number that remembers how it was made: the whole idea of autograd, on scalars.

This is micrograd's ``Value`` (Andrej Karpathy, 2020), the form lesson 14 starts
from. Every operation does two things at once:

* **forward**: computes the result, a new ``Value`` that records its inputs
  (``_prev``) and the operation's name (``_op``);
* **backward**: leaves behind a closure, ``_backward``, that knows the local
  derivatives and passes ``out.grad`` down to the inputs by the chain rule.

    a, b = Value(2.0), Value(-3.0)
    c = a * b + a          # a is used twice
    c.backward()           # c.grad = 1, then every _backward in reverse order
    a.grad                 # dc/da = b + 1 = -2.0: the two uses ADD up

Why ``+=`` in every backward: a value used twice (``a`` above, or ``x * x``)
receives a share of the gradient from each use, and the total derivative is
their sum (the multivariable chain rule). With ``=`` the second share would
overwrite the first.
"""
from __future__ import annotations

import math
from collections.abc import Callable

from .graph import topological_order


class Value:
    """One scalar of a computation graph.

    Attributes:
        data: the number (forward).
        grad: dOutput/d(this value), filled in by ``backward()``; starts at 0.
        label: an optional name for drawings (``"a"``).
    """

    def __init__(self, data: float, _prev: tuple[Value, ...] = (), _op: str = "",
                 label: str = ""):
        if isinstance(data, Value):
            raise TypeError("Value(...) takes a number, got a Value: use it directly")
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self._prev = _prev
        self._op = _op
        self._backward: Callable[[], None] = lambda: None   # a leaf passes nothing on

    def __repr__(self) -> str:
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.4g}, grad={self.grad:.4g})"

    # -- operations: forward, then the backward closure beside it ----------------
    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:           # d(a+b)/da = 1, d(a+b)/db = 1
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:           # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k: float) -> Value:
        if not isinstance(k, (int, float)):
            raise TypeError(f"Value ** k takes a constant number k, got {type(k).__name__}")
        out = Value(self.data ** k, (self,), f"**{k:g}")

        def _backward() -> None:           # d(a^k)/da = k a^(k-1)
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward() -> None:           # d tanh(a)/da = 1 - tanh(a)^2
            self.grad += (1 - t * t) * out.grad
        out._backward = _backward
        return out

    def exp(self) -> Value:
        e = math.exp(self.data)
        out = Value(e, (self,), "exp")

        def _backward() -> None:           # d e^a/da = e^a
            self.grad += e * out.grad
        out._backward = _backward
        return out

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(f"log of a Value needs a positive number, got {self.data:g}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward() -> None:           # d ln(a)/da = 1/a
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward() -> None:           # 1 where a > 0, else 0
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    # -- the rest is built from the operations above -------------------------------
    def __neg__(self) -> Value:
        return self * -1

    def __sub__(self, other: Value | float) -> Value:
        return self + (-other)

    def __truediv__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return self * other ** -1

    def __radd__(self, other: float) -> Value:
        return self + other

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __rsub__(self, other: float) -> Value:
        return Value(other) + (-self)

    def __rtruediv__(self, other: float) -> Value:
        return Value(other) * self ** -1

    # -- the backward pass ----------------------------------------------------------
    def backward(self) -> None:
        """Fill in ``.grad`` of every value this one depends on.

        Seed: d(self)/d(self) = 1. Then visit the graph in reverse topological
        order (this value first, the leaves last), so each node's gradient is
        complete, every use added in, before its ``_backward`` passes it on.
        Gradients accumulate, as in PyTorch: set ``.grad = 0`` to start again.
        """
        self.grad = 1.0
        for node in reversed(topological_order(self)):
            node._backward()
