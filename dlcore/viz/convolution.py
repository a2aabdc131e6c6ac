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

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import data, nn
from ..nn.conv import output_size, windows
from ..nn.functional import softmax
from . import plots

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


def _show_kernel(ax, kernel: np.ndarray, title: str = "kernel") -> None:
    limit = max(float(np.abs(kernel).max()), 1e-6)
    ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
    for (r, c), v in np.ndenumerate(kernel):
        ax.text(c, r, f"{v:.2g}", ha="center", va="center", fontsize=10,
                color="white" if abs(v) > 0.6 * limit else "black")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)


def _show_result(ax, result: np.ndarray, kernel: np.ndarray) -> str:
    """A kernel whose entries sum to ~0 (an edge detector) gives signed output:
    show it with 0 as mid-grey. Otherwise clip to the photo's range [0, 1]."""
    if abs(float(kernel.sum())) < 0.1:
        limit = max(float(np.percentile(np.abs(result), 99.5)), 1e-6)
        ax.imshow(result, cmap="gray", vmin=-limit, vmax=limit)
        return "mid-grey = 0, bright > 0, dark < 0"
    ax.imshow(np.clip(result, 0, 1), cmap="gray", vmin=0, vmax=1)
    return "clipped to [0, 1]"


def kernel_figure(image: np.ndarray, kernel: np.ndarray, name: str = "") -> Figure:
    """The photo, the 3x3 kernel (its numbers), and the photo filtered by it."""
    kernel = np.asarray(kernel, np.float32)
    result = convolve(image, kernel, padding=kernel.shape[0] // 2)
    with plots.style():
        fig, axes = plt.subplots(1, 3, figsize=(9.5, 3.1), dpi=plots.DPI,
                                 gridspec_kw={"width_ratios": [1.5, 0.75, 1.5]},
                                 layout="constrained")
        axes[0].imshow(image, cmap="gray", vmin=0, vmax=1)
        axes[0].set_title(f"input {image.shape[0]}×{image.shape[1]}")
        _show_kernel(axes[1], kernel, f"kernel (sum {kernel.sum():.2g})")
        note = _show_result(axes[2], result, kernel)
        axes[2].set_title(f"output = input ⋆ kernel\n({note})", fontsize=10)
        for ax in (axes[0], axes[2]):
            ax.axis("off")
        if name:
            fig.suptitle(f"kernel: {name}")
    return plots.finish(fig)


def kernel_gallery(image: np.ndarray, names: list[str]) -> Figure:
    """The image filtered by each kernel of ``KERNELS`` named in ``names``, in a
    grid. Edge detectors (kernels summing to 0) show |output| scaled to [0, 1],
    the others their output clipped to [0, 1]."""
    ncols = 3
    nrows = -(-len(names) // ncols)
    with plots.style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(8.5, 2.1 * nrows + 0.2), dpi=plots.DPI,
                                 squeeze=False, layout="constrained")
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
        fig, axes = plt.subplots(1, 4, figsize=(12, 3.3), dpi=plots.DPI,
                                 gridspec_kw={"width_ratios": [1.5, 1, 1, 1]},
                                 layout="constrained")
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


def stride_padding_figure(size: int = 7, kernel: int = 3, stride: int = 1, padding: int = 0,
                          window: int = 0) -> Figure:
    """Left: the input (size x size, white) with its padding (grey zeros), every
    window's centre (dots) and window number ``window`` outlined. Right: the output
    grid with that window's output pixel. Title: the output-size formula."""
    out = output_size(size, kernel, stride, padding)
    padded = size + 2 * padding
    with plots.style():
        fig, (ax_in, ax_out) = plt.subplots(1, 2, figsize=(10, 4.6), dpi=plots.DPI,
                                            gridspec_kw={"width_ratios": [1.25, 1]})
        if out < 1:
            ax_in.text(0.5, 0.5, f"the kernel ({kernel}) is larger than the padded input "
                       f"({padded}): no window fits", ha="center", va="center", wrap=True)
            ax_in.axis("off")
            ax_out.axis("off")
            fig.suptitle(f"output size = ({size} + 2·{padding} − {kernel}) / {stride} + 1 < 1")
            return plots.finish(fig)
        positions = window_positions(size, kernel, stride, padding)
        window = int(np.clip(window, 0, len(positions) - 1))
        for r in range(padded):
            for c in range(padded):
                inside = padding <= r < padding + size and padding <= c < padding + size
                ax_in.add_patch(Rectangle((c, padded - 1 - r), 1, 1,
                                          fc="white" if inside else PADDED_COLOR,
                                          ec="#a0aec0", lw=0.8))
                if not inside:
                    ax_in.text(c + 0.5, padded - 0.5 - r, "0", ha="center", va="center",
                               fontsize=8, color="#718096")
        used = (out - 1) * stride + kernel                    # rows/cols the windows reach
        if used < padded:
            ax_in.add_patch(Rectangle((used, 0), padded - used, padded, fc="none",
                                      ec=plots.CLASS_COLORS[1], hatch="//", lw=0))
        for k, (r, c) in enumerate(positions):
            ax_in.plot(c + kernel / 2, padded - r - kernel / 2, "o", ms=4,
                       color=plots.CLASS_COLORS[0], alpha=0.5 if k != window else 1)
        r, c = positions[window]
        ax_in.add_patch(Rectangle((c, padded - r - kernel), kernel, kernel, fill=False,
                                  ec=plots.ACCENT, lw=3.5))
        ax_in.set_title(f"input {size}×{size}, padding {padding} (grey zeros), "
                        f"kernel {kernel}×{kernel}, stride {stride}", fontsize=10)
        for i in range(out):
            for j in range(out):
                ax_out.add_patch(Rectangle((j, out - 1 - i), 1, 1,
                                           fc=plots.ACCENT if i * out + j == window
                                           else "white", ec="#4a5568", lw=1))
        ax_out.set_title(f"output {out}×{out}: window {window + 1} of {len(positions)}",
                         fontsize=10)
        for ax, n in ((ax_in, padded), (ax_out, out)):
            ax.set_xlim(-0.2, n + 0.2)
            ax.set_ylim(-0.2, n + 0.2)
            ax.set_aspect("equal")
            ax.axis("off")
        leftover = (f"   ({padded - used} column(s) never reached: floor)" if used < padded
                    else "")
        fig.suptitle(f"output size = ⌊(H + 2P − K) / S⌋ + 1 = ⌊({size} + 2·{padding} − {kernel})"
                     f" / {stride}⌋ + 1 = {out}{leftover}", fontsize=12)
        fig.tight_layout()
    return plots.finish(fig)


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
        fig, axes = plt.subplots(1, 4, figsize=(12.5, 4.0), dpi=plots.DPI,
                                 gridspec_kw={"width_ratios": [x.shape[1], cols.shape[1],
                                                               weight.size * 0.55, n]})
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
        fig.tight_layout()
    return plots.finish(fig)


# -- feature maps of a trained CNN -------------------------------------------------------

def layer_outputs(model: nn.Sequential, x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Run ``model`` layer by layer on x (N, C, H, W) in eval mode; return
    ``[(name, output), ...]`` for every layer, named like ``'0: Conv2d'``."""
    was_training = model.training
    model.eval()
    outputs = []
    try:
        for k, layer in enumerate(model):
            x = layer(x)
            outputs.append((f"{k}: {type(layer).__name__}", x))
    finally:
        model.train(was_training)
    return outputs


def feature_map_figure(model: nn.Sequential, image: np.ndarray, label: int | None = None,
                       max_maps: int = 8, pixels: np.ndarray | None = None) -> Figure:
    """What a trained CNN computes for one image (1, H, W): the input, the maps
    after each ReLU (one row per layer, at most ``max_maps`` each) and the
    predicted probabilities. ``pixels`` is the image to show (e.g. before
    standardisation)."""
    outputs = layer_outputs(model, np.asarray(image, np.float32)[None])
    rows = [(name, out[0]) for name, out in outputs if name.endswith("ReLU") and out.ndim == 4]
    probs = softmax(outputs[-1][1], dim=-1)[0]
    ncols = max_maps + 1
    with plots.style():
        fig = plt.figure(figsize=(12, 1.55 * (len(rows) + 1) + 0.4), dpi=plots.DPI,
                         layout="constrained")
        grid = fig.add_gridspec(len(rows) + 1, ncols)
        ax = fig.add_subplot(grid[0, 1])
        ax.imshow((pixels if pixels is not None else image)[0], cmap="gray")
        ax.set_title("input" if label is None else f"input: a {label}", fontsize=10)
        ax.axis("off")
        ax = fig.add_subplot(grid[0, 3:])
        guess = int(np.argmax(probs))
        right = label is None or guess == label
        ax.bar(range(len(probs)), probs, color=[
            (plots.CLASS_COLORS[2] if right else plots.CLASS_COLORS[1]) if c == guess
            else "#a0aec0" for c in range(len(probs))])
        ax.set_xticks(range(len(probs)))
        ax.set_ylim(0, 1)
        ax.set_yticks([])                 # the title gives the number; no room taken
        ax.spines["left"].set_visible(False)
        verdict = "" if label is None else ("  (right)" if right else "  (wrong)")
        ax.set_title(f"predicted probabilities: {guess} at {probs[guess]:.0%}{verdict}",
                     fontsize=10)
        for r, (name, maps) in enumerate(rows, start=1):
            shown = maps[:max_maps]
            limit = max(float(shown.max()), 1e-6)
            for c, fmap in enumerate(shown):
                ax = fig.add_subplot(grid[r, c + 1])
                ax.imshow(fmap, cmap="magma", vmin=0, vmax=limit)
                ax.set_xticks([])
                ax.set_yticks([])
                if r == 1 or c == 0:
                    ax.set_title(f"map {c}", fontsize=8)
            ax = fig.add_subplot(grid[r, 0])
            ax.axis("off")
            ax.text(0.5, 0.5, f"after layer {name}\n{maps.shape[0]} maps "
                    f"{maps.shape[1]}×{maps.shape[2]}" +
                    (f"\n(first {max_maps} shown)" if maps.shape[0] > max_maps else ""),
                    ha="center", va="center", fontsize=9, transform=ax.transAxes)
    return plots.finish(fig)


# -- widgets ---------------------------------------------------------------------------

def kernel_editor(image: np.ndarray):
    """Pick a kernel and its strength; see the photo filtered live."""
    import ipywidgets as widgets

    controls = {
        "name": widgets.Dropdown(options=list(KERNELS), value="edges (all directions)",
                                 description="kernel", style=plots.slider_style()),
        "strength": widgets.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.1,
                                        description="strength", continuous_update=False,
                                        style=plots.slider_style()),
    }

    def draw(name: str, strength: float) -> Figure:
        kernel = blend_kernel(KERNELS[name], strength)
        return kernel_figure(image, kernel, f"{name} × {strength:g}")

    return plots.interactive_figure(draw, controls, height="360px", columns=2)


def stride_padding_explorer():
    """Sliders for the input size, kernel, stride, padding and which window to show."""
    import ipywidgets as widgets

    def slider(value, low, high, text):
        return widgets.IntSlider(value=value, min=low, max=high, description=text,
                                 style=plots.slider_style())

    controls = {"size": slider(7, 3, 10, "input size H"),
                "kernel": slider(3, 1, 5, "kernel K"),
                "stride": slider(2, 1, 4, "stride S"),
                "padding": slider(1, 0, 2, "padding P"),
                "window": slider(0, 0, 15, "window")}

    def fit_window_slider(_change=None) -> None:
        """The window slider runs over the windows there are (0 .. Ho*Wo - 1)."""
        values = {name: controls[name].value for name in ("size", "kernel", "stride", "padding")}
        count = len(window_positions(**values))
        controls["window"].max = max(count - 1, 0)

    for name in ("size", "kernel", "stride", "padding"):
        controls[name].observe(fit_window_slider, names="value")
    fit_window_slider()
    return plots.interactive_figure(stride_padding_figure, controls, height="440px", columns=5)


def feature_map_explorer(model: nn.Sequential, images: np.ndarray, labels: np.ndarray,
                         pixels: np.ndarray | None = None):
    """A slider over ``images`` (N, 1, H, W): the feature maps of the chosen one."""
    import ipywidgets as widgets

    index = widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="test image",
                              continuous_update=False, style=plots.slider_style())

    def show(index: int) -> Figure:
        return feature_map_figure(model, images[index], int(labels[index]),
                    pixels=None if pixels is None else pixels[index])

    return plots.interactive_figure(show, {"index": index}, height="520px", columns=1)


def seed_comparison_figure(accuracies: dict[str, list[float]], n_test: int) -> Figure:
    """One row per model: the test accuracy of each seed (a marker each), their
    mean (a bar) and one test digit's worth of accuracy (1 / ``n_test``) for scale."""
    names = list(accuracies)
    markers = ("o", "s", "^", "D")
    with plots.style():
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
