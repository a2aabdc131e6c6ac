"""Stateless functions that several modules share, as ``torch.nn.functional``.

They are the numerically stable forms: none warns, returns inf or NaN at +-1000,
and each keeps its input's dtype (float32 stays float32).
"""
from __future__ import annotations

import numpy as np


def exp_nonpositive(x: np.ndarray) -> np.ndarray:
    """exp(x) for x <= 0: at most 1, so it never overflows, and exactly 0 where
    exp(x) is too small for a float (x below about -104 in float32, -745 in float64).

    That 0 is the right answer, but ``np.exp`` raises the floating-point underflow
    flag on the way to it (an error under ``np.errstate(all="raise")``): only the
    flag is silenced here, no value is changed.
    """
    with np.errstate(under="ignore"):
        return np.exp(x)


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 / (1 + exp(-x)), into (0, 1). ``out=x`` writes it over x (the LSTM's gates).

    For x below about -88 (float32; -709 in float64) exp(-x) overflows to inf, and
    1 / (1 + inf) is 0: the right limit, reached exactly (the true value is below
    1e-38 there). Above about 104 (745), exp(-x) underflows to 0 and the result is 1.
    So the formula is safe as it is: only the overflow and underflow warnings are
    silenced, no value is changed, and none is inf or NaN. (The two-branch form,
    1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0 with e = exp(-|x|), gives the
    same values, but takes twice the passes over the array.)
    """
    with np.errstate(over="ignore", under="ignore"):
        e = np.exp(np.negative(x, out=out), out=out)   # exp(-x), in out if given
        e += 1
        return np.reciprocal(e, out=out)


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
