"""Exercise 08: one step of a vanilla RNN forward and backward, then backpropagation
through time over a short sequence, all in PyTorch's layout (W_ih (H, D), W_hh (H, H))."""
from __future__ import annotations

import numpy as np

from ... import nn
from ..spec import Case, Credit, Hint, Spec, as_parts
from ._common import call, call_array, gen, keep_rng, names, normal, refuse

ASSIGNMENT = "08_recurrent_networks"
STEP_KEYS = ("dx", "dh_prev", "dW_ih", "dW_hh", "db")
BPTT_KEYS = ("dx", "dh0", "dW_ih", "dW_hh", "db")


def _weights(g: np.random.Generator, d: int, h: int) -> dict:
    scale = 1 / np.sqrt(h)
    return {"W_ih": normal(g, h, d, scale=scale), "W_hh": normal(g, h, h, scale=scale),
            "b_ih": normal(g, h, scale=scale), "b_hh": normal(g, h, scale=scale)}


def engine_layer(cls: type, i: dict) -> nn.Module:
    """An engine recurrent layer (``nn.RNN`` or ``nn.LSTM``, batch_first, float64)
    holding the case's W_ih, W_hh, b_ih and b_hh."""
    d, h = i["W_ih"].shape[1], i["W_hh"].shape[1]
    with keep_rng():
        layer = cls(d, h, batch_first=True)
    layer.double()
    for name, attr in (("W_ih", "weight_ih_l0"), ("W_hh", "weight_hh_l0"),
                       ("b_ih", "bias_ih_l0"), ("b_hh", "bias_hh_l0")):
        getattr(layer, attr).data = np.array(i[name], dtype=np.float64)
    return layer


def engine_rnn(i: dict) -> nn.RNN:
    return engine_layer(nn.RNN, i)


# -- rnn_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh) ---------------------------------
def _step_cases(seed: int, salt: int) -> list[Case]:
    g = gen(seed, salt)
    n, d, h = (int(v) for v in g.choice(np.arange(2, 7), size=3, replace=False))
    k = int(g.integers(2, 5))
    return [Case(f"N={n}, D={d}, H={h}",
                 {"x": normal(g, n, d), "h_prev": normal(g, n, h, scale=0.5),
                  **_weights(g, d, h), "dh_next": normal(g, n, h)}),
            Case(f"N={n}, D=H={k}: square weights",
                 {"x": normal(g, n, k), "h_prev": normal(g, n, k, scale=0.5),
                  **_weights(g, k, k), "dh_next": normal(g, n, k)})]


