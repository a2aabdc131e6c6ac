"""The ``Optimizer`` base class: parameter groups, per-parameter state, zero_grad."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..nn.module import Parameter


class Optimizer:
    """Holds ``param_groups`` (a list of dicts, each with ``'params'`` and its own
    hyperparameters such as ``'lr'``) and ``state`` (per parameter: moments,
    step count). Subclasses implement ``step()`` with their update rule.
    """

    def __init__(self, params: Iterable[Parameter] | Iterable[dict], defaults: dict):
        self.defaults = defaults
        self.state: dict[int, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list "
                             "(did the model register its layers as attributes?)")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Parameter) else list(params)
        for p in group["params"]:
            if not isinstance(p, Parameter):
                raise TypeError(f"{type(self).__name__} optimizes Parameters, got "
                                f"{type(p).__name__} (pass model.parameters())")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.param_groups.append(group)

    def zero_grad(self) -> None:
        """Reset every gradient to zero before the next backward pass adds into it."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad[...] = 0

    def _params(self):
        """(group, parameter, its state) for every parameter that is not frozen."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.requires_grad:
                    yield group, p, self.state.setdefault(id(p), {})

    def step(self) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _grad(group: dict, p: Parameter) -> np.ndarray:
    """The gradient with L2 weight decay folded in: g + weight_decay * w."""
    if group.get("weight_decay", 0):
        return p.grad + group["weight_decay"] * p.data
    return p.grad
