"""Exercise 03: MSE, a stable softmax and cross-entropy, with their gradients."""
from __future__ import annotations

import numpy as np

from ... import nn
from ..spec import Case, Hint, Spec, as_float
from ._common import call, call_array, gen, names, normal, reached, refuse

ASSIGNMENT = "03_loss_functions"
OVERFLOW = ("FloatingPointError", "OverflowError")


# -- MSE ----------------------------------------------------------------------
def _mse_cases(seed: int) -> list[Case]:
    g = gen(seed, 301)
    n = int(g.integers(3, 8))
    k = int(g.integers(2, 4))
    return [Case(f"{n} predictions", {"y_hat": normal(g, n), "y": normal(g, n)}),
            Case(f"a ({n}, {k}) array of predictions",
                 {"y_hat": normal(g, n, k), "y": normal(g, n, k)})]


def _mse(case: Case) -> tuple[float, np.ndarray]:
    loss_fn = nn.MSELoss()
    loss = loss_fn(case.inputs["y_hat"], case.inputs["y"])
    return loss, loss_fn.backward()


def _diff(case: Case) -> np.ndarray:
    return case.inputs["y_hat"] - case.inputs["y"]


MSE_LOSS = Spec(
    grade_id="mse_loss", assignment=ASSIGNMENT, name="mse_loss", points=1,
    task="mean squared error: mean((y_hat - y)^2) over every entry -> a number",
    make_cases=_mse_cases,
    run=lambda ns, case: as_float(call(ns, case, "mse_loss", "y_hat", "y"),
                                  "what `mse_loss` returned"),
    reference=lambda case: _mse(case)[0],
    hints=(
        Hint("You summed the squared errors; the loss is their mean (divide by the "
             "number of entries, y.size).", mistake=lambda c: float(np.sum(_diff(c) ** 2))),
        Hint("Square the differences before averaging.",
             mistake=lambda c: float(np.mean(_diff(c)))),
        Hint("Square the differences, not their absolute values (that would be the MAE).",
             mistake=lambda c: float(np.mean(np.abs(_diff(c))))),
    ),
    tips=("Take the differences y_hat - y, square them, average them.",
          "np.mean averages over every entry of an array, whatever its shape."),
    shortcuts=refuse("mse_loss", "write the mean of the squared differences yourself",
                      (names("MSELoss"), "`nn.MSELoss`, the engine's own loss"),
                      (names("mean_squared_error"), "scikit-learn's `mean_squared_error`")),
)

MSE_GRAD = Spec(
    grade_id="mse_grad", assignment=ASSIGNMENT, name="mse_grad", points=2,
    task="d mse / d y_hat = 2 (y_hat - y) / N, N the number of entries; same shape as y_hat",
    make_cases=_mse_cases,
    run=lambda ns, case: call_array(ns, case, "mse_grad", "y_hat", "y"),
    reference=lambda case: _mse(case)[1],
    hints=(
        Hint("A missing 1/N: the loss is a mean over N = y_hat.size entries, so each "
             "entry's gradient is divided by N.", mistake=lambda c: 2 * _diff(c)),
        Hint("A missing factor 2: the derivative of d^2 is 2d.",
             mistake=lambda c: _diff(c) / _diff(c).size),
        Hint("The gradient has the wrong sign: it is 2 (y_hat - y) / N, pointing to where "
             "the loss grows.", mistake=lambda c: -2 * _diff(c) / _diff(c).size),
        Hint("N is the number of entries (y_hat.size), not the number of rows: the mean "
             "runs over every entry.", mistake=lambda c: 2 * _diff(c) / len(_diff(c))),
    ),
    tips=("Differentiate mean(d^2) with respect to one entry d_i: only one term depends "
          "on it.",
          "d/d(d_i) of (1/N) sum_j d_j^2 is 2 d_i / N."),
    shortcuts=refuse("mse_grad", "write the gradient yourself, 2 (y_hat - y) / N",
                      (names("MSELoss"), "`nn.MSELoss`, the engine's own loss, whose "
                       "backward pass is this gradient")),
)


# -- softmax ------------------------------------------------------------------
def _score_cases(salt: int, with_targets: bool):
    def make(seed: int) -> list[Case]:
        g = gen(seed, salt)
        n, c = (int(v) for v in g.choice(np.arange(2, 7), size=2, replace=False))
        k = int(g.integers(3, 5))
        cases = [(f"N={n} samples, C={c} classes", normal(g, n, c, scale=2.0)),
                 (f"N=C={k}: as many samples as classes", normal(g, k, k, scale=2.0)),
                 ("very large scores, around 1000", 1000 + normal(g, 3, 4, scale=5.0))]
        out = []
        for label, z in cases:
            inputs = {"z": z}
            if with_targets:
                inputs["y"] = g.integers(0, z.shape[1], size=z.shape[0]).astype(np.int64)
            out.append(Case(label, inputs))
        return out
    return make


def _softmax_axis0(case: Case) -> np.ndarray:
    e = np.exp(case.inputs["z"] - case.inputs["z"].max())
    return e / e.sum(axis=0, keepdims=True)


def _softmax_no_keepdims(case: Case) -> np.ndarray | None:
    z = case.inputs["z"]
    if z.shape[0] != z.shape[1]:
        return None
    e = np.exp(z - z.max())
    return e / e.sum(axis=1)


