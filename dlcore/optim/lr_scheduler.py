"""Learning-rate schedules, as ``torch.optim.lr_scheduler``.

Create one after the optimizer and call ``scheduler.step()`` once per epoch
(``OneCycleLR``: once per batch). Each sets ``group['lr']`` in every parameter
group from the group's ``initial_lr`` and the step count ``last_epoch``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses give ``get_lr()``, the learning rate of each group
    at step ``last_epoch``. Creating a schedule already takes step 0."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} needs an optimizer, "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def step(self) -> None:
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return self._last_lr

    def state_dict(self) -> dict[str, Any]:
        """Everything the schedule holds but the optimizer (whose own state_dict
        keeps the learning rates), as PyTorch: ``last_epoch``, ``base_lrs``, ..."""
        return {key: _copy(value) for key, value in self.__dict__.items()
                if key != "optimizer"}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Take the schedule's position and settings from ``state_dict()`` (also
        after ``dlcore.save`` / ``dlcore.load``). Load the optimizer's state dict
        too: the learning rates live there. A state dict of another kind of
        schedule is refused, naming the keys that differ; nothing is changed then."""
        name = type(self).__name__
        if not isinstance(state_dict, Mapping):
            raise ValueError(f"load_state_dict for {name} expects a dict, as "
                             f"scheduler.state_dict() returns, got {type(state_dict).__name__}")
        own = set(self.state_dict())
        missing = sorted(own - set(state_dict))
        unexpected = sorted(set(state_dict) - own)
        if missing or unexpected:
            raise ValueError(f"load_state_dict for {name}: missing keys {missing}, unexpected "
                             f"keys {unexpected} (a state dict of another schedule?)")
        self.__dict__.update({key: _python(value) for key, value in state_dict.items()})


def _copy(value: Any) -> Any:
    """A copy of lists (and lists of tuples), so the state dict does not alias them."""
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _python(value: Any) -> Any:
    """A value read back from a file as plain Python: 0-d arrays as numbers, arrays
    as lists (a NumPy float64 lr would turn float32 updates into float64)."""
    if hasattr(value, "detach"):    # a torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return type(value)(_python(v) for v in value)
    return value


class StepLR(LRScheduler):
    """lr = initial_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size)
                for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = initial_lr * gamma ** epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        cos = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cos for base in self.base_lrs]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith, 2018): warm up from max_lr/div_factor to max_lr
    over ``pct_start`` of the steps, then anneal to initial_lr/final_div_factor;
    momentum (or Adam's beta1) moves the opposite way. Step once per batch,
    ``total_steps`` times in all (or ``epochs * steps_per_epoch``).

    With ``three_phase=True`` the lr comes back down to max_lr/div_factor as
    symmetrically as it went up, and only then anneals to the minimum.
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float = 0.85, max_momentum: float = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1):
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR needs total_steps, or epochs and steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        if total_steps < 1 or not 0 < pct_start < 1:
            raise ValueError(f"OneCycleLR needs total_steps >= 1 and 0 < pct_start < 1, got "
                             f"total_steps={total_steps}, pct_start={pct_start}")
        groups = optimizer.param_groups
        max_lrs = list(max_lr) if isinstance(max_lr, (list, tuple)) else [max_lr] * len(groups)
        if len(max_lrs) != len(groups):
            raise ValueError(f"OneCycleLR got {len(max_lrs)} max_lr values for "
                             f"{len(groups)} parameter groups")
        if cycle_momentum and any("betas" not in g and "momentum" not in g for g in groups):
            raise ValueError("OneCycleLR: cycle_momentum needs an optimizer with momentum or "
                             "betas (pass cycle_momentum=False)")
        self.total_steps = total_steps
        self.anneal_strategy = anneal_strategy
        self.cycle_momentum = cycle_momentum
        # Each phase: (its last step, lr from, lr to, momentum from, momentum to).
        up = float(pct_start * total_steps) - 1
        end = float(total_steps - 1)
        if three_phase:
            self._phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (2 * up, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                            (end, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self._phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (end, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        for group, top in zip(groups, max_lrs, strict=True):
            group["initial_lr"] = top / div_factor
            group["lr"] = group["initial_lr"]
            group["max_lr"] = top
            group["min_lr"] = group["initial_lr"] / final_div_factor
            group["max_momentum"] = max_momentum
            group["base_momentum"] = base_momentum
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR was stepped {step} times but total_steps is "
                             f"{self.total_steps}: step it once per batch and give it "
                             "epochs * batches per epoch")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, (end_step, lr_a, lr_b, m_a, m_b) in enumerate(self._phases):
                if step <= end_step or i == len(self._phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lr = self._anneal(group[lr_a], group[lr_b], pct)
                    if self.cycle_momentum:
                        momentum = self._anneal(group[m_a], group[m_b], pct)
                        if "betas" in group:
                            group["betas"] = (momentum, *group["betas"][1:])
                        else:
                            group["momentum"] = momentum
                    break
                start_step = end_step
            lrs.append(lr)
        return lrs
