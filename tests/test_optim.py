"""Optimizers: PyTorch's update formulas and defaults, step by step on a real
model, parameter groups, frozen parameters, dtypes and errors."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
from torch_utils import assert_close, copy_to_torch, record_parity, tensor

from dlcore import nn, optim

# (dlcore class, keyword arguments); the torch class has the same name.
CONFIGS = {
    "SGD": (optim.SGD, dict(lr=0.1)),
    "SGD momentum": (optim.SGD, dict(lr=0.1, momentum=0.9)),
    "SGD dampening wd": (optim.SGD, dict(lr=0.1, momentum=0.8, dampening=0.3,
                                         weight_decay=0.05)),
    "SGD nesterov wd": (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True,
                                        weight_decay=0.01)),
    "RMSprop": (optim.RMSprop, dict()),
    "RMSprop centered": (optim.RMSprop, dict(lr=0.01, centered=True)),
    "RMSprop momentum wd": (optim.RMSprop, dict(lr=0.005, momentum=0.9, weight_decay=0.1,
                                                alpha=0.9)),
    "RMSprop centered momentum": (optim.RMSprop, dict(lr=0.005, momentum=0.5, centered=True,
                                                      eps=1e-6)),
    "Adam": (optim.Adam, dict(lr=0.01)),
    "Adam amsgrad wd": (optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1,
                                         amsgrad=True)),
    "AdamW": (optim.AdamW, dict(lr=0.01)),
    "AdamW amsgrad": (optim.AdamW, dict(lr=0.01, weight_decay=0.3, amsgrad=True, eps=1e-6)),
    "Adagrad": (optim.Adagrad, dict(lr=0.1)),
    "Adagrad decay wd": (optim.Adagrad, dict(lr=0.1, lr_decay=0.05, weight_decay=0.1,
                                             initial_accumulator_value=0.2)),
}


def models(torch, dtype: str):
    """The same small network in dlcore and in torch, same weights."""
    ours = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    if dtype == "float64":
        ours.double()
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    theirs.to(getattr(torch, dtype))
    copy_to_torch(ours, theirs)
    return ours, theirs


def groups(model, per_group_lr: bool) -> list:
    if not per_group_lr:
        return list(model.parameters())
    return [{"params": list(model[0].parameters()), "lr": 0.003},
            {"params": list(model[2].parameters())}]


def train_side_by_side(config: str, dtype: str, per_group_lr: bool = False, steps: int = 8):
    """Run ``steps`` steps in both engines, comparing gradients and weights each step.
    Returns the worst absolute error seen."""
    torch = pytest.importorskip("torch")
    cls, kwargs = CONFIGS[config]
    ours, theirs = models(torch, dtype)
    opt = cls(groups(ours, per_group_lr), **kwargs)
    opt_t = getattr(torch.optim, cls.__name__)(groups(theirs, per_group_lr), **kwargs)
    loss_fn, loss_fn_t = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(5)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=2e-4, atol=2e-5)
    worst = 0.0
    for step in range(steps):
        x = rng.standard_normal((6, 5)).astype(dtype)
        y = rng.integers(0, 3, 6)
        opt.zero_grad()
        opt_t.zero_grad()
        loss = loss_fn(ours(x), y)
        ours.backward(loss_fn.backward())
        loss_t = loss_fn_t(theirs(tensor(x)), tensor(y))
        loss_t.backward()
        worst = max(worst, assert_close(loss, loss_t.item(), name=f"step {step} loss", **tol))
        grads_t = {n: p.grad for n, p in theirs.named_parameters()}
        for name, p in ours.named_parameters():
            worst = max(worst, assert_close(p.grad, grads_t[name],
                                            name=f"step {step} grad {name}", **tol))
        opt.step()
        opt_t.step()
        state_t = theirs.state_dict()
        for name, value in ours.state_dict().items():
            worst = max(worst, assert_close(value, state_t[name],
                                            name=f"{config}: after step {step + 1}, {name}",
                                            **tol))
            assert value.dtype == dtype
    return worst


@pytest.mark.torch
@pytest.mark.parametrize("config", list(CONFIGS))
def test_matches_pytorch_in_float64(config):
    record_parity(f"{config} float64", train_side_by_side(config, "float64"))


@pytest.mark.torch
@pytest.mark.parametrize("config", ["SGD nesterov wd", "RMSprop centered momentum",
                                    "Adam amsgrad wd", "AdamW", "Adagrad decay wd"])
def test_matches_pytorch_in_float32(config):
    record_parity(f"{config} float32", train_side_by_side(config, "float32"))


@pytest.mark.torch
@pytest.mark.parametrize("config", ["SGD momentum", "RMSprop", "Adam", "AdamW", "Adagrad"])
def test_per_group_learning_rates_match_pytorch(config):
    record_parity(f"{config} two groups", train_side_by_side(config, "float64",
                                                             per_group_lr=True, steps=5))


@pytest.mark.torch
@pytest.mark.parametrize("cls", [optim.SGD, optim.RMSprop, optim.Adam, optim.AdamW,
                                 optim.Adagrad])
def test_signature_and_defaults_match_pytorch(cls):
    torch = pytest.importorskip("torch")
    ours = inspect.signature(cls).parameters
    theirs = inspect.signature(getattr(torch.optim, cls.__name__)).parameters
    assert list(ours) == list(theirs)[:len(ours)]
    for name, param in ours.items():
        if name != "params":
            assert param.default == theirs[name].default, name


def test_sgd_by_hand():
    """Two steps of SGD with momentum 0.9, worked out on paper."""
    p = nn.Parameter(np.array([1.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad[:] = 1.0
    opt.step()                              # b = 1, w = 1 - 0.1
    p.grad[:] = 1.0
    opt.step()                              # b = 0.9 + 1 = 1.9, w = 0.9 - 0.19
    np.testing.assert_allclose(p.data, [0.71])


def test_adam_first_step_moves_each_weight_by_lr():
    """Bias correction makes Adam's first step lr * sign(g), whatever g's size."""
    p = nn.Parameter(np.array([1.0, 1.0, 1.0]))
    p.grad[:] = [1e-2, -5.0, 300.0]
    optim.Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.9, 1.1, 0.9], rtol=1e-5)


def test_param_groups_keep_their_own_hyperparameters():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    opt = optim.Adam([{"params": model[0].parameters(), "lr": 0.5},
                      {"params": model[1].parameters(), "betas": (0.5, 0.6)}], lr=0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.01]
    assert [g["betas"] for g in opt.param_groups] == [(0.9, 0.999), (0.5, 0.6)]
    opt.add_param_group({"params": nn.Parameter(np.zeros(3)), "lr": 1.0})
    assert len(opt.param_groups) == 3 and len(opt.param_groups[2]["params"]) == 1
    text = repr(opt)
    assert text.startswith("Adam (\nParameter Group 0\n") and "lr: 0.5" in text


def test_zero_grad_resets_every_gradient():
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters())
    for p in model.parameters():
        p.grad += 1
    opt.zero_grad()
    assert not any(p.grad.any() for p in model.parameters())


@pytest.mark.parametrize("config", list(CONFIGS))
def test_float32_weights_stay_float32_and_frozen_ones_stay_put(config):
    cls, kwargs = CONFIGS[config]
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    model[0].requires_grad_(False)
    frozen = model[0].weight.data.copy()
    trained = model[1].weight.data.copy()
    opt = cls(model.parameters(), **kwargs)
    for _ in range(3):
        for p in model.parameters():
            p.grad[...] = 0.5
        opt.step()
    assert all(p.dtype == np.float32 for p in model.parameters())
    np.testing.assert_array_equal(model[0].weight.data, frozen)
    assert not np.allclose(model[1].weight.data, trained)


def test_errors_are_clear():
    params = list(nn.Linear(2, 2).parameters())
    with pytest.raises(ValueError, match="SGD got an empty parameter list .did the model "
                                         "register its layers as attributes"):
        optim.SGD([])
    with pytest.raises(TypeError, match=r"Adam optimizes Parameters, got ndarray \(pass "
                                        r"model.parameters\(\)\)"):
        optim.Adam([np.zeros(2)])
    with pytest.raises(ValueError, match="SGD: lr, momentum and weight_decay must be >= 0"):
        optim.SGD(params, lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum needs momentum > 0 and "
                                         "dampening = 0"):
        optim.SGD(params, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"Adam: invalid lr=0.1, betas=\(1.0, 0.999\)"):
        optim.Adam(params, lr=0.1, betas=(1.0, 0.999))
    with pytest.raises(ValueError, match="RMSprop: invalid"):
        optim.RMSprop(params, alpha=2)
    with pytest.raises(ValueError, match="Adagrad: invalid"):
        optim.Adagrad(params, lr=-0.1)


def test_rmsprop_momentum_may_start_after_the_first_step():
    p = nn.Parameter(np.ones(2))
    opt = optim.RMSprop([p], lr=0.1)
    p.grad[:] = 1.0
    opt.step()
    opt.param_groups[0]["momentum"] = 0.9          # as a schedule might do
    opt.step()
    assert "momentum_buffer" in opt.state[id(p)] and np.isfinite(p.data).all()
