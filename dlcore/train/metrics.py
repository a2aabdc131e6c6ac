"""Metrics for ``fit`` and ``evaluate``, and gradient clipping.

A metric is a function ``metric(y_hat, y) -> float`` averaged over the samples
of an epoch (each batch weighted by its size).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..nn.loss import BCEWithLogitsLoss, CrossEntropyLoss
from ..nn.module import Parameter

Metric = Callable[[np.ndarray, np.ndarray], float]


def accuracy(y_hat: np.ndarray, y: np.ndarray) -> float:
    """Fraction of correct predictions.

    y_hat (N, C) scores with y (N,) class indices: argmax over C.
    y_hat (N,) or (N, 1) logits with y in {0, 1}: predicted 1 where y_hat > 0.
    """
    y_hat = np.asarray(y_hat)
    y = np.asarray(y)
    if y_hat.ndim == 2 and y_hat.shape[1] > 1 and y.ndim == 1:
        predicted = y_hat.argmax(axis=1)
    else:
        predicted = (y_hat > 0).astype(np.int64)
        if predicted.shape != y.shape:
            predicted = predicted.reshape(y.shape)
    return float(np.mean(predicted == y))


def default_metrics(loss_fn: Any) -> dict[str, Metric]:
    if isinstance(loss_fn, (CrossEntropyLoss, BCEWithLogitsLoss)):
        return {"accuracy": accuracy}
    return {}


def clip_grad_norm_(parameters: Iterable[Parameter], max_norm: float) -> float:
    """Scale all gradients together so their global L2 norm is at most
    ``max_norm`` (as ``torch.nn.utils.clip_grad_norm_``); returns the norm before."""
    params = [p for p in parameters if p.requires_grad]
    total = float(np.sqrt(sum(float(np.sum(p.grad.astype(np.float64) ** 2)) for p in params)))
    if total > max_norm:
        scale = max_norm / (total + 1e-6)
        for p in params:
            p.grad *= p.grad.dtype.type(scale)
    return total


class _Meter:
    """Running sample-weighted means of the loss and the metrics."""

    def __init__(self, metrics: Mapping[str, Metric]):
        self.metrics = metrics
        self.sums: dict[str, float] = {}
        self.count = 0

    def add(self, n: int, loss: float | None, y_hat: np.ndarray, y: np.ndarray) -> None:
        self.count += n
        values = {} if loss is None else {"loss": loss}
        values.update({name: fn(y_hat, y) for name, fn in self.metrics.items()})
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0.0) + n * float(value)

    def means(self, prefix: str = "") -> dict[str, float]:
        return {prefix + k: v / max(self.count, 1) for k, v in self.sums.items()}
