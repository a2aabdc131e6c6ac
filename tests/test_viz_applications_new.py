"""Lesson 12's video, game and fraud figures draw what they say."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore.data.clips import make_clips  # noqa: E402
from dlcore.viz import fraud, games, video, widgets  # noqa: E402


def test_clips_figure_has_a_frame_per_cell_and_marks_mistakes():
    X, y = make_clips(3, frames=4, seed=0)
    wrong = (y + 1) % 4
    fig = video.clips_figure(X, y, predicted=[y[0], wrong[1], y[2]])
    (ax,) = fig.axes
    mosaic = ax.images[0].get_array()
    np.testing.assert_array_equal(mosaic[:12, :12], X[0, 0, 0])          # clip 0, frame 1
    np.testing.assert_array_equal(mosaic[14:26, 42:54], X[1, 3, 0])    # clip 1, frame 4
    texts = [t.get_text() for t in ax.texts]
    assert [t for t in texts if t.startswith("frame")] == [f"frame {k}" for k in range(1, 5)]
    labels = [t for t in texts if t.startswith("moves")]
    assert len(labels) == 3 and sum("✗" in label for label in labels) == 1
    with pytest.raises(ValueError, match="N, T, 1, H, W"):
        video.clips_figure(X[:, :, 0], y)


def test_board_figure_writes_the_values_of_empty_squares():
    board = np.array([1, 0, -1, 0, 1, 0, 0, 0, -1])
    values = np.where(board == 0, np.linspace(-1, 1, 9), np.nan)
    fig = games.board_figure(board, values, player=1)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("X") == 2 and texts.count("O") == 2
    assert f"{values[7]:+.2f}" in texts


def test_match_figure_and_precision_recall():
    fig = games.match_figure({"a": {"win": 0.5, "draw": 0.2, "loss": 0.3}})
    assert len(fig.axes[0].patches) == 3
    p = np.array([0.9, 0.6, 0.4, 0.1])
    y = np.array([1, 0, 1, 0])
    precision, recall = fraud.precision_recall_at(p, y, np.array([0.05, 0.5, 0.95]))
    assert np.allclose(precision[:2], [0.5, 0.5]) and np.isnan(precision[2])   # none flagged
    assert np.allclose(recall, [1.0, 0.5, 0.0])
    fig = fraud.threshold_curves(p, y, chosen=0.5)
    assert len(fig.axes) == 2
    assert fig.axes[1].get_title() == "threshold 0.500: 2 flagged, recall 50%, precision 50%"


def test_fraud_threshold_explorer_moves_the_line_and_says_what_it_flags():
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.02).astype(int)
    p = np.clip(rng.beta(1, 20, 2000) + 0.2 * y * rng.random(2000), 0, 1)
    box = fraud.threshold_explorer(p, y, start=0.05)
    fig = box.view.fig
    before = widgets.image_array(box).copy()
    widgets.TIMINGS.clear()
    slider = widgets.find_control(box, "threshold")
    slider.value = 0.2
    threshold = slider.value
    flagged = p >= threshold
    caught = int(np.sum(flagged & (y == 1)))
    assert all(list(line.get_xdata()) == [threshold] * 2 for line in fig.parts.lines)
    assert fig.axes[1].get_title() == (
        f"threshold {threshold:.3f}: {flagged.sum()} flagged, recall "
        f"{caught / y.sum():.0%}, precision {caught / flagged.sum():.0%}")
    assert (widgets.image_array(box) != before).any()
    worst = max(t["compute_ms"] + t["draw_ms"] + t["encode_ms"] for t in widgets.TIMINGS)
    assert len(widgets.TIMINGS) == 1 and worst < 500       # a gross-regression guard
