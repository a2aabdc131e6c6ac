"""Grade one submission: a pure function of (notebook, assignment, hidden seed, student).

``grade`` goes, in this order:

1. **read** the notebook defensively (``reader.read_notebook``);
2. **plan** the cells from the teacher's copy (``reader.plan_cells``): the teacher's
   cells, the learner's answer cells (by ``grade_id``, or by the function they define
   when the metadata is gone), the learner's own helper definitions;
3. **static checks**, on the cells' text, never run: refused engine shortcuts
   (``Spec.shortcuts``: that part earns nothing, with the in-notebook check's message)
   and suspect code (flags for the teacher);
4. **run** the plan in sandboxed workers (``run_phases``): each cell and each part's
   cases is a phase with its own time (``--timeout``); when a phase runs out or kills
   its worker, a new worker runs the plan again without it (and without the parts
   already answered), so one loop costs one part, and a loop in a teacher's ungraded
   cell costs none;
5. **judge** each part in this process, on plain data, with the in-notebook check's
   core (``Spec.judge``, ``verdict.verdict``).

It returns a typed ``Result`` (``result.py``); ``grade_submission`` gives its plain
dict, which the journal stores as it is, so the same function can run on another
machine (a Dask worker) given the same ``Assignment``.
"""
from __future__ import annotations

import ast
import difflib
import hashlib
import re
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from ..spec import Case, LearnerError, Spec, encode_case
from ..verdict import Kind, Outcome, verdict
from .compare import judge_part
from .discover import Submission
from .reader import NotebookError, Plan, plan_cells, read_notebook
from .result import GRADER_FLAGS, Flag, FlagKind, PartResult, PartStatus, Result, Status
from .sandbox import Sandbox, WorkerRun


@dataclass
class Assignment:
    """Everything the grading of one submission needs from the teacher's side.
    ``timeout`` is the time of each phase (a cell, or a part's cases), in seconds."""

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

    def job(self, plan: Plan, skip: set[int] | None = None) -> dict[str, Any]:
        return {"assignment": self.name, "specs_module": self.specs_module,
                "cells": [{"source": c.source, "grade_id": c.grade_id} for c in plan.cells],
                "cases": [(gid, [encode_case(c) for c in cs]) for gid, cs in self.cases.items()],
                "skip": sorted(skip or ())}


# -- 3. static checks ------------------------------------------------------------------
# What an answer cell has no honest reason to touch: the checker's own code (its
# references run in the worker's memory too), the interpreter's insides, raw memory.
SUSPECT = re.compile(r"\bdlcore\.grading\b|\bget_spec\b|\bspecs_for\b|\.reference\b"
                     r"|\bgc\.get_objects\b|\bsys\.modules\b|\b__import__\b|\bimportlib\b"
                     r"|\bctypes\b|/proc/|\bsolutions/")


def suspect_code(plan: Plan) -> list[Flag]:
    """For the teacher: answer cells that reach for what a solution never needs. A flag
    changes no points (a determined learner can hide it); it says where to read."""
    out = []
    for cell in plan.cells:
        if cell.origin in ("learner", "helper"):
            found = sorted(set(m.group(0) for m in SUSPECT.finditer(cell.source)))
            if found:
                label = f"cell '{cell.grade_id}'" if cell.grade_id else "a cell you added"
                out.append(Flag(FlagKind.SUSPECT, f"{label} uses {', '.join(found)}; "
                                "read it before trusting its points"))
    return out


def flags(plan: Plan) -> list[str]:
    """``suspect_code`` as the reason's words ("flag: ...")."""
    return [f.text() for f in suspect_code(plan)]


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


# -- 4. run ----------------------------------------------------------------------------
@dataclass
class Stop:
    """A phase that ended its worker: it ran out of time, or the worker died in it."""

    phase: int
    status: Status
    words: str          # "ran out of time (5 s)", "crashed Python (segmentation fault)"
    where: str = ""     # "at line 3 of your answer for part 'f': `while True:`"


@dataclass
class Runs:
    """Every worker run of one submission, and what the grader made of them."""

    runs: list[WorkerRun] = field(default_factory=list)
    skipped_by: list[set[int]] = field(default_factory=list)
    stops: list[Stop] = field(default_factory=list)
    out_of_time: bool = False  # the submission's total time ran out
    failed_to_start: str = ""


