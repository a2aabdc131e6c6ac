"""The teacher's last word: ``--overrides FILE``, a CSV with ``student,part,points,comment``.

``part`` is a ``grade_id`` of the assignment (that part's points are replaced) or
``total`` (the final total, after the late penalty, is replaced: say, to waive a
penalty). Overrides are applied last, shown in the gradebook (``overrides`` column) and
in the learner's feedback with the comment. A file that names an unknown learner or
part, or points outside 0..max, is refused before anything is graded: a typo must not
silently change nobody's grade.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass


class OverrideError(Exception):
    pass


@dataclass(frozen=True)
class Override:
    student: str
    part: str  # a grade_id, or "total"
    points: float
    comment: str


def read_overrides(path: str, max_points: dict[str, float]) -> list[Override]:
    """The overrides in ``path``; ``max_points`` maps each grade_id (and ``total``) to
    its maximum."""
    out: list[Override] = []
    seen: set[tuple[str, str]] = set()
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            need = {"student", "part", "points"}
            if not need <= set(reader.fieldnames or []):
                raise OverrideError(f"the overrides file {path} needs the columns "
                                    f"student,part,points,comment (it has: "
                                    f"{', '.join(reader.fieldnames or [])})")
            for number, row in enumerate(reader, 2):
                where = f"{path}, line {number}"
                student, part = (row["student"] or "").strip(), (row["part"] or "").strip()
                if part not in max_points:
                    raise OverrideError(f"{where}: no part {part!r} in this assignment "
                                        f"(parts: {', '.join(max_points)})")
                try:
                    points = float(row["points"])
                except (TypeError, ValueError):
                    raise OverrideError(f"{where}: points {row['points']!r} is not a "
                                        "number") from None
                if not 0 <= points <= max_points[part]:
                    raise OverrideError(f"{where}: {points:g} points for {part!r}, which is "
                                        f"worth 0 to {max_points[part]:g}")
                if (student, part) in seen:
                    raise OverrideError(f"{where}: a second override of {part!r} for "
                                        f"{student!r}")
                seen.add((student, part))
                out.append(Override(student, part, points, (row.get("comment") or "").strip()))
    except OSError as err:
        raise OverrideError(f"cannot read the overrides file {path}: {err.strerror}") from None
    return out


def check_students(overrides: list[Override], students: set[str], path: str) -> None:
    unknown = sorted({o.student for o in overrides} - students)
    if unknown:
        raise OverrideError(f"the overrides file {path} names learners with no row in this "
                            f"class: {', '.join(map(repr, unknown))}")
