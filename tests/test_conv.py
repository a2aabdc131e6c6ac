"""Conv2d: shapes, errors, im2col helpers, gradients and parity with PyTorch."""
from __future__ import annotations

import math

import numpy as np
import pytest
from torch_utils import assert_close, copy_to_torch, record_parity, tensor

from dlcore import gradcheck, nn
from dlcore.nn.conv import add_windows, windows


@pytest.mark.parametrize("kwargs, hw, out_hw", [
    (dict(kernel_size=3), (8, 8), (6, 6)),
    (dict(kernel_size=3, padding=1), (8, 8), (8, 8)),
    (dict(kernel_size=3, stride=2, padding=1), (7, 8), (4, 4)),
    (dict(kernel_size=(2, 3), stride=(1, 2), padding=(0, 1)), (5, 6), (4, 3)),
])
def test_conv_output_shape(kwargs, hw, out_hw, rng):
    layer = nn.Conv2d(2, 4, **kwargs)
    y = layer(rng.standard_normal((3, 2, *hw)).astype(np.float32))
    assert y.shape == (3, 4, *out_hw) and y.dtype == np.float32


def test_conv_computes_the_cross_correlation_of_the_textbook_loops(rng):
    layer = nn.Conv2d(2, 3, 3, stride=2, padding=1).double()
    x = rng.standard_normal((2, 2, 5, 6))
    x_pad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    w, b = layer.weight.data, layer.bias.data
    expected = np.zeros((2, 3, 3, 3))
    for n in range(2):
        for f in range(3):
            for i in range(3):
                for j in range(3):
                    patch = x_pad[n, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
                    expected[n, f, i, j] = np.sum(patch * w[f]) + b[f]
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12, atol=1e-12)


def test_windows_and_add_windows_are_adjoint(rng):
    """<windows(x), G> == <x, add_windows(G)>: col2im is the transpose of im2col."""
    x = rng.standard_normal((2, 3, 7, 6))
    view = windows(x, (3, 2), (2, 2), (3, 3))
    assert view.shape == (2, 3, 3, 2, 3, 3)
    assert view[1, 2, 2, 1, 2, 1] == x[1, 2, 2 * 2 + 2, 2 * 1 + 1]
    g = rng.standard_normal(view.shape)
    np.testing.assert_allclose(np.sum(view * g), np.sum(x * add_windows(g, x.shape, (2, 2))),
                               rtol=1e-12)


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3, stride=1, padding=0),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 0), bias=False),
])
def test_conv_gradcheck(kwargs, rng):
    result = gradcheck(nn.Conv2d(2, 3, **kwargs), rng.standard_normal((2, 2, 5, 5)))
    assert result.ok, str(result)


