"""Optimizers: PyTorch's update formulas and defaults, step by step on a real
model, parameter groups, frozen parameters, dtypes and errors."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
from torch_utils import assert_close, copy_to_torch, record_parity, tensor

import dlcore
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


# -- checkpoints: state_dict / load_state_dict ----------------------------------------

def batches(count: int, dtype: str = "float32") -> list:
    rng = np.random.default_rng(11)
    return [(rng.standard_normal((6, 5)).astype(dtype), rng.integers(0, 3, 6))
            for _ in range(count)]


def train(model, opt, data) -> None:
    loss_fn = nn.CrossEntropyLoss()
    for x, y in data:
        opt.zero_grad()
        loss_fn(model(x), y)
        model.backward(loss_fn.backward())
        opt.step()


def net(dtype: str = "float32") -> nn.Sequential:
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    return model.double() if dtype == "float64" else model


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_a_checkpoint_resumes_training_bit_for_bit(config, dtype, tmp_path):
    """Train 4 steps, save model and optimizer to a file, load both into a fresh
    model and an optimizer built with the defaults, train 4 more: the same weights,
    bit for bit, as 8 steps without a break (hyperparameters come from the file)."""
    cls, kwargs = CONFIGS[config]
    data = batches(8, dtype)
    whole = net(dtype)
    first = net(dtype)
    first.load_state_dict(whole.state_dict())
    train(whole, cls(groups(whole, True), **kwargs), data)
    opt = cls(groups(first, True), **kwargs)
    train(first, opt, data[:4])
    dlcore.save({"model": first.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "c")
    checkpoint = dlcore.load(tmp_path / "c")
    resumed = net(dtype)
    resumed.load_state_dict(checkpoint["model"])
    opt = cls(groups(resumed, True))
    opt.load_state_dict(checkpoint["optimizer"])
    configured = cls(groups(net(dtype), True), **kwargs).param_groups
    for loaded, expected in zip(opt.param_groups, configured, strict=True):
        assert {k: v for k, v in loaded.items() if k != "params"} == {
            k: v for k, v in expected.items() if k != "params"}
        assert all(type(loaded[k]) is type(expected[k]) for k in expected)  # no NumPy numbers
    train(resumed, opt, data[4:])
    for (name, value), expected in zip(resumed.state_dict().items(),
                                       whole.state_dict().values(), strict=True):
        assert value.dtype == dtype
        np.testing.assert_array_equal(value, expected, err_msg=f"{config}: {name}")


def torch_state(state: dict) -> dict:
    """A dlcore optimizer state dict as torch keeps one: arrays as tensors, the step
    count as a float tensor."""
    import torch

    return {"state": {i: {k: torch.from_numpy(v.copy()) if isinstance(v, np.ndarray)
                          else torch.tensor(float(v)) for k, v in values.items()}
                      for i, values in state["state"].items()},
            "param_groups": [dict(g) for g in state["param_groups"]]}


def train_torch(torch, model, opt, data) -> None:
    loss_fn = torch.nn.CrossEntropyLoss()
    for x, y in data:
        opt.zero_grad()
        loss_fn(model(tensor(x)), tensor(y)).backward()
        opt.step()


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("direction", ["dlcore to torch", "torch to dlcore"])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_a_checkpoint_continues_in_the_other_engine(config, direction, dtype):
    """Train 4 steps in one engine, load its optimizer state dict into the other's
    optimizer (built with the defaults), train 4 more in both: the same weights."""
    torch = pytest.importorskip("torch")
    cls, kwargs = CONFIGS[config]
    data = batches(8, dtype)
    ours, theirs = models(torch, dtype)
    torch_cls = getattr(torch.optim, cls.__name__)
    if direction == "dlcore to torch":
        opt = cls(groups(ours, True), **kwargs)
        train(ours, opt, data[:4])
        copy_to_torch(ours, theirs)
        opt_t = torch_cls(groups(theirs, True))
        opt_t.load_state_dict(torch_state(opt.state_dict()))
    else:
        opt_t = torch_cls(groups(theirs, True), **kwargs)
        train_torch(torch, theirs, opt_t, data[:4])
        ours.load_state_dict(theirs.state_dict())
        opt = cls(groups(ours, True))
        opt.load_state_dict(opt_t.state_dict())
        assert all(type(v) is int for s in opt.state.values() for k, v in s.items()
                   if k == "step")
    train(ours, opt, data[4:])
    train_torch(torch, theirs, opt_t, data[4:])
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=2e-4, atol=2e-5)
    state_t = theirs.state_dict()
    worst = max(assert_close(value, state_t[name], name=f"{config}, {direction}: {name}", **tol)
                for name, value in ours.state_dict().items())
    record_parity(f"{config} checkpoint {direction} {dtype}", worst)


def adam_on(model, steps: int = 1, **kwargs) -> optim.Adam:
    opt = optim.Adam([{"params": model[0].parameters()}, {"params": model[2].parameters()}],
                     **kwargs)
    for _ in range(steps):
        for p in model.parameters():
            p.grad[...] = 0.5
        opt.step()
    return opt


def test_a_state_dict_is_a_copy_in_pytorchs_format():
    model = net()
    model[0].requires_grad_(False)                      # frozen: no state, left out
    opt = adam_on(model, steps=2, lr=0.01)
    state = opt.state_dict()
    assert list(state) == ["state", "param_groups"]
    assert [g["params"] for g in state["param_groups"]] == [[0, 1], [2, 3]]
    assert state["param_groups"][0] == {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8,
                                        "weight_decay": 0.0, "amsgrad": False,
                                        "params": [0, 1]}
    assert list(state["state"]) == [2, 3]
    assert list(state["state"][2]) == ["step", "exp_avg", "exp_avg_sq"]
    assert state["state"][2]["step"] == 2 and state["state"][2]["exp_avg"].shape == (3, 8)
    state["state"][2]["exp_avg"][...] = 99.0            # the copy is not the optimizer's
    state["param_groups"][1]["lr"] = 5.0
    assert not (opt.state[id(model[2].weight)]["exp_avg"] == 99.0).any()
    assert opt.param_groups[1]["lr"] == 0.01


def test_loading_copies_the_arrays_and_casts_them_to_the_parameters_dtype():
    source = adam_on(net().double(), steps=3)
    state = source.state_dict()
    model = net()
    opt = adam_on(model, steps=0)
    opt.load_state_dict(state)
    loaded = opt.state[id(model[2].weight)]
    assert loaded["exp_avg"].dtype == np.float32 and loaded["step"] == 3
    state["state"][2]["exp_avg"][...] = 99.0
    state["param_groups"][0]["betas"] = (0.1, 0.2)
    assert not (loaded["exp_avg"] == 99.0).any()
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)
    assert opt.param_groups[0]["params"] == list(model[0].parameters())


def test_a_bad_state_dict_is_refused_with_what_differs_and_changes_nothing():
    model = net()
    opt = adam_on(model, steps=2, lr=0.01)
    before = opt.state_dict()
    good = adam_on(net(), steps=1, lr=0.5).state_dict()

    def refused(state, match):
        with pytest.raises(ValueError, match=match):
            opt.load_state_dict(state)
        after = opt.state_dict()
        assert after["param_groups"] == before["param_groups"]
        for i, values in before["state"].items():
            assert after["state"][i]["step"] == values["step"]
            np.testing.assert_array_equal(after["state"][i]["exp_avg"], values["exp_avg"])

    refused({"state": {}, "param_groups": good["param_groups"][:1]},
            r"^load_state_dict for Adam: the state dict has 1 parameter groups, this "
            r"optimizer 2$")
    wrong_size = {"state": good["state"], "param_groups": [
        dict(good["param_groups"][0], params=[0]), good["param_groups"][1]]}
    refused(wrong_size, "group 0 has 1 parameters in the state dict but 2 here")
    wrong_shape = {"state": {**good["state"], 3: dict(good["state"][3],
                                                      exp_avg_sq=np.zeros((3, 8)))},
                   "param_groups": good["param_groups"]}
    refused(wrong_shape, r"state of parameter 3, 'exp_avg_sq', has shape \(3, 8\) but the "
                         r"parameter has \(3,\)")
    sgd = optim.SGD([{"params": model[0].parameters()}, {"params": model[2].parameters()}])
    refused(sgd.state_dict(), r"group 0 lacks \['betas', 'eps', 'amsgrad'\] \(a state dict of "
                              r"another optimizer\?\)")
    refused({"state": {7: {"step": 1}}, "param_groups": good["param_groups"]},
            "state for parameter 7, which no group holds")
    refused({"param_groups": []}, "expects a dict with 'state' and 'param_groups'")
    refused(model.state_dict(), "expects a dict with 'state' and 'param_groups', as "
                                r"optimizer.state_dict\(\) returns, got a dict with keys")
    opt.load_state_dict(good)                                    # and a good one still loads
    assert opt.param_groups[0]["lr"] == 0.5 and opt.state_dict()["state"][0]["step"] == 1
