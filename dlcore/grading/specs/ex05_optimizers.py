"""Exercise 05: the SGD-with-momentum, RMSProp and Adam updates, step by step."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ... import nn, optim
from ..spec import AnswerError, Case, Hint, Spec, as_array, learner
from ._common import gen, names, normal, refuse

ASSIGNMENT = "05_optimizers"
STEPS = 5
W_KEY = "w after each step"


def _cases(salt: int, hyper: dict):
    def make(seed: int) -> list[Case]:
        g = gen(seed, salt)
        d = int(g.integers(2, 5))
        return [Case(f"{STEPS} steps on a parameter of {d} entries",
                     {"w": normal(g, d), "grads": normal(g, STEPS, d), **hyper})]
    return make


def _engine(case: Case, make: Callable[[list], optim.Optimizer], state_keys: tuple) -> dict:
    """Run an engine optimizer on the case's gradients; record w and its state."""
    p = nn.Parameter(case.inputs["w"])
    optimizer = make([p])
    trail = []
    for g in case.inputs["grads"]:
        p.grad = np.array(g, dtype=np.float64)
        optimizer.step()
        trail.append(p.data.copy())
    state = optimizer.state[id(p)]
    return {W_KEY: np.array(trail),
            **{f"{name} after the last step": np.array(state[key], dtype=np.float64)
               for name, key in state_keys}}


def _learner_steps(namespace, case: Case, name: str, state_names: tuple, extra) -> dict:
    """Call the learner's step function STEPS times, threading w and the state."""
    fn = learner(namespace, name)
    i = case.copy_inputs()
    w = i["w"]
    state = [np.zeros_like(w) for _ in state_names]
    trail = []
    for t, g in enumerate(i["grads"], 1):
        out = fn(w.copy(), g.copy(), *[s.copy() for s in state], *extra(i, t))
        if not isinstance(out, (tuple, list)) or len(out) != 1 + len(state_names):
            raise AnswerError(f"`{name}` should return a tuple of {1 + len(state_names)} "
                              f"(w, {', '.join(state_names)}), got a {type(out).__name__}")
        parts = list(out)
        w = as_array(parts[0], f"the new w from `{name}`")
        state = [as_array(s, f"the new {n} from `{name}`")
                 for s, n in zip(parts[1:], state_names, strict=True)]
        trail.append(w)
    return {W_KEY: np.array(trail),
            **{f"{n} after the last step": s for n, s in zip(state_names, state, strict=True)}}


def _by_hand(case: Case, update) -> dict:
    """A mistaken optimizer written out, for the hints."""
    i = case.inputs
    w = i["w"].copy()
    state: dict = {}
    trail = []
    for t, g in enumerate(i["grads"], 1):
        w = update(w, g, state, t, i)
        trail.append(w.copy())
    return {W_KEY: np.array(trail),
            **{f"{k} after the last step": v for k, v in state.items()}}


# -- SGD with momentum -------------------------------------------------------------
SGD_HYPER = {"lr": 0.1, "momentum": 0.9}


def _sgd_mistake(kind: str):
    def update(w, g, s, t, i):
        v = s.get("velocity", np.zeros_like(w))
        if kind == "cs231n":
            v = i["momentum"] * v - i["lr"] * g
            s["velocity"] = v
            return w + v
        v = i["momentum"] * v + ((1 - i["momentum"]) * g if kind == "dampened" else g)
        s["velocity"] = v
        return w + i["lr"] * v if kind == "sign" else w - i["lr"] * v
    return lambda case: _by_hand(case, update)


SGD_MOMENTUM = Spec(
    grade_id="sgd_momentum_step", assignment=ASSIGNMENT, name="sgd_momentum_step", points=2,
    task="v = momentum * v + grad; w = w - lr * v (PyTorch's form); return (w, v)",
    make_cases=_cases(501, SGD_HYPER),
    run=lambda ns, case: _learner_steps(ns, case, "sgd_momentum_step", ("velocity",),
                                        lambda i, t: (i["lr"], i["momentum"])),
    reference=lambda case: _engine(case, lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                   (("velocity", "momentum_buffer"),)),
    hints=(
        Hint("Your w is right but your velocity follows the other convention "
             "(v = momentum * v - lr * grad). Here, as in PyTorch, v = momentum * v + grad "
             "and the learning rate is applied in w = w - lr * v.",
             mistake=_sgd_mistake("cs231n")),
        Hint("Leave out the (1 - momentum) factor: v = momentum * v + grad.",
             mistake=_sgd_mistake("dampened")),
        Hint("The step has the wrong sign: move AGAINST the gradient, w = w - lr * v.",
             mistake=_sgd_mistake("sign")),
    ),
    tips=("The velocity is a running sum of gradients that decays by `momentum` each step.",
          "Two lines: first update v from the old v and grad, then w from the new v."),
    shortcuts=refuse("sgd_momentum_step", "write the momentum update yourself",
                      (names("SGD"), "`optim.SGD`, the engine's own optimizer")),
)


