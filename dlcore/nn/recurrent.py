"""``RNN``, ``LSTM`` and ``GRU``, with backpropagation through time written out.

Each layer reads a sequence x_1..x_T and carries a hidden state h_t (the LSTM
also a cell state c_t) from step to step; the equations are in each class, and
each class writes its recurrence twice, side by side: ``forward_steps`` (the loop
over t = 1..T) and ``backward_steps`` (the same loop run backwards, t = T..1).
Weights stack the gates in PyTorch's order and carry its names.

What stays outside the loops, because it does not depend on h_{t-1}: the input
projection x_t W_ih^T + b_ih is one matrix product for all T steps before the loop
(``input_projection``; the LSTM's is one per gate), and each weight gradient is one
product after the backward loop, from the pre-activation gradients of all steps at
once. Dropout between layers and bidirectional layers are not implemented (the
arguments exist and must stay 0 / False).

Shapes: T steps, N sequences, D input features, H hidden units, L layers.
"""
from __future__ import annotations

import math

import numpy as np

from . import functional as F
from . import init
from .linear import as_array
from .module import Module, Parameter


class _RNNBase(Module):
    """What the three layers share: parameters, layouts, layers stacked, errors.
    Each subclass gives ``forward_steps`` and ``backward_steps`` for one layer."""

    _gates = 1           # weight rows per hidden unit: RNN 1, LSTM 4 (i,f,g,o), GRU 3 (r,z,n)

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False):
        super().__init__()
        name = type(self).__name__
        if input_size < 1 or hidden_size < 1 or num_layers < 1:
            raise ValueError(f"{name} needs positive sizes, got input_size={input_size}, "
                             f"hidden_size={hidden_size}, num_layers={num_layers}")
        if dropout or bidirectional:
            raise NotImplementedError(f"{name}: dropout between layers and bidirectional "
                                      "layers are not implemented in dlcore")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = dropout, bidirectional
        self.grad_hx = None
        rows = self._gates * hidden_size
        for layer in range(num_layers):
            d_in = input_size if layer == 0 else hidden_size
            setattr(self, f"weight_ih_l{layer}", Parameter(np.empty((rows, d_in), np.float32)))
            setattr(self, f"weight_hh_l{layer}", Parameter(np.empty((rows, hidden_size),
                                                                    np.float32)))
            if bias:
                setattr(self, f"bias_ih_l{layer}", Parameter(np.empty(rows, np.float32)))
                setattr(self, f"bias_hh_l{layer}", Parameter(np.empty(rows, np.float32)))
        bound = 1.0 / math.sqrt(hidden_size)            # PyTorch: U(-1/sqrt(H), 1/sqrt(H))
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _weights(self, layer: int) -> tuple[Parameter, ...]:
        return tuple(getattr(self, f"{kind}_l{layer}", None)
                     for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def input_projection(self, x: np.ndarray, layer: int = 0) -> np.ndarray:
        """x_t W_ih^T + b_ih for every step of ``layer``'s input x (T, N, D), in one
        product: (T, N, gates * H). ``forward_steps`` adds the recurrent part."""
        W_ih, _, b_ih, _ = self._weights(layer)
        T, N = x.shape[:2]
        xw = (x.reshape(T * N, -1) @ W_ih.data.T).reshape(T, N, -1)
        if b_ih is not None:
            xw += b_ih.data
        return xw

    def forward(self, x: np.ndarray, hx: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """(output, h_n); LSTM overrides it for its two states."""
        output, (h_n,) = self._forward(x, (hx,))
        return output, h_n

    def backward(self, grad_output: np.ndarray | None, grad_h_n: np.ndarray | None = None,
                 input_grad: bool = True) -> np.ndarray | None:
        return self._backward(grad_output, (grad_h_n,), input_grad)

    # -- the two passes through all layers; the recurrence is each subclass's -----------
    def _time_major(self, a: np.ndarray, unbatched: bool) -> np.ndarray:
        """(T, N, .) from the caller's layout, (T, .) or (N, T, .); a view."""
        return a[:, None] if unbatched else a.transpose(1, 0, 2) if self.batch_first else a

    def _caller_layout(self, a: np.ndarray, unbatched: bool) -> np.ndarray:
        return a[:, 0] if unbatched else a.transpose(1, 0, 2) if self.batch_first else a

    def _unbatch(self, states: tuple, unbatched: bool) -> tuple:
        """(L, N, H) states as the caller gave them: (L, H) for an unbatched input."""
        return tuple(s[:, 0] for s in states) if unbatched else states

    def _states(self, parts: tuple, N: int, unbatched: bool, what: str, dtype) -> list:
        """Initial states or final-state gradients as (L, N, H) arrays, zeros for None."""
        L, H = self.num_layers, self.hidden_size
        want = (L, H) if unbatched else (L, N, H)
        for part in parts:
            if part is not None and np.shape(part) != want:
                raise ValueError(f"{self._short()} expected {what} of shape {want}, "
                                 f"got {np.shape(part)}")
        return [np.zeros((L, N, H), dtype) if part is None
                else np.asarray(part, dtype).reshape(L, N, H) for part in parts]

    def _forward(self, x: np.ndarray, hx: tuple):
        x = as_array(x, self)
        D = self.input_size
        if x.ndim not in (2, 3) or x.shape[-1] != D or 0 in x.shape:
            layout = f"(N, T, {D})" if self.batch_first else f"(T, N, {D})"
            raise ValueError(f"{self._short()} expected input {layout} or (T, {D}) "
                             f"unbatched, got {x.shape}")
        unbatched = x.ndim == 2
        layer_in = self._time_major(x, unbatched)
        N = layer_in.shape[1]
        hx = self._states(hx, N, unbatched, "initial states", layer_in.dtype)
        caches, finals = [], []
        for layer in range(self.num_layers):
            _, W_hh, _, b_hh = self._weights(layer)
            state0 = tuple(s[layer] for s in hx)
            hs, final, steps = self.forward_steps(self.input_projection(layer_in, layer),
                                                  W_hh.data, _data(b_hh), *state0)
            caches.append((layer_in, state0[0], hs, steps))
            finals.append(final)
            layer_in = hs
        self._cache = (caches, unbatched)
        h_n = tuple(np.stack([f[k] for f in finals]) for k in range(len(hx)))  # (L, N, H)
        return self._caller_layout(hs, unbatched), self._unbatch(h_n, unbatched)

    def _backward(self, grad_output: np.ndarray | None, grads_n: tuple,
                  input_grad: bool = True) -> np.ndarray | None:
        caches, unbatched = self._saved()
        T, N = caches[0][0].shape[:2]
        dhs = None                                    # dL/d(this layer's outputs), (T, N, H)
        if grad_output is not None:
            g = np.asarray(grad_output)
            want = self._caller_layout(caches[-1][2], unbatched).shape
            if g.shape != want:
                raise ValueError(f"{self._short()} backward expected grad_output of shape "
                                 f"{want} (the shape of its output), got {g.shape}")
            dhs = self._time_major(g, unbatched)
        finals = self._states(grads_n, N, unbatched, "final-state gradients", caches[0][2].dtype)
        grad_states0 = []
        for layer in reversed(range(self.num_layers)):
            layer_in, h0, hs, steps = caches[layer]
            W_ih, W_hh, b_ih, b_hh = self._weights(layer)
            h_prev = np.concatenate([h0[None], hs[:-1]])          # h_{t-1} for t = 1..T
            dzx, dzh, d_state0 = self.backward_steps(dhs, *(f[layer] for f in finals),
                                                     W_hh=W_hh.data, h_prev=h_prev, steps=steps)
            # dL/d(pre-activations) of every step is known: one product per weight.
            dzx2, dzh2 = dzx.reshape(T * N, -1), dzh.reshape(T * N, -1)
            W_ih.grad += dzx2.T @ layer_in.reshape(T * N, -1)
            W_hh.grad += dzh2.T @ h_prev.reshape(T * N, -1)
            if b_ih is not None:
                db = dzx2.sum(axis=0)
                b_ih.grad += db
                b_hh.grad += db if dzh is dzx else dzh2.sum(axis=0)
            grad_states0.insert(0, d_state0)
            if layer > 0 or input_grad:                  # not for the data (layer 0's input)
                dhs = (dzx2 @ W_ih.data).reshape(T, N, -1)  # the gradient of the layer below
        grad_hx = tuple(np.stack([d[k] for d in grad_states0]) for k in range(len(finals)))
        self.grad_hx = self._unbatch(grad_hx, unbatched)
        return self._caller_layout(dhs, unbatched) if input_grad else None

    def _short(self) -> str:
        layers = f", num_layers={self.num_layers}" if self.num_layers > 1 else ""
        return f"{type(self).__name__}({self.input_size} -> {self.hidden_size}{layers})"

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        return text + (", batch_first=True" if self.batch_first else "")


def _data(p: Parameter | None) -> np.ndarray | None:
    return None if p is None else p.data


class RNN(_RNNBase):
    """An Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    Args: input_size D; hidden_size H; num_layers L (each layer reads the outputs
    of the one below); nonlinearity 'tanh' or 'relu'; bias (``bias_ih_l{k}``,
    ``bias_hh_l{k}``); batch_first: x and output (N, T, .) instead of (T, N, .).

    Shape: x (T, N, D), (N, T, D) with batch_first, or (T, D) unbatched ->
    output (T, N, H) in the same layout, h_n (L, N, H) (or (L, H)).

    Attributes: ``weight_ih_l{k}`` (H, D or H), ``weight_hh_l{k}`` (H, H), all
    initialised U(-1/sqrt(H), 1/sqrt(H)) as PyTorch.

    ``forward(x, hx=None)`` returns ``(output, h_n)``: every top-layer h_t and
    the last h of every layer. ``backward(grad_output, grad_h_n=None)`` runs
    backpropagation through time and returns dL/dx; ``grad_output`` may be None
    when only h_n fed the loss; ``grad_h_n`` is dL/dh_n when it did. dL/dhx is
    left in ``self.grad_hx`` (a one-element tuple). With ``input_grad=False``
    the last product, dL/dx for the data, is skipped and None returned.
    """

    skips_input_grad = True                 # backward(g, input_grad=False)

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional)
        self.nonlinearity = nonlinearity

    def forward_steps(self, xw: np.ndarray, W_hh: np.ndarray, b_hh: np.ndarray | None,
                      h: np.ndarray) -> tuple[np.ndarray, tuple, np.ndarray]:
        """One layer over T steps:  h_t = tanh(xw_t + h_{t-1} W_hh^T + b_hh) (or relu).

        xw (T, N, H): x_t W_ih^T + b_ih of every step (``input_projection``; b_hh is
        added into it in place); W_hh (H, H); h (N, H): h_0.
        Returns hs (T, N, H), every h_t; the final state (h_T,); and what
        ``backward_steps`` needs (hs again).
        """
        if b_hh is not None:
            xw += b_hh                    # the same at every step: added once, before the loop
        hs = np.empty_like(xw)
        for t in range(len(xw)):
            z = xw[t] + h @ W_hh.T                      # (N, H): the pre-activation
            h = np.tanh(z) if self.nonlinearity == "tanh" else np.maximum(z, 0)
            hs[t] = h
        return hs, (h,), hs

    def backward_steps(self, dhs: np.ndarray | None, dh: np.ndarray, *, W_hh: np.ndarray,
                       h_prev: np.ndarray, steps: np.ndarray) -> tuple:
        """Backpropagation through time for one layer, t = T..1.

        dhs (T, N, H): dL/dh_t from above (None if only h_T fed the loss); dh (N, H):
        dL/dh_T from the final state. Returns dz (T, N, H), dL/d(pre-activation) of
        every step (twice: it serves W_ih and W_hh alike), and (dL/dh_0,).
        """
        hs = steps
        dz = np.empty_like(hs)
        for t in reversed(range(len(hs))):
            if dhs is not None:
                dh = dh + dhs[t]                        # from the output and from step t + 1
            slope = 1 - hs[t] * hs[t] if self.nonlinearity == "tanh" else hs[t] > 0
            dz[t] = dh * slope                          # tanh' = 1 - tanh^2; relu' = 1 where h > 0
            dh = dz[t] @ W_hh                           # back to h_{t-1}
        return dz, dz, (dh,)

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else text + ", nonlinearity='relu'"


class LSTM(_RNNBase):
    """Long short-term memory, PyTorch's form (Hochreiter & Schmidhuber, 1997, with
    the forget gate of Gers, Schmidhuber & Cummins, 2000):

        i = sigma(x_t W_ii^T + b_ii + h_{t-1} W_hi^T + b_hi)     input gate
        f = sigma(x_t W_if^T + b_if + h_{t-1} W_hf^T + b_hf)     forget gate
        g = tanh (x_t W_ig^T + b_ig + h_{t-1} W_hg^T + b_hg)     candidate values
        o = sigma(x_t W_io^T + b_io + h_{t-1} W_ho^T + b_ho)     output gate
        c_t = f * c_{t-1} + i * g        h_t = o * tanh(c_t)

    The cell state c_t carries memory forward through additions: along that path
    its gradient is scaled by f at each step instead of repeatedly squashed.

    Args and attributes as ``RNN`` (no nonlinearity); weights stack the gates
    i, f, g, o: ``weight_ih_l{k}`` (4H, D or H), ``weight_hh_l{k}`` (4H, H).

    ``forward(x, hx=None)`` with ``hx = (h_0, c_0)`` returns
    ``(output, (h_n, c_n))``. ``backward(grad_output, grad_h_n=None,
    grad_c_n=None)`` returns dL/dx; dL/d(h_0, c_0) is left in ``self.grad_hx``.
    """

    skips_input_grad = True                 # backward(g, input_grad=False)

    _gates = 4

    def forward(self, x: np.ndarray, hx: tuple[np.ndarray, np.ndarray] | None = None
                ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"{self._short()} expects hx = (h_0, c_0), a pair of arrays")
        return self._forward(x, (None, None) if hx is None else tuple(hx))

    def backward(self, grad_output: np.ndarray | None, grad_h_n: np.ndarray | None = None,
                 grad_c_n: np.ndarray | None = None, input_grad: bool = True
                 ) -> np.ndarray | None:
        return self._backward(grad_output, (grad_h_n, grad_c_n), input_grad)

    def input_projection(self, x: np.ndarray, layer: int = 0) -> np.ndarray:
        """x_t W_ih^T + b_ih for every step of ``layer``'s input x (T, N, D), gate by
        gate: (4, T, N, H), xw[k, t] the input part of gate k (i, f, g, o) at step t.

        One product per gate, x W_ik^T, for all T steps. The layout keeps each gate of a
        step one contiguous (N, H) block: NumPy's simple elementwise operations (a product,
        1 - x) run two to three times faster on those than on column slices of an (N, 4H)
        array, and the forward and backward steps run more than a dozen on the gates.
        """
        W_ih, _, b_ih, _ = self._weights(layer)
        T, N, H = x.shape[0], x.shape[1], self.hidden_size
        W_k = W_ih.data.reshape(4, H, -1)                     # W_ii, W_if, W_ig, W_io
        xw = x.reshape(T * N, -1) @ W_k.transpose(0, 2, 1)    # (4, T * N, H)
        if b_ih is not None:
            xw += b_ih.data.reshape(4, 1, H)
        return xw.reshape(4, T, N, H)

    def forward_steps(self, xw: np.ndarray, W_hh: np.ndarray, b_hh: np.ndarray | None,
                      h: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, tuple, tuple]:
        """One layer over T steps, the equations of the class docstring.

        xw (4, T, N, H): x_t W_ik^T + b_ik of every gate k and step t
        (``input_projection``; b_hh is added into it, and the gates overwrite it, in
        place); W_hh (4H, H); h, c (N, H): h_0 and c_0. Returns hs (T, N, H), every h_t;
        the final states (h_T, c_T); and what ``backward_steps`` needs: (cs (T, N, H),
        every c_t; the gates (i, f, g, o) and tanh(c_t) of every step, each (N, H); c_0).
        """
        T, N, H = xw.shape[1], xw.shape[2], self.hidden_size
        if b_hh is not None:
            xw += b_hh.reshape(4, 1, 1, H)  # the same at every step: added once, before the loop
        hs, cs = np.empty((T, N, H), xw.dtype), np.empty((T, N, H), xw.dtype)
        gates = []                                      # (i, f, g, o) of every step
        c0 = c
        if N > 1:   # W_hi^T, W_hf^T, W_hg^T, W_ho^T, copied gate by gate once for all T steps
            W_hk = W_hh.reshape(4, H, H).transpose(0, 2, 1).copy()
        for t in range(T):
            z = xw[:, t]                                # (4, N, H): the four gates' inputs,
            if N > 1:                                   # x_t W_ik^T + b_k + h_{t-1} W_hk^T
                z += h @ W_hk
            else:   # one sequence (text written a character at a time): one product, no copy
                z += (h @ W_hh.T).reshape(4, 1, H)
            i = F.sigmoid(z[0], out=z[0])               # input gate (written over its input)
            f = F.sigmoid(z[1], out=z[1])               # forget gate
            g = np.tanh(z[2], out=z[2])                 # candidate values: tanh, not sigma
            o = F.sigmoid(z[3], out=z[3])               # output gate
            c = np.add(f * c, i * g, out=cs[t])         # c_t = f * c_{t-1} + i * g, kept in cs
            tanh_c = np.tanh(c)
            h = np.multiply(o, tanh_c, out=hs[t])       # h_t = o * tanh(c_t), kept in hs
            gates.append((i, f, g, o, tanh_c))
        return hs, (h, c), (cs, gates, c0)

    def backward_steps(self, dhs: np.ndarray | None, dh: np.ndarray, dc: np.ndarray, *,
                       W_hh: np.ndarray, h_prev: np.ndarray, steps: tuple) -> tuple:
        """Backpropagation through time for one layer, t = T..1, with
        sigma' = sigma (1 - sigma) and tanh' = 1 - tanh^2.

        dhs (T, N, H): dL/dh_t from above (None if only the final states fed the
        loss); dh, dc (N, H): dL/dh_T and dL/dc_T. Returns dz (T, N, 4H), dL/d(the
        four gates' inputs) of every step (twice: it serves W_ih and W_hh alike),
        and (dL/dh_0, dL/dc_0).
        """
        cs, gates, c0 = steps
        T, N, H = cs.shape
        dz = np.empty((T, N, 4 * H), cs.dtype)
        for t in reversed(range(T)):
            if dhs is not None:
                dh = dh + dhs[t]                        # from the output and from step t + 1
            i, f, g, o, tanh_c = gates[t]
            c_prev = cs[t - 1] if t else c0
            # h_t = o * tanh(c_t)
            do = dh * tanh_c
            dc = dc + dh * o * (1 - tanh_c * tanh_c)
            # c_t = f * c_{t-1} + i * g
            di, df, dg = dc * g, dc * c_prev, dc * i
            dc = dc * f                                 # back to c_{t-1}
            # through each gate's nonlinearity to its input
            np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g),
                            do * o * (1 - o)], axis=1, out=dz[t])
            dh = dz[t] @ W_hh                           # back to h_{t-1}, all gates at once
        return dz, dz, (dh, dc)


