"""Loss functions: how far the prediction is from the truth, as one number.

``loss = loss_fn(y_hat, y)`` returns a Python float and keeps what it needs;
``loss_fn.backward()`` returns dLoss/d(y_hat), the gradient that starts the
backward pass through the model.
"""
from __future__ import annotations

import numpy as np

from . import functional as F
from .module import Module

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    """What the losses share: ``reduction`` and the shape checks.

    The arguments are keyword-only: PyTorch's first positional arguments are
    ``weight`` or ``size_average``, so a positional call would mean something else.
    """

    def __init__(self, *, reduction: str = "mean"):
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of "
                             f"{_REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def _reduce(self, per_element: np.ndarray):
        if self.reduction == "mean":
            return float(per_element.mean())
        if self.reduction == "sum":
            return float(per_element.sum())
        return per_element

    def _scale(self, count: int) -> float:
        """d(reduction)/d(element): 1/count for 'mean', 1 otherwise."""
        return 1.0 / count if self.reduction == "mean" else 1.0

    def _check_float(self, y_hat, y) -> tuple[np.ndarray, np.ndarray]:
        y_hat = np.asarray(y_hat)
        y = np.asarray(y)
        if y_hat.dtype.kind != "f":
            y_hat = y_hat.astype(np.float32)
        if y_hat.shape != y.shape:
            raise ValueError(f"{type(self).__name__}: prediction {y_hat.shape} and target "
                             f"{y.shape} must have the same shape (NumPy would broadcast "
                             "them into a wrong loss); reshape one of them")
        return y_hat, y.astype(y_hat.dtype, copy=False)

    def _upstream(self, grad: float | np.ndarray, shape: tuple) -> float | np.ndarray:
        """The gradient arriving at the loss: a number (1 when the loss is the
        end of the computation), or with ``reduction='none'`` possibly an array
        of the loss's shape, one weight per element."""
        if np.ndim(grad) == 0:
            return float(grad)      # a Python float keeps float32 arrays float32
        if self.reduction != "none":
            raise ValueError(f"{self._short()} backward: the loss is one number, so its "
                             f"gradient is one number too, got shape {np.shape(grad)}")
        return self._check_grad_out(grad, shape)

    def backward(self, grad: float | np.ndarray = 1.0) -> np.ndarray:
        """dLoss/d(prediction), times ``grad`` (see ``_upstream``)."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction='{self.reduction}'"


class MSELoss(_Loss):
    """mean((y_hat - y)^2); gradient 2 (y_hat - y) / N.

    Shape: y_hat (*), y (*) the same.
    """

    def forward(self, y_hat: np.ndarray, y: np.ndarray):
        y_hat, y = self._check_float(y_hat, y)
        diff = y_hat - y
        self._cache = diff
        return self._reduce(diff * diff)

    def backward(self, grad: float | np.ndarray = 1.0) -> np.ndarray:
        diff = self._saved()
        grad = self._upstream(grad, diff.shape)
        return (2 * diff * self._scale(diff.size) * grad).astype(diff.dtype, copy=False)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on raw scores z (logits), with the sigmoid inside:

        loss = -[y log sigma(z) + (1 - y) log(1 - sigma(z))]
             = softplus(z) - z y      softplus(z) = max(z, 0) + log(1 + exp(-|z|))

    The second form never takes log(0) nor exp(1000). Gradient: (sigma(z) - y) / N.
    ``pos_weight`` p (one per output column) weighs the positive term:
    loss = (1 - y) z + (1 + (p - 1) y) softplus(-z).
    Shape: z (*), y (*) the same, y in [0, 1].
    """

    def __init__(self, *, reduction: str = "mean", pos_weight: np.ndarray | None = None):
        super().__init__(reduction=reduction)
        self.register_buffer("pos_weight", None if pos_weight is None
                             else np.asarray(pos_weight, dtype=np.float32))

    def forward(self, z: np.ndarray, y: np.ndarray):
        z, y = self._check_float(z, y)
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(f"BCEWithLogitsLoss: targets must lie in [0, 1], got values "
                             f"from {y.min():g} to {y.max():g}")
        self._cache = (z, y)
        if self.pos_weight is None:
            return self._reduce(F.softplus(z) - z * y)
        log_weight = 1 + (self.pos_weight.astype(z.dtype) - 1) * y
        return self._reduce((1 - y) * z + log_weight * F.softplus(-z))

    def backward(self, grad: float | np.ndarray = 1.0) -> np.ndarray:
        z, y = self._saved()
        grad = self._upstream(grad, z.shape)
        s = F.sigmoid(z)
        if self.pos_weight is None:
            g = s - y
        else:
            g = (1 - y) - (1 + (self.pos_weight.astype(z.dtype) - 1) * y) * (1 - s)
        return (g * self._scale(z.size) * grad).astype(z.dtype, copy=False)


