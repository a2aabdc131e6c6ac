"""BatchNorm1d, BatchNorm2d and LayerNorm: statistics, modes, buffers, gradients,
errors and parity with PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
from torch_utils import assert_close, copy_to_torch, record_parity, tensor, to_numpy

from dlcore import gradcheck, nn

BATCHNORMS = [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (3, 3, 4, 5))]


def test_batchnorm_normalizes_each_channel_in_training(rng):
    x = 5 + 3 * rng.standard_normal((64, 4, 6, 6)).astype(np.float32)
    y = nn.BatchNorm2d(4)(x)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)
    assert y.dtype == np.float32


def test_batchnorm_running_statistics_use_the_unbiased_variance(rng):
    layer = nn.BatchNorm1d(2, momentum=0.5)
    x = rng.standard_normal((4, 2)).astype(np.float32)
    layer(x)
    np.testing.assert_allclose(layer.running_mean, 0.5 * x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(layer.running_var, 0.5 + 0.5 * x.var(0, ddof=1), rtol=1e-6)
    assert layer.num_batches_tracked == 1 and layer.num_batches_tracked.dtype == np.int64
    state = layer.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var",
                           "num_batches_tracked"]
    assert state["num_batches_tracked"].dtype == np.int64


def test_batchnorm_eval_uses_the_running_statistics(rng):
    layer = nn.BatchNorm1d(3)
    layer.running_mean[:] = [1, 2, 3]
    layer.running_var[:] = [4, 4, 4]
    x = rng.standard_normal((5, 3)).astype(np.float32)
    y = layer.eval()(x)
    np.testing.assert_allclose(y, (x - [1, 2, 3]) / np.sqrt(4 + 1e-5), rtol=1e-5)
    assert layer.num_batches_tracked == 0                  # eval does not update them


def test_batchnorm_momentum_none_averages_all_batches(rng):
    layer = nn.BatchNorm1d(2, momentum=None)
    batches = [rng.standard_normal((8, 2)).astype(np.float32) for _ in range(3)]
    for x in batches:
        layer(x)
    np.testing.assert_allclose(layer.running_mean, np.mean([x.mean(0) for x in batches], 0),
                               rtol=1e-5, atol=1e-6)


def test_batchnorm_without_affine_or_running_stats(rng):
    layer = nn.BatchNorm2d(3, affine=False, track_running_stats=False)
    assert list(layer.state_dict()) == [] and list(layer.parameters()) == []
    x = rng.standard_normal((2, 3, 2, 2))
    np.testing.assert_allclose(layer.eval()(x).mean(axis=(0, 2, 3)), 0, atol=1e-12)


@pytest.mark.parametrize("name, shape", BATCHNORMS)
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradcheck(name, shape, training, rng):
    layer = getattr(nn, name)(3)
    layer.weight.data[:] = rng.uniform(0.5, 2, 3)
    layer.bias.data[:] = rng.standard_normal(3)
    layer.running_mean[:] = rng.standard_normal(3)
    layer.running_var[:] = rng.uniform(0.5, 2, 3)
    layer.train(training)
    result = gradcheck(layer, rng.standard_normal(shape))
    assert result.ok, str(result)


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"^BatchNorm2d\(16\) expected input \(N, 16, H, W\), "
                                         r"got \(8, 3, 5, 5\)$"):
        nn.BatchNorm2d(16)(np.zeros((8, 3, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"^BatchNorm1d\(4\) expected input \(N, 4\) or "
                                         r"\(N, 4, L\), got \(2, 4, 3, 3\)$"):
        nn.BatchNorm1d(4)(np.zeros((2, 4, 3, 3), np.float32))
    with pytest.raises(ValueError, match="more than one value per channel in training mode"):
        nn.BatchNorm1d(4)(np.zeros((1, 4), np.float32))
    assert nn.BatchNorm1d(4).eval()(np.zeros((1, 4), np.float32)).shape == (1, 4)
    layer = nn.BatchNorm1d(4)
    layer(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4\) backward expected grad_out of "
                                         r"shape \(2, 4\)"):
        layer.backward(np.zeros((4, 2)))


def test_layernorm_normalizes_each_sample_and_gradcheck(rng):
    x = 3 + 2 * rng.standard_normal((4, 5, 6))
    y = nn.LayerNorm(6).double()(x)
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(-1), 1, atol=1e-4)
    for layer in (nn.LayerNorm(6), nn.LayerNorm((5, 6)), nn.LayerNorm(6, bias=False),
                  nn.LayerNorm((5, 6), elementwise_affine=False)):
        for p in layer.parameters():
            p.data[...] = rng.uniform(0.5, 2, p.shape)
        result = gradcheck(layer, x)
        assert result.ok, f"{layer}\n{result}"


def test_layernorm_errors_and_repr():
    with pytest.raises(ValueError, match=r"^LayerNorm\(\(5, 6\)\) expected input \(\*, 5, 6\), "
                                         r"got \(2, 6, 5\)$"):
        nn.LayerNorm((5, 6))(np.zeros((2, 6, 5), np.float32))
    assert repr(nn.LayerNorm(5)) == "LayerNorm((5,), eps=1e-05, elementwise_affine=True)"


@pytest.mark.torch
@pytest.mark.parametrize("name, shape, dtype, kwargs", [
    (name, shape, dtype, {}) for name, shape in BATCHNORMS for dtype in ("float32", "float64")
] + [("BatchNorm2d", (3, 3, 4, 5), "float64", kwargs) for kwargs in (
    {"momentum": None}, {"affine": False}, {"track_running_stats": False})])
def test_batchnorm_matches_pytorch_in_train_then_eval(name, shape, dtype, kwargs, rng):
    """Three training steps (outputs, all gradients, running statistics), then eval."""
    torch = pytest.importorskip("torch")
    ours = getattr(nn, name)(3, **kwargs)
    theirs = getattr(torch.nn, name)(3, **kwargs).to(getattr(torch, dtype))
    if dtype == "float64":
        ours.double()
    if ours.affine:
        ours.weight.data[:] = rng.uniform(0.5, 2, 3)
        ours.bias.data[:] = rng.standard_normal(3)
    copy_to_torch(ours, theirs)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-11)
    errs = []
    for training in (True, True, True, False):
        ours.train(training)
        theirs.train(training)
        x = (2 + 3 * rng.standard_normal(shape)).astype(dtype)
        g = rng.standard_normal(shape).astype(dtype)
        xt = tensor(x, requires_grad=True)
        yt = theirs(xt)
        yt.backward(tensor(g))
        errs += [assert_close(ours(x), yt, name="output", **tol),
                 assert_close(ours.backward(g), xt.grad, name="input grad", **tol)]
        for key, value in theirs.state_dict().items():
            errs.append(assert_close(ours.state_dict()[key], to_numpy(value), name=key, **tol))
        for pname, p in theirs.named_parameters():
            errs.append(assert_close(getattr(ours, pname).grad, p.grad, name=pname, **tol))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    record_parity(f"{name} {dtype}", max(errs))


@pytest.mark.torch
@pytest.mark.parametrize("shape, normalized", [((4, 6), 6), ((2, 3, 4, 5), (4, 5))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_matches_pytorch(shape, normalized, dtype, affine, rng):
    torch = pytest.importorskip("torch")
    ours = nn.LayerNorm(normalized, elementwise_affine=affine)
    theirs = torch.nn.LayerNorm(normalized, elementwise_affine=affine).to(getattr(torch, dtype))
    if dtype == "float64":
        ours.double()
    for p in ours.parameters():
        p.data[...] = rng.uniform(0.5, 2, p.shape)
    copy_to_torch(ours, theirs)
    x = (1 + 2 * rng.standard_normal(shape)).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    xt = tensor(x, requires_grad=True)
    theirs(xt).backward(tensor(g))
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-11)
    errs = [assert_close(ours(x), theirs(xt), name="output", **tol),
            assert_close(ours.backward(g), xt.grad, name="input grad", **tol)]
    for pname, p in theirs.named_parameters():
        errs.append(assert_close(getattr(ours, pname).grad, p.grad, name=pname, **tol))
    record_parity(f"LayerNorm {dtype}", max(errs))
