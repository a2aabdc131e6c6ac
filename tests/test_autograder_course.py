"""The course's own exercises through the real command: every committed solution earns
full marks, every untouched exercise earns zero (and is graded, not crashed)."""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys

import pytest

from dlcore.grading import registry

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSIGNMENTS = [a for a in registry.assignments()
               if os.path.exists(os.path.join(PROJECT, "solutions", f"{a}.ipynb"))
               and os.path.exists(os.path.join(PROJECT, "exercises", f"{a}.ipynb"))]

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not ASSIGNMENTS, reason="no exercise notebooks committed yet")
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_earn_full_marks_and_untouched_exercises_zero(tmp_path, assignment):
    submitted = tmp_path / "submitted"
    os.makedirs(submitted / "solution" / assignment)
    shutil.copy(os.path.join(PROJECT, "solutions", f"{assignment}.ipynb"),
                submitted / "solution" / assignment / f"{assignment}.ipynb")
    shutil.copy(os.path.join(PROJECT, "exercises", f"{assignment}.ipynb"),
                submitted / "exercise.ipynb")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "dlcore", "grade", str(submitted),
                           "--assignment", assignment, "--out", str(out), "--timeout", "60",
                           "--workers", "2"],
                          cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"solution", "exercise"}
    solution, exercise = rows["solution"], rows["exercise"]
    assert solution["status"] == "graded" and exercise["status"] == "graded"
    assert float(solution["total"]) == float(solution["max_total"]) > 0, solution["reason"]
    assert solution["reason"] == "all tests passed"  # no flags, no notes
    assert float(exercise["total"]) == 0.0
    assert exercise["reason"].startswith(("not implemented: ", "failed: "))
    grade_ids = [s.grade_id for s in registry.specs_for(assignment)]
    assert list(solution)[3:-2] == grade_ids
