"""Printed digits, rendered from the fonts that ship with matplotlib.

An MNIST-like data set made on the spot, offline: each image is one digit in a
random DejaVu font (Sans, Serif, Mono, with their bold and slanted variants),
at a random size, position and small rotation, with a little noise. White ink
(1.0) on black (0.0), as MNIST.

How it is fast: each (font, digit) glyph is rasterised once, at 64x64, with
matplotlib's Agg renderer (``TextPath`` -> ``RendererAgg.draw_path``) and kept
(``functools.lru_cache``); every image is then one affine resampling of that
master (``scipy.ndimage.affine_transform``: scale, rotate, shift in one step).
Whole data sets are cached too, so asking twice costs nothing. A few thousand
28x28 images take well under a second.

``size=8`` imitates scikit-learn's 8x8 digits (``load_digits``): rendered
at 32x32, thresholded, then each 4x4 block's count of ink pixels (0..16),
divided by 16, as the UCI data were made. A source domain for transfer learning.
"""
from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from .split import Splits, train_val_test_split

FONTS = ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique",
         "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic",
         "DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSansMono-Oblique",
         "DejaVuSansMono-BoldOblique")
_MASTER = 64          # side of the cached glyph images
_GLYPH_HEIGHT = 48    # glyph height inside them
_INK = 0.5            # coverage above which a 32x32 pixel counts as ink (size 8)


@lru_cache(maxsize=256)
def _glyph(font: str, digit: int) -> np.ndarray:
    """Digit ``digit`` in ``font``: (64, 64) float32 coverage in [0, 1], centred,
    48 pixels tall."""
    import matplotlib
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    path = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", f"{font}.ttf")
    if not os.path.exists(path):
        raise ValueError(f"printed digits: font {font!r} is not among matplotlib's fonts; "
                         f"choose from {FONTS}")
    outline = TextPath((0, 0), str(digit), size=1, prop=FontProperties(fname=path))
    box = outline.get_extents()
    k = _GLYPH_HEIGHT / box.height
    to_canvas = (Affine2D().translate(-(box.x0 + box.x1) / 2, -(box.y0 + box.y1) / 2)
                 .scale(k).translate(_MASTER / 2, _MASTER / 2))
    renderer = RendererAgg(_MASTER, _MASTER, 72)
    renderer.draw_path(renderer.new_gc(), outline, to_canvas, (0, 0, 0, 1))
    image = np.asarray(renderer.buffer_rgba())[..., 3].astype(np.float32) / 255.0
    image.setflags(write=False)
    return image


def _place(master: np.ndarray, size: int, height: float, widen: float, angle: float,
           shift: np.ndarray) -> np.ndarray:
    """Resample ``master`` into a (size, size) image: glyph ``height`` pixels
    tall, ``widen`` times its natural width, rotated by ``angle`` radians,
    centre moved by ``shift`` (row, col)."""
    from scipy import ndimage

    c, s = np.cos(angle), np.sin(angle)
    # Output (row, col) -> master (row, col): undo the widening, the rotation, the scale.
    matrix = (_GLYPH_HEIGHT / height) * np.array([[c, -s], [s, c]]) @ np.diag([1.0, 1 / widen])
    centre_out = (size - 1) / 2 + shift
    centre_in = np.full(2, (_MASTER - 1) / 2)
    offset = centre_in - matrix @ centre_out
    return ndimage.affine_transform(master, matrix, offset, output_shape=(size, size),
                                    order=1, mode="constant", cval=0.0)


@lru_cache(maxsize=16)
def _generate(n: int, size: int, seed: int, fonts: tuple[str, ...],
              scale: tuple[float, float], widen: tuple[float, float], rotation: float,
              shift: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    g = np.random.default_rng(seed)
    y = g.permutation(np.arange(n) % 10).astype(np.int64)
    font_ids = g.integers(0, len(fonts), size=n)
    heights = g.uniform(*scale, size=n)
    widths = g.uniform(*widen, size=n)
    angles = np.deg2rad(g.uniform(-rotation, rotation, size=n))
    shifts = g.uniform(-shift, shift, size=(n, 2))
    render = 32 if size == 8 else size
    X = np.empty((n, render, render), dtype=np.float32)
    for i in range(n):
        X[i] = _place(_glyph(fonts[font_ids[i]], int(y[i])), render, heights[i] * render,
                      widths[i], angles[i], shifts[i] * render / size)
    if size == 8:  # the UCI recipe: 32x32 bitmap, ink pixels counted in 4x4 blocks
        X = (X > _INK).reshape(n, 8, 4, 8, 4).sum(axis=(2, 4)).astype(np.float32) / 16.0
    if noise > 0:
        X = X + noise * g.standard_normal(X.shape).astype(np.float32)
    X = np.clip(X, 0.0, 1.0)
    if size == 8:
        X = np.round(X * 16) / 16
    X = X[:, None].astype(np.float32)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def printed_digits(n: int = 1000, size: int = 28, seed: int = 0,
                   fonts: tuple[str, ...] = FONTS, scale: tuple[float, float] | None = None,
                   widen: tuple[float, float] | None = None,
                   rotation: float = 12.0, shift: float | None = None,
                   noise: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` printed digits: X float32 (n, 1, size, size) in [0, 1], y int64 (n,),
    the ten classes equally often (as near as n allows), in random order.

    Args:
        size: image side; 28 (MNIST-like) by default, 8 for the
            ``load_digits`` look (0..16 counts divided by 16).
        fonts: names from ``FONTS``, chosen uniformly at random per image.
        scale: (low, high) glyph height as a fraction of the image side;
            default (0.55, 0.8) at 28, (0.8, 1.0) at 8.
        widen: (low, high) factor on the glyph's natural width; default
            (0.9, 1.1) at 28, (0.8, 1.1) at 8.
        rotation: the largest rotation, in degrees, either way.
        shift: the largest shift of the centre, in pixels, either way;
            default size / 10 (0.5 at size 8).
        noise: std of Gaussian noise added (then clipped to [0, 1]); default
            0.05 (0.0 at size 8).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"printed_digits: n must be a positive integer, got {n!r}")
    if not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"printed_digits: size must be an integer >= 8, got {size!r}")
    small = size == 8
    scale = scale or ((0.8, 1.0) if small else (0.55, 0.8))
    widen = widen or ((0.8, 1.1) if small else (0.9, 1.1))
    shift = (0.5 if small else size / 10) if shift is None else shift
    noise = (0.0 if small else 0.05) if noise is None else noise
    X, y = _generate(int(n), int(size), int(seed), tuple(fonts),
                     (float(scale[0]), float(scale[1])), (float(widen[0]), float(widen[1])),
                     float(rotation), float(shift),
                     float(noise))
    return X.copy(), y.copy()


def load_printed_digits(n: int = 6000, size: int = 28, val_size: float = 0.1,
                        test_size: float = 0.2, seed: int = 0, images: bool = True,
                        **options) -> Splits:
    """``printed_digits(n, size, seed, **options)`` split (stratified) into
    train/val/test. ``images=False`` flattens X to (N, size * size), the layout
    of ``load_digits()`` when size is 8."""
    X, y = printed_digits(n, size, seed, **options)
    if not images:
        X = X.reshape(len(X), -1)
    info = (f"printed digits rendered from matplotlib's DejaVu fonts, {n} images "
            f"{size}x{size}, 10 classes, X in [0, 1]")
    return train_val_test_split(X, y, val_size, test_size, seed,
                                classes=[str(d) for d in range(10)], info=info)
