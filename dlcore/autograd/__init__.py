"""Automatic differentiation: what PyTorch does instead of the hand-written
backward passes of the rest of dlcore (lesson 14).

* ``Value`` (``value.py``): one number that records how it was made, micrograd's
  idea, the smallest complete autograd;
* ``Tensor`` (``tensor.py``): the same on NumPy arrays, with PyTorch's names
  (``requires_grad``, ``.grad``, ``.backward()``, ``detach()``, ``no_grad()``)
  and just the operations an MLP and its loss need: ``elementwise.py``
  (add, sub, neg, mul, div, pow, exp, log, tanh, relu, with broadcasting),
  ``reduction.py`` (sum, mean), ``matmul.py``, ``shape.py`` (reshape,
  transpose, indexing), ``loss.py`` (log_softmax, cross_entropy);
* ``graph.py``: the topological order the backward pass walks, and ``no_grad``;
* ``expression.py``: a formula typed as text read into ``Value``s, safely (no
  ``eval``), for lesson 14's stepper.

    from dlcore.autograd import Tensor, cross_entropy
    W = Tensor(weights, requires_grad=True)
    loss = cross_entropy(X @ W.T, y)
    loss.backward()          # W.grad
"""
from __future__ import annotations

# tensor.py first: it imports the operation files, which import Tensor from it.
from .tensor import Tensor, as_tensor

# isort: split
from .elementwise import add, div, exp, log, mul, neg, pow, relu, sub, tanh, unbroadcast
from .graph import is_grad_enabled, no_grad, topological_order
from .loss import cross_entropy, log_softmax
from .matmul import matmul
from .reduction import mean, sum
from .shape import index, reshape, transpose
from .value import Value

__all__ = ["Value", "Tensor", "as_tensor", "no_grad", "is_grad_enabled",
           "topological_order", "add", "sub", "neg", "mul", "div", "pow", "exp", "log", "tanh",
           "relu", "sum", "mean", "matmul", "reshape", "transpose", "index", "log_softmax",
           "cross_entropy", "unbroadcast"]
