"""Scaled dot-product attention and MultiheadAttention: gradient checks of every path
(masks, layouts, dropout), parity with PyTorch, masks read as PyTorch reads them, errors."""
from __future__ import annotations

import numpy as np
import pytest
from torch_utils import assert_close, copy_to_torch, record_parity, tensor, to_numpy

import dlcore
from dlcore import gradcheck, nn
from dlcore.gradcheck import check_function
from dlcore.nn.attention import (
    attention_backward,
    attention_forward,
    causal_mask,
    mask_to_bias,
    masked_softmax,
    merge_heads,
    scaled_dot_product_attention,
    split_heads,
)

N, L, S, E, H = 2, 4, 5, 6, 3


class SelfAttention(nn.Module):
    """``mha(x, x, x)`` as a one-input module, so ``gradcheck`` can drive it; ``seed``
    reseeds before each forward so a dropout mask repeats."""

    def __init__(self, mha, seed=None, **kwargs):
        super().__init__()
        self.mha, self.seed, self.kwargs = mha, seed, kwargs

    def forward(self, x):
        if self.seed is not None:
            dlcore.manual_seed(self.seed)
        return self.mha(x, x, x, **self.kwargs)[0]

    def backward(self, grad):
        return self.mha.backward(grad)


class CrossAttention(nn.Module):
    """``mha(q, k, v)`` with q, k, v packed along the sequence axis of one input."""

    def __init__(self, mha, length, **kwargs):
        super().__init__()
        self.mha, self.length, self.kwargs = mha, length, kwargs

    def _axis(self):
        return 1 if self.mha.batch_first else 0

    def forward(self, x):
        q, kv = np.split(x, [self.length], axis=self._axis())
        k, v = np.split(kv, 2, axis=self._axis())
        return self.mha(q, k, v, **self.kwargs)[0]

    def backward(self, grad):
        grads = self.mha.backward(grad)
        assert isinstance(grads, tuple) and len(grads) == 3
        return np.concatenate(grads, axis=self._axis())


def masks(kind, rng, n=N, length=L, source=S, heads=H):
    """(attn_mask, key_padding_mask) of one kind; never a fully masked row."""
    kpm_bool = np.zeros((n, source), bool)
    kpm_bool[0, -2:] = True                                    # sequence 0: two pads
    if kind == "none":
        return None, None
    if kind == "causal_bool":
        return causal_mask(length, source), None
    if kind == "float_2d":
        return rng.standard_normal((length, source)), None
    if kind == "bool_3d":
        mask = rng.random((n * heads, length, source)) < 0.4
        mask[..., 0] = False
        return mask, None
    if kind == "float_3d_inf":
        mask = np.where(rng.random((n * heads, length, source)) < 0.3, -np.inf, 0.0)
        mask[..., 1] = 0.0
        return mask, None
    if kind == "padding_bool":
        return None, kpm_bool
    if kind == "padding_float":
        return None, np.where(kpm_bool, -np.inf, 0.0) + 0.1 * rng.standard_normal((n, source))
    if kind == "causal_and_padding":
        return causal_mask(length, source), kpm_bool
    raise ValueError(kind)


MASK_KINDS = ["none", "causal_bool", "float_2d", "bool_3d", "float_3d_inf", "padding_bool",
              "padding_float", "causal_and_padding"]


# -- the plain functions ---------------------------------------------------------------
def test_attention_rows_are_weighted_averages_of_the_values(rng):
    q, k, v = rng.standard_normal((L, E)), rng.standard_normal((S, E)), rng.standard_normal((S, 2))
    out, weights, _ = attention_forward(q, k, v)
    np.testing.assert_allclose(weights.sum(-1), 1.0)
    scores = q @ k.T / np.sqrt(E)
    expected = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    np.testing.assert_allclose(weights, expected, rtol=1e-12)
    np.testing.assert_allclose(out, expected @ v, rtol=1e-12)


def test_masked_positions_get_exactly_zero_weight_and_empty_rows_give_zeros():
    scores = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]])
    bias = mask_to_bias(np.array([[False, True, False], [True, True, True]]), np.float64)
    weights = masked_softmax(scores + bias)
    assert weights[0, 1] == 0.0 and np.isclose(weights[0].sum(), 1.0)
    assert np.array_equal(weights[1], np.zeros(3))       # nothing allowed: zeros, not NaN


