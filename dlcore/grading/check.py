"""The in-notebook check: ``check("neuron_forward", neuron_forward)`` and ``hint(...)``.

The check runs the learner's function on the spec's public cases, shows what is
right and wrong in plain words (HTML in JupyterLab, text in a terminal), and on a
failure raises ``CheckFailed``, whose traceback is one line, so the cell fails
(nbgrader then gives it zero) without a wall of checker internals. First, though, it
reads the cell that defines the function: if that code uses one of the engine
shortcuts the part declares (``Spec.shortcuts``, say ``nn.Linear`` where the part asks
for ``X @ W.T + b``), the check fails with that message, whatever the numbers; the
class autograder applies the same rule to the same cell.
"""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from .registry import get_spec
from .report import Report, Tip
from .shortcut import answer_source
from .spec import Spec, decode, encode, learner_error
from .verdict import verdict


class CheckFailed(Exception):
    """Raised by ``check`` when a case is wrong; IPython shows one line for it."""

    def _render_traceback_(self) -> list[str]:
        return [f"CheckFailed: {self}"]


def run_check(spec: Spec, namespace: Mapping[str, Any],
              seeds: tuple[int, ...] | None = None) -> Report:
    """Run ``spec`` on the learner's ``namespace`` (in this process) and judge it with
    the autograder's core (``Spec.judge``, ``verdict.verdict``). A declared engine
    shortcut in the learner's code fails it before any case runs."""
    if spec.shortcuts and spec.name in namespace:
        refusal = spec.refusal(answer_source(namespace[spec.name], spec.name))
        if refusal:
            return Report(verdict(spec, [], refusal))
    outcomes = []
    for case in spec.cases(seeds):
        try:
            got = decode(encode(spec.run(namespace, case)))
        except Exception as err:
            outcomes.append(spec.judge(case, error=learner_error(err)))
            continue
        outcomes.append(spec.judge(case, got))
    return Report(verdict(spec, outcomes))


def check(grade_id: str, answer: Any = None) -> None:
    """Check the learner's function (or class) for the exercise ``grade_id``.

    ``answer`` is the learner's function; without it, the name is looked up in
    the caller's globals (the notebook).
    """
    spec = get_spec(grade_id)
    if answer is None:
        namespace = sys._getframe(1).f_globals
    else:
        namespace = {spec.name: answer}
    report = run_check(spec, namespace)
    _display(report)
    if not report.passed:
        raise CheckFailed(report.failure()) from None


@contextlib.contextmanager
def needs(*names: str) -> Iterator[None]:
    """Run a cell that uses the learner's functions; if one is still the untouched
    stub, say so in one line instead of failing the cell::

        with needs("train_model"):
            losses = train_model(...)
    """
    try:
        yield
    except NotImplementedError:
        listed = ", ".join(f"`{n}`" for n in names)
        print(f"This cell uses {listed}: write {'it' if len(names) == 1 else 'them'} "
              "above first, then run this cell again.")


_tips_shown: dict[str, int] = {}


def hint(grade_id: str) -> None:
    """Show the next tip for ``grade_id``, gentlest first (never the solution code)."""
    spec = get_spec(grade_id)
    if not spec.tips:
        _display(Tip(grade_id, 1, 1, spec.task))
        return
    number = min(_tips_shown.get(grade_id, 0) + 1, len(spec.tips))
    _tips_shown[grade_id] = number
    _display(Tip(grade_id, number, len(spec.tips), spec.tips[number - 1]))


def _display(obj: Any) -> None:
    """Rich display in IPython (HTML and text), plain print elsewhere."""
    ipython = sys.modules.get("IPython")
    if ipython is not None and ipython.get_ipython() is not None:
        from IPython.display import display
        display(obj)
    else:
        print(obj.text())
