"""Exercise 07: a convolution's forward pass with stride and padding, and max pooling
forward and backward (the gradient goes to the first maximum of each window)."""
from __future__ import annotations

import numpy as np

from ... import nn
from ..spec import Case, Hint, Spec
from ._common import call_array, gen, keep_rng, names, normal, reached, refuse

ASSIGNMENT = "07_convolutional_networks"


# -- conv_forward(x, w, b, stride, padding) ------------------------------------------
def _conv_cases(seed: int) -> list[Case]:
    g = gen(seed, 701)
    n, c, f = int(g.integers(1, 3)), int(g.integers(1, 4)), int(g.integers(2, 4))
    h, w = (int(v) for v in g.integers(5, 8, size=2))
    k = int(g.choice([2, 3]))
    return [Case(f"N={n}, C={c}, {h}x{w} images, F={f} filters {k}x{k}, stride 1, padding 0",
                 {"x": normal(g, n, c, h, w), "w": normal(g, f, c, k, k), "b": normal(g, f),
                  "stride": 1, "padding": 0}),
            Case(f"N={n}, C={c}, {h}x{w} images, F={f} filters 3x3, stride 2, padding 1",
                 {"x": normal(g, n, c, h, w), "w": normal(g, f, c, 3, 3), "b": normal(g, f),
                  "stride": 2, "padding": 1})]


def _conv(x, w, b, stride, padding) -> np.ndarray:
    with keep_rng():
        layer = nn.Conv2d(w.shape[1], w.shape[0], w.shape[2:], stride=stride,
                          padding=padding)
    layer.double()
    layer.weight.data = np.array(w, dtype=np.float64)
    layer.bias.data = np.array(b, dtype=np.float64)
    return layer(np.array(x, dtype=np.float64))


def _conv_reference(case: Case) -> np.ndarray:
    i = case.inputs
    return _conv(i["x"], i["w"], i["b"], i["stride"], i["padding"])


def _conv_mistake(kind: str):
    def mistake(case: Case) -> np.ndarray | None:
        i = dict(case.inputs)
        if kind == "no padding":
            if i["padding"] == 0:
                return None
            i["padding"] = 0
        elif kind == "no stride":
            if i["stride"] == 1:
                return None
            i["stride"] = 1
        elif kind == "flipped":
            i["w"] = i["w"][:, :, ::-1, ::-1]
        elif kind == "no bias":
            i["b"] = np.zeros_like(i["b"])
        return _conv(i["x"], i["w"], i["b"], i["stride"], i["padding"])
    return mistake


CONV_FORWARD = Spec(
    grade_id="conv_forward", assignment=ASSIGNMENT, name="conv_forward", points=3,
    task="out (N, F, Ho, Wo) of x (N, C, H, W) with filters w (F, C, kh, kw), bias b (F,), "
         "stride and zero padding, as nn.Conv2d",
    make_cases=_conv_cases,
    run=lambda ns, case: call_array(ns, case, "conv_forward", "x", "w", "b", "stride",
                                    "padding"),
    reference=_conv_reference,
    hints=(
        Hint("The padding is missing: first put `padding` zeros on every side of H and W "
             "(np.pad on the last two axes only), then slide the filters over the padded "
             "image.", mistake=_conv_mistake("no padding")),
        Hint("The stride is missing: output pixel (i, j) reads the window that starts at "
             "row i * stride and column j * stride, and Ho = (H + 2 padding - kh) // stride "
             "+ 1.", mistake=_conv_mistake("no stride")),
        Hint("Your filter is flipped: deep-learning 'convolution' (as nn.Conv2d) is a "
             "cross-correlation, w[f, c, p, q] multiplies the window's entry (p, q) as it "
             "is, no flipping.", mistake=_conv_mistake("flipped")),
        Hint("The bias is missing: add b[f] to every pixel of output channel f.",
             mistake=_conv_mistake("no bias")),
    ),
    tips=("Pad first, then loop over samples n, filters f and output positions (i, j); "
          "each output pixel is the sum of one window of the padded x (all C channels) "
          "times w[f], plus b[f].",
          "The window for output (i, j) covers rows i*stride ... i*stride + kh - 1 and "
          "columns j*stride ... j*stride + kw - 1 of the padded image.",
          "The output has floor((H + 2 padding - kh) / stride) + 1 rows, and likewise for the "
          "columns."),
    shortcuts=refuse("conv_forward", "slide the filters over the padded images yourself",
                      (names("Conv2d"), "`nn.Conv2d`, the engine's own layer"),
                      (reached(r"correlate\w*|convolve\w*", "signal", "ndimage"),
                       "SciPy's ready-made convolution")),
)


