"""log-softmax and cross-entropy, the loss of a classifier.

``log_softmax`` is one operation with its own backward pass (the stable
log-sum-exp form, as lesson 03 wrote it); ``cross_entropy`` is then built from
operations the graph already knows: index the log-probability of the right
class in each row, average, negate. Its backward pass comes for free.
"""
from __future__ import annotations

import numpy as np

from .tensor import Tensor, as_tensor, result


def log_softmax(a, dim: int = -1) -> Tensor:
    """log softmax(a) along ``dim``: a - log sum exp(a), computed stably."""
    a = as_tensor(a)
    shifted = a.data - a.data.max(axis=dim, keepdims=True)
    data = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    softmax = np.exp(data)

    def backward(grad):                  # d/da_j = grad_j - softmax_j * sum_i grad_i
        a._accumulate(grad - softmax * grad.sum(axis=dim, keepdims=True))
    return result(data, (a,), "log_softmax", backward)


def cross_entropy(logits, target) -> Tensor:
    """The mean cross-entropy of ``logits`` (N, C) against class indices
    ``target`` (N,), as ``torch.nn.functional.cross_entropy``. Returns a Tensor
    of one element."""
    logits = as_tensor(logits)
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be (N, C), got shape {logits.shape}")
    if target.shape != logits.shape[:1] or target.dtype.kind not in "iu":
        raise ValueError(f"cross_entropy: target must be {logits.shape[:1]} class indices "
                         f"(integers), got shape {target.shape}, dtype {target.dtype}")
    if target.size and (target.min() < 0 or target.max() >= logits.shape[1]):
        raise ValueError(f"cross_entropy: target has a class index outside 0..."
                         f"{logits.shape[1] - 1} (got {target.min()} to {target.max()})")
    log_p = log_softmax(logits, dim=1)
    return -log_p[np.arange(len(target)), target].mean()
