"""Learning-rate schedules: the whole sequence of learning rates (and OneCycleLR's
momentum or beta1) against PyTorch's, per parameter group."""
from __future__ import annotations

import math

import numpy as np
import pytest
from torch_utils import record_parity

import dlcore
from dlcore import nn, optim
from dlcore.optim import lr_scheduler


def two_groups(cls, module, **kwargs):
    """An optimizer over two parameter groups with different learning rates."""
    params = list(module.parameters())
    return cls([{"params": params[:1], "lr": 0.1}, {"params": params[1:], "lr": 0.02}],
               **kwargs)


def sequences(ours_opt, ours_sched, theirs_opt, theirs_sched, steps: int):
    """Step both schedules and collect (lr, momentum-or-beta1) per group and step."""
    def read(opt):
        return [(g["lr"], g["betas"][0] if "betas" in g else g.get("momentum", 0.0))
                for g in opt.param_groups]

    ours, theirs = [read(ours_opt)], [read(theirs_opt)]
    for _ in range(steps):
        theirs_opt.step()      # torch warns when a schedule steps before its optimizer
        ours_sched.step()
        theirs_sched.step()
        ours.append(read(ours_opt))
        theirs.append(read(theirs_opt))
    assert ours_sched.get_last_lr() == [g["lr"] for g in ours_opt.param_groups]
    return np.array(ours), np.array(theirs)


SCHEDULES = {
    "StepLR": (dict(step_size=3, gamma=0.5), 12),
    "ExponentialLR": (dict(gamma=0.9), 12),
    "CosineAnnealingLR": (dict(T_max=5, eta_min=0.001), 13),     # more than two periods
    "OneCycleLR": (dict(max_lr=[1.0, 0.3], total_steps=20), 20),
    "OneCycleLR linear": (dict(max_lr=0.5, epochs=3, steps_per_epoch=7,
                               anneal_strategy="linear", pct_start=0.4), 21),
    "OneCycleLR three_phase": (dict(max_lr=0.5, total_steps=25, three_phase=True,
                                    base_momentum=0.8, max_momentum=0.9,
                                    div_factor=10.0, final_div_factor=100.0), 25),
}


@pytest.mark.torch
@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "RMSprop"])
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_pytorch_over_the_whole_run(name, optimizer):
    torch = pytest.importorskip("torch")
    kwargs, steps = SCHEDULES[name]
    cls_name = name.split()[0]
    opt_kwargs = {"momentum": 0.9} if optimizer == "SGD" else {}
    ours_opt = two_groups(getattr(optim, optimizer), nn.Linear(2, 2), **opt_kwargs)
    theirs_opt = two_groups(getattr(torch.optim, optimizer), torch.nn.Linear(2, 2),
                            **opt_kwargs)
    ours, theirs = sequences(ours_opt, getattr(lr_scheduler, cls_name)(ours_opt, **kwargs),
                             theirs_opt,
                             getattr(torch.optim.lr_scheduler, cls_name)(theirs_opt, **kwargs),
                             steps)
    assert ours.shape == (steps + 1, 2, 2)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15,
                               err_msg=f"{name} with {optimizer}: (step, group, lr|momentum)")
    record_parity(f"{name} {optimizer}", np.abs(ours - theirs).max())


def test_closed_forms():
    opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(5):
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(lrs, [1, 1, 0.1, 0.1, 0.01, 0.01])
    opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=1.0)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    for _ in range(2):
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5)
    assert opt.param_groups[0]["initial_lr"] == 1.0


def test_one_cycle_warms_up_then_anneals_and_cycles_momentum_the_other_way():
    opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    lrs, moms = [], []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        sched.step()
    assert lrs[0] == pytest.approx(1.0 / 25) and max(lrs) == pytest.approx(1.0)
    assert int(np.argmax(lrs)) == 2 and int(np.argmin(moms)) == 2
    assert lrs[-1] < lrs[0] / 100 and moms[0] == moms[-1] == pytest.approx(0.95, rel=0.01)


def test_one_cycle_allows_total_steps_steps_and_then_says_what_went_wrong():
    opt = optim.Adam(nn.Linear(2, 2).parameters())
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=4)
    for _ in range(4):          # one step per batch, as in a training loop
        sched.step()
    with pytest.raises(ValueError, match="OneCycleLR was stepped 5 times but total_steps is "
                                         "4: step it once per batch"):
        sched.step()


