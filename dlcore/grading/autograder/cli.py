"""The class autograder's command line::

    python -m dlcore grade SUBMISSIONS --assignment NN_topic --out OUT [--timeout S] [--workers N]
        [--roster FILE] [--due WHEN] [--late-penalty P] [--extensions FILE]
        [--overrides FILE] [--only STUDENT ...] [--seed N]
        [--cluster local[:N] | --scheduler tcp://HOST:PORT | tls://HOST:PORT]

Grades a class: one sandboxed worker per submission, ``--workers`` at a time (a thread
pool, each thread driving one worker process), a progress bar, a journal so a killed
run resumes. Then the course's side (``dlcore.grading.course``): the roster, the late
policy and the teacher's overrides turn results into ``OUT/gradebook.csv`` and
``OUT/feedback/STUDENT.html``; ``OUT/report.html``, ``OUT/parts.csv`` and
``OUT/similarity.csv`` give the class statistics and similar answers; ``OUT/log.jsonl``
records what each run did. With ``--cluster`` or ``--scheduler`` the submissions are
graded as Dask tasks instead (``cluster.py``); everything else is the same, and without
them nothing imports Dask. Every input file is checked before anything is graded.
Nothing outside OUT is written. Exit status 0 when every submission got its row, 2 for a
usage problem (unknown assignment, no teacher's copy, OUT of another assignment or seed,
a bad roster, due date, extension or override, points that disagree; no Dask scheduler
or no worker with the client's versions), 130 after Ctrl-C, 3 when the
sandboxed worker cannot start at all on this machine.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from tqdm import tqdm

from ..course import runlog
from ..course.book import Policy, course_row
from ..course.classreport import write_class_report
from ..course.late import LateError, parse_when, read_extensions, submitted_at
from ..course.overrides import OverrideError, check_students, read_overrides
from ..course.roster import RosterError, match, read_roster
from .discover import Submission, find_submissions
from .grade import Assignment, digest_of, empty_result, grade_submission
from .journal import Journal, JournalError
from .reader import NotebookError, grade_id_of, nbgrader_meta, read_notebook
from .report import write_report
from .sandbox import Limits, Sandbox

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m dlcore grade",
                                description="Grade a class's exercise notebooks.")
    p.add_argument("submissions", help="folder of submissions: STUDENT/ASSIGNMENT/*.ipynb "
                                       "(nbgrader), STUDENT.ipynb or STUDENT/*.ipynb")
    p.add_argument("--assignment", required=True, help="exercise name, e.g. 01_neurons_and_layers")
    p.add_argument("--out", required=True, help="output folder (gradebook.csv, feedback/)")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="wall-clock seconds for each cell of a notebook and for each "
                        "graded part's hidden cases (default 60); a cell or part that "
                        "runs out costs only its own part (a teacher's ungraded cell "
                        "costs none) and the rest is graded without it")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="submissions graded at once (default: 2, or 1 on one core)")
    p.add_argument("--memory-mb", type=int, default=Limits.memory_mb,
                   help=f"address-space limit per worker in MB (default {Limits.memory_mb})")
    p.add_argument("--solutions", default=os.path.join(PROJECT, "solutions"),
                   help="folder of the teacher's notebooks (default: the course's solutions/)")
    p.add_argument("--specs", default="dlcore.grading.registry", help=argparse.SUPPRESS)
    course = p.add_argument_group("running a course")
    course.add_argument("--roster", help="CSV with a 'student' column (the id submissions "
                                         "are matched to) and any others (name, email, "
                                         "sis_id, section) to keep; everyone on it gets a row")
    course.add_argument("--due", help="due date, ISO 8601 with a time zone, e.g. "
                                      "2026-12-01T23:59+01:00")
    course.add_argument("--late-penalty", type=float, default=0.0, metavar="P",
                        help="percent of the earned points taken per started day late "
                             "(default 0)")
    course.add_argument("--extensions", help="CSV student,due: learners' own due dates")
    course.add_argument("--overrides", help="CSV student,part,points,comment: the teacher's "
                                            "last word on a part (or 'total')")
    course.add_argument("--only", action="append", default=[], metavar="STUDENT",
                        help="regrade this learner even if the notebook did not change "
                             "(repeatable); the others are taken from the journal")
    course.add_argument("--seed", type=int, help="the hidden seed of a new OUT (default: "
                                                 "drawn at random); must match a resumed OUT")
    where = p.add_argument_group("grading on a Dask cluster (pip install 'dlcore[cluster]')")
    place = where.add_mutually_exclusive_group()
    place.add_argument("--cluster", metavar="local[:N]",
                       help="start a Dask LocalCluster of N worker processes on this "
                            "machine for this run (local: one per core)")
    place.add_argument("--scheduler", metavar="ADDRESS",
                       help="join a running Dask scheduler, tcp://HOST:PORT or "
                            "tls://HOST:PORT (certificates from Dask's configuration)")
    args = p.parse_args(argv)
    if args.cluster is not None:
        name, _, count = args.cluster.partition(":")
        if name != "local" or (count and (not count.isdigit() or int(count) < 1)):
            p.error(f"--cluster takes local or local:N with N >= 1, not {args.cluster!r}")
    if args.scheduler is not None and not args.scheduler.startswith(("tcp://", "tls://")):
        p.error(f"--scheduler takes tcp://HOST:PORT or tls://HOST:PORT, not "
                f"{args.scheduler!r}")
    if args.timeout <= 0 or args.workers < 1 or args.memory_mb < 256:
        p.error("--timeout must be > 0, --workers >= 1, --memory-mb >= 256")
    if not 0 <= args.late_penalty <= 100:
        p.error("--late-penalty is a percent per day: 0 to 100")
    if (args.extensions or args.late_penalty) and not args.due:
        p.error("--extensions and --late-penalty need --due")
    if args.seed is not None and not 0 <= args.seed < 2**32:
        p.error("--seed must be between 0 and 2**32 - 1")
    return args


def _module_root(module: Any) -> str:
    """The sys.path entry ``module`` was imported from."""
    path = os.path.abspath(module.__file__)
    for _ in module.__name__.split("."):
        path = os.path.dirname(path)
    return os.path.dirname(path) if os.path.basename(module.__file__) == "__init__.py" else path


def _warn(message: str) -> None:
    print(f"dlcore grade: warning: {message}", file=sys.stderr)


class PointsError(Exception):
    pass


def _check_points(specs: list[Any], teacher: dict[str, Any], teacher_path: str) -> None:
    """One source of truth for points: the spec. A teacher's notebook that says other
    points would make the gradebook and the notebook disagree, so grading does not start
    (learners are never told that *they* changed points)."""
    points = {grade_id_of(c): nbgrader_meta(c).get("points") for c in teacher["cells"]}
    wrong = []
    for spec in specs:
        if spec.grade_id not in points:
            _warn(f"the teacher's notebook has no cell '{spec.grade_id}'")
        elif points[spec.grade_id] is not None and points[spec.grade_id] != spec.points:
            wrong.append(f"'{spec.grade_id}' is worth {spec.points:g} in its spec "
                         f"(dlcore/grading/specs/) but {points[spec.grade_id]} in the "
                         f"nbgrader metadata of {teacher_path}")
    if wrong:
        raise PointsError("points disagree, so nothing was graded: " + "; ".join(wrong)
                          + ". Make the notebook's nbgrader points match the spec (or the "
                          "spec match the notebook), then run again.")


class SandboxError(Exception):
    pass


PROBE_CELL = "import math, json, collections, itertools, random, re\nimport numpy\n"


def probe_report(sandbox: Sandbox, assignment: Assignment) -> dict[str, Any]:
    """Start one worker with no learner code: its own report of what it confined
    (``confine.py``), plus ``imports_fail`` when it cannot import the standard library
    and NumPy."""
    run = sandbox.run({"assignment": assignment.name, "specs_module": assignment.specs_module,
                       "cells": [{"source": PROBE_CELL, "grade_id": None}], "cases": []})
    ready = [e for e in run.events if e.get("event") == "ready"]
    if not ready:
        raise SandboxError(f"the sandboxed worker does not start (exit status "
                           f"{run.returncode}, {run.seconds:.1f} s"
                           + (", out of time" if run.timed_out else "") + "):\n"
                           + run.output_tail)
    return {**ready[0].get("sandbox", {}),
            "imports_fail": any(e.get("event") == "cell_error" for e in run.events)}


def probe(sandbox: Sandbox, assignment: Assignment) -> dict[str, Any]:
    """Start one worker with no learner code and say what the sandbox does not cover;
    the worker's report (``probe_report``)."""
    report = probe_report(sandbox, assignment)
    if sandbox.root:
        uids = f"{sandbox.uids[0]}-{sandbox.uids[-1]}" if len(sandbox.uids) > 1 \
            else str(sandbox.uids[0])
        print(f"dlcore grade: workers run as uid {uids}", file=sys.stderr)
    else:
        can = "read your files" + ("" if report.get("visible") else
                                   " (not the solutions, submissions or OUT: those are hidden)")
        if not report.get("read_only"):
            can += ", change your files"
        if not report.get("pid_namespace"):
            can += ", signal your processes"
        _warn("the grader is not root, so learner code runs as your own user, not as a "
              f"separate unprivileged one: it can {can} (the limits on time, memory, "
              "processes, open files and output still apply)")
    if report.get("network") != "isolated":
        _warn(f"no network isolation: {report.get('network')}; learner code can connect")
    for folder in report.get("visible", []):
        _warn(f"learner code can see {folder}")
    if report.get("network") == "isolated" and not report.get("read_only"):
        _warn("could not make the file system read-only for learner code: it can write "
              "wherever its user may")
    if "mounts" in report:
        _warn(f"private mounts {report['mounts']}")
    if not sandbox.subreaper:
        _warn("cannot become a child subreaper: a daemon started by learner code may "
              "outlive its worker")
    if report["imports_fail"]:
        _warn("the worker cannot import the standard library and NumPy as its "
              "unprivileged user: learner imports will fail")
    return report


