"""Data for the course: data sets, mini-batches, splits and augmentation.

Everything is offline: real data comes from files inside scikit-learn's wheel,
the rest is generated from a seed. X is float32, class labels y int64.

Batches::

    TensorDataset(*arrays)                        # ds[i] -> (X[i], y[i]); len(ds)
    DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False, seed=None,
               transform=None)                    # yields (X_batch, y_batch) NumPy tuples
        # seed=int: same order every run; seed=None: orders from dlcore.rng.generator()
        # transform(X_batch) -> X_batch, e.g. an augmentation; len(loader) = batches

Splits and normalisation (statistics from the training part only)::

    Splits: .X_train .y_train .X_val .y_val .X_test .y_test .classes .info .extra
            .train/.val/.test (TensorDataset)
            .loaders(batch_size=64, seed=0, transform=None) -> (train, val, test) loaders
            .map_X(fn) -> Splits
    train_val_test_split(X, y, val_size=0.1, test_size=0.2, seed=0, stratify=True) -> Splits
    split_indices(n, val_size=0.1, test_size=0.2, seed=0, stratify=None) -> (tr, va, te)
    Standardizer(axis=0).fit(X_train); .transform(X); .fit_transform; .inverse_transform
    standardize(splits, axis=0) -> Splits    # axis=(0, 2, 3) for per-channel images

Toy 2-D sets, each -> (X (n, 2) float32, y (n,) int64)::

    make_moons(n=200, noise=0.1, seed=0)
    make_circles(n=200, noise=0.05, factor=0.5, seed=0)
    make_spirals(n=300, classes=3, noise=0.2, seed=0)
    make_xor(n=200, noise=0.1, seed=0)
    make_blobs(n=300, centers=3, std=1.0, dim=2, box=5.0, seed=0)

Real data (inside scikit-learn's wheel), each -> Splits::

    load_digits(val_size=0.1, test_size=0.2, seed=0, images=False)
        # 1,797 8x8 digits, X (N, 64) in [0, 1] or (N, 1, 8, 8) with images=True;
        # train/val/test = 1,259 / 179 / 359
    load_breast_cancer(val_size=0.1, test_size=0.2, seed=0, normalize=True)
        # 569 rows x 30 features, y 0 malignant / 1 benign; 399 / 57 / 113
    load_sample_images(gray=False, size=None) -> (images (2, H, W, 3) in [0, 1], names)
    sample_image(name='china' | 'flower', gray=False, size=None) -> (H, W, 3) or (H, W)

Printed digits (rendered with matplotlib's 12 DejaVu fonts, FONTS; cached)::

    printed_digits(n=1000, size=28, seed=0, fonts=FONTS, scale=None, widen=None, rotation=12.0,
                   shift=None, noise=None) -> (X (n, 1, size, size) in [0, 1], y (n,))
    load_printed_digits(n=6000, size=28, val_size=0.1, test_size=0.2, seed=0,
                        images=True, **options) -> Splits
        # size=8, images=False matches load_digits' layout and 0..16/16 scale,
        # a source domain for transfer learning to the handwritten digits

Sequences (batch first, (N, T, D))::

    adding_problem(n=2000, length=50, seed=0) -> X (n, T, 2), y (n, 1) float32
    copy_task(n=1000, length=5, n_symbols=8, delay=10, seed=0)
        -> X one-hot (n, T, n_symbols + 2) float32, y (n, T) int64
    sine_waves(n=1000, window=20, noise=0.05, seed=0) -> X (n, T, 1), y (n, 1)

Text::

    zen_of_python() -> str                    # PEP 20, decoded from `this`, no printing
    CharVocab(text): .chars .stoi len() .encode(str) -> int64 ids .decode(ids) .one_hot(ids)
    char_windows(text, seq_len=32, vocab=None, step=1) -> (X (N, T), Y (N, T), vocab)
    python_docs(ascii=True) -> str            # Python's help topics (pydoc_data), ~465k chars

Generated data for lesson 12's applications::

    make_clips(n=600, frames=6, size=12, square=3, speed=1, noise=0.1, seed=0)
        -> X (n, T, 1, H, W) float32, y (n,) int64: a moving square, label = DIRECTIONS
    make_transactions(n=20000, fraud_rate=0.01, seed=0) -> X (n, 6) float32 (FEATURES),
        y (n,) int64: 1 fraud (rare), 0 legitimate
    tictactoe: winner, legal_moves, random_player, play, self_play_positions, match

Augmentation (augment.py; on a batch (N, C, H, W) or (N, H, W), shape and dtype
kept; each takes ``generator=None``, meaning ``dlcore.rng.generator()``)::

    RandomShift(max_shift=2, fill=0.0), RandomRotation(degrees=10.0, fill=0.0),
    RandomHorizontalFlip(p=0.5), RandomVerticalFlip(p=0.5),
    RandomCrop(size=None, padding=0), GaussianNoise(std=0.1, clip=None),
    Compose([...]);  hflip(X), vflip(X) exact flips
    DataLoader(..., transform=Compose([RandomShift(2), GaussianNoise(0.05)]))
"""
from . import augment, tictactoe
from .augment import (
    Compose,
    GaussianNoise,
    RandomCrop,
    RandomHorizontalFlip,
    RandomRotation,
    RandomShift,
    RandomVerticalFlip,
    hflip,
    vflip,
)
from .clips import DIRECTIONS, make_clips
from .dataset import TensorDataset
from .loader import DataLoader
from .printed import FONTS, load_printed_digits, printed_digits
from .real import load_breast_cancer, load_digits, load_sample_images, sample_image
from .sequences import adding_problem, copy_task, sine_waves
from .split import Splits, Standardizer, split_indices, standardize, train_val_test_split
from .text import CharVocab, char_windows, python_docs, zen_of_python
from .toy import make_blobs, make_circles, make_moons, make_spirals, make_xor
from .transactions import FEATURES, make_transactions

__all__ = [
    "TensorDataset", "DataLoader",
    "Splits", "Standardizer", "split_indices", "standardize", "train_val_test_split",
    "make_moons", "make_circles", "make_spirals", "make_xor", "make_blobs",
    "load_digits", "load_breast_cancer", "load_sample_images", "sample_image",
    "adding_problem", "copy_task", "sine_waves",
    "zen_of_python", "python_docs", "CharVocab", "char_windows",
    "printed_digits", "load_printed_digits", "FONTS",
    "make_clips", "DIRECTIONS", "make_transactions", "FEATURES", "tictactoe",
    "augment", "Compose", "GaussianNoise", "RandomCrop", "RandomHorizontalFlip",
    "RandomRotation", "RandomShift", "RandomVerticalFlip", "hflip", "vflip",
]
