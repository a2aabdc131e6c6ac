"""``RNN``, ``LSTM`` and ``GRU``, with backpropagation through time written out.

Each layer reads a sequence x_1..x_T and carries a hidden state h_t (the LSTM
also a cell state c_t) from step to step; the equations are in each class.
Weights stack the gates in PyTorch's order and carry its names.

Speed, against the textbook loop that does everything at every step: the input
projection W_ih x_t is one matrix product for all T steps before the loop; in the
loop one product serves all gates, h_{t-1} W_hh^T; the backward loop only carries
the gradient back in time, keeping dL/d(gates), so each weight gradient is one
product after the loop. Dropout between layers and bidirectional layers are not
implemented (the arguments exist and must stay 0 / False).
"""
from __future__ import annotations

import math

import numpy as np

from . import init
from .linear import as_array
from .module import Module, Parameter


class _RNNBase(Module):
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

    def forward(self, x: np.ndarray, hx: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """(output, h_n); LSTM overrides it for its two states."""
        output, (h_n,) = self._forward(x, (hx,))
        return output, h_n

    def backward(self, grad_output: np.ndarray | None, grad_h_n: np.ndarray | None = None,
                 input_grad: bool = True) -> np.ndarray | None:
        return self._backward(grad_output, (grad_h_n,), input_grad)

    # -- the two passes, shared; the per-step recurrence is in each subclass ----
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
        T, N = layer_in.shape[:2]
        hx = self._states(hx, N, unbatched, "initial states", layer_in.dtype)
        caches, finals = [], []
        for layer in range(self.num_layers):
            W_ih, W_hh, b_ih, b_hh = self._weights(layer)
            xp = (layer_in.reshape(T * N, -1) @ W_ih.data.T).reshape(T, N, -1)
            if b_ih is not None:
                xp += b_ih.data
            state0 = tuple(p[layer] for p in hx)
            hs, final, cache = self._recur(xp, W_hh.data, None if b_hh is None else b_hh.data,
                                           state0)
            caches.append((layer_in, state0, hs, cache))
            finals.append(final)
            layer_in = hs
        self._cache = (caches, unbatched)
        h_n = tuple(np.stack([f[k] for f in finals]) for k in range(len(hx)))  # (L, N, H)
        return self._caller_layout(hs, unbatched), self._unbatch(h_n, unbatched)

    def _backward(self, grad_output: np.ndarray | None, grads_n: tuple,
                  input_grad: bool = True) -> np.ndarray | None:
        caches, unbatched = self._saved()
        T, N = caches[0][0].shape[:2]
        dhs = None                                    # dL/d(this layer's outputs), (T, N, .)
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
            layer_in, state0, hs, cache = caches[layer]
            W_ih, W_hh, b_ih, b_hh = self._weights(layer)
            d_final = tuple(f[layer].copy() for f in finals)
            h_prev = np.concatenate([state0[0][None], hs[:-1]])
            dzx, dzh, d_state0 = self._recur_back(W_hh.data, cache, h_prev, dhs, d_final)
            # dL/d(pre-activations) of all steps are known: one product per weight.
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

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional)
        self.nonlinearity = nonlinearity

    def _recur(self, xp, W_hh, b_hh, state0):
        if b_hh is not None:
            xp += b_hh
        h, W_hh_T = state0[0], np.ascontiguousarray(W_hh.T)
        for t in range(len(xp)):
            z = xp[t]                      # the activations overwrite the pre-activations
            z += h @ W_hh_T
            if self.nonlinearity == "tanh":
                np.tanh(z, out=z)
            else:
                np.maximum(z, 0, out=z)
            h = z
        return xp, (h,), xp

    def _recur_back(self, W_hh, hs, h_prev, dhs, d_final):
        slope = 1 - hs * hs if self.nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)
        dz = np.empty_like(hs)
        dh = d_final[0]
        for t in reversed(range(len(hs))):
            if dhs is not None:
                dh = dh + dhs[t]
            np.multiply(dh, slope[t], out=dz[t])   # through the nonlinearity
            dh = dz[t] @ W_hh                       # back to h_{t-1}
        return dz, dz, (dh,)

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else text + ", nonlinearity='relu'"