def run_phases(plan: Plan, assignment: Assignment, sandbox: Sandbox) -> Runs:
    """Run the plan; after a phase that stopped its worker, again without that phase
    and without the parts answered so far. At most one run per phase, and the whole
    submission within ``timeout x (phases + 1)``."""
    n_cells = len(plan.cells)
    phases = n_cells + len(assignment.specs)
    total = assignment.timeout * (phases + 1)
    out, skip, spent = Runs(), set(), 0.0
    while True:
        run = sandbox.run(assignment.job(plan, skip), total=max(total - spent, 1.0))
        out.runs.append(run)
        out.skipped_by.append(set(skip))
        spent += run.seconds
        kinds = [e.get("event") for e in run.events]
        if "ready" not in kinds[:1]:
            out.failed_to_start = run.output_tail[-300:]
            return out
        if run.done or run.too_much:
            return out
        stop = _stop(run, plan, assignment)
        if stop is None or stop.phase in skip:
            return out
        out.stops.append(stop)
        skip.add(stop.phase)
        skip |= {n_cells + j for j, spec in enumerate(assignment.specs)
                 if _answered(run, spec, len(assignment.cases[spec.grade_id]))}
        if all(n_cells + j in skip for j in range(len(assignment.specs))):
            return out  # every part answered or left out: nothing more to run
        if spent >= total - 0.5 or len(out.runs) > phases:
            out.out_of_time = True
            return out


def _answered(run: WorkerRun, spec: Spec, n: int) -> bool:
    done = {e.get("case") for e in run.events
            if e.get("event") == "result" and e.get("grade_id") == spec.grade_id}
    return all(k in done for k in range(n))


def _stop(run: WorkerRun, plan: Plan, assignment: Assignment) -> Stop | None:
    """How a worker that never said ``done`` ended, and in which phase."""
    if run.phase is None:
        return None  # before any learner code: nothing to leave out
    where = _where_in_trace(run.trace, plan, run.phase) if run.timed_out else ""
    if run.timed_out:
        return Stop(run.phase, Status.TIMEOUT,
                    f"ran out of its time ({assignment.timeout:g} s)", where)
    code = run.returncode or 0
    if code < 0:
        sig = -code
        name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
        words = {signal.SIGSEGV: "crashed Python (segmentation fault)",
                 signal.SIGXCPU: "used up its CPU time",
                 signal.SIGXFSZ: "wrote too much output",
                 signal.SIGKILL: "was killed (CPU time or memory used up, or it killed "
                                 "itself)"}.get(sig, f"was ended by signal {name}")
    else:
        words = f"ended the worker early (exit status {code}, e.g. os._exit)"
    return Stop(run.phase, Status.CRASHED, words)


TRACE_LINE = re.compile(r'File "<cell (\d+)>", line (\d+) in (\S+)')


def _where_in_trace(trace: str, plan: Plan, phase: int) -> str:
    """The innermost line of the notebook's code in the stack ``faulthandler`` wrote
    before the phase was ended: "at line 3 in `f` of your answer for part 'f': `x += 1`"
    ("at line 3: ..." when that is the phase's own cell)."""
    for found in TRACE_LINE.finditer(trace[:20000]):
        index, line, function = int(found[1]), int(found[2]), found[3]
        if not 0 <= index < len(plan.cells):
            continue
        cell = plan.cells[index]
        lines = cell.source.splitlines()
        code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        inside = f" in `{function}`" if function != "<module>" else ""
        of = "" if index == phase else f" of {cell_label(plan, index)}"
        return f"at line {line}{inside}{of}" + \
            (f": `{code[:120]}`" if code else "")
    return ""


def cell_label(plan: Plan, index: int) -> str:
    """A cell named by part, for the learner ("your answer for part 'f'", "the ungraded
    cell before part 'g'"), never by the teacher's cell numbers."""
    cell = plan.cells[index]
    if cell.origin == "learner":
        return f"your answer for part '{_part_id(cell.grade_id)}'"
    if cell.origin == "helper":
        return "a cell you added"
    after = next((c for c in plan.cells[index + 1:] if c.origin == "learner"), None)
    if after is not None:
        return f"the ungraded cell before part '{_part_id(after.grade_id)}'"
    return "an ungraded cell after the last part"


def _part_id(answer_id: str | None) -> str:
    return (answer_id or "").removesuffix("_answer")


def phase_label(plan: Plan, phase: int, specs: list[Spec]) -> str:
    if phase < len(plan.cells):
        return cell_label(plan, phase)
    return f"the hidden cases of part '{specs[phase - len(plan.cells)].grade_id}'"


