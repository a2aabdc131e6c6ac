"""The course's side of grading, piece by piece: roster, late policy, overrides, the
gradebook rows, class statistics, LMS files and copy detection (on a generated class)."""
from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime, timedelta

import classroom
import pytest

from dlcore.grading.autograder.discover import Submission
from dlcore.grading.course import lms, similarity
from dlcore.grading.course.book import Policy, course_row
from dlcore.grading.course.late import (
    LateError,
    Submitted,
    lateness,
    parse_when,
    read_extensions,
    submitted_at,
)
from dlcore.grading.course.overrides import OverrideError, check_students, read_overrides
from dlcore.grading.course.roster import RosterError, match, read_roster
from dlcore.grading.course.stats import part_stats, parts_csv


def _write(path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- roster ---------------------------------------------------------------------------
def test_roster_gives_everyone_a_row_and_keeps_unmatched_submissions(tmp_path):
    roster = read_roster(_write(tmp_path / "r.csv", "student,name,email\nalice,Alice A,a@x\n"
                                                    "Bob,Bob B,b@x\ncarol,Carol C,c@x\n"))
    assert roster.columns == ["name", "email"]
    subs = [Submission("alice", "/s/alice.ipynb"), Submission("bob", "/s/bob.ipynb"),
            Submission("mallory", "/s/mallory.ipynb")]
    matched = match(roster, subs)
    assert [s.student for s in matched.submissions] == ["alice", "Bob", "carol", "mallory"]
    assert matched.unmatched == ["mallory"] and matched.missing == ["carol"]
    carol = matched.submissions[2]
    assert carol.path is None and "nothing was handed in" in carol.problem


@pytest.mark.parametrize("text, words", [
    ("name,email\nA,a@x\n", "no 'student' column"),
    ("student,name\nalice,A\nalice,B\n", "listed twice"),
    ("student,name\n,A\n", "empty 'student'"),
])
def test_a_bad_roster_is_refused_with_where_and_why(tmp_path, text, words):
    with pytest.raises(RosterError, match=words):
        read_roster(_write(tmp_path / "r.csv", text))


# -- late policy ----------------------------------------------------------------------
def test_a_due_date_without_a_time_zone_is_refused():
    with pytest.raises(LateError, match="no time zone"):
        parse_when("2026-12-01T23:59")
    assert parse_when("2026-12-01T23:59Z") == datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
    assert parse_when("2026-12-01 22:59:00.5 UTC").utcoffset() == timedelta(0)


def test_each_started_day_late_costs_the_penalty_and_never_more_than_everything():
    due = parse_when("2026-12-01T12:00+00:00")
    assert lateness(due, due, 10).days == 0
    assert lateness(due + timedelta(minutes=1), due, 10).percent == 10
    assert lateness(due + timedelta(hours=24, minutes=1), due, 10).days == 2
    assert lateness(due + timedelta(days=30), due, 10).percent == 100


def test_submission_time_comes_from_nbgraders_timestamp_else_the_file(tmp_path):
    folder = tmp_path / "alice" / "04"
    folder.mkdir(parents=True)
    nb = _write(folder / "04.ipynb", "{}")
    _write(folder / "timestamp.txt", "2026-12-02 10:00:00.123456 UTC")
    stamped = submitted_at(nb, learner_folder=True)
    assert stamped.source == "timestamp.txt"
    assert stamped.when == datetime(2026, 12, 2, 10, 0, 0, 123456, tzinfo=UTC)
    os.utime(nb, (1_700_000_000, 1_700_000_000))
    plain = submitted_at(nb, learner_folder=False)  # a STUDENT.ipynb: no shared stamp
    assert plain.source == "mtime" and plain.when.timestamp() == 1_700_000_000


def test_extensions_need_a_time_zone_too(tmp_path):
    good = read_extensions(_write(tmp_path / "e.csv", "student,due\nbob,2026-12-05T12:00Z\n"))
    assert good["bob"].day == 5
    with pytest.raises(LateError, match="line 2: due.*no time zone"):
        read_extensions(_write(tmp_path / "bad.csv", "student,due\nbob,2026-12-05T12:00\n"))


# -- overrides and gradebook rows -------------------------------------------------------
MAX = {"add_one": 1.0, "scaled_sum": 2.0, "total": 3.0}


@pytest.mark.parametrize("text, words", [
    ("student,part,points,comment\nann,nope,1,x\n", "no part 'nope'"),
    ("student,part,points,comment\nann,add_one,5,x\n", "worth 0 to 1"),
    ("student,part,points,comment\nann,add_one,one,x\n", "not a number"),
    ("student,points\nann,1\n", "needs the columns"),
])
def test_bad_overrides_are_refused_before_grading(tmp_path, text, words):
    with pytest.raises(OverrideError, match=words):
        read_overrides(_write(tmp_path / "o.csv", text), MAX)


def test_overrides_naming_nobody_are_refused(tmp_path):
    found = read_overrides(_write(tmp_path / "o.csv", "student,part,points,comment\n"
                                                      "zed,add_one,1,typo?\n"), MAX)
    with pytest.raises(OverrideError, match="'zed'"):
        check_students(found, {"ann"}, "o.csv")


def _result(student, scores):
    return {"student": student, "status": "graded", "reason": "failed: scaled_sum",
            "scores": dict(scores), "total": sum(scores.values()), "max_total": 3.0,
            "functions": [], "notes": []}


def test_penalty_applies_to_the_raw_total_and_overrides_come_last(tmp_path):
    due = parse_when("2026-12-01T12:00Z")
    overrides = read_overrides(_write(tmp_path / "o.csv", "student,part,points,comment\n"
                                      "ann,scaled_sum,2,regraded by hand\n"
                                      "bob,total,3,penalty waived: illness\n"), MAX)
    policy = Policy(due=due, penalty_percent=10, overrides=overrides,
                    extensions={"cat": due + timedelta(days=3)})
    late = Submitted(due + timedelta(hours=30), "timestamp.txt")  # 2 started days
    ann = course_row(_result("ann", {"add_one": 1.0, "scaled_sum": 0.0}), late, policy)
    assert ann["scores"]["scaled_sum"] == 2.0 and ann["raw_total"] == 3.0
    assert ann["course"]["penalty"] == "0.6" and ann["total"] == 2.4
    assert ann["course"]["late_by"] == "1d 6h 00m"
    assert ann["course"]["submitted_from"] == "timestamp.txt"
    assert "scaled_sum: 0 -> 2 (regraded by hand)" in ann["course"]["overrides"]
    bob = course_row(_result("bob", {"add_one": 1.0, "scaled_sum": 2.0}), late, policy)
    assert bob["course"]["penalty"] == "0.6" and bob["total"] == 3.0  # the teacher's word
    cat = course_row(_result("cat", {"add_one": 1.0, "scaled_sum": 2.0}), late, policy)
    assert cat["total"] == 3.0 and cat["course"]["late_by"] == ""  # within the extension


def test_the_gradebook_of_a_plain_run_keeps_its_columns_and_a_course_run_adds_after():
    from dlcore.grading.autograder.report import gradebook_csv
    row = _result("ann", {"add_one": 1.0, "scaled_sum": 0.0})
    plain = gradebook_csv([course_row(row, Submitted(None, ""), Policy())],
                          ["add_one", "scaled_sum"])
    assert plain.split("\n")[0] == "student,status,reason,add_one,scaled_sum,total,max_total"
    due = parse_when("2026-12-01T12:00Z")
    rich = gradebook_csv([course_row(row, Submitted(due, "mtime"), Policy(due=due))],
                         ["add_one", "scaled_sum"])
    assert rich.split("\n")[0] == ("student,status,reason,add_one,scaled_sum,total,max_total,"
                                   "submitted,submitted_from,due,late_by,raw_total,penalty")


def test_feedback_shows_lateness_and_overrides_escaped():
    from dlcore.grading.autograder.report import feedback_html
    due = parse_when("2026-12-01T12:00Z")
    policy = Policy(due=due, penalty_percent=5, overrides=[])
    from dlcore.grading.course.overrides import Override
    policy.overrides = [Override("ann", "add_one", 1.0, "<b>see me</b>")]
    row = course_row(_result("ann", {"add_one": 0.0, "scaled_sum": 2.0}),
                     Submitted(due + timedelta(hours=2), "mtime"), policy)
    page = feedback_html(row, "99_fake")
    assert "1 started day late, 5% of your 3 points" in page
    assert "add_one: 0 &rarr; 1 points: &lt;b&gt;see me&lt;/b&gt;" in page
    assert "<b>see me</b>" not in page
    row["functions"] = [{"grade_id": "add_one", "name": "add_one", "points": 1, "earned": 0,
                         "cases": [{"case": "c", "passed": False, "message": "m", "hint": ""}]}]
    page = feedback_html(row, "99_fake")
    assert "add_one: 1 / 1" in page  # the teacher's points, not the graded 0
    assert "Your teacher changed these points from 0 to 1: &lt;b&gt;see me" in page


# -- statistics ---------------------------------------------------------------------------
def test_parts_csv_counts_learners_and_the_hints_that_fired():
    from hostile import fake_spec
    def row(student, add, hint):
        r = _result(student, {"add_one": add, "scaled_sum": 0.0})
        r["functions"] = [{"grade_id": "add_one", "name": "add_one", "points": 1,
                           "earned": add, "cases": [{"case": "c1", "passed": add == 1,
                                                     "message": "m", "hint": hint}] * 2}]
        return r
    rows = [row("a", 1.0, ""), row("b", 0.0, "You left out the one."),
            row("c", 0.0, "You left out the one."),
            dict(_result("d", {"add_one": 0.0, "scaled_sum": 0.0}), status="missing")]
    stats = part_stats(rows, [fake_spec.ADD_ONE, fake_spec.SCALED_SUM])
    add = stats[0]
    assert (add.handed_in, add.full, add.zero) == (3, 1, 2)
    assert add.mistakes == [("hint: You left out the one.", 2)]  # learners, not cases
    table = list(csv.DictReader(io.StringIO(parts_csv(stats))))
    assert table[0]["pass_rate"] == "0.333" and table[0]["top_mistake_learners"] == "2"


# -- LMS files ------------------------------------------------------------------------------
def _out(tmp_path, name, rows):
    folder = tmp_path / name
    folder.mkdir()
    _write(folder / "journal.jsonl", f'{{"kind": "run", "assignment": "{name}", "seed": 1}}\n')
    _write(folder / "gradebook.csv", "student,status,reason,total,max_total\n" + "".join(
        f"{s},graded,ok,{t},{m}\n" for s, t, m in rows))
    return str(folder)


def test_lms_files_have_the_documented_columns(tmp_path):
    a = lms.read_out(_out(tmp_path, "01_neurons", [("alice", 4, 4), ("bob", 2.5, 4)]))
    b = lms.read_out(_out(tmp_path, "02_forward", [("alice", 7, 9)]))
    roster = read_roster(_write(tmp_path / "r.csv", "student,name,email,sis_id,section\n"
                                "alice,\"Liddell, Alice\",alice@uni.edu,S1,A\n"
                                "bob,\"Dylan, Bob\",bob@uni.edu,S2,B\n"
                                "carol,Carol,c@uni.edu,S3,A\n"))
    plain = list(csv.reader(io.StringIO(lms.write_book([a, b], roster, "csv"))))
    assert plain[0] == ["student", "name", "email", "sis_id", "section", "01_neurons",
                        "02_forward", "total", "max_total"]
    assert plain[2] == ["bob", "Dylan, Bob", "bob@uni.edu", "S2", "B", "2.5", "", "2.5", "13"]
    assert plain[3][5:7] == ["", ""]  # carol: no row anywhere, not zero
    canvas = list(csv.reader(io.StringIO(lms.write_book([a, b], roster, "canvas"))))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                         "01_neurons", "02_forward"]
    assert canvas[1][0].strip() == "Points Possible" and canvas[1][5:] == ["4", "9"]
    assert canvas[2] == ["Liddell, Alice", "", "S1", "", "A", "4", "7"]
    moodle = list(csv.reader(io.StringIO(lms.write_book([a, b], roster, "moodle"))))
    assert moodle[0] == ["Email address", "01_neurons", "02_forward"]
    assert moodle[1] == ["alice@uni.edu", "4", "7"]
    assert list(csv.reader(io.StringIO(lms.write_book([a], None, "moodle"))))[0][0] == "Username"
    with pytest.raises(lms.GradebookError, match="twice"):
        lms.write_book([a, a], None, "csv")