class LSTM(_RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), PyTorch's form:

        i, f, g, o = sigma, sigma, tanh, sigma of (x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)
        c_t = f * c_{t-1} + i * g        h_t = o * tanh(c_t)

    The cell state c_t carries memory forward through additions, so its
    gradient is scaled by f at each step instead of repeatedly squashed.

    Args and attributes as ``RNN`` (no nonlinearity); weights stack the gates
    i, f, g, o: ``weight_ih_l{k}`` (4H, D or H), ``weight_hh_l{k}`` (4H, H).

    ``forward(x, hx=None)`` with ``hx = (h_0, c_0)`` returns
    ``(output, (h_n, c_n))``. ``backward(grad_output, grad_h_n=None,
    grad_c_n=None)`` returns dL/dx; dL/d(h_0, c_0) is left in ``self.grad_hx``.
    """

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

    def _recur(self, xp, W_hh, b_hh, state0):
        T, N, H = xp.shape[0], xp.shape[1], self.hidden_size
        # Fast path: sigma(a) = (1 + tanh(a / 2)) / 2, so with the rows of the sigmoid
        # gates (i, f, o) halved, one tanh, a product and a sum give all four gates at
        # once (the textbook form calls sigma and tanh gate by gate; np.tanh is ~10x
        # faster than scipy's expit here, and never overflows).
        scale = np.repeat(np.array([0.5, 0.5, 1.0, 0.5], xp.dtype), H)
        shift = 1 - scale                         # 0.5 on sigmoid gates, 0 on g
        if b_hh is not None:
            xp += b_hh
        xp *= scale
        W_hs_T = np.ascontiguousarray((W_hh * scale[:, None]).T)   # BLAS is faster on it
        hs, cs, tanh_cs = (np.empty((T, N, H), xp.dtype) for _ in range(3))
        h, c = state0
        for t in range(T):
            z = xp[t]                             # the gates overwrite the pre-activations
            z += h @ W_hs_T                       # one product for all four gates
            np.tanh(z, out=z)
            z *= scale
            z += shift
            i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
            np.multiply(f, c, out=cs[t])
            cs[t] += i * g
            c = cs[t]
            np.tanh(c, out=tanh_cs[t])
            np.multiply(o, tanh_cs[t], out=hs[t])
            h = hs[t]
        return hs, (h, c), (xp, cs, tanh_cs, state0[1])

    def _recur_back(self, W_hh, cache, h_prev, dhs, d_final):
        gates, cs, tanh_cs, c0 = cache
        T, N, H = cs.shape
        dz = np.empty((T, N, 4 * H), gates.dtype)         # dL/d(pre-activations)
        # Fast path: each step's gates are copied gate by gate into (4, N, H) arrays,
        # and dz back, so the dozen products below run on contiguous (N, H) blocks
        # instead of column slices of (N, 4H) rows (~5% of a training step).
        gates_t, dz_t = np.empty((4, N, H), gates.dtype), np.empty((4, N, H), gates.dtype)
        dh, dc = d_final
        for t in reversed(range(T)):
            if dhs is not None:
                dh += dhs[t]                              # dh is always our own array
            gates_t[...] = gates[t].reshape(N, 4, H).transpose(1, 0, 2)
            i, f, g, o = gates_t
            dz_i, dz_f, dz_g, dz_o = dz_t
            tanh_c, c_prev = tanh_cs[t], cs[t - 1] if t else c0
            # h_t = o * tanh(c_t), with sigma' = sigma (1 - sigma), tanh' = 1 - tanh^2
            np.multiply(dh, tanh_c, out=dz_o)
            dz_o *= o * (1 - o)
            dc += dh * o * (1 - tanh_c * tanh_c)
            # c_t = f * c_{t-1} + i * g
            np.multiply(dc, g * i * (1 - i), out=dz_i)
            np.multiply(dc, c_prev * f * (1 - f), out=dz_f)
            np.multiply(dc, i * (1 - g * g), out=dz_g)
            dc *= f                                       # back to c_{t-1}
            dz[t].reshape(N, 4, H)[...] = dz_t.transpose(1, 0, 2)
            dh = dz[t] @ W_hh                             # back to h_{t-1}, all gates at once
        return dz, dz, (dh, dc)


class GRU(_RNNBase):
    """Gated recurrent unit (Cho et al., 2014), PyTorch's form:

        r = sigma(W_ir x + b_ir + W_hr h + b_hr)     z = sigma(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h_t = (1 - z) * n + z * h_{t-1}

    Args, attributes, ``forward`` and ``backward`` as ``RNN`` (no nonlinearity);
    weights stack the gates r, z, n: ``weight_ih_l{k}`` (3H, D or H).
    """

    _gates = 3

    def _recur(self, xp, W_hh, b_hh, state0):
        T, N, H = xp.shape[0], xp.shape[1], self.hidden_size
        hs, hp_n = np.empty((T, N, H), xp.dtype), np.empty((T, N, H), xp.dtype)
        h, W_hh_T = state0[0], np.ascontiguousarray(W_hh.T)
        for t in range(T):
            hp = h @ W_hh_T                       # one product for all three gates
            if b_hh is not None:
                hp += b_hh
            rz = xp[t, :, :2 * H]                 # the gates overwrite the pre-activations
            rz += hp[:, :2 * H]
            rz *= 0.5                             # sigma(a) = (1 + tanh(a / 2)) / 2
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            r, z, n = rz[:, :H], rz[:, H:], xp[t, :, 2 * H:]
            hp_n[t] = hp[:, 2 * H:]
            n += r * hp_n[t]
            np.tanh(n, out=n)
            np.subtract(h, n, out=hs[t])
            hs[t] *= z
            hs[t] += n
            h = hs[t]
        return hs, (h,), (xp, hp_n)

    def _recur_back(self, W_hh, cache, h_prev, dhs, d_final):
        gates, hp_n = cache
        T, N, H = hp_n.shape
        dzx = np.empty((T, N, 3 * H), gates.dtype)        # dL/d(input pre-activations)
        dzh = np.empty((T, N, 3 * H), gates.dtype)        # dL/d(h_{t-1} W_hh^T + b_hh)
        dh = d_final[0]
        for t in reversed(range(T)):
            if dhs is not None:
                dh += dhs[t]                              # dh is always our own array
            r, z, n = (gates[t, :, k * H:(k + 1) * H] for k in range(3))
            dzx_r, dzx_z, dzx_n = (dzx[t, :, k * H:(k + 1) * H] for k in range(3))
            # h_t = (1 - z) * n + z * h_{t-1}, n = tanh(. + r * (W_hn h_{t-1} + b_hn))
            np.multiply(dh, (1 - z) * (1 - n * n), out=dzx_n)
            np.multiply(dh, (h_prev[t] - n) * z * (1 - z), out=dzx_z)
            np.multiply(dzx_n, hp_n[t] * r * (1 - r), out=dzx_r)
            dzh[t] = dzx[t]
            dzh[t, :, 2 * H:] *= r                        # W_hn h + b_hn sits inside r * (.)
            dh = dh * z + dzh[t] @ W_hh                   # back to h_{t-1}
        return dzx, dzh, (dh,)
