"""Lesson 12's fourth application: a recommender that learns embeddings of users and films.

    from dlcore.viz import recommender as rec
    ratings = rec.make_ratings()                        # synthetic, with known genres
    model, scores = rec.train_recommender(ratings)      # about a second
    rec.nearest_items(model, item=0, k=5)               # films the model finds alike
    rec.item_map_figure(model, ratings, item=0, k=5)
    rec.item_explorer(model, ratings)                   # the widget: pick a film

The ratings are made up, with a structure we know: each film has one of four
genres, placed at four directions of a 2-D "taste" plane (action opposite drama,
comedy opposite documentary), and each user a taste vector in that plane; a
rating is 3 + 1.5 (taste . genre) + a user's mood + noise, kept in [1, 5]. The
model never sees the genres: it learns one 2-D vector per user and per film
(two ``nn.Embedding`` tables) whose dot product predicts the ratings, and its
film vectors turn out to gather by genre.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from matplotlib.figure import Figure

from .. import data, nn, optim, train
from ..rng import manual_seed
from . import plots
from .applications import live_figure

GENRES = ("action", "comedy", "drama", "documentary")
_DIRECTIONS = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])


@dataclass
class Ratings:
    """Observed ratings as (user, item) pairs, split into train and test."""
    pairs_train: np.ndarray       # (N, 2) int64: user id, item id
    r_train: np.ndarray           # (N, 1) float32, ratings 1..5
    pairs_test: np.ndarray
    r_test: np.ndarray
    item_genre: np.ndarray        # (n_items,) int: index into GENRES (hidden from the model)
    n_users: int
    n_items: int

    def item_name(self, item: int) -> str:
        return f"{GENRES[self.item_genre[item]]} {item:02d}"


def make_ratings(n_users: int = 120, n_items: int = 40, density: float = 0.3,
                 noise: float = 0.3, seed: int = 0) -> Ratings:
    """Users rate a random ``density`` of the films; 20% of those are kept for testing."""
    rng = np.random.default_rng(seed)
    item_genre = np.arange(n_items) % len(GENRES)
    item_vec = _DIRECTIONS[item_genre] + 0.15 * rng.standard_normal((n_items, 2))
    taste = rng.standard_normal((n_users, 2))
    mood = 0.5 * rng.standard_normal(n_users)
    full = 3 + 1.5 * taste @ item_vec.T + mood[:, None] + noise * rng.standard_normal(
        (n_users, n_items))
    users, items = np.nonzero(rng.random((n_users, n_items)) < density)
    pairs = np.stack([users, items], axis=1).astype(np.int64)
    r = np.clip(full[users, items], 1, 5).astype(np.float32)[:, None]
    test = rng.random(len(pairs)) < 0.2
    return Ratings(pairs[~test], r[~test], pairs[test], r[test], item_genre, n_users, n_items)


class MatrixFactorization(nn.Module):
    """r_hat(u, i) = p_u . q_i + b_u + c_i + mu: a vector and a bias per user
    and per item (``nn.Embedding`` tables), ``mu`` the mean training rating.

    Shape: pairs (N, 2) integer (user, item) -> r_hat (N, 1).
    Backward of the dot product: dL/dp_u = g q_i and dL/dq_i = g p_u.
    """

    def __init__(self, n_users: int, n_items: int, dim: int = 2, mu: float = 3.0):
        super().__init__()
        self.users = nn.Embedding(n_users, dim)
        self.items = nn.Embedding(n_items, dim)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        for table in (self.users, self.items):
            nn.init.normal_(table.weight, std=0.1)
        for table in (self.user_bias, self.item_bias):
            nn.init.zeros_(table.weight)
        self.mu = float(mu)

    def forward(self, pairs: np.ndarray) -> np.ndarray:
        pairs = np.asarray(pairs)
        if pairs.ndim != 2 or pairs.shape[1] != 2:
            raise ValueError(f"MatrixFactorization expected pairs (N, 2), got {pairs.shape}")
        p, q = self.users(pairs[:, 0]), self.items(pairs[:, 1])        # (N, dim) each
        self._cache = (p, q)
        dot = np.sum(p * q, axis=1, keepdims=True)
        return dot + self.user_bias(pairs[:, 0]) + self.item_bias(pairs[:, 1]) + self.mu

    def backward(self, grad_out: np.ndarray) -> None:
        p, q = self._saved()
        self.users.backward(grad_out * q)
        self.items.backward(grad_out * p)
        self.user_bias.backward(grad_out)
        self.item_bias.backward(grad_out)


def rmse(y_hat: np.ndarray, y: np.ndarray) -> float:
    """Root mean squared error, in stars."""
    return float(np.sqrt(np.mean((np.asarray(y_hat) - np.asarray(y)) ** 2)))


def train_recommender(ratings: Ratings, dim: int = 2, epochs: int = 40,
                      seed: int = 0) -> tuple[MatrixFactorization, dict[str, float]]:
    """Fit by mean squared error (Adam, lr 0.02, batches of 64, a little weight
    decay). Returns the model and the test RMSE of the model and of the
    baseline that predicts the mean rating for everyone."""
    manual_seed(seed)
    mu = float(ratings.r_train.mean())
    model = MatrixFactorization(ratings.n_users, ratings.n_items, dim, mu)
    loader = data.DataLoader(data.TensorDataset(ratings.pairs_train, ratings.r_train),
                             batch_size=64, shuffle=True, seed=seed)
    train.fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.02, weight_decay=1e-4),
              loader, epochs=epochs, progress=False)
    scores = {"test_rmse": rmse(model(ratings.pairs_test), ratings.r_test),
              "baseline_rmse": rmse(mu, ratings.r_test)}
    return model, scores


def nearest_items(model: MatrixFactorization, item: int, k: int = 5
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` items whose vectors point most nearly the same way as ``item``'s
    (cosine similarity), most similar first: (ids (k,), similarities (k,))."""
    Q = model.items.weight.data.astype(np.float64)
    if not 0 <= item < len(Q):
        raise ValueError(f"nearest_items: item must be in [0, {len(Q)}), got {item}")
    unit = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    similarity = unit @ unit[item]
    similarity[item] = -np.inf
    ids = np.argsort(-similarity, kind="stable")[:k]
    return ids, similarity[ids]


