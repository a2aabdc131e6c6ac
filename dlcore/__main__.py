"""The command line: ``python -m dlcore exercises``, ``grade`` and ``gradebook``.

    python -m dlcore exercises [--check] [--execute-solutions] [--solutions DIR] [--out DIR]
    python -m dlcore grade SUBMISSIONS --assignment NN_topic --out OUT [--timeout S] [--workers N]
        [--roster FILE] [--due WHEN] [--late-penalty P] [--extensions FILE]
        [--overrides FILE] [--only STUDENT] [--seed N]
    python -m dlcore gradebook OUT [OUT ...] --out FILE [--roster FILE] [--format csv|canvas|moodle]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

USAGE = __doc__.split("\n\n", 1)[1]


def exercises(argv: list[str]) -> int:
    from .grading.generate import MarkerError, write_exercises
    from .grading.notebook import execute_in_place

    parser = argparse.ArgumentParser(
        prog="python -m dlcore exercises",
        description="Write exercises/ from solutions/: solutions taken out, outputs cleared.")
    parser.add_argument("--solutions", type=Path, default=Path("solutions"),
                        help="folder of solution notebooks (default: solutions)")
    parser.add_argument("--out", type=Path, default=Path("exercises"),
                        help="folder to write the exercises to (default: exercises)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if any exercise is out of date")
    parser.add_argument("--execute-solutions", action="store_true",
                        help="first run every solution notebook and save its outputs")
    args = parser.parse_args(argv)
    if not args.solutions.is_dir():
        print(f"no folder {args.solutions}: run this from the course's top folder",
              file=sys.stderr)
        return 2
    if args.execute_solutions:
        from nbclient.exceptions import CellExecutionError
        for path in sorted(args.solutions.glob("*.ipynb")):
            print(f"executing {path}")
            try:
                execute_in_place(path)
            except CellExecutionError as err:
                print(f"error: {path} failed, not saved:\n{err}", file=sys.stderr)
                return 1
    try:
        changed = write_exercises(args.solutions, args.out, check=args.check)
    except MarkerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.check:
        for name in changed:
            print(f"out of date: {args.out / name} (run python -m dlcore exercises)")
        return 1 if changed else 0
    for name in changed:
        print(f"wrote {args.out / name}")
    if not changed:
        print(f"{args.out}/ is up to date")
    return 0


def gradebook(argv: list[str]) -> int:
    from .grading.autograder.report import write_atomic
    from .grading.course.lms import GradebookError, read_out, write_book
    from .grading.course.roster import RosterError, read_roster

    parser = argparse.ArgumentParser(
        prog="python -m dlcore gradebook",
        description="Join graded assignments (folders `grade --out` wrote) into one row per "
                    "learner, as CSV or an LMS import (Canvas gradebook, Moodle grade import).")
    parser.add_argument("outs", nargs="+", metavar="OUT", help="graded folders, one per assignment")
    parser.add_argument("--out", required=True, help="the file to write")
    parser.add_argument("--roster", help="the class roster (CSV with a 'student' column): "
                                         "everyone gets a row, in its order, with its columns")
    parser.add_argument("--format", choices=("csv", "canvas", "moodle"), default="csv",
                        help="csv (default), canvas (gradebook import) or moodle (CSV grade "
                             "import)")
    args = parser.parse_args(argv)
    try:
        roster = read_roster(args.roster) if args.roster else None
        text = write_book([read_out(o) for o in args.outs], roster, args.format)
    except (GradebookError, RosterError) as err:
        print(f"dlcore gradebook: {err}", file=sys.stderr)
        return 2
    path = os.path.abspath(args.out)
    write_atomic(path, text)
    print(f"wrote {path} ({args.format}, {len(text.splitlines()) - 1} rows)")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage:\n" + USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "exercises":
        return exercises(rest)
    if command == "grade":
        from .grading.autograder.cli import main as grade
        return grade(rest)
    if command == "gradebook":
        return gradebook(rest)
    print(f"unknown command {command!r}\nusage:\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
