"""Activation functions: the nonlinearity after each layer.

Each keeps what its derivative needs: ReLU its input's sign, Sigmoid and Tanh
their own output (sigma' = sigma (1 - sigma), tanh' = 1 - tanh^2).
Shape: any (*) -> the same (*).
"""
from __future__ import annotations

import math

import numpy as np

from . import functional as F
from .linear import as_array
from .module import Module


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise (GELU's exact form). SciPy is imported here, on
    first use, not with the engine: its import is most of a grading worker's start-up."""
    from scipy.special import erf as scipy_erf

    return scipy_erf(x)


class ReLU(Module):
    """max(0, x); its derivative is 1 where x > 0 and 0 elsewhere."""

    def __init__(self, inplace: bool = False):
        super().__init__()

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_array(x, self)
        self._cache = x > 0
        return np.maximum(x, 0)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        positive = self._saved()
        return self._check_grad_out(grad_out, positive.shape) * positive


class LeakyReLU(Module):
    """x where x > 0, negative_slope * x elsewhere, so no unit ever dies completely."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = float(negative_slope)   # a NumPy float64 would upcast float32

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_array(x, self)
        self._cache = x > 0
        return np.where(self._cache, x, x * self.negative_slope)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        positive = self._saved()
        grad_out = self._check_grad_out(grad_out, positive.shape)
        return np.where(positive, grad_out, grad_out * self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + exp(-x)), squashing into (0, 1); stable at +-1000."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = F.sigmoid(as_array(x, self))
        self._cache = y
        return y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        y = self._saved()
        return self._check_grad_out(grad_out, y.shape) * y * (1 - y)


class Tanh(Module):
    """tanh(x), squashing into (-1, 1) and centred at zero."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = np.tanh(as_array(x, self))
        self._cache = y
        return y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        y = self._saved()
        return self._check_grad_out(grad_out, y.shape) * (1 - y * y)


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF; its derivative is
    Phi(x) + x phi(x), phi the normal density. ``approximate='tanh'`` uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as GPT-2 did."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_array(x, self)
        self._cache = x
        if self.approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
            return 0.5 * x * (1 + np.tanh(inner))
        return (0.5 * x * (1 + erf(x / math.sqrt(2)))).astype(x.dtype, copy=False)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        x = self._saved()
        grad_out = self._check_grad_out(grad_out, x.shape)
        if self.approximate == "tanh":
            c = math.sqrt(2 / math.pi)
            t = np.tanh(c * (x + 0.044715 * x**3))
            dt = (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
            return grad_out * (0.5 * (1 + t) + 0.5 * x * dt)
        cdf = 0.5 * (1 + erf(x / math.sqrt(2)))
        pdf = F.exp_nonpositive(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return (grad_out * (cdf + x * pdf)).astype(x.dtype, copy=False)

    def extra_repr(self) -> str:
        return f"approximate='{self.approximate}'"


class Softmax(Module):
    """exp(x_i) / sum_j exp(x_j) along ``dim``.

    Backward: dx = y * (g - sum(g * y)), the Jacobian-vector product without
    ever building the (C, C) Jacobian.

    Pass ``dim`` (say ``dim=1`` for scores (N, C)). Left as None it follows
    PyTorch's old implicit rule: dim 0 for inputs of 0, 1 or 3 dimensions,
    dim 1 otherwise.
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def _dim(self, ndim: int) -> int:
        if self.dim is not None:
            if not -max(ndim, 1) <= self.dim < max(ndim, 1):
                raise ValueError(f"{self._short()} got an input with {ndim} dimensions, "
                                 f"which has no dimension {self.dim}")
            return self.dim
        return 0 if ndim in (0, 1, 3) else 1

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_array(x, self)
        y = F.softmax(x, self._dim(x.ndim))
        self._cache = y
        return y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        y = self._saved()
        grad_out = self._check_grad_out(grad_out, y.shape)
        return y * (grad_out - (grad_out * y).sum(axis=self._dim(y.ndim), keepdims=True))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
