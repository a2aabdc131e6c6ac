"""Activations: gradients, parity with PyTorch, stable numerics at +-1000, dtypes,
errors and repr."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from torch_utils import assert_close, record_parity, tensor

from dlcore import gradcheck, nn
from dlcore.nn import functional as F

# (dlcore module, name of the torch class, its keyword arguments)
ACTIVATIONS = [
    (lambda: nn.ReLU(), "ReLU", {}),
    (lambda: nn.LeakyReLU(), "LeakyReLU", {}),
    (lambda: nn.LeakyReLU(0.2), "LeakyReLU", {"negative_slope": 0.2}),
    (lambda: nn.Sigmoid(), "Sigmoid", {}),
    (lambda: nn.Tanh(), "Tanh", {}),
    (lambda: nn.GELU(), "GELU", {}),
    (lambda: nn.GELU(approximate="tanh"), "GELU", {"approximate": "tanh"}),
    (lambda: nn.Softmax(dim=1), "Softmax", {"dim": 1}),
    (lambda: nn.Softmax(dim=-1), "Softmax", {"dim": -1}),
    (lambda: nn.Softmax(dim=0), "Softmax", {"dim": 0}),
]
IDS = ["relu", "leaky", "leaky0.2", "sigmoid", "tanh", "gelu", "gelu-tanh", "softmax1",
       "softmax-1", "softmax0"]


def away_from_zero(rng, shape):
    """Inputs at least 0.1 from the kinks of ReLU and LeakyReLU at 0."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < 0.1, x + np.sign(x + 1e-12) * 0.1, x)


@pytest.mark.parametrize("make, _name, _kwargs", ACTIVATIONS, ids=IDS)
def test_gradcheck(make, _name, _kwargs, rng):
    result = gradcheck(make(), away_from_zero(rng, (3, 4, 2)))
    assert result.ok, str(result)


@pytest.mark.parametrize("make, _name, _kwargs", ACTIVATIONS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_through_forward_and_backward(make, _name, _kwargs, dtype, rng):
    module = make()
    y = module(rng.standard_normal((3, 4)).astype(dtype))
    dx = module.backward(np.ones_like(y))
    assert y.dtype == dtype and dx.dtype == dtype


@pytest.mark.parametrize("make, _name, _kwargs", ACTIVATIONS, ids=IDS)
def test_stable_at_plus_and_minus_1000(make, _name, _kwargs):
    x = np.array([[-1000.0, -100.0, -1.0, 0.0, 1.0, 100.0, 1000.0]], np.float32)
    module = make()
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        y = module(x)
        dx = module.backward(np.ones_like(y))
    assert np.isfinite(y).all() and np.isfinite(dx).all()


def test_sigmoid_saturates_exactly():
    with np.errstate(all="raise"):
        for dtype in (np.float32, np.float64):
            y = F.sigmoid(np.array([-1000.0, 0.0, 1000.0], dtype))
            np.testing.assert_array_equal(y, [0.0, 0.5, 1.0])
            assert y.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_in_place_gives_the_two_branch_values(dtype):
    """F.sigmoid computes 1 / (1 + exp(-x)) as written, overflow and all: it must give
    the stable two-branch form's values, with no warning, also written over its input."""
    x = np.linspace(-800, 800, 16001).astype(dtype)
    e = np.exp(-np.abs(x.astype(np.float64)))
    two_branch = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        y = F.sigmoid(x)
        z = x.copy()
        written = F.sigmoid(z, out=z)
    assert written is z and y.dtype == dtype
    np.testing.assert_array_equal(z, y)
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    # below the smallest normal float (x < -87 in float32) the result may flush to 0
    np.testing.assert_allclose(y, two_branch, rtol=rtol, atol=np.finfo(dtype).tiny)


def test_softmax_of_huge_scores_is_the_one_hot_of_the_largest():
    with np.errstate(all="raise"):
        y = nn.Softmax(dim=1)(np.array([[1000.0, -1000.0, 999.0]]))
    np.testing.assert_allclose(y, [[1 / (1 + np.exp(-1)), 0.0, 1 / (1 + np.e)]])


def test_stable_numerics_can_fail_where_the_naive_formula_overflows():
    """The check above is a real one: the textbook formula trips it."""
    with pytest.raises(FloatingPointError), np.errstate(all="raise"):
        1 / (1 + np.exp(-np.array([-1000.0])))


@pytest.mark.parametrize("make, _name, _kwargs", ACTIVATIONS, ids=IDS)
def test_backward_needs_forward_and_a_grad_of_the_output_shape(make, _name, _kwargs):
    module = make()
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        module.backward(np.ones((2, 3)))
    module(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"backward expected grad_out of shape \(2, 3\) "
                                         r"\(the shape of its output\), got \(2, 1\)"):
        module.backward(np.ones((2, 1)))


def test_known_values():
    x = np.array([-2.0, 0.5])
    np.testing.assert_allclose(nn.ReLU()(x), [0.0, 0.5])
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x), [-0.2, 0.5])
    np.testing.assert_allclose(nn.Tanh()(x), np.tanh(x))
    np.testing.assert_allclose(nn.GELU()(np.array([0.0, 1.0])), [0.0, 0.8413447460685429])
    np.testing.assert_allclose(nn.Softmax(dim=0)(np.log([1.0, 3.0])), [0.25, 0.75])


