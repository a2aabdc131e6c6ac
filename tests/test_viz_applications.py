"""Lesson 12's overview picture: one row per application, as listed."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from dlcore.viz import applications  # noqa: E402


def test_overview_has_a_row_per_application():
    fig = applications.overview_figure()
    texts = [t.get_text() for t in fig.axes[0].texts]
    for title, x_in, net, out in applications.APPLICATIONS:
        for text in (title, x_in, net, out):
            assert texts.count(text) == 1, text
    assert len(fig.axes[0].patches) == 5 * 3 + 5 * 2      # boxes and arrows
