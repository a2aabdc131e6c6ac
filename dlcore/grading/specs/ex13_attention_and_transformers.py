"""Exercise 13: scaled dot-product attention with a mask, forward and backward; the
causal mask; splitting an embedding into heads and merging them back.

Masks follow ``nn.MultiheadAttention``: boolean, True = the query may NOT look at
that key. Shapes: Q (..., L, E), K (..., S, E), V (..., S, Ev), mask (L, S) or
(..., L, S) or None.
"""
from __future__ import annotations

import numpy as np

from ...nn.attention import (
    attention_backward,
    attention_forward,
    causal_mask,
    mask_to_bias,
    masked_softmax,
    merge_heads,
    split_heads,
)
from ..spec import AnswerError, Case, Credit, Hint, Spec, as_array, as_parts
from ._common import call, gen, names, normal, reached, refuse

ASSIGNMENT = "13_attention_and_transformers"
FORWARD_KEYS = ("out", "weights")
BACKWARD_KEYS = ("dQ", "dK", "dV")
ENGINE = ("attention", "A", "nn", "F", "functional", "dlcore")
ENGINE_FUNCTIONS = ("attention_forward", "attention_backward", "scaled_dot_product_attention",
                    "masked_softmax", "mask_to_bias", "causal_mask", "split_heads",
                    "merge_heads")


def _mask(g: np.random.Generator, *shape: int) -> np.ndarray:
    """A random boolean mask in which every row blocks at least one key and leaves
    at least one free (so the same mask read the wrong way round is still usable)."""
    mask = g.random(shape) < 0.4
    mask[..., 0] = False
    blocked = g.integers(1, shape[-1], size=shape[:-1])
    np.put_along_axis(mask, blocked[..., None], True, axis=-1)
    return mask


def _attention_cases(seed: int, salt: int) -> list[Case]:
    g = gen(seed, salt)
    n, l, s, e = (int(g.integers(2, 4)), int(g.integers(3, 6)), int(g.integers(4, 7)),
                  int(g.integers(3, 7)))
    ev = int(g.integers(2, 5))

    def qkv(*lead: int, length: int = l, source: int = s) -> dict:
        return {"Q": normal(g, *lead, length, e), "K": normal(g, *lead, source, e),
                "V": normal(g, *lead, source, ev)}

    return [
        Case(f"N={n}, L={l} queries, S={s} keys, E={e}, no mask",
             {**qkv(n), "mask": None}),
        Case(f"N={n}, L=S={l}, a causal mask (L, L)",
             {**qkv(n, source=l), "mask": causal_mask(l)}),
        Case(f"N={n}, H=2 heads, L={l}, S={s}: inputs (N, H, L, E), a mask (N, H, L, S)",
             {**qkv(n, 2), "mask": _mask(g, n, 2, l, s)}),
    ]


def _bias(mask, dtype=np.float64):
    return None if mask is None else mask_to_bias(np.asarray(mask, bool), dtype)


def _forward(i: dict, scale: float | None = None, softmax_axis: int = -1,
             after: bool = False, inverted: bool = False) -> dict:
    """The engine's attention, or one of the typical slips for the hints."""
    q, k, v, mask = i["Q"], i["K"], i["V"], i["mask"]
    if mask is not None and inverted:
        mask = ~np.asarray(mask, bool)
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    if softmax_axis == -1 and not after:
        out, weights, _ = attention_forward(q, k, v, _bias(mask), scale)
        return {"out": out, "weights": weights}
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None and not after:
        scores = scores + _bias(mask)
    # masked_softmax normalises the last axis (and gives 0, not NaN, where all is -inf).
    weights = np.swapaxes(masked_softmax(np.swapaxes(scores, -1, softmax_axis)), -1,
                          softmax_axis)
    if mask is not None and after:
        weights = np.where(mask, 0.0, weights)        # zeroed after: rows no longer sum to 1
    return {"out": weights @ v, "weights": weights}


def _when_masked(mistake):
    return lambda c: None if c.inputs["mask"] is None else mistake(c)


