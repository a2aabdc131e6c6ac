"""``DataLoader``: mini-batches from a data set, shuffled with a seed.

    loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True, seed=0)
    for X_batch, y_batch in loader:      # NumPy arrays, one batch at a time
        ...

A ``TensorDataset`` (or anything with ``tensors``) is cut into batches by fancy
indexing, ``X[idx]``: one NumPy operation per batch, no loop over samples. Any
other data set (an object with ``__len__`` and ``__getitem__(i)`` returning a
tuple of arrays) is read sample by sample and stacked.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import rng as _rng


class DataLoader:
    """Iterate over a data set in mini-batches.

    Args:
        dataset: a ``TensorDataset`` or any indexable with ``__len__``.
        batch_size: samples per batch (the last one may be smaller).
        shuffle: a new random order every pass (epoch).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        seed: with an int, the loader owns a generator seeded with it, so the
            sequence of orders (epoch 1, epoch 2, ...) is the same every run;
            with None, orders come from ``dlcore.rng.generator()``, which
            ``dlcore.manual_seed(n)`` controls.
        transform: a function applied to the first array of every batch (the
            inputs X), e.g. an augmentation from ``dlcore.data.augment``.

    Yields tuples of NumPy arrays, ``(X_batch, y_batch)`` for ``TensorDataset(X, y)``.
    ``len(loader)`` is the number of batches per pass.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None,
                 transform: Callable[[np.ndarray], np.ndarray] | None = None):
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError("DataLoader needs a data set with __len__ and __getitem__, "
                            f"such as TensorDataset(X, y); got {type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, "
                             f"got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self.transform = transform
        self._generator = None if seed is None else np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        generator = self._generator if self._generator is not None else _rng.generator()
        return generator.permutation(n)

    def _fetch(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        if hasattr(self.dataset, "tensors"):
            return tuple(self.dataset[idx])
        samples = [self.dataset[int(i)] for i in idx]
        if not isinstance(samples[0], tuple):
            return (np.stack([np.asarray(s) for s in samples]),)
        return tuple(np.stack([np.asarray(s[k]) for s in samples])
                     for k in range(len(samples[0])))

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        order = self._order()
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            batch = self._fetch(idx)
            if self.transform is not None:
                batch = (self.transform(batch[0]),) + batch[1:]
            yield batch

    def __repr__(self) -> str:
        return (f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed}, "
                f"{len(self)} batches)")
