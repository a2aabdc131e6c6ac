"""RMSprop: divide each step by a running root-mean-square of recent gradients."""
from __future__ import annotations

import numpy as np

from ..nn.module import Parameter
from .optimizer import Optimizer, _grad


class RMSprop(Optimizer):
    r"""PyTorch's RMSprop. For each parameter w with gradient g:

        v = alpha * v + (1 - alpha) * g^2       (a running mean square of g)
        w = w - lr * g / (sqrt(v) + eps)

    Options around that rule: ``weight_decay`` adds weight_decay * w to g;
    ``centered=True`` divides by sqrt(v - mean(g)^2) + eps, mean(g) a running mean
    of g (``grad_avg_squared``); ``momentum > 0`` keeps b = momentum * b + g / (...)
    and moves w by lr * b (``momentum_buffer``).
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        if lr < 0 or eps < 0 or not 0 <= alpha <= 1:
            raise ValueError(f"RMSprop: invalid lr={lr}, alpha={alpha} or eps={eps}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def step(self) -> None:
        """One update of every parameter: the rule of the class docstring."""
        for group, p, state in self._params():
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            g = _grad(group, p)                     # g + weight_decay * w
            v = self.square_avg(state, p)
            v *= alpha
            v += (1 - alpha) * g * g                # v = alpha v + (1 - alpha) g^2
            if group["centered"]:
                v = v - self.grad_avg_squared(state, g, alpha)
            step = g / (np.sqrt(v) + eps)
            if group["momentum"]:
                step = self.momentum_buffer(state, step, group["momentum"])
            p.data -= lr * step

    @staticmethod
    def square_avg(state: dict, p: Parameter) -> np.ndarray:
        """This parameter's running mean square v (zeros at the first step)."""
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
        state["step"] += 1
        return state["square_avg"]

    @staticmethod
    def grad_avg_squared(state: dict, g: np.ndarray, alpha: float) -> np.ndarray:
        """centered=True: mean(g)^2, the square of a running mean of g, so that
        v - mean(g)^2 estimates the gradient's variance instead of its mean square."""
        if "grad_avg" not in state:
            state["grad_avg"] = np.zeros_like(g)
        mean = state["grad_avg"]
        mean *= alpha
        mean += (1 - alpha) * g
        return mean * mean

    @staticmethod
    def momentum_buffer(state: dict, step: np.ndarray, momentum: float) -> np.ndarray:
        """momentum > 0: b = momentum * b + g / avg, and the weight moves by lr * b."""
        if "momentum_buffer" not in state:    # momentum may start later (OneCycleLR)
            state["momentum_buffer"] = np.zeros_like(step)
        buf = state["momentum_buffer"]
        buf *= momentum
        buf += step
        return buf
