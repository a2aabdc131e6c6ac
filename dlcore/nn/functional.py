"""Stateless functions that several modules share, as ``torch.nn.functional``.

They are the numerically stable forms: none overflows, underflows with a warning
or returns NaN at +-1000, and each keeps its input's dtype (float32 stays float32).
"""
from __future__ import annotations

import numpy as np


def exp_nonpositive(x: np.ndarray) -> np.ndarray:
    """exp(x) for x <= 0, and exactly 0 where exp(x) would underflow.

    Plain ``np.exp(-1000.0)`` is 0 too, but it raises the floating-point
    underflow flag; the stable functions below all go through this one.
    """
    x = np.asarray(x)
    floor = np.log(np.finfo(x.dtype).tiny)      # about -87 in float32, -708 in float64
    out = np.zeros_like(x)
    return np.exp(x, out=out, where=x > floor)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), computed from e = exp(-|x|) so it never overflows:
    1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0."""
    e = exp_nonpositive(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def log_softmax(x: np.ndarray, dim: int = -1) -> np.ndarray:
    """x - log(sum(exp(x))), with the max subtracted first (log-sum-exp)."""
    shifted = x - x.max(axis=dim, keepdims=True)
    return shifted - np.log(exp_nonpositive(shifted).sum(axis=dim, keepdims=True))


def softmax(x: np.ndarray, dim: int = -1) -> np.ndarray:
    """exp(x) / sum(exp(x)); subtracting the max changes nothing but overflow."""
    e = exp_nonpositive(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))."""
    return np.maximum(x, 0) + np.log1p(exp_nonpositive(-np.abs(x)))


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0)."""
    return np.maximum(x, 0)


def one_hot(y: np.ndarray, num_classes: int, dtype: type = np.float32) -> np.ndarray:
    """(N,) class indices -> (N, num_classes) rows of zeros with a single one."""
    y = np.asarray(y)
    out = np.zeros((len(y), num_classes), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out
