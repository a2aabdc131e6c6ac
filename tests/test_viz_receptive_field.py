"""Lesson 07's receptive-field picture draws each region where it is given."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from dlcore.viz import receptive_field as rf  # noqa: E402


def test_regions_are_drawn_as_squares_in_pixel_coordinates():
    regions = {"conv": (-1.0, -1.0, 3), "pool": (-3.0, -3.0, 10)}
    seen = np.zeros((8, 8), dtype=bool)
    seen[:7, :7] = True
    fig = rf.receptive_field_figure(np.zeros((8, 8)), regions, measured=seen)
    squares = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)
               and p.get_label() and not p.get_label().startswith("_")]
    assert [p.get_label() for p in squares] == ["conv: 3×3 pixels", "pool: 10×10 pixels"]
    assert squares[1].get_xy() == (-3.5, -3.5) and squares[1].get_width() == 10
    x0, x1 = fig.axes[0].get_xlim()
    assert x0 <= -3.5 and x1 >= 7.5                    # the widest square is fully shown
    assert "49 of 64" in fig.axes[1].get_title()


def test_an_image_that_is_not_2d_is_refused():
    with pytest.raises(ValueError, match=r"expected an image \(H, W\)"):
        rf.receptive_field_figure(np.zeros((1, 8, 8)), {})
