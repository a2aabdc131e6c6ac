"""Dropout: inverted scaling, the mask in backward, eval mode, seeding, errors."""
from __future__ import annotations

import numpy as np
import pytest

import dlcore
from dlcore import gradcheck, nn


def test_dropout_zeroes_about_p_and_scales_the_rest(rng):
    x = rng.uniform(1, 2, (200, 500)).astype(np.float32)
    y = nn.Dropout(0.3)(x)
    dropped = y == 0
    assert abs(dropped.mean() - 0.3) < 0.01
    np.testing.assert_allclose(y[~dropped], x[~dropped] / 0.7, rtol=1e-6)
    assert abs(y.mean() / x.mean() - 1) < 0.01          # the expectation is kept
    assert y.dtype == np.float32


def test_dropout_backward_uses_the_forward_mask(rng):
    layer = nn.Dropout(0.5)
    x = rng.uniform(1, 2, (4, 6))
    y = layer(x)
    g = rng.standard_normal((4, 6))
    np.testing.assert_allclose(layer.backward(g), g * y / x, rtol=1e-12)
    with pytest.raises(ValueError, match=r"Dropout\(p=0.5\) backward expected grad_out of "
                                         r"shape \(4, 6\)"):
        layer.backward(np.zeros((6, 4)))


def test_dropout_is_the_identity_in_eval_and_at_p_zero(rng):
    x = rng.standard_normal((3, 4))
    for layer in (nn.Dropout(0.5).eval(), nn.Dropout(0.0)):
        assert np.array_equal(layer(x), x)
        assert np.array_equal(layer.backward(x), x)
    result = gradcheck(nn.Dropout(0.5).eval(), x)
    assert result.ok, str(result)


def test_dropout_p_one_drops_everything(rng):
    layer = nn.Dropout(1.0)
    x = rng.standard_normal((3, 4))
    assert not layer(x).any() and not layer.backward(np.ones((3, 4))).any()


def test_dropout_mask_repeats_with_manual_seed(rng):
    x = np.ones((5, 7), np.float32)
    dlcore.manual_seed(3)
    a = nn.Dropout(0.4)(x)
    b = nn.Dropout(0.4)(x)
    dlcore.manual_seed(3)
    assert np.array_equal(nn.Dropout(0.4)(x), a) and not np.array_equal(a, b)


def test_dropout_errors_and_repr():
    with pytest.raises(ValueError, match="between 0 and 1, got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(RuntimeError, match=r"Dropout\(p=0.5\): backward\(\) was called before"):
        nn.Dropout().backward(np.zeros(3))
    assert repr(nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
