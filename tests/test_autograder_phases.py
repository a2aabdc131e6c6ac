"""The grader in a real sandbox: each cell and part on its own time, what a loop costs,
partial credit, pasted and renamed answers, and the flags for what the sandbox stopped.

These run real workers (a second or two each, a few seconds more where something has to
run out of time), through ``grade.grade`` and the sandbox the command line uses.
"""
from __future__ import annotations

import os
import re

import pytest
from hostile import build, fake_spec

from dlcore.grading.autograder import grade
from dlcore.grading.autograder.discover import Submission
from dlcore.grading.autograder.result import FlagKind, PartStatus, Status
from dlcore.grading.autograder.sandbox import Limits, Sandbox
from dlcore.grading.verdict import Kind

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 3.0

IGNORES_ALARMS = '''import signal

def scaled_sum(x, k):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)  # no per-case alarm: only the grader's
    while True:                                     # clock ends this
        pass
'''


@pytest.fixture(scope="module")
def sandbox():
    return Sandbox(Limits(timeout=TIMEOUT, memory_mb=1024), [], [PROJECT], slots=1)


def _grade(tmp_path, sandbox, learner, teacher=None, specs=None, assignment="99_fake"):
    teacher = teacher or build.teacher()
    specs = specs or fake_spec.specs_for(assignment)
    a = grade.Assignment.build(assignment, specs, "tests.hostile.fake_spec", teacher,
                               seed=11, timeout=TIMEOUT)
    path = str(tmp_path / "learner.ipynb")
    build.write(path, learner)
    return grade.grade(Submission("ana", path), a, sandbox)


def test_a_part_that_never_ends_costs_only_itself_and_says_where(tmp_path, sandbox):
    r = _grade(tmp_path, sandbox, build.learner(scaled_sum=IGNORES_ALARMS))
    assert r.scores == {"add_one": 1.0, "scaled_sum": 0.0}
    assert r.status is Status.TIMEOUT and r.runs == 1  # the last phase: nothing to rerun
    part = r.parts[1]
    assert part.status is PartStatus.TIMEOUT
    assert part.outcomes[0].kind is Kind.TIMEOUT
    assert "the hidden cases of part 'scaled_sum' ran out of its time (3 s) at line " in r.reason
    assert "in `scaled_sum` of your answer for part 'scaled_sum'" in r.reason


def test_a_looping_answer_cell_is_left_out_and_the_other_parts_keep_their_points(
        tmp_path, sandbox):
    r = _grade(tmp_path, sandbox, build.learner(add_one="import time\nwhile True:\n"
                                                        "    time.sleep(0.01)\n"))
    assert r.scores == {"add_one": 0.0, "scaled_sum": 2.0} and r.runs == 2
    assert r.status is Status.TIMEOUT and r.parts[0].status is PartStatus.TIMEOUT
    assert "your answer for part 'add_one' ran out of its time (3 s) at line " in r.reason
    assert r.parts[0].outcomes[0].message.startswith("your answer cell ran out of its time")


def test_a_teachers_demo_cell_that_loops_in_learner_code_costs_nothing(tmp_path, sandbox):
    teacher = build.teacher()
    teacher["cells"].insert(3, build.code("print(add_one(np.zeros(7)))\n"))  # a demo
    looping = ("def add_one(x):\n    while len(x) == 7:\n        pass\n    return x + 1\n")
    r = _grade(tmp_path, sandbox, build.learner(add_one=looping), teacher)
    assert r.total == 3.0 and r.scores == {"add_one": 1.0, "scaled_sum": 2.0}
    assert "the ungraded cell before part 'scaled_sum' ran out of its time (3 s)" in r.reason
    assert re.search(r"at line [23] in `add_one` of your answer for part 'add_one': "
                     r"`(while len\(x\) == 7:|pass)`", r.reason), r.reason


def test_a_crash_in_one_cell_costs_only_that_part(tmp_path, sandbox):
    r = _grade(tmp_path, sandbox, build.learner(add_one="import os\nos._exit(3)\n"))
    assert r.scores == {"add_one": 0.0, "scaled_sum": 2.0} and r.status is Status.CRASHED
    assert "ended the worker early (exit status 3" in r.reason


