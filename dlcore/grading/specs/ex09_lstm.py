"""Exercise 09: an LSTM cell, forward and backward, in PyTorch's layout and gate order
(i, f, g, o stacked in W_ih (4H, D) and W_hh (4H, H)), then over a whole sequence."""
from __future__ import annotations

import numpy as np

from ... import nn
from ..spec import Case, Credit, Hint, Spec, as_parts
from ._common import call, gen, names, normal, refuse
from .ex08_recurrent_networks import engine_layer

ASSIGNMENT = "09_lstm"
STEP_ARGS = ("x", "h_prev", "c_prev", "W_ih", "W_hh", "b_ih", "b_hh")
FORWARD_KEYS = ("h_next", "c_next")
BACKWARD_KEYS = ("dx", "dh_prev", "dc_prev", "dW_ih", "dW_hh", "db")
CS231N_ORDER = (0, 1, 3, 2)      # i, f, o, g: the order some courses use


def _weights(g: np.random.Generator, d: int, h: int) -> dict:
    scale = 1 / np.sqrt(h)
    return {"W_ih": normal(g, 4 * h, d, scale=scale), "W_hh": normal(g, 4 * h, h, scale=scale),
            "b_ih": normal(g, 4 * h, scale=scale), "b_hh": normal(g, 4 * h, scale=scale)}


def _step_cases(seed: int, salt: int) -> list[Case]:
    g = gen(seed, salt)
    n, d, h = int(g.integers(2, 5)), int(g.integers(2, 6)), int(g.integers(2, 5))
    k = int(g.integers(2, 4))
    cases = []
    for label, dd, hh in ((f"N={n}, D={d}, H={h}", d, h),
                          (f"N={n}, H={k}, D=4H={4 * k}: a square W_ih", 4 * k, k)):
        cases.append(Case(label, {"x": normal(g, n, dd), "h_prev": normal(g, n, hh, scale=0.5),
                                  "c_prev": normal(g, n, hh), **_weights(g, dd, hh),
                                  "dh_next": normal(g, n, hh), "dc_next": normal(g, n, hh)}))
    return cases