def test_conv_errors_name_the_layer_and_shapes():
    layer = nn.Conv2d(3, 16, 3)
    with pytest.raises(ValueError, match=r"^Conv2d\(3 -> 16, k=3\) expected input "
                                         r"\(N, 3, H, W\), got \(8, 1, 28, 28\)$"):
        layer(np.zeros((8, 1, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"expected input \(N, 3, H, W\), got \(3, 28, 28\)"):
        layer(np.zeros((3, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"Conv2d\(3 -> 16, k=3\): input 2x2 with padding "
                                         r"\(0, 0\) is smaller than the kernel 3x3"):
        layer(np.zeros((1, 3, 2, 2), np.float32))
    with pytest.raises(RuntimeError, match=r"Conv2d\(3 -> 16, k=3\): backward\(\) was called "
                                           r"before forward\(\)"):
        nn.Conv2d(3, 16, 3).backward(np.zeros((1, 16, 1, 1)))
    layer(np.zeros((2, 3, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"backward expected grad_out of shape \(2, 16, 3, 3\)"):
        layer.backward(np.zeros((2, 16, 3, 4), np.float32))
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair"):
        nn.Conv2d(1, 1, (1, 2, 3))
    with pytest.raises(ValueError, match="stride >= 1 and padding >= 0"):
        nn.Conv2d(1, 1, 3, stride=0)
    assert nn.Conv2d(1, 2, (3, 5))._short() == "Conv2d(1 -> 2, k=3x5)"


def test_conv_default_init_bound_and_repr():
    layer = nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)
    assert layer.weight.shape == (32, 16, 3, 3) and layer.bias.shape == (32,)
    assert np.abs(layer.weight.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.99 * bound
    assert np.abs(layer.bias.data).max() <= bound
    assert repr(nn.Conv2d(1, 16, 3, padding=1)) == (
        "Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))")
    assert list(nn.Conv2d(1, 2, 3, bias=False).state_dict()) == ["weight"]


def test_conv_gradients_accumulate_and_keep_float32(rng):
    layer = nn.Conv2d(1, 2, 3)
    x = rng.standard_normal((2, 1, 4, 4)).astype(np.float32)
    y = layer(x)
    g = np.ones_like(y)
    dx = layer.backward(g)
    first = layer.weight.grad.copy()
    layer(x)
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * first, rtol=1e-6)
    assert dx.dtype == layer.weight.grad.dtype == np.float32 and dx.shape == x.shape
    assert np.array_equal(g, np.ones_like(y))           # grad_out is not modified


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3, padding=1),
    dict(kernel_size=3, stride=2),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 2)),
    dict(kernel_size=5, stride=3, padding=2, bias=False),
])
def test_conv_matches_pytorch(dtype, kwargs, rng):
    torch = pytest.importorskip("torch")
    ours = nn.Conv2d(3, 4, **kwargs)
    if dtype == "float64":
        ours.double()
    theirs = torch.nn.Conv2d(3, 4, **kwargs).to(getattr(torch, dtype))
    copy_to_torch(ours, theirs)
    x = rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    xt = tensor(x, requires_grad=True)
    yt = theirs(xt)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(tensor(g))
    y = ours(x)
    dx = ours.backward(g)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    errs = [assert_close(y, yt, name="output", **tol),
            assert_close(dx, xt.grad, name="input grad", **tol),
            assert_close(ours.weight.grad, theirs.weight.grad, name="weight grad", **tol)]
    if ours.bias is not None:
        errs.append(assert_close(ours.bias.grad, theirs.bias.grad, name="bias grad", **tol))
    record_parity(f"Conv2d {dtype}", max(errs))


@pytest.mark.torch
def test_a_small_cnn_trains_like_pytorch_from_the_same_state_dict(rng):
    """Conv, BatchNorm2d, ReLU, MaxPool, Dropout, Linear in a Sequential: the same
    state-dict keys, and after two SGD steps the same losses, weights and statistics."""
    torch = pytest.importorskip("torch")
    from dlcore import optim

    def layers(m):
        return [m.Conv2d(1, 4, 3, padding=1), m.BatchNorm2d(4), m.ReLU(), m.MaxPool2d(2),
                m.Conv2d(4, 6, 3, stride=2), m.ReLU(), m.Dropout(0.0), m.Flatten(),
                m.Linear(6 * 1 * 1, 3)]

    ours, theirs = nn.Sequential(*layers(nn)).double(), torch.nn.Sequential(*layers(torch.nn))
    theirs.double()
    copy_to_torch(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    opt, opt_t = optim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(), lr=0.1)
    loss_fn, loss_t = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    x, y = rng.standard_normal((5, 1, 6, 6)), rng.integers(0, 3, 5)
    for _ in range(2):
        opt.zero_grad()
        loss = loss_fn(ours(x), y)
        ours.backward(loss_fn.backward())
        opt.step()
        opt_t.zero_grad()
        lt = loss_t(theirs(tensor(x)), tensor(y))
        lt.backward()
        opt_t.step()
        np.testing.assert_allclose(loss, lt.item(), rtol=1e-10)
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value, rtol=1e-9, atol=1e-10, name=key)
    ours.eval()
    theirs.eval()
    assert_close(ours(x), theirs(tensor(x)), rtol=1e-9, atol=1e-10, name="eval output")