ATTENTION_FORWARD = Spec(
    grade_id="attention_forward", assignment=ASSIGNMENT, name="attention_forward", points=3,
    credit=Credit.PER_OUTPUT,  # the output and the weights earn apart
    task="(out, weights) of scaled dot-product attention softmax(Q K^T / sqrt(E) + mask) V "
         "for Q (..., L, E), K (..., S, E), V (..., S, Ev) and a boolean mask (True = may not "
         "look) or None",
    make_cases=lambda seed: _attention_cases(seed, 1301),
    run=lambda ns, case: as_parts(call(ns, case, "attention_forward", "Q", "K", "V", "mask"),
                                  FORWARD_KEYS, "what `attention_forward` returned"),
    reference=lambda case: _forward(case.inputs),
    hints=(
        Hint("The scores are not scaled: divide Q K^T by sqrt(E), E the size of a query "
             "(Q.shape[-1]), before the softmax.",
             mistake=lambda c: _forward(c.inputs, scale=1.0)),
        Hint("The mask is applied after the softmax: weights set to 0 afterwards leave rows "
             "that no longer sum to 1. Put -inf into the blocked SCORES, then take the "
             "softmax.", mistake=_when_masked(lambda c: _forward(c.inputs, after=True))),
        Hint("The softmax runs over the wrong axis: each QUERY's weights over the keys must "
             "sum to 1, so normalise over the last axis (the keys, S), not over the queries.",
             mistake=lambda c: _forward(c.inputs, softmax_axis=-2)),
        Hint("The mask is read the wrong way round: True means the query may NOT look at "
             "that key (as in nn.MultiheadAttention).",
             mistake=_when_masked(lambda c: _forward(c.inputs, inverted=True))),
    ),
    tips=("Scores: Q @ K.swapaxes(-1, -2) gives (..., L, S); swapaxes works for any leading "
          "dimensions, where .T would reverse them all.",
          "Blocked scores become -inf (np.where(mask, -np.inf, scores)); e^-inf = 0.",
          "A stable softmax over the last axis: subtract the row's max, exponentiate, divide "
          "by the row's sum."),
    shortcuts=refuse("attention_forward", "compute the scores, the masked softmax and the "
                     "weighted sum yourself",
                     (names("MultiheadAttention", "TransformerEncoderLayer",
                            "scaled_dot_product_attention", "masked_softmax", "mask_to_bias"),
                      "the engine's attention"),
                     (reached("|".join(ENGINE_FUNCTIONS), *ENGINE),
                      "the engine's attention functions (`dlcore.nn.attention`)")),
)


# -- backward -------------------------------------------------------------------------------
def _backward_cases(seed: int) -> list[Case]:
    cases = _attention_cases(seed, 1302)
    g = gen(seed, 1303)
    for case in cases:
        q, v = case.inputs["Q"], case.inputs["V"]
        case.inputs["dout"] = normal(g, *q.shape[:-1], v.shape[-1])
    return cases


def _backward(i: dict, scale_in_backward: bool = True, diagonal_softmax: bool = False) -> dict:
    q, k, v = i["Q"], i["K"], i["V"]
    _, _, cache = attention_forward(q, k, v, _bias(i["mask"]))
    if not scale_in_backward or diagonal_softmax:
        q, k, v, weights, _, scale = cache
        grad_weights = i["dout"] @ np.swapaxes(v, -1, -2)
        if diagonal_softmax:            # only the diagonal of the softmax's Jacobian
            grad_scores = weights * (1 - weights) * grad_weights
        else:
            grad_scores = weights * (grad_weights
                                     - (grad_weights * weights).sum(-1, keepdims=True))
        s = scale if scale_in_backward else 1.0
        return {"dQ": grad_scores @ k * s, "dK": np.swapaxes(grad_scores, -1, -2) @ q * s,
                "dV": np.swapaxes(weights, -1, -2) @ i["dout"]}
    dq, dk, dv = attention_backward(i["dout"], cache)
    return {"dQ": dq, "dK": dk, "dV": dv}


