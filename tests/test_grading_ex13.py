"""Exercise 13 (attention): a learner's typical mistakes, written as a learner would, each
get their own hint; the engine's attention is refused as a shortcut."""
from __future__ import annotations

import numpy as np
import pytest

from dlcore.grading import get_spec, run_check


def softmax(s, axis=-1):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def forward_unscaled(Q, K, V, mask):
    scores = Q @ K.swapaxes(-1, -2)
    if mask is not None:
        scores = np.where(mask, -np.inf, scores)
    weights = softmax(scores)
    return weights @ V, weights


def forward_mask_after_softmax(Q, K, V, mask):
    weights = softmax(Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1]))
    if mask is not None:
        weights = np.where(mask, 0.0, weights)
    return weights @ V, weights


def forward_softmax_over_queries(Q, K, V, mask):
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, -1e9, scores)
    weights = softmax(scores, axis=-2)
    return weights @ V, weights


def backward_diagonal_softmax(dout, Q, K, V, mask):
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, -np.inf, scores)
    P = softmax(scores)
    dP = dout @ V.swapaxes(-1, -2)
    dS = P * (1 - P) * dP
    scale = 1 / np.sqrt(Q.shape[-1])
    return dS @ K * scale, dS.swapaxes(-1, -2) @ Q * scale, P.swapaxes(-1, -2) @ dout


def causal_with_diagonal(L):
    return np.triu(np.ones((L, L), dtype=bool))


def causal_as_floats(L):
    return np.triu(np.ones((L, L)), k=1)


def split_without_transpose(x, num_heads):
    N, L, E = x.shape
    return x.reshape(N, num_heads, L, E // num_heads)


def merge_without_transpose(x):
    N, H, L, D = x.shape
    return x.reshape(N, L, H * D)


def merge_interleaved(x):
    N, H, L, D = x.shape
    return x.transpose(0, 2, 3, 1).reshape(N, L, H * D)


@pytest.mark.parametrize("grade_id, answer, words", [
    ("attention_forward", forward_unscaled, "The scores are not scaled"),
    ("attention_forward", forward_mask_after_softmax, "The mask is applied after the softmax"),
    ("attention_forward", forward_softmax_over_queries, "The softmax runs over the wrong axis"),
    ("attention_backward", backward_diagonal_softmax, "keeps only the diagonal"),
    ("causal_mask", causal_with_diagonal, "The diagonal is blocked too"),
    ("split_heads", split_without_transpose, "The heads are cut in the wrong order"),
    ("merge_heads", merge_without_transpose, "without moving the head axis back"),
    ("merge_heads", merge_interleaved, "merged in the wrong order"),
])
def test_typical_mistakes_get_their_hint(grade_id, answer, words):
    spec = get_spec(grade_id)
    report = run_check(spec, {spec.name: answer})
    assert not report.passed
    assert words in " ".join(o.hint for o in report.outcomes), report.text()


def test_a_float_mask_is_refused_in_plain_words():
    spec = get_spec("causal_mask")
    report = run_check(spec, {spec.name: causal_as_floats})
    assert not report.passed and report.points < spec.points
    assert "should return a boolean NumPy array" in report.text()


def test_the_engines_attention_is_refused_even_with_the_right_numbers():
    source = ("from dlcore.nn.attention import attention_forward as engine_forward\n"
              "def attention_forward(Q, K, V, mask):\n"
              "    out, weights, _ = engine_forward(Q, K, V, None)\n"
              "    return out, weights\n")
    spec = get_spec("attention_forward")
    assert "the engine's attention functions" in spec.refusal(source)
    own = ("def attention_forward(Q, K, V, mask):\n"
           "    return Q @ K.swapaxes(-1, -2) @ V, None\n")
    assert spec.refusal(own) == ""                    # its own name is not a shortcut