def test_scheduler_errors_are_clear():
    opt = optim.SGD(nn.Linear(2, 2).parameters())
    with pytest.raises(ValueError, match="OneCycleLR needs total_steps, or epochs and "
                                         "steps_per_epoch"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=3)
    with pytest.raises(ValueError, match="anneal_strategy must be 'cos' or 'linear'"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3, anneal_strategy="step")
    with pytest.raises(ValueError, match="OneCycleLR got 2 max_lr values for 1 parameter groups"):
        lr_scheduler.OneCycleLR(opt, max_lr=[0.1, 0.2], total_steps=3)
    with pytest.raises(ValueError, match="0 < pct_start < 1, got total_steps=3, pct_start=1.5"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3, pct_start=1.5)
    adagrad = optim.Adagrad(nn.Linear(2, 2).parameters())
    with pytest.raises(ValueError, match="cycle_momentum needs an optimizer with momentum or "
                                         "betas"):
        lr_scheduler.OneCycleLR(adagrad, max_lr=0.1, total_steps=3)
    assert adagrad.param_groups[0]["lr"] == 1e-2            # a failed schedule changed nothing
    lr_scheduler.OneCycleLR(adagrad, max_lr=0.1, total_steps=3, cycle_momentum=False)
    with pytest.raises(TypeError, match="StepLR needs an optimizer, got list"):
        lr_scheduler.StepLR([], step_size=1)
    assert math.isclose(opt.param_groups[0]["lr"], 1e-3)


# -- checkpoints ------------------------------------------------------------------------

def schedule(name: str, model, kwargs: dict | None = None):
    """(optimizer, schedule) over two groups; kwargs from SCHEDULES unless given."""
    opt = two_groups(optim.SGD, model, momentum=0.9)
    cls = getattr(lr_scheduler, name.split()[0])
    return opt, cls(opt, **(SCHEDULES[name][0] if kwargs is None else kwargs))


def run(model, opt, sched, steps: int, rng_seed: int) -> list:
    """``steps`` SGD steps on fixed gradients, a schedule step after each; the lrs seen."""
    rng = np.random.default_rng(rng_seed)
    lrs = []
    for _ in range(steps):
        for p in model.parameters():
            p.grad[...] = rng.standard_normal(p.shape)
        opt.step()
        sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    return lrs


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_a_schedule_resumes_from_a_checkpoint_bit_for_bit(name, tmp_path):
    """Half the run, save optimizer and schedule, load both into fresh ones, the
    other half: the same learning rates, momenta and weights as one whole run."""
    steps = SCHEDULES[name][1]
    half = steps // 2
    whole_model = nn.Linear(2, 2)
    model = nn.Linear(2, 2)
    model.load_state_dict(whole_model.state_dict())
    whole_opt, sched = schedule(name, whole_model)
    expected = run(whole_model, whole_opt, sched, half, 1) + run(whole_model, whole_opt, sched,
                                                                  steps - half, 2)
    opt, sched = schedule(name, model)
    first = run(model, opt, sched, half, 1)
    dlcore.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                 "scheduler": sched.state_dict()}, tmp_path / "c.npz")
    checkpoint = dlcore.load(tmp_path / "c.npz")
    model = nn.Linear(2, 2)
    model.load_state_dict(checkpoint["model"])
    opt, sched = schedule(name, model)
    opt.load_state_dict(checkpoint["optimizer"])
    sched.load_state_dict(checkpoint["scheduler"])
    assert sched.last_epoch == half and sched.get_last_lr() == first[-1]
    assert first + run(model, opt, sched, steps - half, 2) == expected
    np.testing.assert_array_equal(model.weight.data, whole_model.weight.data)
    for group, whole_group in zip(opt.param_groups, whole_opt.param_groups, strict=True):
        assert group["momentum"] == whole_group["momentum"]    # OneCycleLR cycles it
        assert group.keys() == whole_group.keys()


def test_a_schedule_state_dict_holds_all_but_the_optimizer_and_is_a_copy():
    opt, sched = schedule("StepLR", nn.Linear(2, 2))
    state = sched.state_dict()
    assert "optimizer" not in state
    assert state["last_epoch"] == 0 and state["base_lrs"] == [0.1, 0.02]
    assert state["step_size"] == 3 and state["gamma"] == 0.5
    state["base_lrs"][0] = 7.0
    assert sched.base_lrs == [0.1, 0.02]


def test_the_state_dict_of_another_schedule_is_refused():
    model = nn.Linear(2, 2)
    _, cosine = schedule("CosineAnnealingLR", model)
    _, step = schedule("StepLR", model)
    with pytest.raises(ValueError, match=r"load_state_dict for StepLR: missing keys "
                                         r"\['gamma', 'step_size'\], unexpected keys "
                                         r"\['T_max', 'eta_min'\] \(a state dict of another "
                                         r"schedule\?\)"):
        step.load_state_dict(cosine.state_dict())
    assert step.step_size == 3 and not hasattr(step, "T_max")
    with pytest.raises(ValueError, match="expects a dict, as scheduler.state_dict.. returns, "
                                         "got list"):
        step.load_state_dict([])
