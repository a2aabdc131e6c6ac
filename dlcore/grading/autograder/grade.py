"""Grade one submission: a function of (submission, assignment), returning plain data.

``grade_submission`` reads the notebook, plans the cells from the teacher's copy, hands
them with the hidden cases to a sandboxed worker, and judges the answers. A part whose
answer cell uses an engine shortcut its spec declares (``nn.Linear`` where the part asks
for ``X @ W.T + b``) earns nothing, with the message the in-notebook check gives, read
from the cell's text (``refusals``). Its result is
a plain dict (JSON-able: it goes into the journal as it is), so the same function could
run on another machine (a Dask worker) given the same ``Assignment``.
"""
from __future__ import annotations

import hashlib
import re
import signal
from dataclasses import dataclass
from typing import Any

from ..spec import Case, Outcome, Spec, encode_case
from .compare import Graded, judge
from .discover import Submission
from .reader import NotebookError, Plan, plan_cells, read_notebook
from .sandbox import Sandbox, WorkerRun


@dataclass
class Assignment:
    """Everything the grading of one submission needs from the teacher's side."""

    name: str
    specs: list[Spec]
    specs_module: str
    teacher: dict[str, Any]
    cases: dict[str, list[Case]]
    expected: dict[str, list[Any]]
    timeout: float

    @classmethod
    def build(cls, name: str, specs: list[Spec], specs_module: str,
              teacher: dict[str, Any], seed: int, timeout: float) -> Assignment:
        cases = {s.grade_id: s.cases([seed]) for s in specs}
        expected = {s.grade_id: [s.reference(c) for c in cases[s.grade_id]] for s in specs}
        return cls(name, specs, specs_module, teacher, cases, expected, timeout)

    @property
    def max_total(self) -> float:
        return float(sum(s.points for s in self.specs))

    def job(self, plan: Plan) -> dict[str, Any]:
        return {"assignment": self.name, "specs_module": self.specs_module,
                "cells": [{"source": c.source, "grade_id": c.grade_id} for c in plan.cells],
                "cases": [(gid, [encode_case(c) for c in cs]) for gid, cs in self.cases.items()]}


# What an answer cell has no honest reason to touch: the checker's own code (its
# references run in the worker's memory too), the interpreter's insides, raw memory.
SUSPECT = re.compile(r"\bdlcore\.grading\b|\bget_spec\b|\bspecs_for\b|\.reference\b"
                     r"|\bgc\.get_objects\b|\bsys\.modules\b|\b__import__\b|\bimportlib\b"
                     r"|\bctypes\b|/proc/|\bsolutions/")


def flags(plan: Plan) -> list[str]:
    """For the teacher: answer cells that reach for what a solution never needs. A flag
    changes no points (a determined learner can hide it); it says where to read."""
    out = []
    for cell in plan.cells:
        if cell.origin == "learner":
            found = sorted(set(m.group(0) for m in SUSPECT.finditer(cell.source)))
            if found:
                out.append(f"flag: cell '{cell.grade_id}' uses {', '.join(found)}; "
                           "read it before trusting its points")
    return out


SHORTCUT_CASE = "your code"  # as the in-notebook check names it


def refusals(plan: Plan, specs: list[Spec]) -> dict[str, str]:
    """{grade_id: message} for each learner answer cell that uses an engine shortcut its
    spec declares (``Spec.shortcuts``), read from the cell's text, never run: the same
    rule, on the same cell, as the in-notebook check."""
    by_answer = {s.answer_id: s for s in specs if s.shortcuts}
    out = {}
    for cell in plan.cells:
        spec = by_answer.get(cell.grade_id or "")
        if cell.origin == "learner" and spec is not None:
            message = spec.refusal(cell.source)
            if message:
                out[spec.grade_id] = message
    return out


def _refuse(graded: list[Graded], refused: dict[str, str]) -> list[Graded]:
    """Zero, with the message as the one outcome, for each refused part."""
    return [Graded(g.grade_id, g.name, g.points, 0.0,
                   [Outcome(SHORTCUT_CASE, False, refused[g.grade_id])])
            if g.grade_id in refused else g for g in graded]


def digest_of(path: str | None) -> str:
    if path is None:
        return ""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return ""
    return h.hexdigest()


def empty_result(sub: Submission, assignment: Assignment, status: str,
                 reason: str) -> dict[str, Any]:
    """A row with zero everywhere: the submission could not be run at all."""
    return {"student": sub.student, "status": status, "reason": reason,
            "scores": {s.grade_id: 0.0 for s in assignment.specs}, "total": 0.0,
            "max_total": assignment.max_total, "functions": [], "notes": [reason]}


