"""dlcore.viz.start: the course map and the first widget."""
from __future__ import annotations

import matplotlib
import numpy as np

from dlcore.viz import start

matplotlib.use("Agg")


def test_course_lists_the_fifteen_lessons_in_order():
    names = [name for name, _, _ in start.COURSE]
    assert len(names) == 15
    assert names == sorted(names)
    assert [int(n[:2]) for n in names] == list(range(15))
    assert names[13:] == ["13_attention_and_transformers", "14_autograd"]
    assert {part for _, _, part in start.COURSE} == set(start.PARTS)


def test_course_map_draws_every_lesson_and_highlights_the_current_one():
    fig = start.course_map(current="03_loss_functions")
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    for name, title, _ in start.COURSE:
        assert f"{name[:2]}  {title}" in texts
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    filled = [p for p in boxes if p.get_facecolor()[:3] != (1.0, 1.0, 1.0)]
    assert len(boxes) == 15 and len(filled) == 1
    # one arrow between neighbours of a row: 15 lessons in 5 rows
    assert sum(isinstance(p, FancyArrowPatch) for p in ax.patches) == 15 - len(start.PARTS)
    assert ax.get_title().startswith("The course: 15 lessons")


def test_line_figure_draws_the_line_it_is_given():
    fig = start.line_figure(w=1.5, b=-1.0)
    line, point = fig.axes[0].get_lines()[-2:]
    x, y = line.get_data()
    np.testing.assert_allclose(y, 1.5 * x - 1.0)
    np.testing.assert_allclose(point.get_ydata(), [0.5])
    assert fig.axes[0].get_title() == "y = 1.5 x - 1.0"


def test_line_label_follows_the_sliders():
    assert start.line_label(2.0, 1.0).startswith("y = 2.0 x + 1.0: the line rises")
    assert "falls" in start.line_label(-0.5, 0.0)
    assert "flat" in start.line_label(0.0, 0.0)
    assert start.line_label(1.0, -0.5).startswith("y = 1.0 x - 0.5:")


def test_first_widget_moves_the_line_the_label_and_the_picture():
    import time

    import ipywidgets as widgets

    from dlcore.viz import widgets as vw

    box = start.first_widget()
    label = next(c for c in box.children if isinstance(c, widgets.Label))
    plot = box.children[-1]
    fig = plot.view.fig
    before = vw.image_array(plot).copy()
    w = vw.find_control(box, "weight w")
    b = vw.find_control(box, "bias b")
    assert w.continuous_update and b.continuous_update      # cheap: follows the drag
    w.value = -1.0
    assert "falls" in label.value
    b.value = 2.0
    assert plot.view.fig is fig                              # updated in place
    line, point = fig.parts.line, fig.parts.point
    np.testing.assert_allclose(line.get_ydata(), -1.0 * line.get_xdata() + 2.0)
    np.testing.assert_allclose(point.get_ydata(), [1.0])
    assert fig.parts.title.get_text() == "y = -1.0 x + 2.0"
    assert fig.parts.label.get_text() == "at x = 1: y = 1.0"
    assert fig.parts.label.xy == (1, 1.0)                   # the label follows the point
    assert (vw.image_array(plot) != before).any()
    blitted = vw.image_array(plot).copy()                   # only the moving artists redrawn
    plot.view.show()                                        # a full redraw: the same picture
    np.testing.assert_array_equal(vw.image_array(plot), blitted)
    t0 = time.process_time()   # CPU time: a loaded machine does not fail it
    w.value = 0.5
    assert time.process_time() - t0 < 0.5                     # gross-regression guard
