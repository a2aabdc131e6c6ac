"""Plots and the widgets of the lessons.

``dlcore.viz.plots`` is the course's plotting vocabulary in one import (style and
palette, decision boundaries, diagrams, image grids, ``show_source``); its code lives
in one module per idea (``style``, ``boundary``, ``layers``, ``diagrams``, ``images``,
``source``). ``dlcore.viz.widgets`` is the one way widgets are built: a picture that
redraws in place in a blink (``interactive_figure``, ``FigureView``), a busy state for
what is slow (``Busy``), live frames for what trains (``Player``). Each lesson (or
family of lessons) has its own module of widgets, imported by name, for example
``from dlcore.viz import neurons``. A widget is a thin layer over plain functions that
draw a figure or compute a frame, so tests call them without a browser.
"""
