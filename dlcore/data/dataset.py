"""``TensorDataset``: arrays that share their first dimension, read as samples.

``TensorDataset(X, y)[i]`` is the tuple ``(X[i], y[i])``; an array of indices
gives a whole batch at once, ``(X[idx], y[idx])``, which is how ``DataLoader``
builds its batches without a Python loop over the samples.
"""
from __future__ import annotations

from typing import Any

import numpy as np


class TensorDataset:
    """Samples made of matching rows of one or more arrays, as ``torch``'s.

    Args:
        *arrays: NumPy arrays (or anything ``np.asarray`` takes), all with the
            same length along their first dimension N.

    Attributes:
        tensors: the tuple of arrays.
    """

    def __init__(self, *arrays: Any):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array, e.g. TensorDataset(X, y)")
        tensors = tuple(np.asarray(a) for a in arrays)
        lengths = [a.shape[0] if a.ndim else None for a in tensors]
        if None in lengths:
            raise ValueError("TensorDataset: every array needs a first (sample) dimension; "
                             f"got shapes {[a.shape for a in tensors]}")
        if len(set(lengths)) != 1:
            raise ValueError("TensorDataset: arrays must have the same number of samples "
                             f"(first dimension), got shapes {[a.shape for a in tensors]}")
        self.tensors = tensors

    def __len__(self) -> int:
        return int(self.tensors[0].shape[0])

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.tensors)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.shape} {a.dtype}" for a in self.tensors)
        return f"TensorDataset({len(self)} samples: {shapes})"
