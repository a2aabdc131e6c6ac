"""The class autograder's command line::

    python -m dlcore grade SUBMISSIONS --assignment NN_topic --out OUT [--timeout S] [--workers N]

Grades a class: one sandboxed worker per submission, ``--workers`` at a time (a thread
pool, each thread driving one worker process), a progress bar, a journal so a killed
run resumes, then ``OUT/gradebook.csv`` and ``OUT/feedback/STUDENT.html``. Nothing
outside OUT is written. Exit status 0 when every submission got its row, 2 for a
usage problem (unknown assignment, no teacher's copy, OUT of another assignment), 3 when
the sandboxed worker cannot start at all on this machine.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from tqdm import tqdm

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
                   help="wall-clock seconds per submission (default 60)")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="submissions graded at once (default: 2, or 1 on one core)")
    p.add_argument("--memory-mb", type=int, default=Limits.memory_mb,
                   help=f"address-space limit per worker in MB (default {Limits.memory_mb})")
    p.add_argument("--solutions", default=os.path.join(PROJECT, "solutions"),
                   help="folder of the teacher's notebooks (default: the course's solutions/)")
    p.add_argument("--specs", default="dlcore.grading.registry", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.timeout <= 0 or args.workers < 1 or args.memory_mb < 256:
        p.error("--timeout must be > 0, --workers >= 1, --memory-mb >= 256")
    return args


def _module_root(module: Any) -> str:
    """The sys.path entry ``module`` was imported from."""
    path = os.path.abspath(module.__file__)
    for _ in module.__name__.split("."):
        path = os.path.dirname(path)
    return os.path.dirname(path) if os.path.basename(module.__file__) == "__init__.py" else path


def _warn(message: str) -> None:
    print(f"dlcore grade: warning: {message}", file=sys.stderr)


def _check_points(specs: list[Any], teacher: dict[str, Any]) -> None:
    points = {grade_id_of(c): nbgrader_meta(c).get("points") for c in teacher["cells"]}
    for spec in specs:
        if spec.grade_id not in points:
            _warn(f"the teacher's notebook has no cell '{spec.grade_id}'")
        elif points[spec.grade_id] is not None and points[spec.grade_id] != spec.points:
            _warn(f"'{spec.grade_id}' is worth {spec.points} points in its spec but "
                  f"{points[spec.grade_id]} in the teacher's notebook; the spec counts")


class SandboxError(Exception):
    pass


PROBE_CELL = "import math, json, collections, itertools, random, re\nimport numpy\n"


def probe(sandbox: Sandbox, assignment: Assignment) -> None:
    """Start one worker with no learner code and say what the sandbox does not cover."""
    run = sandbox.run({"assignment": assignment.name, "specs_module": assignment.specs_module,
                       "cells": [{"source": PROBE_CELL, "grade_id": None}], "cases": []})
    ready = [e for e in run.events if e.get("event") == "ready"]
    if not ready:
        raise SandboxError("the sandboxed worker does not start:\n" + run.output_tail)
    report = ready[0].get("sandbox", {})
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
    if any(e.get("event") == "cell_error" for e in run.events):
        _warn("the worker cannot import the standard library and NumPy as its "
              "unprivileged user: learner imports will fail")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        registry = importlib.import_module(args.specs)
        specs = registry.specs_for(args.assignment)
        teacher_path = os.path.join(args.solutions, f"{args.assignment}.ipynb")
        teacher = read_notebook(teacher_path)
        out = os.path.abspath(args.out)
        os.makedirs(out, exist_ok=True)
        journal = Journal(out, args.assignment)
        subs = find_submissions(args.submissions, args.assignment, exclude=(out,))
    except (KeyError, NotebookError, JournalError, FileNotFoundError) as err:
        message = err.args[0] if isinstance(err, KeyError) else str(err)
        if isinstance(err, NotebookError):
            message = f"the teacher's notebook {teacher_path}: {message}"
        print(f"dlcore grade: {message}", file=sys.stderr)
        return 2
    _check_points(specs, teacher)
    assignment = Assignment.build(args.assignment, specs, args.specs, teacher,
                                  journal.seed, args.timeout)
    pythonpath = list(dict.fromkeys([PROJECT, _module_root(registry)]))
    hide = list(dict.fromkeys(os.path.realpath(p) for p in (
        args.solutions, os.path.dirname(teacher_path), args.submissions, out)))
    sandbox = Sandbox(Limits(timeout=args.timeout, memory_mb=args.memory_mb), hide,
                      pythonpath, args.workers)
    try:
        probe(sandbox, assignment)
    except SandboxError as err:
        print(f"dlcore grade: {err}", file=sys.stderr)
        return 3
    try:
        results = _grade_all(subs, assignment, sandbox, journal, args.workers)
    finally:
        journal.close()
    grade_ids = [s.grade_id for s in specs]
    write_report(out, results, grade_ids, args.assignment)
    full = sum(1 for r in results if r["total"] >= r["max_total"])
    print(f"graded {len(results)} submissions ({full} with full marks): "
          f"{os.path.join(out, 'gradebook.csv')}", file=sys.stderr)
    return 0


def _grade_one(sub: Submission, assignment: Assignment, sandbox: Sandbox,
               journal: Journal) -> dict[str, Any]:
    digest = digest_of(sub.path)
    done = journal.finished(sub.student, digest)
    if done is not None:
        return done
    if journal.unfinished_starts(sub.student, digest) >= 2:
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
    journal.end(sub.student, digest, result)
    return result


def _grade_all(subs: list[Submission], assignment: Assignment, sandbox: Sandbox,
               journal: Journal, workers: int) -> list[dict[str, Any]]:
    results: dict[int, dict[str, Any]] = {}
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        with tqdm(total=len(subs), desc="grading", unit="notebook", file=sys.stderr) as bar:
            futures = {pool.submit(_grade_one, sub, assignment, sandbox, journal): i
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
    return [results[i] for i in range(len(subs))]


if __name__ == "__main__":
    sys.exit(main())
