"""Exercise 01: a neuron and a dense layer's forward pass (lesson 01)."""
from __future__ import annotations

import numpy as np

from ... import nn
from ..spec import Case, Hint, Spec, as_float
from ._common import call, call_array, gen, keep_rng, linear, names, normal, refuse

ASSIGNMENT = "01_neurons_and_layers"


# -- neuron_forward(x, w, b) -> z ---------------------------------------------
def _neuron_cases(seed: int) -> list[Case]:
    g = gen(seed, 101)
    d = int(g.integers(3, 7))
    b = float(normal(g, 1)[0])
    return [Case(f"{d} inputs", {"x": normal(g, d), "w": normal(g, d), "b": b}),
            Case("one input", {"x": normal(g, 1), "w": normal(g, 1), "b": 0.5})]


def _neuron_reference(case: Case) -> float:
    i = case.inputs
    layer = linear(i["w"][None, :], np.array([i["b"]]))
    return float(layer(i["x"][None, :])[0, 0])


NEURON = Spec(
    grade_id="neuron_forward", assignment=ASSIGNMENT, name="neuron_forward", points=1,
    task="z = w . x + b for one neuron: x (D,), w (D,), b a number -> z a number",
    make_cases=_neuron_cases,
    run=lambda ns, case: as_float(call(ns, case, "neuron_forward", "x", "w", "b"),
                                  "what `neuron_forward` returned"),
    reference=_neuron_reference,
    hints=(
        Hint("You left out the bias: add b after the weighted sum.",
             mistake=lambda c: float(c.inputs["w"] @ c.inputs["x"])),
        Hint("Sum the products: the weighted sum is one number, np.dot(w, x) or "
             "(w * x).sum(), then add b.",
             mistake=lambda c: c.inputs["w"] * c.inputs["x"] + c.inputs["b"]),
    ),
    tips=("Multiply each input by its weight, add the products up, then add the bias.",
          "In NumPy, `w @ x` (or `np.dot(w, x)`) is the sum of w[i] * x[i] over i.",
          "`w @ x` is the weighted sum; then only the bias is missing."),
    shortcuts=refuse("neuron_forward", "write the weighted sum yourself, w @ x + b",
                      (names("Linear"), "`nn.Linear`, the engine's own layer")),
)


# -- dense_forward(X, W, b) -> Y ----------------------------------------------
def _dense_cases(seed: int) -> list[Case]:
    g = gen(seed, 102)
    n, d, m = (int(v) for v in g.choice(np.arange(2, 7), size=3, replace=False))
    k = int(g.integers(2, 5))
    return [Case(f"N={n} samples, D={d} inputs, M={m} neurons",
                 {"X": normal(g, n, d), "W": normal(g, m, d), "b": normal(g, m)}),
            Case(f"N={n} samples, D=M={k}: a square weight matrix",
                 {"X": normal(g, n, k), "W": normal(g, k, k), "b": normal(g, k)})]


def _dense_reference(case: Case) -> np.ndarray:
    i = case.inputs
    return linear(i["W"], i["b"])(i["X"])


def _dense_transposed(case: Case) -> np.ndarray | None:
    i = case.inputs
    if i["W"].shape[0] != i["W"].shape[1]:
        return None
    return i["X"] @ i["W"] + i["b"]


DENSE = Spec(
    grade_id="dense_forward", assignment=ASSIGNMENT, name="dense_forward", points=2,
    task="Y = X W^T + b for a batch: X (N, D), W (M, D), b (M,) -> Y (N, M)",
    make_cases=_dense_cases,
    run=lambda ns, case: call_array(ns, case, "dense_forward", "X", "W", "b"),
    reference=_dense_reference,
    hints=(
        Hint("W is stored as (M, D), one row per neuron, as in PyTorch's nn.Linear: "
             "use X @ W.T, not X @ W (the two only have the same shape when M == D).",
             mistake=_dense_transposed),
        Hint("You left out the bias: add b, it broadcasts over the N rows.",
             mistake=lambda c: c.inputs["X"] @ c.inputs["W"].T),
        Hint("Check the shapes: X is (N, D) and W is (M, D), so X @ W.T is (N, M); "
             "X @ W only works when M == D.", errors=("ValueError",)),
    ),
    tips=("Each row of X is one sample; each row of W holds one neuron's weights.",
          "Row n, column m of the output is W[m] . X[n] + b[m]: that is a matrix product "
          "with W transposed.",
          "b has shape (M,): NumPy adds it to every row of an (N, M) array by itself."),
    shortcuts=refuse("dense_forward", "write the product yourself, X @ W.T + b",
                      (names("Linear"), "`nn.Linear`, the engine's own layer")),
)


# -- count_parameters(layer_sizes) -> int -------------------------------------
def _count_cases(seed: int) -> list[Case]:
    g = gen(seed, 103)
    sizes = [int(v) for v in g.integers(2, 40, size=int(g.integers(3, 5)))]
    return [Case("[64, 128, 10]", {"layer_sizes": [64, 128, 10]}),
            Case(f"{sizes}", {"layer_sizes": sizes})]


def _layers(sizes: list[int]) -> list[tuple[int, int]]:
    """(inputs, outputs) of each layer."""
    return list(zip(sizes[:-1], sizes[1:], strict=True))


def _count_reference(case: Case) -> int:
    sizes = case.inputs["layer_sizes"]
    with keep_rng():
        model = nn.Sequential(*[nn.Linear(a, b) for a, b in _layers(sizes)])
    return sum(p.numel() for p in model.parameters())


COUNT = Spec(
    grade_id="count_parameters", assignment=ASSIGNMENT, name="count_parameters", points=1,
    task="how many weights and biases a stack of dense layers has, from its layer sizes",
    make_cases=_count_cases,
    run=lambda ns, case: as_float(call(ns, case, "count_parameters", "layer_sizes"),
                                  "what `count_parameters` returned"),
    reference=_count_reference,
    hints=(
        Hint("You counted the weights but not the biases: each layer also has one bias "
             "per output neuron.",
             mistake=lambda c: sum(a * b for a, b in _layers(c.inputs["layer_sizes"]))),
        Hint("You counted neurons, not parameters: a layer from a inputs to b neurons "
             "has a * b weights and b biases.",
             mistake=lambda c: sum(c.inputs["layer_sizes"])),
    ),
    tips=("Go through consecutive pairs (a, b) of layer sizes: each pair is one layer.",
          "A layer from a inputs to b neurons has a weight matrix (b, a) and a bias (b,).",
          "`zip(sizes[:-1], sizes[1:])` gives the pairs (a, b), one per layer."),
    shortcuts=refuse("count_parameters", "work the count out from the layer sizes yourself",
                      (names("Linear", "Sequential"),
                       "the engine's layers (`nn.Linear`, `nn.Sequential`) to do the counting")),
)

SPECS = [NEURON, DENSE, COUNT]
