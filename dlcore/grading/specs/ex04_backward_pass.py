"""Exercise 04: backward passes (Linear, ReLU), backpropagation through a two-layer
network, and a numerical gradient check."""
from __future__ import annotations

import numpy as np

from ... import nn
from ...gradcheck import numerical_gradient as engine_numerical_gradient
from ..spec import AnswerError, Case, Credit, Hint, Spec, as_array, as_parts, learner
from ._common import call, call_array, gen, keep_rng, linear, names, normal, reached, refuse

ASSIGNMENT = "04_backward_pass"


# -- MyLinear.backward ------------------------------------------------------------
def _linear_cases(seed: int) -> list[Case]:
    g = gen(seed, 401)
    n, d, m = (int(v) for v in g.choice(np.arange(2, 7), size=3, replace=False))
    k = int(g.integers(2, 5))
    return [Case(f"N={n}, D={d} inputs, M={m} outputs",
                 {"x": normal(g, n, d), "W": normal(g, m, d), "b": normal(g, m),
                  "grad_out": normal(g, n, m)}),
            Case(f"N={n}, D=M={k}: a square weight",
                 {"x": normal(g, n, k), "W": normal(g, k, k), "b": normal(g, k),
                  "grad_out": normal(g, n, k)})]


KEYS = ("dx", "weight.grad", "bias.grad", "weight.grad after two backward passes")


def _linear_run(namespace, case: Case) -> dict:
    cls = learner(namespace, "MyLinear")
    i = case.copy_inputs()
    m, d = i["W"].shape
    with keep_rng():
        layer = cls(d, m)
    if not isinstance(layer, nn.Module) or not hasattr(layer, "weight"):
        raise AnswerError("`MyLinear(D, M)` should build an nn.Module with .weight and .bias")
    layer.weight = nn.Parameter(i["W"])
    layer.bias = nn.Parameter(i["b"])
    layer(i["x"])
    dx = as_array(layer.backward(i["grad_out"].copy()), "what `backward` returned")
    first = {"weight.grad": as_array(layer.weight.grad, "weight.grad"),
             "bias.grad": as_array(layer.bias.grad, "bias.grad")}
    layer(i["x"])
    layer.backward(i["grad_out"].copy())
    return {"dx": dx, **first,
            KEYS[3]: as_array(layer.weight.grad, "weight.grad after two passes")}


def _linear_answer(x, W, b, g, dW=None) -> dict:
    layer = linear(W, b)
    layer(x)
    dx = layer.backward(g)
    first = layer.weight.grad.copy()
    return {"dx": dx, "weight.grad": first if dW is None else dW,
            "bias.grad": layer.bias.grad.copy(),
            KEYS[3]: 2 * first if dW is None else 2 * dW}


def _linear_reference(case: Case) -> dict:
    i = case.inputs
    return _linear_answer(i["x"], i["W"], i["b"], i["grad_out"])


def _linear_assigned(case: Case) -> dict:
    out = _linear_reference(case)
    out[KEYS[3]] = out["weight.grad"]
    return out


def _linear_transposed(case: Case) -> dict | None:
    i = case.inputs
    if i["W"].shape[0] != i["W"].shape[1]:
        return None
    return _linear_answer(i["x"], i["W"], i["b"], i["grad_out"], dW=i["x"].T @ i["grad_out"])


def _linear_bias_mean(case: Case) -> dict:
    out = _linear_reference(case)
    out["bias.grad"] = case.inputs["grad_out"].mean(axis=0)
    return out


MY_LINEAR = Spec(
    grade_id="linear_backward", assignment=ASSIGNMENT, name="MyLinear", points=3,
    task="MyLinear.backward(grad_out): add dL/dW (M, D) and dL/db (M,) into .grad, "
         "return dL/dx (N, D)",
    make_cases=_linear_cases, run=_linear_run, reference=_linear_reference,
    hints=(
        Hint("backward must ADD into .grad (+=), not assign: gradients from several "
             "backward passes accumulate until zero_grad().", mistake=_linear_assigned),
        Hint("weight.grad is transposed: it has the weight's shape (M, D), so it is "
             "grad_out.T @ x, not x.T @ grad_out.", mistake=_linear_transposed),
        Hint("bias.grad is the SUM of grad_out over the samples, not the mean (the 1/N "
             "is already inside grad_out).", mistake=_linear_bias_mean),
        Hint("Check the shapes: weight.grad is (M, D) = grad_out.T (M, N) @ x (N, D); "
             "dx is (N, D) = grad_out (N, M) @ W (M, D).", errors=("ValueError",)),
    ),
    tips=("forward saved x in self._cache; read it back with x = self._saved().",
          "Write down the shapes: grad_out (N, M), x (N, D), W (M, D). Each gradient has "
          "the shape of what it is the gradient of, and there is one way to multiply "
          "these arrays that gives it.",
          "The bias is added to every sample, so its gradient collects grad_out from "
          "every sample."),
    shortcuts=refuse("MyLinear", "write the three gradients of `backward` yourself",
                      (names("Linear"), "`nn.Linear`, the engine's own layer and its "
                       "backward pass")),
)


