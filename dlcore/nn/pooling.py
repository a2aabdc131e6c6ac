"""``MaxPool2d`` and ``AvgPool2d``: shrink feature maps window by window.

Both slide a kh x kw window with a stride over each channel of (N, C, H, W):

    max:  y[n, c, i, j] = max_{p, q} x_pad[n, c, i*s + p, j*s + q]
    avg:  y[n, c, i, j] = mean_{p, q} x_pad[n, c, i*s + p, j*s + q]

Backward: max pooling sends each gradient to the one input that won its window
(the first maximum, in row-major order, as PyTorch); average pooling spreads it
evenly over the window.
"""
from __future__ import annotations

import numpy as np

from .conv import _pad, _pair, output_size
from .linear import as_array
from .module import Module


class _Pool2d(Module):
    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0, ceil_mode: bool = False):
        super().__init__()
        name = type(self).__name__
        # As PyTorch, the attributes keep what was passed; the pairs are for the maths.
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = ceil_mode
        self._kernel = _pair(kernel_size, f"{name} kernel_size")
        self._stride = _pair(self.stride, f"{name} stride")
        self._padding = _pair(padding, f"{name} padding")
        if min(self._kernel) < 1 or min(self._stride) < 1:
            raise ValueError(f"{name} needs kernel_size and stride >= 1, got "
                             f"kernel_size={kernel_size}, stride={stride}")
        if any(p < 0 or 2 * p > k for p, k in zip(self._padding, self._kernel, strict=True)):
            raise ValueError(f"{name}: padding must be between 0 and half the kernel size, "
                             f"got padding={padding} for kernel_size={kernel_size}")
        if ceil_mode:
            raise NotImplementedError(f"{name}: ceil_mode=True is not implemented in dlcore")

    def _check(self, x) -> tuple[np.ndarray, tuple[int, int]]:
        """The input as an array, and the output size (Ho, Wo)."""
        x = as_array(x, self)
        if x.ndim != 4:
            raise ValueError(f"{self._short()} expected input (N, C, H, W), got {x.shape}")
        (kh, kw), (sh, sw), (ph, pw) = self._kernel, self._stride, self._padding
        Ho, Wo = output_size(x.shape[2], kh, sh, ph), output_size(x.shape[3], kw, sw, pw)
        if Ho < 1 or Wo < 1:
            raise ValueError(f"{self._short()}: input {x.shape[2]}x{x.shape[3]} is smaller "
                             f"than the window {kh}x{kw}")
        return x, (Ho, Wo)

    def _offsets(self, out_hw: tuple[int, int]):
        """For each offset (p, q) of the window, in row-major order, the index of
        x_pad that holds entry (p, q) of every window: x_pad[index] is (N, C, Ho, Wo)."""
        (kh, kw), (sh, sw), (Ho, Wo) = self._kernel, self._stride, out_hw
        for p in range(kh):
            for q in range(kw):
                yield (slice(None), slice(None), slice(p, p + sh * Ho, sh),
                       slice(q, q + sw * Wo, sw))

    def _unpad(self, dx_pad: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
        ph, pw = self._padding
        return dx_pad[:, :, ph:ph + hw[0], pw:pw + hw[1]]

    def _short(self) -> str:
        kh, kw = self._kernel
        sh, sw = self._stride
        k = kh if kh == kw else f"{kh}x{kw}"
        s = sh if sh == sw else f"{sh}x{sw}"
        return f"{type(self).__name__}(k={k}, stride={s})"

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """The largest value of each window.

    Args:
        kernel_size: window size (an int for a square window).
        stride: step between windows (default: ``kernel_size``, windows that
            do not overlap).
        padding: implicit -inf added on each side (at most half the window).

    Shape:
        x: (N, C, H, W) -> y: (N, C, Ho, Wo), Ho = floor((H + 2 padding - kh) / stride) + 1.

    ``dilation``, ``return_indices`` and ``ceil_mode`` exist for PyTorch's
    signature; only their defaults are implemented.
    """

    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0, dilation: int = 1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        if dilation != 1 or return_indices:
            raise NotImplementedError("MaxPool2d: dilation and return_indices are not "
                                      "implemented in dlcore")
        self.dilation = dilation
        self.return_indices = return_indices

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, out_hw = self._check(x)
        x_pad = _pad(x, *self._padding, value=-np.inf)
        # Fast path: a running np.maximum over the kh*kw offsets touches each value
        # once; gathering every window and taking argmax was ~10x slower here.
        index = list(self._offsets(out_hw))
        y = x_pad[index[0]].copy()
        for where in index[1:]:
            np.maximum(y, x_pad[where], out=y)
        self._cache = (x_pad, y, x.shape[2:])
        return y.copy()

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        x_pad, y, hw = self._saved()
        grad_out = self._check_grad_out(grad_out, y.shape)
        dx_pad = np.zeros(x_pad.shape, dtype=grad_out.dtype)
        taken = np.zeros(y.shape, dtype=bool)
        overlap = any(s < k for s, k in zip(self._stride, self._kernel, strict=True))
        # Walk the window in row-major order; the first entry equal to the max takes
        # the gradient (as PyTorch), later equal entries (ties) get nothing.
        for where in self._offsets(y.shape[2:]):
            first = x_pad[where] == y
            first &= ~taken
            taken |= first
            if overlap:                   # an input may win several windows: add up
                dx_pad[where] += grad_out * first
            else:                         # each input sits in one window at most
                np.multiply(grad_out, first, out=dx_pad[where])
        return self._unpad(dx_pad, hw)

    def extra_repr(self) -> str:
        return super().extra_repr() + ", dilation=1, ceil_mode=False"


class AvgPool2d(_Pool2d):
    """The mean of each window.

    Args:
        kernel_size, stride, padding: as ``MaxPool2d`` (zeros are padded).
        ceil_mode: only False (PyTorch's default) is implemented.
        count_include_pad: divide by the full window size kh*kw (True, PyTorch's
            default) or only by the number of real, unpadded inputs in it (False).

    Shape:
        x: (N, C, H, W) -> y: (N, C, Ho, Wo).
    """

    def __init__(self, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = count_include_pad

    def _divisor(self, hw: tuple[int, int], out_hw: tuple[int, int], dtype) -> np.ndarray:
        """How many inputs each output averages: kh*kw, or fewer near a padded edge."""
        kh, kw = self._kernel
        if self.count_include_pad or self._padding == (0, 0):
            return np.asarray(kh * kw, dtype=dtype)
        ones = _pad(np.ones((1, 1, *hw), dtype=dtype), *self._padding)
        return sum(ones[where] for where in self._offsets(out_hw))

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, out_hw = self._check(x)
        x_pad = _pad(x, *self._padding)
        divisor = self._divisor(x.shape[2:], out_hw, x.dtype)
        self._cache = (divisor, x_pad.shape, x.shape[2:], out_hw)
        # One slice per window offset, as MaxPool2d: sum the kh*kw entries of every window.
        total = sum(x_pad[where] for where in self._offsets(out_hw))
        return total / divisor

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        divisor, padded_shape, hw, out_hw = self._saved()
        grad_out = self._check_grad_out(grad_out, (*padded_shape[:2], *out_hw))
        share = grad_out / divisor                        # each input's part of the mean
        dx_pad = np.zeros(padded_shape, dtype=share.dtype)
        for where in self._offsets(out_hw):
            dx_pad[where] += share
        return self._unpad(dx_pad, hw)
