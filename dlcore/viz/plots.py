"""The course's plotting vocabulary in one import.

    from dlcore.viz import plots
    fig = plots.decision_boundary(model, X, y)      # what a 2-D classifier does
    fig = plots.network_diagram(model)              # circles and lines from a Sequential
    plots.show_source(nn.Linear.backward)           # the engine's code in a lesson

Every drawing function returns a closed ``Figure`` (closed so a notebook shows it
once, where it is returned or displayed, and so widgets that redraw it do not pile
up open figures); a test reads its axes. The code lives in one module per idea,
and this module re-exports them so lessons need one name:

- ``style``: the palette (``CLASS_COLORS``, ``SURFACE_CMAP``, ``ACCENT``, ...), fonts
  (``with plots.style():``), the fixed figure ``SIZES`` (``plots.subplots``), ``finish``;
- ``boundary``: ``scatter_classes``, ``grid``, ``surface``, ``decision_boundary``;
- ``layers``: ``layer_sizes``, ``layer_outputs`` (walking a Sequential);
- ``diagrams``: ``network_diagram``, and the ``box`` and ``arrow`` of every block diagram;
- ``images``: ``image_grid``, ``confusion_matrix``, ``mosaic``;
- ``widgets``: ``interactive_figure``, ``slider_style``, and the machinery of fast
  widgets (``FigureView``, ``Busy``, ``Player``);
- ``source``: ``show_source``.
"""
from __future__ import annotations

from .boundary import decision_boundary, grid, scatter_classes, surface
from .diagrams import arrow, box, network_diagram
from .images import confusion_matrix, image_grid, mosaic
from .layers import layer_outputs, layer_sizes
from .source import show_source
from .style import (
    ACCENT,
    BACKWARD_COLOR,
    BLACK,
    BLUE,
    CLASS_COLORS,
    DPI,
    FORWARD_COLOR,
    GREEN,
    LINESTYLES,
    MARKERS,
    ORANGE,
    PURPLE,
    RC,
    SIZES,
    SKY,
    SURFACE_CMAP,
    VERMILLION,
    YELLOW,
    class_cmap,
    finish,
    style,
    subplots,
)
from .widgets import interactive_figure, slider_style

__all__ = [
    "ACCENT", "BACKWARD_COLOR", "BLACK", "BLUE", "CLASS_COLORS", "DPI", "FORWARD_COLOR",
    "GREEN", "LINESTYLES", "MARKERS", "ORANGE", "PURPLE", "RC", "SIZES", "SKY",
    "SURFACE_CMAP", "VERMILLION", "YELLOW", "arrow", "box", "class_cmap", "confusion_matrix",
    "decision_boundary", "finish", "grid", "image_grid", "interactive_figure",
    "layer_outputs", "layer_sizes", "mosaic", "network_diagram", "scatter_classes", "show_source",
    "slider_style", "style", "subplots", "surface",
]
