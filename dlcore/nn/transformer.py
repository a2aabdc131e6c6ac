"""``TransformerEncoderLayer``: self-attention and an MLP, each inside a residual
connection with layer normalisation, as ``torch.nn.TransformerEncoderLayer``.

Post-norm (``norm_first=False``, the 2017 paper and PyTorch's default):
    x = norm1(x + dropout1(self_attn(x)))
    x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

Pre-norm (``norm_first=True``, GPT-2 and most models since; it trains more easily deep):
    x = x + dropout1(self_attn(norm1(x)))
    x = x + dropout2(linear2(dropout(activation(linear1(norm2(x))))))

Backward follows the same lines upwards. A residual x + f(x) passes its gradient
both ways: straight through, and through f, and the two add up.
"""
from __future__ import annotations

import numpy as np

from .activation import GELU, ReLU
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm


class TransformerEncoderLayer(Module):
    """One transformer block (encoder layer), as ``torch.nn.TransformerEncoderLayer``.

    Args:
        d_model: E, the size of each token's vector.
        nhead: the number of attention heads (must divide ``d_model``).
        dim_feedforward: the MLP's hidden size (default 2048).
        dropout: dropout probability everywhere (default 0.1).
        activation: ``"relu"`` (default) or ``"gelu"``, or a module such as ``nn.GELU()``.
        layer_norm_eps: LayerNorm's eps (default 1e-5).
        batch_first: inputs (N, L, E) if True, else (L, N, E) as PyTorch's default.
        norm_first: pre-norm if True (see the module docstring), post-norm if False.
        bias: biases in the linear layers and layer norms (default True).

    Submodules (PyTorch's names, so ``state_dict`` keys match): ``self_attn``,
    ``linear1``, ``dropout``, ``linear2``, ``norm1``, ``norm2``, ``dropout1``, ``dropout2``.

    Shape: src (L, N, E), or (N, L, E) with batch_first, or unbatched (L, E) -> the same.
    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``: the
    masks as ``MultiheadAttention`` reads them (``src_mask`` (L, S) or (N*nhead, L, S),
    ``src_key_padding_mask`` (N, S); True = not allowed); ``is_causal=True`` without a
    mask applies the causal mask (PyTorch wants the mask given too).
    ``backward(grad_output)`` returns dL/d(src).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True):
        super().__init__()
        if isinstance(activation, str):
            if activation not in ("relu", "gelu"):
                raise ValueError(f"TransformerEncoderLayer activation must be 'relu' or 'gelu' "
                                 f"(or a module), got {activation!r}")
            activation = ReLU() if activation == "relu" else GELU()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation
        self.batch_first = batch_first

    def _short(self) -> str:
        return (f"TransformerEncoderLayer(d_model={self.self_attn.embed_dim}, "
                f"nhead={self.self_attn.num_heads})")

    # -- the two sub-blocks, forward and backward side by side --------------------------
    def _sa_block(self, x, src_mask, src_key_padding_mask, is_causal):
        out, _ = self.self_attn(x, x, x, attn_mask=src_mask,
                                key_padding_mask=src_key_padding_mask,
                                need_weights=False, is_causal=is_causal)
        return self.dropout1(out)

    def _sa_block_backward(self, grad):
        return self.self_attn.backward(self.dropout1.backward(grad))   # one array: self-attention

    def _ff_block(self, x):
        hidden = self.dropout(self.activation(self.linear1(x)))
        return self.dropout2(self.linear2(hidden))

    def _ff_block_backward(self, grad):
        grad = self.linear2.backward(self.dropout2.backward(grad))
        return self.linear1.backward(self.activation.backward(self.dropout.backward(grad)))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        x = np.asarray(src)
        if x.ndim not in (2, 3):
            raise ValueError(f"{self._short()} expected src (L, N, E), (N, L, E) with "
                             f"batch_first, or unbatched (L, E); got {x.shape}")
        self._cache = x.shape
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad = self._check_grad_out(grad_output, self._saved())
        if self.norm_first:
            # x2 = x1 + ff(norm2(x1)): the gradient goes straight through and through ff.
            grad = grad + self.norm2.backward(self._ff_block_backward(grad))
            # x1 = x + sa(norm1(x)).
            grad = grad + self.norm1.backward(self._sa_block_backward(grad))
        else:
            # x2 = norm2(x1 + ff(x1)).
            grad = self.norm2.backward(grad)
            grad = grad + self._ff_block_backward(grad)
            # x1 = norm1(x + sa(x)).
            grad = self.norm1.backward(grad)
            grad = grad + self._sa_block_backward(grad)
        return grad

    def extra_repr(self) -> str:
        return f"norm_first={self.norm_first}, batch_first={self.batch_first}"
