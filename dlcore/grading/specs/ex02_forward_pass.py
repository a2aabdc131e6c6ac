"""Exercise 02: activation functions, their derivatives, a two-layer forward pass."""
from __future__ import annotations

import numpy as np

from ... import nn
from ..spec import Case, Hint, Spec
from ._common import call_array, gen, linear, names, normal, reached, refuse

ASSIGNMENT = "02_forward_pass"
OVERFLOW = ("FloatingPointError", "OverflowError")


def _grad_of(module: nn.Module, x: np.ndarray) -> np.ndarray:
    """d(activation)/dx entry by entry, from the engine's backward pass."""
    module(x)
    return module.backward(np.ones_like(x))


def _activation_cases(salt: int):
    def make(seed: int) -> list[Case]:
        g = gen(seed, salt)
        n, d = (int(v) for v in g.integers(2, 6, size=2))
        return [Case(f"an array of shape ({n}, {d})", {"x": normal(g, n, d, scale=3.0)}),
                Case("zero and very large inputs",
                     {"x": np.array([-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0])})]
    return make


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return nn.Sigmoid()(x)


SIGMOID = Spec(
    grade_id="sigmoid", assignment=ASSIGNMENT, name="sigmoid", points=1,
    task="sigma(x) = 1 / (1 + exp(-x)) entry by entry, any shape, no overflow at +-1000",
    make_cases=_activation_cases(201),
    run=lambda ns, case: call_array(ns, case, "sigmoid", "x", strict=True),
    reference=lambda case: _sigmoid(case.inputs["x"]),
    hints=(
        Hint("exp(-x) overflows for very negative x (exp(1000) is too big for a float). "
             "Use exp(-|x|), which is never larger than 1: for x >= 0, 1 / (1 + exp(-x)); "
             "for x < 0, exp(x) / (1 + exp(x)). Note that np.where computes BOTH branches "
             "on every entry, so each branch must be safe for every x (use -|x|).",
             errors=OVERFLOW),
        Hint("Use np.exp, which works on whole arrays; math.exp takes one number.",
             errors=("TypeError",)),
        Hint("Your function returns tanh or a shifted curve: sigma(0) must be 0.5.",
             mistake=lambda c: np.tanh(c.inputs["x"])),
    ),
    tips=("sigma(x) = 1 / (1 + e^-x). Check sigma(0) = 0.5 first.",
          "For x >= 0, exp(-x) <= 1 is safe. For x < 0, multiply top and bottom by "
          "exp(x): sigma(x) = exp(x) / (1 + exp(x)), and exp(x) <= 1 is safe.",
          "np.where(condition, a, b) picks a where the condition holds and b elsewhere, "
          "but computes a and b on every entry: build both from np.exp(-np.abs(x))."),
    shortcuts=refuse("sigmoid", "write 1 / (1 + exp(-x)) yourself, in a form that never "
                      "overflows",
                      (names("Sigmoid"), "`nn.Sigmoid`, the engine's own layer"),
                      (reached("sigmoid|exp_nonpositive", "functional", "F"),
                       "the engine's `nn.functional.sigmoid`"),
                      (names("expit"), "SciPy's `expit`, a ready-made sigmoid")),
)

SIGMOID_GRAD = Spec(
    grade_id="sigmoid_grad", assignment=ASSIGNMENT, name="sigmoid_grad", points=1,
    task="d sigma / dx = sigma(x) (1 - sigma(x)) entry by entry, stable at +-1000",
    make_cases=_activation_cases(202),
    run=lambda ns, case: call_array(ns, case, "sigmoid_grad", "x", strict=True),
    reference=lambda case: _grad_of(nn.Sigmoid(), case.inputs["x"]),
    hints=(
        Hint("You used x where sigma(x) belongs: the derivative is s * (1 - s) with "
             "s = sigmoid(x), not x * (1 - x).",
             mistake=lambda c: c.inputs["x"] * (1 - c.inputs["x"])),
        Hint("That is sigma(x) itself; the derivative is sigma(x) * (1 - sigma(x)).",
             mistake=lambda c: _sigmoid(c.inputs["x"])),
        Hint("Compute s = sigmoid(x) with your stable sigmoid from above, then s * (1 - s).",
             errors=OVERFLOW),
    ),
    tips=("The derivative of the sigmoid can be written with the sigmoid itself.",
          "Call your `sigmoid` from the cell above: s = sigmoid(x).",
          "Return s * (1 - s)."),
    shortcuts=refuse("sigmoid_grad", "write the derivative yourself, from your `sigmoid`",
                      (names("Sigmoid"), "`nn.Sigmoid`, the engine's own layer, whose "
                       "backward pass is this derivative")),
)