class CrossEntropyLoss(_Loss):
    r"""Softmax and negative log-likelihood in one stable step.

    For sample i with scores z_i (C of them) and class y_i, the log-probabilities are
    log p_i = log_softmax(z_i) = z_i - logsumexp(z_i), and

        loss_i = -w[y_i] log p_i[y_i]                                   (e = 0)
        loss_i = (1 - e) (-w[y_i] log p_i[y_i]) + e mean_c(-w_c log p_ic)  (label_smoothing e)

    that is, the target is (1 - e) onehot(y_i) + e / C. The class weights w are
    ``weight`` (all 1 if not given). A sample whose target is ``ignore_index`` has
    loss 0 and does not count. Reductions, as PyTorch's:

        'mean': sum_i loss_i / sum_i w[y_i]   (over counted samples: a weighted mean;
                                               nan if every sample is ignored)
        'sum':  sum_i loss_i                  'none': loss_i, shape (N,)

    Gradient, for a counted sample (0 for an ignored one), before the reduction:

        dloss_i/dz_i = a_i p_i - (1 - e) w[y_i] onehot(y_i) - (e / C) w
        a_i = (1 - e) w[y_i] + (e / C) sum_c w_c    (= 1 without weight: p - target)

    Shape: z (N, C) scores (logits, not probabilities), y (N,) class indices in
    [0, C) or ``ignore_index``, weight (C,), kept as a float32 buffer (cast to z's
    dtype when used).
    """

    def __init__(self, *, weight: np.ndarray | None = None, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(reduction=reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got "
                             f"{label_smoothing}")
        if weight is not None:
            weight = np.asarray(weight, dtype=np.float32)
            if weight.ndim != 1:
                raise ValueError("CrossEntropyLoss: weight must hold one number per class, "
                                 f"shape (C,), got shape {weight.shape}")
        self.register_buffer("weight", weight)
        self.ignore_index = int(ignore_index)
        self.label_smoothing = label_smoothing

    def forward(self, z: np.ndarray, y: np.ndarray):
        z, y = self._check(z, y)
        n, num_classes = z.shape
        counted = y != self.ignore_index
        y = np.where(counted, y, 0)        # any valid index: those rows are zeroed below
        w = np.ones(num_classes, z.dtype) if self.weight is None else self.weight.astype(z.dtype)
        w_y = w[y] * counted                # w[y_i], 0 for an ignored sample
        log_p = F.log_softmax(z, dim=1)
        loss = -log_p[np.arange(n), y] * w_y
        e = self.label_smoothing
        if e:
            smooth = -(log_p if self.weight is None else log_p * w).mean(axis=1)
            loss = (1 - e) * loss + e * smooth * counted
        total = float(w_y.sum())            # the weighted mean's denominator
        self._cache = (log_p, y, w, w_y, counted, total)
        if self.reduction == "mean":
            return float(loss.sum() / total) if total else float("nan")
        return self._reduce(loss)

    def backward(self, grad: float | np.ndarray = 1.0) -> np.ndarray:
        log_p, y, w, w_y, counted, total = self._saved()
        n, num_classes = log_p.shape
        grad = self._upstream(grad, (n,))
        e = self.label_smoothing
        g = F.exp_nonpositive(log_p)        # softmax p
        if self.weight is None:
            g *= counted[:, None]
        else:
            g *= ((1 - e) * w_y + e / num_classes * w.sum() * counted)[:, None]
        # Subtract the target in place: a float64 one-hot would silently turn a
        # float32 backward pass into float64.
        g[np.arange(n), y] -= (1 - e) * w_y
        if e:
            g -= (e / num_classes) * w * counted[:, None]
        if np.ndim(grad):
            return g * grad.astype(g.dtype).reshape(-1, 1)
        if self.reduction == "mean":        # all ignored: g is 0, and so stays
            return g * ((1.0 / total if total else 0.0) * grad)
        return g * grad

    def _check(self, z, y) -> tuple[np.ndarray, np.ndarray]:
        """Scores (N, C) as floats, targets (N,) as integers in range, weight (C,)."""
        z = np.asarray(z)
        y = np.asarray(y)
        if z.dtype.kind != "f":
            z = z.astype(np.float32)
        if z.ndim != 2:
            raise ValueError(f"CrossEntropyLoss expected scores (N, C), got {z.shape}; "
                             "flatten extra dimensions first, e.g. z.reshape(-1, C)")
        if y.ndim != 1 or y.shape[0] != z.shape[0]:
            hint = ("; these look one-hot: pass the class indices, y.argmax(axis=1)"
                    if y.shape == z.shape else "")
            raise ValueError(f"CrossEntropyLoss: scores {z.shape} need targets of shape "
                             f"({z.shape[0]},), got {y.shape}{hint}")
        if y.dtype.kind not in "iu":
            if y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0):
                y = y.astype(np.int64)
            else:
                raise ValueError("CrossEntropyLoss expects class indices (integers) as "
                                 f"targets, got dtype {y.dtype}")
        num_classes = z.shape[1]
        bad = (y != self.ignore_index) & ((y < 0) | (y >= num_classes))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"CrossEntropyLoss: target {int(y[i])} at position {i} is out "
                             f"of range for {num_classes} classes (valid: 0 to "
                             f"{num_classes - 1}, or ignore_index={self.ignore_index})")
        if self.weight is not None and self.weight.shape != (num_classes,):
            raise ValueError(f"CrossEntropyLoss: weight has {self.weight.size} entries but "
                             f"the scores have {num_classes} classes")
        return z, y

    def extra_repr(self) -> str:
        parts = [] if self.reduction == "mean" else [f"reduction='{self.reduction}'"]
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        return ", ".join(parts)
