"""The exercise notebooks: their nbgrader cells match the specs, the committed exercises/
is what `python -m dlcore exercises` writes, every solution passes its checks (also on
hidden seeds), and every untouched exercise runs through with only its checks failing.

The notebooks' code runs here in-process (fast, and the failures name the spec);
tests/test_notebooks.py runs them on real kernels through nbval.
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import nbformat
import pytest

from dlcore.grading import CheckFailed, assignments, run_check, specs_for
from dlcore.grading.generate import write_exercises

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
OURS = [p for p in SOLUTIONS if p.stem in assignments()]
HIDDEN_SEEDS = (3, 2024)


def nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def run_cells(path: Path) -> tuple[dict, list[tuple[str, BaseException]]]:
    """Execute the notebook's code cells in one namespace, as a kernel would, from the
    notebook's folder; return the namespace and (cell grade_id, error) per failing cell."""
    nb = nbformat.read(path, as_version=4)
    namespace: dict = {"__name__": "__main__"}
    errors = []
    with contextlib.chdir(path.parent), contextlib.redirect_stdout(io.StringIO()):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                exec(compile(cell.source, f"<{path.name} cell {index + 1}>", "exec"), namespace)
            except Exception as err:
                errors.append((nbgrader(cell).get("grade_id", f"cell {index + 1}"), err))
    return namespace, errors


def test_committed_exercises_are_what_the_generator_writes():
    stale = write_exercises(ROOT / "solutions", ROOT / "exercises", check=True)
    assert not stale, f"out of date: {stale}; run `python -m dlcore exercises` and commit"


@pytest.mark.parametrize("path", OURS, ids=lambda p: p.stem)
def test_notebook_cells_match_the_specs(path):
    specs = specs_for(path.stem)
    for folder in ("solutions", "exercises"):
        nb = nbformat.read(ROOT / folder / path.name, as_version=4)
        graded = [c for c in nb.cells if nbgrader(c).get("grade")]
        answers = [c for c in nb.cells if nbgrader(c).get("solution")]
        assert [nbgrader(c)["grade_id"] for c in graded] == [s.grade_id for s in specs]
        assert [nbgrader(c)["grade_id"] for c in answers] == [s.answer_id for s in specs]
        for cell, spec in zip(graded, specs, strict=True):
            meta = nbgrader(cell)
            assert meta["points"] == spec.points and meta["locked"] and not meta["solution"]
            assert meta["schema_version"] == 3
            assert cell.source == f'check("{spec.grade_id}", {spec.name})'
        for cell in answers:
            assert nbgrader(cell)["schema_version"] == 3 and not nbgrader(cell)["grade"]
        intro = nb.cells[0].source
        assert f"notebooks/{path.stem}.ipynb" in intro


@pytest.mark.notebooks
@pytest.mark.parametrize("path", OURS, ids=lambda p: p.stem)
def test_solution_passes_every_check_also_on_hidden_seeds(path):
    namespace, errors = run_cells(path)
    assert not errors, errors
    for spec in specs_for(path.stem):
        report = run_check(spec, namespace, seeds=HIDDEN_SEEDS)
        assert report.passed, report.text()


@pytest.mark.notebooks
@pytest.mark.parametrize("path", OURS, ids=lambda p: p.stem)
def test_untouched_exercise_runs_through_failing_only_its_checks(path):
    exercise = ROOT / "exercises" / path.name
    nb = nbformat.read(exercise, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in nb.cells if c.cell_type == "code")
    _, errors = run_cells(exercise)
    graded = [s.grade_id for s in specs_for(path.stem)]
    assert [grade_id for grade_id, _ in errors] == graded
    for _, err in errors:
        assert isinstance(err, CheckFailed)
        assert str(err).endswith("is not implemented yet, see above")


def solution_lines(path: Path, spec) -> list[str]:
    """The code lines of the spec's solution block in the solution notebook (the short
    ones, such as `s = sigmoid(x)`, restate the task and may appear in a tip)."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if nbgrader(c).get("grade_id") == spec.answer_id)
    block = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
    return [line.strip() for line in block.splitlines() if len(line.strip()) >= 20]


@pytest.mark.parametrize("path", OURS, ids=lambda p: p.stem)
def test_tips_and_hints_never_give_away_a_solution_line(path):
    for spec in specs_for(path.stem):
        words = " ".join(spec.tips) + " " + " ".join(h.text for h in spec.hints) + spec.task
        for line in solution_lines(path, spec):
            assert line not in words, f"{spec.grade_id}: a tip or hint shows {line!r}"
