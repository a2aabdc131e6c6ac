"""The course's look: one palette, one set of fonts, four figure sizes.

    from dlcore.viz import plots        # re-exports everything here
    with plots.style():
        fig, ax = plots.subplots("medium")
        ...
    return plots.finish(fig)

Colours: ``CLASS_COLORS`` colour class 0, 1, 2, ... the same way in every lesson.
They are Okabe and Ito's palette for colour-blind readers (Okabe & Ito, "Color
Universal Design", 2008): blue, vermillion, bluish green, orange, reddish purple,
sky blue, yellow, black, then grey and wine for the 9th and 10th digit classes.
Blue and vermillion, classes 0 and 1, differ in lightness and in hue for the
1 in 12 men with red-green colour blindness, where a red and a green turn the
same olive. A model's output surface uses ``SURFACE_CMAP``, blue (low, class 0)
through white to vermillion (high, class 1); ``ACCENT`` (orange) marks the one
thing a figure points at; ``FORWARD_COLOR`` and ``BACKWARD_COLOR`` draw the two
passes of backpropagation; ``LINESTYLES`` and ``MARKERS`` tell compared lines
apart without colour.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import matplotlib.pyplot as plt
from matplotlib.colors import LinearSegmentedColormap, ListedColormap
from matplotlib.figure import Figure

SIZES = {
    "small": (4.8, 3.4),
    "medium": (6.4, 4.4),
    "wide": (10.0, 4.2),
    "square": (5.2, 5.0),
}
DPI = 90
BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY, YELLOW, BLACK = (
    "#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
CLASS_COLORS = (BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY, YELLOW, BLACK,
                "#999999", "#882255")
SURFACE_CMAP = LinearSegmentedColormap.from_list("dlcore_surface",
                                                 [BLUE, "#ffffff", VERMILLION])
ACCENT = ORANGE
FORWARD_COLOR, BACKWARD_COLOR = BLUE, VERMILLION
LINESTYLES = ("-", "--", ":", "-.")          # the i-th of several compared lines ...
MARKERS = ("o", "s", "^", "D", "v", "P")     # ... and its marker, so colour is not needed
RC = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
}



@contextlib.contextmanager
def style() -> Iterator[None]:
    """Draw inside this block to get the course's fonts and sizes."""
    with plt.rc_context(RC):
        yield


def subplots(size: str = "medium", nrows: int = 1, ncols: int = 1, **kwargs):
    """``plt.subplots`` with one of the fixed ``SIZES`` ('small', 'medium',
    'wide', 'square'), so a widget's figure never changes size as it redraws."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size!r}")
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=SIZES[size], dpi=DPI, **kwargs)


def finish(fig: Figure) -> Figure:
    """Close the figure (it stays drawable) and return it."""
    plt.close(fig)
    return fig


def class_cmap(num_classes: int) -> ListedColormap:
    """The first ``num_classes`` of ``CLASS_COLORS`` as a colormap."""
    return ListedColormap(CLASS_COLORS[:num_classes])
