"""Judge one worker's answers, in the grader's own process, on plain data only.

The worker's lines are untrusted (see ``worker.py``): each answer is decoded strictly
(``spec.decode``), checked to belong to a case the grader asked for, and judged by the
spec against the reference the grader computed itself. A missing, repeated, malformed
or forged line earns nothing. Points are all or nothing per graded function.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..spec import Case, LearnerError, Outcome, Spec, decode


@dataclass
class Graded:
    """One graded function's verdict: points earned and an outcome per hidden case."""

    grade_id: str
    name: str
    points: float
    earned: float
    outcomes: list[Outcome] = field(default_factory=list)


def answers_from(events: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    """{(grade_id, case index): result line}; a case answered twice counts as unanswered."""
    answers: dict[tuple[str, int], dict[str, Any]] = {}
    seen: set[tuple[str, int]] = set()
    for event in events:
        if event.get("event") != "result":
            continue
        key = (event.get("grade_id"), event.get("case"))
        if not isinstance(key[0], str) or type(key[1]) is not int:
            continue
        if key in seen:
            answers.pop(key, None)
            continue
        seen.add(key)
        answers[key] = event
    return answers


def judge_case(spec: Spec, case: Case, expected: Any, answer: dict[str, Any] | None,
               unanswered: str) -> Outcome:
    """The outcome of one hidden case from the worker's line for it (or its absence)."""
    if answer is None:
        return Outcome(case.label, False, unanswered)
    if "error" in answer:
        try:
            error = LearnerError.from_plain(answer["error"])
        except ValueError:
            return Outcome(case.label, False, "the answer could not be read")
        return spec.error_outcome(error, case)
    try:
        got = decode(answer.get("got"))
    except (ValueError, TypeError, RecursionError):
        return Outcome(case.label, False, "the answer was not plain data (numbers, arrays, "
                                          "lists); nothing else can be graded")
    try:
        return spec.compare(got, expected, case)
    except Exception as err:  # a well-formed answer of a shape compare did not foresee
        return Outcome(case.label, False,
                       f"the answer could not be compared ({type(err).__name__})")


def judge(specs: list[Spec], cases: dict[str, list[Case]], expected: dict[str, list[Any]],
          events: list[dict[str, Any]], unanswered: str) -> list[Graded]:
    """A ``Graded`` per spec, in order."""
    answers = answers_from(events)
    out = []
    for spec in specs:
        outcomes = [judge_case(spec, case, expected[spec.grade_id][k],
                               answers.get((spec.grade_id, k)), unanswered)
                    for k, case in enumerate(cases[spec.grade_id])]
        passed = bool(outcomes) and all(o.passed for o in outcomes)
        out.append(Graded(spec.grade_id, spec.name, float(spec.points),
                          float(spec.points) if passed else 0.0, outcomes))
    return out
