"""Lesson 12's diagnosis: the four outcomes at a threshold, and the figures built on them."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from dlcore.viz import diagnosis as dx  # noqa: E402
from dlcore.viz import widgets  # noqa: E402

P = np.array([0.9, 0.6, 0.2, 0.7, 0.1, 0.4])
Y = np.array([0, 0, 0, 1, 1, 1])          # 0 malignant, 1 benign


def test_counts_at_a_threshold():
    c = dx.counts(P, Y, 0.5)
    assert (c["TP"], c["FN"], c["FP"], c["TN"]) == (2, 1, 1, 2)
    assert c["sensitivity"] == 2 / 3 and c["specificity"] == 2 / 3
    low = dx.counts(P, Y, 0.15)            # call almost everything malignant
    assert (low["FN"], low["FP"]) == (0, 2)
    np.testing.assert_array_equal(dx.predict_at(P, 0.5), [0, 0, 1, 0, 1, 1])


def test_lower_threshold_trades_missed_cancers_for_false_alarms():
    grid = np.linspace(0, 1, 21)
    fn = [dx.counts(P, Y, t)["FN"] for t in grid]
    fp = [dx.counts(P, Y, t)["FP"] for t in grid]
    assert np.all(np.diff(fn) >= 0) and np.all(np.diff(fp) <= 0)


def test_trained_network_and_figures():
    run = dx.train_diagnosis(epochs=10)
    assert run.p_malignant.shape == run.y_test.shape == (113,)
    assert run.test_accuracy > 0.9
    fig = dx.threshold_figure(run.p_malignant, run.y_test, 0.3)
    c = dx.counts(run.p_malignant, run.y_test, 0.3)
    assert fig.axes[0].get_title().startswith(f"cancers missed: {c['FN']}, false alarms: "
                                             f"{c['FP']} ")
    matrix = dx.confusion_at(run.p_malignant, run.y_test, 0.3).axes[0].images[0].get_array()
    np.testing.assert_array_equal(matrix, [[c["TP"], c["FN"]], [c["FP"], c["TN"]]])


def test_threshold_explorer_moves_the_errors_and_the_matrix():
    run = dx.train_diagnosis(epochs=10)
    box = dx.threshold_explorer(run)
    points, matrix = (view.fig for view in box.views)
    before = [widgets.image_array(view).copy() for view in box.views]
    widgets.TIMINGS.clear()
    widgets.find_control(box, "decision threshold").value = 0.1
    c = dx.counts(run.p_malignant, run.y_test, 0.1)
    assert points.axes[0].get_title().startswith(f"cancers missed: {c['FN']}, false alarms: "
                                                 f"{c['FP']} ")
    wrong = points.parts.dots[1].get_offsets()[:, 0], points.parts.dots[3].get_offsets()[:, 0]
    assert len(wrong[0]) == c["FN"] and len(wrong[1]) == c["FP"]
    assert np.all(wrong[1] >= 0.1) and np.all(wrong[0] < 0.1)
    assert list(points.parts.lines[0].get_xdata()) == [0.1, 0.1]
    np.testing.assert_array_equal(matrix.axes[0].images[0].get_array(),
                                  [[c["TP"], c["FN"]], [c["FP"], c["TN"]]])
    assert [t.get_text() for t in matrix.axes[0].texts] == [str(c[k]) for k in
                                                            ("TP", "FN", "FP", "TN")]
    assert matrix.axes[0].get_title() == f"accuracy {c['accuracy']:.1%}"   # slider: 0.10
    for view, old in zip(box.views, before, strict=True):
        assert (widgets.image_array(view) != old).any()
    worst = max(r["compute_ms"] + r["draw_ms"] + r["encode_ms"] for r in widgets.TIMINGS)
    assert len(widgets.TIMINGS) == 2 and worst < 500       # a gross-regression guard
    # a step that changes no count moves the dots' picture only, not the matrix
    def four(t):
        return [dx.counts(run.p_malignant, run.y_test, t)[k] for k in ("TP", "FN", "FP", "TN")]

    steps = np.round(np.arange(0.02, 0.99, 0.02), 2)
    low, high = next((a, b) for a, b in zip(steps[:-1], steps[1:], strict=True)
                     if four(a) == four(b))
    widgets.find_control(box, "decision threshold").value = low
    widgets.TIMINGS.clear()
    widgets.find_control(box, "decision threshold").value = high
    assert [r["widget"] for r in widgets.TIMINGS] == ["diagnosis.threshold_explorer"]
    assert list(points.parts.lines[0].get_xdata()) == [high, high]
