"""The class list: who should have handed in, and which submission is whose.

``--roster FILE`` is a CSV file with a header; its ``student`` column is the id the
gradebook uses and that submissions are matched to (the folder or file name of each
submission). Other columns (``name``, ``email``, ``sis_id``, ``section`` ...) are kept and
copied into the gradebook. Matching is exact first, then ignoring case and surrounding
spaces (``Alice`` hands in ``alice.ipynb``). Everyone on the roster gets a row: a learner
with nothing handed in gets status ``missing`` and says so; a submission that matches
nobody keeps its row too, and is reported, never dropped.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field

from ..autograder.discover import Submission


class RosterError(Exception):
    """The roster cannot be used; the message says why and where."""


@dataclass
class Roster:
    columns: list[str]  # the other columns, in the file's order
    rows: dict[str, dict[str, str]]  # student id -> {column: value}

    def extra(self, student: str) -> dict[str, str]:
        return self.rows.get(student, {})


@dataclass
class Matched:
    submissions: list[Submission]
    unmatched: list[str] = field(default_factory=list)  # submissions on nobody's row
    missing: list[str] = field(default_factory=list)  # roster ids with nothing handed in


def read_roster(path: str) -> Roster:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in (reader.fieldnames or [])]
            if "student" not in header:
                raise RosterError(f"the roster {path} has no 'student' column (its header "
                                  f"is: {', '.join(header) or 'empty'})")
            reader.fieldnames = header
            rows: dict[str, dict[str, str]] = {}
            for number, row in enumerate(reader, 2):
                student = (row.get("student") or "").strip()
                if not student:
                    raise RosterError(f"the roster {path}, line {number}: empty 'student'")
                if student in rows:
                    raise RosterError(f"the roster {path}, line {number}: {student!r} is "
                                      "listed twice")
                rows[student] = {k: (v or "").strip() for k, v in row.items()
                                 if k and k != "student"}
    except OSError as err:
        raise RosterError(f"cannot read the roster {path}: {err.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as err:
        raise RosterError(f"the roster {path} is not a UTF-8 CSV file ({err})") from None
    return Roster([h for h in header if h != "student"], rows)


def _key(name: str) -> str:
    return name.strip().casefold()


def match(roster: Roster, subs: list[Submission]) -> Matched:
    """Each submission renamed to its roster id where it matches one; a row for every
    roster id (``missing`` when nothing came in); submissions matching nobody kept."""
    by_key: dict[str, list[str]] = {}
    for student in roster.rows:
        by_key.setdefault(_key(student), []).append(student)
    out: list[Submission] = []
    unmatched: list[str] = []
    taken: set[str] = set()
    for sub in subs:
        if sub.student in roster.rows:
            student = sub.student
        elif len(by_key.get(_key(sub.student), [])) == 1:
            student = by_key[_key(sub.student)][0]
        else:
            out.append(sub)
            unmatched.append(sub.student)
            continue
        if student in taken:  # two submissions for one learner: keep both rows
            out.append(sub)
            unmatched.append(sub.student)
            continue
        taken.add(student)
        out.append(Submission(student, sub.path, sub.problem))
    missing = [s for s in roster.rows if s not in taken]
    for student in missing:
        out.append(Submission(student, None, "nothing was handed in (on the roster, no "
                                             "notebook found)"))
    order = {s: i for i, s in enumerate(roster.rows)}
    out.sort(key=lambda s: (order.get(s.student, len(order)), s.student))
    return Matched(out, unmatched, missing)
