"""Lesson 12's overview picture: one row per application, as listed."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from dlcore.viz import applications  # noqa: E402


def test_overview_has_a_row_per_application():
    fig = applications.overview_figure()
    texts = [t.get_text() for t in fig.axes[0].texts]
    rows = applications.APPLICATIONS
    for row in rows:
        for text in row:                     # each text as often as the table lists it
            assert texts.count(text) == sum(other.count(text) for other in rows), text
    assert len(rows) == 8
    assert len(fig.axes[0].patches) == len(rows) * (3 + 2)      # boxes and arrows
