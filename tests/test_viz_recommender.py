"""Lesson 12's recommender: the ratings' structure, the factorisation's gradients,
and the genres it finds without being told."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore.gradcheck import numerical_gradient, rel_error  # noqa: E402
from dlcore.viz import recommender as rec  # noqa: E402
from dlcore.viz import widgets  # noqa: E402


def test_ratings_are_in_range_and_split():
    r = rec.make_ratings(seed=3)
    assert r.r_train.min() >= 1 and r.r_train.max() <= 5
    assert r.pairs_train.shape[1] == 2 and r.r_train.shape == (len(r.pairs_train), 1)
    seen = {tuple(p) for p in r.pairs_train}
    assert not seen & {tuple(p) for p in r.pairs_test}
    assert r.item_name(5) == "comedy 05"


def test_backward_matches_numerical_gradients(rng):
    model = rec.MatrixFactorization(4, 5, dim=3).double()
    for p in model.parameters():
        p.data[...] = rng.standard_normal(p.data.shape)
    pairs = np.array([[0, 1], [2, 1], [3, 4], [0, 0]])
    upstream = rng.standard_normal((4, 1))

    def f() -> float:
        return float(np.sum(model(pairs) * upstream))

    model.zero_grad()
    model(pairs)
    model.backward(upstream)
    for name, p in model.named_parameters():
        assert rel_error(p.grad, numerical_gradient(f, p.data)) < 1e-6, name
    with pytest.raises(ValueError, match=r"pairs \(N, 2\)"):
        model(np.zeros((3, 3), dtype=np.int64))


def test_training_beats_the_mean_and_finds_the_genres():
    r = rec.make_ratings()
    model, scores = rec.train_recommender(r)
    assert scores["test_rmse"] < 0.5 * scores["baseline_rmse"]
    same = [np.mean(r.item_genre[rec.nearest_items(model, i, 5)[0]] == r.item_genre[i])
            for i in range(r.n_items)]
    assert np.mean(same) > 0.9
    ids, sims = rec.nearest_items(model, 0, 4)
    assert 0 not in ids and np.all(np.diff(sims) <= 0)
    fig = rec.item_map_figure(model, r, item=0, k=4)
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == [r.item_name(j)
                                                                      for j in ids]


def test_item_explorer_moves_the_film_and_the_neighbours():
    r = rec.make_ratings()
    model, _ = rec.train_recommender(r, epochs=10)
    box = rec.item_explorer(model, r)
    fig = box.view.fig
    before = widgets.image_array(box).copy()
    widgets.TIMINGS.clear()
    widgets.find_control(box, "film").value = 7
    ids, sims = rec.nearest_items(model, 7, 5)
    names = [t.get_text() for t in fig.parts.ax_bar.get_yticklabels()]
    assert names == [r.item_name(j) for j in ids]
    assert fig.parts.ax_bar.get_title() == f"most like {r.item_name(7)}"
    np.testing.assert_allclose(fig.parts.chosen.get_offsets()[0], model.items.weight.data[7])
    assert (widgets.image_array(box) != before).any()
    widgets.find_control(box, "neighbours shown").value = 12
    shown = [b for b in fig.parts.bars if b.get_visible()]
    ids, sims = rec.nearest_items(model, 7, 12)
    np.testing.assert_allclose([b.get_width() for b in shown], sims, rtol=1e-6)
    assert len(fig.parts.links.get_segments()) == 12
    assert fig.parts.ax_bar.get_ylim() == (11.5, -0.5)
    assert box.view.fig is fig
    worst = max(t["compute_ms"] + t["draw_ms"] + t["encode_ms"] for t in widgets.TIMINGS)
    assert len(widgets.TIMINGS) == 2 and worst < 500       # a gross-regression guard
    with pytest.raises(ValueError, match="k must be"):
        rec.item_map_figure(model, r, 0, k=rec.MAX_NEIGHBOURS + 1)
