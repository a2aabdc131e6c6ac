"""Run the course notebooks once per pytest session and remember the results.

Lessons and solutions go through nbval (in a child pytest, one notebook at a time, on a
fresh kernel, compared with their committed outputs after `nbval_sanitize.cfg`); the
untouched exercise notebooks go through nbclient with errors allowed, since their checks
are meant to fail. Each notebook runs once: `test_notebooks.py`'s nbval and budget tests share
the cached result, and every run's time is printed in the terminal summary.
"""
from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
LESSON_BUDGET_S = 60.0   # a lesson must run top to bottom on a clean kernel within this
LESSON_AIM_S = 20.0      # ... and should within this
CELL_TIMEOUT_S = 300     # one cell; a hung cell fails instead of blocking the suite
RUN_TIMEOUT_S = 900      # one notebook, kernel start included


def find(folder: str) -> list[Path]:
    """The notebooks in `folder` (relative to the repository), in name order."""
    return sorted(p for p in (ROOT / folder).glob("*.ipynb") if not p.name.startswith("."))


def nb_id(path: Path) -> str:
    """`notebooks/00_start_here.ipynb`: the test id and the name in every message."""
    return path.relative_to(ROOT).as_posix()


@dataclass
class CellFailure:
    cell: str
    message: str


@dataclass
class NbvalRun:
    """What nbval said about one notebook."""

    path: Path
    seconds: float                    # sum of nbval's per-cell times (kernel start included)
    wall: float                       # the child pytest, start to end
    returncode: int
    cell_times: list[tuple[str, float]] = field(default_factory=list)
    failures: list[CellFailure] = field(default_factory=list)
    log: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.failures

    def slowest(self, n: int = 3) -> str:
        top = sorted(self.cell_times, key=lambda ct: -ct[1])[:n]
        return ", ".join(f"{name} {secs:.1f} s" for name, secs in top)

    def report(self, max_cells: int = 3, max_lines: int = 60) -> str:
        """A readable account of what failed: cell number, nbval's message, a hint."""
        if not self.failures:
            tail = "\n".join(self.log.splitlines()[-40:])
            return f"nbval exited with {self.returncode} on {nb_id(self.path)}:\n{tail}"
        parts = [f"{nb_id(self.path)}: {len(self.failures)} cell(s) failed nbval "
                 f"(of {len(self.cell_times)} code cells; nbval counts code cells from 0)"]
        for failure in self.failures[:max_cells]:
            lines = failure.message.splitlines()
            if len(lines) > max_lines:
                lines = lines[:max_lines] + [f"... ({len(lines) - max_lines} more lines)"]
            parts.append(f"----- {failure.cell} -----\n" + "\n".join(lines))
        if len(self.failures) > max_cells:
            rest = ", ".join(f.cell for f in self.failures[max_cells:])
            parts.append(f"... and also: {rest}")
        parts.append(
            "If an output is volatile by nature (interact, an Output widget, clear_output), "
            "tag its cell `nbval-ignore-output`; if only some text in it is volatile "
            "(an address, a time), add a pattern to tests/nbval_sanitize.cfg; otherwise "
            "re-run the notebook and commit its new outputs."
        )
        return "\n".join(parts)


def nbval_flags(path: Path) -> str:
    """How many code cells nbval is told to ignore the output of, or to skip, e.g.
    "3 outputs ignored" (shown in the summary, so blanket ignoring stands out)."""
    ignored = skipped = 0
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        first = cell.source.lstrip().splitlines()[:1]
        if "nbval-skip" in tags or first == ["# NBVAL_SKIP"]:
            skipped += 1
        elif "nbval-ignore-output" in tags or first == ["# NBVAL_IGNORE_OUTPUT"]:
            ignored += 1
    parts = [f"{ignored} output(s) ignored"] if ignored else []
    parts += [f"{skipped} cell(s) SKIPPED"] if skipped else []
    return ", ".join(parts)


def summary_note(run: NbvalRun) -> str:
    flags = nbval_flags(run.path)
    return "nbval: " + ("passed" if run.ok else "FAILED") + (f"; {flags}" if flags else "")


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)   # `-m notebooks` there would deselect nbval's cells
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.pop("MPLBACKEND", None)   # the kernel's inline backend, as in JupyterLab
    return env


