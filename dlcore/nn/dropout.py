"""``Dropout``: randomly silence units while training, so none can be relied on alone.

Inverted dropout (as PyTorch): in training each value is kept with probability
1 - p and scaled up by 1 / (1 - p), so the expected output equals the input and
nothing needs rescaling at test time:

    mask_i ~ Bernoulli(1 - p)       y = x * mask / (1 - p)       dx = dy * mask / (1 - p)

In ``eval()`` mode it is the identity. The mask comes from
``dlcore.rng.generator()``, so ``dlcore.manual_seed(n)`` repeats it.
"""
from __future__ import annotations

import numpy as np

from ..rng import generator
from .linear import as_array
from .module import Module


class Dropout(Module):
    """Zero each value with probability ``p`` during training.

    Args:
        p: probability of dropping a value (default 0.5), in [0, 1].
        inplace: accepted for PyTorch compatibility; the input is never modified.

    Shape: any (*) -> the same.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout probability has to be between 0 and 1, got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_array(x, self)
        if not self.training or self.p == 0.0:
            self._cache = (x.shape, None)   # identity: backward passes gradients through
            return x
        if self.p == 1.0:
            self._cache = (x.shape, np.zeros_like(x))
            return np.zeros_like(x)
        # The mask already holds 0 or 1 / (1 - p), so forward and backward are one product.
        keep = generator().random(x.shape, dtype=np.float32) >= self.p
        scaled_mask = keep * x.dtype.type(1.0 / (1.0 - self.p))
        self._cache = (x.shape, scaled_mask)
        return x * scaled_mask

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        shape, scaled_mask = self._saved()
        grad_out = self._check_grad_out(grad_out, shape)
        return grad_out if scaled_mask is None else grad_out * scaled_mask

    def _short(self) -> str:
        return f"Dropout(p={self.p})"

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
