"""Operations that move entries without changing them: reshape, transpose,
indexing. Their backward passes move the gradient back the same way.

Indexing can read one entry several times (``x[[0, 0, 1]]``); each read
passes a share of the gradient back to it, and ``np.add.at`` adds the shares
(plain ``grad_x[index] += grad`` would keep only one of them).
"""
from __future__ import annotations

import numpy as np

from .tensor import Tensor, as_tensor, result


def reshape(a, *shape) -> Tensor:
    """a -> the same entries in ``shape`` (one entry may be -1)."""
    a = as_tensor(a)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        data = a.data.reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: a tensor of shape {a.shape} ({a.data.size} entries) "
                         f"cannot take the shape {shape}") from None

    def backward(grad):                  # the same entries, back in the input's shape
        a._accumulate(grad.reshape(a.shape))
    return result(data, (a,), "reshape", backward)


def transpose(a, dim0: int, dim1: int) -> Tensor:
    """a with the axes ``dim0`` and ``dim1`` swapped (``a.T`` swaps the last two)."""
    a = as_tensor(a)
    data = np.swapaxes(a.data, dim0, dim1)

    def backward(grad):                  # swapping back undoes the swap
        a._accumulate(np.swapaxes(grad, dim0, dim1))
    return result(data, (a,), "transpose", backward)


def index(a, key) -> Tensor:
    """a[key]: NumPy's basic and integer-array indexing."""
    a = as_tensor(a)
    if isinstance(key, Tensor):
        key = key.data
    elif isinstance(key, tuple):
        key = tuple(k.data if isinstance(k, Tensor) else k for k in key)
    data = a.data[key]

    def backward(grad):                  # each read entry gets its share; repeats add up
        full = np.zeros_like(a.data)
        np.add.at(full, key, grad)
        a._accumulate(full)
    return result(data, (a,), "index", backward)
