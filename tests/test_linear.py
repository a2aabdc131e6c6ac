"""Linear, Flatten and Identity: shapes, errors, gradients, default
initialisation and parity with PyTorch."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from torch_utils import assert_close, copy_to_torch, record_parity, tensor, to_numpy

from dlcore import gradcheck, nn


def test_linear_shapes_and_pytorch_weight_layout(rng):
    layer = nn.Linear(5, 3)
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (3,)
    assert layer(rng.standard_normal((4, 5))).shape == (4, 3)
    assert layer(rng.standard_normal((2, 7, 5))).shape == (2, 7, 3)
    assert layer(rng.standard_normal(5)).shape == (3,)


def test_linear_without_bias():
    layer = nn.Linear(5, 3, bias=False)
    assert layer.bias is None
    assert list(layer.state_dict()) == ["weight"]
    assert repr(layer) == "Linear(in_features=5, out_features=3, bias=False)"
    np.testing.assert_allclose(layer(np.ones((1, 5))), layer.weight.data.sum(1, keepdims=True).T,
                               rtol=1e-6)


def test_linear_computes_x_w_transpose_plus_b():
    layer = nn.Linear(2, 2).double()
    layer.weight.data[:] = [[1.0, 2.0], [3.0, 4.0]]
    layer.bias.data[:] = [0.5, -0.5]
    np.testing.assert_allclose(layer(np.array([[1.0, 1.0]])), [[3.5, 6.5]])


def test_linear_names_itself_and_the_shapes_when_the_input_is_wrong():
    layer = nn.Linear(64, 10)
    with pytest.raises(ValueError, match=r"^Linear\(64 -> 10\) expected input \(\.\.\., 64\), "
                                         r"got \(32, 65\)$"):
        layer(np.zeros((32, 65), np.float32))
    with pytest.raises(ValueError, match=r"got \(\)"):
        layer(np.float32(1.0))


def test_linear_rejects_a_bad_grad_out_and_bad_sizes():
    layer = nn.Linear(4, 3)
    layer(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"Linear\(4 -> 3\) backward expected grad_out of "
                                         r"shape \(2, 3\) \(the shape of its output\), "
                                         r"got \(2, 1\)"):
        layer.backward(np.zeros((2, 1), np.float32))
    with pytest.raises(ValueError, match="Linear needs positive sizes, got 0 -> 3"):
        nn.Linear(0, 3)


@pytest.mark.torch
def test_linear_rejects_torch_tensors_and_strings_clearly():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"takes NumPy arrays, got a torch tensor: pass "
                                        r"x.detach\(\).numpy\(\)"):
        nn.Linear(2, 2)(torch.zeros(1, 2))
    with pytest.raises(TypeError, match="expected a numeric array, got str"):
        nn.Linear(2, 2)("ab")


def test_linear_takes_lists_and_integers_as_float32():
    y = nn.Linear(2, 3)([[1, 2]])
    assert y.dtype == np.float32 and y.shape == (1, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_keeps_the_dtype_through_forward_and_backward(dtype, rng):
    layer = nn.Linear(4, 3) if dtype == np.float32 else nn.Linear(4, 3).double()
    y = layer(rng.standard_normal((2, 4)).astype(dtype))
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == layer.weight.grad.dtype == layer.bias.grad.dtype == dtype


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4)])
def test_linear_gradcheck(shape, rng):
    result = gradcheck(nn.Linear(4, 3), rng.standard_normal(shape))
    assert result.ok, str(result)
    assert [c.name for c in result.comparisons] == ["input", "weight", "bias"]


def test_flatten_and_identity_gradcheck(rng):
    for module in (nn.Flatten(), nn.Flatten(0, 1), nn.Identity()):
        result = gradcheck(module, rng.standard_normal((2, 3, 2)))
        assert result.ok, f"{module}\n{result}"


def test_flatten_shapes_and_errors():
    x = np.zeros((2, 3, 4, 5), np.float32)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Flatten(0, -1)(x).shape == (120,)
    assert nn.Flatten()(np.zeros((0, 3, 4))).shape == (0, 12)
    layer = nn.Flatten()
    layer(x)
    assert layer.backward(np.ones((2, 60), np.float32)).shape == x.shape
    with pytest.raises(ValueError, match=r"Flatten\(start_dim=1, end_dim=-1\) backward "
                                         r"expected grad_out of shape \(2, 60\)"):
        layer.backward(np.ones((2, 59), np.float32))
    with pytest.raises(ValueError, match=r"Flatten\(start_dim=1, end_dim=-1\) got input of "
                                         r"shape \(5,\), which has no dimension 1"):
        nn.Flatten()(np.zeros(5))


def test_identity_passes_through_and_checks_its_gradient():
    layer = nn.Identity(54, unused="argument")
    x = np.arange(6.0).reshape(2, 3)
    assert layer(x) is x
    np.testing.assert_array_equal(layer.backward(2 * x), 2 * x)
    with pytest.raises(ValueError, match=r"Identity\(\) backward expected grad_out of shape"):
        layer.backward(np.zeros(3))


def test_default_init_is_uniform_with_bound_one_over_sqrt_fan_in():
    """PyTorch's default: kaiming_uniform_(a=sqrt(5)) for the weight, which is
    U(-1/sqrt(in), 1/sqrt(in)), and U(-1/sqrt(in), 1/sqrt(in)) for the bias."""
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = layer.weight.data.ravel().astype(np.float64)
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.999 * bound            # the range is used to its ends
    # A Kolmogorov-Smirnov test against U(-bound, bound) (120,000 draws).
    assert stats.kstest(w, stats.uniform(-bound, 2 * bound).cdf).pvalue > 1e-3
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    b = layer.bias.data.astype(np.float64)
    assert np.abs(b).max() <= bound and stats.kstest(
        b, stats.uniform(-bound, 2 * bound).cdf).pvalue > 1e-3


def test_default_init_is_wrong_for_another_distribution():
    """The statistical check above can fail: a normal draw of the same std fails it."""
    bound = 1 / math.sqrt(400)
    w = np.random.default_rng(0).normal(0, bound / math.sqrt(3), 120_000)
    assert stats.kstest(w, stats.uniform(-bound, 2 * bound).cdf).pvalue < 1e-3


@pytest.mark.torch
def test_default_init_matches_pytorchs_distribution():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.Linear(400, 300).weight.detach().numpy().ravel()
    ours = nn.Linear(400, 300).weight.data.ravel()
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3
    assert abs(np.abs(ours).max() - np.abs(theirs).max()) < 1e-3 / math.sqrt(400)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 5)])
def test_linear_matches_pytorch(dtype, shape, rng):
    torch = pytest.importorskip("torch")
    ours = nn.Linear(5, 4) if dtype == "float32" else nn.Linear(5, 4).double()
    theirs = torch.nn.Linear(5, 4).to(getattr(torch, dtype))
    copy_to_torch(ours, theirs)
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape[:-1] + (4,)).astype(dtype)
    xt = tensor(x, requires_grad=True)
    yt = theirs(xt)
    yt.backward(tensor(g))
    y = ours(x)
    dx = ours.backward(g)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    errs = [assert_close(y, yt, name="output", **tol),
            assert_close(dx, xt.grad, name="input grad", **tol),
            assert_close(ours.weight.grad, theirs.weight.grad, name="weight grad", **tol),
            assert_close(ours.bias.grad, theirs.bias.grad, name="bias grad", **tol)]
    record_parity(f"Linear {dtype}", max(errs))


@pytest.mark.torch
@pytest.mark.parametrize("start_dim, end_dim", [(1, -1), (0, 1), (1, 2)])
def test_flatten_and_identity_match_pytorch(start_dim, end_dim, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 4, 2))
    for ours, theirs in ((nn.Flatten(start_dim, end_dim), torch.nn.Flatten(start_dim, end_dim)),
                         (nn.Identity(), torch.nn.Identity())):
        xt = tensor(x, requires_grad=True)
        yt = theirs(xt)
        g = rng.standard_normal(tuple(yt.shape))
        yt.backward(tensor(g))
        y = ours(x)
        err = max(assert_close(y, to_numpy(yt), rtol=0, atol=0, name=f"{ours} output"),
                  assert_close(ours.backward(g), xt.grad, rtol=0, atol=0, name=f"{ours} grad"))
        record_parity(type(ours).__name__, err)
        assert repr(ours) == repr(theirs)
