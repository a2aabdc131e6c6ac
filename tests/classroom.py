"""A generated class for exercise 04 (backward pass): honest learners in many styles, a
few with typical mistakes, and planted copies, as notebooks a teacher would collect.

    python tests/classroom.py OUT_DIR [N]   # writes OUT_DIR/submitted/ (nbgrader layout)

Each honest learner draws, per part, an approach (a mask or ``np.where``, a one-hot
matrix or index arithmetic, ``np.ndindex`` or ``np.nditer`` ...), their own variable
names, their own habits (comments or none, intermediate variables, the order of
independent lines) and, now and then, a typical mistake. A copy is made the way people
copy: take a classmate's cells as text, rename the variables, reorder independent lines,
rewrite or drop the comments (``disguise``). Nothing here knows how the detector works.
"""
from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field

import numpy as np

ASSIGNMENT = "04_backward_pass"
PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARTS = ("linear_backward", "relu_backward", "two_layer_backward", "numerical_gradient")

COMMENTS = ["# gradient wrt the weights", "# chain rule", "# backprop through the layer",
            "# see lecture 4", "# dL/dW = g^T x", "# sum over the batch",
            "# TODO tidy up", "# this took me a while", "# shapes: (N, M) and (N, D)"]


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


@dataclass
class Writer:
    """One learner's habits."""

    rng: np.random.Generator
    comments: float = 0.3  # chance of a comment above a line
    lines: list[str] = field(default_factory=list)

    def add(self, line: str, indent: int = 0) -> None:
        if self.rng.random() < self.comments and not line.startswith(("return", "for", "while")):
            self.lines.append("    " * indent + _pick(self.rng, COMMENTS))
        self.lines.append("    " * indent + line)

    def text(self) -> str:
        return "\n".join(self.lines)


def linear_backward(rng: np.random.Generator, w: Writer, mistake: bool) -> str:
    x = _pick(rng, ["x", "inp", "X", "cached", "a_prev", "x_in"])
    g = "grad_out"
    saved = _pick(rng, ["self._saved()", "self._cache"])
    w.add(f"{x} = {saved}")
    style = int(rng.integers(5))
    dw = _pick(rng, ["dW", "grad_W", "dw", "weight_grad", "gW"])
    db = _pick(rng, ["db", "grad_b", "bias_grad", "gb"])
    dx = _pick(rng, ["dx", "grad_x", "dX", "grad_in", "out"])
    if style == 0:
        lines = [f"self.weight.grad += {g}.T @ {x}",
                 f"self.bias.grad += {g}.sum(axis=0)"]
        rng.shuffle(lines)
        for line in lines:
            w.add(line)
        w.add(f"return {g} @ self.weight.data")
    elif style == 1:
        lines = [f"{dw} = np.dot({g}.T, {x})", f"{db} = np.sum({g}, axis=0)",
                 f"{dx} = np.dot({g}, self.weight.data)"]
        rng.shuffle(lines)
        for line in lines:
            w.add(line)
        w.add(f"self.weight.grad += {dw}")
        w.add(f"self.bias.grad += {db}" if not mistake else f"self.bias.grad = {db}")
        w.add(f"return {dx}")
    elif style == 2:
        n = _pick(rng, ["n", "i", "k", "row"])
        w.add(f"for {n} in range({g}.shape[0]):")
        w.add(f"self.weight.grad += np.outer({g}[{n}], {x}[{n}])", 1)
        w.add(f"self.bias.grad += {g}[{n}]", 1)
        w.add(f"return {g} @ self.weight.data")
    elif style == 3:
        dw_, db_ = "self.weight.grad", "self.bias.grad"
        w.add(f"{dw_}[...] = {dw_} + {x}.T.dot({g}).T" if rng.random() < 0.5
              else f"{dw_} += ({x}.T @ {g}).T")
        w.add(f"{db_} += {g}.sum(0)" if rng.random() < 0.5 else f"{db_} += {g}.sum(axis=0)")
        w.add(f"{dx} = {g}.dot(self.weight.data)")
        w.add(f"return {dx}")
    else:
        w.add(f"self.weight.grad += np.einsum('nm,nd->md', {g}, {x})")
        w.add(f"self.bias.grad += np.einsum('nm->m', {g})")
        w.add(f"{dx} = np.einsum('nm,md->nd', {g}, self.weight.data)")
        w.add(f"return {dx}")
    return w.text()


