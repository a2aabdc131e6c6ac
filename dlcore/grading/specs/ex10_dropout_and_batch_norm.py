"""Exercise 10: inverted dropout forward and backward (given the mask), and batch
normalisation forward (training and evaluation, running statistics as PyTorch) and
backward."""
from __future__ import annotations

import numpy as np

from ... import nn, rng
from ..spec import Case, Credit, Hint, Spec, as_parts
from ._common import call, call_array, gen, keep_rng, names, normal, refuse

ASSIGNMENT = "10_dropout_and_batch_norm"


# -- dropout --------------------------------------------------------------------------------
def _dropout_cases(seed: int, salt: int) -> list[Case]:
    g = gen(seed, salt)
    cases = []
    for p, train in ((0.5, True), (0.2, True), (0.3, False)):
        n, d = (int(v) for v in g.integers(3, 7, size=2))
        draw = int(g.integers(0, 2**31))
        with keep_rng():                      # the mask nn.Dropout draws after this seed
            rng.manual_seed(draw)
            keep = nn.Dropout(p)(np.ones((n, d))) != 0
        mode = "training" if train else "evaluation"
        cases.append(Case(f"({n}, {d}), p={p}, {mode}",
                          {"x": normal(g, n, d), "grad_out": normal(g, n, d), "p": p,
                           "keep": keep, "train": train, "draw": draw}))
    return cases


def _dropout(i: dict, backward: bool = False) -> np.ndarray:
    """nn.Dropout on the case, with the generator seeded as when the mask was drawn."""
    with keep_rng():
        rng.manual_seed(i["draw"])
        layer = nn.Dropout(i["p"])
        layer.train(i["train"])
        out = layer(i["x"])
    return layer.backward(i["grad_out"]) if backward else out


def _dropout_mistake(kind: str, backward: bool = False):
    def mistake(case: Case) -> np.ndarray | None:
        i = case.inputs
        v = i["grad_out"] if backward else i["x"]
        p, keep = i["p"], i["keep"]
        if kind == "not rescaled":
            return v * keep if i["train"] else None
        if kind == "by p":
            return v * keep / p if i["train"] else None
        if kind == "inverted mask":
            return v * ~keep / (1 - p) if i["train"] else None
        if kind == "in eval":
            return None if i["train"] else v * keep / (1 - p)
        if kind == "no mask":
            return v / (1 - p) if i["train"] else None
        raise ValueError(kind)
    return mistake


DROPOUT_HINTS = (
    Hint("The kept values are not rescaled: inverted dropout divides them by the keep "
         "probability 1 - p, so the expected output equals the input and nothing changes "
         "at test time.", mistake=_dropout_mistake("not rescaled")),
    Hint("Divide by the probability of KEEPING a value, 1 - p, not by p.",
         mistake=_dropout_mistake("by p")),
    Hint("The mask is the other way round: `keep` is True where a value is KEPT.",
         mistake=_dropout_mistake("inverted mask")),
    Hint("In evaluation (train=False) dropout does nothing: return the input as it is, "
         "no mask, no scaling.", mistake=_dropout_mistake("in eval")),
)

DROPOUT_FORWARD = Spec(
    grade_id="dropout_forward", assignment=ASSIGNMENT, name="dropout_forward", points=2,
    task="inverted dropout of x with the boolean mask keep (True = kept) and drop "
         "probability p in training; the identity in evaluation (train=False)",
    make_cases=lambda seed: _dropout_cases(seed, 1001),
    run=lambda ns, case: call_array(ns, case, "dropout_forward", "x", "p", "keep", "train"),
    reference=lambda case: _dropout(case.inputs),
    hints=DROPOUT_HINTS,
    tips=("In training, a dropped value becomes 0 and a kept one is scaled up so that its "
          "expected value does not change.",
          "A value survives with probability 1 - p; what factor brings its mean back?",
          "In evaluation every unit is used, as it is."),
    shortcuts=refuse("dropout_forward", "apply the mask and the 1 / (1 - p) scale yourself",
                      (names("Dropout"), "`nn.Dropout`, the engine's own layer")),
)

DROPOUT_BACKWARD = Spec(
    grade_id="dropout_backward", assignment=ASSIGNMENT, name="dropout_backward", points=1,
    task="dL/dx of dropout_forward given dL/dout (grad_out), the same mask keep, p and train",
    make_cases=lambda seed: _dropout_cases(seed, 1002),
    run=lambda ns, case: call_array(ns, case, "dropout_backward", "grad_out", "p", "keep",
                                    "train"),
    reference=lambda case: _dropout(case.inputs, backward=True),
    hints=(*(Hint(h.text, mistake=_dropout_mistake(kind, backward=True)) for h, kind in zip(
        DROPOUT_HINTS, ("not rescaled", "by p", "inverted mask", "in eval"), strict=True)),
           Hint("Dropped values did not reach the output, so they get no gradient: multiply "
                "by the mask as in the forward pass.",
                mistake=_dropout_mistake("no mask", backward=True))),
    tips=("Dropout multiplies each value by a constant (0 or 1 / (1 - p)); the gradient is "
          "multiplied by the same constant.",),
    shortcuts=refuse("dropout_backward", "write the gradient yourself, with the same "
                      "mask and scale",
                      (names("Dropout"), "`nn.Dropout`, the engine's own layer and its "
                       "backward pass")),
)


