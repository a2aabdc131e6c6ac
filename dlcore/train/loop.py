"""The training loop ``fit`` (with its NaN guard), ``evaluate`` and ``predict``."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..nn.container import backward_to_weights
from ..nn.module import Module
from ..optim.lr_scheduler import OneCycleLR
from .history import EarlyStopping, History
from .metrics import Metric, _Meter, accuracy, clip_grad_norm_, default_metrics


class NonFiniteLossError(FloatingPointError):
    """Training stopped because the loss became NaN or infinite."""

    def __init__(self, epoch: int, step: int, steps: int, loss: float, lr: float | None):
        self.epoch, self.step, self.loss = epoch, step, loss
        rate = f" (lr={lr:g})" if lr is not None else ""
        super().__init__(
            f"the loss became {loss} at epoch {epoch}, step {step} of {steps}; training "
            "stopped before the weights were updated with it. Likely causes: a learning "
            f"rate too high{rate}, try 10x smaller; weights initialised too large; inputs "
            "not normalised; a log or division by zero in a custom loss. "
            "clip_grad_norm= in fit can tame exploding gradients.")


def _batches(loader: Any, batch_size: int) -> Iterable[tuple]:
    if isinstance(loader, tuple) and len(loader) == 2 and isinstance(loader[0], np.ndarray):
        X, y = loader
        return [(X[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(X), batch_size)]
    return loader


def _split(batch: Any) -> tuple[Any, Any]:
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise ValueError("fit/evaluate expect batches (X, y) from the loader, e.g. "
                         "DataLoader(TensorDataset(X, y)); got "
                         f"{type(batch).__name__} of length {len(batch)}")
    return batch[0], batch[1]


def evaluate(model: Module, loader: Any, loss_fn: Any = None,
             metrics: Mapping[str, Metric] | None = None) -> dict[str, float]:
    """Mean loss (if ``loss_fn``) and metrics of ``model`` over ``loader``, in
    eval mode (dropout off, batch-norm running statistics); the model's mode is
    restored afterwards. ``loader`` may also be a tuple (X, y) of arrays.

    Metrics default to accuracy for ``CrossEntropyLoss``/``BCEWithLogitsLoss``,
    and, without a ``loss_fn``, whenever the targets are integer class labels."""
    meter = None
    was_training = model.training
    model.eval()
    try:
        for batch in _batches(loader, 256):
            X, y = _split(batch)
            if meter is None:
                if metrics is None:
                    metrics = default_metrics(loss_fn)
                    if loss_fn is None and np.asarray(y).dtype.kind in "iu":
                        metrics = {"accuracy": accuracy}
                meter = _Meter(metrics)
            y_hat = model(X)
            loss = None if loss_fn is None else loss_fn(y_hat, y)
            meter.add(len(X), loss, y_hat, y)
    finally:
        model.train(was_training)
    return {} if meter is None else meter.means()


def predict(model: Module, data: Any, batch_size: int = 256) -> np.ndarray:
    """The model's outputs for an array X (in batches) or for a loader's inputs,
    stacked along the first dimension, in eval mode (mode restored after)."""
    was_training = model.training
    model.eval()
    try:
        if isinstance(data, np.ndarray):
            outs = [model(data[i:i + batch_size]) for i in range(0, len(data), batch_size)]
        else:
            outs = [model(batch[0] if isinstance(batch, (tuple, list)) else batch)
                    for batch in data]
    finally:
        model.train(was_training)
    return np.concatenate(outs, axis=0)


def _lr(optimizer: Any) -> float | None:
    groups = getattr(optimizer, "param_groups", None)
    return float(groups[0]["lr"]) if groups else None


def fit(model: Module, loss_fn: Any, optimizer: Any, train_loader: Any, epochs: int = 1,
        val_loader: Any = None, scheduler: Any = None, progress: bool = True,
        metrics: Mapping[str, Metric] | None = None,
        early_stopping: EarlyStopping | int | None = None,
        scheduler_interval: str | None = None, clip_grad_norm: float | None = None,
        callbacks: Iterable[Callable[[History], bool | None]] | None = None,
        input_grad: bool = True) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``; see the module
    docstring for every argument. Returns the ``History``.

    Each step calls ``model.backward(loss_fn.backward())``, the whole backward pass.
    ``input_grad=False`` calls ``model.backward(grad, input_grad=False)`` instead,
    where the model declares ``skips_input_grad`` (dlcore's layers and ``Sequential``
    do): it then skips the gradient for the data, which nothing uses (PyTorch skips it
    too, as the data does not require grad), for a faster step and the same parameter
    gradients. A model of your own that does not declare it is called plainly.

    Raises ``NonFiniteLossError`` at the first NaN or infinite loss, naming the
    epoch and step, before that loss touches the weights.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    metrics = default_metrics(loss_fn) if metrics is None else dict(metrics)
    if isinstance(early_stopping, int) and not isinstance(early_stopping, bool):
        early_stopping = EarlyStopping("val_loss", patience=early_stopping)
    if early_stopping is not None and early_stopping.monitor.startswith("val_") \
            and val_loader is None:
        raise ValueError(f"fit: early stopping on '{early_stopping.monitor}' needs a "
                         "val_loader")
    interval = scheduler_interval or ("batch" if isinstance(scheduler, OneCycleLR) else "epoch")
    if interval not in ("epoch", "batch"):
        raise ValueError(f"fit: scheduler_interval must be 'epoch' or 'batch', got {interval!r}")
    callbacks = list(callbacks or [])
    steps = len(train_loader)
    history = History()
    bar = _progress_bar(progress, epochs * steps, f"epoch 1/{epochs}")
    was_training = model.training
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            lr = _lr(optimizer)
            model.train()
            meter = _Meter(metrics)
            for step, batch in enumerate(train_loader, start=1):
                X, y = _split(batch)
                y_hat = model(X)
                loss = loss_fn(y_hat, y)
                if not np.isfinite(loss):
                    raise NonFiniteLossError(epoch, step, steps, float(loss), _lr(optimizer))
                if input_grad:
                    model.backward(loss_fn.backward())
                else:                                        # dL/d(data) is never used
                    backward_to_weights(model, loss_fn.backward())
                if clip_grad_norm is not None:
                    clip_grad_norm_(model.parameters(), clip_grad_norm)
                optimizer.step()
                optimizer.zero_grad()
                if scheduler is not None and interval == "batch":
                    scheduler.step()
                meter.add(len(X), loss, y_hat, y)
                if bar is not None:
                    bar.set_description(f"epoch {epoch}/{epochs}", refresh=False)
                    bar.set_postfix(meter.means(), refresh=False)
                    bar.update(1)
            logs = meter.means()
            if val_loader is not None:
                logs.update({f"val_{k}": v for k, v in
                             evaluate(model, val_loader, loss_fn, metrics).items()})
            if scheduler is not None and interval == "epoch":
                scheduler.step()
            logs["lr"] = lr if lr is not None else float("nan")
            logs["time"] = time.perf_counter() - start
            history.append(epoch, logs)
            if bar is not None:
                bar.set_postfix({k: v for k, v in logs.items() if k not in ("lr", "time")})
            stop = any(bool(cb(history)) for cb in callbacks)
            if early_stopping is not None:
                if early_stopping.monitor not in logs:
                    raise KeyError(f"EarlyStopping monitors {early_stopping.monitor!r} but "
                                   f"the history has {sorted(logs)}")
                if early_stopping.update(epoch, logs[early_stopping.monitor], model):
                    history.stopped_early = True
                    stop = True
                history.best_epoch = early_stopping.best_epoch
            if stop:
                break
        if early_stopping is not None and early_stopping.best_state is not None:
            model.load_state_dict(early_stopping.best_state)
    finally:
        if bar is not None:
            bar.close()
        model.train(was_training)
    return history


def _progress_bar(progress: bool, total: int, description: str) -> Any:
    """tqdm.auto: a widget in a notebook, a text bar (on stderr) in a terminal."""
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="batch", leave=True, dynamic_ncols=True)
