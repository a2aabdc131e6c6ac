"""Pictures of a batch of images and of a classifier's mistakes.

    fig = plots.image_grid(images, labels)             # (N, H, W) or (N, C, H, W)
    fig = plots.confusion_matrix(y_true, y_pred)       # row = true, column = predicted
    ax.imshow(plots.mosaic(images, ncols=10), ...)      # many small images, one imshow
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .style import DPI, finish, style, subplots


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray,
                     class_names: Sequence[str] | None = None, *, normalize: bool = False,
                     title: str | None = None, size: str = "square") -> Figure:
    """Counts (or row fractions, ``normalize=True``) of true class vs predicted class.

    The matrix is in ``fig.axes[0].images[0].get_array()``: row = true class,
    column = predicted class.
    """
    y_true = np.asarray(y_true).astype(int).ravel()
    y_pred = np.asarray(y_pred).astype(int).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"confusion_matrix: y_true {y_true.shape} and y_pred "
                         f"{y_pred.shape} must have the same length")
    num_classes = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    if class_names is not None:
        num_classes = max(num_classes, len(class_names))
    counts = np.zeros((num_classes, num_classes))
    np.add.at(counts, (y_true, y_pred), 1)
    matrix = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    names = list(class_names) if class_names is not None else [str(c) for c in
                                                               range(num_classes)]
    with style():
        fig, ax = subplots(size)
        ax.imshow(matrix, cmap="Blues", vmin=0)
        for (r, c), v in np.ndenumerate(matrix):
            dark = v > 0.6 * matrix.max()
            ax.text(c, r, f"{v:.2f}" if normalize else f"{int(v)}", ha="center", va="center",
                    fontsize=9, color="white" if dark else "black")
        ax.set_xticks(range(num_classes), names)
        ax.set_yticks(range(num_classes), names)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        accuracy = np.trace(counts) / max(counts.sum(), 1)
        ax.set_title(title or f"accuracy {accuracy:.1%}")
    return finish(fig)


def mosaic(images: np.ndarray, ncols: int, *, gap: tuple[int, int] = (1, 1), top: int = 0,
           dtype=np.float64) -> np.ndarray:
    """Images (N, h, w) laid out ``ncols`` to a row in one array, NaN around them, to show
    with one ``imshow`` (NaN takes the colour map's ``bad`` colour, say white): far
    quicker to draw than an axes per image. ``gap`` = (rows, columns) of NaN between
    neighbours, ``top`` rows of NaN above the first row (room for a label). Image k sits
    at row ``top + r * (h + gap[0])``, column ``c * (w + gap[1])``, with r, c = divmod(k, ncols).
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"mosaic expects images (N, h, w), got {images.shape}")
    n, h, w = images.shape
    rows, (gy, gx) = -(-n // ncols), gap
    out = np.full((top + rows * (h + gy) - gy, ncols * (w + gx) - gx), np.nan, dtype)
    for k, image in enumerate(images):
        r, c = divmod(k, ncols)
        out[top + r * (h + gy):top + r * (h + gy) + h, c * (w + gx):c * (w + gx) + w] = image
    return out


def image_grid(images: np.ndarray, labels: Sequence | None = None, *, ncols: int = 8,
               cmap: str = "gray", title: str | None = None) -> Figure:
    """Images (N, H, W), (N, C, H, W) with C = 1 or 3, or (N, H, W, 3) in a grid, each titled by
    its label. The figure grows with the number of rows (0.9 inch per cell)."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] in (1, 3):   # (N, C, H, W), the engine's layout
        images = images.transpose(0, 2, 3, 1)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(f"image_grid expected images (N, H, W) or (N, H, W, 3), "
                         f"got {images.shape}")
    n = len(images)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    with style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(0.9 * ncols + 0.2, 0.95 * nrows + 0.3),
                                 dpi=DPI, squeeze=False, layout="constrained")
        for k, ax in enumerate(axes.flat):
            ax.axis("off")
            if k < n:
                ax.imshow(images[k], cmap=cmap if images.ndim == 3 else None)
                if labels is not None:
                    ax.set_title(str(labels[k]), fontsize=9)
        if title:
            fig.suptitle(title)
    return finish(fig)