# -- relu_backward(grad_out, x) -------------------------------------------------
def _relu_cases(seed: int) -> list[Case]:
    g = gen(seed, 402)
    n, d = (int(v) for v in g.integers(2, 6, size=2))
    x = normal(g, n, d)
    x[0, 0] = 0.0
    return [Case(f"shape ({n}, {d}), one x exactly 0", {"grad_out": normal(g, n, d), "x": x})]


def _relu_reference(case: Case) -> np.ndarray:
    relu = nn.ReLU()
    relu(case.inputs["x"])
    return relu.backward(case.inputs["grad_out"])


RELU_BACKWARD = Spec(
    grade_id="relu_backward", assignment=ASSIGNMENT, name="relu_backward", points=1,
    task="dL/dx = grad_out where x > 0, 0 elsewhere; grad_out and x (N, D)",
    make_cases=_relu_cases,
    run=lambda ns, case: call_array(ns, case, "relu_backward", "grad_out", "x"),
    reference=_relu_reference,
    hints=(
        Hint("The mask comes from the INPUT x of the ReLU (x > 0), not from grad_out.",
             mistake=lambda c: c.inputs["grad_out"] * (c.inputs["grad_out"] > 0)),
        Hint("Multiply by grad_out: the chain rule passes the upstream gradient through "
             "where x > 0.", mistake=lambda c: (c.inputs["x"] > 0).astype(float)),
    ),
    tips=("ReLU lets the gradient through where it let the value through.",
          "Multiply grad_out by a mask of 0s and 1s built from x."),
    shortcuts=refuse("relu_backward", "let the gradient through where x > 0 yourself",
                      (names("ReLU", "LeakyReLU"), "`nn.ReLU`, the engine's own layer and its "
                       "backward pass")),
)


# -- two_layer_backward(X, y, W1, b1, W2, b2) ---------------------------------------
TWO_KEYS = ("loss", "dW1", "db1", "dW2", "db2")


def _two_layer_cases(seed: int) -> list[Case]:
    g = gen(seed, 403)
    n, d, h, c = (int(v) for v in g.choice(np.arange(2, 8), size=4, replace=False))
    return [Case(f"N={n}, D={d}, H={h}, C={c}",
                 {"X": normal(g, n, d), "y": g.integers(0, c, size=n).astype(np.int64),
                  "W1": normal(g, h, d), "b1": normal(g, h),
                  "W2": normal(g, c, h), "b2": normal(g, c)})]


def _two_layer(case: Case, relu: nn.Module | None = None) -> dict:
    i = case.inputs
    first, second = linear(i["W1"], i["b1"]), linear(i["W2"], i["b2"])
    model = nn.Sequential(first, relu or nn.ReLU(), second)
    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn(model(i["X"]), i["y"])
    model.backward(loss_fn.backward())
    return {"loss": loss, "dW1": first.weight.grad, "db1": first.bias.grad,
            "dW2": second.weight.grad, "db2": second.bias.grad}


class _Unmasked(nn.ReLU):
    """A ReLU whose backward forgets the mask: the mistake, not the engine."""

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out


def _scaled(case: Case, factor: float) -> dict:
    out = _two_layer(case)
    return {k: (v if k == "loss" else factor * v) for k, v in out.items()}


