"""Exercise 14: automatic differentiation. The backward closures of a scalar
``Value`` (add, mul, pow, tanh, exp), the topological sort, ``backward()`` itself,
and the backward pass of a broadcasting matrix product.

Every answer comes back as plain numbers: the gradients a learner's ``Value``
leaves after one ``_backward()``, the order (as node numbers) the learner's sort
gives on graphs built here, the gradients the learner's ``backward`` leaves on
graphs built here, and the two arrays of ``matmul_backward``.
"""
from __future__ import annotations

import math

import numpy as np

from ... import autograd
from ..spec import AnswerError, Case, Hint, Outcome, Spec, as_float, as_parts, learner
from ._common import call, gen, normal, refuse

ASSIGNMENT = "14_autograd"
AUTOGRAD = (r"\bautograd\b", "`dlcore.autograd`, the engine's own automatic differentiation")


# -- Value: the backward closures of add, mul, pow, tanh, exp ------------------------------
def _value_cases(seed: int) -> list[Case]:
    g = gen(seed, 1401)
    a, b = (float(v) for v in np.round(g.uniform(0.3, 1.6, size=2) * g.choice([-1, 1], 2), 4))
    return [Case(f"a = {a:g}, b = {b:g}",
                 {"a": a, "b": b, "k": float(g.choice([2.0, 3.0, -1.0, 0.5])) if a > 0
                  else float(g.choice([2.0, 3.0, -1.0])),
                  "g": float(np.round(g.uniform(0.5, 2.0), 4))})]


VALUE_KEYS = ("a + b: a.grad", "a + b: b.grad", "a * b: a.grad", "a * b: b.grad",
              "a ** k: a.grad", "tanh(a): a.grad", "exp(a): a.grad",
              "a + a: a.grad", "a * a: a.grad")


def _value_run(namespace, case: Case) -> dict:
    """Each operation on fresh leaves, out.grad set to g, then out._backward() once."""
    cls = learner(namespace, "Value")
    i = case.copy_inputs()
    got = {}

    def backward_of(make, *leaves_data):
        leaves = [cls(v) for v in leaves_data]
        out = make(*leaves)
        if not isinstance(out, cls):
            raise AnswerError("an operation on two `Value`s should return a `Value`")
        out.grad = i["g"]
        out._backward()
        return [as_float(leaf.grad, "a gradient (.grad)") for leaf in leaves]

    got["a + b: a.grad"], got["a + b: b.grad"] = backward_of(lambda a, b: a + b, i["a"], i["b"])
    got["a * b: a.grad"], got["a * b: b.grad"] = backward_of(lambda a, b: a * b, i["a"], i["b"])
    (got["a ** k: a.grad"],) = backward_of(lambda a: a ** i["k"], i["a"])
    (got["tanh(a): a.grad"],) = backward_of(lambda a: a.tanh(), i["a"])
    (got["exp(a): a.grad"],) = backward_of(lambda a: a.exp(), i["a"])
    (got["a + a: a.grad"],) = backward_of(lambda a: a + a, i["a"])
    (got["a * a: a.grad"],) = backward_of(lambda a: a * a, i["a"])
    return got


def _value_answer(a: float, b: float, k: float, g: float, assign: bool = False,
                  no_upstream: bool = False, swapped: bool = False) -> dict:
    """The engine's Value, one _backward each; or a typical mistake."""
    def backward_of(make, *data):
        leaves = [autograd.Value(v) for v in data]
        out = make(*leaves)
        out.grad = 1.0 if no_upstream else g
        out._backward()
        return [leaf.grad for leaf in leaves]

    out = {}
    out["a + b: a.grad"], out["a + b: b.grad"] = backward_of(lambda x, y: x + y, a, b)
    if swapped:
        out["a * b: a.grad"], out["a * b: b.grad"] = a * g, b * g
    else:
        out["a * b: a.grad"], out["a * b: b.grad"] = backward_of(lambda x, y: x * y, a, b)
    (out["a ** k: a.grad"],) = backward_of(lambda x: x ** k, a)
    (out["tanh(a): a.grad"],) = backward_of(lambda x: x.tanh(), a)
    (out["exp(a): a.grad"],) = backward_of(lambda x: x.exp(), a)
    (out["a + a: a.grad"],) = backward_of(lambda x: x + x, a)
    (out["a * a: a.grad"],) = backward_of(lambda x: x * x, a)
    if assign:                          # the second share overwrites the first
        out["a + a: a.grad"] /= 2
        out["a * a: a.grad"] /= 2
    return out


