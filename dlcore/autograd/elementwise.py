"""Elementwise operations on ``Tensor``s, each forward beside its backward.

Broadcasting: ``X + b`` with X (N, D) and b (D,) uses b once per row. In the
backward pass b therefore receives N shares of the gradient, which add up:
``unbroadcast`` sums the gradient over every axis that broadcasting added or
stretched, so each input gets a gradient of its own shape.
"""
from __future__ import annotations

import numpy as np

from .tensor import Tensor, as_tensor, result


def check_broadcast(op: str, a: Tensor, b: Tensor) -> None:
    """A ``ValueError`` naming ``op`` and both shapes if they do not broadcast."""
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} do not broadcast (from "
                         f"the right, each pair of sizes must be equal or one of them 1)"
                         ) from None


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``, undoing broadcasting.

    grad (..., *shape-like) -> (shape): sum over the leading axes broadcasting
    added, then (keeping them) over the axes where ``shape`` has size 1.
    """
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def add(a, b) -> Tensor:
    """a + b; a and b broadcast together (shapes A and B -> their broadcast shape)."""
    a, b = as_tensor(a), as_tensor(b)
    check_broadcast("add", a, b)
    data = a.data + b.data

    def backward(grad):                  # d(a+b)/da = 1, d(a+b)/db = 1
        a._accumulate(unbroadcast(grad, a.shape))
        b._accumulate(unbroadcast(grad, b.shape))
    return result(data, (a, b), "add", backward)


def sub(a, b) -> Tensor:
    """a - b, broadcasting as ``add``."""
    a, b = as_tensor(a), as_tensor(b)
    check_broadcast("sub", a, b)
    data = a.data - b.data

    def backward(grad):                  # d(a-b)/da = 1, d(a-b)/db = -1
        a._accumulate(unbroadcast(grad, a.shape))
        b._accumulate(unbroadcast(-grad, b.shape))
    return result(data, (a, b), "sub", backward)


def neg(a) -> Tensor:
    """-a, same shape."""
    a = as_tensor(a)
    data = -a.data

    def backward(grad):                  # d(-a)/da = -1
        a._accumulate(-grad)
    return result(data, (a,), "neg", backward)


def mul(a, b) -> Tensor:
    """a * b elementwise, broadcasting as ``add``."""
    a, b = as_tensor(a), as_tensor(b)
    check_broadcast("mul", a, b)
    data = a.data * b.data

    def backward(grad):                  # d(ab)/da = b, d(ab)/db = a
        a._accumulate(unbroadcast(grad * b.data, a.shape))
        b._accumulate(unbroadcast(grad * a.data, b.shape))
    return result(data, (a, b), "mul", backward)


def div(a, b) -> Tensor:
    """a / b elementwise, broadcasting as ``add``."""
    a, b = as_tensor(a), as_tensor(b)
    check_broadcast("div", a, b)
    data = a.data / b.data

    def backward(grad):                  # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        a._accumulate(unbroadcast(grad / b.data, a.shape))
        b._accumulate(unbroadcast(-grad * a.data / b.data ** 2, b.shape))
    return result(data, (a, b), "div", backward)


def pow(a, k: float) -> Tensor:  # noqa: A001 (torch.pow)
    """a ** k for a constant number k, same shape."""
    if not isinstance(k, (int, float)):
        raise TypeError(f"pow: the exponent must be a constant number, got {type(k).__name__}")
    a = as_tensor(a)
    data = a.data ** k

    def backward(grad):                  # d(a^k)/da = k a^(k-1)
        a._accumulate(grad * k * a.data ** (k - 1))
    return result(data, (a,), "pow", backward)


def exp(a) -> Tensor:
    """e ** a, same shape."""
    a = as_tensor(a)
    data = np.exp(a.data)

    def backward(grad):                  # d e^a/da = e^a, the forward result itself
        a._accumulate(grad * data)
    return result(data, (a,), "exp", backward)


def log(a) -> Tensor:
    """The natural logarithm of a (> 0), same shape."""
    a = as_tensor(a)
    data = np.log(a.data)

    def backward(grad):                  # d ln(a)/da = 1/a
        a._accumulate(grad / a.data)
    return result(data, (a,), "log", backward)


def tanh(a) -> Tensor:
    """tanh(a), same shape."""
    a = as_tensor(a)
    data = np.tanh(a.data)

    def backward(grad):                  # d tanh(a)/da = 1 - tanh(a)^2
        a._accumulate(grad * (1 - data * data))
    return result(data, (a,), "tanh", backward)


def relu(a) -> Tensor:
    """max(a, 0), same shape."""
    a = as_tensor(a)
    data = np.maximum(a.data, 0)

    def backward(grad):                  # 1 where a > 0, else 0 (also at 0, as PyTorch)
        a._accumulate(grad * (a.data > 0))
    return result(data, (a,), "relu", backward)
