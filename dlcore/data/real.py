"""Real data sets that ship inside scikit-learn's wheel (nothing is downloaded).

* ``load_digits``: 1,797 handwritten digits, 8x8 grey images (UCI, via
  ``sklearn.datasets.load_digits``), values 0..16 scaled to [0, 1].
* ``load_breast_cancer``: 569 tumours, 30 measured features, malignant (0) or
  benign (1) (Wisconsin diagnostic data set, via scikit-learn).
* ``load_sample_images`` / ``sample_image``: two colour photos (a Chinese
  temple, a flower), 427 x 640 pixels.
"""
from __future__ import annotations

import numpy as np

from .split import Splits, standardize, train_val_test_split


def load_digits(val_size: float = 0.1, test_size: float = 0.2, seed: int = 0,
                images: bool = False) -> Splits:
    """The 8x8 handwritten digits, split (stratified) into train/val/test.

    Args:
        val_size, test_size: fractions of the 1,797 images.
        seed: fixes the split (the default gives 1,259 / 179 / 359 images).
        images: False gives X (N, 64), rows of pixels one after the other;
            True gives X (N, 1, 8, 8) for a CNN. For an RNN reading the image
            row by row, use ``X.reshape(-1, 8, 8)``: (N, T=8, D=8).

    X is float32 in [0, 1] (the original 0..16 counts divided by 16), y int64 0..9.
    """
    from sklearn.datasets import load_digits as _load

    raw = _load()
    X = (raw.data / 16.0).astype(np.float32)
    if images:
        X = X.reshape(-1, 1, 8, 8)
    info = ("8x8 handwritten digits (UCI via scikit-learn), 1,797 images, 10 classes; "
            "X in [0, 1] (counts 0..16 divided by 16)")
    return train_val_test_split(X, raw.target.astype(np.int64), val_size, test_size, seed,
                                classes=[str(d) for d in range(10)], info=info)


def load_breast_cancer(val_size: float = 0.1, test_size: float = 0.2, seed: int = 0,
                       normalize: bool = True) -> Splits:
    """The Wisconsin breast-cancer table: X (N, 30) float32, y int64 (0 malignant,
    1 benign), split stratified.

    With ``normalize`` each feature is standardised with the mean and std of the
    training part only (the fitted ``Standardizer`` is in ``extra['standardizer']``).
    ``extra['feature_names']`` names the 30 columns.
    """
    from sklearn.datasets import load_breast_cancer as _load

    raw = _load()
    info = ("Wisconsin diagnostic breast cancer (UCI via scikit-learn), 569 rows, "
            "30 features, 0 = malignant, 1 = benign")
    splits = train_val_test_split(raw.data.astype(np.float32), raw.target.astype(np.int64),
                                  val_size, test_size, seed,
                                  classes=[str(c) for c in raw.target_names], info=info)
    if normalize:
        splits = standardize(splits)
    splits.extra["feature_names"] = [str(f) for f in raw.feature_names]
    return splits


def load_sample_images(gray: bool = False, size: tuple[int, int] | None = None
                       ) -> tuple[np.ndarray, list[str]]:
    """scikit-learn's two sample photos as float32 in [0, 1].

    Returns ``(images, names)``: images (2, H, W, 3) (or (2, H, W) with
    ``gray``), H x W = 427 x 640 unless ``size=(H, W)`` resizes them.
    """
    from sklearn.datasets import load_sample_images as _load

    raw = _load()
    names = [name.rsplit("/", 1)[-1].rsplit(".", 1)[0] for name in raw.filenames]
    images = np.stack([_prepare(im, gray, size) for im in raw.images])
    return images, names


def sample_image(name: str = "china", gray: bool = False,
                 size: tuple[int, int] | None = None) -> np.ndarray:
    """One sample photo, ``'china'`` or ``'flower'``: (H, W, 3) or (H, W) in [0, 1]."""
    images, names = load_sample_images(gray, size)
    if name not in names:
        raise ValueError(f"sample_image: name must be one of {names}, got {name!r}")
    return images[names.index(name)]


def _prepare(image: np.ndarray, gray: bool, size: tuple[int, int] | None) -> np.ndarray:
    x = image.astype(np.float32) / 255.0
    if gray:
        x = x @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if size is not None:
        from scipy import ndimage

        zoom = (size[0] / x.shape[0], size[1] / x.shape[1]) + (1,) * (x.ndim - 2)
        x = np.clip(ndimage.zoom(x, zoom, order=1), 0.0, 1.0)
    return x.astype(np.float32)
