"""The teacher's side of a run: ``OUT/parts.csv``, ``OUT/similarity.csv`` and
``OUT/report.html``, each written atomically from the gradebook rows and the learners'
answer cells (read as text with the grader's defensive reader, never run)."""
from __future__ import annotations

import csv
import io
import os
import re
from typing import Any

from ..autograder.discover import Submission
from ..autograder.reader import NotebookError, plan_cells, read_notebook
from ..autograder.report import write_atomic
from .pages import report_page
from .similarity import Pair, compare_class
from .stats import class_stats, part_stats, parts_csv, parts_of


def answer_cells(subs: list[Submission], teacher: dict[str, Any],
                 specs: list[Any]) -> dict[str, dict[str, str]]:
    """{student: {grade_id: the learner's answer cell}} for every readable notebook."""
    part_of = {s.answer_id: s.grade_id for s in specs}
    out: dict[str, dict[str, str]] = {}
    for sub in subs:
        if sub.path is None:
            continue
        try:
            plan = plan_cells(teacher, read_notebook(sub.path))
        except NotebookError:
            continue
        out[sub.student] = {part_of[c.grade_id]: c.source for c in plan.cells
                            if c.origin == "learner" and c.grade_id in part_of}
    return out


def handed_out(source: str) -> str:
    """A teacher's answer cell without its solution blocks: what the learner was given
    (``exercises/`` has a ``raise NotImplementedError`` line in each block's place). Not
    ``dlcore.grading.generate``, whose nbformat import costs seconds."""
    out, inside = [], False
    for line in source.split("\n"):
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def stubs_and_names(teacher: dict[str, Any], specs: list[Any]) -> tuple[dict[str, str],
                                                                       frozenset[str]]:
    """The handed-out answer cells and the names the task itself defines (which every
    learner uses)."""
    part_of = {s.answer_id: s.grade_id for s in specs}
    stubs: dict[str, str] = {}
    names = {s.name for s in specs}
    for cell in teacher["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in part_of:
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            stubs[part_of[grade_id]] = handed_out(source)
            names.update(re.findall(r"\b(?:def|class)\s+(\w+)", source))
    return stubs, frozenset(names)


def wrong_results(rows: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """{student: {grade_id: the messages of its failed cases}} for parts that ran and
    came out wrong (not the unanswered, unimplemented or timed-out ones)."""
    skip = {"not implemented", "missing", "timeout", "no answer", "unreadable", "refused",
            "checker error"}
    out: dict[str, dict[str, str]] = {}
    for row in rows:
        for part in parts_of(row):
            failed = [o for o in part.get("outcomes", []) if not o.get("passed")]
            if not failed or any(o.get("kind") in skip for o in failed):
                continue
            if any(str(o.get("message", "")).startswith("not implemented") for o in failed):
                continue
            out.setdefault(row["student"], {})[part["grade_id"]] = " | ".join(
                f"{o.get('case', '')}: {o.get('message', '')}"
                + (f" Hint: {o['hint']}" if o.get("hint") else "") for o in failed)
    return out


def similarity_csv(pairs: list[Pair], limit: int = 1000) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["rank", "student_a", "student_b", "score", "z", "stands_out",
                     "parts", "same_wrong_results"])
    for rank, p in enumerate(pairs[:limit], 1):
        parts = "; ".join(f"{e.part} {100 * e.similarity:.0f}% alike" for e in
                          sorted(p.parts, key=lambda e: -e.surprise) if e.similarity > 0)
        wrong = "; ".join(e.part for e in p.parts if e.same_wrong)
        writer.writerow([rank, _text(p.a), _text(p.b), f"{p.score:.2f}", f"{p.z:.2f}",
                         "yes" if p.stands_out else "no", parts, wrong])
    return buffer.getvalue()


def _text(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def write_class_report(out_dir: str, assignment: str, seed: int | None,
                       rows: list[dict[str, Any]], subs: list[Submission],
                       specs: list[Any], teacher: dict[str, Any],
                       unmatched: list[str]) -> list[Pair]:
    parts = part_stats(rows, specs)
    cls = class_stats(rows, float(sum(s.points for s in specs)))
    stubs, names = stubs_and_names(teacher, specs)
    pairs = compare_class(answer_cells(subs, teacher, specs), stubs, wrong_results(rows),
                          keep=names)
    write_atomic(os.path.join(out_dir, "parts.csv"), parts_csv(parts))
    write_atomic(os.path.join(out_dir, "similarity.csv"), similarity_csv(pairs))
    write_atomic(os.path.join(out_dir, "report.html"),
                 report_page(assignment, seed, rows, cls, parts, pairs, unmatched))
    return pairs
