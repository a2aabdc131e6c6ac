"""Walking a ``Sequential`` layer by layer: its widths (for a diagram) and what each
layer outputs (for a picture of the forward pass)."""
from __future__ import annotations

import numpy as np


def layer_sizes(model) -> list[tuple[int, str]]:
    """The columns of a network diagram: ``[(width, label), ...]``.

    ``model`` is a ``Sequential`` (or any iterable of modules) or a plain list
    of widths such as ``[2, 4, 1]``. Each ``Linear`` adds a column of its
    ``out_features`` units; a layer without parameters that follows (ReLU,
    Sigmoid, ...) names that column's activation.
    """
    items = list(model)
    if all(isinstance(i, (int, np.integer)) for i in items):
        if len(items) < 2 or min(items) < 1:
            raise ValueError(f"layer_sizes needs at least two positive widths, got {items}")
        return [(int(w), "") for w in items]
    columns: list[tuple[int, str]] = []
    for module in items:
        in_f, out_f = getattr(module, "in_features", None), getattr(module, "out_features", None)
        if in_f is not None and out_f is not None:
            if not columns:
                columns.append((int(in_f), ""))
            columns.append((int(out_f), ""))
        elif columns and not list(module.parameters()):
            width, label = columns[-1]
            name = type(module).__name__
            columns[-1] = (width, f"{label} + {name}" if label else name)
        else:
            raise ValueError(f"network diagram: cannot draw {type(module).__name__} "
                             "(only Linear layers and activations)")
    if not columns:
        raise ValueError("network diagram: the model has no Linear layer")
    return columns


def layer_outputs(model, x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """``[("input", x), ("(0) Linear(2 -> 2)", h0), ...]``: ``x`` after each module in
    turn, exactly what ``model(x)`` computes step by step, in eval mode (dropout off,
    batch norm with its running statistics, which this call leaves unchanged); the
    model's mode is restored afterwards."""
    was_training = model.training
    model.eval()
    outputs = [("input", np.asarray(x))]
    try:
        for i, module in enumerate(model):
            x = module(x)
            outputs.append((f"({i}) {module._short()}", x))
    finally:
        model.train(was_training)
    return outputs
