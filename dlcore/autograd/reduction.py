"""Sums and means over axes: the backward pass spreads the gradient back.

A sum over axis ``dim`` uses every entry once, with weight 1: each entry's
gradient is the gradient of the sum it went into, so the backward pass copies
(broadcasts) ``grad`` back over that axis. A mean does the same, divided by
the number of entries averaged.
"""
from __future__ import annotations

import numpy as np

from .tensor import Tensor, as_tensor, result


def _axes(dim, ndim: int) -> tuple[int, ...]:
    """``dim`` (None, an int or a tuple) as a tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    for d in dims:
        if not -ndim <= d < max(ndim, 1):
            raise IndexError(f"dim {d} is out of range for a tensor of {ndim} dimensions")
    return tuple(d % max(ndim, 1) for d in dims)


def _spread(grad: np.ndarray, axes: tuple[int, ...], keepdim: bool,
            shape: tuple[int, ...]) -> np.ndarray:
    """grad of the reduced shape -> the input's shape (copies along ``axes``)."""
    if not keepdim:
        grad = np.expand_dims(grad, axes)
    return np.broadcast_to(grad, shape)


def sum(a, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001 (torch.sum)
    """a (shape) -> its sum over ``dim`` (all axes by default)."""
    a = as_tensor(a)
    axes = _axes(dim, a.ndim)
    data = a.data.sum(axis=axes, keepdims=keepdim)

    def backward(grad):                  # each entry counts once: d sum/d a_i = 1
        a._accumulate(_spread(grad, axes, keepdim, a.shape))
    return result(data, (a,), "sum", backward)


def mean(a, dim=None, keepdim: bool = False) -> Tensor:
    """a (shape) -> its mean over ``dim`` (all axes by default)."""
    a = as_tensor(a)
    axes = _axes(dim, a.ndim)
    count = int(np.prod([a.shape[d] for d in axes]))
    data = a.data.mean(axis=axes, keepdims=keepdim)

    def backward(grad):                  # d mean/d a_i = 1/count
        a._accumulate(_spread(grad, axes, keepdim, a.shape) / count)
    return result(data, (a,), "mean", backward)
