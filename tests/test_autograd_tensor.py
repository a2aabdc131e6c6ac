"""dlcore.autograd.Tensor: every operation gradchecked against central differences
(broadcasting included), lesson 06's MLP giving the same gradients as dlcore's
hand-written backward and as PyTorch, no_grad and detach, the graph released after
backward, and errors that name what was wrong."""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from dlcore import nn
from dlcore.autograd import Tensor, cross_entropy, log_softmax, no_grad, unbroadcast
from dlcore.gradcheck import numerical_gradient, rel_error

RNG = np.random.default_rng(14)


def gradcheck_fn(fn, *arrays, tol=1e-7):
    """Check every input's gradient of sum(fn(*inputs) * G) against central differences."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    out_shape = fn(*[Tensor(a) for a in arrays]).shape
    G = RNG.standard_normal(out_shape)
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    (fn(*inputs) * G).sum().backward()
    for k, x in enumerate(arrays):
        def scalar(k=k):
            return float((fn(*[Tensor(a) for a in arrays]).data * G).sum())
        numeric = numerical_gradient(scalar, x)
        assert inputs[k].grad.shape == x.shape
        err = rel_error(inputs[k].grad, numeric)
        assert err < tol, f"input {k}: rel_error {err:.2e}"


def pos(*shape):
    return RNG.uniform(0.5, 2.0, size=shape)


def normal(*shape):
    return RNG.standard_normal(shape)


CASES = {
    "add (3,4)+(4,)": (lambda a, b: a + b, normal(3, 4), normal(4)),
    "add (3,1)+(1,4)": (lambda a, b: a + b, normal(3, 1), normal(1, 4)),
    "add scalar": (lambda a: 2.0 + a, normal(2, 3)),
    "sub (2,3)-(3,)": (lambda a, b: a - b, normal(2, 3), normal(3)),
    "rsub": (lambda a: 1.0 - a, normal(4)),
    "neg": (lambda a: -a, normal(2, 2)),
    "mul (2,3,4)*(3,1)": (lambda a, b: a * b, normal(2, 3, 4), normal(3, 1)),
    "mul same tensor": (lambda a: a * a, normal(3, 2)),
    "div (3,4)/(4,)": (lambda a, b: a / b, normal(3, 4), pos(4)),
    "rdiv": (lambda a: 1.0 / a, pos(3)),
    "pow 3": (lambda a: a ** 3, normal(3, 2)),
    "pow -0.5": (lambda a: a ** -0.5, pos(4)),
    "exp": (lambda a: a.exp(), normal(2, 3)),
    "log": (lambda a: a.log(), pos(2, 3)),
    "tanh": (lambda a: a.tanh(), normal(2, 3)),
    "relu": (lambda a: a.relu(), normal(3, 4) + 0.05),
    "sum all": (lambda a: a.sum(), normal(3, 4)),
    "sum dim 0": (lambda a: a.sum(0), normal(3, 4)),
    "sum dim 1 keepdim": (lambda a: a.sum(1, keepdim=True), normal(3, 4)),
    "sum dims (0, 2)": (lambda a: a.sum((0, 2)), normal(2, 3, 4)),
    "mean all": (lambda a: a.mean(), normal(3, 4)),
    "mean dim -1": (lambda a: a.mean(-1), normal(3, 4)),
    "matmul (3,4)@(4,2)": (lambda a, b: a @ b, normal(3, 4), normal(4, 2)),
    "matmul (2,3,4)@(4,5)": (lambda a, b: a @ b, normal(2, 3, 4), normal(4, 5)),
    "matmul (3,4)@(2,4,5)": (lambda a, b: a @ b, normal(3, 4), normal(2, 4, 5)),
    "matmul (2,1,3,4)@(5,4,2)": (lambda a, b: a @ b, normal(2, 1, 3, 4), normal(5, 4, 2)),
    "reshape": (lambda a: a.reshape(4, 3), normal(3, 4)),
    "reshape -1": (lambda a: a.reshape(-1), normal(2, 3)),
    "transpose": (lambda a: a.transpose(0, 2), normal(2, 3, 4)),
    "T": (lambda a: a.T, normal(3, 4)),
    "index rows": (lambda a: a[1:], normal(3, 4)),
    "index repeated": (lambda a: a[np.array([0, 2, 0, 0])], normal(3, 2)),
    "index pairs": (lambda a: a[np.arange(3), np.array([1, 0, 1])], normal(3, 2)),
    "log_softmax": (lambda a: log_softmax(a, dim=1), normal(4, 5)),
    "log_softmax dim 0": (lambda a: log_softmax(a, dim=0), normal(4, 5)),
    "cross_entropy": (lambda a: cross_entropy(a, np.array([0, 4, 2, 4])), normal(4, 5)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_every_operation_matches_central_differences(name):
    fn, *arrays = CASES[name]
    gradcheck_fn(fn, *arrays)


def test_unbroadcast_sums_over_added_and_stretched_axes():
    g = np.ones((2, 3, 4))
    assert unbroadcast(g, (4,)).tolist() == [6.0] * 4
    assert unbroadcast(g, (3, 1)).tolist() == [[8.0]] * 3
    assert unbroadcast(g, (2, 3, 4)).shape == (2, 3, 4)
    assert unbroadcast(g, ()).shape == () and unbroadcast(g, ()) == 24.0


def test_a_tensor_used_twice_adds_both_shares():
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    y = x * 3.0 + x.tanh()
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 3.0 + (1 - np.tanh([1.0, -2.0]) ** 2))


def test_gradients_accumulate_over_steps_until_set_to_none():
    w = Tensor(np.array([2.0]), requires_grad=True)
    (w * 4.0).sum().backward()
    (w * 4.0).sum().backward()
    assert w.grad.tolist() == [8.0]
    w.grad = None
    (w * 4.0).sum().backward()
    assert w.grad.tolist() == [4.0]


def mlp_and_data(seed=6):
    """Lesson 06's MLP shape on digits-sized data, float64."""
    rng = np.random.default_rng(seed)
    from dlcore import manual_seed
    manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)).double()
    X = rng.standard_normal((16, 64))
    y = rng.integers(0, 10, size=16)
    return model, X, y