# -- batch norm forward -----------------------------------------------------------------------
BN_KEYS = ("out", "running_mean", "running_var")
BN_ARGS = ("x", "gamma", "beta", "running_mean", "running_var", "momentum", "eps", "train")


def _bn_cases(seed: int) -> list[Case]:
    g = gen(seed, 1003)
    d = int(g.integers(2, 5))
    cases = []
    for n, train in ((int(g.integers(5, 9)), True), (3, True), (int(g.integers(3, 6)), False)):
        mode = "training" if train else "evaluation"
        cases.append(Case(f"N={n}, D={d}, {mode}",
                          {"x": normal(g, n, d, scale=2.0) + normal(g, d),
                           "gamma": 1 + normal(g, d, scale=0.3), "beta": normal(g, d),
                           "running_mean": normal(g, d),
                           "running_var": 0.5 + np.abs(normal(g, d)),
                           "momentum": 0.1, "eps": 1e-5, "train": train}))
    return cases


def _bn(i: dict) -> nn.BatchNorm1d:
    """An engine BatchNorm1d holding the case's parameters and running statistics."""
    with keep_rng():
        bn = nn.BatchNorm1d(i["x"].shape[1], eps=i["eps"], momentum=i["momentum"])
    bn.double()
    bn.weight.data = np.array(i["gamma"], dtype=np.float64)
    bn.bias.data = np.array(i["beta"], dtype=np.float64)
    bn.running_mean = np.array(i["running_mean"], dtype=np.float64)
    bn.running_var = np.array(i["running_var"], dtype=np.float64)
    bn.train(bool(i.get("train", True)))
    return bn


def _bn_forward(case: Case) -> dict:
    bn = _bn(case.inputs)
    out = bn(case.inputs["x"])
    return {"out": out, "running_mean": bn.running_mean, "running_var": bn.running_var}


def _bn_mistake(kind: str):
    """A batch norm forward with one slip, written out for the hints."""
    def mistake(case: Case) -> dict | None:
        i = case.inputs
        x, m, rm, rv = i["x"], i["momentum"], i["running_mean"], i["running_var"]
        n = len(x)
        mean, var = x.mean(axis=0), x.var(axis=0)
        unbiased = var * n / (n - 1)
        norm_mean, norm_var = mean, var
        new_mean, new_var = (1 - m) * rm + m * mean, (1 - m) * rv + m * unbiased
        if kind == "eval uses the batch":
            if i["train"]:
                return None
            new_mean, new_var = rm, rv
        elif not i["train"]:
            return None
        elif kind == "biased running var":
            new_var = (1 - m) * rv + m * var
        elif kind == "unbiased to normalise":
            norm_var = unbiased
        elif kind == "momentum swapped":
            new_mean, new_var = m * rm + (1 - m) * mean, m * rv + (1 - m) * unbiased
        elif kind == "not updated":
            new_mean, new_var = rm, rv
        out = i["gamma"] * (x - norm_mean) / np.sqrt(norm_var + i["eps"]) + i["beta"]
        return {"out": out, "running_mean": new_mean, "running_var": new_var}
    return mistake


BATCHNORM_FORWARD = Spec(
    grade_id="batchnorm_forward", assignment=ASSIGNMENT, name="batchnorm_forward", points=3,
    task="(out, running_mean, running_var) of batch norm on x (N, D): batch statistics and a "
         "momentum update of the running ones in training, the running ones in evaluation",
    make_cases=_bn_cases,
    run=lambda ns, case: as_parts(call(ns, case, "batchnorm_forward", *BN_ARGS), BN_KEYS,
                                  "what `batchnorm_forward` returned"),
    reference=_bn_forward,
    hints=(
        Hint("In evaluation, normalise with the RUNNING mean and variance, not with the "
             "batch's: at test time a prediction must not depend on the other samples in "
             "the batch.", mistake=_bn_mistake("eval uses the batch")),
        Hint("The running variance is updated with the UNBIASED batch variance (times "
             "N / (N - 1)), as PyTorch does; the normalisation itself uses the biased one.",
             mistake=_bn_mistake("biased running var")),
        Hint("Normalise with the BIASED batch variance (x.var(axis=0), divided by N); only "
             "the running variance gets the unbiased one.",
             mistake=_bn_mistake("unbiased to normalise")),
        Hint("momentum is the weight of the NEW batch: running = (1 - momentum) * running + "
             "momentum * batch statistic.", mistake=_bn_mistake("momentum swapped")),
        Hint("In training, the running statistics must move towards the batch's "
             "(return the updated ones).", mistake=_bn_mistake("not updated")),
    ),
    tips=("Training: mean and variance over the batch (axis 0), one per feature; normalise, "
          "scale by gamma, shift by beta.",
          "Training also updates the running statistics; evaluation uses them and leaves "
          "them as they are.",
          "Two variances: the biased one (divide by N) normalises; the unbiased one (divide "
          "by N - 1) goes into the running variance."),
    shortcuts=refuse("batchnorm_forward", "normalise with the batch's statistics "
                      "yourself and move the running ones",
                      (names(r"BatchNorm\w*"), "`nn.BatchNorm1d`, the engine's own layer")),
)


