"""Tic-tac-toe for learning from self-play: the rules, players, and games as data.

A board is a (9,) int array read row by row: 1 for X, -1 for O, 0 empty. X moves
first. A player is a function ``(board, player, rng) -> square``.

    result, boards = play(random_player, random_player, rng)   # +1 X won, -1 O won, 0 draw
    X, y = self_play_positions(2000, seed=0)                   # every position, its outcome
    winner(board), legal_moves(board)
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8),
         (0, 4, 8), (2, 4, 6))
OUTCOMES = ("O wins", "draw", "X wins")          # class k of a position: final result k - 1

Player = Callable[[np.ndarray, int, np.random.Generator], int]


def winner(board: np.ndarray) -> int:
    """+1 if X has three in a line, -1 if O has, 0 otherwise."""
    for a, b, c in LINES:
        if board[a] != 0 and board[a] == board[b] == board[c]:
            return int(board[a])
    return 0


def legal_moves(board: np.ndarray) -> np.ndarray:
    """The empty squares (indices 0-8)."""
    return np.flatnonzero(board == 0)


def random_player(board: np.ndarray, player: int, rng: np.random.Generator) -> int:
    """A legal move, uniformly at random."""
    return int(rng.choice(legal_moves(board)))


def play(x_player: Player, o_player: Player, rng: np.random.Generator
         ) -> tuple[int, list[np.ndarray]]:
    """One game, X first. Returns the result (+1 X won, -1 O won, 0 draw) and the
    board after every move."""
    board = np.zeros(9, dtype=np.int8)
    boards = []
    player = 1
    while True:
        square = (x_player if player == 1 else o_player)(board, player, rng)
        if board[square] != 0:
            raise ValueError(f"play: square {square} is taken on board {board.tolist()}")
        board = board.copy()
        board[square] = player
        boards.append(board)
        result = winner(board)
        if result or not (board == 0).any():
            return result, boards
        player = -player


def self_play_positions(games: int = 2000, x_player: Player = random_player,
                        o_player: Player = random_player, seed: int = 0
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Play ``games`` games and label every position reached with how its game
    ended: X (M, 9) float32 boards, y (M,) int64 classes of ``OUTCOMES``
    (0 O won, 1 draw, 2 X won)."""
    rng = np.random.default_rng(seed)
    boards, labels = [], []
    for _ in range(games):
        result, seen = play(x_player, o_player, rng)
        boards.extend(seen)
        labels.extend([result + 1] * len(seen))
    return np.array(boards, dtype=np.float32), np.array(labels, dtype=np.int64)


def match(player: Player, opponent: Player, games: int = 200, seed: int = 0
          ) -> dict[str, float]:
    """``player`` against ``opponent``, half the games as X and half as O.
    Returns the shares of wins, draws and losses for ``player``."""
    rng = np.random.default_rng(seed)
    score = {"win": 0, "draw": 0, "loss": 0}
    for game in range(games):
        as_x = game % 2 == 0
        result = play(player, opponent, rng)[0] if as_x else -play(opponent, player, rng)[0]
        score["win" if result > 0 else "loss" if result < 0 else "draw"] += 1
    return {k: v / games for k, v in score.items()}
