"""Lesson 07's pictures and widgets: convolution, stride and padding, feature maps.

Every filtered image here comes from the engine's own ``nn.Conv2d`` (its weight
set to the kernel), so what the widgets show is what a CNN layer computes.

    from dlcore.viz import convolution as cv
    photo = cv.photo()                                   # a grey photo, (H, W) in [0, 1]
    cv.kernel_figure(photo, cv.KERNELS["edges"])         # photo, kernel, result
    cv.stride_padding_figure(size=7, kernel=3, stride=2, padding=1)
    cv.feature_map_figure(model, image)                  # what a trained CNN sees
"""
from __future__ import annotations

import html
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import data, nn
from ..nn.conv import output_size, windows
from ..nn.functional import softmax
from . import plots
from .widgets import FigureView, one_blas_thread  # noqa: F401  (one_blas_thread: for lesson 07)

IDENTITY = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32)
# Classic 3x3 image kernels: name -> kernel.
KERNELS: dict[str, np.ndarray] = {
    "identity": IDENTITY,
    "blur (box)": np.full((3, 3), 1 / 9, dtype=np.float32),
    "blur (Gaussian)": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float32) / 16,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32),
    "edges (all directions)": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
                                       dtype=np.float32),
    "vertical edges (Sobel x)": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
                                         dtype=np.float32),
    "horizontal edges (Sobel y)": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
                                           dtype=np.float32),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=np.float32),
}
PADDED_COLOR = "#e2e8f0"


def photo(name: str = "china", size: tuple[int, int] = (160, 240)) -> np.ndarray:
    """One of scikit-learn's sample photos, grey, resized: (H, W) float32 in [0, 1]."""
    return data.sample_image(name, gray=True, size=size)


def blend_kernel(kernel: np.ndarray, strength: float) -> np.ndarray:
    """identity + strength * (kernel - identity): 0 leaves the image alone, 1 is the
    kernel itself, more exaggerates it."""
    return (IDENTITY + strength * (np.asarray(kernel, np.float32) - IDENTITY)).astype(np.float32)


def convolve(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0
             ) -> np.ndarray:
    """Slide ``kernel`` (kh, kw) over a grey ``image`` (H, W) with the engine's
    ``nn.Conv2d`` (one input channel, one filter, no bias). Returns (Ho, Wo)."""
    kernel = np.asarray(kernel, np.float32)
    conv = nn.Conv2d(1, 1, kernel.shape, stride=stride, padding=padding, bias=False)
    conv.weight.data[0, 0] = kernel
    return conv(np.asarray(image, np.float32)[None, None])[0, 0]


STRIP = (10.0, 3.4)   # three pictures in a row: "wide" (4.2 in tall) would leave a band
MARGINS = {"left": 0.01, "right": 0.99, "bottom": 0.02, "top": 0.76}   # fixed: no layout engine
# The kernel editor's two pictures, photo and output, with no text in them (their
# titles and the kernel's numbers are HTML beside them: text is most of a draw).
PANEL = (3.7, 2.5)   # 333 x 225 px: photo, kernel table and output fit in ~840 px
BARE = {"left": 0.005, "right": 0.995, "bottom": 0.005, "top": 0.995}


def _signed(kernel: np.ndarray) -> bool:
    """A kernel whose entries sum to ~0 (an edge detector) gives signed output."""
    return abs(float(np.asarray(kernel).sum())) < 0.1