MAX_NEIGHBOURS = 15         # the most neighbours the widget shows


def item_map_figure(model: MatrixFactorization, ratings: Ratings, item: int = 0,
                    k: int = 5) -> Figure:
    """Left: every film's learned 2-D vector, coloured by its true genre (which
    the model never saw), the chosen film and its ``k`` nearest linked. Right:
    those nearest films and their cosine similarity. ``fig.parts`` holds what
    ``update_item_map`` changes for another film or ``k``."""
    from matplotlib.collections import LineCollection

    Q = model.items.weight.data
    with plots.style():
        # fixed margins, not a layout engine: room for the longest film name
        # ("documentary 00") whichever films are shown, so a widget never clips one
        fig, (ax, ax_bar) = plots.subplots("wide", 1, 2, width_ratios=[1.2, 1], layout=None)
        fig.subplots_adjust(left=0.075, right=0.975, bottom=0.13, top=0.91, wspace=0.42)
        for g, name in enumerate(GENRES):
            pts = Q[ratings.item_genre == g]
            ax.scatter(pts[:, 0], pts[:, 1], s=40, color=plots.CLASS_COLORS[g], label=name,
                       edgecolor="white", zorder=3)
        links = ax.add_collection(LineCollection([], colors="0.5", lw=1, zorder=2))
        chosen = ax.scatter([0.0], [0.0], s=260, facecolor="none", edgecolor="black", lw=2,
                            zorder=4)
        ax.axhline(0, color="0.85", lw=0.8, zorder=1)
        ax.axvline(0, color="0.85", lw=0.8, zorder=1)
        ax.set_xlabel("learned dimension 1")
        ax.set_ylabel("learned dimension 2")
        ax.set_title("film vectors (colour = true genre, never shown)")
        ax.legend(loc="center", fontsize=9, framealpha=0.9)    # the genres ring the origin
        bars = ax_bar.barh(range(MAX_NEIGHBOURS), np.zeros(MAX_NEIGHBOURS))
        ax_bar.set_xlim(-1, 1)
        ax_bar.axvline(0, color="0.5", lw=0.8)
        ax_bar.set_xlabel("cosine similarity")
    fig.parts = SimpleNamespace(model=model, ratings=ratings, links=links, chosen=chosen,
                                bars=bars, ax_bar=ax_bar)
    update_item_map(fig, item, k)
    return plots.finish(fig)


def update_item_map(fig: Figure, item: int, k: int) -> None:
    """Show another film (and ``k`` neighbours) in an ``item_map_figure``."""
    parts = fig.parts
    if not 1 <= k <= MAX_NEIGHBOURS:
        raise ValueError(f"item_map_figure: k must be in [1, {MAX_NEIGHBOURS}], got {k}")
    Q, ratings = parts.model.items.weight.data, parts.ratings
    ids, sims = nearest_items(parts.model, item, k)
    parts.links.set_segments([[Q[item], Q[j]] for j in ids])
    parts.chosen.set_offsets(Q[item][None])
    for rank, bar in enumerate(parts.bars):
        bar.set_visible(rank < k)
        if rank < k:
            bar.set_width(sims[rank])
            bar.set_color(plots.CLASS_COLORS[ratings.item_genre[ids[rank]]])
    parts.ax_bar.set_yticks(range(k), [ratings.item_name(j) for j in ids])
    parts.ax_bar.set_ylim(k - 0.5, -0.5)               # the most similar on top
    parts.ax_bar.set_title(f"most like {ratings.item_name(item)}")


def item_explorer(model: MatrixFactorization, ratings: Ratings):
    """The widget: sliders for the film and how many neighbours to show; the figure
    is drawn once and changed in place (``update_item_map``)."""
    import ipywidgets as widgets

    style = plots.slider_style()
    controls = {"item": widgets.IntSlider(value=0, min=0, max=ratings.n_items - 1,
                                          description="film", style=style),
                "k": widgets.IntSlider(value=5, min=1, max=MAX_NEIGHBOURS,
                                       description="neighbours shown", style=style)}

    def draw(item: int, k: int) -> Figure:
        return item_map_figure(model, ratings, item, k)

    def moving(fig: Figure) -> list:
        parts = fig.parts            # the bar axis's names and limits move, its x axis not
        return [parts.links, parts.chosen, *parts.bars, parts.ax_bar.yaxis, parts.ax_bar.title]

    return live_figure(draw, controls, update_item_map, moving, columns=2,
                       name="recommender.item_explorer")
