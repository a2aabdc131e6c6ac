"""Attention: every query looks at every key, and takes a weighted sum of the values.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(E) + M) V

Shapes use one set of letters: N the batch, H the heads, L the target (query) length,
S the source (key and value) length, E the size of one head's vectors (the embedding
size divided by H), M an additive mask of 0 (may look) and -inf (may not).

The forward and backward passes are plain functions (``attention_forward``,
``attention_backward``) so a lesson can print them; ``scaled_dot_product_attention``
is PyTorch's functional form on top, and ``MultiheadAttention`` is the layer.

Backward, for G = dL/d(out) and P the weights:
    dV = P^T G            dP = G V^T
    dS = P * (dP - sum_j(dP * P))        (the softmax's Jacobian-vector product, per row)
    dQ = dS K * scale     dK = dS^T Q * scale
"""
from __future__ import annotations

import math

import numpy as np

from ..rng import generator
from . import init
from .linear import Linear, as_array
from .module import Module, Parameter


# -- masks ---------------------------------------------------------------------------
def causal_mask(length: int, source_length: int | None = None) -> np.ndarray:
    """The (L, S) boolean mask that stops position i from seeing positions j > i.

    True means *not allowed*, as ``MultiheadAttention`` reads a boolean mask.
    (PyTorch's float form, ``nn.Transformer.generate_square_subsequent_mask(L)``, is
    ``np.where(causal_mask(L), -inf, 0)``: either works as ``attn_mask``.)
    """
    source_length = length if source_length is None else source_length
    return np.triu(np.ones((length, source_length), dtype=bool), k=1)


def mask_to_bias(mask: np.ndarray | None, dtype: type, name: str = "mask",
                 true_means: str = "blocked") -> np.ndarray | None:
    """A mask as the additive term M of the scores: 0 where a query may look, -inf where not.

    A boolean mask is read as ``true_means`` says: ``"blocked"`` (``MultiheadAttention``,
    ``TransformerEncoderLayer``: True = not allowed) or ``"allowed"`` (PyTorch's
    ``scaled_dot_product_attention``: True = may take part). A float mask is added as it
    is (0 keeps a score, -inf removes it, anything else nudges it).
    """
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype == np.bool_:
        blocked = mask if true_means == "blocked" else ~mask
        return np.where(blocked, -np.inf, 0.0).astype(dtype)
    if mask.dtype.kind == "f":
        return mask.astype(dtype, copy=False)
    raise TypeError(f"{name} must be boolean or floating point (as in PyTorch), "
                    f"got dtype {mask.dtype}")


def masked_softmax(scores: np.ndarray) -> np.ndarray:
    """softmax over the last axis, where -inf scores get weight 0 exactly.

    A row whose scores are all -inf (a query allowed to see nothing) gets all-zero
    weights instead of 0/0 = NaN.
    """
    row_max = scores.max(axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    shifted = scores - row_max
    e = np.exp(shifted, out=np.zeros_like(shifted), where=shifted > -np.inf)
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total > 0, total, 1.0)