def test_independent_outputs_earn_apart_through_the_grader(tmp_path, sandbox):
    teacher = build.notebook([
        build.code("import numpy as np\n"),
        build.code("### BEGIN SOLUTION\ndef moments(x, eps):\n    return x.mean(), "
                   "np.sqrt(x.var() + eps)\n### END SOLUTION\n", "moments_answer",
                   solution=True),
        build.code("check('moments')\n", "moments", grade=True, points=2)])
    learner = build.notebook([build.code("import numpy as np\n"),
                              build.code("def moments(x, eps):\n    return x.mean(), "
                                         "np.sqrt(x.var())\n", "moments_answer",
                                         solution=True)])
    r = _grade(tmp_path, sandbox, learner, teacher, assignment=fake_spec.PARTS_ASSIGNMENT)
    part = r.parts[0]
    assert r.total == 1.0 and part.status is PartStatus.PARTIAL
    assert part.earned_by == ["mean: 1 point (right in every case)",
                              "std: 0 of 1 point (wrong in every case)"]
    assert any(o.kind is Kind.CLOSE and "about the size of eps" in o.message
               for o in part.outcomes)


def test_a_pasted_notebook_and_a_renamed_function(tmp_path, sandbox):
    pasted = build.notebook([build.code("import numpy as np\n"),
                             build.code(build.SCALED_SUM),
                             build.code("def add_ones(x):\n    return x + 1\n")])
    r = _grade(tmp_path, sandbox, pasted)
    assert r.scores == {"add_one": 0.0, "scaled_sum": 2.0}
    assert "found `add_ones`; the task asks for `add_one`" in r.parts[0].notes[0]
    assert r.parts[0].status is PartStatus.MISSING
    assert r.parts[0].outcomes[0].message == "`add_one` is not defined in your notebook"
    assert "found by the function it defines (`scaled_sum`)" in r.parts[1].notes[0]
    assert "found `add_ones`" in r.reason


def test_a_helper_in_a_cell_the_learner_added_is_seen_as_the_check_saw_it(tmp_path, sandbox):
    nb = build.learner(add_one="def add_one(x):\n    return plus_one(x)\n")
    nb["cells"].insert(5, build.code("def plus_one(v):\n    return v + 1\n"))
    r = _grade(tmp_path, sandbox, nb)
    assert r.total == 3.0, r.reason
    assert any("a cell you added (defining `plus_one`)" in n for n in r.notes)


FLAGGED = '''import os, signal, socket, subprocess
try:
    socket.create_connection(("192.0.2.1", 80), timeout=1)
except OSError:
    pass
for pid in (1, -1):
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        pass
try:
    open("/etc/dlcore-was-here", "w")
except OSError:
    pass
with open("mine.txt", "w") as f:  # its own scratch folder: fine
    f.write("ok")
subprocess.Popen(["sleep", "30"], start_new_session=True)
''' + build.ADD_ONE


def test_what_the_sandbox_stopped_is_flagged_and_the_points_stand(tmp_path, sandbox):
    r = _grade(tmp_path, sandbox, build.learner(add_one=FLAGGED))
    assert r.total == 3.0 and r.status is Status.GRADED, (r.reason, r.notes, r.parts)
    kinds = {f.kind for f in r.flags}
    assert kinds == {FlagKind.NETWORK, FlagKind.SIGNAL, FlagKind.WRITE, FlagKind.DAEMON}
    texts = [f.text() for f in r.flags]
    assert "flag: tried to reach the network (connect ('192.0.2.1', 80))" in texts
    assert "flag: sent signal 15 to the sandbox's init process, outside its worker" in texts
    assert "flag: tried to write /etc/dlcore-was-here" in texts
    assert any(t.startswith("flag: left 1 process running") and "(sleep)" in t
               for t in texts)
    assert not any("mine.txt" in t for t in texts)
    assert "flag: tried to reach the network" in r.reason


def test_an_honest_notebook_raises_no_flag_and_runs_once(tmp_path, sandbox):
    r = _grade(tmp_path, sandbox, build.learner())
    assert r.total == 3.0 and r.flags == [] and r.runs == 1
    assert r.reason == "all tests passed" and r.status is Status.GRADED


def test_stop_kills_the_running_worker_and_starts_no_other(tmp_path):
    """``Sandbox.stop`` (Ctrl-C on a cluster run): the worker running now is killed, the
    grading thread returns at once with a plain reason, and no new worker starts."""
    import threading
    import time

    sandbox = Sandbox(Limits(timeout=30.0, memory_mb=1024), [], [PROJECT], slots=1)
    sleeper = build.learner(add_one="import time\ntime.sleep(600)\n" + build.ADD_ONE)
    got = {}
    thread = threading.Thread(target=lambda: got.update(r=_grade(tmp_path, sandbox, sleeper)))
    start = time.monotonic()
    thread.start()
    time.sleep(2.0)  # the worker is up and sleeping in the learner's cell
    assert sandbox.stop() == 1
    thread.join(timeout=20)
    assert not thread.is_alive() and time.monotonic() - start < 25  # not the 30 s timeout
    r = got["r"]
    assert r.status is Status.ERROR and r.runs == 2, r.reason  # the second never started
    assert "the grading run was stopped before this worker started" in r.reason
    assert sandbox.stop() == 0  # nothing left running
