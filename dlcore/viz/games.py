"""Lesson 12, game playing: a tic-tac-toe board with what a value network thinks
of every legal move, and the results of matches as bars.

    from dlcore.viz import games
    games.board_figure(board, values, player=1)   # values (9,): NaN where no move
    games.match_figure({"random vs random": {...}, "network vs random": {...}})
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from . import plots

MARKS = {1: "X", -1: "O"}


def board_figure(board: np.ndarray, values: np.ndarray, player: int = 1,
                 title: str | None = None) -> Figure:
    """The board (9,) (1 X, -1 O, 0 empty); every empty square shaded and
    labelled with ``values`` (9,), the network's score of playing there for
    ``player``; the best move outlined."""
    board, values = np.asarray(board).reshape(3, 3), np.asarray(values, float).reshape(3, 3)
    empty = board == 0
    best = np.unravel_index(np.nanargmax(np.where(empty, values, np.nan)), (3, 3))
    with plots.style():
        fig, ax = plots.subplots("small")
        shade = np.where(empty, values, np.nan)
        image = ax.imshow(shade, cmap="cividis", vmin=-1, vmax=1)
        for r in range(3):
            for c in range(3):
                if board[r, c]:
                    ax.text(c, r, MARKS[int(board[r, c])], ha="center", va="center",
                            fontsize=28, color="black")
                else:
                    ax.text(c, r, f"{values[r, c]:+.2f}", ha="center", va="center",
                            fontsize=11, color="white" if values[r, c] < 0.2 else "black")
        ax.add_patch(_outline(best))
        ax.set_xticks([])
        ax.set_yticks([])
        for k in (0.5, 1.5):
            ax.axhline(k, color="black", lw=2)
            ax.axvline(k, color="black", lw=2)
        fig.colorbar(image, ax=ax, shrink=0.8,
                     label=f"P({MARKS[player]} wins) − P({MARKS[player]} loses)")
        ax.set_title(title or f"{MARKS[player]} to move: the network's value of each square",
                     fontsize=10)
    return plots.finish(fig)


def _outline(cell: tuple[int, int]):
    from matplotlib.patches import Rectangle
    r, c = cell
    return Rectangle((c - 0.46, r - 0.46), 0.92, 0.92, fill=False, lw=3,
                     edgecolor=plots.CLASS_COLORS[1])


def match_figure(results: Mapping[str, Mapping[str, float]]) -> Figure:
    """Stacked bars, one per match: the shares of wins, draws and losses of the
    first-named player (``results[name] = {'win': .., 'draw': .., 'loss': ..}``)."""
    names = list(results)
    colors = {"win": plots.CLASS_COLORS[0], "draw": "#999999", "loss": plots.CLASS_COLORS[1]}
    hatches = {"win": "", "draw": "..", "loss": "//"}
    with plots.style():
        fig, ax = plots.subplots("medium")
        fig.set_size_inches(7, 0.9 * len(names) + 1.4)     # a bar per match, no empty band
        left = np.zeros(len(names))
        for outcome in ("win", "draw", "loss"):
            share = np.array([100 * results[n][outcome] for n in names])
            ax.barh(names, share, left=left, color=colors[outcome], hatch=hatches[outcome],
                    edgecolor="white", label=outcome)
            for y, (x0, w) in enumerate(zip(left, share, strict=True)):
                if w >= 6:
                    ax.text(x0 + w / 2, y, f"{w:.0f}%", ha="center", va="center",
                            color="white" if outcome != "draw" else "black", fontsize=10)
            left += share
        ax.set_xlim(0, 100)
        ax.invert_yaxis()
        ax.set_xlabel("share of games (%)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3, fontsize=9)
    return plots.finish(fig)
