"""Check a backward pass against numerical gradients (central differences).

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

This is how every layer of dlcore is tested, and how a learner tests their own.
Run it in float64 (``model.double()``): in float32 rounding swamps the answer.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .nn.module import Module
from .rng import generator


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """The CS231n relative error: the largest |a - b| / (|a| + |b|) over all entries
    (entries where both are under 1e-8 in size are measured against 1e-8)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} and {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)), initial=0.0))


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """dF/dx by central differences, where ``f()`` reads ``x`` (changed in place)."""
    grad = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f()
        x[i] = old - eps
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


@dataclass
class Comparison:
    """One gradient compared: its name, the relative error and the worst entry."""
    name: str
    error: float
    worst_index: tuple
    analytic: float
    numeric: float


@dataclass
class GradcheckResult:
    """What ``gradcheck`` found; ``ok`` is True when every error is under ``tol``."""
    tol: float
    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.error < self.tol for c in self.comparisons)

    @property
    def max_error(self) -> float:
        return max((c.error for c in self.comparisons), default=0.0)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = []
        for c in self.comparisons:
            mark = "ok  " if c.error < self.tol else "FAIL"
            lines.append(f"{mark} {c.name:<24} rel_error {c.error:.2e}   worst at "
                         f"{c.worst_index}: backward {c.analytic:+.6g}, numeric "
                         f"{c.numeric:+.6g}")
        verdict = "all gradients match" if self.ok else "some gradients do not match"
        return "\n".join(lines + [f"{verdict} (tolerance {self.tol:g})"])

    __repr__ = __str__


def _compare(name: str, analytic: np.ndarray, numeric: np.ndarray) -> Comparison:
    """Per-entry relative error |a - n| / (|a| + |n|), as ``rel_error``, except that
    entries below 1/1000 of the largest are measured against 1/1000 of the largest:
    there rounding noise in the numeric side would otherwise raise false alarms."""
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise ValueError(f"gradcheck: the backward gradient for {name} has shape "
                         f"{analytic.shape}, expected {numeric.shape}")
    if analytic.size == 0:
        return Comparison(name, 0.0, (), 0.0, 0.0)
    size = np.abs(analytic) + np.abs(numeric)
    err = np.abs(analytic - numeric) / np.maximum(size, max(1e-3 * size.max(), 1e-8))
    worst = np.unravel_index(int(np.argmax(err)), err.shape)
    return Comparison(name, float(err[worst]), tuple(int(i) for i in worst),
                      float(analytic[worst]), float(numeric[worst]))


def gradcheck(module: Module, x: np.ndarray, *args, eps: float = 1e-6, tol: float = 1e-6,
              params: bool = True, seed: int = 0) -> GradcheckResult:
    """Compare ``module.backward`` with central differences, for the input ``x``
    and (with ``params``) every parameter. The module is cast to float64 first.

    Further positional ``args`` go to ``forward`` unchanged and are not checked
    (a loss's target: ``gradcheck(nn.MSELoss(), y_hat, y)``).

    The scalar checked is sum(forward(x) * G) for a fixed random G, so every
    output entry matters. Modules with random behaviour (Dropout) must be in
    ``eval()`` or seeded inside forward. Tuple outputs (RNN, LSTM) use the first.

    Returns a ``GradcheckResult``: true when every error is under ``tol``; print
    it to see each gradient's error and its worst entry.
    """
    x = np.array(x, dtype=np.float64)
    if any(p.dtype != np.float64 for p in module.parameters()):
        module.double()

    def output() -> np.ndarray:
        out = module(x, *args)
        return np.asarray(out[0] if isinstance(out, tuple) else out)

    out = output()
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    if upstream.ndim == 0:          # a loss returns a float; its backward takes one
        upstream = float(upstream)

    def f() -> float:
        return float(np.sum(output() * upstream))

    module.zero_grad()
    output()
    grad_x = module.backward(np.copy(upstream) if out.ndim else upstream)
    result = GradcheckResult(tol)
    analytic_params = {name: p.grad.copy() for name, p in module.named_parameters()}
    result.comparisons.append(_compare("input", grad_x, numerical_gradient(f, x, eps)))
    if params:
        for name, p in module.named_parameters():
            result.comparisons.append(
                _compare(name, analytic_params[name], numerical_gradient(f, p.data, eps)))
    return result


def check_function(f: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray],
                   x: np.ndarray, eps: float = 1e-6, tol: float = 1e-6,
                   name: str = "x") -> GradcheckResult:
    """Check a hand-written gradient ``grad(x)`` of a scalar function ``f(x)``."""
    x = np.array(x, dtype=np.float64)
    analytic = np.asarray(grad(x.copy()))
    numeric = numerical_gradient(lambda: float(f(x)), x, eps)
    return GradcheckResult(tol, [_compare(name, analytic, numeric)])


def random_input(*shape: int) -> np.ndarray:
    """A float64 input for gradient checks, from dlcore's seeded generator."""
    return generator().standard_normal(shape)