def test_causal_mask_blocks_the_future():
    mask = causal_mask(3)
    assert mask.dtype == np.bool_
    assert mask.tolist() == [[False, True, True], [False, False, True], [False, False, False]]


def test_split_and_merge_heads_are_inverse_and_keep_features_together(rng):
    x = rng.standard_normal((N, L, E))
    heads = split_heads(x, H)
    assert heads.shape == (N, H, L, E // H)
    np.testing.assert_array_equal(heads[1, 2, 3], x[1, 3, 4:6])   # head 2: features 4, 5
    np.testing.assert_array_equal(merge_heads(heads), x)


@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("wrt", [0, 1, 2])
def test_attention_backward_gradcheck(wrt, with_bias, rng):
    arrays = [rng.standard_normal((N, H, L, E)), rng.standard_normal((N, H, S, E)),
              rng.standard_normal((N, H, S, 2))]
    bias = mask_to_bias(masks("bool_3d", rng)[0], np.float64).reshape(N, H, L, S) \
        if with_bias else None
    upstream = rng.standard_normal((N, H, L, 2))

    def f(x):
        args = list(arrays)
        args[wrt] = x
        return float(np.sum(attention_forward(*args, bias=bias)[0] * upstream))

    def grad(x):
        args = list(arrays)
        args[wrt] = x
        return attention_backward(upstream, attention_forward(*args, bias=bias)[2])[wrt]

    result = check_function(f, grad, arrays[wrt])
    assert result.ok, str(result)


# -- the layer: gradients ----------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", MASK_KINDS)
def test_self_attention_gradcheck(kind, batch_first, rng):
    attn_mask, kpm = masks(kind, rng, source=L)
    mha = nn.MultiheadAttention(E, H, batch_first=batch_first)
    shape = (N, L, E) if batch_first else (L, N, E)
    result = gradcheck(SelfAttention(mha, attn_mask=attn_mask, key_padding_mask=kpm),
                       rng.standard_normal(shape))
    assert result.ok, str(result)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", ["none", "float_2d", "bool_3d", "causal_and_padding"])
def test_cross_attention_gradcheck_returns_three_gradients(kind, batch_first, rng):
    attn_mask, kpm = masks(kind, rng)
    mha = nn.MultiheadAttention(E, H, batch_first=batch_first)
    shape = (N, L + 2 * S, E) if batch_first else (L + 2 * S, N, E)
    result = gradcheck(CrossAttention(mha, L, attn_mask=attn_mask, key_padding_mask=kpm),
                       rng.standard_normal(shape))
    assert result.ok, str(result)


def test_gradcheck_without_bias_unbatched_and_with_a_fixed_dropout_mask(rng):
    result = gradcheck(SelfAttention(nn.MultiheadAttention(E, H, bias=False)),
                       rng.standard_normal((L, E)))
    assert result.ok, str(result)
    dropping = nn.MultiheadAttention(E, H, dropout=0.3, batch_first=True)
    result = gradcheck(SelfAttention(dropping, seed=3), rng.standard_normal((N, L, E)))
    assert result.ok, str(result)


def test_dropout_only_in_training(rng):
    mha = nn.MultiheadAttention(E, H, dropout=0.5, batch_first=True)
    x = rng.standard_normal((N, L, E)).astype(np.float32)
    _, w1 = mha(x, x, x, average_attn_weights=False)
    assert np.any(w1 == 0) and not np.allclose(w1.sum(-1), 1)
    mha.eval()
    _, w2 = mha(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(w2.sum(-1), 1, rtol=1e-6)


def test_weights_outputs_and_shapes(rng):
    mha = nn.MultiheadAttention(E, H)
    q, kv = rng.standard_normal((L, N, E)), rng.standard_normal((S, N, E))
    out, weights = mha(q, kv, kv)
    assert out.shape == (L, N, E) and weights.shape == (N, L, S)
    _, per_head = mha(q, kv, kv, average_attn_weights=False)
    assert per_head.shape == (N, H, L, S)
    np.testing.assert_allclose(per_head.mean(1), weights)
    assert mha(q, kv, kv, need_weights=False)[1] is None
    assert mha(q[:, 0], kv[:, 0], kv[:, 0])[0].shape == (L, E)          # unbatched


def test_is_causal_without_a_mask_applies_the_causal_mask(rng):
    mha = nn.MultiheadAttention(E, H, batch_first=True)
    x = rng.standard_normal((N, L, E))
    a = mha(x, x, x, is_causal=True)[1]
    b = mha(x, x, x, attn_mask=causal_mask(L))[1]
    np.testing.assert_array_equal(a, b)
    assert np.all(a[:, np.triu_indices(L, 1)[0], np.triu_indices(L, 1)[1]] == 0)


def test_pytorch_init_layout_and_state_dict_keys():
    dlcore.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2)
    assert list(mha.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight",
                                      "out_proj.bias"]
    assert mha.in_proj_weight.shape == (24, 8)
    bound = np.sqrt(6 / (24 + 8))                                # Xavier on (3E, E)
    assert np.abs(mha.in_proj_weight.data).max() <= bound
    assert np.abs(mha.in_proj_weight.data).max() > 0.8 * bound
    assert np.all(mha.in_proj_bias.data == 0) and np.all(mha.out_proj.bias.data == 0)
    assert np.abs(mha.out_proj.weight.data).max() <= 1 / np.sqrt(8)
    assert list(nn.MultiheadAttention(8, 2, bias=False).state_dict()) == [
        "in_proj_weight", "out_proj.weight"]


# -- errors ------------------------------------------------------------------------------
def test_errors_name_the_layer_and_the_shapes(rng):
    with pytest.raises(ValueError, match=r"embed_dim=10 must be divisible by num_heads=3"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(E, H, batch_first=True)
    x = rng.standard_normal((N, L, E))
    with pytest.raises(ValueError, match=r"^MultiheadAttention\(embed_dim=6, num_heads=3\) "
                                         r"expected query \(N, L, E\) with E = 6, got "
                                         r"\(2, 4, 5\)$"):
        mha(x[..., :5], x[..., :5], x[..., :5])
    with pytest.raises(ValueError, match=r"attn_mask must be \(L, S\) = \(4, 4\) or "
                                         r"\(N\*num_heads, L, S\) = \(6, 4, 4\), got \(4, 5\)"):
        mha(x, x, x, attn_mask=np.zeros((L, 5), bool))
    with pytest.raises(ValueError, match=r"key_padding_mask must be \(N, S\) = \(2, 4\), "
                                         r"got \(4, 2\)"):
        mha(x, x, x, key_padding_mask=np.zeros((L, N), bool))
    with pytest.raises(TypeError, match=r"attn_mask must be boolean or floating point.*int64"):
        mha(x, x, x, attn_mask=np.zeros((L, L), np.int64))
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        nn.MultiheadAttention(E, H).backward(np.zeros((L, N, E)))
    mha(x, x, x)
    with pytest.raises(ValueError, match=r"expected grad_out of shape \(2, 4, 6\)"):
        mha.backward(np.zeros((L, N, E)))
    with pytest.raises(ValueError, match=r"query \(2, 3, 6\), key \(2, 4, 6\) and value"):
        scaled_dot_product_attention(x[:, :3], x, x[..., :2, :])


# -- parity with PyTorch --------------------------------------------------------------------
def torch_mask(mask, torch):
    return None if mask is None else torch.from_numpy(np.array(mask))


@pytest.mark.torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", MASK_KINDS)
@pytest.mark.parametrize("same_input", [True, False])
def test_multihead_attention_matches_pytorch(kind, batch_first, same_input, rng):
    torch = pytest.importorskip("torch")
    source = L if same_input else S
    attn_mask, kpm = masks(kind, rng, source=source)
    ours = nn.MultiheadAttention(E, H, batch_first=batch_first).double()
    theirs = torch.nn.MultiheadAttention(E, H, batch_first=batch_first).double()
    copy_to_torch(ours, theirs)
    layout = (lambda n, t: (n, t, E)) if batch_first else (lambda n, t: (t, n, E))
    if same_input:
        x = rng.standard_normal(layout(N, L))
        q = k = v = x
        tq = tk = tv = tensor(x, requires_grad=True)
    else:
        q, k, v = (rng.standard_normal(layout(N, t)) for t in (L, S, S))
        tq, tk, tv = (tensor(a, requires_grad=True) for a in (q, k, v))
    out, weights = ours(q, k, v, attn_mask=attn_mask, key_padding_mask=kpm,
                        average_attn_weights=False)
    t_out, t_weights = theirs(tq, tk, tv, attn_mask=torch_mask(attn_mask, torch),
                              key_padding_mask=torch_mask(kpm, torch),
                              average_attn_weights=False)
    err = assert_close(out, t_out, rtol=1e-10, atol=1e-12, name="attn_output")
    err = max(err, assert_close(weights, t_weights, rtol=1e-10, atol=1e-12, name="weights"))
    upstream = rng.standard_normal(out.shape)
    grads = ours.backward(upstream)
    (t_out * torch.from_numpy(upstream)).sum().backward()
    if same_input:
        err = max(err, assert_close(grads, tq.grad, rtol=1e-9, atol=1e-11, name="grad x"))
    else:
        for name, g, t in zip("qkv", grads, (tq, tk, tv), strict=True):
            err = max(err, assert_close(g, t.grad, rtol=1e-9, atol=1e-11, name=f"grad {name}"))
    for name, p in theirs.named_parameters():
        ours_p = dict(ours.named_parameters())[name]
        err = max(err, assert_close(ours_p.grad, p.grad, rtol=1e-9, atol=1e-11, name=name))
    record_parity("MultiheadAttention", err)


@pytest.mark.torch
def test_multihead_attention_weights_flow_back_to_pytorch_and_float32(rng):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.MultiheadAttention(8, 4, batch_first=True)
    ours = nn.MultiheadAttention(8, 4, batch_first=True)
    ours.load_state_dict(theirs.state_dict())                   # torch -> dlcore
    x = rng.standard_normal((3, 7, 8)).astype(np.float32)
    out, weights = ours(x, x, x, attn_mask=causal_mask(7))
    t_out, t_weights = theirs(tensor(x), tensor(x), tensor(x),
                              attn_mask=torch.from_numpy(causal_mask(7)))
    assert out.dtype == np.float32
    assert_close(out, t_out, rtol=1e-5, atol=1e-6, name="float32 output")
    assert_close(weights, t_weights, rtol=1e-5, atol=1e-6, name="float32 weights")


@pytest.mark.torch
@pytest.mark.parametrize("mask", ["none", "bool_allowed", "float", "causal"])
def test_scaled_dot_product_attention_matches_pytorch(mask, rng):
    torch = pytest.importorskip("torch")
    q, k, v = (rng.standard_normal((N, H, t, E)) for t in (L, L, L))
    kwargs, t_kwargs = {}, {}
    if mask == "bool_allowed":                    # PyTorch's functional form: True = may look
        allowed = rng.random((L, L)) < 0.6
        allowed[:, 0] = True
        kwargs["attn_mask"], t_kwargs["attn_mask"] = allowed, torch.from_numpy(allowed)
    elif mask == "float":
        bias = rng.standard_normal((N, 1, L, L))
        kwargs["attn_mask"], t_kwargs["attn_mask"] = bias, torch.from_numpy(bias)
    elif mask == "causal":
        kwargs["is_causal"] = t_kwargs["is_causal"] = True
    ours = scaled_dot_product_attention(q, k, v, **kwargs)
    theirs = torch.nn.functional.scaled_dot_product_attention(
        tensor(q), tensor(k), tensor(v), **t_kwargs)
    record_parity("scaled_dot_product_attention",
                  assert_close(ours, theirs, rtol=1e-10, atol=1e-12, name=mask))
    scaled = scaled_dot_product_attention(q, k, v, scale=0.3, **kwargs)
    t_scaled = torch.nn.functional.scaled_dot_product_attention(
        tensor(q), tensor(k), tensor(v), scale=0.3, **t_kwargs)
    assert_close(scaled, to_numpy(t_scaled), rtol=1e-10, atol=1e-12, name="scale=0.3")
