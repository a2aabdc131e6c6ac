"""The gradebook (``OUT/gradebook.csv``) and per-learner feedback (``OUT/feedback/*.html``).

Both are written from the results alone, at the end of a run, each file atomically
(a temporary file inside OUT, ``fsync``, ``os.replace``), so a reader never sees half a
gradebook. The CSV has one row per learner and nothing else (no totals row, no
comments): ``student, status, reason, <grade_id>..., total, max_total``; a name or
reason that a spreadsheet would take for a formula is quoted. A course run adds its
columns after ``max_total`` (each row's ``course`` dict: submission time, lateness,
overrides, the roster's columns). Feedback (a Jinja2 template with autoescaping) says
what passed and what failed, why, and the hint, and never the hidden inputs or the
reference code (the results hold neither).
"""
from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from typing import Any

from ..course.pages import feedback_page


def write_atomic(path: str, text: str) -> None:
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _points(value: float) -> str:
    return f"{round(float(value), 2):g}"


def _text(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (a learner may name a file
    ``=HYPERLINK(...).ipynb``): a leading = + - @ or tab gets a quote before it."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def gradebook_csv(results: list[dict[str, Any]], grade_ids: list[str]) -> str:
    extra = list(dict.fromkeys(k for r in results for k in r.get("course", {})))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "status", "reason", *grade_ids, "total", "max_total", *extra])
    for r in results:
        scores = r.get("scores", {})
        course = r.get("course", {})
        writer.writerow([_text(r["student"]), r["status"], _text(r["reason"]),
                         *(_points(scores.get(g, 0.0)) for g in grade_ids),
                         _points(r["total"]), _points(r["max_total"]),
                         *(_text(str(course.get(k, ""))) for k in extra)])
    return buffer.getvalue()


def feedback_name(student: str, taken: set[str]) -> str:
    """A file name for ``student``'s feedback: control characters and slashes become
    ``_``, no leading dot, unique among ``taken``."""
    base = re.sub(r"[\x00-\x1f\x7f/\\]", "_", student).lstrip(".") or "_"
    base = base[:150]
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base}~{n}"
    taken.add(name.lower())
    return name + ".html"


def feedback_html(result: dict[str, Any], assignment: str) -> str:
    """The learner's page, from the ``feedback.html.j2`` template (escaped by Jinja2)."""
    return feedback_page(result, assignment)


def write_report(out_dir: str, results: list[dict[str, Any]], grade_ids: list[str],
                 assignment: str) -> None:
    """``gradebook.csv`` and ``feedback/`` under ``out_dir``, every file atomically."""
    feedback_dir = os.path.join(out_dir, "feedback")
    os.makedirs(feedback_dir, exist_ok=True)
    taken: set[str] = set()
    for result in results:
        name = feedback_name(result["student"], taken)
        write_atomic(os.path.join(feedback_dir, name), feedback_html(result, assignment))
    write_atomic(os.path.join(out_dir, "gradebook.csv"), gradebook_csv(results, grade_ids))
