"""The course's own exercises through the real command: every committed solution earns
full marks, every untouched exercise earns zero (and is graded, not crashed)."""
from __future__ import annotations

import csv
import html
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


def test_an_answer_that_calls_the_engine_scores_zero_for_that_part_only(tmp_path):
    """A real exercise notebook whose right numbers come from ``nn.Linear``: the part
    earns nothing, with the message the learner saw in the notebook; the others count."""
    from hostile import engine_calls

    submitted = engine_calls.build(os.path.join(PROJECT, "solutions"), str(tmp_path / "in"))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "dlcore", "grade", submitted,
                           "--assignment", engine_calls.ASSIGNMENT, "--out", str(out),
                           "--timeout", "60", "--workers", "2"],
                          cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert set(rows) == set(engine_calls.EXPECTED)
    specs = {s.grade_id: s for s in registry.specs_for(engine_calls.ASSIGNMENT)}
    for name, (_, source, points) in engine_calls.EXPECTED.items():
        row = rows[name]
        assert row["status"] == "graded"
        assert {g: float(row[g]) for g in points} == points, row
        refused = [g for g, p in points.items() if p == 0]
        messages = [specs[g].refusal(source) for g in refused]
        assert row["reason"] == ("; ".join(messages) or "all tests passed")
        with open(out / "feedback" / f"{name}.html", encoding="utf-8") as f:
            page = html.unescape(f.read())
        for g, message in zip(refused, messages, strict=True):
            assert f"{specs[g].name}: 0 / {specs[g].points:g}" in page and message in page
    assert rows["engine layer"]["reason"] == (
        "`dense_forward` uses `nn.Linear`, the engine's own layer: this exercise asks you "
        "to write the product yourself, X @ W.T + b.")
    assert rows["torch import"]["reason"].startswith("`neuron_forward` uses PyTorch (`torch`)")
