"""``Conv2d``: a 2-D convolution (strictly, a cross-correlation, as in PyTorch).

The textbook form is seven nested loops:

    y[n, f, i, j] = b[f] + sum_{c, p, q} w[f, c, p, q] * x_pad[n, c, i*s + p, j*s + q]

Here the loops over (c, p, q) become one matrix product. ``im2col`` copies every
receptive field of the padded input into a column, so that with
``cols`` of shape (N, C*kh*kw, Ho*Wo) and the weight flattened to (F, C*kh*kw):

    y[n] = W_flat @ cols[n] + b          (one BLAS call per sample)

The backward pass is the same idea read backwards:

    dW_flat = sum_n dy[n] @ cols[n]^T     db = sum of dy over n, i, j
    dcols[n] = W_flat^T @ dy[n]           dx = col2im(dcols)

where col2im adds every column back onto the receptive field it came from.
``backward(dy, input_grad=False)`` stops before dcols and returns None: a training
step asks that of a first layer, whose input is the data.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import init
from .linear import as_array
from .module import Module, Parameter


def _pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    """3 -> (3, 3); (3, 5) stays; anything else is a clear error."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def _pad(x: np.ndarray, ph: int, pw: int, value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of (N, C, H, W) by ph and pw on each side."""
    if ph == 0 and pw == 0:
        return x
    N, C, H, W = x.shape
    out = np.full((N, C, H + 2 * ph, W + 2 * pw), value, dtype=x.dtype)
    out[:, :, ph:ph + H, pw:pw + W] = x
    return out


def windows(x_pad: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
            out_hw: tuple[int, int]) -> np.ndarray:
    """Every receptive field of x_pad (N, C, Hp, Wp) as a view of shape
    (N, C, kh, kw, Ho, Wo), with ``view[n, c, p, q, i, j] = x_pad[n, c, i*sh + p, j*sw + q]``.

    No data is copied: ``as_strided`` only changes how NumPy walks the memory
    (a step of one output pixel is a step of ``stride`` input pixels).
    """
    N, C = x_pad.shape[:2]
    sN, sC, sH, sW = x_pad.strides
    return as_strided(x_pad, (N, C, *kernel, *out_hw),
                      (sN, sC, sH, sW, sH * stride[0], sW * stride[1]), writeable=False)


def add_windows(grad_windows: np.ndarray, padded_shape: tuple, stride: tuple[int, int]
                ) -> np.ndarray:
    """col2im, the adjoint of ``windows``: add each (N, C, kh, kw, Ho, Wo) entry back
    onto the input pixel it was read from, giving an array of ``padded_shape``.

    Fast path note: the textbook form is ``np.add.at`` over all indices; one slice
    addition per kernel offset (kh*kw of them, each over the whole batch) does the
    same sums and is about 6x faster here.
    """
    _, _, kh, kw, Ho, Wo = grad_windows.shape
    sh, sw = stride
    out = np.zeros(padded_shape, dtype=grad_windows.dtype)
    for p in range(kh):
        for q in range(kw):
            out[:, :, p:p + sh * Ho:sh, q:q + sw * Wo:sw] += grad_windows[:, :, p, q]
    return out


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """floor((size + 2 padding - kernel) / stride) + 1, as in PyTorch."""
    return (size + 2 * padding - kernel) // stride + 1


class Conv2d(Module):
    """A 2-D convolution over an image batch.

    Args:
        in_channels: C, channels of the input.
        out_channels: F, number of filters (channels of the output).
        kernel_size: kh, kw (an int for a square kernel).
        stride: step between receptive fields (default 1).
        padding: zeros added on each side of H and W (default 0).
        bias: learn one additive bias per filter (default True).

    Shape:
        x: (N, C, H, W) -> y: (N, F, Ho, Wo) with
        Ho = floor((H + 2 padding - kh) / stride) + 1, Wo likewise.

    Attributes:
        weight: (F, C, kh, kw), PyTorch's layout; bias: (F,).
        Initialised as PyTorch: U(-1/sqrt(C kh kw), 1/sqrt(C kh kw)).
    """

    skips_input_grad = True                 # backward(g, input_grad=False)

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int | tuple[int, int], stride: int | tuple[int, int] = 1,
                 padding: int | tuple[int, int] = 0, bias: bool = True):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size, "Conv2d kernel_size")
        self.stride = _pair(stride, "Conv2d stride")
        self.padding = _pair(padding, "Conv2d padding")
        if in_channels < 1 or out_channels < 1 or min(self.kernel_size) < 1:
            raise ValueError(f"Conv2d needs positive channels and kernel size, got "
                             f"{in_channels} -> {out_channels}, kernel_size={kernel_size}")
        if min(self.stride) < 1 or min(self.padding) < 0:
            raise ValueError(f"Conv2d needs stride >= 1 and padding >= 0, got "
                             f"stride={stride}, padding={padding}")
        self.weight = Parameter(np.empty((out_channels, in_channels, *self.kernel_size),
                                         dtype=np.float32))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        init.default_weight_and_bias_(self.weight, self.bias)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_array(x, self)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self._short()} expected input (N, {self.in_channels}, H, W), "
                             f"got {x.shape}")
        N, C, H, W = x.shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        Ho, Wo = output_size(H, kh, sh, ph), output_size(W, kw, sw, pw)
        if Ho < 1 or Wo < 1:
            raise ValueError(f"{self._short()}: input {H}x{W} with padding {self.padding} is "
                             f"smaller than the kernel {kh}x{kw}")
        x_pad = _pad(x, ph, pw)
        # im2col: reshaping the strided view copies it into (N, C*kh*kw, Ho*Wo).
        cols = windows(x_pad, self.kernel_size, self.stride, (Ho, Wo)).reshape(
            N, C * kh * kw, Ho * Wo)
        w_flat = self.weight.data.reshape(self.out_channels, -1)
        # A batched matmul (one GEMM per sample) is 2-4x faster here than tensordot,
        # which would first transpose cols into one huge matrix.
        y = np.matmul(w_flat, cols)
        if self.bias is not None:
            y += self.bias.data[:, None]
        self._cache = (cols, x_pad.shape, (H, W), (Ho, Wo))
        return y.reshape(N, self.out_channels, Ho, Wo)

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        cols, padded_shape, (H, W), (Ho, Wo) = self._saved()
        N, CKK, L = cols.shape
        F = self.out_channels
        grad_out = self._check_grad_out(grad_out, (N, F, Ho, Wo))
        g = grad_out.reshape(N, F, L)
        w_flat = self.weight.data.reshape(F, CKK)
        # dW = sum_n g[n] @ cols[n]^T: N small GEMMs, then a sum over the batch.
        self.weight.grad += np.matmul(g, cols.transpose(0, 2, 1)).sum(axis=0).reshape(
            self.weight.shape)
        if self.bias is not None:
            self.bias.grad += g.sum(axis=(0, 2))
        if not input_grad:                        # x is the data: nobody needs dL/dx
            return None
        dcols = np.matmul(w_flat.T, g)                      # (N, C*kh*kw, Ho*Wo)
        dcols = dcols.reshape(N, self.in_channels, *self.kernel_size, Ho, Wo)
        dx_pad = add_windows(dcols, padded_shape, self.stride)
        ph, pw = self.padding
        return dx_pad[:, :, ph:ph + H, pw:pw + W]

    def _short(self) -> str:
        kh, kw = self.kernel_size
        k = kh if kh == kw else f"{kh}x{kw}"
        return f"Conv2d({self.in_channels} -> {self.out_channels}, k={k})"

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.bias is None:
            text += ", bias=False"
        return text