# -- RMSProp -------------------------------------------------------------------------
RMS_HYPER = {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}


def _rms_mistake(kind: str):
    def update(w, g, s, t, i):
        v = s.get("square_avg", np.zeros_like(w))
        a = 1 - i["alpha"] if kind == "swapped" else i["alpha"]
        v = a * v + (1 - a) * g * g
        s["square_avg"] = v
        if kind == "no_sqrt":
            return w - i["lr"] * g / (v + i["eps"])
        return w - i["lr"] * g / (np.sqrt(v) + i["eps"])
    return lambda case: _by_hand(case, update)


RMSPROP = Spec(
    grade_id="rmsprop_step", assignment=ASSIGNMENT, name="rmsprop_step", points=2,
    task="v = alpha v + (1 - alpha) grad^2; w = w - lr grad / (sqrt(v) + eps); return (w, v)",
    make_cases=_cases(502, RMS_HYPER),
    run=lambda ns, case: _learner_steps(ns, case, "rmsprop_step", ("square_avg",),
                                        lambda i, t: (i["lr"], i["alpha"], i["eps"])),
    reference=lambda case: _engine(case, lambda ps: optim.RMSprop(ps, **RMS_HYPER),
                                   (("square_avg", "square_avg"),)),
    rtol=1e-6,
    hints=(
        Hint("alpha weighs the OLD average: v = alpha * v + (1 - alpha) * grad**2.",
             mistake=_rms_mistake("swapped")),
        Hint("Divide by the square ROOT of the average: sqrt(v) + eps.",
             mistake=_rms_mistake("no_sqrt")),
    ),
    tips=("v is a running mean of squared gradients; it measures each entry's scale.",
          "Dividing by sqrt(v) makes every entry take steps of about lr."),
    shortcuts=refuse("rmsprop_step", "write the RMSProp update yourself",
                      (names("RMSprop"), "`optim.RMSprop`, the engine's own optimizer")),
)


# -- Adam -------------------------------------------------------------------------------
ADAM_HYPER = {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


def _adam_mistake(kind: str):
    def update(w, g, s, t, i):
        b1, b2 = i["beta1"], i["beta2"]
        if kind == "swapped":
            b1, b2 = b2, b1
        m = b1 * s.get("m", np.zeros_like(w)) + (1 - b1) * g
        v = b2 * s.get("v", np.zeros_like(w)) + (1 - b2) * g * g
        s["m"], s["v"] = m, v
        if kind == "no_correction":
            return w - i["lr"] * m / (np.sqrt(v) + i["eps"])
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        return w - i["lr"] * m_hat / (np.sqrt(v_hat) + i["eps"])
    return lambda case: _by_hand(case, update)


ADAM = Spec(
    grade_id="adam_step", assignment=ASSIGNMENT, name="adam_step", points=3,
    task="Adam at step t = 1, 2, ...: moments m and v, bias correction, update; "
         "return (w, m, v)",
    make_cases=_cases(503, ADAM_HYPER),
    run=lambda ns, case: _learner_steps(
        ns, case, "adam_step", ("m", "v"),
        lambda i, t: (t, i["lr"], i["beta1"], i["beta2"], i["eps"])),
    reference=lambda case: _engine(
        case, lambda ps: optim.Adam(ps, lr=0.1, betas=(0.9, 0.999), eps=1e-8),
        (("m", "exp_avg"), ("v", "exp_avg_sq"))),
    rtol=1e-6,
    hints=(
        Hint("No bias correction: m and v start at zero, so early on they are too small. "
             "Divide by (1 - beta1**t) and (1 - beta2**t) before the update (but return "
             "the uncorrected m and v).", mistake=_adam_mistake("no_correction")),
        Hint("beta1 goes with m (the mean of grad) and beta2 with v (the mean of grad**2).",
             mistake=_adam_mistake("swapped")),
    ),
    tips=("m is SGD-momentum's running mean of grad, v is RMSProp's running mean of grad^2.",
          "Bias correction divides m by 1 - beta1 to the power t (and v by 1 - beta2 to "
          "the power t); the update then uses these corrected moments.",
          "Return the new m and v, not m_hat and v_hat: the next step needs the raw ones."),
    shortcuts=refuse("adam_step", "write the Adam update yourself, bias correction included",
                      (names("Adam", "AdamW"), "`optim.Adam`, the engine's own optimizer")),
)

SPECS = [SGD_MOMENTUM, RMSPROP, ADAM]
