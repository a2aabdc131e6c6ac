"""RNN, LSTM and GRU: parameter names and init, backpropagation through time
(gradcheck, initial and final states), layouts, errors and PyTorch parity."""
from __future__ import annotations

import math

import numpy as np
import pytest
from torch_utils import assert_close, copy_to_torch, record_parity, tensor, to_numpy

from dlcore import gradcheck, nn
from dlcore.gradcheck import numerical_gradient

# (dlcore/torch class name, extra kwargs); the RNN twice for its two nonlinearities.
KINDS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]
IDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]


def _states(name: str, rng, shape: tuple) -> tuple:
    """Random initial states and final-state gradients: (h,) or (h, c)."""
    return tuple(rng.standard_normal(shape) for _ in range(2 if name == "LSTM" else 1))


@pytest.mark.parametrize("name, kwargs", KINDS, ids=IDS)
def test_parameter_names_shapes_and_init(name, kwargs):
    layer = getattr(nn, name)(3, 16, num_layers=2, **kwargs)
    gates = {"RNN": 1, "LSTM": 4, "GRU": 3}[name]
    expected = {}
    for k, d_in in ((0, 3), (1, 16)):
        expected |= {f"weight_ih_l{k}": (gates * 16, d_in), f"weight_hh_l{k}": (gates * 16, 16),
                     f"bias_ih_l{k}": (gates * 16,), f"bias_hh_l{k}": (gates * 16,)}
    assert {k: v.shape for k, v in layer.state_dict().items()} == expected
    values = np.concatenate([p.data.ravel() for p in layer.parameters()])
    assert np.abs(values).max() <= 1 / math.sqrt(16)
    assert np.abs(values).max() > 0.99 / math.sqrt(16)
    assert list(getattr(nn, name)(3, 4, bias=False).state_dict()) == ["weight_ih_l0",
                                                                      "weight_hh_l0"]


