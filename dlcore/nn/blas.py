"""Two matrix products of the dense layers, with BLAS called directly.

    matmul_nt(a, b)           returns a @ b.T      (a forward pass: y = x W^T)
    add_matmul_tn_(c, a, b)   does c += a.T @ b    (a weight gradient: dW += g^T x)

NumPy's ``@`` computes the same numbers and is the form to read; the lessons show it.
These two are faster on the course's shapes (measured on one thread, (128, 784) x
(784, 256): 322 vs 374 us for the forward product; 278 vs 314 us for the gradient): SciPy's
BLAS is given the operands in the order that suits its Fortran layout, and the gradient
is added in place (gemm with beta = 1) instead of through a temporary. Small products
(under about 4 million multiply-adds, where the extra checks cost more than they save)
and anything else (not 2-D, not C-contiguous, mixed or non-float dtypes) take the
NumPy form.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import blas

_GEMM = {np.dtype(np.float32): blas.sgemm, np.dtype(np.float64): blas.dgemm}
MIN_MULTIPLY_ADDS = 4_000_000    # measured: below it, the direct call is no faster


def _gemm_for(multiply_adds: int, *arrays: np.ndarray):
    """The BLAS gemm for a product of this size over these arrays, or None if it is
    small or the arrays do not all qualify."""
    if multiply_adds < MIN_MULTIPLY_ADDS:
        return None
    for x in arrays:
        if x.ndim != 2 or x.dtype != arrays[0].dtype or not x.flags.c_contiguous:
            return None
    return _GEMM.get(arrays[0].dtype)


def matmul_nt(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b.T for a (..., K) and b (N, K): a (..., N) result, C-contiguous."""
    a2 = a.reshape(-1, a.shape[-1]) if a.ndim != 2 else a
    gemm = _gemm_for(a2.shape[0] * a2.shape[1] * b.shape[0], a2, b)
    if gemm is None:
        return a @ b.T
    # gemm reads Fortran (column-major) arrays, and a C array read that way is its
    # transpose: b.T and a2.T are Fortran views, no copies. gemm computes b a2^T, a
    # Fortran (N, M) array whose transpose is the C-contiguous a2 @ b.T.
    out = gemm(1.0, b.T, a2.T, trans_a=True).T
    return out.reshape(*a.shape[:-1], b.shape[0]) if a.ndim != 2 else out


def add_matmul_tn_(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """c += a.T @ b in place, for a (K, M), b (K, N) and c (M, N)."""
    gemm = _gemm_for(a.shape[0] * a.shape[-1] * b.shape[-1], a, b, c)
    if gemm is None:
        c += a.T @ b
        return
    # c.T is a Fortran (N, M) array over c's memory: accumulate b^T a into it (beta=1).
    gemm(1.0, b.T, a.T, beta=1.0, c=c.T, trans_b=True, overwrite_c=True)
