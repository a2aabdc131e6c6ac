"""``Tensor``: an array that records the operations made on it, so that
``loss.backward()`` can compute the gradient of ``loss`` for every tensor that
asked for one (``requires_grad=True``). PyTorch's names, on NumPy.

    W = Tensor(rng.standard_normal((10, 64)), requires_grad=True)
    loss = cross_entropy(X @ W.T, y)      # forward: builds the graph as it goes
    loss.backward()                        # backward: W.grad, shape (10, 64)

Each operation (in ``elementwise.py``, ``reduction.py``, ``matmul.py``,
``shape.py``, ``loss.py``) computes its result with NumPy and hands ``result``
a closure ``backward(grad)``: given dLoss/d(result), it adds dLoss/d(input) into
each input's ``.grad``. Unlike the scalar ``Value``, the closure receives the
gradient as an argument (as PyTorch's ``grad_fn`` does), so a result holds no
reference to itself and is freed as soon as nothing uses it.

After ``backward()`` the graph is released, as in PyTorch: the intermediate
results forget their inputs and closures (``retain_graph=False``), their
``.grad`` is dropped, and only the leaves keep theirs. A second ``backward()``
through the same graph is an error that says so.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .graph import is_grad_enabled, topological_order

Backward = Callable[[np.ndarray], None]


class Tensor:
    """An n-dimensional array in a computation graph.

    Args:
        data: an array or anything ``np.asarray`` reads (a NumPy array is used
            as it is, not copied, as ``torch.from_numpy`` does).
        requires_grad: make this a leaf whose gradient ``backward()`` computes
            (the weights of a model). Only floating-point tensors can.

    Attributes:
        data: the NumPy array (forward values).
        grad: dLoss/d(this tensor), an array of ``data``'s shape, or None until a
            backward pass reaches it. Gradients add up over backward passes, as
            in PyTorch: set ``.grad = None`` before the next step.
        requires_grad: whether operations on it are recorded.
        is_leaf: True for a tensor made by you rather than by an operation.
    """

    __array_ufunc__ = None   # `array * tensor` calls Tensor.__rmul__, not NumPy's loop

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, Tensor):
            raise TypeError("Tensor(...) takes an array, got a Tensor: use it directly, "
                            "or t.detach() for a copy outside the graph")
        self.data = np.asarray(data)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got "
                            f"dtype {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        self.grad: np.ndarray | None = None
        self._prev: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None
        self._op = ""                       # the operation that made it; "" for a leaf

    # -- what it is ---------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self._op == ""

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, separator=", ", prefix="Tensor(")
        if self._op:
            return f"Tensor({body}, grad_fn=<{self._op}>)"
        return f"Tensor({body}, requires_grad=True)" if self.requires_grad else f"Tensor({body})"

    def item(self) -> float:
        """The one number in a tensor of one element, as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor of one element, got shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array; as in PyTorch, not for a tensor in a graph."""
        if self.requires_grad:
            raise RuntimeError("numpy() on a tensor that requires grad: call "
                               "tensor.detach().numpy() (or read tensor.data)")
        return self.data

    def detach(self) -> Tensor:
        """The same data (shared, not copied) outside the graph: no gradient flows
        back through it."""
        return Tensor(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Turn gradient tracking of a leaf on (or off), in place."""
        if not self.is_leaf:
            raise RuntimeError("requires_grad_() works on leaves only; use detach() on "
                               f"the result of {self._op}")
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got "
                            f"dtype {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    # -- the backward pass ------------------------------------------------------------
    def _accumulate(self, grad: np.ndarray) -> None:
        """self.grad += grad: each use of this tensor adds its share."""
        if not self.requires_grad:
            return
        if self.grad is None:
            self.grad = np.zeros_like(self.data)
        self.grad += grad

    def backward(self, gradient: np.ndarray | None = None) -> None:
        """Compute dSelf/d(leaf) for every leaf with ``requires_grad`` and add it
        into the leaf's ``.grad``.

        Args:
            gradient: dLoss/d(self), of self's shape. Leave it out for a tensor of
                one element (a loss): the seed is then dSelf/dSelf = 1.

        The walk: seed self's gradient, then visit every node in reverse
        topological order (self first), calling its ``backward`` closure, which
        adds into the ``.grad`` of its inputs. Then the graph is released.
        """
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad, so no graph "
                               "leads to it: create the weights with requires_grad=True "
                               "(and not inside no_grad())")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a single number "
                                   f"(a loss), but this tensor has shape {self.shape}: "
                                   f"reduce it first (.sum(), .mean()) or pass "
                                   f"backward(gradient) of shape {self.shape}")
            gradient = np.ones_like(self.data)
        gradient = np.asarray(gradient, dtype=self.data.dtype)
        if gradient.shape != self.shape:
            raise ValueError(f"backward(gradient): gradient has shape {gradient.shape}, "
                             f"but the tensor has shape {self.shape}")
        order = topological_order(self)
        self._accumulate(gradient)                  # the seed
        for node in reversed(order):                # self first, leaves last
            if node.is_leaf:
                continue
            if node._backward is None:
                raise RuntimeError(f"backward() through the graph a second time: the graph "
                                   f"through '{node._op}' was released by an earlier "
                                   f"backward(); compute the forward pass again")
            if node.grad is not None:               # no gradient reached it: nothing to pass
                node._backward(node.grad)
        for node in order:                          # release the graph
            if not node.is_leaf:
                node._prev, node._backward, node.grad = (), None, None

    # -- operators: each is a function in one of the operation files ------------------
    def __add__(self, other): return elementwise.add(self, other)
    def __radd__(self, other): return elementwise.add(other, self)
    def __sub__(self, other): return elementwise.sub(self, other)
    def __rsub__(self, other): return elementwise.sub(other, self)
    def __mul__(self, other): return elementwise.mul(self, other)
    def __rmul__(self, other): return elementwise.mul(other, self)
    def __truediv__(self, other): return elementwise.div(self, other)
    def __rtruediv__(self, other): return elementwise.div(other, self)
    def __neg__(self): return elementwise.neg(self)
    def __pow__(self, k): return elementwise.pow(self, k)
    def __matmul__(self, other): return matmul.matmul(self, other)
    def __rmatmul__(self, other): return matmul.matmul(other, self)
    def __getitem__(self, index): return shape.index(self, index)

    def exp(self): return elementwise.exp(self)
    def log(self): return elementwise.log(self)
    def tanh(self): return elementwise.tanh(self)
    def relu(self): return elementwise.relu(self)
    def sum(self, dim=None, keepdim=False): return reduction.sum(self, dim, keepdim)
    def mean(self, dim=None, keepdim=False): return reduction.mean(self, dim, keepdim)
    def reshape(self, *shape_): return shape.reshape(self, *shape_)
    def transpose(self, dim0, dim1): return shape.transpose(self, dim0, dim1)
    def log_softmax(self, dim=-1): return loss.log_softmax(self, dim)

    @property
    def T(self): return shape.transpose(self, -1, -2) if self.ndim > 1 else self


def as_tensor(x) -> Tensor:
    """``x`` itself if it is a Tensor, else a constant Tensor (no gradient)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def result(data: np.ndarray, inputs: tuple[Tensor, ...], op: str, backward: Backward) -> Tensor:
    """The output of operation ``op``: a Tensor of ``data`` that records its
    ``inputs`` and ``backward`` closure when some input requires grad and
    gradients are on (not inside ``no_grad()``); a plain constant otherwise."""
    out = Tensor(data)
    if is_grad_enabled() and any(t.requires_grad for t in inputs):
        out.requires_grad = True
        out._prev = inputs
        out._backward = backward
        out._op = op
    return out


# The operation files import Tensor from here, so they are imported after it.
from . import elementwise, loss, matmul, reduction, shape  # noqa: E402