def filtered(image: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, tuple, str]:
    """The image filtered by ``kernel`` ("same" padding) as the pictures show it:
    ``(values, (vmin, vmax), note)``. Edge detectors (kernels summing to 0) give
    signed output, shown with 0 as mid-grey; the others are clipped to [0, 1]."""
    result = convolve(image, kernel, padding=kernel.shape[0] // 2)
    if _signed(kernel):
        top = max(float(np.percentile(np.abs(result), 99.5)), 1e-6)
        return result, (-top, top), "mid-grey = 0, bright > 0, dark < 0"
    return np.clip(result, 0, 1), (0.0, 1.0), "clipped to [0, 1]"


def _fill_kernel_figure(fig: Figure, image: np.ndarray, kernel: np.ndarray, name: str) -> None:
    """Put ``kernel`` and the image filtered by it into the artists of a
    ``kernel_figure``."""
    parts = fig.parts
    limit = max(float(np.abs(kernel).max()), 1e-6)
    parts.kernel.set_data(kernel)
    parts.kernel.set_clim(-limit, limit)
    for (r, c), v in np.ndenumerate(kernel):
        parts.numbers[r][c].set_text(f"{v:.2g}")
        parts.numbers[r][c].set_color("white" if abs(v) > 0.6 * limit else "black")
    parts.kernel_title.set_text(f"kernel (sum {kernel.sum():.2g})")
    values, clim, note = filtered(image, kernel)
    parts.result.set_data(values)
    parts.result.set_clim(*clim)
    parts.result_title.set_text(f"output = input ⋆ kernel\n({note})")
    parts.suptitle.set_text(f"kernel: {name}" if name else "")


def kernel_figure(image: np.ndarray, kernel: np.ndarray, name: str = "") -> Figure:
    """The photo, the kernel (its numbers), and the photo filtered by it.
    ``fig.parts`` holds the artists ``update_kernel_figure`` changes."""
    kernel = np.asarray(kernel, np.float32)
    image = np.asarray(image, np.float32)
    with plots.style():
        fig, (ax_in, ax_k, ax_out) = plt.subplots(
            1, 3, figsize=STRIP, dpi=plots.DPI,
            gridspec_kw={"width_ratios": [1.5, 0.75, 1.5], "wspace": 0.05, **MARGINS})
        ax_in.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax_in.set_title(f"input {image.shape[0]}×{image.shape[1]}", y=1.0)
        kernel_image = ax_k.imshow(kernel, cmap=plots.SURFACE_CMAP, vmin=-1, vmax=1)
        numbers = [[ax_k.text(c, r, "", ha="center", va="center", fontsize=10)
                    for c in range(kernel.shape[1])] for r in range(kernel.shape[0])]
        result = ax_out.imshow(np.zeros_like(image), cmap="gray", vmin=0, vmax=1)
        for ax in (ax_in, ax_k, ax_out):
            ax.axis("off")
        fig.parts = SimpleNamespace(
            kernel=kernel_image, numbers=numbers,
            kernel_title=ax_k.set_title("kernel", y=1.0),
            result=result, result_title=ax_out.set_title("output", fontsize=10, y=1.0),
            suptitle=fig.suptitle(" ", y=0.98, va="top"), image=image)
        _fill_kernel_figure(fig, image, kernel, name)
    return plots.finish(fig)


def update_kernel_figure(fig: Figure, kernel: np.ndarray, name: str = "") -> None:
    """Show another kernel (same size) in a figure ``kernel_figure`` made."""
    kernel = np.asarray(kernel, np.float32)
    if kernel.shape != fig.parts.kernel.get_array().shape:
        raise ValueError(f"update_kernel_figure: the figure shows a "
                         f"{fig.parts.kernel.get_array().shape} kernel, got {kernel.shape}")
    _fill_kernel_figure(fig, fig.parts.image, kernel, name)


def image_figure(values: np.ndarray, clim: tuple = (0.0, 1.0)) -> Figure:
    """One grey image filling a ``PANEL``-sized figure, no text (the kernel editor's
    photo and output). ``fig.parts.image`` is the image artist."""
    with plots.style():
        fig, ax = plt.subplots(figsize=PANEL, dpi=plots.DPI, gridspec_kw=BARE)
        ax.axis("off")
        fig.parts = SimpleNamespace(image=ax.imshow(values, cmap="gray", vmin=clim[0],
                                                    vmax=clim[1]))
    return plots.finish(fig)


def kernel_html(kernel: np.ndarray) -> str:
    """The kernel as an HTML table, each cell coloured as in ``kernel_figure``
    (blue negative, white 0, orange-red positive) with its number, under its sum."""
    kernel = np.asarray(kernel, np.float32)
    limit = max(float(np.abs(kernel).max()), 1e-6)
    rows = []
    for row in kernel:
        cells = []
        for v in row:
            r, g, b, _ = plots.SURFACE_CMAP(0.5 + 0.5 * float(v) / limit)
            color = "white" if abs(v) > 0.6 * limit else "black"
            cells.append(f"<td style='background:rgb({r * 255:.0f},{g * 255:.0f},{b * 255:.0f});"
                         f"color:{color};width:2.8em;height:2.8em;text-align:center;"
                         f"padding:0'>{v:.2g}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<div style='text-align:center'>kernel (sum {kernel.sum():.2g})</div>"
            f"<table style='border-collapse:collapse;margin:6px auto'>{''.join(rows)}</table>")


def kernel_gallery(image: np.ndarray, names: list[str]) -> Figure:
    """The image filtered by each kernel of ``KERNELS`` named in ``names``, in a
    grid. Edge detectors (kernels summing to 0) show |output| scaled to [0, 1],
    the others their output clipped to [0, 1]."""
    ncols = 3
    nrows = -(-len(names) // ncols)
    with plots.style():
        # fixed margins (no layout engine): a figure drawn once, one draw less
        height = 2.1 * nrows + 0.2
        fig, axes = plt.subplots(nrows, ncols, figsize=(8.5, height), dpi=plots.DPI,
                                 squeeze=False, gridspec_kw={
                                     "left": 0.01, "right": 0.99, "bottom": 0.01,
                                     "top": 1 - 0.3 / height, "hspace": 0.18, "wspace": 0.05})
        for ax in axes.flat:
            ax.axis("off")
        for ax, name in zip(axes.flat, names, strict=False):
            kernel = KERNELS[name]
            out = convolve(image, kernel, padding=kernel.shape[0] // 2)
            if abs(float(kernel.sum())) < 0.1:
                out = np.abs(out) / max(float(np.abs(out).max()), 1e-6)
            ax.imshow(np.clip(out, 0, 1), cmap="gray", vmin=0, vmax=1)
            ax.set_title(f"{name} (sum {kernel.sum():+.0f})", fontsize=10.5)
    return plots.finish(fig)


def one_pixel_figure(patch: np.ndarray, kernel: np.ndarray, row: int, col: int) -> Figure:
    """How one output pixel is made: the 3x3 window of ``patch`` at (row, col),
    multiplied entry by entry with the kernel, summed."""
    kernel = np.asarray(kernel, np.float32)
    k = kernel.shape[0]
    window = patch[row:row + k, col:col + k]
    products = window * kernel
    with plots.style():
        # a strip of four small grids: "wide" (4.2 in tall) would leave a band under it
        fig, axes = plt.subplots(1, 4, figsize=(10.0, 3.2), dpi=plots.DPI,
                                 gridspec_kw={"width_ratios": [1.5, 1, 1, 1], "left": 0.01,
                                              "right": 0.99, "bottom": 0.02, "top": 0.82,
                                              "wspace": 0.12})
        axes[0].imshow(patch, cmap="gray", vmin=0, vmax=1)
        axes[0].add_patch(Rectangle((col - 0.5, row - 0.5), k, k, fill=False,
                                    ec=plots.ACCENT, lw=3))
        axes[0].set_title(f"a {patch.shape[0]}×{patch.shape[1]} patch of the photo,\n"
                          f"the window at row {row}, column {col}", fontsize=10)
        for ax, values, title, cmap in (
                (axes[1], window, "the window's pixels", "gray"),
                (axes[2], kernel, "× the kernel", "RdBu_r"),
                (axes[3], products, f"= products; their sum\nis the output: {products.sum():.3f}",
                 "RdBu_r")):
            limit = max(float(np.abs(values).max()), 1e-6)
            vmin = 0 if cmap == "gray" else -limit
            ax.imshow(values, cmap=cmap, vmin=vmin, vmax=1 if cmap == "gray" else limit)
            for (r, c), v in np.ndenumerate(values):
                dark = abs(v) > 0.6 * limit if cmap == "RdBu_r" else v < 0.5
                ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=10,
                        color="white" if dark else "black")
            ax.set_title(title, fontsize=10)
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
    return plots.finish(fig)


# -- stride and padding ----------------------------------------------------------------

def window_positions(size: int, kernel: int, stride: int, padding: int) -> list[tuple[int, int]]:
    """The top-left corner (row, col) of every window, in padded coordinates,
    in the order the output is filled (row by row)."""
    n = output_size(size, kernel, stride, padding)
    return [(i * stride, j * stride) for i in range(n) for j in range(n)]


def _grid_segments(n: int) -> list:
    """The lines of an n x n grid of unit cells from (0, 0) to (n, n), as segments
    for one ``LineCollection`` (one artist, however many cells)."""
    return ([[(i, 0), (i, n)] for i in range(n + 1)]
            + [[(0, i), (n, i)] for i in range(n + 1)])


EXPLORER = (8.4, 3.7)   # two grids side by side: smaller than "wide", a smaller picture to send
EXPLORER_GRIDS = (8.4, 2.9)   # the same without the titles (the explorer writes them above)


def _draw_stride_padding(fig: Figure, size: int, kernel: int, stride: int, padding: int,
                         window: int) -> None:
    """Put the stride-and-padding picture for these values into the artists
    ``stride_padding_figure`` made: the same dozen artists for any sizes (new data,
    positions and limits), so a redraw builds nothing."""
    parts = fig.parts
    ax_in, ax_out = fig.axes
    out = output_size(size, kernel, stride, padding)
    padded = size + 2 * padding
    fits = out >= 1
    for artist in parts.shape_artists:
        artist.set_visible(fits)
    parts.too_big.set_visible(not fits)
    parts.shape = (size, kernel, stride, padding) if fits else None
    if not fits:
        parts.too_big.set_text(f"the kernel ({kernel}) is larger than the padded input "
                               f"({padded}): no window fits")
        parts.in_title.set_text("")
        parts.out_title.set_text("")
        for ax in (ax_in, ax_out):
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
        parts.suptitle.set_text(f"output size = ({size} + 2·{padding} − {kernel}) / "
                                f"{stride} + 1 < 1")
        return
    positions = window_positions(size, kernel, stride, padding)
    # the input: white inside, grey padding with its zeros
    parts.padded.set_bounds(0, 0, padded, padded)
    parts.inside.set_bounds(padding, padding, size, size)
    parts.grid_in.set_segments(_grid_segments(padded))
    rows, cols = np.nonzero(np.pad(np.zeros((size, size)), padding, constant_values=1))
    parts.zeros.set_data(cols + 0.5, padded - 0.5 - rows)
    used = (out - 1) * stride + kernel                    # rows/cols the windows reach
    for rect, (x, y, w, h) in zip(parts.unreached, ((used, 0, padded - used, padded),
                                                   (0, 0, used, padded - used)), strict=True):
        rect.set_bounds(x, y, w, h)                       # empty (w = 0) if all is reached
        rect.set_visible(used < padded)
    centres = np.array([(c + kernel / 2, padded - r - kernel / 2) for r, c in positions])
    parts.centres.set_data(centres[:, 0], centres[:, 1])
    parts.window_box.set_width(kernel)
    parts.window_box.set_height(kernel)
    parts.in_title.set_text(f"input {size}×{size}, padding {padding} (grey zeros), "
                            f"kernel {kernel}×{kernel}, stride {stride}")
    parts.grid_out.set_segments(_grid_segments(out))
    parts.out_size = out
    parts.positions, parts.centres_xy = positions, centres
    _mark_window(fig, window)
    for ax, n in ((ax_in, padded), (ax_out, out)):
        ax.set_xlim(-0.2, n + 0.2)
        ax.set_ylim(-0.2, n + 0.2)
    leftover = (f"\n(the last {padded - used} row(s) and column(s) are never reached: "
                f"the floor drops a window that would stick out)" if used < padded else "")
    parts.suptitle.set_text(
        f"output size = ⌊(H + 2P − K) / S⌋ + 1 = ⌊({size} + 2·{padding} − {kernel})"
        f" / {stride}⌋ + 1 = {out}{leftover}")


def _mark_window(fig: Figure, window: int) -> None:
    """Outline window number ``window`` (and its output pixel) in a drawn picture."""
    parts = fig.parts
    size, kernel, _, padding = parts.shape
    padded = size + 2 * padding
    count = len(parts.positions)
    window = int(np.clip(window, 0, count - 1))
    r, c = parts.positions[window]
    parts.window_box.set_xy((c, padded - r - kernel))
    parts.dot.set_data([parts.centres_xy[window, 0]], [parts.centres_xy[window, 1]])
    out = parts.out_size
    row, col = divmod(window, out)
    parts.chosen.set_xy((col, out - 1 - row))            # output cells, row by row from the top
    parts.window = window
    parts.out_title.set_text(f"output {out}×{out}: window {window + 1} of {count}")


def stride_padding_figure(size: int = 7, kernel: int = 3, stride: int = 1, padding: int = 0,
                          window: int = 0, titles: bool = True) -> Figure:
    """Left: the input (size x size, white) with its padding (grey zeros), every
    window's centre (dots) and window number ``window`` outlined. Right: the output
    grid with that window's output pixel. Title: the output-size formula.
    ``update_stride_padding_figure`` redraws it for other values; ``fig.parts`` holds
    its artists (``fig.parts.window_layer``: the ones that move with the window alone).
    ``titles=False`` keeps the titles' texts in ``fig.parts`` but does not draw them
    (the explorer shows them as text above a smaller picture: text is most of a draw)."""
    with plots.style():
        # Fixed margins (no layout engine): the grids change size, the figure must not.
        fig, (ax_in, ax_out) = plt.subplots(
            1, 2, figsize=EXPLORER if titles else EXPLORER_GRIDS, dpi=plots.DPI,
            gridspec_kw={"width_ratios": [1.25, 1], "left": 0.02, "right": 0.98,
                         "bottom": 0.02, "top": 0.76 if titles else 0.98, "wspace": 0.08})
        for ax in (ax_in, ax_out):
            ax.axis("off")
            ax.set_aspect("equal")
        grid_in = LineCollection([], colors="#a0aec0", lw=0.8)
        grid_out = LineCollection([], colors="#4a5568", lw=1.0)
        parts = SimpleNamespace(
            suptitle=fig.suptitle(" ", fontsize=11, y=0.98, va="top"),
            padded=ax_in.add_patch(Rectangle((0, 0), 1, 1, fc=PADDED_COLOR, ec="none")),
            inside=ax_in.add_patch(Rectangle((0, 0), 1, 1, fc="white", ec="none")),
            grid_in=ax_in.add_collection(grid_in),
            zeros=ax_in.plot([], [], ls="none", marker="$0$", ms=6, color="#718096")[0],
            unreached=[ax_in.add_patch(Rectangle((0, 0), 0, 0, fc="none",
                                                 ec=plots.CLASS_COLORS[1], hatch="//", lw=0))
                       for _ in range(2)],
            centres=ax_in.plot([], [], "o", ls="none", ms=4, color=plots.CLASS_COLORS[0],
                               alpha=0.5)[0],
            dot=ax_in.plot([], [], "o", ms=5, color=plots.CLASS_COLORS[0])[0],
            window_box=ax_in.add_patch(Rectangle((0, 0), 1, 1, fill=False, ec=plots.ACCENT,
                                                 lw=3.5)),
            too_big=fig.text(0.5, 0.4, "", ha="center", va="center"),
            in_title=ax_in.set_title(" ", fontsize=10, y=1.0),
            grid_out=ax_out.add_collection(grid_out),
            # the chosen window's output pixel, with the grid's own edge (drawn over it)
            chosen=ax_out.add_patch(Rectangle((0, 0), 1, 1, fc=plots.ACCENT, ec="#4a5568",
                                              lw=1.0)),
            out_title=ax_out.set_title(" ", fontsize=10, y=1.0))
        parts.shape_artists = [parts.padded, parts.inside, parts.grid_in, parts.zeros,
                               *parts.unreached, parts.centres, parts.dot, parts.window_box,
                               parts.grid_out, parts.chosen]
        parts.window_layer = [parts.dot, parts.window_box, parts.chosen, parts.out_title]
        for text in (parts.suptitle, parts.in_title, parts.out_title):
            text.set_visible(titles)
        fig.parts = parts
        _draw_stride_padding(fig, size, kernel, stride, padding, window)
    return plots.finish(fig)


def update_stride_padding_figure(fig: Figure, size: int = 7, kernel: int = 3, stride: int = 1,
                                 padding: int = 0, window: int = 0) -> bool:
    """Redraw a ``stride_padding_figure`` for other values (same figure, same artists).
    A new window alone only moves its outline, its dot and its output pixel (returns
    False: the window layer is all that changed); otherwise returns True."""
    if fig.parts.shape is not None and fig.parts.shape == (size, kernel, stride, padding):
        _mark_window(fig, window)
        return False
    _draw_stride_padding(fig, size, kernel, stride, padding, window)
    return True


# -- im2col ----------------------------------------------------------------------------

def im2col(x: np.ndarray, kernel: int, stride: int = 1) -> np.ndarray:
    """The engine's im2col for one grey image x (H, W): every window as a column,
    (kernel*kernel, Ho*Wo), read with ``nn.conv.windows`` as ``Conv2d.forward`` does."""
    x = np.asarray(x)[None, None]
    n_h = output_size(x.shape[2], kernel, stride, 0)
    n_w = output_size(x.shape[3], kernel, stride, 0)
    return windows(x, (kernel, kernel), (stride, stride), (n_h, n_w)).reshape(
        kernel * kernel, n_h * n_w)


def _number_grid(ax, values: np.ndarray, colors=None, title: str = "") -> None:
    """A table of numbers in cells; ``colors[c]`` colours column c's numbers."""
    rows, cols = values.shape
    for (r, c), v in np.ndenumerate(values):
        ax.add_patch(Rectangle((c, rows - 1 - r), 1, 1, fc="white", ec="#a0aec0", lw=0.8))
        ax.text(c + 0.5, rows - 0.5 - r, f"{v:g}", ha="center", va="center", fontsize=11,
                color="black" if colors is None else colors[c])
    ax.set_xlim(-0.1, cols + 0.1)
    ax.set_ylim(-0.1, rows + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=10.5)


def im2col_figure(x: np.ndarray, weight: np.ndarray) -> Figure:
    """A tiny example: input x (H, W) with its windows outlined, the matrix of
    columns (one per window, same colour), the flattened kernel, and the output."""
    k = weight.shape[0]
    cols = im2col(x, k)
    y = (weight.reshape(1, -1) @ cols).reshape(-1)
    n = output_size(x.shape[0], k, 1, 0)
    colors = [plots.CLASS_COLORS[i % len(plots.CLASS_COLORS)] for i in range(cols.shape[1])]
    with plots.style():
        fig, axes = plt.subplots(1, 4, figsize=plots.SIZES["wide"], dpi=plots.DPI,
                                 gridspec_kw={"width_ratios": [x.shape[1], cols.shape[1],
                                                               weight.size * 0.55, n],
                                              "left": 0.01, "right": 0.99, "bottom": 0.02,
                                              "top": 0.86, "wspace": 0.12})
        _number_grid(axes[0], x, title=f"input {x.shape[0]}×{x.shape[1]}:\n"
                                       f"{cols.shape[1]} windows {k}×{k}")
        H = x.shape[0]
        for w, (r, c) in enumerate((i, j) for i in range(n) for j in range(n)):
            pad = 0.07 * (w + 1)
            axes[0].add_patch(Rectangle((c + pad, H - r - k + pad), k - 2 * pad, k - 2 * pad,
                                        fill=False, ec=colors[w], lw=2.2))
        _number_grid(axes[1], cols, colors, f"im2col: one column\nper window {cols.shape}")
        _number_grid(axes[2], weight.reshape(1, -1),
                     title=f"kernel as a row {(1, weight.size)}\n"
                           f"row @ columns = one number per window")
        _number_grid(axes[3], y.reshape(n, n), title=f"output: {y.size} numbers\n"
                                                     f"reshaped {n}×{n}")
        for w, text in enumerate(axes[3].texts):       # window w's colour, as its column
            text.set_color(colors[w])
            text.set_weight("bold")
    return plots.finish(fig)


# -- feature maps of a trained CNN -------------------------------------------------------

MAP_COLUMNS = 8          # feature maps shown per layer


def _relu_rows(model: nn.Sequential, image: np.ndarray) -> tuple[list, np.ndarray]:
    """The maps after each ReLU for one image (1, H, W), and the predicted
    probabilities, from ``plots.layer_outputs`` (eval mode)."""
    outputs = plots.layer_outputs(model, np.asarray(image, np.float32)[None])
    rows = [(name, out[0]) for name, out in outputs[1:]
            if name.split()[-1].startswith("ReLU") and out.ndim == 4]
    return rows, softmax(outputs[-1][1], dim=-1)[0]


def mosaic(maps: np.ndarray, gap: int = 1) -> np.ndarray:
    """Feature maps (K, h, w) side by side in one (h, K*w + (K-1)*gap) array, NaN in
    the gaps (drawn blank): one image for a row of maps is much cheaper to draw than
    K small axes."""
    K, h, w = maps.shape
    out = np.full((h, K * w + (K - 1) * gap), np.nan, dtype=np.float32)
    for k, fmap in enumerate(maps):
        out[:, k * (w + gap):k * (w + gap) + w] = fmap
    return out


def _fill_feature_maps(fig: Figure, model: nn.Sequential, image: np.ndarray,
                       label: int | None, pixels: np.ndarray | None) -> None:
    parts = fig.parts
    rows, probs = _relu_rows(model, image)
    parts.input.set_data((pixels if pixels is not None else image)[0])
    parts.input.autoscale()
    parts.input_title.set_text("input" if label is None else f"input: a {label}")
    guess = int(np.argmax(probs))
    right = label is None or guess == label
    for c, bar in enumerate(parts.bars):
        bar.set_height(probs[c])
        bar.set_color((plots.CLASS_COLORS[2] if right else plots.CLASS_COLORS[1])
                      if c == guess else "#a0aec0")
    verdict = "" if label is None else ("  (right)" if right else "  (wrong)")
    parts.bars_title.set_text(f"predicted probabilities: {guess} at {probs[guess]:.0%}"
                              f"{verdict}")
    for im, (_, maps) in zip(parts.maps, rows, strict=True):
        shown = maps[:parts.max_maps]
        im.set_data(mosaic(shown))
        im.set_clim(0, max(float(shown.max()), 1e-6))


def feature_map_figure(model: nn.Sequential, image: np.ndarray, label: int | None = None,
                       max_maps: int = MAP_COLUMNS, pixels: np.ndarray | None = None) -> Figure:
    """What a trained CNN computes for one image (1, H, W): the input, the maps
    after each ReLU (one row per layer, its first ``max_maps`` side by side, one
    colour scale per row) and the predicted probabilities. ``pixels`` is the image
    to show (e.g. before standardisation). ``update_feature_map_figure`` shows
    another image; ``fig.parts.maps[r]`` is row r's image (``mosaic`` of its maps)."""
    rows, probs = _relu_rows(model, image)
    cmap = plt.get_cmap("magma").with_extremes(bad="white")
    with plots.style():
        # "wide" fits two rows of maps; a deeper model gets 1.4 in per row
        fig = plt.figure(figsize=plots.SIZES["wide"] if len(rows) <= 2 else
                         (plots.SIZES["wide"][0], 1.4 * (len(rows) + 1)),
                         dpi=plots.DPI, layout="constrained")
        grid = fig.add_gridspec(len(rows) + 1, 3, width_ratios=[1.5, 1.1, 7.0])
        ax = fig.add_subplot(grid[0, 1])
        input_image = ax.imshow((pixels if pixels is not None else image)[0], cmap="gray")
        input_title = ax.set_title("input", fontsize=10, y=1.0)
        ax.axis("off")
        ax = fig.add_subplot(grid[0, 2])
        bars = ax.bar(range(len(probs)), probs, color="#a0aec0", width=0.7)
        ax.set_xticks(range(len(probs)))
        ax.set_ylim(0, 1)
        ax.set_yticks([])                 # the title gives the number; no room taken
        ax.spines["left"].set_visible(False)
        bars_title = ax.set_title("predicted probabilities", fontsize=10, y=1.0)
        maps = []
        for r, (name, layer_maps) in enumerate(rows, start=1):
            shown = layer_maps[:max_maps]
            ax = fig.add_subplot(grid[r, 1:])
            maps.append(ax.imshow(mosaic(shown), cmap=cmap, vmin=0, vmax=1,
                                  interpolation="nearest"))
            ax.axis("off")
            ax = fig.add_subplot(grid[r, 0])
            ax.axis("off")
            more = f"\n(first {max_maps} shown)" if layer_maps.shape[0] > max_maps else ""
            ax.text(0.5, 0.5, f"after {name.removesuffix('()')}:\n{layer_maps.shape[0]} maps "
                    f"{layer_maps.shape[1]}×{layer_maps.shape[2]}{more}",
                    ha="center", va="center", fontsize=9, transform=ax.transAxes)
        fig.parts = SimpleNamespace(input=input_image, input_title=input_title, bars=bars,
                                    bars_title=bars_title, maps=maps, max_maps=max_maps)
        _fill_feature_maps(fig, model, image, label, pixels)
    return plots.finish(fig)


def update_feature_map_figure(fig: Figure, model: nn.Sequential, image: np.ndarray,
                              label: int | None = None, pixels: np.ndarray | None = None
                              ) -> None:
    """Show another image's maps in a figure ``feature_map_figure`` made."""
    _fill_feature_maps(fig, model, image, label, pixels)


# -- widgets ---------------------------------------------------------------------------

def kernel_editor(image: np.ndarray):
    """Pick a kernel and its strength; see the photo filtered live."""
    import ipywidgets as widgets

    image = np.asarray(image, np.float32)
    controls = {
        "name": widgets.Dropdown(options=list(KERNELS), value="edges (all directions)",
                                 description="kernel", style=plots.slider_style(),
                                 tooltip="which 3×3 kernel slides over the photo"),
        "strength": widgets.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.1,
                                        description="strength",
                                        tooltip="0: the identity kernel (the photo itself), "
                                                "1: the kernel, 2: twice its change",
                                        style=plots.slider_style()),
    }

    kernel_box = widgets.HTML(layout=widgets.Layout(width="10em", margin="0 6px"))
    output_title = widgets.HTML()

    def draw(name: str, strength: float) -> Figure:
        fig = image_figure(np.zeros_like(image))
        update(fig, name, strength)
        return fig

    def update(fig: Figure, name: str, strength: float) -> None:
        kernel = blend_kernel(KERNELS[name], strength)
        values, clim, note = filtered(image, kernel)
        fig.parts.image.set_data(values)
        fig.parts.image.set_clim(*clim)
        kernel_box.value = kernel_html(kernel)
        output_title.value = (f"<div style='text-align:center'>output = input ⋆ kernel "
                              f"({note})</div>")

    # Only the output image changes in the picture: blitted over its (empty) axes.
    box = plots.interactive_figure(draw, controls, update=update, columns=2,
                                   animated=lambda fig: [fig.parts.image],
                                   name="kernel_editor")
    # The photo never changes: its own picture, drawn and sent once. The kernel's
    # numbers and the titles are HTML (the browser draws text cheaply): a new kernel
    # sends only the output image, a third of the pixels the three-panel figure had.
    box.input_view = FigureView(image_figure(image), name="kernel_editor input")
    box.input_view.show(control="(first)")
    box.kernel_html, box.output_title = kernel_box, output_title
    *above, picture = box.children
    photo_title = widgets.HTML(f"<div style='text-align:center'>input "
                               f"{image.shape[0]}×{image.shape[1]}</div>")
    box.children = (*above, widgets.HBox([
        widgets.VBox([photo_title, box.input_view.widget]),
        kernel_box, widgets.VBox([output_title, picture])]))
    return box


def stride_padding_explorer():
    """Sliders for the input size, kernel, stride, padding and which window to show."""
    import ipywidgets as widgets

    def slider(value, low, high, text, tip):
        return widgets.IntSlider(value=value, min=low, max=high, description=text,
                                 tooltip=tip, style=plots.slider_style())

    controls = {"size": slider(7, 3, 10, "input size H", "the input is H×H pixels"),
                "kernel": slider(3, 1, 5, "kernel K", "the kernel is K×K"),
                "stride": slider(2, 1, 4, "stride S", "the kernel moves S pixels at a time"),
                "padding": slider(1, 0, 2, "padding P", "P rings of zeros around the input"),
                "window": slider(0, 0, 15, "window", "which window (and output pixel) to "
                                 "outline, counted row by row")}

    def fit_window_slider(_change=None) -> None:
        """The window slider runs over the windows there are (0 .. Ho*Wo - 1)."""
        values = {name: controls[name].value for name in ("size", "kernel", "stride", "padding")}
        count = len(window_positions(**values))
        controls["window"].max = max(count - 1, 0)

    for name in ("size", "kernel", "stride", "padding"):
        controls[name].observe(fit_window_slider, names="value")
    fit_window_slider()
    caption = widgets.HTML()

    def show_caption(fig: Figure) -> None:
        """The figure's titles, as text above the picture (cheaper than drawing them)."""
        formula, left, right = (html.escape(text.get_text()).replace("\n", "<br>")
                                for text in (fig.parts.suptitle, fig.parts.in_title,
                                             fig.parts.out_title))
        sides = f"<br>left: {left} &nbsp;·&nbsp; right: {right}" if left else ""
        caption.value = f"<div style='text-align:center'><b>{formula}</b>{sides}</div>"

    def draw(**values) -> Figure:
        fig = stride_padding_figure(**values, titles=False)
        show_caption(fig)
        return fig

    def update(fig: Figure, **values) -> bool:
        new_shape = update_stride_padding_figure(fig, **values)
        show_caption(fig)
        return new_shape

    # A new window redraws only its outline, dot and output pixel over the rest (blitting);
    # a new size, kernel, stride or padding redraws the whole (small) picture.
    box = plots.interactive_figure(draw, controls, update=update, columns=3,
                                   animated=lambda fig: fig.parts.window_layer,
                                   name="stride_padding_explorer")
    *above, picture = box.children
    box.children = (*above, caption, picture)
    box.caption = caption
    return box


def feature_map_explorer(model: nn.Sequential, images: np.ndarray, labels: np.ndarray,
                         pixels: np.ndarray | None = None):
    """A slider over ``images`` (N, 1, H, W): the feature maps of the chosen one."""
    import ipywidgets as widgets

    index = widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="test image",
                              tooltip="which test digit the trained CNN reads; its feature "
                                      "maps and probabilities are shown below",
                              style=plots.slider_style())

    def chosen(index: int) -> dict:
        return {"image": images[index], "label": int(labels[index]),
                "pixels": None if pixels is None else pixels[index]}

    def draw(index: int) -> Figure:
        return feature_map_figure(model, **chosen(index))

    def update(fig: Figure, index: int) -> None:
        update_feature_map_figure(fig, model, **chosen(index))

    def animated(fig: Figure) -> list:     # all but the axes and the row labels
        parts = fig.parts
        return [parts.input, parts.input_title, *parts.bars, parts.bars_title, *parts.maps]

    return plots.interactive_figure(draw, {"index": index}, update=update, columns=1,
                                    animated=animated, name="feature_map_explorer")


