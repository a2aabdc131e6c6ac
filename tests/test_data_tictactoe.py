"""dlcore.data.tictactoe: the rules, legal games, and positions labelled by outcome."""
import numpy as np
import pytest

from dlcore.data.tictactoe import (
    OUTCOMES,
    legal_moves,
    match,
    play,
    random_player,
    self_play_positions,
    winner,
)


def test_winner_reads_rows_columns_and_diagonals():
    assert winner(np.array([1, 1, 1, 0, -1, -1, 0, 0, 0])) == 1
    assert winner(np.array([-1, 1, 0, -1, 1, 0, -1, 0, 1])) == -1
    assert winner(np.array([-1, 1, 1, 0, -1, 0, 1, 0, -1])) == -1
    assert winner(np.array([1, -1, 1, 1, -1, -1, -1, 1, 1])) == 0          # a draw
    assert legal_moves(np.array([1, 0, -1, 0, 0, 0, 0, 0, 1])).tolist() == [1, 3, 4, 5, 6, 7]


def test_games_alternate_and_end_at_a_win_or_a_full_board():
    rng = np.random.default_rng(0)
    for _ in range(50):
        result, boards = play(random_player, random_player, rng)
        assert all(np.sum(b != 0) == i + 1 for i, b in enumerate(boards))
        assert all(0 <= np.sum(b == 1) - np.sum(b == -1) <= 1 for b in boards)
        assert result == winner(boards[-1])
        assert result != 0 or not (boards[-1] == 0).any()


def test_positions_carry_their_games_outcome():
    X, y = self_play_positions(100, seed=0)
    assert X.shape[1] == 9 and len(X) == len(y) and len(OUTCOMES) == 3
    assert set(np.unique(y)) <= {0, 1, 2}
    finished = [i for i, b in enumerate(X) if winner(b) != 0]
    assert all(y[i] == winner(X[i]) + 1 for i in finished)


def test_an_illegal_move_is_named_and_match_shares_sum_to_one():
    with pytest.raises(ValueError, match="is taken"):
        play(lambda b, p, r: 0, random_player, np.random.default_rng(0))
    shares = match(random_player, random_player, games=40, seed=0)
    assert abs(sum(shares.values()) - 1) < 1e-9
