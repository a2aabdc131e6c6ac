"""The one verdict type: the ``Outcome`` of a case, its ``Kind``, and a part's ``Verdict``.

The in-notebook check (``check.py``) and the class autograder (``autograder/``) judge
with this core and nothing else:

* ``Outcome``: one case, judged. ``kind`` says what happened (right, wrong, close, the
  code raised, not implemented, ran out of time, ...) as a field, so nobody has to read
  the message text to know it; ``message`` says it in plain words for the learner;
  ``outputs`` gives, for a part whose outputs are judged apart (``Credit.PER_OUTPUT``),
  which of them were right in this case.
* ``Credit``: how a part's points are earned from its cases (all or nothing, per case,
  per output), declared by each spec (``Spec.credit``).
* ``Verdict``: one part (one graded function), its outcomes and the points they earned,
  with ``earned_by``, the lines that say what earned what.

``verdict(spec, outcomes)`` applies the credit rule; it is the only place that turns
outcomes into points.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .spec import Spec


class Kind(enum.StrEnum):
    """What happened in one case (a ``str`` enum, so it goes into JSON as it is)."""

    RIGHT = "right"
    WRONG = "wrong"                      # an answer came back and it is wrong
    CLOSE = "close"                      # wrong, but a near miss (compare.near_miss)
    RAISED = "raised"                    # the learner's code raised an exception
    NOT_IMPLEMENTED = "not implemented"  # the stub's NotImplementedError, untouched
    MISSING = "missing"                  # the function is not defined at all
    UNREADABLE = "unreadable"            # an answer came back that cannot be read
    TIMEOUT = "timeout"                  # ran out of time
    NO_ANSWER = "no answer"              # the worker stopped before this case
    REFUSED = "refused"                  # the answer hands the work to ready-made code
    CHECKER = "checker error"            # a bug on the checker's side, not the learner's

    @property
    def passed(self) -> bool:
        return self is Kind.RIGHT


class Credit(enum.StrEnum):
    """How a part's points are earned. A spec declares ``PER_CASE`` or ``PER_OUTPUT``
    only where its cases or outputs are independent (say, a loss and four gradients:
    a wrong ``dW`` says nothing about ``db``)."""

    ALL = "all or nothing"   # every case must be right
    PER_CASE = "per case"    # each right case earns its share
    PER_OUTPUT = "per output"  # each output right in every case earns its share


@dataclass
class Outcome:
    """The verdict on one case: ``passed``, what happened in plain words, a hint.

    ``kind`` defaults to ``RIGHT`` or ``WRONG`` from ``passed`` (custom comparers in the
    specs build outcomes as ``Outcome(label, passed, message, hint)``); ``outputs`` maps
    each output's name to whether it was right, where the part's outputs are judged
    apart."""

    case: str
    passed: bool
    message: str
    hint: str = ""
    kind: Kind | None = None
    outputs: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind is None:
            self.kind = Kind.RIGHT if self.passed else Kind.WRONG
        self.kind = Kind(self.kind)
        self.passed = self.kind.passed

    def to_plain(self) -> dict[str, Any]:
        return {"case": self.case, "passed": self.passed, "kind": self.kind.value,
                "message": self.message, "hint": self.hint, "outputs": dict(self.outputs)}

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> Outcome:
        return cls(data["case"], bool(data["passed"]), data["message"], data.get("hint", ""),
                   Kind(data.get("kind") or ("right" if data["passed"] else "wrong")),
                   dict(data.get("outputs") or {}))


@dataclass
class Verdict:
    """One part judged: points ``earned`` of ``points``, the outcome of every case,
    ``earned_by`` (plain-words lines: what earned what), and ``refusal`` when the
    answer used an engine shortcut the part declares (then nothing is earned)."""

    grade_id: str
    name: str
    points: float
    earned: float
    credit: Credit
    outcomes: list[Outcome]
    earned_by: list[str] = field(default_factory=list)
    refusal: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and all(o.passed for o in self.outcomes) \
            and not self.refusal

    @property
    def kinds(self) -> set[Kind]:
        return {o.kind for o in self.outcomes}

    @property
    def not_implemented(self) -> bool:
        return bool(self.outcomes) and self.kinds == {Kind.NOT_IMPLEMENTED}


def share(points: float, right: int, total: int) -> float:
    """``right`` of ``total`` equal shares of ``points``, to the hundredth."""
    return round(float(points) * right / total, 2) if total else 0.0


def _points(p: float) -> str:
    return f"{p:g} point" + ("" if p == 1 else "s")


def verdict(spec: Spec, outcomes: list[Outcome], refusal: str = "") -> Verdict:
    """The points ``outcomes`` earn under ``spec.credit``, and the lines that say so."""
    points, credit = float(spec.points), Credit(spec.credit)
    if refusal:
        return Verdict(spec.grade_id, spec.name, points, 0.0, credit,
                       [Outcome("your code", False, refusal, kind=Kind.REFUSED)],
                       [f"0 of {_points(points)}: {refusal}"], refusal)
    n = len(outcomes)
    right = sum(o.passed for o in outcomes)
    if credit is Credit.PER_OUTPUT:
        names = _output_names(outcomes)
        if names:
            lines, good = [], 0
            each = share(points, 1, len(names))
            for name in names:
                wrong = [o.case for o in outcomes if not o.outputs.get(name, False)]
                if wrong:
                    lines.append(f"{name}: 0 of {_points(each)} (wrong in {_cases(wrong, n)})")
                else:
                    good += 1
                    lines.append(f"{name}: {_points(each)} (right in every case)")
            earned = share(points, good, len(names))
            return Verdict(spec.grade_id, spec.name, points, earned, credit, outcomes, lines)
        credit = Credit.ALL  # no output came back to judge apart: nothing to share
    if credit is Credit.PER_CASE and n:
        earned = share(points, right, n)
        lines = [f"{right} of {n} cases right: {earned:g} of {_points(points)} "
                 f"({_points(share(points, 1, n))} each)"]
        return Verdict(spec.grade_id, spec.name, points, earned, credit, outcomes, lines)
    earned = points if n and right == n else 0.0
    every = f"all {n} cases right" if n > 1 else "the case is right"
    lines = [f"{every}: {_points(points)}" if earned else
             f"{right} of {n} cases right: 0 of {_points(points)} (every case must be right)"]
    return Verdict(spec.grade_id, spec.name, points, earned, Credit(spec.credit), outcomes, lines)


def _output_names(outcomes: list[Outcome]) -> list[str]:
    names: list[str] = []
    for o in outcomes:
        names += [k for k in o.outputs if k not in names]
    return names


def _cases(labels: list[str], n: int) -> str:
    if len(labels) == n:
        return "every case"
    return ", ".join(label.split(" (")[0] for label in labels)