def _policy(args: argparse.Namespace, specs: list[Any], subs: list[Submission]
            ) -> tuple[Policy, list[Submission]]:
    """Read and check every course input before anything is graded."""
    policy = Policy(penalty_percent=args.late_penalty)
    if args.roster:
        policy.roster = read_roster(args.roster)
        matched = match(policy.roster, subs)
        subs, policy.unmatched = matched.submissions, set(matched.unmatched)
        for name in matched.unmatched:
            _warn(f"submission {name!r} matches nobody on the roster; it is graded and kept "
                  "in the gradebook with on_roster = no")
    if args.due:
        policy.due = parse_when(args.due)
    if args.extensions:
        policy.extensions = read_extensions(args.extensions)
    students = {s.student for s in subs}
    if args.overrides:
        max_points = {s.grade_id: float(s.points) for s in specs}
        max_points["total"] = sum(max_points.values())
        policy.overrides = read_overrides(args.overrides, max_points)
        check_students(policy.overrides, students, args.overrides)
    unknown = sorted(set(args.only) - students) + sorted(set(policy.extensions) - students)
    if unknown:
        raise RosterError(f"--only or --extensions names learners with no row in this class: "
                          f"{', '.join(map(repr, unknown))}")
    return policy, subs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        registry = importlib.import_module(args.specs)
        specs = registry.specs_for(args.assignment)
        teacher_path = os.path.join(args.solutions, f"{args.assignment}.ipynb")
        teacher = read_notebook(teacher_path)
        _check_points(specs, teacher, teacher_path)
        out = os.path.abspath(args.out)
        subs = find_submissions(args.submissions, args.assignment, exclude=(out,))
        policy, subs = _policy(args, specs, subs)
        os.makedirs(out, exist_ok=True)
        journal = Journal(out, args.assignment, args.seed)
    except (KeyError, NotebookError, JournalError, FileNotFoundError, PointsError,
            RosterError, LateError, OverrideError) as err:
        message = err.args[0] if isinstance(err, KeyError) else str(err)
        if isinstance(err, NotebookError):
            message = f"the teacher's notebook {teacher_path}: {message}"
        print(f"dlcore grade: {message}", file=sys.stderr)
        return 2
    assignment = Assignment.build(args.assignment, specs, args.specs, teacher,
                                  journal.seed, args.timeout)
    pythonpath = list(dict.fromkeys([PROJECT, _module_root(registry)]))
    hide = list(dict.fromkeys(os.path.realpath(p) for p in (
        args.solutions, os.path.dirname(teacher_path), args.submissions, out)))
    sandbox = Sandbox(Limits(timeout=args.timeout, memory_mb=args.memory_mb), hide,
                      pythonpath, args.workers)
    on_cluster = args.cluster is not None or args.scheduler is not None
    try:
        report: dict[str, Any] | None = probe(sandbox, assignment)
    except SandboxError as err:
        if not on_cluster:
            print(f"dlcore grade: {err}", file=sys.stderr)
            return 3
        _warn(f"this machine cannot start the sandbox ({err}); each worker's rows say "
              "which protections its own sandbox lacks")
        report = None
    try:
        if on_cluster:
            status = _grade_on_cluster(args, subs, assignment, journal, teacher, hide,
                                       sandbox, report)
            if isinstance(status, int):
                return status
            results, graded_now = status
        else:
            results, graded_now = _grade_all(subs, assignment, sandbox, journal,
                                             args.workers, set(args.only))
    finally:
        journal.close()
    root = os.path.realpath(args.submissions)
    rows = [course_row(r, submitted_at(s.path, s.path is not None and os.path.dirname(
        os.path.realpath(s.path)) != root), policy) for r, s in zip(results, subs, strict=True)]
    grade_ids = [s.grade_id for s in specs]
    write_report(out, rows, grade_ids, args.assignment)
    pairs = write_class_report(out, args.assignment, journal.seed, rows, subs, specs,
                               teacher, sorted(policy.unmatched))
    runlog.append(out, {
        "assignment": args.assignment, "seed": journal.seed, "timeout": args.timeout,
        "roster": args.roster, "due": args.due, "late_penalty": args.late_penalty,
        "extensions": {k: v.isoformat() for k, v in policy.extensions.items()},
        "only": args.only, "why": "--only: regrade these learners" if args.only else
        ("first run" if graded_now == sum(1 for s in subs if s.path) else "resume or "
         "rerun: unchanged notebooks taken from the journal"),
        "graded": graded_now, "from_journal": len(subs) - graded_now, "rows": len(rows),
        "missing": [r["student"] for r in rows if r["status"] == "missing"],
        "unmatched": sorted(policy.unmatched),
        "overrides": [vars(o) for o in policy.overrides],
        "late": {r["student"]: r["late"]["late_by"] for r in rows
                 if r.get("late", {}).get("days")},
        "stand_out_pairs": [[p.a, p.b, round(p.score, 2)] for p in pairs if p.stands_out]})
    full = sum(1 for r in rows if r["total"] >= r["max_total"])
    print(f"graded {len(rows)} learners ({graded_now} graded now, {full} with full marks): "
          f"{os.path.join(out, 'gradebook.csv')}, {os.path.join(out, 'report.html')}",
          file=sys.stderr)
    return 0