ATTENTION_BACKWARD = Spec(
    grade_id="attention_backward", assignment=ASSIGNMENT, name="attention_backward", points=4,
    credit=Credit.PER_OUTPUT,  # dQ, dK and dV earn a third each
    task="given dL/d(out) (..., L, Ev), return (dQ, dK, dV) of attention_forward(Q, K, V, "
         "mask)",
    make_cases=_backward_cases,
    run=lambda ns, case: as_parts(
        call(ns, case, "attention_backward", "dout", "Q", "K", "V", "mask"),
        BACKWARD_KEYS, "what `attention_backward` returned"),
    reference=lambda case: _backward(case.inputs),
    hints=(
        Hint("The softmax's backward keeps only the diagonal of its Jacobian: every weight "
             "depends on every score of its row, so dS = P * (dP - sum(dP * P, axis=-1)), "
             "not P * (1 - P) * dP.", mistake=lambda c: _backward(c.inputs,
                                                                   diagonal_softmax=True)),
        Hint("dQ and dK miss the scale: the scores were multiplied by 1/sqrt(E), so their "
             "gradients are too.", mistake=lambda c: _backward(c.inputs,
                                                                scale_in_backward=False)),
    ),
    tips=("Redo the forward pass and keep the weights P (..., L, S).",
          "out = P V, so dV = P^T dout and dP = dout V^T (swapaxes(-1, -2) for ^T).",
          "Blocked positions have P = 0, so the softmax's backward gives them no gradient "
          "by itself: nothing special to do for the mask."),
    shortcuts=refuse("attention_backward", "go back through the weighted sum, the softmax "
                     "and the scores yourself",
                     (names("MultiheadAttention", "TransformerEncoderLayer",
                            "scaled_dot_product_attention", "masked_softmax", "mask_to_bias"),
                      "the engine's attention and its backward pass"),
                     (reached("|".join(ENGINE_FUNCTIONS), *ENGINE),
                      "the engine's attention functions (`dlcore.nn.attention`)")),
)


# -- the causal mask ------------------------------------------------------------------------------
def _mask_cases(seed: int) -> list[Case]:
    g = gen(seed, 1304)
    return [Case("L=1", {"L": 1}), Case(f"L={int(g.integers(3, 8))}",
                                        {"L": int(g.integers(3, 8))})]


def _run_mask(ns, case) -> np.ndarray:
    mask = call(ns, case, "causal_mask", "L")
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        kind = (f"an array of dtype {mask.dtype}" if isinstance(mask, np.ndarray)
                else f"a {type(mask).__name__}")
        raise AnswerError(f"`causal_mask` should return a boolean NumPy array (True = "
                          f"blocked), but it returned {kind}.")
    return as_array(mask, "what `causal_mask` returned")


def _mask_variant(case: Case, k: int = 1, lower: bool = False, flip: bool = False):
    size = case.inputs["L"]
    ones = np.ones((size, size), bool)
    mask = np.tril(ones, -k) if lower else np.triu(ones, k)
    return (~mask if flip else mask).astype(np.float64)


CAUSAL_MASK = Spec(
    grade_id="causal_mask", assignment=ASSIGNMENT, name="causal_mask", points=1,
    task="the (L, L) boolean mask with True where key j is in the future of query i (j > i)",
    make_cases=_mask_cases,
    run=_run_mask,
    reference=lambda case: causal_mask(case.inputs["L"]).astype(np.float64),
    hints=(
        Hint("The diagonal is blocked too: a position may look at itself (j = i), only the "
             "future (j > i) is blocked.", mistake=lambda c: _mask_variant(c, k=0)),
        Hint("The mask blocks the past instead of the future: rows are queries i, columns "
             "keys j; block j > i, the part ABOVE the diagonal.",
             mistake=lambda c: _mask_variant(c, lower=True)),
        Hint("True and False are swapped: here True means blocked (the convention of "
             "nn.MultiheadAttention).", mistake=lambda c: _mask_variant(c, flip=True)),
    ),
    tips=("np.triu(a, k=1) keeps what lies above the diagonal.",
          "Start from np.ones((L, L), dtype=bool)."),
    shortcuts=refuse("causal_mask", "build the mask yourself",
                     (names("generate_square_subsequent_mask"), "PyTorch's mask function"),
                     (reached("causal_mask", *ENGINE), "the engine's `causal_mask`")),
)


# -- heads -----------------------------------------------------------------------------------------
def _split_cases(seed: int) -> list[Case]:
    g = gen(seed, 1305)
    n, l, h, d = (int(g.integers(2, 4)), int(g.integers(3, 6)), int(g.integers(2, 5)),
                  int(g.integers(2, 4)))
    return [Case(f"N={n}, L={l}, E={h * d} split into H={h} heads of {d}",
                 {"x": normal(g, n, l, h * d), "num_heads": h}),
            Case("N=1, L=2, E=6 into H=3 heads of 2",
                 {"x": normal(g, 1, 2, 6), "num_heads": 3})]


