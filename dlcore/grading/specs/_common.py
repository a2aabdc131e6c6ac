"""Small helpers the spec modules share: seeded inputs, calling the learner,
building engine layers from given weights without touching dlcore's RNG, and
declaring the engine shortcuts a part refuses (``refuse``, ``names``, ``reached``)."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ... import nn, rng
from ..shortcut import Shortcut
from ..spec import Case, as_array, learner


def gen(seed: int, salt: int) -> np.random.Generator:
    """A generator per (seed, spec), so two specs never share inputs."""
    return np.random.default_rng([int(seed), int(salt)])


def normal(g: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return np.round(g.standard_normal(shape) * scale, 4)


def call(namespace: Mapping[str, Any], case: Case, name: str, *keys: str,
         strict: bool = False) -> Any:
    """``name(*inputs[keys])`` from the learner's namespace, on fresh copies.

    With ``strict``, overflow and invalid operations raise ``FloatingPointError``
    instead of warning, so an unstable formula shows up as an error.
    """
    fn = learner(namespace, name)
    inputs = case.copy_inputs()
    args = [inputs[k] for k in keys]
    if not strict:
        return fn(*args)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        return fn(*args)


def call_array(namespace: Mapping[str, Any], case: Case, name: str, *keys: str,
               strict: bool = False) -> np.ndarray:
    return as_array(call(namespace, case, name, *keys, strict=strict), f"what `{name}` returned")


@contextlib.contextmanager
def keep_rng() -> Iterator[None]:
    """Build engine layers for a reference without moving dlcore's generator (or
    NumPy's legacy global one, which ``manual_seed`` also seeds), so a check never
    changes the random numbers a learner's notebook draws."""
    state = rng.generator().bit_generator.state
    legacy = np.random.get_state()
    try:
        yield
    finally:
        rng.generator().bit_generator.state = state
        np.random.set_state(legacy)


def linear(W: np.ndarray, b: np.ndarray | None = None) -> nn.Linear:
    """An engine ``nn.Linear`` holding the weights W (out, in) and bias b, in float64."""
    with keep_rng():
        layer = nn.Linear(W.shape[1], W.shape[0], bias=b is not None)
    layer.double()
    layer.weight.data = np.array(W, dtype=np.float64)
    if b is not None:
        layer.bias.data = np.array(b, dtype=np.float64)
    return layer


# -- engine shortcuts a part refuses (see ``dlcore/grading/shortcut.py``) --------
TORCH = r"\btorch\b"


def names(*words: str) -> str:
    """A pattern for distinctive names (``Linear``, ``expit``), however they are
    reached: ``nn.Linear``, ``dlcore.nn.Linear`` or ``from dlcore.nn import Linear``.
    Whole words only, so a learner's ``my_linear`` or ``MyLinear`` never matches."""
    return r"\b(?:" + "|".join(words) + r")\b"


def reached(attr: str, *owners: str) -> str:
    """A pattern for a common name (``sigmoid``, ``accuracy``) only where it comes
    from one of ``owners``: ``functional.sigmoid``, ``F.sigmoid`` or ``from
    dlcore.nn.functional import sigmoid``, never the learner's own ``sigmoid``.
    Repetitions are bounded, so a hostile cell cannot make the search slow."""
    own = "|".join(owners)
    return (rf"\b(?:{own})\s*\.\s*(?:{attr})\b"
            rf"|\bfrom\s+[\w.]{{0,100}}\b(?:{own})\b[\w.]{{0,100}}\s+import\s+"
            rf"(?:\([^)]{{0,300}}|[^\n]{{0,300}})\b(?:{attr})\b")


def refuse(name: str, instead: str, *uses: tuple[str, str],
           torch: bool = True) -> tuple[Shortcut, ...]:
    """The shortcuts of the part whose function is ``name``: each of ``uses`` is
    (pattern, what it is in plain words); ``instead`` says what the part asks for.
    With ``torch`` (every part that implements the math), PyTorch is refused too."""
    found = [*uses, (TORCH, "PyTorch (`torch`)")] if torch else list(uses)
    return tuple(Shortcut(pattern, f"`{name}` uses {what}: this exercise asks you to "
                                   f"{instead}.") for pattern, what in found)


__all__ = ["gen", "normal", "call", "call_array", "keep_rng", "linear", "as_array",
           "TORCH", "names", "reached", "refuse"]
