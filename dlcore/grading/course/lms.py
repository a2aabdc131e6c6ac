"""``python -m dlcore gradebook OUT [OUT ...] --out FILE [--roster FILE] [--format F]``:
one row per learner across assignments, as a plain CSV or an LMS import.

Each OUT is a folder ``python -m dlcore grade`` wrote; its assignment is read from its
journal. A learner absent from an OUT has an empty cell there (no row, not zero: an LMS
import leaves empty cells alone); a learner graded ``missing`` has 0.

Formats (the layouts each LMS documents for its grade import):

* ``csv``: ``student``, the roster's other columns, one column per assignment (its final
  ``total``), ``total``, ``max_total``.
* ``canvas``: Canvas's gradebook import layout, as its own gradebook export writes it:
  ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per assignment;
  Canvas matches a row by ``ID``, ``SIS User ID`` or ``SIS Login ID``, so the roster
  should carry one of ``canvas_id``, ``sis_id`` or ``login`` (``name`` and ``section``
  fill the others; without them the learner id goes in ``SIS User ID``). A second row,
  ``Points Possible``, holds each assignment's maximum, as in Canvas's export.
* ``moodle``: Moodle's CSV grade import: one identifier column, mapped at import under
  "Identify user by" (``Email address`` when the roster has ``email``, else ``ID
  number`` from ``idnumber``/``sis_id``, else ``Username`` = the learner id), then one
  column per assignment, each mapped to a grade item on the import's second page.
"""
from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass

from ..autograder.journal import FILENAME as JOURNAL
from .roster import Roster


class GradebookError(Exception):
    pass


@dataclass
class Graded:
    assignment: str
    max_total: float
    totals: dict[str, float]  # student -> final total


def read_out(out_dir: str) -> Graded:
    path = os.path.join(out_dir, "gradebook.csv")
    assignment = ""
    try:
        with open(os.path.join(out_dir, JOURNAL), encoding="utf-8") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and record.get("kind") == "run":
                    assignment = str(record.get("assignment", ""))
                    break
    except OSError:
        pass
    assignment = assignment or os.path.basename(os.path.normpath(out_dir))
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError:
        raise GradebookError(f"{out_dir} has no gradebook.csv: is it a folder that "
                             "`python -m dlcore grade --out` wrote?") from None
    if not rows or "total" not in rows[0]:
        raise GradebookError(f"{path} has no learner rows or no 'total' column")
    totals = {r["student"]: float(r["total"]) for r in rows}
    return Graded(assignment, float(rows[0]["max_total"]), totals)


def _num(value: float | None) -> str:
    return "" if value is None else f"{round(value, 2):g}"


def _learners(graded: list[Graded], roster: Roster | None) -> list[str]:
    seen = dict.fromkeys(roster.rows if roster else [])
    for g in graded:
        for student in g.totals:
            seen.setdefault(student)
    return list(seen)


def _text(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def write_book(graded: list[Graded], roster: Roster | None, fmt: str) -> str:
    names = [g.assignment for g in graded]
    if len(set(names)) != len(names):
        raise GradebookError(f"the same assignment is given twice: {', '.join(names)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    learners = _learners(graded, roster)

    def extra(student: str, *keys: str) -> str:
        row = roster.extra(student) if roster else {}
        return next((row[k] for k in keys if row.get(k)), "")

    if fmt == "csv":
        columns = roster.columns if roster else []
        writer.writerow(["student", *columns, *names, "total", "max_total"])
        for s in learners:
            scores = [g.totals.get(s) for g in graded]
            writer.writerow([_text(s), *(_text(extra(s, c)) for c in columns),
                             *map(_num, scores), _num(sum(x for x in scores if x is not None)),
                             _num(sum(g.max_total for g in graded))])
    elif fmt == "canvas":
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *names])
        writer.writerow(["    Points Possible", "", "", "", "",
                         *(_num(g.max_total) for g in graded)])
        for s in learners:
            sis = extra(s, "sis_id", "sis_user_id") or ("" if extra(s, "canvas_id", "login")
                                                         else s)
            writer.writerow([_text(extra(s, "name") or s), extra(s, "canvas_id", "id"),
                             _text(sis), _text(extra(s, "login", "sis_login_id")),
                             _text(extra(s, "section")),
                             *(_num(g.totals.get(s)) for g in graded)])
    elif fmt == "moodle":
        columns = roster.columns if roster else []
        if "email" in columns:
            header, keys = "Email address", ("email",)
        elif "idnumber" in columns or "sis_id" in columns:
            header, keys = "ID number", ("idnumber", "sis_id")
        else:
            header, keys = "Username", ()
        writer.writerow([header, *names])
        for s in learners:
            ident = extra(s, *keys) if keys else s
            writer.writerow([_text(ident or s), *(_num(g.totals.get(s)) for g in graded)])
    else:
        raise GradebookError(f"unknown format {fmt!r}: csv, canvas or moodle")
    return buffer.getvalue()
