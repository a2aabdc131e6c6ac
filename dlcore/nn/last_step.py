"""``LastStep``: a recurrent layer read out at its last time step.

Sequence in, one prediction out (classify a sequence, predict the next value):

    x (N, T, D) -> recurrent (batch_first) -> output (N, T, H) -> h_T = output[:, -1]
                -> head -> y_hat (N, K)

PyTorch has no such layer (one writes the two lines of ``forward`` by hand); here it
also has to write the backward pass, which is the point: the loss sees only h_T, so
dL/d(output) is zero at every step but the last, where it is dL/dh_T. That is the same
as handing dL/dh_T to the recurrent layer as the gradient of its final state h_n, with no
gradient for its outputs: its own backward (backpropagation through time) carries that
one gradient back to the earlier steps, and skips adding T - 1 arrays of zeros.
"""
from __future__ import annotations

import numpy as np

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
        self._saved()
        dh_T = self.head.backward(grad_out)                  # dL/dh_T, (N, H)
        grad_h_n = np.zeros((self.recurrent.num_layers, *dh_T.shape), dh_T.dtype)
        grad_h_n[-1] = dh_T                                  # the top layer's h_T
        # no gradient for the outputs (None): dL/d(output) is zero but at the last step
        return self.recurrent.backward(None, grad_h_n, input_grad=input_grad)