def autograd_mlp(model, X, y):
    """The same forward pass on Tensors; returns (loss, {name: Tensor})."""
    params = {name: Tensor(p.data.copy(), requires_grad=True)
              for name, p in model.named_parameters()}
    h = (Tensor(X) @ params["0.weight"].T + params["0.bias"]).relu()
    logits = h @ params["2.weight"].T + params["2.bias"]
    return cross_entropy(logits, y), params


def test_mlp_gives_the_hand_written_backward_gradients():
    model, X, y = mlp_and_data()
    loss_fn = nn.CrossEntropyLoss()
    expected_loss = loss_fn(model(X), y)
    model.backward(loss_fn.backward())
    loss, params = autograd_mlp(model, X, y)
    loss.backward()
    assert loss.item() == pytest.approx(expected_loss, rel=1e-12)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(params[name].grad, p.grad, rtol=1e-10, atol=1e-13,
                                   err_msg=name)


@pytest.mark.torch
def test_mlp_gives_the_same_gradients_as_pytorch():
    torch = pytest.importorskip("torch")
    from torch_utils import assert_close, copy_to_torch, record_parity

    model, X, y = mlp_and_data(seed=7)
    reference = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(),
                                    torch.nn.Linear(32, 10)).double()
    copy_to_torch(model, reference)
    torch_loss = torch.nn.functional.cross_entropy(reference(torch.from_numpy(X)),
                                                   torch.from_numpy(y))
    torch_loss.backward()
    loss, params = autograd_mlp(model, X, y)
    loss.backward()
    assert loss.item() == pytest.approx(torch_loss.item(), rel=1e-12)
    for name, p in reference.named_parameters():
        record_parity("autograd.Tensor MLP",
                      assert_close(params[name].grad, p.grad, rtol=1e-9, atol=1e-12, name=name))