def _grade_on_cluster(args: argparse.Namespace, subs: list[Submission],
                      assignment: Assignment, journal: Journal, teacher: dict[str, Any],
                      hide: list[str], sandbox: Sandbox, report: dict[str, Any] | None
                      ) -> tuple[list[dict[str, Any]], int] | int:
    """The seam to ``cluster.py``, the only module that imports Dask: results as
    ``_grade_all``'s, or an exit status."""
    try:
        from . import cluster
    except ImportError as err:
        print(f"dlcore grade: --cluster and --scheduler need Dask ({err}): "
              "pip install 'dlcore[cluster]'", file=sys.stderr)
        return 2
    client_isolation = None if report is None else cluster.isolation(sandbox, report)
    run = {"assignment": assignment.name, "specs_module": assignment.specs_module,
           "teacher": teacher, "seed": journal.seed, "timeout": args.timeout,
           "memory_mb": args.memory_mb, "hide": hide, "client_isolation": client_isolation}
    try:
        return cluster.grade_on_cluster(subs, assignment, journal, set(args.only), run,
                                        args.cluster, args.scheduler, _warn)
    except cluster.ClusterError as err:
        print(f"dlcore grade: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ndlcore grade: interrupted; the cluster's tasks were cancelled and its "
              "sandboxed processes stopped; run the same command again to finish "
              "(finished submissions are kept in the journal)", file=sys.stderr)
        return 130