def relu_backward(rng: np.random.Generator, w: Writer, mistake: bool) -> str:
    style = int(rng.integers(5))
    m = _pick(rng, ["mask", "m", "positive", "active", "on"])
    d = _pick(rng, ["dx", "grad", "result", "grad_in", "out"])
    cut = ">=" if mistake else ">"
    if style == 0:
        w.add(f"return grad_out * (x {cut} 0)")
    elif style == 1:
        w.add(f"return np.where(x {cut} 0, grad_out, 0.0)")
    elif style == 2:
        w.add(f"{d} = grad_out.copy()")
        w.add(f"{d}[x {'<' if mistake else '<='} 0] = 0")
        w.add(f"return {d}")
    elif style == 3:
        w.add(f"{m} = (x {cut} 0).astype(float)")
        w.add(f"return {m} * grad_out")
    else:
        w.add(f"return grad_out * np.heaviside(x, {1.0 if mistake else 0.0})")
    return w.text()


def two_layer_backward(rng: np.random.Generator, w: Writer, mistake: bool) -> str:
    names = {"N": _pick(rng, ["N", "n", "batch", "m", "num"]),
             "h": _pick(rng, ["h", "z1", "hidden_pre", "pre1", "s1"]),
             "a": _pick(rng, ["a", "a1", "hidden", "relu_out", "h_relu"]),
             "z": _pick(rng, ["z", "z2", "scores", "logits", "out"]),
             "p": _pick(rng, ["p", "probs", "P", "soft", "y_hat"]),
             "dz": _pick(rng, ["dz", "dscores", "dlogits", "delta2", "d_out"]),
             "dh": _pick(rng, ["dh", "dhidden", "delta1", "d_pre", "dz1"]),
             "da": _pick(rng, ["da", "dhid", "d_a1", "grad_a"])}
    N, h, a, z, p, dz, dh, da = (names[k] for k in ("N", "h", "a", "z", "p", "dz", "dh", "da"))
    w.add(f"{N} = {_pick(rng, ['len(y)', 'X.shape[0]', 'y.shape[0]'])}")
    w.add(f"{h} = {_pick(rng, ['X @ W1.T + b1', 'np.dot(X, W1.T) + b1', 'X.dot(W1.T) + b1'])}")
    relu = int(rng.integers(3))
    w.add(f"{a} = " + ["np.maximum(0, {h})", "np.maximum({h}, 0.0)",
                       "{h} * ({h} > 0)"][relu].format(h=h))
    w.add(f"{z} = {_pick(rng, [f'{a} @ W2.T + b2', f'np.dot({a}, W2.T) + b2'])}")
    own_softmax = rng.random() < 0.5
    if own_softmax:
        e = _pick(rng, ["e", "exp", "ez", "unnorm"])
        w.add(f"{e} = np.exp({z} - {z}.max(axis=1, keepdims=True))")
        w.add(f"{p} = {e} / {e}.sum(axis=1, keepdims=True)")
    else:
        w.add(f"{p} = softmax({z})")
    onehot = rng.random() < 0.5
    if onehot:
        t = _pick(rng, ["Y", "onehot", "T", "targets", "y1h"])
        w.add(f"{t} = np.zeros_like({p})")
        w.add(f"{t}[np.arange({N}), y] = 1")
        w.add(f"loss = float(-np.sum({t} * np.log({p})) / {N})")
        w.add(f"{dz} = ({p} - {t})" + ("" if mistake else f" / {N}"))
    else:
        w.add(f"loss = float(-np.log({p}[np.arange({N}), y]).mean())")
        w.add(f"{dz} = {p}.copy()")
        w.add(f"{dz}[np.arange({N}), y] -= 1")
        if not mistake:
            w.add(f"{dz} /= {N}" if rng.random() < 0.5 else f"{dz} = {dz} / {N}")
    second = [f"dW2 = {dz}.T @ {a}",
              f"db2 = {_pick(rng, [f'{dz}.sum(axis=0)', f'np.sum({dz}, axis=0)'])}"]
    rng.shuffle(second)
    for line in second:
        w.add(line)
    if rng.random() < 0.5:
        w.add(f"{da} = {dz} @ W2")
        w.add(f"{dh} = " + _pick(rng, [f"{da} * ({h} > 0)", f"np.where({h} > 0, {da}, 0)"]))
    else:
        w.add(f"{dh} = ({dz} @ W2) * ({h} > 0)")
    first = [f"dW1 = {dh}.T @ X",
             f"db1 = {_pick(rng, [f'{dh}.sum(axis=0)', f'np.sum({dh}, axis=0)'])}"]
    rng.shuffle(first)
    for line in first:
        w.add(line)
    w.add("return loss, dW1, db1, dW2, db2")
    return w.text()