def _blocks(a: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
    """The four gate blocks of a (4H, ...) array, in another order."""
    h = a.shape[0] // 4
    return np.concatenate([a[k * h:(k + 1) * h] for k in order])


def _reordered(i: dict, order: tuple[int, ...]) -> dict:
    return {**i, **{k: _blocks(i[k], order) for k in ("W_ih", "W_hh", "b_ih", "b_hh")}}


def _step(i: dict, grad: bool = False, order: tuple[int, ...] = (0, 1, 2, 3)) -> dict:
    """One engine LSTM step; with ``order``, as if the learner's gates came in that order."""
    lstm = engine_layer(nn.LSTM, _reordered(i, order))
    _, (h_n, c_n) = lstm(i["x"][:, None], (i["h_prev"][None], i["c_prev"][None]))
    if not grad:
        return {"h_next": h_n[0], "c_next": c_n[0]}
    dx = lstm.backward(None, i["dh_next"][None], i["dc_next"][None])
    back = np.argsort(order)
    return {"dx": dx[:, 0], "dh_prev": lstm.grad_hx[0][0], "dc_prev": lstm.grad_hx[1][0],
            "dW_ih": _blocks(lstm.weight_ih_l0.grad, back),
            "dW_hh": _blocks(lstm.weight_hh_l0.grad, back),
            "db": _blocks(lstm.bias_ih_l0.grad, back)}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _gates(i: dict) -> tuple[np.ndarray, ...]:
    """i, f, g, o of one step, for the hand-written mistakes."""
    z = i["x"] @ i["W_ih"].T + i["b_ih"] + i["h_prev"] @ i["W_hh"].T + i["b_hh"]
    a = np.split(z, 4, axis=1)
    return _sigmoid(a[0]), _sigmoid(a[1]), np.tanh(a[2]), _sigmoid(a[3])


# -- lstm_step_forward --------------------------------------------------------------------
def _no_tanh_on_c(case: Case) -> dict:
    out = _step(case.inputs)
    o = _gates(case.inputs)[3]
    return {"h_next": o * out["c_next"], "c_next": out["c_next"]}


def _transposed(case: Case) -> dict | None:
    i = case.inputs
    if i["W_ih"].shape[0] != i["W_ih"].shape[1]:
        return None
    return _step({**i, "W_ih": i["W_ih"].T})


LSTM_STEP_FORWARD = Spec(
    grade_id="lstm_step_forward", assignment=ASSIGNMENT, name="lstm_step_forward", points=3,
    task="(h_next, c_next), each (N, H), of one LSTM step with PyTorch's gates i, f, g, o "
         "stacked in W_ih (4H, D), W_hh (4H, H), b_ih and b_hh (4H,)",
    make_cases=lambda seed: _step_cases(seed, 901),
    run=lambda ns, case: as_parts(call(ns, case, "lstm_step_forward", *STEP_ARGS),
                                  FORWARD_KEYS, "what `lstm_step_forward` returned"),
    reference=lambda case: _step(case.inputs),
    hints=(
        Hint("The gates are in the wrong order: PyTorch stacks them i, f, g, o (input, "
             "forget, cell candidate, output), so g is the THIRD block of H rows and o the "
             "fourth.", mistake=lambda c: _step(c.inputs, order=CS231N_ORDER)),
        Hint("The previous cell state is forgotten: the new cell keeps f times c_prev (the "
             "forget gate scales what the cell held before) and adds i times g.",
             mistake=lambda c: _step({**c.inputs, "c_prev": np.zeros_like(c.inputs["c_prev"])})),
        Hint("h_next squashes the new cell state: o * tanh(c_next), not o * c_next.",
             mistake=_no_tanh_on_c),
        Hint("W_ih is transposed: it is (4H, D), one row per gate unit, so multiply x by its "
             "transpose.", mistake=_transposed),
    ),
    tips=("One product for all four gates: the pre-activations are (N, 4H); cut them into "
          "four blocks of H columns.",
          "i, f and o go through a sigmoid (they are gates between 0 and 1), g through tanh "
          "(it is the candidate value, between -1 and 1).",
          "The cell adds: keep f of the old cell and add i of the candidate."),
    shortcuts=refuse("lstm_step_forward", "write the step yourself: one product for "
                      "the four gates, then the gates and the two states",
                      (names("LSTM", "LSTMCell"), "`nn.LSTM`, the engine's own LSTM layer"),
                      (names("Linear"), "`nn.Linear`, the engine's own layer")),
)


# -- lstm_step_backward ------------------------------------------------------------------------
def _by_hand(i: dict, dh_into_cell: bool = True, forget_in_dc: bool = True) -> dict:
    """One LSTM step backward written out with one of two slips, for the hints."""
    ig, fg, gg, og = _gates(i)
    c_next = fg * i["c_prev"] + ig * gg
    t = np.tanh(c_next)
    dh, dc = i["dh_next"], i["dc_next"].copy()
    if dh_into_cell:
        dc = dc + dh * og * (1 - t**2)
    dz = np.concatenate([dc * gg * ig * (1 - ig), dc * i["c_prev"] * fg * (1 - fg),
                         dc * ig * (1 - gg**2), dh * t * og * (1 - og)], axis=1)
    return {"dx": dz @ i["W_ih"], "dh_prev": dz @ i["W_hh"],
            "dc_prev": dc * fg if forget_in_dc else dc,
            "dW_ih": dz.T @ i["x"], "dW_hh": dz.T @ i["h_prev"], "db": dz.sum(axis=0)}


LSTM_STEP_BACKWARD = Spec(
    grade_id="lstm_step_backward", assignment=ASSIGNMENT, name="lstm_step_backward", points=4,
    credit=Credit.PER_OUTPUT,  # each of the six gradients earns a sixth apart
    task="given dL/dh_next and dL/dc_next (N, H), return (dx, dh_prev, dc_prev, dW_ih, "
         "dW_hh, db) of one LSTM step, as nn.LSTM's backward",
    make_cases=lambda seed: _step_cases(seed, 902),
    run=lambda ns, case: as_parts(
        call(ns, case, "lstm_step_backward", "dh_next", "dc_next", *STEP_ARGS),
        BACKWARD_KEYS, "what `lstm_step_backward` returned"),
    reference=lambda case: _step(case.inputs, grad=True),
    hints=(
        Hint("The gates are in the wrong order: PyTorch stacks them i, f, g, o, so the "
             "gradients of g and o are the third and fourth blocks.",
             mistake=lambda c: _step(c.inputs, grad=True, order=CS231N_ORDER)),
        Hint("dc_next is left out: the cell state also feeds the next step directly, so "
             "its gradient starts from dc_next (and then gets dh_next's part).",
             mistake=lambda c: _step({**c.inputs, "dc_next": np.zeros_like(c.inputs["dc_next"])},
                                     grad=True)),
        Hint("The cell gradient misses the path through h_next = o * tanh(c_next): add "
             "dh_next * o * (1 - tanh(c_next)**2) to dc_next first.",
             mistake=lambda c: _by_hand(c.inputs, dh_into_cell=False)),
        Hint("dc_prev is the cell gradient times the forget gate f, the factor c_prev was "
             "multiplied by.",
             mistake=lambda c: _by_hand(c.inputs, forget_in_dc=False)),
    ),
    tips=("Redo the forward step, keeping i, f, g, o, c_next and tanh(c_next).",
          "First the total gradient of c_next: what comes from dc_next plus what comes "
          "through h_next. Then each gate's pre-activation: gate derivative times what "
          "the gate multiplies.",
          "Stack the four pre-activation gradients (N, 4H) in the order i, f, g, o; from "
          "there x, h_prev and the weights get their gradients as in a Linear layer."),
    shortcuts=refuse("lstm_step_backward", "go back through the gates yourself",
                      (names("LSTM", "LSTMCell"), "`nn.LSTM`, the engine's own LSTM layer "
                       "and its backward pass"),
                      (names("Linear", "Sigmoid", "Tanh"), "the engine's layers (`nn.Linear`, "
                       "`nn.Sigmoid`, `nn.Tanh`) and their backward passes")),
)


# -- lstm_forward over a sequence ---------------------------------------------------------------
SEQ_ARGS = ("x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh")
SEQ_KEYS = ("hs", "h_n", "c_n")


def _seq_cases(seed: int) -> list[Case]:
    g = gen(seed, 903)
    n, t, d, h = (int(g.integers(2, 4)), int(g.integers(3, 6)), int(g.integers(2, 5)),
                  int(g.integers(2, 4)))
    return [Case(f"N={n}, T={t} steps, D={d}, H={h}",
                 {"x": normal(g, n, t, d), "h0": normal(g, n, h, scale=0.5),
                  "c0": normal(g, n, h), **_weights(g, d, h)})]


def _sequence(case: Case) -> dict:
    i = case.inputs
    lstm = engine_layer(nn.LSTM, i)
    hs, (h_n, c_n) = lstm(i["x"], (i["h0"][None], i["c0"][None]))
    return {"hs": hs, "h_n": h_n[0], "c_n": c_n[0]}


def _cell_not_carried(case: Case) -> dict:
    """Every step starts from c0 instead of the cell state of the step before."""
    i = case.inputs
    h, hs = i["h0"], []
    for t in range(i["x"].shape[1]):
        out = _step({**i, "x": i["x"][:, t], "h_prev": h, "c_prev": i["c0"]})
        h = out["h_next"]
        hs.append(h)
    return {"hs": np.stack(hs, axis=1), "h_n": h, "c_n": out["c_next"]}


LSTM_FORWARD = Spec(
    grade_id="lstm_forward", assignment=ASSIGNMENT, name="lstm_forward", points=2,
    task="run the cell over x (N, T, D) from (h0, c0); return (hs (N, T, H), h_n, c_n), as "
         "nn.LSTM(batch_first=True)",
    make_cases=_seq_cases,
    run=lambda ns, case: as_parts(call(ns, case, "lstm_forward", *SEQ_ARGS), SEQ_KEYS,
                                  "what `lstm_forward` returned"),
    reference=_sequence,
    hints=(
        Hint("The cell state is not carried from step to step: each step must start from "
             "the c that the step before returned, not from c0.", mistake=_cell_not_carried),
    ),
    tips=("Loop over t, calling lstm_step_forward on x[:, t]; both h and c go on to the "
          "next step.",
          "Collect every h in a list and stack them on axis 1 to get (N, T, H)."),
    shortcuts=refuse("lstm_forward", "run your own cell over the time steps",
                      (names("LSTM", "LSTMCell"), "`nn.LSTM`, the engine's own LSTM layer")),
)

SPECS = [LSTM_STEP_FORWARD, LSTM_STEP_BACKWARD, LSTM_FORWARD]
