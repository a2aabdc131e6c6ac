"""Compare plain data (arrays, numbers, dicts, lists) and say what differs, in words.

Runs on the grader's side only, on data that ``spec.run`` produced or ``decode``
read back; it never touches a learner object.
"""
from __future__ import annotations

from typing import Any

import numpy as np

MAX_PROBLEMS = 4


def compare_plain(got: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-8,
                  where: str = "") -> list[str]:
    """Plain-words problems with ``got`` (an empty list when it matches)."""
    prefix = f"{where}: " if where else ""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [f"{prefix}expected {len(expected)} results ({', '.join(expected)}), "
                    f"got {_kind(got)}"]
        problems = [f"{prefix}{key} is missing" for key in expected if key not in got]
        for key, value in expected.items():
            if key in got:
                problems += compare_plain(got[key], value, rtol, atol, _join(where, key))
        return problems[:MAX_PROBLEMS]
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return [f"{prefix}expected a list of {len(expected)}, got {_kind(got)}"]
        if len(got) != len(expected):
            return [f"{prefix}expected {len(expected)} items, got {len(got)}"]
        problems = []
        for i, (g, e) in enumerate(zip(got, expected, strict=False)):
            problems += compare_plain(g, e, rtol, atol, f"{where}[{i}]")
        return problems[:MAX_PROBLEMS]
    if isinstance(expected, np.ndarray):
        return _compare_arrays(got, expected, rtol, atol, prefix)
    if isinstance(expected, bool) or isinstance(expected, str) or expected is None:
        if type(got) is type(expected) and got == expected:
            return []
        return [f"{prefix}expected {expected!r}, got {_show(got)}"]
    if isinstance(expected, (int, float)):
        if isinstance(got, np.ndarray) and got.shape == () and got.dtype.kind in "fiu":
            got = float(got)
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return [f"{prefix}expected the number {_num(expected)}, got {_kind(got)}"]
        if not np.isfinite(got) and np.isfinite(expected):
            return [f"{prefix}expected {_num(expected)}, got {got} (not a finite number)"]
        if np.isclose(got, expected, rtol=rtol, atol=atol):
            return []
        return [f"{prefix}expected {_num(expected)}, got {_num(got)} "
                f"(off by {_num(abs(got - expected))}{_ratio(got, expected)})"]
    raise TypeError(f"compare_plain: unexpected reference type {type(expected).__name__}")


NEAR = 100.0  # a near miss: every entry within this many times its tolerance,
CLOSE_RTOL = 1e-3  # or within this relative difference


def near_miss(got: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-8) -> float | None:
    """The largest difference when ``got`` has ``expected``'s structure and shapes and
    every entry is within ``NEAR`` times its tolerance or ``CLOSE_RTOL`` of its value (a
    forgotten ``eps``, a float32 step): a near miss. ``None`` otherwise, and when nothing
    differs at all."""
    diffs = _near(got, expected, rtol, atol)
    return max(diffs) if diffs and max(diffs) > 0 else None


def _near(got: Any, expected: Any, rtol: float, atol: float) -> list[float] | None:
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return None
        parts = [_near(got[k], v, rtol, atol) for k, v in expected.items()]
    elif isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            return None
        parts = [_near(g, e, rtol, atol) for g, e in zip(got, expected, strict=True)]
    elif isinstance(expected, (np.ndarray, int, float)) and not isinstance(expected, bool):
        if isinstance(got, bool) or not isinstance(got, (np.ndarray, int, float)):
            return None
        g = np.asarray(got, dtype=np.float64)
        e = np.asarray(expected, dtype=np.float64)
        if g.shape != e.shape or not np.isfinite(g).all() or not np.isfinite(e).all():
            return None
        diff = np.abs(g - e)
        if np.any(diff > np.maximum(NEAR * (atol + rtol * np.abs(e)), CLOSE_RTOL * np.abs(e))):
            return None
        return [float(diff.max()) if diff.size else 0.0]
    else:
        return [0.0] if type(got) is type(expected) and got == expected else None
    if any(p is None for p in parts):
        return None
    return [d for p in parts for d in p]