STEP_ARGS = ("x", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh")


def _step(i: dict, grad: bool = False):
    rnn = engine_rnn(i)
    _, h_n = rnn(i["x"][:, None], i["h_prev"][None])
    if not grad:
        return h_n[0]
    dx = rnn.backward(None, i["dh_next"][None])
    return {"dx": dx[:, 0], "dh_prev": rnn.grad_hx[0][0], "dW_ih": rnn.weight_ih_l0.grad,
            "dW_hh": rnn.weight_hh_l0.grad, "db": rnn.bias_ih_l0.grad}


def _step_transposed(case: Case) -> np.ndarray | None:
    i = case.inputs
    if i["W_ih"].shape[0] != i["W_ih"].shape[1]:
        return None
    return _step({**i, "W_ih": i["W_ih"].T, "W_hh": i["W_hh"].T})


def _step_no_tanh(case: Case) -> np.ndarray:
    return np.arctanh(_step(case.inputs))


RNN_STEP_FORWARD = Spec(
    grade_id="rnn_step_forward", assignment=ASSIGNMENT, name="rnn_step_forward", points=2,
    task="h_next (N, H) = tanh(x W_ih^T + b_ih + h_prev W_hh^T + b_hh); x (N, D), h_prev "
         "(N, H), W_ih (H, D), W_hh (H, H)",
    make_cases=lambda seed: _step_cases(seed, 801),
    run=lambda ns, case: call_array(ns, case, "rnn_step_forward", *STEP_ARGS),
    reference=lambda case: _step(case.inputs),
    hints=(
        Hint("The weights are transposed: in PyTorch's layout W_ih is (H, D), one row per "
             "hidden unit, so x times W_ih's TRANSPOSE gives (N, H); the same for W_hh.",
             mistake=_step_transposed),
        Hint("The tanh is missing: the new hidden state is tanh of the sum.",
             mistake=_step_no_tanh),
    ),
    tips=("Check the shapes: x (N, D) and W_ih (H, D) give (N, H) only one way; h_prev (N, H) "
          "and W_hh (H, H) likewise.",
          "Both biases are added: b_ih and b_hh (PyTorch keeps two, which is the same as one "
          "bias of their sum)."),
    shortcuts=refuse("rnn_step_forward", "write the step yourself: the two products, the "
                      "biases and the tanh",
                      (names("RNN", "RNNCell"), "`nn.RNN`, the engine's own recurrent layer"),
                      (names("Linear"), "`nn.Linear`, the engine's own layer")),
)


# -- rnn_step_backward(dh_next, x, h_prev, W_ih, W_hh, b_ih, b_hh) ---------------------------
def _by_hand(i: dict, slope_from: str = "h_next", transposed: bool = False) -> dict:
    """A mistaken step backward, written out for the hints."""
    h_next = _step(i)
    if slope_from == "h_next":
        dz = i["dh_next"] * (1 - h_next**2)
    elif slope_from == "h_prev":
        dz = i["dh_next"] * (1 - i["h_prev"] ** 2)
    else:
        dz = i["dh_next"]
    dW_ih, dW_hh = dz.T @ i["x"], dz.T @ i["h_prev"]
    if transposed:
        dW_ih, dW_hh = dW_ih.T, dW_hh.T
    return {"dx": dz @ i["W_ih"], "dh_prev": dz @ i["W_hh"], "dW_ih": dW_ih, "dW_hh": dW_hh,
            "db": dz.sum(axis=0)}


def _square(case: Case) -> dict | None:
    i = case.inputs
    if i["W_ih"].shape[0] != i["W_ih"].shape[1]:
        return None
    return _by_hand(i, transposed=True)


RNN_STEP_BACKWARD = Spec(
    grade_id="rnn_step_backward", assignment=ASSIGNMENT, name="rnn_step_backward", points=3,
    credit=Credit.PER_OUTPUT,  # each of the five gradients earns a fifth apart
    task="given dL/dh_next (N, H), return (dx, dh_prev, dW_ih, dW_hh, db) of one RNN step; "
         "db is the gradient of b_ih (and of b_hh, the same)",
    make_cases=lambda seed: _step_cases(seed, 802),
    run=lambda ns, case: as_parts(
        call(ns, case, "rnn_step_backward", "dh_next", *STEP_ARGS), STEP_KEYS,
        "what `rnn_step_backward` returned"),
    reference=lambda case: _step(case.inputs, grad=True),
    hints=(
        Hint("The tanh's derivative is 1 - h_next**2, with the NEW hidden state (tanh's "
             "output), not the previous one.",
             mistake=lambda c: _by_hand(c.inputs, slope_from="h_prev")),
        Hint("Go through the tanh first: multiply dh_next by tanh's derivative, "
             "1 - h_next**2, before the weights.",
             mistake=lambda c: _by_hand(c.inputs, slope_from="none")),
        Hint("dW_ih and dW_hh are transposed: each has the shape of its weight, (H, D) and "
             "(H, H), so the gradient of the pre-activation comes first in the product.",
             mistake=_square),
        Hint("Every gradient has the wrong sign: backpropagation only multiplies by "
             "derivatives, no minus sign comes in.",
             mistake=lambda c: {k: -v for k, v in _step(c.inputs, grad=True).items()}),
    ),
    tips=("Recompute h_next with your rnn_step_forward; call dz = dL/d(pre-activation).",
          "dz = dh_next times tanh's derivative at this step; then each of x, h_prev, W_ih, "
          "W_hh and the biases gets its gradient from dz as in a Linear layer.",
          "A weight's gradient has the weight's shape: (H, N) @ (N, D) for W_ih."),
    shortcuts=refuse("rnn_step_backward", "go back through the tanh and the two products "
                      "yourself",
                      (names("RNN", "RNNCell"), "`nn.RNN`, the engine's own recurrent layer "
                       "and its backward pass"),
                      (names("Linear", "Tanh"), "the engine's layers (`nn.Linear`, `nn.Tanh`) "
                       "and their backward passes")),
)


# -- rnn_bptt(x, h0, W_ih, W_hh, b_ih, b_hh, grad_hs) ----------------------------------------
BPTT_ARGS = ("x", "h0", "W_ih", "W_hh", "b_ih", "b_hh", "grad_hs")


def _bptt_cases(seed: int) -> list[Case]:
    g = gen(seed, 803)
    n, t, d, h = int(g.integers(2, 4)), int(g.integers(3, 6)), int(g.integers(2, 5)), \
        int(g.integers(2, 5))
    return [Case(f"N={n}, T={t} steps, D={d}, H={h}",
                 {"x": normal(g, n, t, d), "h0": normal(g, n, h, scale=0.5),
                  **_weights(g, d, h), "grad_hs": normal(g, n, t, h)})]


def _bptt(i: dict, grad_hs: np.ndarray | None = None) -> dict:
    rnn = engine_rnn(i)
    rnn(i["x"], i["h0"][None])
    dx = rnn.backward(i["grad_hs"] if grad_hs is None else grad_hs)
    return {"dx": dx, "dh0": rnn.grad_hx[0][0], "dW_ih": rnn.weight_ih_l0.grad,
            "dW_hh": rnn.weight_hh_l0.grad, "db": rnn.bias_ih_l0.grad}


def _not_through_time(case: Case) -> dict:
    """Each step backpropagates only its own grad_hs[:, t], never the gradient that
    flows back from later steps."""
    i = case.inputs
    rnn = engine_rnn(i)
    hs, _ = rnn(i["x"], i["h0"][None])
    h_prevs = np.concatenate([i["h0"][:, None], hs[:, :-1]], axis=1)
    total = {k: 0.0 for k in BPTT_KEYS}
    dxs = []
    for t in range(i["x"].shape[1]):
        step = _step({**i, "x": i["x"][:, t], "h_prev": h_prevs[:, t],
                      "dh_next": i["grad_hs"][:, t]}, grad=True)
        dxs.append(step["dx"])
        for k in ("dW_ih", "dW_hh", "db"):
            total[k] = total[k] + step[k]
        if t == 0:
            total["dh0"] = step["dh_prev"]
    total["dx"] = np.stack(dxs, axis=1)
    return total


def _last_only(case: Case) -> dict:
    g = np.zeros_like(case.inputs["grad_hs"])
    g[:, -1] = case.inputs["grad_hs"][:, -1]
    return _bptt(case.inputs, g)


RNN_BPTT = Spec(
    grade_id="rnn_bptt", assignment=ASSIGNMENT, name="rnn_bptt", points=3,
    task="backpropagation through time: x (N, T, D), h0 (N, H), grad_hs (N, T, H) = dL/dh_t; "
         "return (dx (N, T, D), dh0, dW_ih, dW_hh, db), as nn.RNN's backward",
    make_cases=_bptt_cases,
    run=lambda ns, case: as_parts(call(ns, case, "rnn_bptt", *BPTT_ARGS), BPTT_KEYS,
                                  "what `rnn_bptt` returned"),
    reference=lambda case: _bptt(case.inputs),
    hints=(
        Hint("The gradient does not flow back through time: at step t, dh_next is "
             "grad_hs[:, t] PLUS the dh_prev that step t + 1 sent back.",
             mistake=_not_through_time),
        Hint("Only the last step's grad_hs is used: every h_t feeds the loss, so add "
             "grad_hs[:, t] at every step on the way back.", mistake=_last_only),
    ),
    tips=("Forward first: loop t = 0 ... T-1 with rnn_step_forward, keeping every h.",
          "Then loop t = T-1 down to 0 with rnn_step_backward; the gradient reaching h_t is "
          "its own grad_hs[:, t] plus what came back from step t + 1.",
          "The weights are shared by all steps: ADD their gradients over the steps."),
    shortcuts=refuse("rnn_bptt", "walk back through time yourself, step by step",
                      (names("RNN", "RNNCell"), "`nn.RNN`, the engine's own recurrent layer "
                       "and its backward pass")),
)

SPECS = [RNN_STEP_FORWARD, RNN_STEP_BACKWARD, RNN_BPTT]
