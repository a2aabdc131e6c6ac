"""Adagrad: each weight's step shrinks with the sum of its squared gradients."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _grad


class Adagrad(Optimizer):
    r"""PyTorch's Adagrad. At step t, for each parameter w with gradient g:

        g = g + weight_decay * w
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g^2
        w = w - clr * g / (sqrt(s) + eps)
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10):
        if lr < 0 or lr_decay < 0 or eps < 0:
            raise ValueError(f"Adagrad: invalid lr={lr}, lr_decay={lr_decay} or eps={eps}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps))

    def step(self) -> None:
        for group, p, state in self._params():
            if not state:
                state["step"] = 0
                state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])
            state["step"] += 1
            g = _grad(group, p)
            clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
            state["sum"] += g * g
            p.data -= clr * g / (np.sqrt(state["sum"]) + group["eps"])
