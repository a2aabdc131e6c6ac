"""RMSprop: divide each step by a running root-mean-square of recent gradients."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _grad


class RMSprop(Optimizer):
    r"""PyTorch's RMSprop. For each parameter w with gradient g:

        v = alpha * v + (1 - alpha) * g^2
        avg = sqrt(v) + eps                     (centered: sqrt(v - mean(g)^2) + eps)
        w = w - lr * g / avg                    (momentum: b = momentum*b + g/avg; w -= lr*b)
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        if lr < 0 or eps < 0 or not 0 <= alpha <= 1:
            raise ValueError(f"RMSprop: invalid lr={lr}, alpha={alpha} or eps={eps}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def step(self) -> None:
        for group, p, state in self._params():
            g = _grad(group, p)
            alpha = group["alpha"]
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(p.data)
                if group["centered"]:
                    state["grad_avg"] = np.zeros_like(p.data)
            state["step"] += 1
            v = state["square_avg"]
            v *= alpha
            v += (1 - alpha) * g * g
            if group["centered"]:
                ga = state["grad_avg"]
                ga *= alpha
                ga += (1 - alpha) * g
                avg = np.sqrt(v - ga * ga) + group["eps"]
            else:
                avg = np.sqrt(v) + group["eps"]
            if group["momentum"]:
                if "momentum_buffer" not in state:    # momentum may start later (OneCycleLR)
                    state["momentum_buffer"] = np.zeros_like(p.data)
                buf = state["momentum_buffer"]
                buf *= group["momentum"]
                buf += g / avg
                p.data -= group["lr"] * buf
            else:
                p.data -= group["lr"] * g / avg
