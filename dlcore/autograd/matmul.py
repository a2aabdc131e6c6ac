"""Matrix product with broadcasting, as ``torch.matmul`` for inputs of 2 or
more dimensions.

    a (..., N, K) @ b (..., K, M) -> (..., N, M)

The leading (batch) dimensions broadcast like elementwise operations: a weight
b (K, M) is used once per batch entry of a (B, N, K). Its gradient therefore
sums the B shares, which ``unbroadcast`` does.

Backward, from C = A B:  dA = dC B^T,  dB = A^T dC  (transposing the last two axes).
"""
from __future__ import annotations

import numpy as np

from .elementwise import unbroadcast
from .tensor import Tensor, as_tensor, result


def matmul(a, b) -> Tensor:
    """a (..., N, K) @ b (..., K, M) -> (..., N, M), batch axes broadcast."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"matmul: both inputs need at least 2 dimensions (..., N, K) and "
                         f"(..., K, M), got {a.shape} @ {b.shape}; reshape a vector to "
                         f"(1, K) or (K, 1)")
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: {a.shape} @ {b.shape}: the inner sizes {a.shape[-1]} "
                         f"and {b.shape[-2]} differ")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: {a.shape} @ {b.shape}: the batch dimensions "
                         f"{a.shape[:-2]} and {b.shape[:-2]} do not broadcast") from None
    data = a.data @ b.data

    def backward(grad):                  # dA = dC B^T, dB = A^T dC, summed over broadcasting
        a._accumulate(unbroadcast(grad @ np.swapaxes(b.data, -1, -2), a.shape))
        b._accumulate(unbroadcast(np.swapaxes(a.data, -1, -2) @ grad, b.shape))
    return result(data, (a, b), "matmul", backward)
