"""The exercise generator (`python -m dlcore exercises`): markers, errors, determinism."""
from __future__ import annotations

import sys
import types

import nbformat
import pytest

from dlcore.__main__ import main
from dlcore.grading.generate import MarkerError, clear_cell_source, make_exercise, write_exercises
from dlcore.grading.notebook import nbgrader_meta

SOLUTION = '''def f(x):
    """Docstring stays."""
    y = 1
    ### BEGIN SOLUTION
    return x + y
    ### END SOLUTION'''


def solution_cell(source: str, grade_id: str = "f_answer"):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = nbgrader_meta(grade_id, solution=True)
    return cell


def notebook(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def test_block_becomes_one_stub_line_at_its_indentation():
    source, blocks = clear_cell_source(SOLUTION, "nb")
    assert blocks == 1
    lines = source.split("\n")
    assert lines[:3] == ['def f(x):', '    """Docstring stays."""', "    y = 1"]
    assert lines[3].startswith('    raise NotImplementedError("f: replace this line')
    assert len(lines) == 4 and "return x + y" not in source


def test_several_blocks_and_a_method_name_in_the_pointer():
    source = ("class A:\n    def g(self):\n        ### BEGIN SOLUTION\n        return 1\n"
              "        ### END SOLUTION\n\ndef h():\n    ### BEGIN SOLUTION\n    pass\n"
              "    ### END SOLUTION")
    out, blocks = clear_cell_source(source, "nb")
    assert blocks == 2
    assert '        raise NotImplementedError("g: ' in out
    assert '    raise NotImplementedError("h: ' in out


@pytest.mark.parametrize("source, words", [
    ("### END SOLUTION\nx = 1", "without a ### BEGIN SOLUTION before it"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "cannot nest"),
    ("x = 1\n### BEGIN SOLUTION\nx = 2", "line 2 is never closed"),
])
def test_unpaired_markers_fail_naming_notebook_and_cell(source, words):
    nb = notebook(nbformat.v4.new_markdown_cell("# title"), solution_cell(source, "q1_answer"))
    with pytest.raises(MarkerError) as err:
        make_exercise(nb, "07_topic.ipynb")
    assert "07_topic.ipynb, cell 2 (q1_answer)" in str(err.value)
    assert words in str(err.value)


def test_markers_in_a_cell_that_is_not_a_solution_cell_fail():
    nb = notebook(nbformat.v4.new_code_cell(SOLUTION))
    with pytest.raises(MarkerError, match="07.ipynb, cell 1.*not a solution cell"):
        make_exercise(nb, "07.ipynb")


def test_markers_in_markdown_fail():
    nb = notebook(nbformat.v4.new_markdown_cell("Write it between ### BEGIN SOLUTION ..."))
    with pytest.raises(MarkerError, match="cell 1.*markdown cell"):
        make_exercise(nb, "07.ipynb")


def test_a_solution_cell_without_markers_fails():
    nb = notebook(solution_cell("x = 1"))
    with pytest.raises(MarkerError, match="solution cell without"):
        make_exercise(nb, "07.ipynb")


def test_outputs_cleared_metadata_kept_volatile_metadata_dropped():
    cell = solution_cell(SOLUTION)
    cell.execution_count = 3
    cell.outputs = [nbformat.v4.new_output("stream", text="hello")]
    cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00"}
    test = nbformat.v4.new_code_cell('check("f", f)')
    test.metadata["nbgrader"] = nbgrader_meta("f", grade=True, locked=True, points=2)
    out = make_exercise(notebook(cell, test), "nb")
    first, second = out.cells
    assert first.outputs == [] and first.execution_count is None
    assert first.metadata == {"nbgrader": nbgrader_meta("f_answer", solution=True)}
    assert second.metadata["nbgrader"]["points"] == 2 and second.id == "f"
    assert second.source == 'check("f", f)'
    assert out.nbformat == 4 and out.nbformat_minor == 5


def test_output_is_byte_identical_on_rerun_and_detects_drift(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    nb = notebook(nbformat.v4.new_markdown_cell("# 07"), solution_cell(SOLUTION))
    nbformat.write(nb, solutions / "07_topic.ipynb")
    assert write_exercises(solutions, exercises) == ["07_topic.ipynb"]
    first = (exercises / "07_topic.ipynb").read_bytes()
    assert write_exercises(solutions, exercises) == []
    assert write_exercises(solutions, exercises, check=True) == []
    assert (exercises / "07_topic.ipynb").read_bytes() == first
    (exercises / "07_topic.ipynb").write_text("{}")
    assert write_exercises(solutions, exercises, check=True) == ["07_topic.ipynb"]
    assert (exercises / "07_topic.ipynb").read_text() == "{}"   # --check writes nothing


def test_cli_writes_checks_and_reports_marker_errors(tmp_path, capsys):
    solutions, out = tmp_path / "solutions", tmp_path / "out"
    solutions.mkdir()
    nbformat.write(notebook(solution_cell(SOLUTION)), solutions / "07.ipynb")
    args = ["exercises", "--solutions", str(solutions), "--out", str(out)]
    assert main(args) == 0 and (out / "07.ipynb").exists()
    assert main(args + ["--check"]) == 0
    nbformat.write(notebook(solution_cell("### END SOLUTION")), solutions / "07.ipynb")
    assert main(args) == 1
    assert "07.ipynb, cell 1" in capsys.readouterr().err


def test_cli_grade_dispatches_to_the_autograder(monkeypatch):
    seen = []
    fake = types.ModuleType("dlcore.grading.autograder.cli")
    fake.main = lambda argv: seen.append(argv) or 7
    monkeypatch.setitem(sys.modules, "dlcore.grading.autograder.cli", fake)
    assert main(["grade", "subs", "--assignment", "01_x", "--out", "o"]) == 7
    assert seen == [["subs", "--assignment", "01_x", "--out", "o"]]


def test_cli_usage_and_unknown_command(capsys):
    assert main([]) == 2
    assert main(["--help"]) == 0
    assert "python -m dlcore exercises" in capsys.readouterr().out
    assert main(["frobnicate"]) == 2
