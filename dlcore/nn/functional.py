"""Stateless functions that several modules share, as ``torch.nn.functional``.

They are the numerically stable forms: none overflows or warns at +-1000.
"""
from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), computed from exp(-|x|) so it never overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def log_softmax(x: np.ndarray, dim: int = -1) -> np.ndarray:
    """x - log(sum(exp(x))), with the max subtracted first (log-sum-exp)."""
    shifted = x - x.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


def softmax(x: np.ndarray, dim: int = -1) -> np.ndarray:
    """exp(x) / sum(exp(x)); subtracting the max changes nothing but overflow."""
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def one_hot(y: np.ndarray, num_classes: int, dtype=np.float32) -> np.ndarray:
    """(N,) class indices -> (N, num_classes) rows of zeros with a single one."""
    out = np.zeros((len(y), num_classes), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out