def _value_reference(case: Case) -> dict:
    i = case.inputs
    return _value_answer(i["a"], i["b"], i["k"], i["g"])


def _value_mistake(**kind):
    def mistake(case: Case) -> dict:
        i = case.inputs
        return _value_answer(i["a"], i["b"], i["k"], i["g"], **kind)
    return mistake


def _value_tanh_of_input(case: Case) -> dict:
    out = _value_reference(case)
    out["tanh(a): a.grad"] = (1 - case.inputs["a"] ** 2) * case.inputs["g"]
    return out


def _value_pow_no_minus_one(case: Case) -> dict:
    i = case.inputs
    out = _value_reference(case)
    out["a ** k: a.grad"] = i["k"] * i["a"] ** i["k"] * i["g"]
    return out


VALUE_BACKWARD = Spec(
    grade_id="value_backward", assignment=ASSIGNMENT, name="Value", points=4,
    task="the _backward closures of Value's +, *, ** k, tanh and exp: each adds "
         "(local derivative × out.grad) into the .grad of its inputs",
    make_cases=_value_cases, run=_value_run, reference=_value_reference,
    hints=(
        Hint("A value used twice (a + a, a * a) must receive BOTH shares: write `+=` in "
             "every _backward, never `=` (with `=` the second share overwrites the first).",
             mistake=_value_mistake(assign=True)),
        Hint("Multiply every local derivative by out.grad, the gradient that arrives from "
             "above: that product is the chain rule.", mistake=_value_mistake(no_upstream=True)),
        Hint("In a * b, each input's gradient uses the OTHER input: a.grad += b.data * "
             "out.grad and b.grad += a.data * out.grad.", mistake=_value_mistake(swapped=True)),
        Hint("tanh'(a) = 1 - tanh(a)²: use the forward result t = tanh(a), not a itself.",
             mistake=_value_tanh_of_input),
        Hint("The derivative of a ** k is k * a ** (k - 1): the exponent goes down by one.",
             mistake=_value_pow_no_minus_one),
    ),
    tips=("Each _backward has the same shape: input.grad += (local derivative) * out.grad, "
          "once for each input.",
          "The local derivatives: + gives 1 to both; * gives the other input's data; "
          "** k gives k * data ** (k - 1); tanh gives 1 - t ** 2 with t the output; exp "
          "gives the output itself.",
          "The closures can read self, other and out: Python keeps them alive inside the "
          "function (a closure)."),
    shortcuts=refuse("Value", "write each operation's backward closure yourself", AUTOGRAD),
)


# -- topo_sort(root) ------------------------------------------------------------------------
class GraphNode:
    """A node of a graph built by the checker: ``number``, inputs ``_prev``, and what
    a ``Value`` has (``data``, ``grad``, ``_backward``) for the ``backward`` part."""

    def __init__(self, number: int, prev: tuple = (), data: float = 0.0):
        self.number = number
        self._prev = prev
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None

    def __repr__(self) -> str:
        return f"node {self.number}"


def _random_dag(g: np.random.Generator, n: int) -> list[list[int]]:
    """Inputs of each node: node j uses 1 or 2 earlier nodes (0 and 1 are leaves); the
    last node is the root; some nodes are used twice, and some twice by one node."""
    inputs: list[list[int]] = [[], []]
    for j in range(2, n):
        count = int(g.integers(1, 3))
        picks = [int(g.integers(max(0, j - 3), j)) for _ in range(count)]
        inputs.append(picks)
    inputs[-1] = sorted({n - 2, *inputs[-1]})          # the root depends on the node before it
    return inputs


def _topo_cases(seed: int) -> list[Case]:
    g = gen(seed, 1402)
    cases = []
    for n in (int(g.integers(6, 9)), int(g.integers(10, 14))):
        inputs = _random_dag(g, n)
        shuffled = [list(g.permutation(v)) for v in inputs]   # children in any order
        cases.append(Case(f"{n} nodes, some used twice",
                          {"inputs": [[int(c) for c in v] for v in shuffled]}))
    cases.append(Case("a diamond: r = (a·b) + (a·c), a reached twice",
                      {"inputs": [[], [], [], [0, 1], [0, 2], [3, 4]]}))
    return cases


def _build_graph(inputs: list[list[int]]) -> list[GraphNode]:
    nodes: list[GraphNode] = []
    for k, children in enumerate(inputs):
        nodes.append(GraphNode(k, tuple(nodes[c] for c in children)))
    return nodes


