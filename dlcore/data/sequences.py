"""Generated sequence tasks for recurrent networks (RNN, LSTM, GRU).

* ``adding_problem``: remember two marked numbers across a long sequence and
  add them (Hochreiter & Schmidhuber, 1997). A plain RNN forgets the first mark
  when the sequence is long; an LSTM keeps it.
* ``copy_task``: read a string of symbols, wait, then write it back.
* ``sine_waves``: predict the next value of a noisy sine wave from a window.

All use the batch-first layout (N, T, D) and a ``seed`` that fixes the data.
"""
from __future__ import annotations

import numpy as np


def _check(name: str, **values: int) -> None:
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}: {key} must be a positive integer, got {value!r}")


def adding_problem(n: int = 2000, length: int = 50, seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem.

    Each sequence has two channels: channel 0 holds random values in [0, 1];
    channel 1 is 0 except for two markers (1.0), one in the first half and one
    in the second. The target is the sum of the two marked values.

    Returns X float32 (n, T=length, 2) and y float32 (n, 1), y in [0, 2].
    Always answering 1 gives a mean squared error of about 1/6 = 0.167; a
    network that solves the task goes well below 0.01.
    """
    _check("adding_problem", n=n)
    if length < 2:
        raise ValueError(f"adding_problem: length must be >= 2, got {length}")
    g = np.random.default_rng(seed)
    values = g.random((n, length))
    half = length // 2
    first = g.integers(0, half, size=n)
    second = g.integers(half, length, size=n)
    markers = np.zeros((n, length))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=2).astype(np.float32)
    y = (values[rows, first] + values[rows, second]).reshape(n, 1).astype(np.float32)
    return X, y


def copy_task(n: int = 1000, length: int = 5, n_symbols: int = 8, delay: int = 10,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The copy task: see ``length`` symbols, wait ``delay`` steps, write them back.

    Tokens: 0 is blank, 1 is the "go" signal, 2..n_symbols+1 are the symbols.
    The input is the symbols, then ``delay - 1`` blanks, then "go", then
    ``length`` blanks; the target is blank everywhere except the last
    ``length`` steps, which hold the symbols again. T = 2 * length + delay.

    Returns X float32 (n, T, n_symbols + 2), the input tokens one-hot, and
    y int64 (n, T), the target token at every step (use
    ``CrossEntropyLoss`` on ``logits.reshape(-1, n_symbols + 2)`` and ``y.reshape(-1)``).
    """
    _check("copy_task", n=n, length=length, n_symbols=n_symbols, delay=delay)
    g = np.random.default_rng(seed)
    T = 2 * length + delay
    symbols = g.integers(2, n_symbols + 2, size=(n, length))
    tokens = np.zeros((n, T), dtype=np.int64)
    tokens[:, :length] = symbols
    tokens[:, length + delay - 1] = 1
    y = np.zeros((n, T), dtype=np.int64)
    y[:, length + delay:] = symbols
    X = np.eye(n_symbols + 2, dtype=np.float32)[tokens]
    return X, y


def sine_waves(n: int = 1000, window: int = 20, noise: float = 0.05, seed: int = 0
               ) -> tuple[np.ndarray, np.ndarray]:
    """Windows of sine waves with random frequency, phase and amplitude; the
    target is the value one step after the window (next-step prediction).

    x_t = a sin(w t + phi) + noise, a in [0.5, 1], w in [0.1, 0.5] rad/step.
    Returns X float32 (n, T=window, 1) and y float32 (n, 1) (the clean value).
    """
    _check("sine_waves", n=n, window=window)
    g = np.random.default_rng(seed)
    a = g.uniform(0.5, 1.0, size=(n, 1))
    w = g.uniform(0.1, 0.5, size=(n, 1))
    phi = g.uniform(0, 2 * np.pi, size=(n, 1))
    t = np.arange(window + 1)[None, :]
    clean = a * np.sin(w * t + phi)
    X = clean[:, :window] + noise * g.standard_normal((n, window))
    return X[:, :, None].astype(np.float32), clean[:, window:].astype(np.float32)