@pytest.mark.parametrize("name, kwargs", KINDS, ids=IDS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_gradcheck_two_layers(name, kwargs, batch_first, rng):
    layer = getattr(nn, name)(3, 4, num_layers=2, batch_first=batch_first, **kwargs)
    # eps=1e-5: the smallest weight_hh gradients (~1e-5) are otherwise at rounding level.
    result = gradcheck(layer, rng.standard_normal((2, 3, 3)), eps=1e-5)
    assert result.ok, str(result)


@pytest.mark.parametrize("name, kwargs", KINDS, ids=IDS)
def test_gradients_of_initial_and_final_states(name, kwargs, rng):
    """backward(grad_output, grad_h_n[, grad_c_n]) against central differences of
    sum(output * G) + sum(h_n * G_h) (+ sum(c_n * G_c)), for x, h_0 (c_0) and weights."""
    layer = getattr(nn, name)(3, 4, num_layers=2, **kwargs).double()
    x = rng.standard_normal((4, 2, 3))
    hx = _states(name, rng, (2, 2, 4))
    g_out = rng.standard_normal((4, 2, 4))
    g_final = _states(name, rng, (2, 2, 4))

    def run() -> tuple:
        out, final = layer(x, hx if name == "LSTM" else hx[0])
        return out, (final if name == "LSTM" else (final,))

    def f() -> float:
        out, final = run()
        return float(np.sum(out * g_out) + sum(np.sum(s * g) for s, g in
                                                 zip(final, g_final, strict=True)))

    layer.zero_grad()
    run()
    dx = layer.backward(g_out, *g_final)
    grads = {"x": (dx, x)} | {f"state {k}": (layer.grad_hx[k], hx[k]) for k in range(len(hx))}
    grads |= {n: (p.grad.copy(), p.data) for n, p in layer.named_parameters()}
    for label, (analytic, value) in grads.items():
        np.testing.assert_allclose(analytic, numerical_gradient(f, value), rtol=1e-5,
                                   atol=1e-7, err_msg=f"{name}: gradient of {label}")


@pytest.mark.parametrize("name, kwargs", KINDS, ids=IDS)
def test_backward_from_the_final_state_only(name, kwargs, rng):
    """grad_output=None when only h_n fed the loss equals zeros for the output."""
    layer = getattr(nn, name)(3, 5, batch_first=True, **kwargs).double()
    x = rng.standard_normal((2, 6, 3))
    out, _ = layer(x)
    g = rng.standard_normal((1, 2, 5))
    dx_none = layer.backward(None, g)
    layer(x)
    np.testing.assert_allclose(dx_none, layer.backward(np.zeros_like(out), g), rtol=1e-12)
    # ...and equals feeding the same gradient through the last output step.
    last = np.zeros_like(out)
    last[:, -1] = g[0]
    layer(x)
    np.testing.assert_allclose(dx_none, layer.backward(last), rtol=1e-12)


@pytest.mark.parametrize("name, kwargs", KINDS, ids=IDS)
def test_unbatched_input_equals_a_batch_of_one(name, kwargs, rng):
    layer = getattr(nn, name)(3, 4, num_layers=2, **kwargs).double()
    x = rng.standard_normal((5, 3))
    out, final = layer(x)
    g = rng.standard_normal((5, 4))
    dx = layer.backward(g)
    out1, final1 = layer(x[:, None])
    np.testing.assert_allclose(out, out1[:, 0], rtol=1e-12)
    h_n, h_n1 = (final[0], final1[0]) if name == "LSTM" else (final, final1)
    assert h_n.shape == (2, 4)
    np.testing.assert_allclose(h_n, h_n1[:, 0], rtol=1e-12)
    np.testing.assert_allclose(dx, layer.backward(g[:, None])[:, 0], rtol=1e-12)


def test_errors_name_the_layer_and_shapes():
    lstm = nn.LSTM(32, 128, batch_first=True)
    with pytest.raises(ValueError, match=r"^LSTM\(32 -> 128\) expected input \(N, T, 32\) or "
                                         r"\(T, 32\) unbatched, got \(64, 50, 16\)$"):
        lstm(np.zeros((64, 50, 16), np.float32))
    with pytest.raises(ValueError, match=r"GRU\(3 -> 4, num_layers=2\) expected input "
                                         r"\(T, N, 3\)"):
        nn.GRU(3, 4, num_layers=2)(np.zeros((2, 3, 4, 3)))
    rnn = nn.RNN(3, 4)
    with pytest.raises(ValueError, match=r"RNN\(3 -> 4\) expected initial states of shape "
                                         r"\(1, 2, 4\), got \(2, 4\)"):
        rnn(np.zeros((5, 2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"expects hx = \(h_0, c_0\)"):
        nn.LSTM(3, 4)(np.zeros((5, 2, 3)), np.zeros((1, 2, 4)))
    with pytest.raises(RuntimeError, match=r"RNN\(3 -> 4\): backward\(\) was called before"):
        rnn.backward(np.zeros((5, 2, 4)))
    rnn(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"RNN\(3 -> 4\) backward expected grad_output of "
                                         r"shape \(5, 2, 4\) \(the shape of its output\), "
                                         r"got \(2, 5, 4\)"):
        rnn.backward(np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match=r"^RNN\(3 -> 4\) expected final-state "
                                         r"gradients of shape \(1, 2, 4\), got \(2, 4\)$"):
        rnn.backward(None, np.zeros((2, 4)))
    with pytest.raises(NotImplementedError, match="dropout between layers"):
        nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")


@pytest.mark.torch
@pytest.mark.parametrize("name, kwargs", KINDS, ids=IDS)
@pytest.mark.parametrize("num_layers, batch_first, bias, dtype", [
    (1, False, True, "float64"), (2, True, True, "float64"), (2, False, False, "float64"),
    (1, True, True, "float32"), (2, False, True, "float32"),
])
def test_matches_pytorch(name, kwargs, num_layers, batch_first, bias, dtype, rng):
    torch = pytest.importorskip("torch")
    T, N, D, H = 12, 3, 5, 6
    ours = getattr(nn, name)(D, H, num_layers=num_layers, bias=bias, batch_first=batch_first,
                             **kwargs)
    theirs = getattr(torch.nn, name)(D, H, num_layers=num_layers, bias=bias,
                                     batch_first=batch_first, **kwargs).to(getattr(torch, dtype))
    if dtype == "float64":
        ours.double()
    copy_to_torch(ours, theirs)
    # dlcore also shows a relu nonlinearity, which PyTorch's repr leaves out.
    assert repr(ours).replace(", nonlinearity='relu'", "") == repr(theirs)
    x = rng.standard_normal((N, T, D) if batch_first else (T, N, D)).astype(dtype)
    hx = tuple(s.astype(dtype) for s in _states(name, rng, (num_layers, N, H)))
    g_out = rng.standard_normal((N, T, H) if batch_first else (T, N, H)).astype(dtype)
    g_final = tuple(s.astype(dtype) for s in _states(name, rng, (num_layers, N, H)))

    xt = tensor(x, requires_grad=True)
    hxt = tuple(tensor(s, requires_grad=True) for s in hx)
    out_t, final_t = theirs(xt, hxt if name == "LSTM" else hxt[0])
    final_t = final_t if name == "LSTM" else (final_t,)
    loss = (out_t * tensor(g_out)).sum() + sum((s * tensor(g)).sum()
                                               for s, g in zip(final_t, g_final, strict=True))
    loss.backward()

    out, final = ours(x, hx if name == "LSTM" else hx[0])
    final = final if name == "LSTM" else (final,)
    dx = ours.backward(g_out, *g_final)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    errs = [assert_close(out, to_numpy(out_t), name="output", **tol),
            assert_close(dx, xt.grad, name="input grad", **tol)]
    for k in range(len(hx)):
        errs += [assert_close(final[k], to_numpy(final_t[k]), name=f"final state {k}", **tol),
                 assert_close(ours.grad_hx[k], hxt[k].grad, name=f"initial state {k}", **tol)]
    for pname, p in theirs.named_parameters():
        errs.append(assert_close(getattr(ours, pname).grad, p.grad, name=pname, **tol))
    record_parity(f"{name}{kwargs.get('nonlinearity', '')} {dtype}", max(errs))


@pytest.mark.parametrize("name, kwargs", KINDS, ids=IDS)
def test_saturated_gates_stay_finite_without_warnings(name, kwargs, rng):
    """Inputs of +-1000 saturate every gate; nothing overflows or warns (warnings
    from dlcore are errors in this suite), and the gradients stay finite."""
    layer = getattr(nn, name)(3, 4, **kwargs)
    x = (1000 * np.sign(rng.standard_normal((6, 2, 3)))).astype(np.float32)
    out, _ = layer(x)
    dx = layer.backward(np.ones_like(out))
    assert np.isfinite(out).all() and np.isfinite(dx).all()
    assert all(np.isfinite(p.grad).all() for p in layer.parameters())