def _topo_run(namespace, case: Case) -> dict:
    fn = learner(namespace, "topo_sort")
    nodes = _build_graph(case.copy_inputs()["inputs"])
    order = fn(nodes[-1])
    if order is None:
        raise AnswerError("`topo_sort` returned None: did you forget to `return` the list?")
    try:
        items = list(order)
    except TypeError:
        raise AnswerError(f"`topo_sort` should return a list of nodes, got a "
                          f"{type(order).__name__}") from None
    if len(items) > 10 * len(nodes):
        raise AnswerError(f"`topo_sort` returned {len(items)} items for a graph of "
                          f"{len(nodes)} nodes")
    numbers = []
    for item in items:
        if not isinstance(item, GraphNode):
            raise AnswerError(f"`topo_sort` should return the graph's nodes, but the list "
                              f"holds a {type(item).__name__}")
        numbers.append(item.number)
    return {"order": np.array(numbers, dtype=np.int64)}


def _reachable(inputs: list[list[int]]) -> set[int]:
    seen, stack = set(), [len(inputs) - 1]
    while stack:
        k = stack.pop()
        if k not in seen:
            seen.add(k)
            stack.extend(inputs[k])
    return seen


def _topo_reference(case: Case) -> dict:
    nodes = _build_graph(case.inputs["inputs"])
    return {"order": np.array([n.number for n in autograd.topological_order(nodes[-1])],
                              dtype=np.int64)}


TOPO_TWICE = ("A node appears more than once: keep a set of visited nodes and skip a node "
              "you have already visited (a node used twice must come once).")
TOPO_REVERSED = ("The order is reversed: append a node AFTER all its inputs (children), so "
                 "inputs come first and the root last; backward() walks it in reverse.")
TOPO_MISSING = ("Some nodes are missing: visit every input in node._prev, recursively, "
                "down to the leaves.")


def _valid(order: list[int], inputs: list[list[int]]) -> bool:
    position = {k: p for p, k in enumerate(order)}
    return all(position[c] < position[k] for k in order for c in inputs[k])


def _topo_compare(spec: Spec, got, expected, case: Case) -> Outcome:
    inputs = case.inputs["inputs"]
    order = got.get("order") if isinstance(got, dict) else None
    if not isinstance(order, np.ndarray) or order.ndim != 1:
        return Outcome(case.label, False, "expected a list of nodes")
    order_list = [int(k) for k in order]
    need = _reachable(inputs)
    if len(order_list) != len(set(order_list)):
        return Outcome(case.label, False, f"{len(order_list)} nodes in the order, but the graph "
                       f"has {len(need)}: some come twice", TOPO_TWICE)
    if set(order_list) != need:
        missing = sorted(need - set(order_list))
        return Outcome(case.label, False, f"the order misses {len(missing)} of the "
                       f"{len(need)} nodes", TOPO_MISSING)
    if _valid(order_list, inputs):
        return Outcome(case.label, True, "right")
    if _valid(order_list[::-1], inputs):
        return Outcome(case.label, False, "the root comes first and the leaves last",
                       TOPO_REVERSED)
    return Outcome(case.label, False, "some node comes before one of its inputs",
                   "Append a node only after all its inputs have been appended "
                   "(depth-first, post-order).")


def _topo_twice(case: Case) -> dict:
    """No visited set: a node reached twice is appended twice."""
    inputs = case.inputs["inputs"]
    order: list[int] = []

    def visit(k: int) -> None:
        for c in inputs[k]:
            visit(c)
        order.append(k)
    visit(len(inputs) - 1)
    if len(order) == len(set(order)):
        return None
    return {"order": np.array(order, dtype=np.int64)}


TOPO_SORT = Spec(
    grade_id="topo_sort", assignment=ASSIGNMENT, name="topo_sort", points=2,
    task="every node the root depends on, each once, each after all its inputs (_prev), "
         "the root last",
    make_cases=_topo_cases, run=_topo_run, reference=_topo_reference, comparer=_topo_compare,
    hints=(
        Hint(TOPO_TWICE, mistake=_topo_twice),
        Hint(TOPO_REVERSED, mistake=lambda c: {"order": _topo_reference(c)["order"][::-1]}),
        Hint(TOPO_MISSING, mistake=lambda c: {"order": _topo_reference(c)["order"][-2:]}),
    ),
    tips=("Depth-first: a helper visit(node) that first visits every input in node._prev, "
          "then appends node.",
          "A set `visited` (of nodes, or of id(node)) makes each node come once: return at "
          "once from visit() for a node already visited.",
          "Define the helper inside topo_sort, so the whole answer is in this cell."),
    shortcuts=refuse("topo_sort", "sort the graph yourself (depth-first)", AUTOGRAD,
                      (r"\bgraphlib\b|\bTopologicalSorter\b|\bnetworkx\b",
                       "a ready-made topological sort")),
)


