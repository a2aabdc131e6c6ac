"""dlcore: a small deep-learning engine in NumPy, with PyTorch's names and
explicit forward and backward passes, written to be read.

    from dlcore import nn, optim
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))

``dlcore.data``, ``dlcore.train``, ``dlcore.viz``, ``dlcore.grading`` and
``dlcore.autograd`` load
on first use, so ``import dlcore`` stays fast.
"""
from __future__ import annotations

import importlib

from . import nn, optim
from .gradcheck import gradcheck, numerical_gradient, rel_error
from .rng import manual_seed
from .serialization import load, save

__version__ = "0.1.0"
__all__ = ["nn", "optim", "manual_seed", "save", "load", "gradcheck",
           "numerical_gradient", "rel_error", "data", "train", "viz", "grading", "autograd"]

_LAZY = ("data", "train", "viz", "grading", "autograd")


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'dlcore' has no attribute {name!r}")