# -- the two passes as plain functions ----------------------------------------------
def attention_forward(q: np.ndarray, k: np.ndarray, v: np.ndarray,
                      bias: np.ndarray | None = None, scale: float | None = None,
                      dropout_p: float = 0.0) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Scaled dot-product attention, forward.

    Args:
        q: (..., L, E) queries.   k: (..., S, E) keys.   v: (..., S, Ev) values.
        bias: additive mask M broadcastable to (..., L, S) (``mask_to_bias``), or None.
        scale: multiplies the scores; default 1 / sqrt(E).
        dropout_p: drop attention weights with this probability (training only).

    Returns:
        out: (..., L, Ev) the weighted sums of the values,
        weights: (..., L, S) each row sums to 1 (after dropout, as PyTorch returns it),
        cache: what ``attention_backward`` needs.
    """
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ np.swapaxes(k, -1, -2)) * scale       # (..., L, S): query i against key j
    if bias is not None:
        scores = scores + bias
    weights = masked_softmax(scores)                     # each row sums to 1 over S
    keep = None
    if dropout_p > 0.0:
        keep = (generator().random(weights.shape) >= dropout_p) / (1.0 - dropout_p)
        weights_used = weights * keep.astype(weights.dtype)
    else:
        weights_used = weights
    out = weights_used @ v                               # (..., L, Ev)
    return out, weights_used, (q, k, v, weights, keep, scale)


def attention_backward(grad_out: np.ndarray, cache: tuple
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scaled dot-product attention, backward: (dL/dq, dL/dk, dL/dv) from dL/d(out)."""
    q, k, v, weights, keep, scale = cache
    used = weights if keep is None else weights * keep.astype(weights.dtype)
    grad_v = np.swapaxes(used, -1, -2) @ grad_out                 # dV = P^T G
    grad_weights = grad_out @ np.swapaxes(v, -1, -2)              # dP = G V^T
    if keep is not None:
        grad_weights = grad_weights * keep.astype(weights.dtype)
    # Softmax backward, row by row: dS = P * (dP - sum_j dP_j P_j).
    grad_scores = weights * (grad_weights - (grad_weights * weights).sum(-1, keepdims=True))
    grad_q = (grad_scores @ k) * scale                            # dQ = dS K * scale
    grad_k = (np.swapaxes(grad_scores, -1, -2) @ q) * scale       # dK = dS^T Q * scale
    return grad_q, grad_k, grad_v


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None
                                 ) -> np.ndarray:
    """PyTorch's ``F.scaled_dot_product_attention`` (forward only; the functions above
    give the backward).

    Careful: as in PyTorch, a *boolean* ``attn_mask`` here means True = may take part,
    the opposite of ``MultiheadAttention``'s masks. A float mask is added to the scores.
    ``is_causal=True`` applies ``causal_mask`` (and then ``attn_mask`` must be None).

    Shape: query (N, ..., L, E), key (N, ..., S, E), value (N, ..., S, Ev)
    -> (N, ..., L, Ev).
    """
    query, key, value = (np.asarray(a) for a in (query, key, value))
    if key.shape[-1] != query.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: query {query.shape}, key {key.shape} "
                         f"and value {value.shape} do not fit: query (..., L, E), "
                         "key (..., S, E), value (..., S, Ev)")
    length, source = query.shape[-2], key.shape[-2]
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: pass attn_mask or is_causal, "
                             "not both (as PyTorch)")
        attn_mask = ~causal_mask(length, source)              # True = allowed here
    bias = mask_to_bias(attn_mask, query.dtype, "attn_mask", true_means="allowed")
    if bias is not None and bias.shape[-2:] != (length, source):
        raise ValueError(f"scaled_dot_product_attention: attn_mask of shape {bias.shape} "
                         f"does not end in (L, S) = ({length}, {source})")
    return attention_forward(query, key, value, bias, scale, dropout_p)[0]


