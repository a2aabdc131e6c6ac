"""Real data sets from scikit-learn's wheel: sizes, dtypes, ranges, splits."""
from __future__ import annotations

import numpy as np
import pytest

from dlcore.data import load_breast_cancer, load_digits, load_sample_images, sample_image


def rows(X):
    return {r.tobytes() for r in X.reshape(len(X), -1)}


def test_digits_shapes_dtypes_ranges():
    d = load_digits()
    assert (len(d.X_train), len(d.X_val), len(d.X_test)) == (1259, 179, 359)
    assert d.X_train.shape[1:] == (64,) and d.X_train.dtype == np.float32
    assert d.y_train.dtype == np.int64 and set(np.unique(d.y_test)) == set(range(10))
    for X in (d.X_train, d.X_val, d.X_test):
        assert X.min() == 0.0 and X.max() == 1.0
    assert np.allclose(d.X_train * 16, np.round(d.X_train * 16))
    assert load_digits(images=True).X_train.shape[1:] == (1, 8, 8)


def test_digits_split_is_fixed_and_disjoint():
    a, b = load_digits(), load_digits()
    assert np.array_equal(a.X_test, b.X_test) and np.array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.y_test, load_digits(seed=1).y_test)
    from sklearn.datasets import load_digits as raw
    n_unique = len(rows(raw().data.astype(np.float32) / 16))
    together = rows(a.X_train) | rows(a.X_val) | rows(a.X_test)
    assert len(together) == n_unique  # every image is in exactly one part
    assert not rows(a.X_train) & rows(a.X_test)


def test_breast_cancer_normalised_on_train():
    b = load_breast_cancer()
    assert b.X_train.shape == (399, 30) and len(b.X_test) == 113
    assert b.X_train.dtype == np.float32 and b.y_train.dtype == np.int64
    assert set(np.unique(b.y_train)) == {0, 1}
    assert np.allclose(b.X_train.mean(0), 0, atol=1e-4)
    assert np.allclose(b.X_train.std(0), 1, atol=1e-3)
    assert not np.allclose(b.X_test.mean(0), 0, atol=1e-3)
    assert len(b.extra["feature_names"]) == 30 and b.classes == ["malignant", "benign"]
    raw = load_breast_cancer(normalize=False)
    assert raw.X_train.min() >= 0 and raw.X_train.max() > 100


def test_sample_images():
    images, names = load_sample_images(size=(32, 48))
    assert images.shape == (2, 32, 48, 3) and images.dtype == np.float32
    assert names == ["china", "flower"]
    assert 0 <= images.min() and images.max() <= 1
    gray = sample_image("flower", gray=True)
    assert gray.shape == (427, 640) and gray.dtype == np.float32
    with pytest.raises(ValueError, match="china"):
        sample_image("cat")


def test_the_files_are_read_as_scikit_learns_loaders_read_them():
    from sklearn import datasets

    d, raw = load_digits(test_size=0.0, val_size=0.0), datasets.load_digits()
    assert rows(d.X_train) == rows((raw.data / 16.0).astype(np.float32))
    assert np.array_equal(np.bincount(d.y_train), np.bincount(raw.target))
    b, raw = load_breast_cancer(normalize=False), datasets.load_breast_cancer()
    assert b.extra["feature_names"] == list(raw.feature_names)
    assert b.classes == [str(c) for c in raw.target_names]
    images, names = load_sample_images()
    raw = datasets.load_sample_images()
    assert names == ["china", "flower"]
    assert np.array_equal(images[0], raw.images[0].astype(np.float32) / 255.0)


def test_loading_data_does_not_import_scikit_learn():
    """Importing sklearn.datasets costs about a second in every lesson that loads data."""
    import subprocess
    import sys

    code = ("import sys; from dlcore.data import load_digits, load_breast_cancer, sample_image; "
            "load_digits(); load_breast_cancer(); sample_image('china', gray=True); "
            "print(sorted(m for m in sys.modules if m.startswith('sklearn')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"


def test_sample_image_gives_each_caller_its_own_copy():
    a = sample_image("china", gray=True, size=[20, 30])
    a[:] = 0
    assert sample_image("china", gray=True, size=(20, 30)).max() > 0