# -- backward(root) -------------------------------------------------------------------------
OPS = ("add", "mul", "tanh", "mul")


def _backward_cases(seed: int) -> list[Case]:
    g = gen(seed, 1403)
    cases = []
    for n in (int(g.integers(6, 9)), int(g.integers(9, 12))):
        inputs = _random_dag(g, n)
        for j in range(2, n):                       # unary ops take one input
            if len(inputs[j]) == 1 and g.random() < 0.5:
                inputs[j] = inputs[j] * 2           # x * x or x + x: one input used twice
        ops = ["leaf", "leaf"] + [("tanh" if len(v) == 1 else str(g.choice(["add", "mul"])))
                                  for v in inputs[2:]]
        leaves = [float(v) for v in np.round(g.uniform(-1.2, 1.2, size=2), 4)]
        cases.append(Case(f"{n} nodes", {"inputs": inputs, "ops": ops, "leaves": leaves}))
    return cases


def _node_graph(case: Case) -> list[GraphNode]:
    """The case's graph as GraphNodes whose _backward closures are right (with +=)."""
    i = case.inputs
    nodes: list[GraphNode] = []
    for k, (children, op) in enumerate(zip(i["inputs"], i["ops"], strict=True)):
        prev = tuple(nodes[c] for c in children)
        if op == "leaf":
            nodes.append(GraphNode(k, (), i["leaves"][k]))
            continue
        if op == "tanh":
            data = math.tanh(prev[0].data)
        elif op == "add":
            data = prev[0].data + prev[1].data
        else:
            data = prev[0].data * prev[1].data
        out = GraphNode(k, prev, data)
        out._backward = _closure(op, out)
        nodes.append(out)
    return nodes


def _closure(op: str, out: GraphNode):
    prev = out._prev

    def backward() -> None:
        if op == "tanh":
            prev[0].grad += (1 - out.data ** 2) * out.grad
        elif op == "add":
            prev[0].grad += out.grad
            prev[1].grad += out.grad
        else:
            prev[0].grad += prev[1].data * out.grad
            prev[1].grad += prev[0].data * out.grad
    return backward


def _backward_run(namespace, case: Case) -> dict:
    fn = learner(namespace, "backward")
    nodes = _node_graph(case)
    fn(nodes[-1])
    return {"grads": np.array([as_float(n.grad, f"the .grad of node {n.number}")
                               for n in nodes])}


def _engine_values(case: Case) -> list:
    i = case.inputs
    values: list = []
    for k, (children, op) in enumerate(zip(i["inputs"], i["ops"], strict=True)):
        if op == "leaf":
            values.append(autograd.Value(i["leaves"][k]))
        elif op == "tanh":
            values.append(values[children[0]].tanh())
        elif op == "add":
            values.append(values[children[0]] + values[children[1]])
        else:
            values.append(values[children[0]] * values[children[1]])
    return values


def _backward_reference(case: Case) -> dict:
    values = _engine_values(case)
    values[-1].backward()
    return {"grads": np.array([v.grad for v in values])}


def _backward_walk(case: Case, seed: float, reverse: bool) -> dict:
    """The mistakes: a walk in the wrong order, or no seed."""
    nodes = _node_graph(case)
    nodes[-1].grad = seed
    order = autograd.topological_order(nodes[-1])
    for node in (reversed(order) if reverse else order):
        node._backward()
    return {"grads": np.array([n.grad for n in nodes])}


