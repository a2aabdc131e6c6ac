"""Stochastic gradient descent, with momentum, dampening and Nesterov."""
from __future__ import annotations

from .optimizer import Optimizer, _grad


class SGD(Optimizer):
    r"""PyTorch's SGD. For each parameter w with gradient g:

        g = g + weight_decay * w
        b = g                                  (first step)
        b = momentum * b + (1 - dampening) * g (after)
        g = g + momentum * b  if nesterov else  b
        w = w - lr * g
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False):
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: lr, momentum and weight_decay must be >= 0, got "
                             f"lr={lr}, momentum={momentum}, weight_decay={weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def step(self) -> None:
        for group, p, state in self._params():
            g = _grad(group, p)
            momentum = group["momentum"]
            if momentum:
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = g.copy()
                else:
                    buf = state["momentum_buffer"]
                    buf *= momentum
                    buf += (1 - group["dampening"]) * g
                buf = state["momentum_buffer"]
                g = g + momentum * buf if group["nesterov"] else buf
            p.data -= group["lr"] * g