def numerical_gradient(rng: np.random.Generator, w: Writer, mistake: bool) -> str:
    grad = _pick(rng, ["grad", "g", "num_grad", "dx", "result"])
    i = _pick(rng, ["i", "idx", "ix", "index", "pos"])
    old = _pick(rng, ["old", "orig", "saved", "tmp", "value"])
    plus, minus = _pick(rng, [("plus", "minus"), ("fp", "fm"), ("f_plus", "f_minus"),
                              ("up", "down"), ("fxph", "fxmh")])
    step = "eps" if mistake else _pick(rng, ["2 * eps", "2.0 * eps", "eps * 2"])
    w.add(f"{grad} = " + _pick(rng, ["np.zeros_like(x, dtype=float)", "np.zeros(x.shape)",
                                     "np.zeros(x.shape, dtype=float)",
                                     "np.zeros_like(x, dtype=np.float64)"]))
    loop = int(rng.integers(3))
    if loop == 0:
        w.add(f"for {i} in np.ndindex(x.shape):")
    elif loop == 1:
        w.add("it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])")
        w.add("while not it.finished:")
        w.add(f"{i} = it.multi_index", 1)
    else:
        w.add(f"for {i} in range(x.size):")
        w.add(f"{i} = np.unravel_index({i}, x.shape)", 1)
    how = int(rng.integers(3))
    if how == 0:  # change x in place and put it back
        w.add(f"{old} = x[{i}]", 1)
        w.add(f"x[{i}] = {old} + eps", 1)
        w.add(f"{plus} = f(x)", 1)
        w.add(f"x[{i}] = {old} - eps", 1)
        w.add(f"{minus} = f(x)", 1)
        w.add(f"x[{i}] = {old}", 1)
    elif how == 1:  # nudge up, down twice, up again (x may come back off by rounding)
        w.add(f"x[{i}] += eps", 1)
        w.add(f"{plus} = {_pick(rng, ['f(x)', 'float(f(x))'])}", 1)
        w.add(f"x[{i}] -= 2 * eps", 1)
        w.add(f"{minus} = {_pick(rng, ['f(x)', 'float(f(x))'])}", 1)
        w.add(f"x[{i}] += eps", 1)
    else:  # copies, x never touched
        xp, xm = _pick(rng, [("xp", "xm"), ("x_plus", "x_minus"), ("x1", "x2"), ("hi", "lo")])
        w.add(f"{xp} = x.copy()", 1)
        w.add(f"{xm} = x.copy()", 1)
        w.add(f"{xp}[{i}] += eps", 1)
        w.add(f"{xm}[{i}] -= eps", 1)
        w.add(f"{plus}, {minus} = f({xp}), f({xm})", 1)
    if rng.random() < 0.7 or mistake:
        w.add(f"{grad}[{i}] = ({plus} - {minus}) / ({step})", 1)
    else:
        w.add(f"{grad}[{i}] = 0.5 * ({plus} - {minus}) / eps", 1)
    if loop == 1:
        w.add("it.iternext()", 1)
    w.add(f"return {grad}")
    return w.text()


WRITERS = {"linear_backward": linear_backward, "relu_backward": relu_backward,
           "two_layer_backward": two_layer_backward, "numerical_gradient": numerical_gradient}


def honest_answers(rng: np.random.Generator, mistakes: float = 0.15) -> dict[str, str]:
    """One honest learner: {part: the code that replaces the stub's raise line}."""
    habit = float(rng.choice([0.0, 0.0, 0.15, 0.4]))
    return {part: WRITERS[part](rng, Writer(rng, habit), bool(rng.random() < mistakes))
            for part in PARTS}


