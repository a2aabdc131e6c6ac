"""``BatchNorm1d``, ``BatchNorm2d`` and ``LayerNorm``.

Both normalise to zero mean and unit variance, then scale and shift:

    x_hat = (x - mean) / sqrt(var + eps)        y = gamma * x_hat + beta

They differ in what the mean is taken over. BatchNorm: over the batch (and the
length L or the pixels H, W), one mean per channel C. LayerNorm: over the last
dimensions of each sample, one mean per sample.

Backward (m values share each mean; sums run over those m values):

    dx_hat = dy * gamma
    dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sqrt(var + eps)
    dgamma = sum(dy * x_hat)      dbeta = sum(dy)
"""
from __future__ import annotations

import numpy as np

from .linear import as_array
from .module import Module, Parameter


def _normalize_backward(g_hat: np.ndarray, x_hat: np.ndarray, inv_std: np.ndarray,
                        axes: tuple[int, ...]) -> np.ndarray:
    """dx from dx_hat when the mean and variance were computed over ``axes``."""
    mean_g = g_hat.mean(axis=axes, keepdims=True)
    mean_gx = (g_hat * x_hat).mean(axis=axes, keepdims=True)
    return (g_hat - mean_g - x_hat * mean_gx) * inv_std


class BatchNorm(Module):
    """Batch normalisation over every axis but the channel axis C (axis 1): the base
    of ``BatchNorm1d`` and ``BatchNorm2d``, which differ only in the input shapes
    they accept. Arguments as ``BatchNorm1d``."""

    _ranks: tuple[int, ...] = ()
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True):
        super().__init__()
        if num_features < 1:
            raise ValueError(f"{type(self).__name__} needs num_features >= 1, "
                             f"got {num_features}")
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=np.float32))
            self.bias = Parameter(np.zeros(num_features, dtype=np.float32))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
            self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, m: int) -> None:
        """running = (1 - momentum) running + momentum batch, with the batch variance
        unbiased (times m / (m - 1)) as PyTorch; momentum=None averages all batches."""
        self.num_batches_tracked += 1
        momentum = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                    else self.momentum)
        unbiased = var * (m / (m - 1)) if m > 1 else var
        self.running_mean *= 1 - momentum
        self.running_mean += momentum * mean.astype(self.running_mean.dtype)
        self.running_var *= 1 - momentum
        self.running_var += momentum * unbiased.astype(self.running_var.dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (N, C, *) -> y of the same shape, per channel c:

            x_hat = (x - mean) / sqrt(var + eps)        y = gamma * x_hat + beta

        In training, mean and var are the batch's (over N and *), and the running
        statistics move towards them; in ``eval()``, the running statistics are used.
        """
        x = self._check_input(x)
        axes = (0,) + tuple(range(2, x.ndim))            # every axis but the channels C
        shape = (1, -1) + (1,) * (x.ndim - 2)            # a (C,) vector, broadcast over x
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            mean, var = x.mean(axis=axes), x.var(axis=axes)   # (C,), the variance biased
            if self.training and self.track_running_stats:
                self._update_running_stats(mean, var, m=x.size // self.num_features)
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = (1 / np.sqrt(var + self.eps)).astype(x.dtype).reshape(shape)
        x_hat = (x - mean.astype(x.dtype).reshape(shape)) * inv_std
        self._cache = (x_hat, inv_std, axes if use_batch else None)
        if not self.affine:
            return x_hat
        return self.weight.data.reshape(shape) * x_hat + self.bias.data.reshape(shape)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """dy (N, C, *) -> dx, the module docstring's formulas; dgamma and dbeta are
        added to ``weight.grad`` and ``bias.grad``. In ``eval()`` mean and var are
        constants: dx = dx_hat / sqrt(var + eps)."""
        x_hat, inv_std, axes = self._saved()
        grad_out = self._check_grad_out(grad_out, x_hat.shape)
        sum_axes = (0,) + tuple(range(2, x_hat.ndim))
        g_hat = grad_out                                 # dL/dx_hat
        if self.affine:
            self.weight.grad += (grad_out * x_hat).sum(axis=sum_axes)
            self.bias.grad += grad_out.sum(axis=sum_axes)
            g_hat = grad_out * self.weight.data.reshape(inv_std.shape)
        if axes is None:
            return g_hat * inv_std
        return _normalize_backward(g_hat, x_hat, inv_std, axes)

    def _check_input(self, x: np.ndarray) -> np.ndarray:
        x = as_array(x, self)
        if x.ndim not in self._ranks or x.shape[1] != self.num_features:
            raise ValueError(f"{self._short()} expected input "
                             f"{self._layout.format(C=self.num_features)}, got {x.shape}")
        if self.training and x.size // self.num_features < 2:
            raise ValueError(f"{self._short()} needs more than one value per channel "
                             f"in training mode, got input {x.shape}")
        return x

    def _short(self) -> str:
        return f"{type(self).__name__}({self.num_features})"

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(BatchNorm):
    """Batch normalisation of (N, C) features or (N, C, L) sequences, per channel C.

    Args:
        num_features: C.
        eps: added to the variance for stability (default 1e-5).
        momentum: weight of the new batch in the running statistics (default 0.1;
            None for a plain average of all batches seen).
        affine: learn gamma (``weight``) and beta (``bias``), shape (C,).
        track_running_stats: keep ``running_mean`` and ``running_var`` (buffers,
            in the state dict with ``num_batches_tracked``) for ``eval()``.

    In training mode the batch's own mean and (biased) variance normalise, and the
    running statistics move towards them (the variance unbiased: times m/(m-1)).
    In ``eval()`` mode the running statistics normalise instead.

    Shape: (N, C) or (N, C, L) -> the same.
    """

    _ranks = (2, 3)
    _layout = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(BatchNorm):
    """Batch normalisation of images, one mean and variance per channel over N, H, W.

    Arguments and behaviour as ``BatchNorm1d``.

    Shape: (N, C, H, W) -> the same.
    """

    _ranks = (4,)
    _layout = "(N, {C}, H, W)"


class LayerNorm(Module):
    """Layer normalisation: each sample normalised over its last dimensions.

    Args:
        normalized_shape: the shape of those last dimensions (an int for one).
        eps: added to the variance (default 1e-5).
        elementwise_affine: learn ``weight`` (gamma, ones) and ``bias`` (beta,
            zeros), both of ``normalized_shape``.
        bias: learn beta too (default True).

    The same in training and evaluation: no running statistics.

    Shape: (*, *normalized_shape) -> the same.
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(d) for d in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=np.float32))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=np.float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_array(x, self)
        k = len(self.normalized_shape)
        if x.ndim < k or x.shape[x.ndim - k:] != self.normalized_shape:
            dims = ", ".join(str(d) for d in self.normalized_shape)
            raise ValueError(f"{self._short()} expected input (*, {dims}), got {x.shape}")
        axes = tuple(range(x.ndim - k, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        inv_std = 1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + self.eps)
        x_hat = (x - mean) * inv_std
        self._cache = (x_hat, inv_std, axes)
        if self.weight is None:
            return x_hat
        y = x_hat * self.weight.data
        return y + self.bias.data if self.bias is not None else y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        x_hat, inv_std, axes = self._saved()
        grad_out = self._check_grad_out(grad_out, x_hat.shape)
        g_hat = grad_out
        if self.weight is not None:
            batch_axes = tuple(range(x_hat.ndim - len(axes)))
            self.weight.grad += (grad_out * x_hat).sum(axis=batch_axes)
            if self.bias is not None:
                self.bias.grad += grad_out.sum(axis=batch_axes)
            g_hat = grad_out * self.weight.data
        return _normalize_backward(g_hat, x_hat, inv_std, axes)

    def _short(self) -> str:
        return f"LayerNorm({self.normalized_shape})"

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