# -- copy detection --------------------------------------------------------------------------
def test_normalising_ignores_names_comments_and_strings():
    keep = frozenset({"f"})
    one = similarity.tokens("def f(x):\n    total = x + 1  # add\n    return total\n", keep)
    two = similarity.tokens("def f(a):\n    '''doc'''\n    s = a + 1\n    return s", keep)
    assert [t.text for t in one] == [t.text for t in two if t.text != "S"]
    assert "np" in [t.text for t in similarity.tokens("np.sum(v)")]


def _answers(klass):
    base = classroom.exercise()
    stubs, answers = {}, {}
    for cell in base["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
        if gid.endswith("_answer"):
            stubs[gid.removesuffix("_answer")] = "".join(cell["source"])
    for student, parts in klass.answers.items():
        filled = classroom.fill(base, parts)
        answers[student] = {c["metadata"]["nbgrader"]["grade_id"].removesuffix("_answer"):
                            c["source"] for c in filled["cells"]
                            if c["metadata"].get("nbgrader", {}).get("grade_id", "")
                            .endswith("_answer")}
    return stubs, answers


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_planted_copies_rank_at_the_top_of_a_class_of_honest_answers(seed):
    """60 honest learners in many styles and 3 disguised copies (renamed variables,
    reordered lines, changed comments): each copy ranks among the top 5 of the 1,953
    pairs and stands out; at most 5 of the 1,770 honest pairs do."""
    klass = classroom.make_class(60, 3, seed=seed)
    stubs, answers = _answers(klass)
    keep = frozenset(classroom.PARTS) | {"MyLinear", "forward", "backward"}
    pairs = similarity.compare_class(answers, stubs, keep=keep)
    rank = {(p.a, p.b): i + 1 for i, p in enumerate(pairs)}
    for original, copier in klass.copies:
        key = tuple(sorted((original, copier)))
        assert rank[key] <= 5, (key, rank[key], [(p.a, p.b, p.score) for p in pairs[:6]])
        assert pairs[rank[key] - 1].stands_out
    honest = [p for p in pairs if not p.a.startswith("copier") and
              not p.b.startswith("copier")]
    assert sum(p.stands_out for p in honest) <= 5  # of 1,770 honest pairs


def test_shared_stub_and_the_obvious_answer_are_no_evidence():
    stub = "def relu_backward(grad_out, x):\n    raise NotImplementedError('x')\n"
    obvious = "def relu_backward(grad_out, x):\n    return grad_out * (x > 0)\n"
    answers = {f"s{i}": {"relu": obvious} for i in range(20)}
    answers["s0"] = {"relu": stub}
    pairs = similarity.compare_class(answers, {"relu": stub},
                                     keep=frozenset({"relu_backward"}))
    assert all(p.score == 0 for p in pairs) and not any(p.stands_out for p in pairs)


# -- refused before anything is graded (the real command) --------------------------------
PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _grade(tmp_path, *extra):
    import subprocess
    import sys
    (tmp_path / "submitted").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "dlcore", "grade", str(tmp_path / "submitted"),
                           "--assignment", "01_neurons_and_layers", "--out",
                           str(tmp_path / "out"), *map(str, extra)],
                          cwd=PROJECT, capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # a real command: seconds of imports
def test_a_naive_due_date_stops_the_run_before_grading(tmp_path):
    proc = _grade(tmp_path, "--due", "2026-12-01T23:59")
    assert proc.returncode == 2 and "has no time zone" in proc.stderr
    assert not (tmp_path / "out").exists()  # nothing written


@pytest.mark.slow
def test_points_that_disagree_with_the_spec_stop_the_run_and_name_the_cell(tmp_path):
    import json
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    with open(os.path.join(PROJECT, "solutions", "01_neurons_and_layers.ipynb"),
              encoding="utf-8") as f:
        nb = json.load(f)
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade_id") == "dense_forward":
            meta["points"] = 5
    (solutions / "01_neurons_and_layers.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    proc = _grade(tmp_path, "--solutions", solutions)
    assert proc.returncode == 2
    assert "points disagree, so nothing was graded" in proc.stderr
    assert "'dense_forward' is worth 2 in its spec" in proc.stderr and "but 5" in proc.stderr
    assert "learner" not in proc.stderr.lower()  # the teacher's problem, said to the teacher