# -- copying as people copy -------------------------------------------------------
_ASSIGN = re.compile(r"^(\s*)([A-Za-z_]\w*)\s*(?:[-+*/]?=)(?!=)")
_KEEP_NAMES = {"np", "x", "f", "eps", "y", "X", "W1", "W2", "b1", "b2", "grad_out", "self",
               "softmax", "loss", "dW1", "db1", "dW2", "db2", "it", "float", "range", "len"}
SYNONYMS = ["tmp", "val", "res", "thing", "q", "arr", "buf", "acc", "v", "part", "step", "r"]


def disguise(code: str, rng: np.random.Generator) -> str:
    """A copy of ``code`` as a learner hides it: local variables renamed, adjacent
    independent assignments swapped, comments dropped or replaced."""
    names = sorted({m.group(2) for line in code.split("\n")
                    if (m := _ASSIGN.match(line)) and m.group(2) not in _KEEP_NAMES})
    names += sorted({m.group(1) for m in re.finditer(r"\bfor (\w+) in", code)})
    fresh = list(rng.permutation(SYNONYMS))
    for old in dict.fromkeys(names):
        code = re.sub(rf"(?<![.\w]){re.escape(old)}\b", f"{fresh.pop()}_{old[:1]}", code)
    lines = [line for line in code.split("\n") if not line.strip().startswith("#")]
    out: list[str] = []
    for line in lines:
        if rng.random() < 0.2 and not line.strip().startswith("return"):
            out.append(re.match(r"\s*", line).group(0) + _pick(rng, ["# my code", "# step",
                                                                     "# compute it"]))
        out.append(line)
    for i in range(len(out) - 1):
        a, b = _ASSIGN.match(out[i]), _ASSIGN.match(out[i + 1])
        if a and b and a.group(1) == b.group(1) and not re.search(
                rf"\b{re.escape(a.group(2))}\b", out[i + 1]) and not re.search(
                rf"\b{re.escape(b.group(2))}\b", out[i]) and rng.random() < 0.7:
            out[i], out[i + 1] = out[i + 1], out[i]
    return "\n".join(out)


# -- notebooks ----------------------------------------------------------------------
def exercise() -> dict:
    with open(os.path.join(PROJECT, "exercises", f"{ASSIGNMENT}.ipynb"), encoding="utf-8") as f:
        return json.load(f)


def fill(nb: dict, answers: dict[str, str]) -> dict:
    """The exercise notebook with each part's ``raise NotImplementedError`` line replaced
    by the learner's code (indented to its place)."""
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        part = grade_id.removesuffix("_answer")
        if grade_id.endswith("_answer") and part in answers:
            source = "".join(cell["source"])
            out = []
            for line in source.split("\n"):
                if "raise NotImplementedError(" in line:
                    indent = line[: len(line) - len(line.lstrip())]
                    out += [indent + code for code in answers[part].split("\n")]
                else:
                    out.append(line)
            cell["source"] = "\n".join(out)
    return nb


@dataclass
class Class:
    answers: dict[str, dict[str, str]]  # student -> part -> code
    copies: list[tuple[str, str]]  # (original, copier)


def make_class(n_honest: int = 60, n_copies: int = 3, seed: int = 0) -> Class:
    """``n_honest`` independent learners and ``n_copies`` learners who each copied one of
    them (whole notebook, disguised)."""
    rng = np.random.default_rng(seed)
    answers = {f"learner{i:03d}": honest_answers(rng) for i in range(n_honest)}
    copies = []
    sources = rng.choice(n_honest, size=n_copies, replace=False)
    for j, i in enumerate(sources):
        original = f"learner{int(i):03d}"
        copier = f"copier{j}"
        answers[copier] = {p: disguise(code, rng) for p, code in answers[original].items()}
        copies.append((original, copier))
    return Class(answers, copies)


def write_class(klass: Class, submitted: str) -> None:
    """nbgrader's layout: submitted/STUDENT/04_backward_pass/04_backward_pass.ipynb."""
    base = exercise()
    for student, answers in klass.answers.items():
        folder = os.path.join(submitted, student, ASSIGNMENT)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{ASSIGNMENT}.ipynb"), "w", encoding="utf-8") as f:
            json.dump(fill(base, answers), f, indent=1)


if __name__ == "__main__":
    klass = make_class(int(sys.argv[2]) if len(sys.argv) > 2 else 60)
    write_class(klass, os.path.join(sys.argv[1], "submitted"))
    print("copies (original, copier):", klass.copies)