# -- 5. judge --------------------------------------------------------------------------
def grade(sub: Submission, assignment: Assignment, sandbox: Sandbox) -> Result:
    """The typed result of one submission; never raises for a bad submission."""
    start = time.monotonic()
    specs = assignment.specs
    if sub.path is None:
        return empty(sub, assignment, Status.MISSING, sub.problem)
    try:  # 1. read, 2. plan
        plan = plan_cells(assignment.teacher, read_notebook(sub.path),
                          {s.answer_id: s.name for s in specs})
    except NotebookError as err:
        return empty(sub, assignment, Status.UNREADABLE, str(err))
    refused = refusals(plan, specs)  # 3. static checks
    found_flags = suspect_code(plan)
    runs = run_phases(plan, assignment, sandbox)  # 4. run
    if runs.failed_to_start:
        result = empty(sub, assignment, Status.ERROR,
                       "the grader's worker failed to start: " + runs.failed_to_start)
        result.runs, result.seconds = len(runs.runs), time.monotonic() - start
        return result
    parts, notes = _judge_parts(plan, assignment, runs, refused)  # 5. judge
    found_flags += _sandbox_flags(runs)
    mine, teachers = _cell_errors(runs, plan)
    stopped = [f"{phase_label(plan, s.phase, specs)} {s.words}"
               + (f" {s.where}" if s.where else "")
               + ("; it was left out and the rest graded without it"
                  if s.phase < len(plan.cells) else "") for s in runs.stops]
    if runs.out_of_time:
        stopped.append("the notebook used up its total time "
                       f"({assignment.timeout:g} s a phase); what was left is not graded")
    status = runs.stops[0].status if runs.stops else Status.GRADED
    if runs.runs[-1].too_much:
        status = Status.CRASHED
        stopped.append("sent back far too much data; what came after is not graded")
    failures = _failures([p for p in parts if p.grade_id not in refused])
    renamed = [n for p in parts for n in p.notes if n.startswith("found `")]
    reasons = stopped + list(refused.values()) + [f.text() for f in found_flags] + \
        renamed + failures + plan.notes + mine
    return Result(sub.student, status, "; ".join(reasons[:8]) or "all tests passed", parts,
                  assignment.max_total, stopped + plan.notes + notes + mine, teachers,
                  found_flags, time.monotonic() - start, len(runs.runs))


def _judge_parts(plan: Plan, assignment: Assignment, runs: Runs,
                 refused: dict[str, str]) -> tuple[list[PartResult], list[str]]:
    n_cells = len(plan.cells)
    stops = {s.phase: s for s in runs.stops}
    answer_cell = {c.grade_id: i for i, c in enumerate(plan.cells) if c.origin == "learner"}
    defined = _learner_definitions(plan)
    other_names = {s.name for s in assignment.specs}
    parts, notes = [], []
    for j, spec in enumerate(assignment.specs):
        phase = n_cells + j
        part_notes = list(plan.part_notes.get(spec.grade_id, []))
        if spec.grade_id in refused:
            parts.append(PartResult.from_verdict(verdict(spec, [], refused[spec.grade_id]),
                                                 part_notes))
            continue
        cell_stop = stops.get(answer_cell.get(spec.answer_id, -1))
        run = _run_of(runs, phase)
        case_stop = stops.get(phase)
        if cell_stop is not None:  # its own answer cell never finished: left out
            why = f"your answer cell {cell_stop.words}" + \
                (f" {cell_stop.where}" if cell_stop.where else "")
            kind = Kind.TIMEOUT if cell_stop.status is Status.TIMEOUT else Kind.NO_ANSWER
            outcomes = [Outcome(c.label, False, why, kind=kind)
                        for c in assignment.cases[spec.grade_id]]
            parts.append(PartResult.from_verdict(
                verdict(spec, outcomes), part_notes,
                PartStatus.TIMEOUT if kind is Kind.TIMEOUT else PartStatus.CRASHED))
            continue
        if case_stop is not None:
            unanswered = f"not graded: its cases {case_stop.words}" + \
                (f" {case_stop.where}" if case_stop.where else "")
            kind = Kind.TIMEOUT if case_stop.status is Status.TIMEOUT else Kind.NO_ANSWER
        elif runs.out_of_time or run is None or not run.done:
            unanswered = "not graded: the notebook stopped before this part"
            kind = Kind.NO_ANSWER
        else:
            unanswered, kind = "no answer came back", Kind.NO_ANSWER
        v = judge_part(spec, assignment.cases[spec.grade_id],
                       assignment.expected[spec.grade_id], run.events if run else [],
                       unanswered, kind, lambda e: _place(plan, e))
        if Kind.MISSING in v.kinds:
            part_notes += _renamed(spec, defined, other_names)
        stopped = None
        if case_stop is not None:
            stopped = PartStatus.TIMEOUT if kind is Kind.TIMEOUT else PartStatus.CRASHED
            if v.earned > 0:
                stopped = PartStatus.PARTIAL
        parts.append(PartResult.from_verdict(v, part_notes, stopped))
    return parts, notes


def _run_of(runs: Runs, phase: int) -> WorkerRun | None:
    """The run whose answers count for a part: the last one that did not skip it."""
    for run, skipped in zip(reversed(runs.runs), reversed(runs.skipped_by), strict=True):
        if phase not in skipped:
            return run
    return None