BACKWARD = Spec(
    grade_id="backward_pass", assignment=ASSIGNMENT, name="backward", points=2,
    task="backward(root): seed root.grad = 1, then call every node's _backward() in "
         "reverse topological order (root first)",
    make_cases=_backward_cases, run=_backward_run, reference=_backward_reference,
    hints=(
        Hint("Every gradient is 0: seed the output first, root.grad = 1.0 (d root / d root "
             "= 1); without it every _backward passes on 0.",
             mistake=lambda c: _backward_walk(c, 0.0, reverse=True)),
        Hint("Walk the topological order REVERSED (the root first): a node must have all of "
             "its gradient before its _backward passes it on.",
             mistake=lambda c: _backward_walk(c, 1.0, reverse=False)),
    ),
    tips=("Two steps: root.grad = 1.0, then a loop over the nodes calling node._backward().",
          "The order: topo_sort(root) puts the root last; you need it first: reversed(...)."),
    shortcuts=refuse("backward", "walk the graph yourself", AUTOGRAD),
)


# -- matmul_backward(A, B, grad_out) ---------------------------------------------------------
def _matmul_cases(seed: int) -> list[Case]:
    g = gen(seed, 1404)
    n, k, m, b = (int(v) for v in g.choice(np.arange(2, 7), size=4, replace=False))
    return [Case(f"A ({n}, {k}) @ B ({k}, {m})",
                 {"A": normal(g, n, k), "B": normal(g, k, m), "grad_out": normal(g, n, m)}),
            Case(f"a batch: A ({b}, {n}, {k}) @ B ({k}, {m}), B shared by the batch",
                 {"A": normal(g, b, n, k), "B": normal(g, k, m),
                  "grad_out": normal(g, b, n, m)}),
            Case(f"A ({n}, {k}) @ B ({b}, {k}, {m}), A shared by the batch",
                 {"A": normal(g, n, k), "B": normal(g, b, k, m),
                  "grad_out": normal(g, b, n, m)})]


def _matmul_reference(case: Case) -> dict:
    i = case.inputs
    A = autograd.Tensor(i["A"], requires_grad=True)
    B = autograd.Tensor(i["B"], requires_grad=True)
    (A @ B).backward(i["grad_out"])
    return {"dA": A.grad, "dB": B.grad}


def _matmul_unsummed(case: Case) -> dict | None:
    i = case.inputs
    if i["A"].ndim == i["B"].ndim:
        return None
    dA = i["grad_out"] @ np.swapaxes(i["B"], -1, -2)
    dB = np.swapaxes(i["A"], -1, -2) @ i["grad_out"]
    return {"dA": dA, "dB": dB}


def _matmul_mean(case: Case) -> dict | None:
    i = case.inputs
    if i["A"].ndim == i["B"].ndim:
        return None
    out = _matmul_reference(case)
    batch = i["grad_out"].shape[0]
    key = "dB" if i["A"].ndim > i["B"].ndim else "dA"
    out[key] = out[key] / batch
    return out


MATMUL_BACKWARD = Spec(
    grade_id="matmul_backward", assignment=ASSIGNMENT, name="matmul_backward", points=2,
    task="C = A @ B with A (..., N, K), B (..., K, M) broadcast over the batch: return "
         "(dA, dB), each the shape of its input, from grad_out = dL/dC (..., N, M)",
    make_cases=_matmul_cases,
    run=lambda ns, case: as_parts(call(ns, case, "matmul_backward", "A", "B", "grad_out"),
                                  ("dA", "dB"), "what `matmul_backward` returned"),
    reference=_matmul_reference,
    hints=(
        Hint("A matrix shared by the whole batch is used once per batch entry: sum its "
             "gradient over the batch axis, so it has the input's own shape.",
             mistake=_matmul_unsummed),
        Hint("Sum over the batch, don't average: each use adds its share (the 1/N of a mean "
             "loss is already inside grad_out).", mistake=_matmul_mean),
        Hint("Check the shapes: dA = grad_out @ Bᵀ is (..., N, M) @ (..., M, K); dB = Aᵀ @ "
             "grad_out is (..., K, N) @ (..., N, M). Transpose the LAST two axes "
             "(np.swapaxes(X, -1, -2)), not .T, which reverses all of them.",
             errors=("ValueError",)),
    ),
    tips=("Start from lesson 04's rule for one matrix: dA = G Bᵀ, dB = Aᵀ G, with G = "
          "grad_out. `@` works on stacks of matrices the same way.",
          "Transpose only the last two axes: np.swapaxes(B, -1, -2).",
          "If a gradient has more axes than its input, the input was broadcast: sum the "
          "extra leading axes away (.sum(axis=0) until the shapes agree)."),
    shortcuts=refuse("matmul_backward", "write the two products and the sum yourself",
                      AUTOGRAD),
)

SPECS = [VALUE_BACKWARD, TOPO_SORT, BACKWARD, MATMUL_BACKWARD]