def test_softmax_bad_dim_and_gelu_bad_mode_are_clear():
    with pytest.raises(ValueError, match=r"Softmax\(dim=2\) got an input with 2 dimensions, "
                                         "which has no dimension 2"):
        nn.Softmax(dim=2)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="GELU approximate must be 'none' or 'tanh', got 'x'"):
        nn.GELU(approximate="x")


@pytest.mark.torch
@pytest.mark.parametrize("make, name, kwargs", ACTIVATIONS, ids=IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_pytorch(make, name, kwargs, dtype, rng):
    torch = pytest.importorskip("torch")
    ours, theirs = make(), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    x = (3 * rng.standard_normal((4, 5, 3))).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    xt = tensor(x, requires_grad=True)
    yt = theirs(xt)
    yt.backward(tensor(g))
    y = ours(x)
    dx = ours.backward(g)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    err = max(assert_close(y, yt, name=f"{name} output", **tol),
              assert_close(dx, xt.grad, name=f"{name} input grad", **tol))
    record_parity(f"{repr(ours)} {dtype}", err)


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4), (2, 3, 2, 2)])
def test_softmax_without_dim_picks_pytorchs_implicit_dim(shape, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # torch warns about the implicit dim
        expected = torch.nn.Softmax()(tensor(x))
    assert_close(nn.Softmax()(x), expected, rtol=1e-12, atol=1e-14, name="softmax")


def test_a_numpy_float64_slope_does_not_upcast_float32():
    y = nn.LeakyReLU(np.float64(0.2))(-np.ones(3, np.float32))
    assert y.dtype == np.float32


def test_functional_helpers():
    x = np.array([-1000.0, -3.0, 0.0, 2.0, 1000.0])
    with np.errstate(all="raise"):
        np.testing.assert_allclose(F.softplus(x), [0.0, np.log1p(np.exp(-3.0)), np.log(2),
                                                   np.log1p(np.exp(2.0)), 1000.0])
        np.testing.assert_array_equal(F.exp_nonpositive(np.array([-1000.0, 0.0])), [0.0, 1.0])
        np.testing.assert_allclose(F.log_softmax(np.array([[0.0, 1000.0]])), [[-1000.0, 0.0]])
    np.testing.assert_array_equal(F.relu(x), [0, 0, 0, 2, 1000])
    hot = F.one_hot(np.array([2, 0]), 3)
    np.testing.assert_array_equal(hot, [[0, 0, 1], [1, 0, 0]])
    assert hot.dtype == np.float32
