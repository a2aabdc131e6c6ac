"""TransformerEncoderLayer: gradient checks (post- and pre-norm, ReLU and GELU, masks),
parity with PyTorch (outputs, input and every parameter gradient), names and errors."""
from __future__ import annotations

import numpy as np
import pytest
from torch_utils import assert_close, copy_to_torch, record_parity, tensor

from dlcore import gradcheck, nn
from dlcore.nn.attention import causal_mask

N, L, E, HEADS, FF = 2, 4, 6, 2, 10


class WithMasks(nn.Module):
    """The layer with fixed masks, as a one-input module for ``gradcheck``."""

    def __init__(self, layer, **kwargs):
        super().__init__()
        self.layer, self.kwargs = layer, kwargs

    def forward(self, x):
        return self.layer(x, **self.kwargs)

    def backward(self, grad):
        return self.layer.backward(grad)


def padding(n=N, length=L):
    mask = np.zeros((n, length), bool)
    mask[0, -1] = True
    return mask


MASKS = {
    "none": {},
    "causal": {"src_mask": causal_mask(L)},
    "float": {"src_mask": np.linspace(-1, 1, L * L).reshape(L, L)},
    "padding": {"src_key_padding_mask": padding()},
    "is_causal_and_padding": {"is_causal": True, "src_key_padding_mask": padding()},
}


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", list(MASKS))
def test_encoder_layer_gradcheck(masks, batch_first, activation, norm_first, rng):
    layer = nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.0, activation=activation,
                                       batch_first=batch_first, norm_first=norm_first)
    shape = (N, L, E) if batch_first else (L, N, E)
    result = gradcheck(WithMasks(layer, **MASKS[masks]), rng.standard_normal(shape))
    assert result.ok, str(result)


def test_names_repr_and_unbatched(rng):
    layer = nn.TransformerEncoderLayer(E, HEADS, FF)
    names = [name for name, _ in layer.named_children()]
    assert names[:8] == ["self_attn", "linear1", "dropout", "linear2", "norm1", "norm2",
                         "dropout1", "dropout2"]
    assert list(layer.state_dict())[:4] == ["self_attn.in_proj_weight",
                                            "self_attn.in_proj_bias",
                                            "self_attn.out_proj.weight",
                                            "self_attn.out_proj.bias"]
    assert layer.linear1.weight.shape == (FF, E) and layer.dropout.p == 0.1
    assert nn.TransformerEncoderLayer(E, HEADS).linear1.out_features == 2048
    x = rng.standard_normal((L, E)).astype(np.float32)
    layer.eval()
    assert layer(x).shape == (L, E) and layer(x).dtype == np.float32
    assert layer.backward(np.ones((L, E), np.float32)).shape == (L, E)


def test_dropout_is_used_in_training_only(rng):
    layer = nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.5, batch_first=True)
    x = rng.standard_normal((N, L, E))
    assert not np.allclose(layer(x), layer(x))
    layer.eval()
    np.testing.assert_array_equal(layer(x), layer(x))


def test_errors(rng):
    with pytest.raises(ValueError, match=r"embed_dim=6 must be divisible by num_heads=4"):
        nn.TransformerEncoderLayer(6, 4)
    with pytest.raises(ValueError, match=r"activation must be 'relu' or 'gelu'.*'tanh'"):
        nn.TransformerEncoderLayer(E, HEADS, activation="tanh")
    layer = nn.TransformerEncoderLayer(E, HEADS, FF, batch_first=True)
    with pytest.raises(ValueError, match=r"^TransformerEncoderLayer\(d_model=6, nhead=2\) "
                                         r"expected src .* got \(6,\)$"):
        layer(np.zeros(E))
    with pytest.raises(ValueError, match=r"src_mask|attn_mask must be \(L, S\)"):
        layer(rng.standard_normal((N, L, E)), src_mask=np.zeros((L + 1, L + 1), bool))
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        nn.TransformerEncoderLayer(E, HEADS, FF).backward(np.zeros((L, N, E)))


@pytest.mark.torch
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "causal", "float", "padding"])
def test_encoder_layer_matches_pytorch(masks, batch_first, activation, norm_first, rng):
    torch = pytest.importorskip("torch")
    kwargs = dict(dim_feedforward=FF, dropout=0.0, activation=activation,
                  batch_first=batch_first, norm_first=norm_first)
    ours = nn.TransformerEncoderLayer(E, HEADS, **kwargs).double()
    theirs = torch.nn.TransformerEncoderLayer(E, HEADS, **kwargs).double()
    copy_to_torch(ours, theirs)
    x = rng.standard_normal((N, L, E) if batch_first else (L, N, E))
    tx = tensor(x, requires_grad=True)
    out = ours(x, **MASKS[masks])
    t_out = theirs(tx, **{k: torch.from_numpy(np.asarray(v)) for k, v in MASKS[masks].items()})
    err = assert_close(out, t_out, rtol=1e-10, atol=1e-12, name="output")
    upstream = rng.standard_normal(out.shape)
    grad = ours.backward(upstream)
    (t_out * torch.from_numpy(upstream)).sum().backward()
    err = max(err, assert_close(grad, tx.grad, rtol=1e-9, atol=1e-11, name="grad src"))
    ours_params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        err = max(err, assert_close(ours_params[name].grad, p.grad, rtol=1e-9, atol=1e-11,
                                    name=name))
    record_parity("TransformerEncoderLayer", err)


@pytest.mark.torch
def test_float32_weights_from_pytorch_in_eval(rng):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=True)
    theirs.eval()
    ours = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=True).eval()
    ours.load_state_dict(theirs.state_dict())
    x = rng.standard_normal((3, 5, 8)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(tensor(x), src_mask=torch.from_numpy(causal_mask(5)))
    assert_close(ours(x, src_mask=causal_mask(5)), expected, rtol=1e-4, atol=1e-5,
                 name="float32 eval output")
