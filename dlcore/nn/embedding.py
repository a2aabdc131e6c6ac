"""``Embedding``: a lookup table from integer ids (words, characters) to vectors.

    y[..., :] = W[ids[...], :]

It equals multiplying a one-hot vector by W, without building the one-hot.
Backward: each row of W receives the sum of the gradients of every position
that looked it up; the ids themselves have no gradient.
"""
from __future__ import annotations

import numpy as np

from . import init
from .module import Module, Parameter


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``.

    Args:
        num_embeddings: how many ids (the vocabulary size); valid ids are
            0 .. num_embeddings - 1.
        embedding_dim: D, the size of each vector.
        padding_idx: an id whose vector stays at zero and is never trained
            (for padding tokens); negative counts from the end, as in PyTorch.

    Shape:
        ids: (*) integers -> y: (*, D).

    Attributes:
        weight: (num_embeddings, D), initialised N(0, 1) as PyTorch.

    ``backward(grad_out)`` adds into ``weight.grad`` and returns None: there is
    no gradient for integer ids, so an Embedding comes first in a model.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None):
        super().__init__()
        if num_embeddings < 1 or embedding_dim < 1:
            raise ValueError(f"Embedding needs positive sizes, got num_embeddings="
                             f"{num_embeddings}, embedding_dim={embedding_dim}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding padding_idx must be within num_embeddings "
                                 f"({num_embeddings}), got {padding_idx}")
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=np.float32))
        init.normal_(self.weight)
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings: np.ndarray, freeze: bool = True,
                        padding_idx: int | None = None) -> Embedding:
        """An Embedding whose table is a copy of ``embeddings`` (frozen by default)."""
        embeddings = np.asarray(embeddings)
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained expects a 2-D table, got "
                             f"{embeddings.shape}")
        layer = cls(*embeddings.shape, padding_idx=padding_idx)
        layer.weight = Parameter(embeddings, requires_grad=not freeze)
        return layer

    def forward(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"{self._short()} expects integer ids, got dtype {ids.dtype} "
                            "(convert with ids.astype(int))")
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            bad = ids.min() if ids.min() < 0 else ids.max()
            raise IndexError(f"{self._short()}: id {int(bad)} is out of range; valid ids are "
                             f"0 to {self.num_embeddings - 1}")
        self._cache = ids
        return self.weight.data[ids]

    def backward(self, grad_out: np.ndarray) -> None:
        ids = self._saved()
        grad_out = self._check_grad_out(grad_out, ids.shape + (self.embedding_dim,))
        # Ids that repeat must add up: np.add.at sums duplicates, W.grad[ids] += g would not.
        np.add.at(self.weight.grad, ids.reshape(-1), grad_out.reshape(-1, self.embedding_dim))
        if self.padding_idx is not None:
            self.weight.grad[self.padding_idx] = 0
        return None

    def _short(self) -> str:
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else text + f", padding_idx={self.padding_idx}"