RELU_GRAD = Spec(
    grade_id="relu_grad", assignment=ASSIGNMENT, name="relu_grad", points=1,
    task="d relu / dx: 1 where x > 0, 0 elsewhere (0 at exactly x = 0, as PyTorch)",
    make_cases=_activation_cases(203),
    run=lambda ns, case: call_array(ns, case, "relu_grad", "x"),
    reference=lambda case: _grad_of(nn.ReLU(), case.inputs["x"]),
    hints=(
        Hint("That is relu(x) itself; its derivative is 1 where x > 0 and 0 elsewhere.",
             mistake=lambda c: np.maximum(c.inputs["x"], 0)),
        Hint("At exactly x = 0 the derivative is taken to be 0 (PyTorch's convention): "
             "use x > 0, not x >= 0.",
             mistake=lambda c: (c.inputs["x"] >= 0).astype(float)),
    ),
    tips=("The slope of max(0, x) is 0 on the left and 1 on the right.",
          "A comparison gives booleans: (x > 0). Turn them into numbers with "
          ".astype(float)."),
    shortcuts=refuse("relu_grad", "write the derivative yourself: 1 where x > 0, else 0",
                      (names("ReLU", "LeakyReLU"), "`nn.ReLU`, the engine's own layer, whose "
                       "backward pass is this derivative")),
)

TANH_GRAD = Spec(
    grade_id="tanh_grad", assignment=ASSIGNMENT, name="tanh_grad", points=1,
    task="d tanh / dx = 1 - tanh(x)^2 entry by entry",
    make_cases=_activation_cases(204),
    run=lambda ns, case: call_array(ns, case, "tanh_grad", "x"),
    reference=lambda case: _grad_of(nn.Tanh(), case.inputs["x"]),
    hints=(
        Hint("You used x where tanh(x) belongs: 1 - tanh(x)**2, not 1 - x**2.",
             mistake=lambda c: 1 - c.inputs["x"] ** 2),
        Hint("Square the tanh: 1 - tanh(x)**2, not 1 - tanh(x).",
             mistake=lambda c: 1 - np.tanh(c.inputs["x"])),
    ),
    tips=("np.tanh computes tanh entry by entry.",
          "The derivative of tanh is 1 minus tanh squared."),
    shortcuts=refuse("tanh_grad", "write 1 - tanh(x)^2 yourself",
                      (names("Tanh"), "`nn.Tanh`, the engine's own layer, whose backward "
                       "pass is this derivative")),
)


# -- two_layer_forward(X, W1, b1, W2, b2) -----------------------------------
def _two_layer_cases(seed: int) -> list[Case]:
    g = gen(seed, 205)
    n, d, h, c = (int(v) for v in g.choice(np.arange(2, 8), size=4, replace=False))
    return [Case(f"N={n}, D={d}, H={h} hidden units, C={c} outputs",
                 {"X": normal(g, n, d), "W1": normal(g, h, d), "b1": normal(g, h),
                  "W2": normal(g, c, h), "b2": normal(g, c)})]


def _two_layer_reference(case: Case) -> np.ndarray:
    i = case.inputs
    model = nn.Sequential(linear(i["W1"], i["b1"]), nn.ReLU(), linear(i["W2"], i["b2"]))
    return model(i["X"])


def _no_relu(case: Case) -> np.ndarray:
    i = case.inputs
    return (i["X"] @ i["W1"].T + i["b1"]) @ i["W2"].T + i["b2"]


TWO_LAYER = Spec(
    grade_id="two_layer_forward", assignment=ASSIGNMENT, name="two_layer_forward", points=2,
    task="Linear -> ReLU -> Linear: X (N, D), W1 (H, D), b1 (H,), W2 (C, H), b2 (C,) -> (N, C)",
    make_cases=_two_layer_cases,
    run=lambda ns, case: call_array(ns, case, "two_layer_forward", "X", "W1", "b1", "W2", "b2"),
    reference=_two_layer_reference,
    hints=(
        Hint("You left out the ReLU between the layers: apply np.maximum(0, ...) to the "
             "hidden layer before the second Linear.", mistake=_no_relu),
        Hint("The output layer has no ReLU: only the hidden layer goes through it.",
             mistake=lambda c: np.maximum(_two_layer_reference(c), 0)),
        Hint("Check the shapes: W1 is (H, D), so X @ W1.T is (N, H); W2 is (C, H), so "
             "a @ W2.T is (N, C).", errors=("ValueError",)),
    ),
    tips=("Three steps: hidden = X W1^T + b1; a = relu(hidden); out = a W2^T + b2.",
          "Each weight matrix is (out, in), as in nn.Linear: multiply by its transpose."),
    shortcuts=refuse("two_layer_forward", "write the network by hand: the two products "
                      "with their biases and the ReLU between them",
                      (names("Linear", "ReLU", "Sequential"),
                       "the engine's layers (`nn.Linear`, `nn.ReLU`, `nn.Sequential`)")),
)

SPECS = [SIGMOID, SIGMOID_GRAD, RELU_GRAD, TANH_GRAD, TWO_LAYER]