TWO_LAYER_BACKWARD = Spec(
    grade_id="two_layer_backward", assignment=ASSIGNMENT, name="two_layer_backward", points=3,
    credit=Credit.PER_OUTPUT,  # the loss and each gradient earn a fifth apart
    task="loss and gradients (loss, dW1, db1, dW2, db2) of Linear -> ReLU -> Linear -> "
         "cross-entropy",
    make_cases=_two_layer_cases,
    run=lambda ns, case: as_parts(
        call(ns, case, "two_layer_backward", "X", "y", "W1", "b1", "W2", "b2"), TWO_KEYS,
        "what `two_layer_backward` returned"),
    reference=_two_layer,
    hints=(
        Hint("A missing 1/N: the loss is a mean over the N samples, so dz = (softmax(z) - "
             "onehot(y)) / N.", mistake=lambda c: _scaled(c, len(c.inputs["y"]))),
        Hint("Every gradient has the wrong sign: dz = softmax(z) - onehot(y), not the "
             "other way round.", mistake=lambda c: _scaled(c, -1.0)),
        Hint("The ReLU's backward is missing: multiply the hidden gradient by (h > 0), "
             "h the hidden layer before the ReLU.", mistake=lambda c: _two_layer(c, _Unmasked())),
    ),
    tips=("Forward first, keeping h (before ReLU), a (after) and z (scores).",
          "Backward from the loss: dz, then dW2 = dz.T @ a, db2 = dz.sum(0), da = dz @ W2, "
          "dh = da * (h > 0), then the same for the first layer with X."),
    shortcuts=refuse("two_layer_backward", "walk back through the network yourself, "
                      "layer by layer",
                      (names("Linear", "ReLU", "Sequential"),
                       "the engine's layers (`nn.Linear`, `nn.ReLU`, `nn.Sequential`) and "
                       "their backward passes"),
                      (names("CrossEntropyLoss"), "`nn.CrossEntropyLoss`, the engine's own "
                       "loss and its backward pass"),
                      (reached("gradcheck", "dlcore"), "`dlcore.gradcheck`, numerical "
                       "gradients instead of backpropagation")),
)


# -- numerical_gradient(f, x, eps) ---------------------------------------------------
def _numgrad_cases(seed: int) -> list[Case]:
    g = gen(seed, 404)
    d = int(g.integers(3, 6))
    return [Case(f"x of shape ({d},)", {"x": normal(g, d), "A": normal(g, d)}),
            Case("x of shape (2, 3)", {"x": normal(g, 2, 3), "A": normal(g, 2, 3)})]


def _make_f(A: np.ndarray):
    def f(x: np.ndarray) -> float:
        return float(np.sum(A * np.tanh(x)) + 0.5 * np.sum(x * x))
    return f


def _numgrad_run(namespace, case: Case) -> dict:
    fn = learner(namespace, "numerical_gradient")
    i = case.copy_inputs()
    x = i["x"]
    before = x.copy()
    grad = as_array(fn(_make_f(i["A"]), x, 1e-6), "what `numerical_gradient` returned")
    return {"gradient": grad, "x unchanged": bool(np.array_equal(x, before))}


def _numgrad_reference(case: Case) -> dict:
    x = case.inputs["x"].copy()
    f = _make_f(case.inputs["A"])
    return {"gradient": engine_numerical_gradient(lambda: f(x), x, 1e-6),
            "x unchanged": True}


NUMERICAL_GRADIENT = Spec(
    grade_id="numerical_gradient", assignment=ASSIGNMENT, name="numerical_gradient", points=2,
    task="central differences (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for every entry "
         "of x, any shape; x unchanged afterwards",
    make_cases=_numgrad_cases, run=_numgrad_run, reference=_numgrad_reference,
    rtol=1e-4, atol=1e-6,
    hints=(
        Hint("Divide by 2 * eps: the two points x + eps and x - eps are 2 eps apart.",
             mistake=lambda c: {"gradient": 2 * _numgrad_reference(c)["gradient"],
                                "x unchanged": True}),
        Hint("Put each entry back after nudging it (x[i] = old): the caller's x must be "
             "unchanged.",
             mistake=lambda c: {"gradient": _numgrad_reference(c)["gradient"],
                                "x unchanged": False}),
    ),
    tips=("Loop over every index of x, whatever its shape: np.ndindex gives them all.",
          "For each i: remember old = x[i]; set x[i] = old + eps and evaluate f(x); set "
          "x[i] = old - eps and evaluate; restore x[i] = old."),
    shortcuts=refuse("numerical_gradient", "nudge each entry yourself (central "
                      "differences)",
                      (reached("gradcheck", "dlcore"), "`dlcore.gradcheck`, the engine's own "
                       "gradient check"),
                      (names("approx_fprime") + "|" + reached("check_grad", "optimize"),
                       "SciPy's ready-made finite differences")),
)

SPECS = [MY_LINEAR, RELU_BACKWARD, TWO_LAYER_BACKWARD, NUMERICAL_GRADIENT]
