"""Class statistics from the gradebook rows: what the teacher's report and ``parts.csv``
show. Plain functions over plain data (the rows are the grader's results as dicts), so a
test can check every number without a browser.

Per part: how many handed something in, how many earned all its points, some, none; the
mean points; and the mistakes found most often (which hint fired, for how many
learners). For the class: the statuses, the totals, the time each submission took.
"""
from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PartStats:
    grade_id: str
    name: str
    points: float
    handed_in: int = 0  # learners with a notebook (not missing)
    full: int = 0
    partial: int = 0
    zero: int = 0
    mean_points: float = 0.0
    mistakes: list[tuple[str, int]] = field(default_factory=list)  # (what, learners)

    @property
    def pass_rate(self) -> float:
        return self.full / self.handed_in if self.handed_in else 0.0


def parts_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-part records of a result: ``parts`` (typed results) or ``functions``."""
    parts = result.get("parts")
    if isinstance(parts, list) and parts:
        return parts
    return [dict(f, outcomes=f.get("cases", [])) for f in result.get("functions", [])]


def _mistake(outcome: dict[str, Any]) -> str:
    """What went wrong in one failed case, as the teacher would tally it: the hint that
    fired, else the kind of failure."""
    if outcome.get("hint"):
        return f"hint: {outcome['hint']}"
    kind = outcome.get("kind")
    if kind and kind not in ("wrong", "right"):
        return str(kind)
    return "wrong values (no hint matched)"


def part_stats(rows: list[dict[str, Any]], specs: list[Any]) -> list[PartStats]:
    stats = [PartStats(s.grade_id, s.name, float(s.points)) for s in specs]
    by_id = {s.grade_id: s for s in stats}
    earned: dict[str, list[float]] = {s.grade_id: [] for s in stats}
    mistakes: dict[str, Counter[str]] = {s.grade_id: Counter() for s in stats}
    for row in rows:
        if row["status"] == "missing":
            continue
        scores = row.get("scores", {})
        for gid, st in by_id.items():
            got = float(scores.get(gid, 0.0))
            st.handed_in += 1
            earned[gid].append(got)
            if got >= st.points:
                st.full += 1
            elif got > 0:
                st.partial += 1
            else:
                st.zero += 1
        for part in parts_of(row):
            gid = part.get("grade_id")
            if gid in mistakes:
                seen = {_mistake(o) for o in part.get("outcomes", []) if not o.get("passed")}
                mistakes[gid].update(seen)  # once per learner
    for gid, st in by_id.items():
        st.mean_points = statistics.fmean(earned[gid]) if earned[gid] else 0.0
        st.mistakes = mistakes[gid].most_common(5)
    return stats


def parts_csv(stats: list[PartStats]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["grade_id", "name", "points", "handed_in", "full_marks", "partial",
                     "zero", "pass_rate", "mean_points", "top_mistake", "top_mistake_learners"])
    for st in stats:
        top, count = st.mistakes[0] if st.mistakes else ("", 0)
        writer.writerow([st.grade_id, st.name, f"{st.points:g}", st.handed_in, st.full,
                         st.partial, st.zero, f"{st.pass_rate:.3f}", f"{st.mean_points:.3f}",
                         top, count])
    return buffer.getvalue()


@dataclass
class ClassStats:
    learners: int
    statuses: list[tuple[str, int]]
    totals: list[float]
    max_total: float
    mean: float
    median: float
    seconds: list[float]
    late: int
    overridden: int
    flagged: list[tuple[str, str]]  # (student, reason)


def class_stats(rows: list[dict[str, Any]], max_total: float) -> ClassStats:
    handed = [r for r in rows if r["status"] != "missing"]
    totals = [float(r["total"]) for r in handed]
    seconds = [float(r["seconds"]) for r in handed if isinstance(r.get("seconds"), int | float)]
    flagged = [(r["student"], r["reason"]) for r in rows
               if r.get("flags") or "flag:" in str(r.get("reason", ""))]
    return ClassStats(
        learners=len(rows),
        statuses=Counter(r["status"] for r in rows).most_common(),
        totals=totals, max_total=max_total,
        mean=statistics.fmean(totals) if totals else 0.0,
        median=statistics.median(totals) if totals else 0.0,
        seconds=seconds,
        late=sum(1 for r in rows if r.get("course", {}).get("late_by")),
        overridden=sum(1 for r in rows if r.get("course", {}).get("overrides")),
        flagged=flagged)