# -- max pooling --------------------------------------------------------------------
def _pool_cases(seed: int, salt: int) -> list[Case]:
    g = gen(seed, salt)
    n, c = int(g.integers(1, 3)), int(g.integers(1, 4))
    h, w = (2 * int(v) for v in g.integers(2, 4, size=2))
    # Small whole numbers, so some windows hold the same maximum twice (ties).
    tied = g.integers(-3, 4, size=(n, c, h, w)).astype(np.float64)
    tied[0, 0, 0, 0] = tied[0, 0, 0, 1] = tied[0, 0, 1, 0] = 9.0
    # With overlapping windows, x[.., 2, 2] is in four of them: make it their maximum.
    shared = normal(g, n, c, h + 1, w + 1)
    shared[0, 0, 2, 2] = 9.0
    return [Case(f"N={n}, C={c}, {h}x{w}, 2x2 windows, stride 2",
                 {"x": normal(g, n, c, h, w), "grad_out": normal(g, n, c, h // 2, w // 2),
                  "pool": 2, "stride": 2}),
            Case(f"N={n}, C={c}, {h + 1}x{w + 1}, 3x3 windows, stride 2 (they overlap)",
                 {"x": shared, "grad_out": normal(g, n, c, h // 2, w // 2),
                  "pool": 3, "stride": 2}),
            Case(f"N={n}, C={c}, {h}x{w}, 2x2 windows, stride 2, whole numbers with ties",
                 {"x": tied, "grad_out": normal(g, n, c, h // 2, w // 2),
                  "pool": 2, "stride": 2})]


def _pool(i: dict) -> tuple[nn.MaxPool2d, np.ndarray]:
    pool = nn.MaxPool2d(i["pool"], stride=i["stride"])
    return pool, pool(i["x"])


def _pool_backward(case: Case) -> np.ndarray:
    pool, _ = _pool(case.inputs)
    return pool.backward(case.inputs["grad_out"])


def _windows(i: dict):
    """(window of x, its slice in x, its grad_out) for every output entry: for the hints."""
    x, k, s = i["x"], i["pool"], i["stride"]
    N, C, Ho, Wo = i["grad_out"].shape
    for n, c, a, b in np.ndindex(N, C, Ho, Wo):
        where = (n, c, slice(a * s, a * s + k), slice(b * s, b * s + k))
        yield x[where], where, i["grad_out"][n, c, a, b]


def _to_every_max(case: Case) -> np.ndarray:
    i = case.inputs
    dx = np.zeros_like(i["x"])
    for window, where, g in _windows(i):
        dx[where] += g * (window == window.max())
    return dx


def _assigned(case: Case) -> np.ndarray | None:
    i = case.inputs
    if i["pool"] <= i["stride"]:
        return None
    dx = np.zeros_like(i["x"])
    for window, where, g in _windows(i):
        p, q = np.unravel_index(np.argmax(window), window.shape)
        dx[where][p, q] = g
    return dx


def _spread(case: Case) -> np.ndarray:
    i = case.inputs
    dx = np.zeros_like(i["x"])
    for _, where, g in _windows(i):
        dx[where] += g
    return dx


MAXPOOL_FORWARD = Spec(
    grade_id="maxpool_forward", assignment=ASSIGNMENT, name="maxpool_forward", points=1,
    task="out (N, C, Ho, Wo): the largest value of each pool x pool window of x (N, C, H, W), "
         "windows `stride` apart, as nn.MaxPool2d",
    make_cases=lambda seed: _pool_cases(seed, 702),
    run=lambda ns, case: call_array(ns, case, "maxpool_forward", "x", "pool", "stride"),
    reference=lambda case: _pool(case.inputs)[1],
    hints=(
        Hint("That is the mean of each window (average pooling); max pooling keeps the "
             "largest value.",
             mistake=lambda c: nn.AvgPool2d(c.inputs["pool"], c.inputs["stride"])(
                 c.inputs["x"])),
    ),
    tips=("Ho = (H - pool) // stride + 1, and Wo likewise.",
          "For every (i, j), take the window x[:, :, i*stride : i*stride + pool, "
          "j*stride : j*stride + pool] and its max over the last two axes: all samples "
          "and channels at once."),
    shortcuts=refuse("maxpool_forward", "take the largest value of each window yourself",
                      (names("MaxPool2d"), "`nn.MaxPool2d`, the engine's own layer"),
                      (names("maximum_filter", "block_reduce"), "a ready-made maximum filter")),
)

MAXPOOL_BACKWARD = Spec(
    grade_id="maxpool_backward", assignment=ASSIGNMENT, name="maxpool_backward", points=2,
    task="dx (N, C, H, W): each grad_out entry goes to the FIRST maximum (row-major) of its "
         "window, as nn.MaxPool2d; overlapping windows add up",
    make_cases=lambda seed: _pool_cases(seed, 703),
    run=lambda ns, case: call_array(ns, case, "maxpool_backward", "grad_out", "x", "pool",
                                    "stride"),
    reference=_pool_backward,
    hints=(
        Hint("A window whose maximum appears twice gave the gradient to both: only the "
             "FIRST maximum (np.argmax, row-major) gets it, as in PyTorch, so the gradient "
             "is not counted twice.", mistake=_to_every_max),
        Hint("Where windows overlap, one input can be the maximum of two windows: ADD "
             "(+=) the gradients, do not overwrite them.", mistake=_assigned),
        Hint("Every entry of the window got the gradient; only the maximum (the one input "
             "that made the output) should.", mistake=_spread),
    ),
    tips=("Only one input of each window affected the output: its maximum. The others "
          "get no gradient from that window.",
          "Loop over (n, c, i, j); find the position of the window's maximum with "
          "np.argmax and np.unravel_index, and add grad_out[n, c, i, j] to dx there."),
    shortcuts=refuse("maxpool_backward", "send each gradient to the first maximum of "
                      "its window yourself",
                      (names("MaxPool2d"), "`nn.MaxPool2d`, the engine's own layer and its "
                       "backward pass")),
)

SPECS = [CONV_FORWARD, MAXPOOL_FORWARD, MAXPOOL_BACKWARD]
