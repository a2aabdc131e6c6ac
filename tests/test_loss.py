"""Losses: gradients, parity with PyTorch for each reduction, stable numerics,
dtypes and the messages for bad targets."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from torch_utils import assert_close, record_parity, tensor, to_numpy

from dlcore import gradcheck, nn

REDUCTIONS = ["mean", "sum", "none"]


def problem(kind: str, rng, dtype=np.float64, n: int = 4, c: int = 3):
    """(loss kwargs builder, prediction, target) for each kind of loss."""
    z = rng.standard_normal((n, c)).astype(dtype)
    if kind == "mse":
        return z, rng.standard_normal((n, c)).astype(dtype)
    if kind == "bce":
        return z, (rng.random((n, c)) > 0.5).astype(dtype)
    if kind == "bce-soft":
        return z, rng.random((n, c)).astype(dtype)
    return z, rng.integers(0, c, n)


CASES = {  # name: (dlcore loss, torch class name, torch kwargs, problem kind)
    "MSELoss": (lambda r: nn.MSELoss(reduction=r), "MSELoss", {}, "mse"),
    "BCEWithLogitsLoss": (lambda r: nn.BCEWithLogitsLoss(reduction=r), "BCEWithLogitsLoss",
                          {}, "bce-soft"),
    "BCEWithLogitsLoss pos_weight": (
        lambda r: nn.BCEWithLogitsLoss(reduction=r, pos_weight=np.array([1.0, 2.0, 0.5])),
        "BCEWithLogitsLoss", {"pos_weight": [1.0, 2.0, 0.5]}, "bce"),
    "CrossEntropyLoss": (lambda r: nn.CrossEntropyLoss(reduction=r), "CrossEntropyLoss", {},
                         "ce"),
    "CrossEntropyLoss label_smoothing": (
        lambda r: nn.CrossEntropyLoss(reduction=r, label_smoothing=0.1), "CrossEntropyLoss",
        {"label_smoothing": 0.1}, "ce"),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(CASES))
def test_gradcheck(case, reduction, rng):
    make, _, _, kind = CASES[case]
    z, y = problem(kind, rng)
    result = gradcheck(make(reduction), z, y)
    assert result.ok, str(result)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(CASES))
def test_matches_pytorch(case, reduction, dtype, rng):
    torch = pytest.importorskip("torch")
    make, torch_name, torch_kwargs, kind = CASES[case]
    z, y = problem(kind, rng, dtype=dtype, n=6, c=3)
    kwargs = {k: torch.tensor(v, dtype=getattr(torch, dtype)) if k == "pos_weight" else v
              for k, v in torch_kwargs.items()}
    theirs = getattr(torch.nn, torch_name)(reduction=reduction, **kwargs)
    ours = make(reduction)
    zt = tensor(z, requires_grad=True)
    loss_t = theirs(zt, tensor(y))
    upstream = rng.standard_normal(tuple(loss_t.shape)).astype(dtype)
    loss_t.backward(tensor(upstream))
    loss = ours(z, y)
    grad = ours.backward(upstream if reduction == "none" else float(upstream))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    if reduction == "none":
        assert isinstance(loss, np.ndarray) and loss.dtype == dtype
    else:
        assert isinstance(loss, float)
    assert grad.dtype == dtype
    err = max(assert_close(loss, to_numpy(loss_t), name="loss", **tol),
              assert_close(grad, zt.grad, name="gradient", **tol))
    record_parity(f"{case} {reduction} {dtype}", err)


@pytest.mark.parametrize("case", list(CASES))
def test_loss_is_a_float_and_backward_needs_forward(case, rng):
    make, _, _, kind = CASES[case]
    loss_fn = make("mean")
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        loss_fn.backward()
    assert type(loss_fn(*problem(kind, rng))) is float


def test_known_values():
    assert nn.MSELoss()(np.array([1.0, 3.0]), np.array([0.0, 0.0])) == 5.0
    assert nn.MSELoss(reduction="sum")(np.array([1.0, 3.0]), np.array([0.0, 0.0])) == 10.0
    ce = nn.CrossEntropyLoss()(np.log([[1.0, 3.0]]), np.array([1]))
    assert ce == pytest.approx(-np.log(0.75))
    assert nn.BCEWithLogitsLoss()(np.array([0.0]), np.array([1.0])) == pytest.approx(np.log(2))


# -- stable numerics ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_exact_and_quiet_at_plus_minus_1000(dtype):
    z = np.array([1000.0, -1000.0, 1000.0, -1000.0], dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0], dtype)
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        loss = loss_fn(z, y)
        grad = loss_fn.backward(np.ones(4, dtype))
    np.testing.assert_array_equal(loss, [0.0, 0.0, 1000.0, 1000.0])
    np.testing.assert_array_equal(grad, [0.0, 0.0, 1.0, -1.0])
    assert loss.dtype == grad.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_uses_log_sum_exp(dtype):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], dtype)
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        loss = loss_fn(z, np.array([1, 0]))
        grad = loss_fn.backward(np.ones(2, dtype))
    np.testing.assert_allclose(loss, [2000.0, np.log(3)], rtol=1e-6)
    np.testing.assert_allclose(grad, [[1, -1, 0], [1 / 3 - 1, 1 / 3, 1 / 3]], rtol=1e-6,
                               atol=1e-7)
    assert grad.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mse_at_large_values_is_finite(dtype):
    with np.errstate(all="raise"):
        loss_fn = nn.MSELoss()
        assert loss_fn(np.array([1000.0], dtype), np.array([-1000.0], dtype)) == 4e6
        assert loss_fn.backward()[0] == 4000


# -- dtypes ---------------------------------------------------------------------------

@pytest.mark.parametrize("case", list(CASES))
def test_float32_predictions_with_float64_targets_stay_float32(case, rng):
    """A float64 one-hot or target must not silently turn a float32 backward into float64."""
    make, _, _, kind = CASES[case]
    z, y = problem(kind, rng, dtype=np.float64)
    loss_fn = make("none")
    loss = loss_fn(z.astype(np.float32), y)
    grad = loss_fn.backward(np.ones(loss.shape, np.float32))
    assert loss.dtype == np.float32 and grad.dtype == np.float32
    loss_fn = make("mean")
    loss_fn(z.astype(np.float32), y)
    assert loss_fn.backward().dtype == np.float32
    loss_fn(z, y)
    assert loss_fn.backward().dtype == np.float64


# -- errors -----------------------------------------------------------------------------

def test_cross_entropy_target_out_of_range_says_which_and_the_valid_range():
    with pytest.raises(ValueError, match=r"^CrossEntropyLoss: target 10 at position 2 is out of "
                                         r"range for 10 classes \(valid: 0 to 9, or "
                                         r"ignore_index=-100\)$"):
        nn.CrossEntropyLoss()(np.zeros((4, 10)), np.array([0, 9, 10, 3]))
    with pytest.raises(ValueError, match="target -1 at position 0"):
        nn.CrossEntropyLoss()(np.zeros((2, 10)), np.array([-1, 3]))


def test_cross_entropy_batch_size_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"^CrossEntropyLoss: scores \(32, 10\) need targets of "
                                         r"shape \(32,\), got \(16,\)$"):
        nn.CrossEntropyLoss()(np.zeros((32, 10)), np.zeros(16, int))
    with pytest.raises(ValueError, match=r"got \(32, 10\); these look one-hot: pass the class "
                                         r"indices, y.argmax\(axis=1\)"):
        nn.CrossEntropyLoss()(np.zeros((32, 10)), np.zeros((32, 10)))


def test_cross_entropy_wants_scores_of_two_dimensions_and_integer_targets():
    with pytest.raises(ValueError, match=r"expected scores \(N, C\), got \(2, 3, 4\); flatten"):
        nn.CrossEntropyLoss()(np.zeros((2, 3, 4)), np.zeros(2, int))
    with pytest.raises(ValueError, match="expects class indices .integers. as targets, got "
                                         "dtype float64"):
        nn.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.5, 1.0]))
    assert nn.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.0, 2.0])) == pytest.approx(
        np.log(3))


def test_mse_and_bce_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"^MSELoss: prediction \(32, 1\) and target \(32,\) "
                                         r"must have the same shape"):
        nn.MSELoss()(np.zeros((32, 1)), np.zeros(32))
    with pytest.raises(ValueError, match=r"BCEWithLogitsLoss: prediction \(4,\) and target "
                                         r"\(5,\)"):
        nn.BCEWithLogitsLoss()(np.zeros(4), np.zeros(5))


def test_bce_targets_must_be_probabilities():
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\], got values from 0 to 2"):
        nn.BCEWithLogitsLoss()(np.zeros(3), np.array([0.0, 1.0, 2.0]))


def test_bad_reduction_and_positional_arguments():
    with pytest.raises(ValueError, match=r"MSELoss: reduction must be one of \('mean', 'sum', "
                                         r"'none'\), got 'avg'"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(TypeError):
        nn.CrossEntropyLoss(None)  # PyTorch's first positional argument is `weight`
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got 1.5"):
        nn.CrossEntropyLoss(label_smoothing=1.5)


def test_pos_weight_is_a_buffer_in_the_state_dict():
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=np.array([2.0]))
    assert list(loss_fn.state_dict()) == ["pos_weight"]
    assert list(nn.BCEWithLogitsLoss().state_dict()) == []
    assert repr(nn.CrossEntropyLoss(reduction="sum")) == "CrossEntropyLoss(reduction='sum')"


def test_the_upstream_gradient_must_fit_the_loss():
    loss_fn = nn.MSELoss()
    loss_fn(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"MSELoss\(\) backward: the loss is one number, so its "
                                         r"gradient is one number too, got shape \(3,\)"):
        loss_fn.backward(np.ones(3))
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    loss_fn(np.zeros((4, 3)), np.zeros(4, int))
    with pytest.raises(ValueError, match=r"backward expected grad_out of shape \(4,\)"):
        loss_fn.backward(np.ones(3))
    assert loss_fn.backward(2.0).shape == (4, 3)


# -- CrossEntropyLoss: weight, ignore_index, label_smoothing ------------------------------

WEIGHT = [0.5, 2.0, 1.25, 0.75]        # exact in float32, so both dtypes see the same numbers
CE_OPTIONS = [(weight, ignore, smoothing) for weight in (False, True)
              for ignore in ("none", "-100", "class 2") for smoothing in (0.0, 0.2)]


def ce_problem(ignore: str, rng, dtype="float64", n: int = 7, c: int = 4):
    """Scores (n, c) and targets; ``ignore`` puts ignore_index into some targets:
    the default -100, or a real class (2) given as ignore_index."""
    z = (3 * rng.standard_normal((n, c))).astype(dtype)
    y = rng.integers(0, c, n)
    y[0] = 2
    kwargs = {}
    if ignore == "-100":
        y[[1, 4]] = -100
    elif ignore == "class 2":
        kwargs["ignore_index"] = 2
    return z, y, kwargs


def ce_pair(torch, weight: bool, smoothing: float, reduction: str, dtype: str, kwargs: dict):
    ours = nn.CrossEntropyLoss(weight=np.array(WEIGHT) if weight else None, reduction=reduction,
                               label_smoothing=smoothing, **kwargs)
    theirs = None if torch is None else torch.nn.CrossEntropyLoss(
        weight=torch.tensor(WEIGHT, dtype=getattr(torch, dtype)) if weight else None,
        reduction=reduction, label_smoothing=smoothing, **kwargs)
    return ours, theirs


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight, ignore, smoothing", CE_OPTIONS)
def test_cross_entropy_options_gradcheck(weight, ignore, smoothing, reduction, rng):
    z, y, kwargs = ce_problem(ignore, rng)
    loss_fn, _ = ce_pair(None, weight, smoothing, reduction, "float64", kwargs)
    result = gradcheck(loss_fn, z, y)
    assert result.ok, str(result)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight, ignore, smoothing", CE_OPTIONS)
def test_cross_entropy_options_match_pytorch(weight, ignore, smoothing, reduction, dtype, rng):
    torch = pytest.importorskip("torch")
    z, y, kwargs = ce_problem(ignore, rng, dtype)
    ours, theirs = ce_pair(torch, weight, smoothing, reduction, dtype, kwargs)
    zt = tensor(z, requires_grad=True)
    loss_t = theirs(zt, tensor(y))
    upstream = rng.standard_normal(tuple(loss_t.shape)).astype(dtype)
    loss_t.backward(tensor(upstream))
    loss = ours(z, y)
    grad = ours.backward(upstream if reduction == "none" else float(upstream))
    assert grad.dtype == dtype and np.asarray(loss).dtype == (dtype if reduction == "none"
                                                               else np.float64)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    err = max(assert_close(loss, to_numpy(loss_t), name="loss", **tol),
              assert_close(grad, zt.grad, name="gradient", **tol))
    record_parity(f"CrossEntropyLoss weight={weight} ignore={ignore} smoothing={smoothing} "
                  f"{reduction} {dtype}", err)


def test_cross_entropy_weighted_mean_by_hand():
    """Two samples of classes 0 and 1, weights 1 and 3: the mean divides by 1 + 3 = 4
    (the weights of the targets), not by 2; an ignored third sample changes nothing."""
    z = np.log(np.array([[0.5, 0.5], [0.2, 0.8], [0.9, 0.1]]))
    loss_fn = nn.CrossEntropyLoss(weight=np.array([1.0, 3.0]), ignore_index=-1)
    expected = (-np.log(0.5) - 3 * np.log(0.8)) / 4
    assert loss_fn(z, np.array([0, 1, -1])) == pytest.approx(expected)
    grad = loss_fn.backward()
    np.testing.assert_allclose(grad, [[-0.5 / 4, 0.5 / 4], [3 * 0.2 / 4, -3 * 0.2 / 4], [0, 0]],
                               rtol=1e-6)
    assert nn.CrossEntropyLoss(weight=np.array([1.0, 3.0]))(z[:2], np.array([0, 1])) == (
        pytest.approx(expected))


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weight", [None, WEIGHT])
def test_cross_entropy_with_every_sample_ignored_is_nan_and_its_gradient_zero(weight, smoothing):
    """As PyTorch: the mean of nothing is nan (0 / 0), the sum 0, the gradient 0;
    and no RuntimeWarning from the division."""
    z = np.ones((3, 4), np.float32)
    y = np.full(3, -100)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        for reduction, value in [("mean", np.nan), ("sum", 0.0)]:
            loss_fn = nn.CrossEntropyLoss(weight=weight, reduction=reduction,
                                          label_smoothing=smoothing)
            np.testing.assert_array_equal(loss_fn(z, y), value)
            grad = loss_fn.backward()
            assert grad.dtype == np.float32 and not grad.any()
        loss_fn = nn.CrossEntropyLoss(weight=weight, reduction="none", label_smoothing=smoothing)
        assert not loss_fn(z, y).any() and not loss_fn.backward(np.ones(3, np.float32)).any()


@pytest.mark.torch
def test_cross_entropy_with_every_sample_ignored_matches_pytorch():
    torch = pytest.importorskip("torch")
    z = np.ones((3, 4), np.float32)
    y = np.full(3, -100)
    for weight in (False, True):
        for reduction in ("mean", "sum"):
            ours, theirs = ce_pair(torch, weight, 0.1, reduction, "float32", {})
            zt = tensor(z, requires_grad=True)
            loss_t = theirs(zt, tensor(y))
            loss_t.backward()
            np.testing.assert_array_equal(ours(z, y), loss_t.item())
            np.testing.assert_array_equal(ours.backward(), to_numpy(zt.grad))


@pytest.mark.parametrize("weight, ignore, smoothing", CE_OPTIONS)
def test_cross_entropy_options_keep_float32(weight, ignore, smoothing, rng):
    z, y, kwargs = ce_problem(ignore, rng, "float32")
    for reduction in REDUCTIONS:
        loss_fn = nn.CrossEntropyLoss(weight=np.array(WEIGHT) if weight else None,
                                      reduction=reduction, label_smoothing=smoothing, **kwargs)
        loss = loss_fn(z, y)
        grad = loss_fn.backward(np.ones(len(y), np.float32) if reduction == "none" else 1.0)
        assert grad.dtype == np.float32
        if reduction == "none":
            assert loss.dtype == np.float32


def test_cross_entropy_stays_stable_with_weights_and_smoothing():
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], np.float32)
    loss_fn = nn.CrossEntropyLoss(weight=np.array([1.0, 2.0, 0.5]), label_smoothing=0.1,
                                  reduction="sum")
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        loss = loss_fn(z, np.array([1, 0]))
        grad = loss_fn.backward()
    assert np.isfinite(loss) and np.isfinite(grad).all()


def test_cross_entropy_option_errors_are_clear():
    with pytest.raises(ValueError, match=r"^CrossEntropyLoss: weight has 3 entries but the "
                                         r"scores have 4 classes$"):
        nn.CrossEntropyLoss(weight=np.ones(3))(np.zeros((2, 4)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"weight must hold one number per class, shape "
                                         r"\(C,\), got shape \(1, 3\)"):
        nn.CrossEntropyLoss(weight=np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got -0.1"):
        nn.CrossEntropyLoss(label_smoothing=-0.1)
    loss_fn = nn.CrossEntropyLoss(ignore_index=-1)
    loss_fn(np.zeros((3, 4)), np.array([-1, 3, 0]))                   # -1 is ignored here
    with pytest.raises(ValueError, match=r"target -100 at position 1 is out of range for 4 "
                                         r"classes \(valid: 0 to 3, or ignore_index=-1\)"):
        loss_fn(np.zeros((3, 4)), np.array([-1, -100, 0]))
    with pytest.raises(ValueError, match=r"target 4 at position 2 .* ignore_index=-100"):
        nn.CrossEntropyLoss()(np.zeros((3, 4)), np.array([-100, 3, 4]))


def test_cross_entropy_weight_is_a_buffer_and_options_show_in_the_repr():
    loss_fn = nn.CrossEntropyLoss(weight=[1.0, 2.0], ignore_index=0, label_smoothing=0.1)
    assert list(loss_fn.state_dict()) == ["weight"] and loss_fn.weight.dtype == np.float32
    assert loss_fn.double().weight.dtype == np.float64
    assert repr(loss_fn) == "CrossEntropyLoss(ignore_index=0, label_smoothing=0.1)"
    assert list(nn.CrossEntropyLoss().state_dict()) == []
