"""Real data sets that ship inside scikit-learn's wheel (nothing is downloaded).

* ``load_digits``: 1,797 handwritten digits, 8x8 grey images (UCI, via
  ``sklearn.datasets.load_digits``), values 0..16 scaled to [0, 1].
* ``load_breast_cancer``: 569 tumours, 30 measured features, malignant (0) or
  benign (1) (Wisconsin diagnostic data set, via scikit-learn).
* ``load_sample_images`` / ``sample_image``: two colour photos (a Chinese
  temple, a flower), 427 x 640 pixels.

The files are read straight from the installed scikit-learn package (the same bytes its
loaders read). Importing ``sklearn.datasets`` itself would pull in most of scikit-learn
and SciPy's statistics: about a second on a quiet 2-core machine, in every lesson that
loads the digits, for data that take 15 ms to read.
"""
from __future__ import annotations

import functools
import gzip
import importlib.util
from pathlib import Path

import numpy as np

from .split import Splits, standardize, train_val_test_split

_MEASURES = ("radius", "texture", "perimeter", "area", "smoothness", "compactness",
             "concavity", "concave points", "symmetry", "fractal dimension")
BREAST_CANCER_FEATURES = ([f"mean {m}" for m in _MEASURES] + [f"{m} error" for m in _MEASURES]
                          + [f"worst {m}" for m in _MEASURES])


def sklearn_file(*parts: str) -> Path:
    """A data file inside the installed scikit-learn package, found without importing it."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the course's real data sets ship inside scikit-learn: "
                          "pip install scikit-learn")
    path = Path(next(iter(spec.submodule_search_locations)), "datasets", *parts)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from the installed scikit-learn")
    return path


@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """(1797, 64) counts 0..16 and (1797,) labels: sklearn's digits.csv.gz, one row an image."""
    with gzip.open(sklearn_file("data", "digits.csv.gz"), "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    table.setflags(write=False)
    return table[:, :-1], table[:, -1].astype(np.int64)


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
    counts, target = _digits()
    X = (counts / 16.0).astype(np.float32)
    if images:
        X = X.reshape(-1, 1, 8, 8)
    info = ("8x8 handwritten digits (UCI via scikit-learn), 1,797 images, 10 classes; "
            "X in [0, 1] (counts 0..16 divided by 16)")
    return train_val_test_split(X, target.copy(), val_size, test_size, seed,
                                classes=[str(d) for d in range(10)], info=info)


def load_breast_cancer(val_size: float = 0.1, test_size: float = 0.2, seed: int = 0,
                       normalize: bool = True) -> Splits:
    """The Wisconsin breast-cancer table: X (N, 30) float32, y int64 (0 malignant,
    1 benign), split stratified.

    With ``normalize`` each feature is standardised with the mean and std of the
    training part only (the fitted ``Standardizer`` is in ``extra['standardizer']``).
    ``extra['feature_names']`` names the 30 columns.
    """
    path = sklearn_file("data", "breast_cancer.csv")
    with open(path, encoding="utf-8") as f:   # "569,30,malignant,benign", then the rows
        rows, _, *target_names = f.readline().strip().split(",")
        table = np.loadtxt(f, delimiter=",")
    if table.shape != (int(rows), len(BREAST_CANCER_FEATURES) + 1):
        raise ValueError(f"{path}: expected {rows} rows of 30 features and a label, "
                         f"got {table.shape}")
    info = ("Wisconsin diagnostic breast cancer (UCI via scikit-learn), 569 rows, "
            "30 features, 0 = malignant, 1 = benign")
    splits = train_val_test_split(table[:, :-1].astype(np.float32),
                                  table[:, -1].astype(np.int64), val_size, test_size, seed,
                                  classes=target_names, info=info)
    if normalize:
        splits = standardize(splits)
    splits.extra["feature_names"] = list(BREAST_CANCER_FEATURES)
    return splits


def load_sample_images(gray: bool = False, size: tuple[int, int] | None = None
                       ) -> tuple[np.ndarray, list[str]]:
    """scikit-learn's two sample photos as float32 in [0, 1].

    Returns ``(images, names)``: images (2, H, W, 3) (or (2, H, W) with
    ``gray``), H x W = 427 x 640 unless ``size=(H, W)`` resizes them.
    """
    names = ["china", "flower"]
    size = None if size is None else tuple(size)
    images = np.stack([_photo(name, gray, size) for name in names])
    return images, names


def sample_image(name: str = "china", gray: bool = False,
                 size: tuple[int, int] | None = None) -> np.ndarray:
    """One sample photo, ``'china'`` or ``'flower'``: (H, W, 3) or (H, W) in [0, 1]."""
    if name not in ("china", "flower"):
        raise ValueError(f"sample_image: name must be 'china' or 'flower', got {name!r}")
    return _photo(name, gray, None if size is None else tuple(size)).copy()


@functools.cache
def _photo(name: str, gray: bool, size: tuple[int, int] | None) -> np.ndarray:
    """One photo, decoded and prepared once per (name, gray, size); callers get copies."""
    from PIL import Image

    with Image.open(sklearn_file("images", f"{name}.jpg")) as image:
        return _prepare(np.asarray(image), gray, size)


def _prepare(image: np.ndarray, gray: bool, size: tuple[int, int] | None) -> np.ndarray:
    x = image.astype(np.float32) / 255.0
    if gray:
        x = x @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if size is not None:
        from scipy import ndimage

        zoom = (size[0] / x.shape[0], size[1] / x.shape[1]) + (1,) * (x.ndim - 2)
        x = np.clip(ndimage.zoom(x, zoom, order=1), 0.0, 1.0)
    return x.astype(np.float32)