def _merge_cases(seed: int) -> list[Case]:
    g = gen(seed, 1306)
    n, h, l, d = (int(g.integers(2, 4)), int(g.integers(2, 5)), int(g.integers(3, 6)),
                  int(g.integers(2, 4)))
    return [Case(f"N={n}, H={h} heads, L={l}, {d} features each", {"x": normal(g, n, h, l, d)}),
            Case("N=1, H=3, L=2, 2 features each", {"x": normal(g, 1, 3, 2, 2)})]


HEAD_SHORTCUTS = (names("MultiheadAttention"), "`nn.MultiheadAttention`")

SPLIT_HEADS = Spec(
    grade_id="split_heads", assignment=ASSIGNMENT, name="split_heads", points=1,
    task="(N, L, E) -> (N, H, L, E/H): head h takes features h*E/H ... (h+1)*E/H - 1",
    make_cases=_split_cases,
    run=lambda ns, case: as_array(call(ns, case, "split_heads", "x", "num_heads"),
                                  "what `split_heads` returned"),
    reference=lambda case: split_heads(case.inputs["x"], case.inputs["num_heads"]),
    hints=(
        Hint("The heads are cut in the wrong order: reshaping (N, L, E) straight to "
             "(N, H, L, E/H) mixes positions and features. Reshape to (N, L, H, E/H) first, "
             "then move the head axis forward with transpose(0, 2, 1, 3).",
             mistake=lambda c: c.inputs["x"].reshape(
                 c.inputs["x"].shape[0], c.inputs["num_heads"], c.inputs["x"].shape[1], -1)),
        Hint("Each head must take a block of neighbouring features (head 0: the first E/H), "
             "not every H-th feature: reshape to (N, L, H, E/H), not (N, L, E/H, H).",
             mistake=lambda c: c.inputs["x"].reshape(
                 *c.inputs["x"].shape[:2], -1, c.inputs["num_heads"]).transpose(0, 3, 1, 2)),
    ),
    tips=("x.reshape(N, L, H, E // H) cuts each token's vector into H pieces.",
          "transpose(0, 2, 1, 3) swaps the L and H axes."),
    shortcuts=refuse("split_heads", "reshape and transpose yourself", HEAD_SHORTCUTS,
                     (reached("split_heads|merge_heads", *ENGINE), "the engine's head functions")),
)

MERGE_HEADS = Spec(
    grade_id="merge_heads", assignment=ASSIGNMENT, name="merge_heads", points=1,
    task="(N, H, L, D) -> (N, L, H*D), the inverse of split_heads",
    make_cases=_merge_cases,
    run=lambda ns, case: as_array(call(ns, case, "merge_heads", "x"),
                                  "what `merge_heads` returned"),
    reference=lambda case: merge_heads(case.inputs["x"]),
    hints=(
        Hint("The heads are merged without moving the head axis back: (N, H, L, D) must "
             "become (N, L, H, D) with transpose(0, 2, 1, 3) BEFORE the reshape to "
             "(N, L, H*D).", mistake=lambda c: c.inputs["x"].reshape(
                 c.inputs["x"].shape[0], c.inputs["x"].shape[2], -1)),
        Hint("The heads are merged in the wrong order: the output must hold head 0's D "
             "features, then head 1's, ...; with transpose(0, 2, 3, 1) they are "
             "interleaved. Use transpose(0, 2, 1, 3).",
             mistake=lambda c: c.inputs["x"].transpose(0, 2, 3, 1).reshape(
                 c.inputs["x"].shape[0], c.inputs["x"].shape[2], -1)),
    ),
    tips=("Undo split_heads step by step, in reverse: first the transpose, then the "
          "reshape.",),
    shortcuts=refuse("merge_heads", "transpose and reshape yourself", HEAD_SHORTCUTS,
                     (reached("split_heads|merge_heads", *ENGINE), "the engine's head functions")),
)

SPECS = [ATTENTION_FORWARD, ATTENTION_BACKWARD, CAUSAL_MASK, SPLIT_HEADS, MERGE_HEADS]