SOFTMAX = Spec(
    grade_id="softmax", assignment=ASSIGNMENT, name="softmax", points=2,
    task="softmax of each row of z (N, C): exp(z) / sum of exp(z) over the row, stable",
    make_cases=_score_cases(303, with_targets=False),
    run=lambda ns, case: call_array(ns, case, "softmax", "z", strict=True),
    reference=lambda case: nn.Softmax(dim=1)(case.inputs["z"]),
    hints=(
        Hint("exp(1000) overflows. Subtract each row's maximum first "
             "(z - z.max(axis=1, keepdims=True)): softmax does not change, and the "
             "largest exponent becomes exp(0) = 1.", errors=OVERFLOW),
        Hint("You normalised over the columns (axis=0); each ROW is one sample and must "
             "sum to 1: sum with axis=1.", mistake=_softmax_axis0),
        Hint("The row sums need keepdims=True (shape (N, 1)), otherwise they broadcast "
             "along the wrong axis.", mistake=_softmax_no_keepdims),
    ),
    tips=("Each row is one sample: its C entries must become positive and sum to 1.",
          "Subtracting a constant from a row does not change its softmax; subtract the "
          "row's max so no exponent is positive.",
          "Use keepdims=True in max and sum: the (N, 1) results then broadcast over each "
          "row."),
    shortcuts=refuse("softmax", "write the stable softmax yourself, row by row",
                      (names("Softmax"), "`nn.Softmax`, the engine's own layer"),
                      (reached("softmax|log_softmax", "functional", "F", "special"),
                       "a ready-made softmax (`nn.functional.softmax`, or SciPy's)")),
)


# -- cross-entropy --------------------------------------------------------------
def _ce(case: Case) -> tuple[float, np.ndarray]:
    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn(case.inputs["z"], case.inputs["y"])
    return loss, loss_fn.backward()


def _probs(case: Case) -> np.ndarray:
    return nn.Softmax(dim=1)(case.inputs["z"])


def _onehot(case: Case) -> np.ndarray:
    z, y = case.inputs["z"], case.inputs["y"]
    out = np.zeros_like(z)
    out[np.arange(len(y)), y] = 1
    return out


CROSS_ENTROPY = Spec(
    grade_id="cross_entropy", assignment=ASSIGNMENT, name="cross_entropy", points=2,
    task="mean over samples of -log softmax(z)[y]: z (N, C) scores, y (N,) classes -> a number",
    make_cases=_score_cases(304, with_targets=True),
    run=lambda ns, case: as_float(call(ns, case, "cross_entropy", "z", "y", strict=True),
                                  "what `cross_entropy` returned"),
    reference=lambda case: _ce(case)[0],
    hints=(
        Hint("log(softmax) underflows to log(0) for large scores. Use log-sum-exp: "
             "-log softmax(z)[y] = log(sum(exp(z - m))) + m - z[y], with m the row max.",
             errors=OVERFLOW),
        Hint("You summed over the samples; the loss is the mean over the N samples.",
             mistake=lambda c: _ce(c)[0] * len(c.inputs["y"])),
        Hint("The sign is wrong: the loss is MINUS the log-probability of the right "
             "class, so it is positive.", mistake=lambda c: -_ce(c)[0]),
    ),
    tips=("For each sample n, take the log-probability of its true class y[n].",
          "Pick one entry per row with fancy indexing: logp[np.arange(N), y].",
          "logp = z - m - log(sum(exp(z - m))) with m = z.max(axis=1, keepdims=True)."),
    shortcuts=refuse("cross_entropy", "compute the log-probabilities yourself, stably "
                      "(log-sum-exp)",
                      (names("CrossEntropyLoss"), "`nn.CrossEntropyLoss`, the engine's own loss"),
                      (reached("softmax|log_softmax", "functional", "F", "special"),
                       "a ready-made softmax (`nn.functional.log_softmax`, or SciPy's)"),
                      (names("logsumexp", "log_loss"),
                       "a ready-made log-sum-exp or log loss (SciPy's `logsumexp`, "
                       "scikit-learn's `log_loss`)")),
)

CROSS_ENTROPY_GRAD = Spec(
    grade_id="cross_entropy_grad", assignment=ASSIGNMENT, name="cross_entropy_grad", points=2,
    task="d loss / d z = (softmax(z) - onehot(y)) / N, shape (N, C)",
    make_cases=_score_cases(305, with_targets=True),
    run=lambda ns, case: call_array(ns, case, "cross_entropy_grad", "z", "y", strict=True),
    reference=lambda case: _ce(case)[1],
    hints=(
        Hint("A missing 1/N: the loss is a mean over N samples, so divide the gradient "
             "by N.", mistake=lambda c: _probs(c) - _onehot(c)),
        Hint("The gradient has the wrong sign: it is softmax(z) - onehot(y), not the "
             "other way round.", mistake=lambda c: -_ce(c)[1]),
        Hint("Subtract 1 at each sample's true class: (softmax(z) - onehot(y)) / N.",
             mistake=lambda c: _probs(c) / len(c.inputs["y"])),
        Hint("Use your stable softmax from above: exp of large scores overflows.",
             errors=OVERFLOW),
    ),
    tips=("The gradient of softmax plus cross-entropy is remarkably simple: "
          "probabilities minus targets.",
          "Copy p = softmax(z), subtract 1 at p[np.arange(N), y], divide by N."),
    shortcuts=refuse("cross_entropy_grad", "write (softmax(z) - onehot(y)) / N yourself",
                      (names("CrossEntropyLoss"), "`nn.CrossEntropyLoss`, the engine's own "
                       "loss, whose backward pass is this gradient")),
)

SPECS = [MSE_LOSS, MSE_GRAD, SOFTMAX, CROSS_ENTROPY, CROSS_ENTROPY_GRAD]
