"""The text cache of widget figures: the same pixels as matplotlib draws, faster."""
from __future__ import annotations

import time

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dlcore.viz import textcache
from dlcore.viz import widgets as vw

pytestmark = pytest.mark.skipif(not textcache.SUPPORTED,
                                reason="this matplotlib renders a string whole: no cache")


def busy_figure(value: float = 0.5) -> Figure:
    """Texts of every kind a widget draws: ticks, titles, labels, rotated and multi-line
    text, a legend, a mono (not antialiased) text, mathtext, a non-Latin subscript."""
    fig = Figure(figsize=(6, 3), dpi=90)
    FigureCanvasAgg(fig)
    ax, ax2 = fig.subplots(1, 2)
    ax.plot([0, 1], [0, value], label="loss\nvalue")
    ax.set_title(f"w₁ = {value:.2f} · sigmoid")
    ax.set_xlabel("x₁ feature", rotation=10)
    ax2.text(0.2, 0.5, "the line puts 86%\nof the points", fontsize=8.5, rotation=30)
    ax2.text(0.3, 0.2, "mono\nsecond line", antialiased=False, fontsize=12, color="r",
             linespacing=1.8)
    ax2.set_ylabel(r"$\sigma(z)$ (log)")
    fig.legend(loc="outside right upper")
    return fig


def pixels(fig: Figure) -> np.ndarray:
    return np.asarray(fig.canvas.buffer_rgba()).copy()


@pytest.mark.parametrize("hinting", ["none", "auto"])
def test_cached_text_is_drawn_pixel_for_pixel_as_matplotlib_draws_it(hinting):
    with matplotlib.rc_context({"text.hinting": hinting}):
        plain = busy_figure()
        plain.canvas.draw()
        cached = busy_figure()
        cache = textcache.cache_text(cached.canvas.get_renderer(), textcache.TextCache())
        cached.canvas.draw()                      # every string rendered and kept
        assert cache.misses > 10 and cache.hits == 0
        assert (pixels(cached) == pixels(plain)).all()
        cached.canvas.draw()                      # every string put back
        assert cache.hits == cache.misses
        assert (pixels(cached) == pixels(plain)).all()
        # a changed string is rendered anew, the rest put back
        drawn = cache.misses
        for fig in (plain, cached):
            fig.axes[0].set_title("w₁ = 0.75 · sigmoid")
            fig.canvas.draw()
        assert cache.misses == drawn + 1 and cache.hits == 2 * drawn - 1
        assert (pixels(cached) == pixels(plain)).all()


def test_the_cache_keeps_at_most_its_size_and_is_installed_once():
    fig = busy_figure()
    renderer = fig.canvas.get_renderer()
    cache = textcache.cache_text(renderer, textcache.TextCache(max_strings=5))
    assert textcache.cache_text(renderer) is cache
    fig.canvas.draw()
    assert len(cache.strings) == 5


def test_one_cache_serves_every_figure_so_a_new_figure_finds_its_strings():
    cache = textcache.TextCache()
    first = busy_figure()
    textcache.cache_text(first.canvas.get_renderer(), cache)
    first.canvas.draw()
    drawn = cache.misses
    second = busy_figure()                    # a widget that draws a new figure a change
    textcache.cache_text(second.canvas.get_renderer(), cache)
    second.canvas.draw()
    assert cache.misses == drawn and cache.hits == drawn
    assert (pixels(second) == pixels(first)).all()


def test_figure_views_cache_their_text_and_a_redraw_gets_faster():
    fig = busy_figure()
    view = vw.FigureView(fig)
    cache = fig.canvas.get_renderer().text_cache
    assert cache is textcache.CACHE
    plain = busy_figure()
    plain.canvas.draw()
    times = {"plain": [], "cached": []}
    for _ in range(5):
        for name, f in (("plain", plain), ("cached", fig)):
            t = time.perf_counter()
            f.canvas.draw()
            times[name].append(time.perf_counter() - t)
    assert cache.hits > 0
    # measured 2-2.5x; this only catches the cache doing nothing
    assert min(times["cached"]) < 0.9 * min(times["plain"]), times
    view.show()