def _plain(result: Any) -> dict[str, Any]:
    """A result as plain data (the grading core's typed result has ``to_dict``)."""
    return result.to_dict() if hasattr(result, "to_dict") else result


def _grade_one(sub: Submission, assignment: Assignment, sandbox: Sandbox,
               journal: Journal, force: bool) -> tuple[dict[str, Any], bool]:
    """(result, graded now?); ``force`` regrades even an unchanged, finished notebook."""
    digest = digest_of(sub.path)
    done = journal.finished(sub.student, digest)
    if done is not None and not force:
        return done, False
    started = time.monotonic()
    if journal.unfinished_starts(sub.student, digest) >= 2 and not force:
        result = empty_result(sub, assignment, "crashed",
                              "the grader itself stopped twice while grading this "
                              "notebook; it was not tried again")
    else:
        journal.start(sub.student, digest)
        try:
            result = grade_submission(sub, assignment, sandbox)
        except Exception as err:  # a grader bug must not cost the other rows
            result = empty_result(sub, assignment, "error",
                                  f"internal grader error ({type(err).__name__}: {err})")
    result = _plain(result)
    if sub.path is not None:
        result.setdefault("seconds", round(time.monotonic() - started, 3))
    journal.end(sub.student, digest, result)
    return result, True


def _grade_all(subs: list[Submission], assignment: Assignment, sandbox: Sandbox,
               journal: Journal, workers: int, only: set[str]
               ) -> tuple[list[dict[str, Any]], int]:
    """Every submission's result in order, and how many notebooks were graded now (not
    taken from the journal)."""
    results: dict[int, tuple[dict[str, Any], bool]] = {}
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        with tqdm(total=len(subs), desc="grading", unit="notebook", file=sys.stderr) as bar:
            futures = {pool.submit(_grade_one, sub, assignment, sandbox, journal,
                                   sub.student in only): i
                       for i, sub in enumerate(subs)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update(1)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        print("\ndlcore grade: interrupted; run the same command again to finish "
              "(finished submissions are kept in the journal)", file=sys.stderr)
        os._exit(130)  # running workers die with the grader (PR_SET_PDEATHSIG)
    pool.shutdown()
    ordered = [results[i] for i in range(len(subs))]
    graded_now = sum(1 for (_, now), sub in zip(ordered, subs, strict=True)
                     if now and sub.path is not None)
    return [r for r, _ in ordered], graded_now


if __name__ == "__main__":
    sys.exit(main())
