"""MaxPool2d and AvgPool2d: values, ties, gradients, errors, parity with PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
from torch_utils import assert_close, record_parity, tensor

from dlcore import gradcheck, nn


def test_maxpool_values_and_default_stride():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    layer = nn.MaxPool2d(2)
    assert layer.stride == 2
    np.testing.assert_array_equal(layer(x), [[[[5, 7], [13, 15]]]])
    dx = layer.backward(np.ones((1, 1, 2, 2), np.float32))
    expected = np.zeros((4, 4))
    expected[[1, 1, 3, 3], [1, 3, 1, 3]] = 1
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_maxpool_sends_the_gradient_to_the_first_maximum_of_a_tie():
    x = np.zeros((1, 1, 2, 4), np.float32)
    x[0, 0, :, 2:] = [[1, 3], [3, 3]]
    layer = nn.MaxPool2d(2)
    layer(x)
    dx = layer.backward(np.array([[[[2.0, 5.0]]]], np.float32))
    np.testing.assert_array_equal(dx[0, 0], [[2, 0, 0, 5], [0, 0, 0, 0]])


def test_avgpool_values_and_padding_divisors():
    x = np.ones((1, 1, 3, 3), np.float32)
    np.testing.assert_allclose(nn.AvgPool2d(3, 1, 1)(x)[0, 0, 0], [4 / 9, 6 / 9, 4 / 9])
    np.testing.assert_allclose(nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x), 1.0)


@pytest.mark.parametrize("cls", [nn.MaxPool2d, nn.AvgPool2d])
@pytest.mark.parametrize("args", [(2,), (3, 2), (3, 2, 1), ((2, 3), (1, 2), (1, 1))])
def test_pooling_gradcheck(cls, args, rng):
    # Random values have no ties, so the max is differentiable around them.
    result = gradcheck(cls(*args), rng.standard_normal((2, 2, 6, 7)), params=False)
    assert result.ok, str(result)


def test_avgpool_without_padded_zeros_gradcheck(rng):
    result = gradcheck(nn.AvgPool2d(3, 2, 1, count_include_pad=False),
                       rng.standard_normal((1, 2, 5, 6)))
    assert result.ok, str(result)


def test_pooling_errors():
    with pytest.raises(ValueError, match=r"^MaxPool2d\(k=2, stride=2\) expected input "
                                         r"\(N, C, H, W\), got \(4, 4\)$"):
        nn.MaxPool2d(2)(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match=r"AvgPool2d\(k=3, stride=3\): input 2x5 is smaller "
                                         r"than the window 3x3"):
        nn.AvgPool2d(3)(np.zeros((1, 1, 2, 5), np.float32))
    with pytest.raises(ValueError, match="padding must be between 0 and half the kernel"):
        nn.MaxPool2d(2, padding=2)
    with pytest.raises(NotImplementedError, match="ceil_mode"):
        nn.AvgPool2d(2, ceil_mode=True)
    layer = nn.MaxPool2d(2)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.zeros((1, 1, 1, 1)))
    layer(np.zeros((1, 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"backward expected grad_out of shape \(1, 1, 2, 2\)"):
        layer.backward(np.zeros((1, 1, 2, 3)))


def test_pooling_repr_as_pytorch():
    assert repr(nn.MaxPool2d(2)) == ("MaxPool2d(kernel_size=2, stride=2, padding=0, "
                                     "dilation=1, ceil_mode=False)")
    assert repr(nn.AvgPool2d(3, 1, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"


@pytest.mark.torch
@pytest.mark.parametrize("name, args, kwargs", [
    (name, args, {}) for name in ("MaxPool2d", "AvgPool2d")
    for args in ((2,), (2, 3), (3, 2), (3, 2, 1), ((2, 3), (1, 2), (1, 0)))
] + [("AvgPool2d", (3, 1, 1), {"count_include_pad": False})])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pooling_matches_pytorch(name, args, kwargs, dtype, rng):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    # Rounded values make ties, where the gradient must go where PyTorch sends it.
    x = np.round(rng.standard_normal((2, 3, 7, 8)), 0).astype(dtype)
    xt = tensor(x, requires_grad=True)
    yt = theirs(xt)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(tensor(g))
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    errs = [assert_close(ours(x), yt, name="output", **tol),
            assert_close(ours.backward(g), xt.grad, name="input grad", **tol)]
    record_parity(f"{name} {dtype}", max(errs))
