"""``LastStep``: a recurrent layer read out at its last time step.

Sequence in, one prediction out (classify a sequence, predict the next value):

    x (N, T, D) -> recurrent (batch_first) -> output (N, T, H) -> h_T = output[:, -1]
                -> head -> y_hat (N, K)

PyTorch has no such layer (one writes the two lines of ``forward`` by hand); here it
also has to write the backward pass, which is the point: the loss sees only h_T, so
dL/d(output) is zero at every step but the last, and the recurrent layer's own
backward (backpropagation through time) carries that one gradient back to the
earlier steps.
"""
from __future__ import annotations

import numpy as np

from .container import backward_to_weights
from .module import Module


class LastStep(Module):
    """A recurrent layer (``batch_first=True``) and a head on its last output.

    Args:
        recurrent: ``RNN``, ``LSTM`` or ``GRU`` with ``batch_first=True``.
        head: the layer (or Sequential) that reads h_T, such as ``Linear(H, K)``.

    Shape:
        x: (N, T, D) -> y_hat: what ``head`` makes of (N, H).
    """

    skips_input_grad = True                 # backward(g, input_grad=False)

    def __init__(self, recurrent: Module, head: Module):
        super().__init__()
        if not getattr(recurrent, "batch_first", True):
            raise ValueError(f"LastStep reads (N, T, D) inputs: build {recurrent._short()} "
                             "with batch_first=True")
        self.recurrent = recurrent
        self.head = head

    def forward(self, x: np.ndarray) -> np.ndarray:
        output, _ = self.recurrent(x)             # (N, T, H): h_t at every step
        self._cache = output.shape
        return self.head(output[:, -1])           # only h_T feeds the prediction

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        shape = self._saved()
        grad_output = np.zeros(shape, dtype=grad_out.dtype)
        grad_output[:, -1] = self.head.backward(grad_out)   # dL/dh_T; zero before
        if not input_grad:
            return backward_to_weights(self.recurrent, grad_output)
        return self.recurrent.backward(grad_output)
