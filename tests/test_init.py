"""nn.init: the ranges and spreads of each initialiser, fans, gains, and the
seeded generator behind them (dlcore.manual_seed)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import dlcore
from dlcore import nn
from dlcore.nn import init


def uniform_ok(values: np.ndarray, bound: float) -> bool:
    """Inside [-bound, bound], reaching near both ends, and uniform by a KS test."""
    v = values.ravel().astype(np.float64)
    return (np.abs(v).max() <= bound * (1 + 1e-6) and v.min() < -0.99 * bound
            and v.max() > 0.99 * bound
            and stats.kstest(v, stats.uniform(-bound, 2 * bound).cdf).pvalue > 1e-3)


def normal_ok(values: np.ndarray, std: float) -> bool:
    """Normal with mean 0 and this std by a KS test."""
    v = values.ravel().astype(np.float64)
    return stats.kstest(v, stats.norm(0, std).cdf).pvalue > 1e-3


# Shapes (out, in, *kernel): fan_in = in * prod(kernel), fan_out = out * prod(kernel).
W2D = (200, 300)        # fan_in 300, fan_out 200
W4D = (32, 16, 3, 3)    # fan_in 144, fan_out 288


def test_fans():
    assert init._calculate_fan_in_and_fan_out(np.empty(W2D)) == (300, 200)
    assert init._calculate_fan_in_and_fan_out(np.empty(W4D)) == (144, 288)
    with pytest.raises(ValueError, match=r"2 or more dimensions, got shape \(5,\)"):
        init.xavier_uniform_(np.empty(5))


def test_the_statistical_checks_can_fail():
    x = np.random.default_rng(0).uniform(-1, 1, 10_000)
    assert uniform_ok(x, 1.0) and not uniform_ok(x, 1.2) and not uniform_ok(x * 0.9, 0.9 * 1.1)
    assert not normal_ok(x, x.std())


def test_xavier_uniform_and_normal():
    bound = math.sqrt(6 / (300 + 200))
    assert uniform_ok(init.xavier_uniform_(np.empty(W2D)), bound)
    assert uniform_ok(init.xavier_uniform_(np.empty(W4D), gain=2.0), 2 * math.sqrt(6 / 432))
    assert normal_ok(init.xavier_normal_(np.empty(W2D)), math.sqrt(2 / 500))
    assert normal_ok(init.xavier_normal_(np.empty(W4D), gain=0.5), 0.5 * math.sqrt(2 / 432))


def test_kaiming_uniform_and_normal():
    assert uniform_ok(init.kaiming_uniform_(np.empty(W2D)), math.sqrt(6 / 300))
    assert uniform_ok(init.kaiming_uniform_(np.empty(W4D), mode="fan_out",
                                            nonlinearity="relu"), math.sqrt(6 / 288))
    assert normal_ok(init.kaiming_normal_(np.empty(W2D)), math.sqrt(2 / 300))
    assert normal_ok(init.kaiming_normal_(np.empty(W4D), a=0.2), math.sqrt(2 / 1.04 / 144))
    assert uniform_ok(init.kaiming_uniform_(np.empty(W2D), a=math.sqrt(5)), 1 / math.sqrt(300))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan'"):
        init.kaiming_normal_(np.empty(W2D), mode="fan")


def test_simple_fillers_keep_the_dtype_and_work_on_parameters():
    p = nn.Parameter(np.empty((100, 100), np.float32))
    assert init.zeros_(p) is p and not p.data.any() and p.dtype == np.float32
    init.ones_(p)
    assert (p.data == 1).all()
    init.constant_(p, 0.25)
    assert (p.data == 0.25).all()
    init.normal_(p, mean=1.0, std=0.5)
    assert p.dtype == np.float32 and normal_ok(p.data - 1.0, 0.5)
    init.uniform_(p, -3, 3)
    assert uniform_ok(p.data, 3)


def test_calculate_gain():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'"):
        init.calculate_gain("swish")


@pytest.mark.torch
@pytest.mark.parametrize("name, param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                         ("tanh", None), ("relu", None), ("leaky_relu", None),
                                         ("leaky_relu", 0.3), ("selu", None)])
def test_calculate_gain_matches_pytorch(name, param):
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param), rel=1e-12)


@pytest.mark.torch
def test_each_initialiser_matches_pytorchs_distribution():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    for name, kwargs in [("xavier_uniform_", {}), ("xavier_normal_", {"gain": 2.0}),
                         ("kaiming_uniform_", {"a": math.sqrt(5)}),
                         ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"})]:
        ours = getattr(init, name)(np.empty(W4D), **kwargs).ravel()
        theirs = getattr(torch.nn.init, name)(torch.empty(W4D), **kwargs).numpy().ravel()
        assert stats.ks_2samp(ours, theirs).pvalue > 1e-3, name


def test_manual_seed_repeats_initialisation_and_draws():
    dlcore.manual_seed(7)
    first = nn.Linear(5, 5).weight.data.copy()
    draw = dlcore.rng.generator().random()
    dlcore.manual_seed(7)
    np.testing.assert_array_equal(nn.Linear(5, 5).weight.data, first)
    assert dlcore.rng.generator().random() == draw
    dlcore.manual_seed(8)
    assert not np.array_equal(nn.Linear(5, 5).weight.data, first)
    with pytest.raises(TypeError, match="manual_seed expects an integer, got float"):
        dlcore.manual_seed(1.5)
