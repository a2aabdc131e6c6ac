"""The autograder's parts, each on its own: reading, discovery, judging, journal, report.

The sandbox and the whole command are tested against hostile submissions in
``test_autograder_hostile.py``.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import os

import numpy as np
import pytest
from hostile import build, fake_spec

from dlcore.grading.autograder import compare, discover, grade, journal, reader, report, worker
from dlcore.grading.autograder.sandbox import WorkerRun
from dlcore.grading.shortcut import Shortcut
from dlcore.grading.spec import Case, decode_case, encode


def _write(path, content) -> str:
    build.write(str(path), content)
    return str(path)


# -- reader -------------------------------------------------------------------
@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"not json at all", "not valid JSON"),
    (bytes(range(256)) * 8, "not UTF-8"),
    (b"[1, 2]", "not an object"),
    (json.dumps({"nbformat": 3, "worksheets": []}).encode(), "format 3"),
    (json.dumps({"nbformat": 4}).encode(), "no list of cells"),
    (json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]}).encode(),
     "malformed source"),
    (b'{"nbformat": 4, "cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "too deeply"),
])
def test_read_notebook_turns_junk_into_a_plain_reason(tmp_path, content, words):
    path = _write(tmp_path / "x.ipynb", content)
    with pytest.raises(reader.NotebookError, match=words):
        reader.read_notebook(path)


def test_read_notebook_caps_the_size_before_parsing(tmp_path):
    path = _write(tmp_path / "big.ipynb", build.learner())
    assert reader.read_notebook(path)["nbformat"] == 4
    with pytest.raises(reader.NotebookError, match="over the"):
        reader.read_notebook(path, max_bytes=1000)


def test_read_notebook_refuses_symbolic_links_and_folders(tmp_path):
    target = _write(tmp_path / "real.ipynb", build.learner())
    os.symlink(target, tmp_path / "link.ipynb")
    with pytest.raises(reader.NotebookError, match="symbolic link"):
        reader.read_notebook(str(tmp_path / "link.ipynb"))
    with pytest.raises(reader.NotebookError, match="not a plain file"):
        reader.read_notebook(str(tmp_path))


def test_plan_takes_answer_cells_from_the_learner_and_everything_else_from_the_teacher():
    mine = build.learner(add_one="def add_one(x):\n    return x + 1  # mine\n")
    mine["cells"][1]["source"] = "import os\nos.system('rm -rf /')\n"  # setup edited
    mine["cells"][3]["source"] = "pass\n"  # test cell edited
    plan = reader.plan_cells(build.teacher(), mine)
    assert [(c.origin, c.grade_id) for c in plan.cells] == [
        ("teacher", None), ("learner", "add_one_answer"), ("learner", "scaled_sum_answer")]
    assert "import numpy" in plan.cells[0].source  # the teacher's setup, not the learner's
    assert "# mine" in plan.cells[1].source
    assert not any("assert" in c.source for c in plan.cells)  # test cells never run
    assert plan.notes == ["test cell 'add_one' was edited; the edit is ignored "
                          "(tests come from the teacher's copy)"]


def test_plan_notes_deleted_duplicated_retyped_cells_and_changed_points():
    nb = build.learner()
    dup = build.code("def scaled_sum(x, k):\n    return 99\n", "scaled_sum_answer",
                     solution=True)
    nb["cells"].append(dup)
    nb["cells"].pop(2)  # add_one_answer deleted
    nb["cells"][4]["metadata"]["nbgrader"]["points"] = 1000  # scaled_sum test cell
    plan = reader.plan_cells(build.teacher(), nb)
    assert [c.origin for c in plan.cells] == ["teacher"]  # neither answer is usable
    text = " | ".join(plan.notes)
    assert "the answer cell for part 'add_one' is missing" in text
    assert "the answer cell for part 'scaled_sum' appears 2 times" in text
    assert "points of 'scaled_sum' were changed" in text

    nb = build.learner()
    nb["cells"][2]["cell_type"] = "markdown"
    plan = reader.plan_cells(build.teacher(), nb)
    assert [c.grade_id for c in plan.cells] == [None, "scaled_sum_answer"]
    assert "no longer a code cell" in plan.notes[0]


def test_answer_cells_reaching_for_the_checker_are_flagged_for_the_teacher():
    nb = build.learner(add_one="import dlcore.grading.registry as r\n" + build.ADD_ONE,
                       scaled_sum=build.BORROW.format(name="scaled_sum", args="x, k"))
    notes = grade.flags(reader.plan_cells(build.teacher(), nb))
    assert notes == [
        "flag: cell 'add_one_answer' uses dlcore.grading; read it before trusting its points",
        "flag: cell 'scaled_sum_answer' uses .reference, dlcore.grading, sys.modules; "
        "read it before trusting its points"]
    assert grade.flags(reader.plan_cells(build.teacher(), build.learner())) == []


NP_ADD = Shortcut(r"\bnp\s*\.\s*add\b",
                  "`add_one` uses `np.add`: this exercise asks you to write x + 1 yourself.")
ENGINE_ADD_ONE = "import numpy as np\n\ndef add_one(x):\n    return np.add(x, 1)\n"


class RightAnswers:
    """A stand-in sandbox whose worker answers every case right, as a learner whose
    numbers are right (whatever their code) would."""

    def run(self, job, total=None):
        events = [{"event": "ready"}]
        for grade_id, cases in job["cases"]:
            spec = next(s for s in fake_spec.SPECS if s.grade_id == grade_id)
            events += [{"event": "result", "grade_id": grade_id, "case": k,
                        "got": encode(spec.reference(decode_case(c)))}
                       for k, c in enumerate(cases)]
        return WorkerRun(events=events + [{"event": "done"}], returncode=0, done=True)


def test_an_answer_cell_using_a_declared_shortcut_scores_zero_with_its_message(tmp_path):
    specs = [dataclasses.replace(fake_spec.ADD_ONE, shortcuts=(NP_ADD,)), fake_spec.SCALED_SUM]
    assignment = grade.Assignment.build("99_fake", specs, "tests.hostile.fake_spec",
                                        build.teacher(), seed=7, timeout=5)
    path = _write(tmp_path / "a.ipynb", build.learner(add_one=ENGINE_ADD_ONE))
    result = grade.grade_submission(discover.Submission("a", path), assignment, RightAnswers())
    assert result["scores"] == {"add_one": 0.0, "scaled_sum": 2.0}
    assert result["status"] == "graded" and result["total"] == 2.0
    assert result["reason"] == NP_ADD.message  # not also "failed: add_one"
    add_one = result["functions"][0]
    assert add_one["cases"] == [{"case": "your code", "passed": False,
                                 "message": NP_ADD.message, "hint": "",
                                 "kind": "refused"}]
    page = report.feedback_html(result, "99_fake")
    assert "add_one: 0 / 1" in page and "<code>" not in page
    assert "`add_one` uses `np.add`: this exercise asks you to write x + 1 yourself." in page
    row = report.gradebook_csv([result], ["add_one", "scaled_sum"]).splitlines()[1]
    assert row == f'a,graded,{NP_ADD.message},0,2,2,3'

    honest = build.learner(add_one="import numpy as np\n\ndef add_one(x):\n"
                                   "    return x + 1  # rather than np.add(x, 1)\n")
    path = _write(tmp_path / "b.ipynb", honest)
    result = grade.grade_submission(discover.Submission("b", path), assignment, RightAnswers())
    assert result["total"] == 3.0 and result["reason"] == "all tests passed"


def test_refusals_read_only_the_learners_answer_cells():
    specs = [dataclasses.replace(fake_spec.ADD_ONE, shortcuts=(NP_ADD,)), fake_spec.SCALED_SUM]
    teacher = build.teacher()
    teacher["cells"][1]["source"] += "np.add(1, 2)\n"  # the teacher's own cell may use it
    plan = reader.plan_cells(teacher, build.learner(scaled_sum=ENGINE_ADD_ONE))
    assert grade.refusals(plan, specs) == {}  # np.add in another part's cell: not this rule
    plan = reader.plan_cells(teacher, build.learner(add_one=ENGINE_ADD_ONE))
    assert grade.refusals(plan, specs) == {"add_one": NP_ADD.message}


def test_worker_turns_magics_into_pass_and_keeps_indentation():
    src = "%matplotlib inline\nif True:\n    !ls\n    x = 1\n"
    assert worker._strip_magics(src) == "pass\nif True:\n    pass\n    x = 1\n"


# -- discover ------------------------------------------------------------------
def test_discover_reads_the_three_layouts_and_names_every_learner(tmp_path):
    nb = build.learner()
    os.makedirs(tmp_path / "ana" / "99_fake")
    _write(tmp_path / "ana" / "99_fake" / "99_fake.ipynb", nb)  # nbgrader
    _write(tmp_path / "Bo, Zoë.ipynb", nb)  # STUDENT.ipynb
    os.makedirs(tmp_path / "cy")
    _write(tmp_path / "cy" / "whatever.ipynb", nb)  # STUDENT/*.ipynb
    os.makedirs(tmp_path / "dee")  # no notebook at all
    os.makedirs(tmp_path / "eve")
    _write(tmp_path / "eve" / "a.ipynb", nb)
    _write(tmp_path / "eve" / "b.ipynb", nb)
    os.makedirs(tmp_path / ".ipynb_checkpoints")
    _write(tmp_path / "cy.ipynb", nb)  # a second "cy"
    _write(tmp_path / "notes.txt", b"not a submission")
    os.makedirs(tmp_path / "graded" / "feedback")  # the grader's own output folder
    subs = discover.find_submissions(str(tmp_path), "99_fake",
                                     exclude=(str(tmp_path / "graded"),))
    by_name = {s.student: s for s in subs}
    assert sorted(by_name) == ["Bo, Zoë", "ana", "cy", "cy (2)", "dee", "eve"]
    assert by_name["ana"].path.endswith(os.path.join("ana", "99_fake", "99_fake.ipynb"))
    assert by_name["cy"].path and by_name["cy (2)"].path
    assert by_name["dee"].path is None and "no notebook" in by_name["dee"].problem
    assert by_name["eve"].path is None and "several notebooks" in by_name["eve"].problem


# -- compare -------------------------------------------------------------------
def _judge(events):
    specs = fake_spec.specs_for("99_fake")
    cases = {s.grade_id: s.cases([7]) for s in specs}
    expected = {s.grade_id: [s.reference(c) for c in cases[s.grade_id]] for s in specs}
    return compare.judge(specs, cases, expected, events, "no answer"), cases


def test_judge_gives_points_only_when_every_case_is_right():
    _, cases = _judge([])
    right = [{"event": "result", "grade_id": "add_one", "case": k,
              "got": encode(c.inputs["x"] + 1)} for k, c in enumerate(cases["add_one"])]
    graded, _ = _judge(right)
    assert [(g.grade_id, g.earned) for g in graded] == [("add_one", 1.0), ("scaled_sum", 0.0)]
    assert graded[1].outcomes[0].message == "no answer"
    graded, _ = _judge(right[:1])
    assert graded[0].earned == 0.0


def test_judge_gives_nothing_for_repeated_malformed_or_forged_answers():
    _, cases = _judge([])
    right = [{"event": "result", "grade_id": "add_one", "case": k,
              "got": encode(c.inputs["x"] + 1)} for k, c in enumerate(cases["add_one"])]
    assert _judge(right + right[:1])[0][0].earned == 0.0  # case 0 answered twice
    bad = {"__array__": "float64", "shape": [99], "data": [1.0]}
    graded, _ = _judge([{**right[0], "got": bad}, right[1]])
    assert graded[0].earned == 0.0 and "not plain data" in graded[0].outcomes[0].message
    weird = {"__array__": "object", "shape": [], "data": [print]}
    assert _judge([{**right[0], "got": weird}, right[1]])[0][0].earned == 0.0
    wrong_case_type = [{**r, "case": float(r["case"])} for r in right]
    assert _judge(wrong_case_type)[0][0].earned == 0.0


def test_judge_reports_the_learners_error_in_plain_words():
    err = {"type": "NotImplementedError", "message": "", "line": 2, "code": "raise"}
    graded, _ = _judge([{"event": "result", "grade_id": "scaled_sum", "case": 0,
                         "error": err}])
    assert "still raises NotImplementedError" in graded[1].outcomes[0].message


# -- journal -------------------------------------------------------------------
def test_audit_lines_cannot_claim_the_flags_only_the_grader_gives():
    """The worker's audit lines come from the learner's process: a line claiming
    "suspect code" or "isolation" (a weaker cluster worker) is ignored."""
    events = [{"event": "audit", "kind": k, "detail": f"{k} line"}
              for k in ("isolation", "suspect code", "network", "no such kind")]
    found = grade._sandbox_flags(grade.Runs(runs=[WorkerRun(events=events)]))
    assert [(f.kind.value, f.detail) for f in found] == [("network", "network line")]


def test_journal_resumes_with_the_same_seed_and_skips_finished_work(tmp_path):
    j = journal.Journal(str(tmp_path), "99_fake")
    seed = j.seed
    j.start("ana", "d1")
    j.end("ana", "d1", {"student": "ana", "total": 3})
    j.start("bo", "d2")  # killed while grading bo
    j.close()
    with open(tmp_path / journal.FILENAME, "a") as f:
        f.write('{"kind": "end", "student": "cy", "dig')  # torn last line
    j = journal.Journal(str(tmp_path), "99_fake")
    assert j.seed == seed
    assert j.finished("ana", "d1") == {"student": "ana", "total": 3}
    assert j.finished("ana", "changed file") is None
    assert j.finished("cy", "d3") is None
    assert j.unfinished_starts("bo", "d2") == 1
    j.start("bo", "d2")
    j.close()
    assert journal.Journal(str(tmp_path), "99_fake").unfinished_starts("bo", "d2") == 2
    lines = (tmp_path / journal.FILENAME).read_text().splitlines()
    whole = [line for line in lines if line.startswith("{") and line.endswith("}")]
    assert len(whole) == 5  # run, 3 starts, 1 end: the torn line stays apart
    with pytest.raises(journal.JournalError, match="another assignment"):
        journal.Journal(str(tmp_path), "01_other")


# -- report --------------------------------------------------------------------
NAMES = ["O'Brien, Séan", 'say "hi"\nnewline', "<b>bold</b> & co", ".hidden", "a/b"]


def _result(student, total=1.0):
    return {"student": student, "status": "graded", "reason": "failed: x, y",
            "scores": {"add_one": total, "scaled_sum": 0.0}, "total": total,
            "max_total": 3.0, "notes": ["cell 'add_one_answer' raised <ValueError>"],
            "functions": [{"grade_id": "add_one", "name": "add_one", "points": 1.0,
                           "earned": total, "cases": [
                               {"case": "case 1 <3 numbers>", "passed": False,
                                "message": "expected 1 & got <2>", "hint": "add <one>"}]}]}


def test_gradebook_has_one_row_per_learner_and_survives_any_name(tmp_path):
    results = [_result(n, float(i)) for i, n in enumerate(NAMES)]
    report.write_report(str(tmp_path), results, ["add_one", "scaled_sum"], "99_fake")
    with open(tmp_path / "gradebook.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["student", "status", "reason", "add_one", "scaled_sum", "total",
                       "max_total"]
    assert [r[0] for r in rows[1:]] == NAMES
    assert [r[5] for r in rows[1:]] == ["0", "1", "2", "3", "4"]
    feedback = sorted(os.listdir(tmp_path / "feedback"))
    assert len(feedback) == len(NAMES) and not any(n.startswith(".") for n in feedback)
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp-")]


def test_feedback_escapes_everything_and_says_what_failed_and_why():
    page = report.feedback_html(_result("<script>alert(1)</script>"), "99_<fake>")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "expected 1 &amp; got &lt;2&gt;" in page
    assert "Hint: add &lt;one&gt;" in page
    assert "1 / 3" in page and "failed" in page
    assert "&lt;ValueError&gt;" in page


def test_feedback_names_are_unique_whatever_the_case():
    taken: set[str] = set()
    names = [report.feedback_name(n, taken) for n in ("Ann", "ann", "a/b", "a_b", "..")]
    assert names == ["Ann.html", "ann~2.html", "a_b.html", "a_b~2.html", "_.html"]


def test_gradebook_cells_never_start_a_spreadsheet_formula():
    text = report.gradebook_csv([_result("=HYPERLINK(\"http://x\")"), _result("@sum"),
                                 _result("-1"), _result("fine")], ["add_one", "scaled_sum"])
    names = [row["student"] for row in csv.DictReader(io.StringIO(text))]
    assert names == ["'=HYPERLINK(\"http://x\")", "'@sum", "'-1", "fine"]


def test_gradebook_csv_round_trips_numbers():
    text = report.gradebook_csv([_result("x", 0.5)], ["add_one", "scaled_sum"])
    row = list(csv.DictReader(io.StringIO(text)))[0]
    assert (row["add_one"], row["total"], row["max_total"]) == ("0.5", "0.5", "3")


def test_fake_assignment_references_are_plain_and_right():
    spec = fake_spec.ADD_ONE
    case = Case("x", {"x": np.array([1.0, 2.0])})
    assert spec.compare(np.array([2.0, 3.0]), spec.reference(case), case).passed
    assert not spec.compare(np.array([3.0, 4.0]), spec.reference(case), case).passed


def test_a_temporary_folder_holding_the_interpreter_stays_and_others_are_replaced():
    """A checkout with its venv under /tmp (as a CI clone may be) must stay visible to the
    worker, or its packages vanish when /tmp is swapped for a private tmpfs."""
    from dlcore.grading.autograder import confine

    assert confine._shared_temp(["/tmp/ci/.venv", "/usr/lib/python3"]) == ["/tmp"]
    assert confine._shared_temp(["/work/main/.venv", "/usr/lib/python3"]) == []
    assert confine._shared_temp(["/tmpfoo/x"]) == []
