"""Grading throughput: local workers against a Dask LocalCluster, for exercises 01, 06, 10.

    python benchmarks/grading.py [--copies N] [--exercises 01 06 10] [--out benchmarks/grading.md]
    python benchmarks/grading.py --startup-against BEFORE [--rounds R] [--exercises ...]

For each exercise it generates a class of N notebooks from the teacher's solution (every
third with one answer cell emptied back to its stub, so the class mixes full and partial
marks), then times the real command, ``python -m dlcore grade``, four ways on the same
class and hidden seed: ``--workers 1``, ``--workers 2``, ``--cluster local:1`` and
``--cluster local:2``. It also times the per-submission start-up: an empty sandboxed
worker (start Python, import NumPy, dlcore and the specs, confine, exit, clean up),
which every notebook pays once. Times depend on the machine's load: the load average is
written beside them, and the ratios (cluster against local, run in the same minutes)
are what carries over to another machine. Writes the Markdown table to ``--out``.

``--startup-against BEFORE`` compares only the per-submission start-up of this checkout
with another one (say ``git worktree add /tmp/before HEAD~3``), in interleaved rounds
(before, after, after, before, ...), each a fresh process that imports the grader from
its tree and times ``--repeats`` empty sandboxed workers: wall seconds, and the CPU
seconds of the worker and what it started (less sensitive to other jobs on the
machine). Compile both trees' bytecode first (``python -m compileall -q TREE/dlcore``):
the worker never writes bytecode, so a tree without it compiles every module anew for
each worker. Prints a Markdown table; writes nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT)

NAMES = {"01": "01_neurons_and_layers", "06": "06_training",
         "10": "10_dropout_and_batch_norm"}
MODES = [("local, 1 worker", ["--workers", "1"]), ("local, 2 workers", ["--workers", "2"]),
         ("--cluster local:1", ["--cluster", "local:1"]),
         ("--cluster local:2", ["--cluster", "local:2"])]


PLAN_MARKER = "<!-- the plan on paper: kept when this file is rewritten -->"


def load() -> float:
    return os.getloadavg()[0]


def make_class(folder: str, assignment: str, copies: int) -> str:
    """``copies`` notebooks: the solution, every third with one answer cell back to its
    stub (taken from the generated exercise)."""
    with open(os.path.join(PROJECT, "solutions", f"{assignment}.ipynb")) as f:
        solution = json.load(f)
    with open(os.path.join(PROJECT, "exercises", f"{assignment}.ipynb")) as f:
        stub = json.load(f)
    stubs = {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in stub["cells"]
             if c["metadata"].get("nbgrader", {}).get("solution")}
    answers = [i for i, c in enumerate(solution["cells"])
               if c["metadata"].get("nbgrader", {}).get("grade_id") in stubs]
    submitted = os.path.join(folder, "submitted")
    os.makedirs(submitted)
    for n in range(copies):
        nb = json.loads(json.dumps(solution))
        if n % 3 == 2 and answers:
            i = answers[(n // 3) % len(answers)]
            nb["cells"][i] = stubs[nb["cells"][i]["metadata"]["nbgrader"]["grade_id"]]
        nb["cells"].append({"cell_type": "markdown", "metadata": {}, "id": f"note{n}",
                            "source": f"Learner {n}'s notes."})
        with open(os.path.join(submitted, f"learner{n:03d}.ipynb"), "w") as f:
            json.dump(nb, f)
    return submitted


def startup_seconds(assignment: str, repeats: int = 5) -> list[float]:
    """Wall time of an empty sandboxed worker run, ``repeats`` times."""
    from dlcore.grading.autograder.cli import PROBE_CELL
    from dlcore.grading.autograder.sandbox import Limits, Sandbox

    sandbox = Sandbox(Limits(), [], [PROJECT], 1)
    times = []
    for _ in range(repeats):
        start = time.monotonic()
        run = sandbox.run({"assignment": assignment,
                           "specs_module": "dlcore.grading.registry",
                           "cells": [{"source": PROBE_CELL, "grade_id": None}],
                           "cases": []})
        times.append(time.monotonic() - start)
        assert any(e.get("event") == "ready" for e in run.events), run.output_tail
    return times


def _startup_child(root: str, assignment: str, repeats: int) -> None:
    """In a fresh process: import the grader from ``root``, print JSON [wall, CPU] of
    ``repeats`` empty sandboxed workers."""
    sys.path.insert(0, root)
    import dlcore
    from dlcore.grading.autograder.cli import PROBE_CELL
    from dlcore.grading.autograder.sandbox import Limits, Sandbox

    assert dlcore.__file__.startswith(root), dlcore.__file__
    sandbox = Sandbox(Limits(), [], [root], 1)
    rows = []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        run = sandbox.run({"assignment": assignment,
                           "specs_module": "dlcore.grading.registry",
                           "cells": [{"source": PROBE_CELL, "grade_id": None}],
                           "cases": []})
        wall = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert run.done, run.output_tail
        rows.append([wall, after.ru_utime + after.ru_stime
                     - before.ru_utime - before.ru_stime])
    print(json.dumps(rows))


def startup_against(before: str, exercises: list[str], rounds: int, repeats: int) -> None:
    trees = [("before", os.path.abspath(before)), ("after", PROJECT)]
    print("| exercise | tree | workers | wall s, median | wall s, min | CPU s, median | "
          "load |")
    print("|---|---|---:|---:|---:|---:|---|")
    for ex in exercises:
        got: dict[str, list[list[float]]] = {name: [] for name, _ in trees}
        loads = []
        for r in range(rounds):
            for name, root in (trees if r % 2 == 0 else trees[::-1]):
                loads.append(load())
                out = subprocess.run([sys.executable, __file__, "--startup-child", root,
                                      NAMES[ex], str(repeats)], capture_output=True,
                                     text=True, check=True).stdout
                got[name] += json.loads(out.splitlines()[-1])
        for name, _ in trees:
            walls, cpus = [w for w, _ in got[name]], [c for _, c in got[name]]
            print(f"| {ex} | {name} | {len(walls)} | {statistics.median(walls):.3f} | "
                  f"{min(walls):.3f} | {statistics.median(cpus):.3f} | "
                  f"{min(loads):.1f}-{max(loads):.1f} |", flush=True)


def time_mode(submitted: str, assignment: str, extra: list[str], out: str
              ) -> tuple[float, float, list[float], str]:
    """(wall seconds of the command, notebooks per second between the first and the
    last result, per-notebook grading seconds from the journal, gradebook text)."""
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "dlcore", "grade", submitted,
                             "--assignment", assignment, "--out", out, "--seed", "2026",
                             *extra], cwd=PROJECT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    # The progress bar's "1/N" and "N/N": the steady rate between the first and the last
    # graded notebook, without the fixed costs before (a cluster's start) and after.
    seen, err, n = {}, b"", len(os.listdir(submitted))
    while chunk := os.read(proc.stderr.fileno(), 4096):
        err += chunk
        for k in (1, n):
            if k not in seen and f" {k}/{n} [".encode() in err:
                seen[k] = time.monotonic()
    proc.wait()
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"grading failed ({' '.join(extra)}):\n{err[-3000:].decode()}")
    steady = (n - 1) / (seen[n] - seen[1]) if len(seen) == 2 and seen[n] > seen[1] else 0.0
    with open(os.path.join(out, "journal.jsonl")) as f:
        ends = [json.loads(line) for line in f if '"kind": "end"' in line]
    with open(os.path.join(out, "gradebook.csv")) as f:
        book = f.read()
    return wall, steady, [e["result"].get("seconds", 0.0) for e in ends], book


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--copies", type=int, default=12)
    p.add_argument("--exercises", nargs="+", default=["01", "06", "10"])
    p.add_argument("--out", default=os.path.join(PROJECT, "benchmarks", "grading.md"))
    p.add_argument("--startup-against", metavar="BEFORE",
                   help="only compare the per-submission start-up with the checkout BEFORE")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--startup-child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.startup_child:
        root, assignment, repeats = args.startup_child
        _startup_child(root, assignment, int(repeats))
        return
    if args.startup_against:
        startup_against(args.startup_against, args.exercises, args.rounds, args.repeats)
        return
    lines = ["| exercise | how | notebooks/s, whole command | notebooks/s, steady | wall s "
             "| median s per notebook | load | same gradebook as local, 1 worker |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    ratios = []
    start_load = load()
    boot = startup_seconds(NAMES[args.exercises[0]])
    for ex in args.exercises:
        assignment = NAMES[ex]
        base = tempfile.mkdtemp(prefix="dlcore-bench-grading-")
        os.chmod(base, 0o755)
        try:
            submitted = make_class(base, assignment, args.copies)
            rates, first_book = {}, None
            for label, extra in MODES:
                before = load()
                wall, steady, each, book = time_mode(submitted, assignment, extra,
                                             os.path.join(base, label.replace(" ", "_")))
                first_book = first_book if first_book is not None else book
                rates[label] = steady
                lines.append(f"| {ex} | {label} | {args.copies / wall:.2f} | {steady:.2f} | "
                             f"{wall:.1f} | "
                             f"{statistics.median(each):.2f} | {before:.1f} | "
                             f"{'yes' if book == first_book else 'NO'} |")
                print(lines[-1], flush=True)
            ratios.append((ex, rates["--cluster local:1"] / rates["local, 1 worker"],
                           rates["--cluster local:2"] / rates["local, 2 workers"]))
        finally:
            shutil.rmtree(base, ignore_errors=True)
    text = [
        "# Grading throughput: local workers and a Dask LocalCluster",
        "",
        f"`python benchmarks/grading.py --copies {args.copies}` on "
        f"{os.cpu_count()} cores, load average {start_load:.1f} at the start (other "
        "jobs shared the machine: absolute times are inflated, ratios within a run are "
        "what carries over). Each class: the solution copied, every third copy with one "
        "answer back to its stub; the same hidden seed for every way. Wall time is the "
        "whole command (reading, grading, gradebook, feedback, report, similarity; for "
        "the cluster also starting and closing the LocalCluster); the steady rate is "
        "measured between the first and the last graded notebook (the progress bar), "
        "without those fixed costs; the median per notebook is each submission's own "
        "grading time (the journal's `seconds`).",
        "",
        *lines,
        "",
        "Cluster against local, steady notebooks per second (same class, same minutes):",
        "",
        "| exercise | local:1 / 1 worker | local:2 / 2 workers |",
        "|---|---:|---:|",
        *[f"| {ex} | {a:.2f} | {b:.2f} |" for ex, a, b in ratios],
        "",
        "Per-submission start-up (an empty sandboxed worker: Python, NumPy, dlcore, the "
        f"specs, confinement, clean-up), {len(boot)} runs: median "
        f"{statistics.median(boot):.2f} s, min {min(boot):.2f} s.",
        "",
    ]
    plan = ""  # the plan on paper below the marker is kept from the previous file
    if os.path.exists(args.out):
        with open(args.out) as f:
            old = f.read()
        plan = old[old.index(PLAN_MARKER):] if PLAN_MARKER in old else ""
    with open(args.out, "w") as f:
        f.write("\n".join(text) + "\n" + (plan or PLAN_MARKER + "\n"))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
