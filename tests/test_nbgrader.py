"""Real nbgrader takes the solution notebooks as they are: `generate_assignment` accepts
them, and `autograde` gives a solution full marks and an untouched exercise zero.

Runs nbgrader (0.9) in a temporary course folder with its own config and gradebook.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlcore.grading import assignments, specs_for

pytest.importorskip("nbgrader")

ROOT = Path(__file__).resolve().parents[1]
NAMES = [a for a in assignments() if (ROOT / "solutions" / f"{a}.ipynb").exists()]

CONFIG = """c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = "dlcore-test"
c.CourseDirectory.db_assignments = [dict(name=n) for n in {names!r}]
c.CourseDirectory.db_students = [dict(id="solved"), dict(id="untouched")]
"""


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["JUPYTER_CONFIG_DIR"] = str(course / ".jupyter")   # no user config leaks in
    env["JUPYTER_DATA_DIR"] = str(course / ".jupyter-data")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--force"], cwd=course,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"nbgrader {args[0]} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.mark.slow
@pytest.mark.notebooks
def test_nbgrader_generates_and_autogrades_the_exercises(tmp_path):
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    for name in NAMES:
        for folder, source in (("source", "solutions"), ("submitted/solved", "solutions"),
                               ("submitted/untouched", "exercises")):
            target = course / folder / name
            target.mkdir(parents=True)
            shutil.copy(ROOT / source / f"{name}.ipynb", target / f"{name}.ipynb")
    (course / "nbgrader_config.py").write_text(CONFIG.format(root=str(course), names=NAMES))

    nbgrader(course, "generate_assignment", "*")
    for name in NAMES:
        assert (course / "release" / name / f"{name}.ipynb").exists()
    nbgrader(course, "autograde", "*")

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for name in NAMES:
            total = sum(s.points for s in specs_for(name))
            solved = gradebook.find_submission(name, "solved")
            untouched = gradebook.find_submission(name, "untouched")
            assert (solved.score, solved.max_score) == (total, total), name
            assert (untouched.score, untouched.max_score) == (0, total), name
            grades = gradebook.find_submission_notebook(name, name, "solved").grades
            assert sorted(g.name for g in grades) == sorted(s.grade_id for s in specs_for(name))
