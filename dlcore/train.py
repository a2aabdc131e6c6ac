"""Training loops: ``fit`` a model, ``evaluate`` it, and the ``History`` of a run.

    from dlcore import nn, optim, train
    from dlcore.data import load_digits
    digits = load_digits()
    train_loader, val_loader, test_loader = digits.loaders(batch_size=64, seed=0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    history = train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), 1e-3),
                        train_loader, epochs=20, val_loader=val_loader)
    history.plot()                                 # learning curves
    train.evaluate(model, test_loader, nn.CrossEntropyLoss())   # {'loss':..., 'accuracy':...}

API::

    fit(model, loss_fn, optimizer, train_loader, epochs=1, val_loader=None,
        scheduler=None, progress=True, metrics=None, early_stopping=None,
        scheduler_interval=None, clip_grad_norm=None, callbacks=None) -> History
        # metrics: dict name -> fn(y_hat, y) -> float; None = accuracy for
        #   CrossEntropyLoss / BCEWithLogitsLoss, nothing for MSELoss ({} for none)
        # early_stopping: EarlyStopping(...) or an int patience on 'val_loss'
        # scheduler stepped once per epoch, or per batch for OneCycleLR
        #   (scheduler_interval='epoch' | 'batch' overrides)
        # clip_grad_norm: rescale all gradients to at most this global L2 norm
        # callbacks: functions f(history) called after every epoch; True stops
    evaluate(model, loader, loss_fn=None, metrics=None) -> dict  # {'loss', 'accuracy', ...}
        # without loss_fn: accuracy alone when y holds integer class labels
    predict(model, X_or_loader, batch_size=256) -> np.ndarray    # outputs, eval mode
    accuracy(y_hat, y) -> float        # argmax for (N, C) scores, z > 0 for one logit
    clip_grad_norm_(parameters, max_norm) -> float   # the norm before clipping
    EarlyStopping(monitor='val_loss', patience=5, mode=None, min_delta=0.0,
                  restore_best_weights=True)
    History: .history (dict of per-epoch lists: 'loss', 'accuracy', 'val_loss',
             'val_accuracy', 'lr' (at the epoch's start), 'time' (s)), h['val_loss'],
             .epochs, len(h), .last(), .best_epoch, .stopped_early,
             .plot(keys=None, axes=None) -> Figure (dlcore.viz.curves.plot_history)
    NonFiniteLossError(FloatingPointError): the NaN guard; .epoch, .step, .loss

The loop is the engine's protocol, written out once::

    model.train()
    for X, y in train_loader:
        y_hat = model(X); loss = loss_fn(y_hat, y)      # forward
        model.backward(loss_fn.backward())               # backward
        optimizer.step(); optimizer.zero_grad()          # update

``fit`` leaves the model in the mode it found it in (``evaluate`` runs it in
``eval()`` mode, then restores it). Epochs and steps count from 1.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .nn.loss import BCEWithLogitsLoss, CrossEntropyLoss
from .nn.module import Module, Parameter
from .optim.lr_scheduler import OneCycleLR

Metric = Callable[[np.ndarray, np.ndarray], float]


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


def _default_metrics(loss_fn: Any) -> dict[str, Metric]:
    if isinstance(loss_fn, (CrossEntropyLoss, BCEWithLogitsLoss)):
        return {"accuracy": accuracy}
    return {}


class EarlyStopping:
    """Stop when a validation figure has not improved for ``patience`` epochs.

    Args:
        monitor: a key of the history, such as 'val_loss' or 'val_accuracy'.
        patience: epochs without improvement before stopping.
        mode: 'min' or 'max'; None picks 'min' for a loss, 'max' otherwise.
        min_delta: an improvement must be larger than this.
        restore_best_weights: load the weights of the best epoch at the end.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, mode: str | None = None,
                 min_delta: float = 0.0, restore_best_weights: bool = True):
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        mode = mode or ("min" if "loss" in monitor else "max")
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}")
        self.monitor, self.patience, self.mode = monitor, patience, mode
        self.min_delta, self.restore_best_weights = min_delta, restore_best_weights
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_state: dict | None = None
        self.wait = 0

    def improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, epoch: int, value: float, model: Module) -> bool:
        """Record this epoch; True means stop now."""
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = model.state_dict()
            return False
        self.wait += 1
        return self.wait > self.patience

    def __repr__(self) -> str:
        return (f"EarlyStopping(monitor='{self.monitor}', patience={self.patience}, "
                f"mode='{self.mode}')")


class History:
    """What happened in each epoch of ``fit``.

    ``history['loss']`` (also ``history.history['loss']``) is the list of
    per-epoch mean training losses; likewise 'val_loss', each metric and its
    'val_' twin, 'lr' (first parameter group) and 'time' (seconds).
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epochs: list[int] = []
        self.best_epoch: int | None = None
        self.stopped_early = False

    def append(self, epoch: int, logs: Mapping[str, float]) -> None:
        self.epochs.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.history:
            raise KeyError(f"History has no {key!r}; it has {sorted(self.history)}")
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def keys(self) -> list[str]:
        return list(self.history)

    def __len__(self) -> int:
        return len(self.epochs)

    def last(self) -> dict[str, float]:
        """The figures of the last epoch."""
        return {key: values[-1] for key, values in self.history.items()}

    def plot(self, keys: Iterable[str] | None = None, axes: Any = None) -> Any:
        """Learning curves: loss, then each metric, train and validation together."""
        from .viz.curves import plot_history

        return plot_history(self, keys=keys, axes=axes)

    def __repr__(self) -> str:
        if not self.epochs:
            return "History(no epochs)"
        shown = ", ".join(f"{k} {v:.4g}" for k, v in self.last().items()
                          if k not in ("lr", "time"))
        early = f", stopped early, best epoch {self.best_epoch}" if self.stopped_early else ""
        return f"History({len(self)} epochs: {shown}{early})"


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
                    metrics = _default_metrics(loss_fn)
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
        callbacks: Iterable[Callable[[History], bool | None]] | None = None) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``; see the module
    docstring for every argument. Returns the ``History``.

    Raises ``NonFiniteLossError`` at the first NaN or infinite loss, naming the
    epoch and step, before that loss touches the weights.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    metrics = _default_metrics(loss_fn) if metrics is None else dict(metrics)
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
                model.backward(loss_fn.backward())
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


__all__ = ["fit", "evaluate", "predict", "accuracy", "clip_grad_norm_", "EarlyStopping",
           "History", "NonFiniteLossError"]
