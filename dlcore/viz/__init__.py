"""Plots and the widgets of the lessons.

Shared plotting helpers live in ``dlcore.viz.plots``; each lesson (or family of
lessons) has its own module of widgets, imported by name, for example
``from dlcore.viz import neurons``. A widget is a thin layer over a plain
function that draws a figure, so tests can call the function without a browser.
"""