def filter_grid(kernels: np.ndarray, ncols: int = 8) -> Figure:
    """Learned kernels (F, k, k), one colour scale for all (blue negative, white 0,
    orange-red positive, scaled by the largest weight), ``ncols`` to a row, each
    labelled "filter f". One image with blank gaps (NaN) between the kernels: much
    cheaper to draw than an axes per kernel."""
    kernels = np.asarray(kernels, np.float32)
    F, k, _ = kernels.shape
    limit = max(float(np.abs(kernels).max()), 1e-6)
    nrows = -(-F // ncols)
    step = k + 1                                   # a kernel and a blank row/column
    grid = plots.mosaic(kernels, ncols, top=1, dtype=np.float32)   # a label row above each
    cmap = plots.SURFACE_CMAP.with_extremes(bad="white")
    with plots.style():
        fig, ax = plt.subplots(figsize=(0.9 * ncols + 0.2, 0.95 * nrows + 0.2), dpi=plots.DPI,
                               gridspec_kw={"left": 0.01, "right": 0.99, "bottom": 0.02,
                                            "top": 0.98})
        for f in range(F):
            r, c = divmod(f, ncols)
            ax.text(c * step + (k - 1) / 2, r * step, f"filter {f}", ha="center",
                    va="center", fontsize=9)
        ax.imshow(grid, cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
        ax.axis("off")
    return plots.finish(fig)


def seed_comparison_figure(accuracies: dict[str, list[float]], n_test: int) -> Figure:
    """One row per model: the test accuracy of each seed (a marker each), their
    mean (a bar) and one test digit's worth of accuracy (1 / ``n_test``) for scale."""
    names = list(accuracies)
    markers = ("o", "s", "^", "D")
    with plots.style():
        # one row per model: a fixed size would leave an empty band under two rows
        fig, ax = plt.subplots(figsize=(8.0, 1.3 + 0.6 * len(names)), dpi=plots.DPI,
                               layout="constrained")
        for k, name in enumerate(names):
            values = 100 * np.asarray(accuracies[name])
            color = plots.CLASS_COLORS[k % len(plots.CLASS_COLORS)]
            ax.plot(values, np.full(len(values), k), markers[k % len(markers)], ms=9,
                    color=color, alpha=0.8, mec="k", mew=0.6,
                    label=f"{name}: {values.mean():.1f}% ± {values.std(ddof=1):.1f}")
            ax.plot([values.mean()] * 2, [k - 0.3, k + 0.3], color=color, lw=3)
        ax.set_yticks(range(len(names)), names)
        ax.set_ylim(-0.6, len(names) - 0.4)
        ax.set_xlabel(f"test accuracy (%), one marker per seed; one test digit = "
                      f"{100 / n_test:.2f} points")
        ax.grid(True, axis="x", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    return plots.finish(fig)
