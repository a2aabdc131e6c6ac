"""The typed result of grading one submission, and its plain (JSON) form.

``grade_submission`` returns a ``Result``; the journal stores ``Result.to_dict()`` and
the gradebook, the feedback pages and the class report read it back. The dict keeps
the keys the first gradebook and feedback used (``student``, ``status``, ``reason``,
``scores``, ``total``, ``max_total``, ``functions``, ``notes``) beside the typed ones
(``parts``, ``flags``, ``teacher_notes``, ``seconds``, ``runs``), so a journal written
before this file still reads (``Result.from_dict`` fills what it lacks).

Statuses of a submission (``Status``): ``graded`` (everything ran), ``timeout`` (a cell
or part ran out of its time; the other parts' points stand), ``crashed`` (the worker
died in a cell or part; the other parts' points stand), ``unreadable``, ``missing``,
``error`` (the grader's own fault). Statuses of a part (``PartStatus``) say the same for
one part, from its outcomes.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from ..verdict import Kind, Outcome, Verdict

RESULT_VERSION = 2


class Status(enum.StrEnum):
    GRADED = "graded"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    UNREADABLE = "unreadable"
    MISSING = "missing"
    ERROR = "error"


class PartStatus(enum.StrEnum):
    PASSED = "passed"                    # every case right: full points
    PARTIAL = "partial"                  # some of the points (Credit per case / output)
    FAILED = "failed"                    # answers came back, not right enough to earn
    NOT_IMPLEMENTED = "not implemented"  # the stub, untouched
    MISSING = "missing"                  # no function of that name (see the part's notes)
    REFUSED = "refused"                  # uses an engine shortcut the part declares
    TIMEOUT = "timeout"                  # its answer cell or its cases ran out of time
    CRASHED = "crashed"                  # the worker died in its cell or its cases
    NOT_RUN = "not run"                  # the submission could not be run at all


class FlagKind(enum.StrEnum):
    NETWORK = "network"      # tried to connect, send or look up a host name
    SIGNAL = "signal"        # signalled or killed a process outside its worker
    DAEMON = "daemon"        # left a process running when its code had finished
    WRITE = "write"          # wrote (or removed, renamed...) outside its scratch folder
    SUSPECT = "suspect code"  # an answer cell reaches for the checker's insides
    ISOLATION = "isolation"  # graded on a Dask worker whose sandbox isolates less than
    #                          the grading client's machine (``cluster.py``)


#: Kinds only the grader gives; a worker's audit line claiming one is ignored.
GRADER_FLAGS = frozenset({FlagKind.SUSPECT, FlagKind.ISOLATION})


@dataclass
class Flag:
    """Something the sandbox stopped or saw, for the teacher; it changes no points."""

    kind: FlagKind
    detail: str

    def text(self) -> str:
        return f"flag: {self.detail}"

    def to_plain(self) -> dict[str, Any]:
        return {"kind": FlagKind(self.kind).value, "detail": self.detail}


@dataclass
class PartResult:
    """One graded part of one submission."""

    grade_id: str
    name: str
    points: float
    earned: float
    status: PartStatus
    credit: str
    outcomes: list[Outcome] = field(default_factory=list)
    earned_by: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_verdict(cls, v: Verdict, notes: list[str] | None = None,
                     stopped: PartStatus | None = None) -> PartResult:
        return cls(v.grade_id, v.name, v.points, v.earned,
                   stopped or part_status(v), v.credit.value, v.outcomes, v.earned_by,
                   list(notes or []))

    def to_plain(self) -> dict[str, Any]:
        return {"grade_id": self.grade_id, "name": self.name, "points": self.points,
                "earned": self.earned, "status": PartStatus(self.status).value,
                "credit": self.credit, "outcomes": [o.to_plain() for o in self.outcomes],
                "earned_by": list(self.earned_by), "notes": list(self.notes)}

    @classmethod
    def from_plain(cls, d: dict[str, Any]) -> PartResult:
        return cls(d["grade_id"], d["name"], float(d["points"]), float(d["earned"]),
                   PartStatus(d["status"]), d.get("credit", "all or nothing"),
                   [Outcome.from_plain(o) for o in d.get("outcomes", [])],
                   list(d.get("earned_by", [])), list(d.get("notes", [])))


def part_status(v: Verdict) -> PartStatus:
    kinds = v.kinds
    if v.refusal:
        return PartStatus.REFUSED
    if v.earned >= v.points and v.passed:
        return PartStatus.PASSED
    if v.earned > 0:
        return PartStatus.PARTIAL
    if kinds == {Kind.NOT_IMPLEMENTED}:
        return PartStatus.NOT_IMPLEMENTED
    if kinds == {Kind.MISSING}:
        return PartStatus.MISSING
    if Kind.TIMEOUT in kinds:
        return PartStatus.TIMEOUT
    return PartStatus.FAILED


@dataclass
class Result:
    """One submission graded. ``reason`` is the gradebook's one line for the teacher
    (flags included); ``notes`` are for the learner's feedback; ``teacher_notes`` are
    for the teacher only (say, the teacher's own cells that failed)."""

    student: str
    status: Status
    reason: str
    parts: list[PartResult]
    max_total: float
    notes: list[str] = field(default_factory=list)
    teacher_notes: list[str] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    seconds: float = 0.0
    runs: int = 0

    @property
    def total(self) -> float:
        return round(sum(p.earned for p in self.parts), 2)

    @property
    def scores(self) -> dict[str, float]:
        return {p.grade_id: p.earned for p in self.parts}

    def to_dict(self) -> dict[str, Any]:
        return {"version": RESULT_VERSION, "student": self.student,
                "status": Status(self.status).value, "reason": self.reason,
                "scores": self.scores, "total": self.total, "max_total": self.max_total,
                "functions": [_legacy_function(p) for p in self.parts],
                "notes": list(self.notes), "teacher_notes": list(self.teacher_notes),
                "parts": [p.to_plain() for p in self.parts],
                "flags": [f.to_plain() for f in self.flags],
                "seconds": round(self.seconds, 3), "runs": self.runs}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Result:
        """From ``to_dict`` (or a first-version dict, which has ``functions`` only)."""
        if "parts" in d:
            parts = [PartResult.from_plain(p) for p in d["parts"]]
        else:
            parts = [PartResult(f["grade_id"], f["name"], float(f["points"]),
                                float(f["earned"]),
                                PartStatus.PASSED if f["earned"] >= f["points"] else
                                PartStatus.FAILED, "all or nothing",
                                [Outcome.from_plain(c) for c in f.get("cases", [])])
                     for f in d.get("functions", [])]
            missing = set(d.get("scores", {})) - {p.grade_id for p in parts}
            parts += [PartResult(g, g, 0.0, 0.0, PartStatus.NOT_RUN, "all or nothing")
                      for g in sorted(missing)]
        return cls(d["student"], Status(d["status"]), d["reason"], parts,
                   float(d["max_total"]), list(d.get("notes", [])),
                   list(d.get("teacher_notes", [])),
                   [Flag(FlagKind(f["kind"]), f["detail"]) for f in d.get("flags", [])],
                   float(d.get("seconds", 0.0)), int(d.get("runs", 0)))


def _legacy_function(p: PartResult) -> dict[str, Any]:
    return {"grade_id": p.grade_id, "name": p.name, "points": p.points,
            "earned": p.earned,
            "cases": [{"case": o.case, "passed": o.passed, "message": o.message,
                       "hint": o.hint, "kind": o.kind.value} for o in p.outcomes]}