def _compare_arrays(got: Any, expected: np.ndarray, rtol: float, atol: float,
                    prefix: str) -> list[str]:
    if isinstance(got, (int, float)) and not isinstance(got, bool):
        got = np.array(float(got))
    if not isinstance(got, np.ndarray):
        return [f"{prefix}expected an array of shape {expected.shape}, got {_kind(got)}"]
    if got.shape != expected.shape:
        note = ""
        if got.ndim == 2 and got.shape == expected.shape[::-1]:
            note = " (the transpose: check which axis is which)"
        elif got.size == expected.size:
            note = " (the same numbers of entries, arranged differently)"
        return [f"{prefix}expected shape {expected.shape}, got {got.shape}{note}"]
    got = got.astype(np.float64, copy=False)
    expected = expected.astype(np.float64, copy=False)
    if expected.ndim == 0:
        return compare_plain(float(got), float(expected), rtol, atol, prefix.rstrip(": "))
    bad_values = ~np.isfinite(got) & np.isfinite(expected)
    if bad_values.any():
        i = _index(np.argmax(bad_values), got.shape)
        return [f"{prefix}{int(bad_values.sum())} of {got.size} entries are not finite "
                f"numbers (nan or inf), the first at {i}"]
    close = np.isclose(got, expected, rtol=rtol, atol=atol)
    if close.all():
        return []
    diff = np.where(close, 0.0, np.abs(got - expected))
    flat = int(np.argmax(diff))
    i = _index(flat, got.shape)
    g, e = got.ravel()[flat], expected.ravel()[flat]
    return [f"{prefix}{int((~close).sum())} of {got.size} entries differ; the largest "
            f"difference is at {i}: expected {_num(e)}, got {_num(g)} "
            f"(off by {_num(abs(g - e))}){_pattern(got, expected)}"]


def _pattern(got: np.ndarray, expected: np.ndarray) -> str:
    """A few tell-tale relations between the whole answer and the reference."""
    scale = np.abs(expected).max()
    if scale == 0:
        return ""
    if np.allclose(got, -expected, rtol=1e-5, atol=1e-8 * scale):
        return "; every entry has the wrong sign"
    ratio = _common_ratio(got, expected)
    if ratio is not None:
        return f"; every entry is {_num(ratio)} times the right value"
    return ""


def _common_ratio(got, expected) -> float | None:
    mask = np.abs(expected) > 1e-12
    if not mask.any() or np.any(np.abs(got[~mask]) > 1e-12):
        return None
    ratios = got[mask] / expected[mask]
    r = float(np.median(ratios))
    if abs(r - 1) < 1e-6 or r == 0 or not np.allclose(ratios, r, rtol=1e-6):
        return None
    return r


def _ratio(got: float, expected: float) -> str:
    if expected != 0 and got != 0 and np.isclose(got, -expected):
        return "; the sign is wrong"
    if expected != 0 and got != 0 and _nice(got / expected):
        return f"; {_num(got / expected)} times the right value"
    return ""


def _nice(r: float) -> bool:
    """A ratio worth pointing out: 2, 3, ..., 1/2, 1/3, ... (a factor lost or doubled)."""
    for x in (abs(r), 1 / abs(r)):
        if x >= 1.5 and abs(x - round(x)) < 1e-6 * x:
            return True
    return False


def _index(flat: int, shape: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]"


def _num(x: float) -> str:
    return f"{float(x):.6g}"


def _show(x: Any) -> str:
    if isinstance(x, (bool, str)) or x is None:
        return repr(x)
    return _kind(x)


def _kind(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    if isinstance(x, dict):
        return f"a dict with keys {sorted(map(str, x))[:6]}"
    if isinstance(x, (list, tuple)):
        return f"a list of {len(x)}"
    if isinstance(x, bool):
        return repr(x)
    if isinstance(x, (int, float)):
        return f"the number {_num(x)}"
    return f"a {type(x).__name__}"


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else str(key)
