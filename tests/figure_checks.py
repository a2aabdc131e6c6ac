"""Checks on figures that several test files share."""
from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg


def assert_inside_and_apart(fig) -> None:
    """Drawn without a layout engine: every axes with its labels and title inside the
    figure, and no two overlapping (nothing cut off, nothing drawn over another)."""
    assert fig.get_layout_engine() is None
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]
    for box in boxes:
        assert box.x0 >= 0 and box.y0 >= 0
        assert box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a.x1 <= b.x0 or b.x1 <= a.x0 or a.y1 <= b.y0 or b.y1 <= a.y0
