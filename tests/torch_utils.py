"""Helpers shared by the PyTorch parity tests.

Import them in any test module (pytest puts ``tests/`` on the path); the helpers
import torch only when called, so call them after ``pytest.importorskip("torch")``:

    from torch_utils import assert_close, copy_to_torch, record_parity, tensor

Weights travel through ``state_dict()`` both ways, since dlcore keeps PyTorch's keys
and layouts; a parity test therefore also checks that the keys and shapes agree.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def to_torch_state(state: Mapping[str, np.ndarray], dtype: Any = None) -> dict:
    """A dlcore state dict as torch tensors (keeping each array's dtype unless given)."""
    import torch

    out = {}
    for key, value in state.items():
        tensor = torch.from_numpy(np.array(value, copy=True))
        if dtype is not None and tensor.is_floating_point():
            tensor = tensor.to(dtype)
        out[key] = tensor
    return out


def from_torch_state(state: Mapping[str, Any]) -> dict:
    """A torch state dict as NumPy arrays."""
    return {key: value.detach().cpu().numpy().copy() for key, value in state.items()}


def copy_to_torch(module, torch_module, dtype: Any = None) -> None:
    """Load ``module``'s weights into ``torch_module`` (strict: the keys must agree).

    ``dtype`` defaults to the dtype of ``torch_module``'s first parameter.
    """
    if dtype is None:
        first = next(iter(torch_module.parameters()), None)
        dtype = None if first is None else first.dtype
    torch_module.load_state_dict(to_torch_state(module.state_dict(), dtype), strict=True)


def tensor(array: np.ndarray, requires_grad: bool = False):
    """A torch tensor with a copy of ``array``'s values and dtype."""
    import torch

    t = torch.from_numpy(np.array(array, copy=True))
    return t.requires_grad_(requires_grad)


def to_numpy(value: Any) -> np.ndarray:
    """A torch tensor (or anything array-like) as a NumPy array."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def torch_grads(torch_module) -> dict[str, np.ndarray]:
    """``{name: grad}`` of a torch module's parameters (zeros where grad is None)."""
    return {name: (np.zeros(tuple(p.shape)) if p.grad is None else to_numpy(p.grad))
            for name, p in torch_module.named_parameters()}


def max_error(a: Any, b: Any) -> tuple[float, float]:
    """(max absolute error, max relative error) between two arrays."""
    a = np.asarray(to_numpy(a), dtype=np.float64)
    b = np.asarray(to_numpy(b), dtype=np.float64)
    abs_err = np.abs(a - b)
    rel = abs_err / np.maximum(np.abs(b), np.finfo(np.float64).tiny)
    return float(abs_err.max(initial=0.0)), float(rel.max(initial=0.0))


def assert_close(actual: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-6,
                 name: str = "value") -> float:
    """Assert |actual - expected| <= atol + rtol |expected| everywhere.

    On failure the message names ``name``, the shapes, the worst entry, its two
    values and the largest absolute error. Returns the largest absolute error
    (so a test can record it).
    """
    a = np.asarray(to_numpy(actual), dtype=np.float64)
    b = np.asarray(to_numpy(expected), dtype=np.float64)
    if a.shape != b.shape:
        raise AssertionError(f"{name}: shape {a.shape}, expected {b.shape}")
    if a.size == 0:
        return 0.0
    if not np.array_equal(np.isfinite(a), np.isfinite(b)):
        raise AssertionError(f"{name}: non-finite values differ: "
                             f"{np.count_nonzero(~np.isfinite(a))} in actual, "
                             f"{np.count_nonzero(~np.isfinite(b))} in expected")
    finite = np.isfinite(b)
    err = np.where(finite, np.abs(a - b), 0.0)
    excess = err - (atol + rtol * np.abs(np.where(finite, b, 0.0)))
    worst = np.unravel_index(int(np.argmax(excess)), excess.shape)
    if excess[worst] > 0:
        raise AssertionError(
            f"{name}: {np.count_nonzero(excess > 0)} of {a.size} entries differ beyond "
            f"rtol={rtol:g}, atol={atol:g}; worst at {tuple(int(i) for i in worst)}: "
            f"{a[worst]!r} vs expected {b[worst]!r}; max abs error {err.max():.3g}")
    return float(err.max())


# Worst parity error seen per module in this run (filled by ``record_parity``), so a
# run can report the figures: ``python -m pytest ... -s`` with a final print, or import.
PARITY: dict[str, float] = {}


def record_parity(name: str, error: float) -> float:
    """Keep the largest ``error`` recorded under ``name``; returns ``error``."""
    PARITY[name] = max(PARITY.get(name, 0.0), float(error))
    return error