# -- batch norm backward ------------------------------------------------------------------------
BN_BACK_KEYS = ("dx", "dgamma", "dbeta")


def _bn_back_cases(seed: int) -> list[Case]:
    g = gen(seed, 1004)
    n, d = int(g.integers(4, 9)), int(g.integers(2, 5))
    return [Case(f"N={n}, D={d}, training",
                 {"grad_out": normal(g, n, d), "x": normal(g, n, d, scale=2.0) + normal(g, d),
                  "gamma": 1 + normal(g, d, scale=0.3), "beta": normal(g, d),
                  "running_mean": np.zeros(d), "running_var": np.ones(d),
                  "momentum": 0.1, "eps": 1e-5})]


def _bn_backward(i: dict, constant_stats: bool = False) -> dict:
    bn = _bn(i)
    if constant_stats:    # evaluation with the batch's own statistics: mean, var constants
        bn.running_mean, bn.running_var = i["x"].mean(axis=0), i["x"].var(axis=0)
        bn.eval()
    bn(i["x"])
    dx = bn.backward(i["grad_out"])
    return {"dx": dx, "dgamma": bn.weight.grad, "dbeta": bn.bias.grad}


def _dgamma_from_x(case: Case) -> dict:
    out = _bn_backward(case.inputs)
    out["dgamma"] = (case.inputs["grad_out"] * case.inputs["x"]).sum(axis=0)
    return out


def _times_n(case: Case) -> dict:
    out = _bn_backward(case.inputs)
    out["dx"] = out["dx"] * len(case.inputs["x"])
    return out


BATCHNORM_BACKWARD = Spec(
    grade_id="batchnorm_backward", assignment=ASSIGNMENT, name="batchnorm_backward", points=3,
    credit=Credit.PER_OUTPUT,  # dx, dgamma and dbeta earn a point each
    task="(dx (N, D), dgamma (D,), dbeta (D,)) of batch norm in training, where the mean and "
         "variance are the batch's and so depend on x",
    make_cases=_bn_back_cases,
    run=lambda ns, case: as_parts(
        call(ns, case, "batchnorm_backward", "grad_out", "x", "gamma", "beta", "eps"),
        BN_BACK_KEYS, "what `batchnorm_backward` returned"),
    reference=lambda case: _bn_backward(case.inputs),
    hints=(
        Hint("dx treats the mean and variance as constants: in training they are computed "
             "from x, so every x_i also moves them. dx has two more terms: minus the mean of "
             "dx_hat, minus x_hat times the mean of (dx_hat * x_hat), all over the std.",
             mistake=lambda c: _bn_backward(c.inputs, constant_stats=True)),
        Hint("dgamma multiplies grad_out by the NORMALISED x (x_hat), the value gamma "
             "scales.", mistake=_dgamma_from_x),
        Hint("A missing 1/N: the mean and variance are averages over the N samples, so "
             "their terms carry 1/N (np.mean, or a sum divided by N).", mistake=_times_n),
    ),
    tips=("Recompute the forward pass first: the batch mean, the biased variance, the std "
          "(with eps) and the normalised x_hat.",
          "dbeta is grad_out summed over the batch; dgamma the same for grad_out times x_hat; "
          "the gradient reaching x_hat is grad_out times gamma.",
          "dx has three terms, all divided by the std: dx_hat itself, minus its mean over the "
          "batch, minus x_hat times the batch mean of dx_hat times x_hat."),
    shortcuts=refuse("batchnorm_backward", "write the three gradients yourself",
                      (names(r"BatchNorm\w*"), "`nn.BatchNorm1d`, the engine's own layer and "
                       "its backward pass")),
)

SPECS = [DROPOUT_FORWARD, DROPOUT_BACKWARD, BATCHNORM_FORWARD, BATCHNORM_BACKWARD]
