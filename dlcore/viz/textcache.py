"""Text a widget draws again and again, rendered once.

A widget's redraw writes mostly the same strings each time: tick labels, axis labels,
titles, a colour bar's numbers; only a value or two changes. Matplotlib 3.11 lays each
string out with its shaping engine and renders it glyph by glyph at every draw, which is
30-60% of a redraw in profiles of the slowest widgets.

``cache_text(renderer)`` makes an Agg renderer keep the glyph bitmaps of each string it
draws, keyed by everything that decides them (the string, font, size, dpi, angle,
hinting, antialiasing, and where it falls within a pixel), and put them back the next
time: the same pixels, without the layout and the rasterising. One cache serves every
renderer so made (a widget that draws a new figure for each change finds its tick labels
there too). ``FigureView`` does it to the canvas of every widget figure; nothing else is
touched.

On a matplotlib without these internals (before 3.11, where a string is rendered whole
and is already quick) the renderer is left as it is.
"""
from __future__ import annotations

import functools
import math
from collections import OrderedDict

import numpy as np
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.font_manager import fontManager, get_font
from matplotlib.ft2font import FT2Font

try:
    from matplotlib.ft2font import RenderMode
except ImportError:                                    # matplotlib before 3.10
    RenderMode = None

SUPPORTED = (RenderMode is not None and hasattr(FT2Font, "_layout")
             and not hasattr(RendererAgg, "_get_font_height_metrics")
             and hasattr(FT2Font, "_render_glyph") and hasattr(FT2Font, "_set_transform"))
MAX_STRINGS = 4096          # strings kept (the least recently drawn go first)


class TextCache:
    """The glyph bitmaps of each string drawn, and each font's height metrics (see the
    module); its methods take the renderer drawing."""

    def __init__(self, max_strings: int = MAX_STRINGS):
        self.max_strings = max_strings
        self.strings: OrderedDict = OrderedDict()
        self.hits = self.misses = 0
        self.heights: dict = {}

    def font_height_metrics(self, renderer, prop):
        """A font's ascent, descent and line gap in pixels, as ``Text._get_layout``
        reads them from the font's tables at every layout of every text (two table reads
        each time); here once per font and size. (None, None, None) lets matplotlib
        measure instead (a font without those tables)."""
        key = (hash(prop), prop.get_size_in_points(), renderer.dpi)
        metrics = self.heights.get(key)
        if metrics is None:
            metrics = self.heights[key] = _font_height_metrics(prop, renderer.dpi)
        return metrics

    def draw_text(self, r, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath:                                      # mathtext: drawn as matplotlib does
            return RendererAgg.draw_text(r, gc, x, y, s, prop, angle, ismath, mtext)
        # FreeType's y is upwards; the string's pixel grid starts at (ix, iy), and
        # (x - ix, up - iy) is where it falls within that pixel.
        up = r.height - y
        ix, iy = math.floor(x), math.floor(up)
        features = getattr(mtext, "get_fontfeatures", lambda: None)()
        language = getattr(mtext, "get_language", lambda: None)()
        key = (s, hash(prop), prop.get_size_in_points(), r.dpi, angle, get_hinting_flag(),
               bool(gc.get_antialiased()), tuple(features) if features else None,
               language if isinstance(language, (str, type(None))) else repr(language),
               x - ix, up - iy)
        glyphs = self.strings.get(key)
        if glyphs is None:
            self.misses += 1
            glyphs = _render(r, gc, x, up, ix, iy, s, prop, angle, features, language)
            self.strings[key] = glyphs
            if len(self.strings) > self.max_strings:
                self.strings.popitem(last=False)
        else:
            self.hits += 1
            self.strings.move_to_end(key)
        height = int(r.height)
        for buffer, left, top in glyphs:
            r._renderer.draw_text_image(buffer, left + ix, height - (top + iy) + buffer.shape[0],
                                        0, gc)


def _render(r, gc, x, up, ix, iy, s, prop, angle, features, language) -> list:
    """Each glyph's bitmap and its offset from (ix, iy): what
    ``RendererAgg._draw_text_glyphs_and_boxes`` draws, kept."""
    font = r._prepare_font(prop)
    items = font._layout(s, flags=get_hinting_flag(), features=features,
                         language=language)
    size = prop.get_size_in_points()
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    rotation = (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
    mode = RenderMode.NORMAL if gc.get_antialiased() else RenderMode.MONO
    flags = get_hinting_flag()
    glyphs = []
    for item in items:
        glyph_font, dx, dy = item.ft_object, item.x, item.y
        glyph_font.set_size(size, r.dpi)
        glyph_font._set_transform(rotation, [round(0x40 * (x + dx * cos - dy * sin)),
                                             round(0x40 * (up + dx * sin + dy * cos))])
        bitmap = glyph_font._render_glyph(item.glyph_index, flags, mode)
        buffer = np.array(bitmap.buffer)            # a copy: FreeType reuses its own
        if not gc.get_antialiased():
            buffer *= 0xff
        glyphs.append((buffer, bitmap.left - ix, bitmap.top - iy))
    return glyphs


def _font_height_metrics(prop, dpi: float) -> tuple:
    """What matplotlib 3.11's ``Text._get_layout`` computes when the renderer has no
    ``_get_font_height_metrics``: the OS/2 table's typographic metrics, else hhea's."""
    font = get_font(fontManager._find_fonts_by_props(prop))
    for table_name, gap, ascent, descent in (
            ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
            ("hhea", "lineGap", "ascent", "descent")):
        table = font.get_sfnt_table(table_name)
        if table is None:
            continue
        scale = prop.get_size_in_points() * dpi / 72 / font.get_sfnt_table("head")["unitsPerEm"]
        return table[ascent] * scale, -table[descent] * scale, table[gap] * scale
    return None, None, None


CACHE = TextCache()


def cache_text(renderer, cache: TextCache = CACHE) -> TextCache | None:
    """Make ``renderer`` (an Agg renderer) draw text through ``cache`` (the one shared
    cache unless told); returns it (the one it already uses, if any), or None where
    that is not supported."""
    if not SUPPORTED or not isinstance(renderer, RendererAgg):
        return None
    if "text_cache" not in renderer.__dict__:
        renderer.text_cache = cache
        renderer.draw_text = functools.partial(cache.draw_text, renderer)   # this one only
        renderer._get_font_height_metrics = functools.partial(cache.font_height_metrics,
                                                              renderer)
    return renderer.text_cache
