"""The pages: learners' feedback and the teacher's report, from Jinja2 templates in
``templates/`` (package data) with autoescaping on, so every learner-supplied name,
message and line of code is escaped by the engine, never by hand."""
from __future__ import annotations

import statistics
from datetime import UTC, datetime
from typing import Any

import jinja2

from . import plots
from .similarity import Pair
from .stats import ClassStats, PartStats, parts_of

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("dlcore.grading.course", "templates"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False)


def points(value: float) -> str:
    return f"{round(float(value), 2):g}"


_ENV.globals.update(points=points)


def _as_attrs(part: dict[str, Any]) -> dict[str, Any]:
    out = {"earned_by": [], "notes": [], "outcomes": []}
    out.update(part)
    out["outcomes"] = [dict({"hint": "", "message": "", "case": ""}, **o)
                       for o in part.get("outcomes", [])]
    return out


def feedback_page(row: dict[str, Any], assignment: str) -> str:
    """One learner's feedback: points, lateness, overrides, notes, each part's cases
    (a part the teacher overrode shows the teacher's points and says so)."""
    full = {"late": None, "overrides": [], "raw_total": row.get("total", 0.0)}
    full.update(row)
    changed = {o["part"]: o for o in full["overrides"]}
    parts = []
    for part in parts_of(row):
        shown = _as_attrs(part)
        if shown.get("grade_id") in changed:
            o = changed[shown["grade_id"]]
            shown["earned"] = o["points"]
            shown["notes"] = [f"Your teacher changed these points from {points(o['was'])} "
                              f"to {points(o['points'])}"
                              + (f": {o['comment']}" if o["comment"] else ".")] + shown["notes"]
        parts.append(shown)
    return _ENV.get_template("feedback.html.j2").render(
        row=full, assignment=assignment, notes=row.get("notes", []), parts=parts)


def report_page(assignment: str, seed: int | None, rows: list[dict[str, Any]],
                cls: ClassStats, parts: list[PartStats], pairs: list[Pair],
                unmatched: list[str]) -> str:
    """The teacher's one-page report (figures embedded, no server needed)."""
    figures = {"scores": plots.score_histogram(cls.totals, cls.max_total) if cls.totals else "",
               "parts": plots.part_bars([p.name for p in parts], [p.full for p in parts],
                                        [p.partial for p in parts], [p.zero for p in parts])
               if parts and cls.totals else "",
               "time": plots.time_histogram(cls.seconds) if cls.seconds else ""}
    unusual = [r for r in rows if r["status"] != "graded"]
    return _ENV.get_template("report.html.j2").render(
        assignment=assignment, seed=seed, cls=cls, parts=parts, plots=figures,
        suspects=[p for p in pairs if p.stands_out][:15], unusual=unusual,
        unmatched=unmatched,
        median_seconds=statistics.median(cls.seconds) if cls.seconds else 0.0,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
