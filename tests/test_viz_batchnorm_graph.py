"""Lesson 10's batch-norm graph: every node of the computation is drawn with its
forward formula and its backward rule, and the rules it prints are the ones that,
applied node by node, give the engine's BatchNorm1d gradients."""
from __future__ import annotations

import numpy as np

from dlcore import nn
from dlcore.viz import batchnorm_graph as bg


def test_graph_draws_every_node_with_both_formulas():
    fig = bg.graph_figure()
    texts = [t.get_text() for t in fig.axes[0].texts]
    for _name, _x, _y, forward, backward in bg.NODES:
        assert forward in texts and backward in texts
    assert len(fig.axes[0].patches) == len(bg.NODES) + len(bg.EDGES)    # plots.box, plots.arrow
    assert fig.get_size_inches()[0] * fig.dpi <= 900                      # fits the lesson page


def test_edges_join_known_nodes_and_leave_boxes_on_their_border():
    names = {name for name, *_ in bg.NODES}
    assert all(a in names and b in names for a, b in bg.EDGES)
    x, y = bg._on_box((0.0, 0.0), (10.0, 0.0))
    assert (x, y) == (bg.BOX_W / 2, 0.0)
    x, y = bg._on_box((0.0, 0.0), (0.0, -5.0))
    assert (x, y) == (0.0, -bg.BOX_H / 2)


def test_the_printed_rules_give_the_engines_gradients():
    g = np.random.default_rng(3)
    m, eps = 7, 1e-5
    x = g.standard_normal((m, 1))
    gamma = np.array([1.7])
    dy = g.standard_normal((m, 1))
    # forward, node by node as drawn
    mu = x.mean(0)
    d = x - mu
    var = (d ** 2).mean(0)
    s = 1 / np.sqrt(var + eps)
    xhat = d * s
    # backward, each node's rule from the figure, right to left
    dxhat = gamma * dy
    ds = (d * dxhat).sum(0)
    dvar = -0.5 * s ** 3 * ds
    dd = s * dxhat + 2 / m * d * dvar
    dmu = -dd.sum(0)
    dx = dd + dmu / m
    bn = nn.BatchNorm1d(1, eps=eps)
    bn.weight.data = bn.weight.data.astype(np.float64)
    bn.weight.data[:] = gamma
    bn.bias.data = bn.bias.data.astype(np.float64)
    bn(x)
    np.testing.assert_allclose(bn.backward(dy), dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.weight.grad, (dy * xhat).sum(0), rtol=1e-6)  # .grad is float32
