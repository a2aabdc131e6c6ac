"""Adam and AdamW: momentum and RMSprop together, with bias correction."""
from __future__ import annotations

import numpy as np

from ..nn.module import Parameter
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

    ``amsgrad=True`` divides by the largest v_hat so far instead (``amsgrad_max``).
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
        """One update of every parameter: the rule of the class docstring."""
        for group, p, state in self._params():
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            g = self.decayed_grad(group, p)
            m, v, t = self.moments(group, state, p)
            m *= beta1
            m += (1 - beta1) * g                    # m = beta1 m + (1 - beta1) g
            v *= beta2
            v += (1 - beta2) * g * g                # v = beta2 v + (1 - beta2) g^2
            if group["amsgrad"]:
                v = self.amsgrad_max(state, v)
            m_hat = m / (1 - beta1**t)              # bias correction
            v_hat = v / (1 - beta2**t)
            p.data -= lr * m_hat / (np.sqrt(v_hat) + eps)

    def decayed_grad(self, group: dict, p: Parameter) -> np.ndarray:
        """g + weight_decay * w (Adam's L2 penalty); AdamW shrinks w itself instead."""
        if self._decoupled:
            p.data *= 1 - group["lr"] * group["weight_decay"]
            return p.grad
        return _grad(group, p)

    @staticmethod
    def moments(group: dict, state: dict, p: Parameter) -> tuple[np.ndarray, np.ndarray, int]:
        """This parameter's m and v (zeros at the first step) and its step count t,
        which this call advances: (m, v, t)."""
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        return state["exp_avg"], state["exp_avg_sq"], state["step"]

    @staticmethod
    def amsgrad_max(state: dict, v: np.ndarray) -> np.ndarray:
        """AMSGrad (Reddi et al., 2018): divide by the largest v seen so far, so a
        weight's step never grows because its recent gradients became small."""
        return np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019): before the
    Adam step, w = w - lr * weight_decay * w, instead of adding the decay to g."""

    _decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