def grade_submission(sub: Submission, assignment: Assignment,
                     sandbox: Sandbox) -> dict[str, Any]:
    """The result (plain data) of one submission; never raises for a bad submission."""
    if sub.path is None:
        return empty_result(sub, assignment, "missing", sub.problem)
    try:
        plan = plan_cells(assignment.teacher, read_notebook(sub.path))
    except NotebookError as err:
        return empty_result(sub, assignment, "unreadable", str(err))
    run = sandbox.run(assignment.job(plan))
    status, problem, where = _how_it_ended(run, plan, assignment)
    unanswered = f"not graded: {problem}" if problem else "no answer came back"
    graded = judge(assignment.specs, assignment.cases, assignment.expected, run.events,
                   unanswered)
    refused = refusals(plan, assignment.specs)
    graded = _refuse(graded, refused)
    mine, teachers = _cell_errors(run, plan)
    stopped = [problem + (f" {where}" if where else "")] if problem else []
    failures = [] if problem else _failures([g for g in graded if g.grade_id not in refused])
    reasons = stopped + list(refused.values()) + flags(plan) + failures + plan.notes + mine
    notes = stopped + plan.notes + mine + teachers
    return _result(sub, assignment, status, graded, notes, "; ".join(reasons[:6]))


def _failures(graded: list[Graded]) -> list[str]:
    """'not implemented: a, b' and 'failed: c', for the teacher."""
    todo = [g.grade_id for g in graded if g.earned < g.points and g.outcomes
            and all(o.message.startswith("not implemented") for o in g.outcomes)]
    failed = [g.grade_id for g in graded if g.earned < g.points and g.grade_id not in todo]
    return ([f"not implemented: {', '.join(todo)}"] if todo else []) + \
        ([f"failed: {', '.join(failed)}"] if failed else [])


def _result(sub: Submission, assignment: Assignment, status: str, graded: list[Graded],
            notes: list[str], reason: str) -> dict[str, Any]:
    return {"student": sub.student, "status": status,
            "reason": reason or "all tests passed",
            "scores": {g.grade_id: g.earned for g in graded},
            "total": sum(g.earned for g in graded), "max_total": assignment.max_total,
            "functions": [{"grade_id": g.grade_id, "name": g.name, "points": g.points,
                           "earned": g.earned,
                           "cases": [{"case": o.case, "passed": o.passed,
                                      "message": o.message, "hint": o.hint}
                                     for o in g.outcomes]} for g in graded],
            "notes": notes}


def _where(run: WorkerRun, plan: Plan) -> str:
    """Where the worker was when it stopped, from its last progress line."""
    for event in reversed(run.events):
        if event.get("event") == "cell" and type(event.get("index")) is int:
            if 0 <= event["index"] < len(plan.cells):
                cell = plan.cells[event["index"]]
                return (f"while running cell '{cell.grade_id}'" if cell.grade_id
                        else f"while running cell {cell.number} of the notebook")
        if event.get("event") in ("case", "result") and isinstance(event.get("grade_id"), str):
            return f"while checking '{event['grade_id'][:80]}'"
    return "before any of its code ran"


def _how_it_ended(run: WorkerRun, plan: Plan, assignment: Assignment) -> tuple[str, str, str]:
    """(status, problem in plain words or "", where it happened)."""
    kinds = [e.get("event") for e in run.events]
    if "ready" not in kinds[:1]:
        return "error", "the grader's worker failed to start: " + run.output_tail[-300:], ""
    if run.timed_out:
        return "timeout", f"stopped after the time limit of {assignment.timeout:g} s", \
            _where(run, plan)
    if run.too_much:
        return "crashed", "sent back far too much data", _where(run, plan)
    if "done" in kinds:
        return "graded", "", ""
    code = run.returncode or 0
    if code < 0:
        sig = -code
        name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
        words = {signal.SIGSEGV: "crashed Python (segmentation fault)",
                 signal.SIGXCPU: "used up its CPU time",
                 signal.SIGXFSZ: "wrote too much output",
                 signal.SIGKILL: "was killed (CPU time or memory used up, or it killed "
                                 "itself)"}.get(sig, f"was ended by signal {name}")
        return "crashed", f"the code {words}", _where(run, plan)
    return "crashed", f"the code ended the worker early (exit status {code}, e.g. " \
                      "os._exit)", _where(run, plan)


def _cell_errors(run: WorkerRun, plan: Plan) -> tuple[list[str], list[str]]:
    """What went wrong in the learner's cells, and in the teacher's (ungraded) cells,
    which fail when they call a learner function that is broken."""
    mine: list[str] = []
    teachers: list[str] = []
    for event in run.events:
        if event.get("event") != "cell_error" or type(event.get("index")) is not int:
            continue
        if not 0 <= event["index"] < len(plan.cells) or not isinstance(event.get("error"), dict):
            continue
        cell, error = plan.cells[event["index"]], event["error"]
        kind = str(error.get("type", "Exception"))[:80]
        message = str(error.get("message", ""))[:300]
        line = error.get("line")
        at = f" at line {line}" if type(line) is int else ""
        if cell.origin == "learner":
            label, notes = f"cell '{cell.grade_id}'", mine
        else:
            label, notes = f"ungraded cell {cell.number} of the notebook", teachers
        if kind == "SystemExit":
            notes.append(f"{label} called sys.exit(); the rest of that cell did not run")
        else:
            notes.append(f"{label} raised {kind}{at}" + (f": {message}" if message else ""))
    return mine[:10], teachers[:10]
