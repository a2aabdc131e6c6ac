"""Adam and AdamW: momentum and RMSprop together, with bias correction."""
from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer, _grad


class Adam(Optimizer):
    r"""PyTorch's Adam (Kingma & Ba, 2015). For each parameter w with gradient g,
    at step t = 1, 2, ...:

        g = g + weight_decay * w                 (L2 penalty; AdamW decays w instead)
        m = beta1 * m + (1 - beta1) * g          (first moment: a running mean)
        v = beta2 * v + (1 - beta2) * g^2        (second moment: running mean square)
        m_hat = m / (1 - beta1^t)                (bias correction: m and v start at 0)
        v_hat = v / (1 - beta2^t)
        w = w - lr * m_hat / (sqrt(v_hat) + eps)
    """

    _decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False):
        if lr < 0 or eps < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{type(self).__name__}: invalid lr={lr}, betas={betas} "
                             f"or eps={eps}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

    def step(self) -> None:
        for group, p, state in self._params():
            beta1, beta2 = group["betas"]
            lr = group["lr"]
            if self._decoupled:
                p.data *= 1 - lr * group["weight_decay"]
                g = p.grad
            else:
                g = _grad(group, p)
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(p.data)
                state["exp_avg_sq"] = np.zeros_like(p.data)
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = np.zeros_like(p.data)
            state["step"] += 1
            t = state["step"]
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            if group["amsgrad"]:
                np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                v = state["max_exp_avg_sq"]
            bias_correction1 = 1 - beta1**t
            bias_correction2 = 1 - beta2**t
            denom = np.sqrt(v) / math.sqrt(bias_correction2) + group["eps"]
            p.data -= (lr / bias_correction1) * m / denom


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019): before the
    Adam step, w = w - lr * weight_decay * w, instead of adding the decay to g."""

    _decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