# -- heads ---------------------------------------------------------------------------
def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """(N, L, H*E) -> (N, H, L, E): head h takes features h*E ... (h+1)*E - 1."""
    n, length, embed = x.shape
    return x.reshape(n, length, num_heads, embed // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(N, H, L, E) -> (N, L, H*E), the inverse of ``split_heads``."""
    n, heads, length, head_dim = x.shape
    return x.transpose(0, 2, 1, 3).reshape(n, length, heads * head_dim)


# -- the layer -----------------------------------------------------------------------
class MultiheadAttention(Module):
    """Multi-head attention, as ``torch.nn.MultiheadAttention``.

    The embedding is projected to queries, keys and values (``in_proj_weight``), split
    into ``num_heads`` heads of size E/H that attend separately, merged back and
    projected once more (``out_proj``):

        head_h = Attention(x_q W_q,h, x_k W_k,h, x_v W_v,h)
        out = concat(head_1, ..., head_H) W_o^T + b_o

    Args:
        embed_dim: E, the size of each token's vector; must divide by ``num_heads``.
        num_heads: H, the number of heads (each of size E/H).
        dropout: drop attention weights with this probability in training (default 0).
        bias: learn ``in_proj_bias`` and ``out_proj.bias`` (default True).
        batch_first: inputs (N, L, E) if True, else (L, N, E) as PyTorch's default.

    Attributes (PyTorch's names, layouts and initialisation):
        in_proj_weight: (3E, E), rows [W_q; W_k; W_v], Xavier-uniform.
        in_proj_bias: (3E,), zeros.
        out_proj: ``Linear(E, E)`` (PyTorch's default init), its bias zeroed.

    Forward ``(query, key, value, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False)`` returns
    ``(attn_output, attn_weights)``:

        query (L, N, E), key and value (S, N, E) (batch_first: (N, L, E), (N, S, E));
        unbatched (L, E) and (S, E) work too.
        key_padding_mask: (N, S); True (or -inf) marks padding keys nobody may look at.
        attn_mask: (L, S) for every sequence, or (N*H, L, S) per sequence and head;
            boolean True = not allowed, float = added to the scores.
        attn_output: like query. attn_weights: (N, L, S) averaged over the heads, or
            (N, H, L, S) with ``average_attn_weights=False``, or None when
            ``need_weights=False``.
        is_causal: here it applies ``causal_mask`` when ``attn_mask`` is None (PyTorch
            raises instead and takes it only as a hint about the mask you pass).

    Backward ``backward(grad_output)``: dL/d(attn_output) in, parameter gradients added
    to ``.grad``; it returns ONE array when ``query``, ``key`` and ``value`` were the
    same array (self-attention: the sum of the three paths, so ``x`` gets its whole
    gradient), and otherwise the tuple ``(grad_query, grad_key, grad_value)``. The
    returned ``attn_weights`` are a read-out only: no gradient flows back through them.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0,
                 bias: bool = True, batch_first: bool = False):
        super().__init__()
        if embed_dim < 1 or num_heads < 1:
            raise ValueError(f"MultiheadAttention needs positive sizes, got embed_dim="
                             f"{embed_dim}, num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim={embed_dim} must be divisible by "
                             f"num_heads={num_heads} (each head gets embed_dim / num_heads "
                             "features)")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiheadAttention dropout must be in [0, 1), got {dropout}")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), np.float32))
        init.xavier_uniform_(self.in_proj_weight)
        if bias:
            self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, np.float32))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias)
        if bias:
            self.out_proj.bias.data[...] = 0

    def _short(self) -> str:
        return f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")

    # -- layout helpers ---------------------------------------------------------------
    def _to_batch_first(self, x: np.ndarray, name: str, unbatched: bool) -> np.ndarray:
        """(L, N, E) or (N, L, E) or unbatched (L, E) -> (N, L, E)."""
        x = as_array(x, self)
        want = 2 if unbatched else 3
        layout = "(L, E)" if unbatched else ("(N, L, E)" if self.batch_first else "(L, N, E)")
        if x.ndim != want or x.shape[-1] != self.embed_dim:
            raise ValueError(f"{self._short()} expected {name} {layout} with E = "
                             f"{self.embed_dim}, got {x.shape}")
        if unbatched:
            return x[None]
        return x if self.batch_first else x.transpose(1, 0, 2)

    def _from_batch_first(self, x: np.ndarray, unbatched: bool) -> np.ndarray:
        if unbatched:
            return x[0]
        return x if self.batch_first else x.transpose(1, 0, 2)

    def _bias(self, n: int, length: int, source: int, dtype, key_padding_mask,
              attn_mask, is_causal: bool) -> np.ndarray | None:
        """Both masks as one additive (N, H, L, S)-broadcastable term, or None."""
        if is_causal and attn_mask is None:
            attn_mask = causal_mask(length, source)
        bias = None
        if attn_mask is not None:
            mask = mask_to_bias(attn_mask, dtype, "attn_mask")
            heads = n * self.num_heads
            if mask.shape == (length, source):
                bias = mask                                              # (L, S)
            elif mask.shape == (heads, length, source):
                bias = mask.reshape(n, self.num_heads, length, source)   # index n*H + h
            else:
                raise ValueError(f"{self._short()}: attn_mask must be (L, S) = ({length}, "
                                 f"{source}) or (N*num_heads, L, S) = ({heads}, {length}, "
                                 f"{source}), got {mask.shape}")
        if key_padding_mask is not None:
            pad = mask_to_bias(key_padding_mask, dtype, "key_padding_mask")
            if pad.shape != (n, source):
                raise ValueError(f"{self._short()}: key_padding_mask must be (N, S) = ({n}, "
                                 f"{source}), got {pad.shape}")
            pad = pad[:, None, None, :]                                  # (N, 1, 1, S)
            bias = pad if bias is None else bias + pad
        return bias

    # -- the two passes -----------------------------------------------------------------
    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        self_attention = query is key and key is value
        unbatched = np.ndim(query) == 2
        xq = self._to_batch_first(query, "query", unbatched)                 # (N, L, E)
        xk = xq if key is query else self._to_batch_first(key, "key", unbatched)
        xv = xk if value is key else self._to_batch_first(value, "value", unbatched)
        if xk.shape != xv.shape or xk.shape[0] != xq.shape[0]:
            raise ValueError(f"{self._short()}: key and value must have the same shape and "
                             f"the batch of the query; got query {np.shape(query)}, key "
                             f"{np.shape(key)}, value {np.shape(value)}")
        n, length, _ = xq.shape
        source = xk.shape[1]
        if unbatched and key_padding_mask is not None:
            key_padding_mask = np.asarray(key_padding_mask)[None]
        e = self.embed_dim
        w = self.in_proj_weight.data
        b = self.in_proj_bias.data if self.in_proj_bias is not None else np.zeros(3 * e, w.dtype)
        # Project, then split E into H heads of E/H: (N, L, E) -> (N, H, L, E/H).
        q = split_heads(xq @ w[:e].T + b[:e], self.num_heads)
        k = split_heads(xk @ w[e:2 * e].T + b[e:2 * e], self.num_heads)
        v = split_heads(xv @ w[2 * e:].T + b[2 * e:], self.num_heads)
        bias = self._bias(n, length, source, q.dtype, key_padding_mask, attn_mask, is_causal)
        p = self.dropout if self.training else 0.0
        heads, weights, cache = attention_forward(q, k, v, bias, dropout_p=p)
        out = self.out_proj(merge_heads(heads))                            # (N, L, E)
        self._cache = (xq, xk, xv, cache, self_attention, unbatched, out.shape)
        out = self._from_batch_first(out, unbatched)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)                                 # (N, L, S)
        return out, (weights[0] if unbatched else weights)

    def backward(self, grad_output: np.ndarray):
        xq, xk, xv, cache, self_attention, unbatched, out_shape = self._saved()
        shape = out_shape[1:] if unbatched else (
            out_shape if self.batch_first else (out_shape[1], out_shape[0], out_shape[2]))
        grad = self._check_grad_out(grad_output, shape)
        grad = grad[None] if unbatched else (grad if self.batch_first else grad.transpose(1, 0, 2))
        grad_heads = split_heads(self.out_proj.backward(grad), self.num_heads)
        grad_q, grad_k, grad_v = (merge_heads(g) for g in attention_backward(grad_heads, cache))
        e = self.embed_dim
        w = self.in_proj_weight.data
        grads_x = []
        for i, (x, g) in enumerate(((xq, grad_q), (xk, grad_k), (xv, grad_v))):
            rows = slice(i * e, (i + 1) * e)
            g2, x2 = g.reshape(-1, e), x.reshape(-1, e)
            self.in_proj_weight.grad[rows] += g2.T @ x2          # dW = g^T x, as in Linear
            if self.in_proj_bias is not None:
                self.in_proj_bias.grad[rows] += g2.sum(axis=0)
            grads_x.append(g @ w[rows])                           # dx = g W
        if self_attention:
            return self._from_batch_first(grads_x[0] + grads_x[1] + grads_x[2], unbatched)
        return tuple(self._from_batch_first(g, unbatched) for g in grads_x)
