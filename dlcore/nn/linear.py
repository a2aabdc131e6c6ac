"""``Linear`` (a dense layer), ``Flatten`` and ``Identity``."""
from __future__ import annotations

import numpy as np

from . import init
from .module import Module, Parameter


def as_array(x, layer: Module) -> np.ndarray:
    """Accept NumPy arrays (and lists); reject anything else with a clear error."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach"):
        raise TypeError(f"{layer._short()} takes NumPy arrays, got a torch tensor: "
                        "pass x.detach().numpy()")
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{layer._short()} expected a numeric array, got {type(x).__name__}")
    return array.astype(np.float32) if array.dtype.kind != "f" else array


class Linear(Module):
    """y = x W^T + b, a fully connected layer.

    Backward, for g = dL/dy: dL/dW = g^T x, dL/db = g summed over samples,
    dL/dx = g W. ``backward(g, input_grad=False)`` skips dL/dx and returns None:
    a training step asks that of the first layer, whose input is the data.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (default True).

    Shape:
        x: (N, *, in_features) -> y: (N, *, out_features)

    Attributes:
        weight: (out_features, in_features), PyTorch's layout.
        bias: (out_features,), or None with ``bias=False``.

    Both start as PyTorch's: U(-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    skips_input_grad = True                 # backward(g, input_grad=False)

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Linear needs positive sizes, got {in_features} -> {out_features}")
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype=np.float32))
        self.bias = Parameter(np.empty(out_features, dtype=np.float32)) if bias else None
        init.default_weight_and_bias_(self.weight, self.bias)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_array(x, self)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"{self._short()} expected input (..., {self.in_features}), "
                             f"got {x.shape}")
        self._cache = x
        y = x @ self.weight.data.T
        if self.bias is not None:
            y += self.bias.data
        return y

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        x = self._saved()
        grad_out = self._check_grad_out(grad_out, x.shape[:-1] + (self.out_features,))
        # Collapse any leading dimensions so both products are plain matrices.
        x2 = x.reshape(-1, self.in_features)
        g2 = grad_out.reshape(-1, self.out_features)
        self.weight.grad += g2.T @ x2            # dL/dW = sum over samples of g x^T
        if self.bias is not None:
            self.bias.grad += g2.sum(axis=0)     # dL/db = sum over samples of g
        if not input_grad:                       # x is the data: nobody needs dL/dx
            return None
        return grad_out @ self.weight.data      # dL/dx = g W

    def _short(self) -> str:
        return f"Linear({self.in_features} -> {self.out_features})"

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Flattens dims ``start_dim..end_dim`` into one: (N, C, H, W) -> (N, C*H*W)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_array(x, self)
        for dim in (self.start_dim, self.end_dim):
            if not -x.ndim <= dim < x.ndim:
                raise ValueError(f"{self._short()} got input of shape {x.shape}, which has "
                                 f"no dimension {dim}")
        start = self.start_dim % x.ndim
        end = self.end_dim % x.ndim
        y = x.reshape(x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),)
                      + x.shape[end + 1:])
        self._cache = (x.shape, y.shape)
        return y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        in_shape, out_shape = self._saved()
        return self._check_grad_out(grad_out, out_shape).reshape(in_shape)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, say for a removed layer)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._cache = np.shape(x)
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return self._check_grad_out(grad_out, self._saved())
