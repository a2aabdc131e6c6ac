"""nn/blas.py: the direct BLAS products give NumPy's numbers, in place where promised,
and fall back to NumPy for anything they do not take."""
from __future__ import annotations

import numpy as np
import pytest

from dlcore.nn import blas
from dlcore.nn.blas import add_matmul_tn_, matmul_nt


@pytest.fixture(autouse=True, params=["direct", "threshold"])
def path(request, monkeypatch):
    """Every test twice: with every product through BLAS directly (the threshold at 0,
    so small test arrays take that path too) and with the threshold as shipped."""
    if request.param == "direct":
        monkeypatch.setattr(blas, "MIN_MULTIPLY_ADDS", 0)
    return request.param


def test_the_threshold_sends_small_products_to_numpy_and_large_ones_to_blas(
        monkeypatch, path):
    calls = []
    monkeypatch.setitem(blas._GEMM, np.dtype(np.float32),
                        lambda *args, **kwargs: calls.append(1) or np.zeros((2, 2)))
    matmul_nt(np.ones((8, 8), np.float32), np.ones((8, 8), np.float32))     # 512
    assert len(calls) == (1 if path == "direct" else 0)
    matmul_nt(np.ones((200, 200), np.float32), np.ones((200, 200), np.float32))  # 8e6
    assert len(calls) == (2 if path == "direct" else 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", [(1, 1, 1), (5, 7, 3), (128, 784, 256), (3, 1, 9)])
def test_matmul_nt_is_a_times_b_transposed(dtype, m, k, n, rng):
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((n, k)).astype(dtype)
    out = matmul_nt(a, b)
    assert out.dtype == dtype and out.shape == (m, n) and out.flags.c_contiguous
    np.testing.assert_allclose(out, a @ b.T, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-4 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k, m, n", [(1, 1, 1), (5, 3, 7), (128, 256, 784)])
def test_add_matmul_tn_accumulates_in_place(dtype, k, m, n, rng):
    a = rng.standard_normal((k, m)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    c = rng.standard_normal((m, n)).astype(dtype)
    expected = c + a.T @ b
    before = c.__array_interface__["data"][0]
    add_matmul_tn_(c, a, b)
    assert c.__array_interface__["data"][0] == before
    np.testing.assert_allclose(c, expected, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-4 if dtype == np.float32 else 1e-12)


def test_add_matmul_tn_twice_doubles(rng):
    a = rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal((4, 5)).astype(np.float32)
    c = np.zeros((3, 5), np.float32)
    add_matmul_tn_(c, a, b)
    add_matmul_tn_(c, a, b)
    np.testing.assert_allclose(c, 2 * (a.T @ b), rtol=1e-5)


@pytest.mark.parametrize("case", ["strided", "mixed", "int", "empty", "fortran"])
def test_what_blas_does_not_take_goes_through_numpy(case, rng):
    a = rng.standard_normal((6, 4)).astype(np.float32)
    b = rng.standard_normal((5, 4)).astype(np.float32)
    if case == "strided":
        a = rng.standard_normal((6, 8)).astype(np.float32)[:, ::2]
    elif case == "mixed":
        b = b.astype(np.float64)
    elif case == "int":
        a, b = np.arange(24).reshape(6, 4), np.arange(20).reshape(5, 4)
    elif case == "empty":
        a = np.zeros((0, 4), np.float32)
    else:
        a = np.asfortranarray(a)
    np.testing.assert_allclose(matmul_nt(a, b), a @ b.T, rtol=1e-6)
    g = rng.standard_normal((a.shape[0], 3)).astype(a.dtype)
    c = np.ones((3, a.shape[1]), dtype=np.result_type(g, a))
    expected = c + g.T @ a
    add_matmul_tn_(c, g, a)
    np.testing.assert_allclose(c, expected, rtol=1e-6)
