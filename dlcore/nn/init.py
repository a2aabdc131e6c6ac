"""Weight initialisation, as ``torch.nn.init``: functions that fill in place.

Each takes a ``Parameter`` (or a NumPy array) and draws from dlcore's seeded
generator. For a weight of shape (out, in, *kernel):
fan_in = in * prod(kernel), fan_out = out * prod(kernel).
"""
from __future__ import annotations

import math

import numpy as np

from ..rng import generator
from .module import Parameter

_Tensor = Parameter | np.ndarray   # what the fillers take: a Parameter or a plain array

_GAINS = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "sigmoid": 1.0,
          "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through a nonlinearity."""
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity not in _GAINS:
        raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; "
                         f"choose from {sorted(_GAINS) + ['leaky_relu']}")
    return _GAINS[nonlinearity]


def _array(tensor: _Tensor) -> np.ndarray:
    return tensor.data if isinstance(tensor, Parameter) else tensor


def _calculate_fan_in_and_fan_out(tensor: _Tensor) -> tuple[int, int]:
    shape = _array(tensor).shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with 2 or more dimensions, "
                         f"got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fill(tensor: _Tensor, values: np.ndarray) -> _Tensor:
    array = _array(tensor)
    array[...] = values.astype(array.dtype)
    return tensor


def uniform_(tensor: _Tensor, a: float = 0.0, b: float = 1.0) -> _Tensor:
    """Fill with draws from U(a, b)."""
    return _fill(tensor, generator().uniform(a, b, _array(tensor).shape))


def normal_(tensor: _Tensor, mean: float = 0.0, std: float = 1.0) -> _Tensor:
    """Fill with draws from N(mean, std^2)."""
    return _fill(tensor, generator().normal(mean, std, _array(tensor).shape))


def constant_(tensor: _Tensor, val: float) -> _Tensor:
    """Fill with ``val``."""
    _array(tensor)[...] = val
    return tensor


def zeros_(tensor: _Tensor) -> _Tensor:
    """Fill with 0 (how biases often start)."""
    return constant_(tensor, 0.0)


def ones_(tensor: _Tensor) -> _Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: _Tensor, gain: float = 1.0) -> _Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: _Tensor, gain: float = 1.0) -> _Tensor:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor: _Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: _Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> _Tensor:
    """U(-b, b) with b = gain * sqrt(3 / fan) (He et al., 2015)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: _Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> _Tensor:
    """N(0, std^2) with std = gain / sqrt(fan)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))


def default_weight_and_bias_(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default for Linear and Conv: kaiming_uniform_(a=sqrt(5)), which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias from the same range."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)
