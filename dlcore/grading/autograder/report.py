"""The gradebook (``OUT/gradebook.csv``) and per-learner feedback (``OUT/feedback/*.html``).

Both are written from the results alone, at the end of a run, each file atomically
(a temporary file inside OUT, ``fsync``, ``os.replace``), so a reader never sees half a
gradebook. The CSV has one row per learner and nothing else (no totals row, no
comments): ``student, status, reason, <grade_id>..., total, max_total``; a name or
reason that a spreadsheet would take for a formula is quoted. Feedback says
what passed and what failed, why, and the hint, and never the hidden inputs or the
reference code (the results hold neither). Every name and message is HTML-escaped.
"""
from __future__ import annotations

import csv
import html
import io
import os
import re
import tempfile
from typing import Any


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
    return f"{value:g}"


def _text(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (a learner may name a file
    ``=HYPERLINK(...).ipynb``): a leading = + - @ or tab gets a quote before it."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def gradebook_csv(results: list[dict[str, Any]], grade_ids: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "status", "reason", *grade_ids, "total", "max_total"])
    for r in results:
        scores = r.get("scores", {})
        writer.writerow([_text(r["student"]), r["status"], _text(r["reason"]),
                         *(_points(scores.get(g, 0.0)) for g in grade_ids),
                         _points(r["total"]), _points(r["max_total"])])
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


_STYLE = """body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.4}
.pass{color:#17663a}.fail{color:#a11}.hint{color:#444;font-style:italic}
table{border-collapse:collapse}td,th{padding:.2em .6em;border-bottom:1px solid #ddd;
text-align:left;vertical-align:top}"""


def feedback_html(result: dict[str, Any], assignment: str) -> str:
    e = html.escape
    parts = [f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
             f"<title>{e(assignment)}: feedback for {e(result['student'])}</title>"
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>{e(assignment)}</h1><p>Feedback for <b>{e(result['student'])}</b>: "
             f"<b>{_points(result['total'])} / {_points(result['max_total'])}</b> points.</p>"]
    if result["status"] != "graded" or result.get("notes"):
        parts.append("<h2>About your notebook</h2><ul>")
        parts += [f"<li>{e(note)}</li>" for note in result.get("notes", [])]
        parts.append("</ul>")
    for fn in result.get("functions", []):
        ok = fn["earned"] >= fn["points"]
        parts.append(f"<h2 class='{'pass' if ok else 'fail'}'>{e(fn['name'])}: "
                     f"{_points(fn['earned'])} / {_points(fn['points'])}</h2>")
        parts.append("<table><tr><th></th><th>case</th><th>what happened</th></tr>")
        for case in fn["cases"]:
            mark = "<span class='pass'>passed</span>" if case["passed"] else \
                "<span class='fail'>failed</span>"
            hint = f"<div class='hint'>Hint: {e(case['hint'])}</div>" if case["hint"] else ""
            parts.append(f"<tr><td>{mark}</td><td>{e(case['case'])}</td>"
                         f"<td>{e(case['message'])}{hint}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


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
