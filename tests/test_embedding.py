"""Embedding: lookup, repeated ids in backward, padding_idx, init, errors, PyTorch parity."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from torch_utils import assert_close, copy_to_torch, record_parity, tensor

from dlcore import nn
from dlcore.gradcheck import numerical_gradient


def test_embedding_looks_up_rows():
    layer = nn.Embedding(5, 3)
    ids = np.array([[0, 4], [4, 2]])
    y = layer(ids)
    assert y.shape == (2, 2, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(y[1, 0], layer.weight.data[4])


def test_embedding_backward_adds_the_gradients_of_repeated_ids(rng):
    layer = nn.Embedding(4, 2).double()
    ids = np.array([1, 3, 1, 1])
    g = rng.standard_normal((4, 2))
    layer(ids)
    assert layer.backward(g) is None
    expected = np.zeros((4, 2))
    expected[1] = g[[0, 2, 3]].sum(0)
    expected[3] = g[1]
    np.testing.assert_allclose(layer.weight.grad, expected, rtol=1e-12)
    numeric = numerical_gradient(lambda: float(np.sum(layer(ids) * g)), layer.weight.data)
    np.testing.assert_allclose(layer.weight.grad, numeric, rtol=1e-6, atol=1e-8)


def test_embedding_padding_idx_stays_zero_and_untrained(rng):
    layer = nn.Embedding(5, 3, padding_idx=-1)
    assert layer.padding_idx == 4 and not layer.weight.data[4].any()
    layer(np.array([4, 0, 4]))
    layer.backward(np.ones((3, 3), np.float32))
    assert not layer.weight.grad[4].any() and layer.weight.grad[0].all()
    assert repr(layer) == "Embedding(5, 3, padding_idx=4)"


def test_embedding_init_is_standard_normal():
    w = nn.Embedding(1000, 50).weight.data.ravel()
    assert stats.kstest(w, "norm").pvalue > 1e-3


def test_embedding_errors():
    layer = nn.Embedding(10, 3)
    with pytest.raises(IndexError, match=r"^Embedding\(10, 3\): id 10 is out of range; valid "
                                         r"ids are 0 to 9$"):
        layer(np.array([1, 10]))
    with pytest.raises(IndexError, match="id -1 is out of range"):
        layer(np.array([-1, 2]))
    with pytest.raises(TypeError, match=r"Embedding\(10, 3\) expects integer ids, got dtype "
                                        "float64"):
        layer(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)
    layer(np.array([1, 2]))
    with pytest.raises(ValueError, match=r"backward expected grad_out of shape \(2, 3\)"):
        layer.backward(np.zeros((3, 2)))


def test_embedding_from_pretrained_is_frozen_by_default():
    table = np.arange(6.0).reshape(3, 2)
    layer = nn.Embedding.from_pretrained(table)
    assert not layer.weight.requires_grad
    np.testing.assert_array_equal(layer(np.array([2])), [[4.0, 5.0]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


@pytest.mark.torch
@pytest.mark.parametrize("padding_idx", [None, 0])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_matches_pytorch(padding_idx, dtype, rng):
    torch = pytest.importorskip("torch")
    ours = nn.Embedding(7, 4, padding_idx=padding_idx)
    theirs = torch.nn.Embedding(7, 4, padding_idx=padding_idx).to(getattr(torch, dtype))
    if dtype == "float64":
        ours.double()
    copy_to_torch(ours, theirs)
    ids = rng.integers(0, 7, (3, 5))
    g = rng.standard_normal((3, 5, 4)).astype(dtype)
    yt = theirs(tensor(ids))
    yt.backward(tensor(g))
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    errs = [assert_close(ours(ids), yt, name="output", **tol)]
    ours.backward(g)
    errs.append(assert_close(ours.weight.grad, theirs.weight.grad, name="weight grad", **tol))
    assert repr(ours) == repr(theirs)
    record_parity(f"Embedding {dtype}", max(errs))
