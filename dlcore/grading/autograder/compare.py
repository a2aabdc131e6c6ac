"""Judge one worker's answers, in the grader's own process, on plain data only.

The worker's lines are untrusted (see ``worker.py``): each answer is decoded strictly
(``spec.decode``), checked to belong to a case the grader asked for, and judged by the
spec against the reference the grader computed itself, with the in-notebook check's
core (``Spec.judge``; ``verdict.verdict`` gives the points under the part's credit
rule). A missing, repeated, malformed or forged line earns nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..spec import Case, LearnerError, Spec, decode
from ..verdict import Kind, Outcome, Verdict, verdict

Graded = Verdict  # the name the first grader used


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
               unanswered: str, kind: Kind = Kind.NO_ANSWER,
               place: Callable[[LearnerError], str] | None = None) -> Outcome:
    """The outcome of one hidden case from the worker's line for it (or its absence)."""
    if answer is None:
        return Outcome(case.label, False, unanswered, kind=kind)
    if "error" in answer:
        try:
            error = LearnerError.from_plain(answer["error"])
        except ValueError:
            return Outcome(case.label, False, "the answer could not be read",
                           kind=Kind.UNREADABLE)
        return spec.judge(case, error=error, graded=True,
                          place=place(error) if place else "")
    try:
        got = decode(answer.get("got"))
    except (ValueError, TypeError, RecursionError):
        return Outcome(case.label, False, "the answer was not plain data (numbers, arrays, "
                                          "lists); nothing else can be graded",
                       kind=Kind.UNREADABLE)
    return spec.judge(case, got, expected=expected, graded=True)


def judge_part(spec: Spec, cases: list[Case], expected: list[Any],
               events: list[dict[str, Any]], unanswered: str,
               kind: Kind = Kind.NO_ANSWER,
               place: Callable[[LearnerError], str] | None = None) -> Verdict:
    """One part's ``Verdict`` from a worker's lines."""
    answers = answers_from(events)
    outcomes = [judge_case(spec, case, expected[k], answers.get((spec.grade_id, k)),
                           unanswered, kind, place) for k, case in enumerate(cases)]
    return verdict(spec, outcomes)


def judge(specs: list[Spec], cases: dict[str, list[Case]], expected: dict[str, list[Any]],
          events: list[dict[str, Any]], unanswered: str) -> list[Verdict]:
    """A ``Verdict`` per spec, in order, from one worker's lines."""
    return [judge_part(spec, cases[spec.grade_id], expected[spec.grade_id], events,
                       unanswered) for spec in specs]
