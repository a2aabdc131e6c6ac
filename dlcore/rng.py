"""One seeded random generator for the whole engine.

Initialisation, dropout, data shuffling and augmentation all draw from
``generator()``, so ``dlcore.manual_seed(n)`` makes a whole run repeatable,
as ``torch.manual_seed`` does.
"""
from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the engine's generator (and NumPy's legacy global one)."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expects an integer, got {type(seed).__name__}")
    _generator = np.random.default_rng(int(seed))
    np.random.seed(int(seed) % 2**32)
    return _generator


def generator() -> np.random.Generator:
    """The generator every random step of dlcore draws from."""
    return _generator
