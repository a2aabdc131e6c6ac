"""The ``Optimizer`` base class: parameter groups, per-parameter state, zero_grad,
and checkpoints (``state_dict`` / ``load_state_dict``) in PyTorch's format."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
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

    # -- checkpoints -------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A copy of the optimizer's state in PyTorch's format::

            {"state": {0: {"step": 3, "exp_avg": array, ...}, 1: {...}},
             "param_groups": [{"lr": 0.001, ..., "params": [0, 1]}, ...]}

        Parameters are numbered 0, 1, 2, ... in the order the groups list them
        (a state dict holds numbers, not the arrays of a particular model).
        Parameters that have no state yet (no step taken) are left out.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[key]: {name: np.array(value, copy=True) if isinstance(value, np.ndarray)
                              else value for name, value in values.items()}
                 for key, values in self.state.items() if key in index and values}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Take the state and hyperparameters from ``state_dict()`` (also after
        ``dlcore.save`` / ``dlcore.load``: 0-d arrays become numbers again).

        The parameters stay this optimizer's own; the i-th parameter of the state
        dict's groups is matched with the i-th here. Everything is checked before
        anything is copied, so a failed load leaves the optimizer as it was:
        ``ValueError`` names the group count, the group sizes, hyperparameters this
        optimizer needs that the state dict lacks, and each state array whose shape
        is not its parameter's. State arrays are copied, in the parameter's dtype.
        """
        name = type(self).__name__
        if not isinstance(state_dict, Mapping) or not {"state", "param_groups"} <= set(
                state_dict):
            raise ValueError(f"load_state_dict for {name} expects a dict with 'state' and "
                             "'param_groups', as optimizer.state_dict() returns, got "
                             f"{_describe(state_dict)}")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict for {name}: the state dict has "
                             f"{len(saved_groups)} parameter groups, this optimizer "
                             f"{len(self.param_groups)}")
        problems = []
        by_index: dict[int, Parameter] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            indices = [int(k) for k in np.asarray(_numpy(saved.get("params", []))).ravel()]
            if len(indices) != len(group["params"]):
                problems.append(f"group {i} has {len(indices)} parameters in the state dict "
                                f"but {len(group['params'])} here")
            lacking = [key for key in self.defaults if key not in saved]
            if lacking:
                problems.append(f"group {i} lacks {lacking} (a state dict of another "
                                "optimizer?)")
            by_index.update(zip(indices, group["params"], strict=False))  # sizes checked above
        state: dict[int, dict[str, Any]] = {}
        for key, values in state_dict["state"].items():
            p = by_index.get(int(key))
            if p is None:
                problems.append(f"state for parameter {key}, which no group holds")
                continue
            own = state[id(p)] = {}
            for entry, value in values.items():
                if value is None:           # torch's SGD keeps momentum_buffer=None
                    continue
                value = np.asarray(_numpy(value))
                if value.ndim == 0:         # a number, such as the step count
                    own[entry] = int(value) if entry == "step" else value.item()
                elif value.shape != p.shape:
                    problems.append(f"state of parameter {key}, '{entry}', has shape "
                                    f"{value.shape} but the parameter has {p.shape}")
                else:
                    own[entry] = np.array(value, dtype=p.dtype, copy=True)
        if problems:
            raise ValueError(f"load_state_dict for {name}: " + "; ".join(problems))
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            for key, value in saved.items():
                if key != "params":
                    value = _python(value)
                    group[key] = tuple(value) if isinstance(group.get(key), tuple) else value
        self.state = state

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


def _numpy(value: Any) -> Any:
    """A torch tensor as a NumPy array; anything else as it is."""
    return value.detach().cpu().numpy() if hasattr(value, "detach") else value


def _python(value: Any) -> Any:
    """A hyperparameter read back from a file or from torch as plain Python: arrays
    as numbers or lists. (A NumPy float64 number would turn float32 updates into
    float64 ones; a Python float does not.)"""
    value = _numpy(value)
    return value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return f"a dict with keys {list(value)}"
    return f"a {type(value).__name__}"
