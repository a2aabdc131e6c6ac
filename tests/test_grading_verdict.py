"""The one grading core: outcome kinds, the credit rule, near misses, the wording of
feedback read after the deadline, and the plan's answers found without metadata."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hostile import build, fake_spec

from dlcore.grading.autograder import compare, grade, reader
from dlcore.grading.autograder.result import PartStatus, Result, Status
from dlcore.grading.check import run_check
from dlcore.grading.compare import near_miss
from dlcore.grading.spec import Case, Credit, Kind, LearnerError, Outcome
from dlcore.grading.verdict import verdict

MOMENTS = fake_spec.MOMENTS


def right_moments(x, eps):
    return x.mean(), np.sqrt(x.var() + eps)


def no_eps_moments(x, eps):
    return x.mean(), np.sqrt(x.var())


def test_outcome_kind_follows_passed_and_round_trips_as_json():
    assert Outcome("c", True, "right").kind is Kind.RIGHT
    assert Outcome("c", False, "no").kind is Kind.WRONG
    o = Outcome("c", False, "close: off by 1e-06", "hint", Kind.CLOSE, {"a": True})
    back = Outcome.from_plain(json.loads(json.dumps(o.to_plain())))
    assert back == o and not back.passed


def test_per_output_credit_earns_each_output_apart_and_says_what_earned_what():
    report = run_check(MOMENTS, {"moments": no_eps_moments})
    v = report.verdict
    assert v.credit is Credit.PER_OUTPUT and v.earned == 1.0 and not v.passed
    assert v.earned_by == ["mean: 1 point (right in every case)",
                           "std: 0 of 1 point (wrong in every case)"]
    assert "1 point of 2 points so far" in report.text()
    assert run_check(MOMENTS, {"moments": right_moments}).verdict.earned == 2.0


def test_per_output_credit_needs_the_output_right_in_every_case():
    calls = iter(range(10))

    def right_once(x, eps):  # std right in the first case only
        return x.mean(), np.sqrt(x.var() + (eps if next(calls) == 0 else 0.5))

    v = run_check(MOMENTS, {"moments": right_once}).verdict
    assert v.earned == 1.0 and "std: 0 of 1 point (wrong in case 2)" in v.earned_by


def test_per_case_and_all_or_nothing_credit():
    outcomes = [Outcome("case 1", True, "right"), Outcome("case 2", False, "wrong"),
                Outcome("case 3", True, "right")]
    spec = dataclasses.replace(fake_spec.SCALED_SUM, credit=Credit.PER_CASE)
    v = verdict(spec, outcomes)
    assert v.earned == 1.33 and v.earned_by == ["2 of 3 cases right: 1.33 of 2 points "
                                                "(0.67 points each)"]
    v = verdict(fake_spec.SCALED_SUM, outcomes)
    assert v.earned == 0.0 and "every case must be right" in v.earned_by[0]
    assert verdict(fake_spec.SCALED_SUM, outcomes[:1]).earned == 2.0
    refused = verdict(fake_spec.SCALED_SUM, outcomes, "uses np.sum")
    assert refused.earned == 0.0 and refused.outcomes[0].kind is Kind.REFUSED


def test_a_near_miss_says_close_and_names_eps_when_it_explains_the_gap():
    report = run_check(MOMENTS, {"moments": no_eps_moments})
    closes = [o for o in report.outcomes if o.kind is Kind.CLOSE]
    assert closes, report.text()
    assert all(o.message.startswith("close: off by ") for o in closes)
    assert any(", about the size of eps (1e-05)" in o.message for o in closes)
    case = Case("c", {"x": np.zeros(2), "eps": 1e-5})
    spec = fake_spec.ADD_ONE
    o = spec.compare(np.array([1.0, 1.0 + 5.6e-6 * 1e3]), np.array([1.0, 1.0]), case)
    assert o.kind is Kind.WRONG  # 0.56% off: not a near miss
    o = spec.compare(np.array([1.0, 1.0 + 5.6e-4]), np.array([1.0, 1.0]), case)
    assert o.kind is Kind.CLOSE and o.message.startswith("close: off by 0.00056;")
    assert "eps" not in o.message.split(";")[0]  # 56 times eps: not its size


def test_near_miss_needs_the_same_structure():
    assert near_miss(np.ones(3), np.ones(3)) is None
    assert near_miss(np.ones(3), np.ones(4)) is None
    assert near_miss({"a": 1.0}, {"a": 1.0, "b": 2.0}) is None
    assert near_miss([1.0, np.array([2.0])], [1.0, np.array([2.0 + 1e-6])]) == \
        pytest.approx(1e-6)
    assert near_miss(np.array([np.nan]), np.array([1.0])) is None


def test_kinds_come_from_the_error_type_not_the_message():
    spec = fake_spec.ADD_ONE
    case = Case("case 1", {"x": np.zeros(2)})
    kinds = {t: spec.judge(case, error=LearnerError(t, "whatever")).kind for t in
             ("NotImplementedError", "MissingName", "AnswerError", "CaseTimeout", "KeyError")}
    assert kinds == {"NotImplementedError": Kind.NOT_IMPLEMENTED, "MissingName": Kind.MISSING,
                     "AnswerError": Kind.UNREADABLE, "CaseTimeout": Kind.TIMEOUT,
                     "KeyError": Kind.RAISED}


def test_feedback_after_the_deadline_says_what_the_code_did_not_what_to_do_now():
    spec = fake_spec.ADD_ONE
    case = Case("case 1", {"x": np.zeros(2)})
    raised = LearnerError("ValueError", "bad shape", 3, "return x @ y", cell=2)
    now = spec.judge(case, error=raised).message
    after = spec.judge(case, error=raised, graded=True,
                       place="your answer for part 'add_one'").message
    assert now == "your code raised ValueError at line 3: `return x @ y` (bad shape)"
    assert after == ("your `add_one` raised ValueError at line 3 of your answer for part "
                     "'add_one': `return x @ y` (bad shape)")
    stub = LearnerError("NotImplementedError", "")
    assert "run this check again" in spec.judge(case, error=stub).message
    late = spec.judge(case, error=stub, graded=True).message
    assert "run this check again" not in late and "still raises NotImplementedError" in late
    missing = LearnerError("MissingName", "`add_one` is not defined: run the cell ...")
    assert spec.judge(case, error=missing, graded=True).message == \
        "`add_one` is not defined in your notebook"


def test_the_check_and_the_grader_judge_a_case_alike():
    """The same answer, judged in the notebook and from a worker's line, gives the same
    outcome (kind, message, hint)."""
    spec = fake_spec.ADD_ONE
    cases = spec.cases([5])
    wrong = [c.inputs["x"] + 2.0 for c in cases]
    in_notebook = run_check(spec, {"add_one": lambda x: x + 2.0}, seeds=(5,)).outcomes
    from dlcore.grading.spec import encode
    events = [{"event": "result", "grade_id": "add_one", "case": k, "got": encode(w)}
              for k, w in enumerate(wrong)]
    graded = compare.judge_part(spec, cases, [spec.reference(c) for c in cases], events,
                                "no answer").outcomes
    assert [(o.kind, o.message, o.hint) for o in in_notebook] == \
        [(o.kind, o.message, o.hint) for o in graded]
    assert graded[0].hint == "You added 2, not 1."


# -- the plan: answers without metadata, renamed functions, helpers -------------------
def _pasted(*sources):
    """A fresh notebook with code pasted in: no grading metadata at all."""
    return build.notebook([build.code(s) for s in sources])


def test_a_pasted_notebook_is_graded_by_the_functions_its_cells_define():
    nb = _pasted("import numpy as np\n", build.ADD_ONE, "add_one(np.zeros(2))\n",
                 build.SCALED_SUM)
    plan = reader.plan_cells(build.teacher(), nb, {"add_one_answer": "add_one",
                                                   "scaled_sum_answer": "scaled_sum"})
    answers = {c.grade_id: c.source for c in plan.cells if c.origin == "learner"}
    assert answers == {"add_one_answer": build.ADD_ONE, "scaled_sum_answer": build.SCALED_SUM}
    assert "found by the function it defines (`add_one`)" in plan.part_notes["add_one"][0]
    assert not [n for n in plan.notes if "missing" in n]
    assert not [c for c in plan.cells if c.origin == "helper"]  # the answers are claimed


def test_helper_cells_the_learner_added_run_their_definitions_only():
    nb = build.learner(add_one="def add_one(x):\n    return plus(x, 1)\n")
    nb["cells"].insert(2, build.code("import math\nprint('noise')\n\ndef plus(a, b):\n"
                                     "    return a + b\nplus(1, 2)\n"))
    plan = reader.plan_cells(build.teacher(), nb, {"add_one_answer": "add_one"})
    helper = [c for c in plan.cells if c.origin == "helper"]
    assert len(helper) == 1 and plan.cells[-1] is helper[0]
    assert helper[0].source.splitlines() == ["import math", "", "", "def plus(a, b):",
                                             "    return a + b", ""]
    assert any("a cell you added (defining `plus`)" in n for n in plan.notes)


def test_a_renamed_function_is_named_in_the_part():
    plan = reader.plan_cells(build.teacher(), build.learner(
        add_one="def add_ones(x):\n    return x + 1\n"))
    notes = grade._renamed(fake_spec.ADD_ONE, grade._learner_definitions(plan),
                           {"add_one", "scaled_sum"})
    assert notes == ["found `add_ones`; the task asks for `add_one` (the name is part of the "
                     "task: the grader calls the function by it)"]
    assert grade._renamed(fake_spec.ADD_ONE, ["train", "scaled_sum"], {"scaled_sum"}) == []


def test_cells_are_named_by_part_not_by_the_teachers_numbers():
    teacher = build.teacher()
    teacher["cells"].insert(3, build.code("print(add_one(np.ones(2)))\n"))  # a demo cell
    plan = reader.plan_cells(teacher, build.learner())
    labels = [grade.cell_label(plan, i) for i in range(len(plan.cells))]
    assert labels == ["the ungraded cell before part 'add_one'",
                      "your answer for part 'add_one'",
                      "the ungraded cell before part 'scaled_sum'",
                      "your answer for part 'scaled_sum'"]


# -- the typed result ------------------------------------------------------------------
def test_the_result_is_json_and_reads_back_and_reads_the_first_version():
    assignment = grade.Assignment.build("99_fake", fake_spec.SPECS, "tests.hostile.fake_spec",
                                        build.teacher(), seed=3, timeout=5)
    from dlcore.grading.autograder.discover import Submission
    r = grade.empty(Submission("ana", None, "no notebook"), assignment, Status.MISSING,
                    "no notebook")
    d = json.loads(json.dumps(r.to_dict()))
    assert Result.from_dict(d) == r
    assert d["scores"] == {"add_one": 0.0, "scaled_sum": 0.0} and d["status"] == "missing"
    old = {"student": "bo", "status": "graded", "reason": "failed: add_one",
           "scores": {"add_one": 0.0, "scaled_sum": 2.0}, "total": 2.0, "max_total": 3.0,
           "functions": [{"grade_id": "scaled_sum", "name": "scaled_sum", "points": 2.0,
                          "earned": 2.0, "cases": [{"case": "case 1", "passed": True,
                                                    "message": "right", "hint": ""}]}],
           "notes": []}
    back = Result.from_dict(old)
    assert back.total == 2.0 and back.scores == {"scaled_sum": 2.0, "add_one": 0.0}
    assert back.parts[0].status is PartStatus.PASSED
