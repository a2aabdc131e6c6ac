"""Data augmentation: random changes to training images that keep their label.

A network that sees every digit shifted a pixel or two, slightly rotated or
with a little noise learns what matters rather than where the pixels happen
to be. Each transform works on a whole batch, (N, C, H, W) or (N, H, W), draws
a separate random change for every image, never changes its input and keeps
shape and dtype. Use them on the training loader only:

    augment = Compose([RandomShift(2), RandomRotation(10), GaussianNoise(0.05)])
    train_loader = DataLoader(train_set, 64, shuffle=True, seed=0, transform=augment)

Randomness comes from ``generator`` if given, else ``dlcore.rng.generator()``
(so ``dlcore.manual_seed(n)`` repeats it).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .. import rng as _rng


def _images(X: np.ndarray, name: str) -> tuple[np.ndarray, bool]:
    """X as (N, C, H, W), and whether it came without the channel axis."""
    X = np.asarray(X)
    if X.ndim == 3:
        return X[:, None], True
    if X.ndim == 4:
        return X, False
    raise ValueError(f"{name} expects a batch of images (N, C, H, W) or (N, H, W), "
                     f"got shape {X.shape}")


def hflip(X: np.ndarray) -> np.ndarray:
    """Mirror every image left-right (the last axis)."""
    return np.ascontiguousarray(np.asarray(X)[..., ::-1])


def vflip(X: np.ndarray) -> np.ndarray:
    """Mirror every image top-bottom (the second-to-last axis)."""
    return np.ascontiguousarray(np.asarray(X)[..., ::-1, :])


class _Random:
    def __init__(self, generator: np.random.Generator | None):
        self.generator = generator

    def _rng(self) -> np.random.Generator:
        return self.generator if self.generator is not None else _rng.generator()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "generator")
        return f"{type(self).__name__}({args})"


def _crop(X: np.ndarray, top: np.ndarray, left: np.ndarray, h: int, w: int) -> np.ndarray:
    """Per-image crops X[n, :, top[n]:top[n]+h, left[n]:left[n]+w] by fancy indexing."""
    n, c = X.shape[:2]
    rows = (top[:, None] + np.arange(h))[:, None, :, None]
    cols = (left[:, None] + np.arange(w))[:, None, None, :]
    return X[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols]


class RandomCrop(_Random):
    """Pad each image with ``padding`` zeros on every side, then cut a random
    ``size`` window (default: the original size, so the result is the image
    moved by up to ``padding`` pixels, as in the CIFAR recipe).

    Shape: (N, C, H, W) -> (N, C, size) (or (N, H, W) -> (N, size)).
    """

    def __init__(self, size: int | tuple[int, int] | None = None, padding: int = 0,
                 generator: np.random.Generator | None = None):
        super().__init__(generator)
        self.size = (size, size) if isinstance(size, int) else size
        self.padding = int(padding)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X4, squeeze = _images(X, type(self).__name__)
        p = self.padding
        padded = np.pad(X4, ((0, 0), (0, 0), (p, p), (p, p))) if p else X4
        h, w = self.size or X4.shape[2:]
        H, W = padded.shape[2:]
        if h > H or w > W:
            raise ValueError(f"RandomCrop: crop {(h, w)} is larger than the padded image "
                             f"{(H, W)}")
        g = self._rng()
        top = g.integers(0, H - h + 1, size=len(X4))
        left = g.integers(0, W - w + 1, size=len(X4))
        out = _crop(padded, top, left, h, w)
        return out[:, 0] if squeeze else out


class RandomShift(_Random):
    """Move each image by a random whole number of pixels in [-max_shift,
    max_shift] along each axis; pixels that come in are ``fill``."""

    def __init__(self, max_shift: int = 2, fill: float = 0.0,
                 generator: np.random.Generator | None = None):
        super().__init__(generator)
        self.max_shift = int(max_shift)
        self.fill = fill

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X4, squeeze = _images(X, type(self).__name__)
        m = self.max_shift
        padded = np.pad(X4, ((0, 0), (0, 0), (m, m), (m, m)), constant_values=self.fill)
        g = self._rng()
        top = g.integers(0, 2 * m + 1, size=len(X4))
        left = g.integers(0, 2 * m + 1, size=len(X4))
        out = _crop(padded, top, left, *X4.shape[2:])
        return out[:, 0] if squeeze else out


class RandomRotation(_Random):
    """Rotate each image about its centre by an angle drawn uniformly from
    [-degrees, degrees] (bilinear interpolation, corners filled with ``fill``)."""

    def __init__(self, degrees: float = 10.0, fill: float = 0.0,
                 generator: np.random.Generator | None = None):
        super().__init__(generator)
        self.degrees = float(degrees)
        self.fill = fill

    def __call__(self, X: np.ndarray) -> np.ndarray:
        from scipy import ndimage

        X4, squeeze = _images(X, type(self).__name__)
        angles = self._rng().uniform(-self.degrees, self.degrees, size=len(X4))
        out = np.empty_like(X4)
        for i, angle in enumerate(angles):
            out[i] = ndimage.rotate(X4[i], angle, axes=(2, 1), reshape=False, order=1,
                                    mode="constant", cval=self.fill)
        return out[:, 0] if squeeze else out


class RandomHorizontalFlip(_Random):
    """Mirror each image left-right with probability ``p``."""

    def __init__(self, p: float = 0.5, generator: np.random.Generator | None = None):
        super().__init__(generator)
        self.p = float(p)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X4, squeeze = _images(X, type(self).__name__)
        out = X4.copy()
        chosen = self._rng().random(len(X4)) < self.p
        out[chosen] = hflip(X4[chosen])
        return out[:, 0] if squeeze else out


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror each image top-bottom with probability ``p``."""

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X4, squeeze = _images(X, type(self).__name__)
        out = X4.copy()
        chosen = self._rng().random(len(X4)) < self.p
        out[chosen] = vflip(X4[chosen])
        return out[:, 0] if squeeze else out


class GaussianNoise(_Random):
    """Add N(0, std^2) noise to every pixel; ``clip=(low, high)`` keeps the range."""

    def __init__(self, std: float = 0.1, clip: tuple[float, float] | None = None,
                 generator: np.random.Generator | None = None):
        super().__init__(generator)
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be >= 0, got {std}")
        self.std = float(std)
        self.clip = clip

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        dtype = X.dtype if X.dtype.kind == "f" else np.float32
        out = X + self.std * self._rng().standard_normal(X.shape)
        if self.clip is not None:
            out = np.clip(out, *self.clip)
        return out.astype(dtype)


class Compose:
    """Apply transforms one after the other: ``Compose([RandomShift(2), GaussianNoise()])``."""

    def __init__(self, transforms: Sequence[Callable[[np.ndarray], np.ndarray]]):
        self.transforms = list(transforms)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        for transform in self.transforms:
            X = transform(X)
        return X

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"
