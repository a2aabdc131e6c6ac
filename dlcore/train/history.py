"""``History``, what ``fit`` records per epoch, and ``EarlyStopping``."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..nn.module import Module


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
        from ..viz.curves import plot_history

        return plot_history(self, keys=keys, axes=axes)

    def __repr__(self) -> str:
        if not self.epochs:
            return "History(no epochs)"
        shown = ", ".join(f"{k} {v:.4g}" for k, v in self.last().items()
                          if k not in ("lr", "time"))
        early = f", stopped early, best epoch {self.best_epoch}" if self.stopped_early else ""
        return f"History({len(self)} epochs: {shown}{early})"
