"""Fixed, seeded train / validation / test splits and normalisation fitted on train.

    splits = train_val_test_split(X, y, val_size=0.1, test_size=0.2, seed=0)
    scaler = Standardizer().fit(splits.X_train)        # statistics of train only
    splits = splits.map_X(scaler.transform)            # applied to all three

The test set is only looked at once, at the end; the validation set is for
choices made while training (epochs, learning rate, early stopping). Fitting
the normalisation on all the data would leak the test set into training.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .dataset import TensorDataset
from .loader import DataLoader


@dataclass
class Splits:
    """A data set cut into train, validation and test parts.

    Attributes:
        X_train, y_train, X_val, y_val, X_test, y_test: NumPy arrays (X float32,
            y int64 for classes, float32 for regression targets).
        classes: names of the classes (``None`` for regression).
        info: a short description: where the data comes from, sizes, scale.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: list[str] | None = None
    info: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def train(self) -> TensorDataset:
        return TensorDataset(self.X_train, self.y_train)

    @property
    def val(self) -> TensorDataset:
        return TensorDataset(self.X_val, self.y_val)

    @property
    def test(self) -> TensorDataset:
        return TensorDataset(self.X_test, self.y_test)

    def loaders(self, batch_size: int = 64, seed: int | None = 0,
                transform: Callable[[np.ndarray], np.ndarray] | None = None
                ) -> tuple[DataLoader, DataLoader, DataLoader]:
        """(train, val, test) loaders: train shuffled with ``seed`` (and
        ``transform``, for augmentation), val and test in order, unaugmented."""
        return (DataLoader(self.train, batch_size, shuffle=True, seed=seed,
                           transform=transform),
                DataLoader(self.val, batch_size=max(batch_size, 256)),
                DataLoader(self.test, batch_size=max(batch_size, 256)))

    def map_X(self, fn: Callable[[np.ndarray], np.ndarray]) -> Splits:
        """A copy with ``fn`` applied to the inputs of all three parts."""
        return replace(self, X_train=fn(self.X_train), X_val=fn(self.X_val),
                       X_test=fn(self.X_test))

    def __repr__(self) -> str:
        def part(name: str) -> str:
            X, y = getattr(self, f"X_{name}"), getattr(self, f"y_{name}")
            return f"  {name}: X {X.shape} {X.dtype}, y {y.shape} {y.dtype}"
        lines = ["Splits(" + (self.info.splitlines()[0] if self.info else "")]
        lines += [part(name) for name in ("train", "val", "test")]
        return "\n".join(lines) + "\n)"


def split_indices(n: int, val_size: float = 0.1, test_size: float = 0.2, seed: int = 0,
                  stratify: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Disjoint index arrays (train, val, test) covering ``range(n)``.

    Sizes are fractions of n. With ``stratify`` (the class labels) every class
    is split in the same proportions, so a small test set still holds every
    class. The same ``seed`` always gives the same split.
    """
    for name, size in (("val_size", val_size), ("test_size", test_size)):
        if not 0 <= size < 1:
            raise ValueError(f"split: {name} must be a fraction in [0, 1), got {size}")
    if val_size + test_size >= 1:
        raise ValueError(f"split: val_size + test_size must leave some training data, "
                         f"got {val_size} + {test_size}")
    generator = np.random.default_rng(seed)
    groups = [np.arange(n)] if stratify is None else \
        [np.flatnonzero(stratify == c) for c in np.unique(stratify)]
    parts: list[list[np.ndarray]] = [[], [], []]
    for group in groups:
        group = generator.permutation(group)
        n_test = int(round(test_size * len(group)))
        n_val = int(round(val_size * len(group)))
        parts[2].append(group[:n_test])
        parts[1].append(group[n_test:n_test + n_val])
        parts[0].append(group[n_test + n_val:])
    return tuple(np.sort(np.concatenate(p)).astype(np.int64) for p in parts)


def train_val_test_split(X: np.ndarray, y: np.ndarray, val_size: float = 0.1,
                         test_size: float = 0.2, seed: int = 0, stratify: bool = True,
                         classes: list[str] | None = None, info: str = "") -> Splits:
    """Cut (X, y) into a ``Splits``; stratified by y when y holds class indices."""
    X = np.asarray(X)
    y = np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"split: X has {X.shape[0]} samples but y has {y.shape[0]}")
    labels = y if stratify and y.ndim == 1 and y.dtype.kind in "iu" else None
    tr, va, te = split_indices(len(X), val_size, test_size, seed, labels)
    return Splits(X[tr], y[tr], X[va], y[va], X[te], y[te], classes=classes, info=info)


class Standardizer:
    """x -> (x - mean) / std, with mean and std fitted on the training set.

    ``axis`` names the axes to average over: 0 (default) gives one mean per
    feature of (N, D) data; ``(0, 2, 3)`` gives one per channel of (N, C, H, W)
    images. Features with zero spread are left unscaled (std taken as 1).
    """

    def __init__(self, axis: int | tuple[int, ...] = 0, eps: float = 1e-8):
        self.axis = axis
        self.eps = eps
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, X: np.ndarray) -> Standardizer:
        X = np.asarray(X, dtype=np.float64)
        self.mean = X.mean(axis=self.axis, keepdims=True)
        std = X.std(axis=self.axis, keepdims=True)
        self.std = np.where(std < self.eps, 1.0, std)
        return self

    def _check(self) -> None:
        if self.mean is None:
            raise RuntimeError("Standardizer: call fit(X_train) before transform")

    def transform(self, X: np.ndarray) -> np.ndarray:
        self._check()
        X = np.asarray(X)
        dtype = X.dtype if X.dtype.kind == "f" else np.float32
        return ((X - self.mean) / self.std).astype(dtype)

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        self._check()
        X = np.asarray(X)
        return (X * self.std + self.mean).astype(X.dtype)

    def __repr__(self) -> str:
        fitted = "fitted" if self.mean is not None else "not fitted"
        return f"Standardizer(axis={self.axis}, {fitted})"


def standardize(splits: Splits, axis: int | tuple[int, ...] = 0) -> Splits:
    """``splits`` with X standardised by statistics of ``X_train`` only."""
    scaler = Standardizer(axis).fit(splits.X_train)
    out = splits.map_X(scaler.transform)
    out.extra = {**splits.extra, "standardizer": scaler}
    return out