class GRU(_RNNBase):
    """Gated recurrent unit (Cho et al., 2014), PyTorch's form:

        r = sigma(x_t W_ir^T + b_ir + h_{t-1} W_hr^T + b_hr)     reset gate
        z = sigma(x_t W_iz^T + b_iz + h_{t-1} W_hz^T + b_hz)     update gate
        n = tanh (x_t W_in^T + b_in + r * (h_{t-1} W_hn^T + b_hn))
        h_t = (1 - z) * n + z * h_{t-1}

    Args, attributes, ``forward`` and ``backward`` as ``RNN`` (no nonlinearity);
    weights stack the gates r, z, n: ``weight_ih_l{k}`` (3H, D or H).
    """

    skips_input_grad = True                 # backward(g, input_grad=False)

    _gates = 3

    def forward_steps(self, xw: np.ndarray, W_hh: np.ndarray, b_hh: np.ndarray | None,
                      h: np.ndarray) -> tuple[np.ndarray, tuple, tuple]:
        """One layer over T steps, the equations of the class docstring.

        xw (T, N, 3H): x_t W_ih^T + b_ih of every step; W_hh (3H, H); h (N, H):
        h_0. Returns hs (T, N, H); the final state (h_T,); and what
        ``backward_steps`` needs: (gates (T, 3, N, H), every r, z, n; hn
        (T, N, H), every h_{t-1} W_hn^T + b_hn).
        """
        T, N, H = xw.shape[0], xw.shape[1], self.hidden_size
        hs, hn = np.empty((T, N, H), xw.dtype), np.empty((T, N, H), xw.dtype)
        gates = np.empty((T, 3, N, H), xw.dtype)
        for t in range(T):
            hw = h @ W_hh.T                             # (N, 3H): the three gates' h part
            if b_hh is not None:
                hw += b_hh
            r = F.sigmoid(xw[t, :, :H] + hw[:, :H])
            z = F.sigmoid(xw[t, :, H:2 * H] + hw[:, H:2 * H])
            n = np.tanh(xw[t, :, 2 * H:] + r * hw[:, 2 * H:])
            h = (1 - z) * n + z * h
            gates[t] = r, z, n
            hs[t], hn[t] = h, hw[:, 2 * H:]
        return hs, (h,), (gates, hn)

    def backward_steps(self, dhs: np.ndarray | None, dh: np.ndarray, *, W_hh: np.ndarray,
                       h_prev: np.ndarray, steps: tuple) -> tuple:
        """Backpropagation through time for one layer, t = T..1.

        dhs (T, N, H): dL/dh_t from above (None if only h_T fed the loss); dh (N, H):
        dL/dh_T. Returns dzx (T, N, 3H), dL/d(x_t W_ih^T + b_ih); dzh (T, N, 3H),
        dL/d(h_{t-1} W_hh^T + b_hh) (they differ on n, where r multiplies the h part);
        and (dL/dh_0,).
        """
        gates, hn = steps
        T, N, H = hn.shape
        dzx, dzh = np.empty((T, N, 3 * H), hn.dtype), np.empty((T, N, 3 * H), hn.dtype)
        for t in reversed(range(T)):
            if dhs is not None:
                dh = dh + dhs[t]                        # from the output and from step t + 1
            r, z, n = gates[t]
            # h_t = (1 - z) * n + z * h_{t-1}
            dn, dz = dh * (1 - z), dh * (h_prev[t] - n)
            # through the nonlinearities: n = tanh(.), z = sigma(.), r = sigma(.)
            dn_in = dn * (1 - n * n)
            dz_in = dz * z * (1 - z)
            dr_in = dn_in * hn[t] * r * (1 - r)         # r multiplies h_{t-1} W_hn^T + b_hn
            np.concatenate([dr_in, dz_in, dn_in], axis=1, out=dzx[t])
            np.concatenate([dr_in, dz_in, dn_in * r], axis=1, out=dzh[t])
            dh = dh * z + dzh[t] @ W_hh                 # back to h_{t-1}: directly and via W_hh
        return dzx, dzh, (dh,)
