"""Turn the grader's results into the course's gradebook rows: the late penalty, the
teacher's overrides (last) and the roster's columns.

Each row is the result dict with its ``scores`` and ``total`` final, plus ``course``:
the extra gradebook columns in order (``submitted``, ``submitted_from``, ``late_by``,
``raw_total``, ``penalty``, ``overrides``, ``on_roster`` and the roster's own columns),
only those the run uses, so a plain run's gradebook is as before. The order: parts as
graded, part overrides, ``raw_total`` = their sum, the late penalty (a percent of it),
``total``, then a ``total`` override.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .late import Lateness, Submitted, describe, lateness
from .overrides import Override
from .roster import Roster


@dataclass
class Policy:
    due: datetime | None = None
    penalty_percent: float = 0.0
    extensions: dict[str, datetime] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)
    roster: Roster | None = None
    unmatched: set[str] = field(default_factory=set)


def _points(value: float) -> str:
    return f"{round(value, 2):g}"


def course_row(result: dict[str, Any], submitted: Submitted, policy: Policy) -> dict[str, Any]:
    row = copy.deepcopy(result)
    student = row["student"]
    extra: dict[str, str] = {}
    scores = row.setdefault("scores", {})
    mine = [o for o in policy.overrides if o.student == student]
    applied = []
    for o in mine:
        if o.part != "total":
            applied.append({"part": o.part, "points": o.points, "was": scores.get(o.part, 0.0),
                            "comment": o.comment})
            scores[o.part] = o.points
    raw = round(sum(float(v) for v in scores.values()), 2)
    total = raw
    if policy.due is not None:
        due = policy.extensions.get(student, policy.due)
        late: Lateness = lateness(submitted.when, due, policy.penalty_percent)
        penalty = round(raw * late.percent / 100, 2)
        total = round(raw - penalty, 2)
        extra["submitted"] = (submitted.when.astimezone(UTC).isoformat(timespec="seconds")
                              if submitted.when else "")
        extra["submitted_from"] = submitted.source
        extra["due"] = due.isoformat(timespec="minutes")
        extra["late_by"] = describe(late.late_by) if late.days else ""
        extra["raw_total"] = _points(raw)
        extra["penalty"] = _points(penalty)
        row["late"] = {"days": late.days, "percent": late.percent, "penalty": penalty,
                       "late_by": extra["late_by"], "due": extra["due"],
                       "extension": student in policy.extensions}
    for o in mine:
        if o.part == "total":
            applied.append({"part": "total", "points": o.points, "was": total,
                            "comment": o.comment})
            total = o.points
    row["total"] = total
    row["raw_total"] = raw
    if policy.overrides:
        extra["overrides"] = "; ".join(
            f"{a['part']}: {_points(a['was'])} -> {_points(a['points'])}"
            + (f" ({a['comment']})" if a["comment"] else "") for a in applied)
    row["overrides"] = applied
    if policy.roster is not None:
        on = student not in policy.unmatched
        extra["on_roster"] = "yes" if on else "no"
        for column in policy.roster.columns:
            extra[column] = policy.roster.extra(student).get(column, "")
        if not on:
            row["reason"] = "not on the roster: " + row["reason"]
    row["course"] = extra
    return row