def _place(plan: Plan, error: LearnerError) -> str:
    if error.cell is not None and 0 <= error.cell < len(plan.cells):
        return cell_label(plan, error.cell)
    return ""


def _learner_definitions(plan: Plan) -> list[str]:
    names = []
    for cell in plan.cells:
        if cell.origin in ("learner", "helper"):
            try:
                tree = ast.parse(cell.source)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            names += [n.name for n in tree.body if isinstance(
                n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return names


def _renamed(spec: Spec, defined: list[str], taken: set[str]) -> list[str]:
    """'found `relu_backwards`; the task asks for `relu_backward`' for a close name."""
    candidates = [n for n in dict.fromkeys(defined) if n not in taken]
    close = difflib.get_close_matches(spec.name, candidates, n=1, cutoff=0.75)
    if not close:
        lowered = [n for n in candidates if n.lower() == spec.name.lower()]
        close = lowered[:1]
    if not close:
        return []
    return [f"found `{close[0]}`; the task asks for `{spec.name}` (the name is part of "
            "the task: the grader calls the function by it)"]


def _sandbox_flags(runs: Runs) -> list[Flag]:
    """What the sandbox stopped (the worker's audit lines) or saw (leftover processes).
    The audit lines come from the learner's process: only known kinds, short details."""
    out: list[Flag] = []
    seen = set()
    for run in runs.runs:
        for event in run.events:
            if event.get("event") != "audit" or not isinstance(event.get("detail"), str):
                continue
            try:
                kind = FlagKind(event.get("kind"))
            except ValueError:
                continue
            key = (kind, event["detail"][:200])
            if kind not in GRADER_FLAGS and key not in seen and len(seen) < 10:
                seen.add(key)
                out.append(Flag(kind, event["detail"][:200]))
        if run.leftovers:
            out.append(Flag(FlagKind.DAEMON, f"left {len(run.leftovers)} process"
                            f"{'es' if len(run.leftovers) > 1 else ''} running after its "
                            f"code finished (a daemon?): {', '.join(run.leftovers[:3])}"))
    return out


def _failures(parts: list[PartResult]) -> list[str]:
    """'not implemented: a, b' and 'failed: c', for the teacher."""
    todo = [p.grade_id for p in parts if p.status is PartStatus.NOT_IMPLEMENTED]
    failed = [p.grade_id for p in parts if p.earned < p.points and p.grade_id not in todo]
    return ([f"not implemented: {', '.join(todo)}"] if todo else []) + \
        ([f"failed: {', '.join(failed)}"] if failed else [])


def _cell_errors(runs: Runs, plan: Plan) -> tuple[list[str], list[str]]:
    """What went wrong in the learner's cells (for the learner), and in the teacher's
    ungraded cells, which fail when they call a learner function that is broken (for
    the teacher; the learner's parts say it their own way)."""
    mine: list[str] = []
    teachers: list[str] = []
    seen = set()
    for run in runs.runs:
        for event in run.events:
            if event.get("event") != "cell_error" or type(event.get("index")) is not int:
                continue
            index = event["index"]
            if not 0 <= index < len(plan.cells) or not isinstance(event.get("error"), dict) \
                    or index in seen:
                continue
            seen.add(index)
            cell = plan.cells[index]
            try:
                error = LearnerError.from_plain(event["error"])
            except ValueError:
                continue
            at = f" at line {error.line}" if error.line is not None else ""
            label = cell_label(plan, index)
            notes = teachers if cell.origin == "teacher" else mine
            if error.type == "SystemExit":
                notes.append(f"{label} called sys.exit(); the rest of that cell did not run")
            else:
                notes.append(f"{label} raised {error.type}{at}"
                             + (f": {error.message[:300]}" if error.message else ""))
    return mine[:10], teachers[:10]


# -- the plain forms -------------------------------------------------------------------
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


def empty(sub: Submission, assignment: Assignment, status: Status | str,
          reason: str) -> Result:
    """Zero everywhere: the submission could not be run at all."""
    parts = [PartResult(s.grade_id, s.name, float(s.points), 0.0, PartStatus.NOT_RUN,
                        s.credit.value) for s in assignment.specs]
    return Result(sub.student, Status(status), reason, parts, assignment.max_total, [reason])


def empty_result(sub: Submission, assignment: Assignment, status: str,
                 reason: str) -> dict[str, Any]:
    """``empty(...)`` as the journal's plain dict."""
    return empty(sub, assignment, status, reason).to_dict()


def grade_submission(sub: Submission, assignment: Assignment,
                     sandbox: Sandbox) -> dict[str, Any]:
    """``grade(...)`` as the journal's plain dict (``Result.to_dict``)."""
    return grade(sub, assignment, sandbox).to_dict()