@pytest.mark.torch
def test_broadcast_matmul_and_ops_match_pytorch():
    torch = pytest.importorskip("torch")
    a, b, c = normal(2, 3, 4), normal(4, 5), normal(5)
    ta, tb, tc = (torch.tensor(v, requires_grad=True) for v in (a, b, c))
    torch.log_softmax(torch.tanh(ta @ tb) * tc - tc.exp() / 2, dim=-1).mean().backward()
    ma, mb, mc = (Tensor(v, requires_grad=True) for v in (a, b, c))
    log_softmax((ma @ mb).tanh() * mc - mc.exp() / 2, dim=-1).mean().backward()
    for mine, theirs in ((ma, ta), (mb, tb), (mc, tc)):
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_no_grad_records_nothing_and_detach_cuts_the_graph():
    w = Tensor(np.ones(3), requires_grad=True)
    with no_grad():
        out = w * 2.0
    assert not out.requires_grad and out.is_leaf and out._prev == ()
    with pytest.raises(RuntimeError, match="does not require grad"):
        out.sum().backward()
    doubled = w * 2.0
    d = doubled.detach()
    assert not d.requires_grad and d.is_leaf and np.shares_memory(d.data, doubled.data)
    z = (d * w).sum()
    z.backward()
    np.testing.assert_allclose(w.grad, 2.0 * np.ones(3))     # no gradient through d


def test_graph_is_released_after_backward():
    w = Tensor(normal(50, 50), requires_grad=True)
    h = (w @ w).tanh()
    loss = h.sum()
    watch = weakref.ref(h)
    del h
    gc.collect()
    assert watch() is not None                     # the graph keeps h alive until backward
    gc.disable()                                   # freed by reference counting alone
    try:
        loss.backward()
        assert watch() is None
    finally:
        gc.enable()
    assert loss._prev == () and loss.grad is None and w.grad is not None
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_errors_name_the_operation_and_shapes():
    a = Tensor(normal(3, 4), requires_grad=True)
    with pytest.raises(ValueError, match=r"add: shapes \(3, 4\) and \(5,\) do not broadcast"):
        a + Tensor(normal(5))
    with pytest.raises(ValueError, match=r"matmul: \(3, 4\) @ \(5, 2\): the inner sizes 4 and 5"):
        a @ Tensor(normal(5, 2))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        a @ Tensor(normal(4))
    with pytest.raises(RuntimeError, match=r"shape \(3, 4\).*\.sum\(\)"):
        (a * 2.0).backward()
    with pytest.raises(ValueError, match="gradient has shape"):
        (a * 2.0).backward(np.ones(4))
    with pytest.raises(ValueError, match="class index outside"):
        cross_entropy(a, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="cannot take the shape"):
        a.reshape(5, 2)
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(np.arange(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        a.numpy()


def test_backward_with_a_gradient_on_a_non_scalar():
    a = Tensor(normal(2, 3), requires_grad=True)
    g = normal(2, 3)
    (a * 3.0).backward(g)
    np.testing.assert_allclose(a.grad, 3.0 * g)


def test_float32_stays_float32():
    w = Tensor(normal(3, 2).astype(np.float32), requires_grad=True)
    x = Tensor(normal(4, 3).astype(np.float32))
    out = (x @ w).relu().mean()
    assert out.dtype == np.float32
    out.backward()
    assert w.grad.dtype == np.float32


def test_no_grad_nests_and_is_restored_after_an_error():
    from dlcore.autograd import is_grad_enabled
    with no_grad():
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()
    with pytest.raises(ValueError, match="do not broadcast"):
        with no_grad():
            Tensor(np.ones(2)) + Tensor(np.ones(3))
    assert is_grad_enabled()


def test_numpy_arrays_on_the_left_defer_to_the_tensor():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    out = np.array([3.0, 4.0]) * w + np.array([1.0, 1.0])
    assert isinstance(out, Tensor) and out.requires_grad
    out.sum().backward()
    assert w.grad.tolist() == [3.0, 4.0]


def test_a_freed_intermediate_reused_in_a_new_graph_is_an_error_not_a_silent_zero():
    w = Tensor(np.ones(2), requires_grad=True)
    h = w * 2.0
    h.sum().backward()
    with pytest.raises(RuntimeError, match="released"):
        (h * 3.0).sum().backward()