@functools.cache
def run_nbval(path: Path) -> NbvalRun:
    """Run nbval on one notebook in a child pytest and read its JUnit report."""
    with tempfile.TemporaryDirectory(prefix="nbval-") as tmp:
        xml = Path(tmp) / "junit.xml"
        cmd = [
            sys.executable, "-m", "pytest", str(path),
            "--nbval", "--nbval-current-env",
            "--nbval-sanitize-with", str(SANITIZE),
            "--nbval-cell-timeout", str(CELL_TIMEOUT_S),
            "--junitxml", str(xml), "-o", "junit_family=xunit1",
            "-o", "addopts=", "-p", "no:cacheprovider", "-p", "no:randomly",
            "--color=no", "-q", "--rootdir", str(ROOT),
        ]
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=_child_env(), capture_output=True,
                                  text=True, timeout=RUN_TIMEOUT_S)
            returncode, log = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            returncode = -1
            log = f"nbval did not finish within {RUN_TIMEOUT_S} s\n{exc.stdout or ''}"
        wall = time.perf_counter() - start
        run = NbvalRun(path=path, seconds=0.0, wall=wall, returncode=returncode, log=log)
        if xml.exists():
            _read_junit(xml, run)
        else:
            run.seconds = wall
    return run


def _read_junit(xml: Path, run: NbvalRun) -> None:
    for case in ET.parse(xml).getroot().iter("testcase"):
        name = case.get("name", "?")
        secs = float(case.get("time") or 0.0)
        run.cell_times.append((name, secs))
        run.seconds += secs
        for tag in ("failure", "error"):
            for bad in case.findall(tag):
                text = (bad.text or bad.get("message") or "").strip()
                run.failures.append(CellFailure(name, text))


@dataclass
class ExerciseRun:
    """An untouched exercise notebook run top to bottom with errors allowed."""

    path: Path
    seconds: float
    errors: list[dict]                # one per cell that raised: index, graded, ename, evalue
    crash: str = ""                   # the kernel died, a cell timed out, ...


def is_graded(cell) -> bool:
    """nbgrader's test cell: `grade: true` and not a solution cell."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


@functools.cache
def run_exercise(path: Path) -> ExerciseRun:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            allow_errors=True, record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    crash = ""
    start = time.perf_counter()
    try:
        client.execute(env=_child_env())   # the kernel finds this checkout's dlcore
    except (CellTimeoutError, DeadKernelError) as exc:
        crash = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    errors = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                traceback = "\n".join(out.get("traceback", []))
                errors.append({"index": index, "graded": is_graded(cell),
                               "ename": out.get("ename", ""), "evalue": out.get("evalue", ""),
                               "traceback_lines": len(traceback.splitlines()),
                               "source": cell.source})
    return ExerciseRun(path=path, seconds=seconds, errors=errors, crash=crash)


class NotebookTimes:
    """A pytest plugin (registered by conftest.py) that prints one line per notebook run.

    A test records its run as a user property of its report (``record``), and the plugin
    reads them from the reports, so the lines reach the summary from pytest-xdist's workers
    as well as from a plain run."""

    KEY = "notebook_run"

    def __init__(self) -> None:
        self.rows: dict[str, tuple[float, str]] = {}

    def pytest_runtest_logreport(self, report) -> None:
        for key, value in getattr(report, "user_properties", ()):
            if key == self.KEY:
                name, secs, note = value
                self.rows[name] = (float(secs), note)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.rows:
            return
        tr = terminalreporter
        tr.write_sep("-", f"notebook run times (fresh kernel; lessons: budget "
                          f"{LESSON_BUDGET_S:.0f} s, aim {LESSON_AIM_S:.0f} s)")
        for name, (secs, note) in sorted(self.rows.items()):
            flag = ""
            if name.startswith("notebooks/"):
                flag = ("  OVER BUDGET" if secs > LESSON_BUDGET_S
                        else "  over aim" if secs > LESSON_AIM_S else "")
            tr.write_line(f"{secs:7.1f} s  {name}  ({note}){flag}")
        total = sum(secs for secs, _ in self.rows.values())
        tr.write_line(f"{total:7.1f} s  total over {len(self.rows)} notebooks")


def record(request: pytest.FixtureRequest, path: Path, seconds: float, note: str) -> None:
    """Put one notebook's run time in the terminal summary (see NotebookTimes)."""
    request.node.user_properties.append((NotebookTimes.KEY, (nb_id(path), seconds, note)))
