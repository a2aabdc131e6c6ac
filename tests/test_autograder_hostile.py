"""The real command against a library of hostile submissions (``tests/hostile/build.py``).

Each submission gets its row, zero where it earned nothing and a reason; the honest
ones get full marks; the run ends in bounded time; no process is left behind; nothing
outside OUT changes. The sandbox's full protection needs root (an unprivileged uid per
worker), so these tests run as root only, as CI does.
"""
from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
from hostile import build

from dlcore.grading.autograder.processes import FIRST_UID, LAST_UID

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CANARY = os.path.join(PROJECT, "tests", "hostile", "canary.txt")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0,
                       reason="the sandbox's full protection needs Linux and root"),
]


def grade_command(submitted: str, solutions: str, out: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "dlcore", "grade", submitted, "--assignment",
            build.ASSIGNMENT, "--out", out, "--solutions", solutions,
            "--specs", "tests.hostile.fake_spec", *extra]


def uids_used(stderr: str) -> range:
    """The worker uids a grading run claimed, from its 'workers run as uid' line."""
    found = re.search(r"workers run as uid (\d+)(?:-(\d+))?", stderr)
    assert found, stderr
    return range(int(found[1]), int(found[2] or found[1]) + 1)


def worker_processes(uids: range = range(FIRST_UID, LAST_UID + 1)) -> list[int]:
    """Live processes running as one of the worker uids ``uids``."""
    found = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            uid = os.stat(f"/proc/{pid}").st_uid
            with open(f"/proc/{pid}/status") as f:
                status = f.read().splitlines()
            real = next(int(line.split()[1]) for line in status if line.startswith("Uid:"))
            state = next(line.split()[1] for line in status if line.startswith("State:"))
        except (OSError, StopIteration):
            continue
        if state == "Z":  # dead, waiting for whoever adopted it to reap it
            continue
        if uid in uids or real in uids:
            found.append(int(pid))
    return found


def tree_digest(folder: str) -> dict[str, str]:
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            if os.path.isdir(path):
                out[rel] = "dir"
            else:
                with open(path, "rb") as f:
                    out[rel] = hashlib.sha256(f.read()).hexdigest()
    return out


def readable_folder(prefix: str) -> str:
    """A temporary folder anyone may read, so only the sandbox keeps learners out."""
    base = tempfile.mkdtemp(prefix=prefix)
    os.chmod(base, 0o755)
    return base


@pytest.fixture(scope="module")
def graded():
    base = readable_folder("dlcore-hostile-")
    out = os.path.join(base, "out")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    token = uuid.uuid4().hex
    pwned = [os.path.join(folder, f"pwned-{token}.txt")
             for folder in (PROJECT, "/tmp", "/var/tmp", "/dev/shm")]
    teacher_path = os.path.join(base, "solutions", f"{build.ASSIGNMENT}.ipynb")
    submitted = os.path.join(base, "submitted")
    classmate = os.path.join(submitted, "honest", build.ASSIGNMENT, f"{build.ASSIGNMENT}.ipynb")
    targets = {"port": listener.getsockname()[1], "teacher_path": teacher_path,
               "classmate_path": classmate,
               "write_paths": [*pwned, CANARY, teacher_path,
                               classmate,
                               os.path.join(submitted, "pwned.txt"),
                               os.path.join(out, "gradebook.csv"),
                               os.path.join(out, "journal.jsonl")]}
    solutions, submitted = build.build(base, targets)
    tmpdir = build.open_to_workers(base)   # the grader's temporary folders go here
    before = {"submitted": tree_digest(submitted), "solutions": tree_digest(solutions),
              "canary": tree_digest(os.path.dirname(CANARY))}
    start = time.monotonic()
    proc = subprocess.run(grade_command(submitted, solutions, out, "--timeout", "5",
                                        "--workers", "2", "--memory-mb", "512"),
                          cwd=PROJECT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TMPDIR": tmpdir})
    seconds = time.monotonic() - start
    with open(os.path.join(out, "gradebook.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    yield {"proc": proc, "seconds": seconds, "rows": rows, "out": out, "before": before,
           "submitted": submitted, "solutions": solutions, "listener": listener,
           "pwned": pwned, "tmpdir": tmpdir,
           "uids": uids_used(proc.stderr), "leftover": worker_processes(uids_used(proc.stderr))}
    listener.close()
    shutil.rmtree(base)
    for path in pwned:
        if os.path.exists(path):
            os.unlink(path)


def test_the_run_finishes_in_bounded_time_and_says_nothing_is_unprotected(graded):
    proc = graded["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert graded["seconds"] < 180
    assert "warning" not in proc.stderr, proc.stderr
    assert "workers run as uid" in proc.stderr


def test_every_submission_gets_its_row_and_exactly_what_it_earned(graded):
    rows = graded["rows"]
    assert sorted(r["student"] for r in rows) == sorted(build.EXPECTED)
    got = {r["student"]: (float(r["total"]), r["status"]) for r in rows}
    expected = {name: (float(points), status)
                for name, (points, status) in build.EXPECTED.items()}
    assert got == expected
    for row in rows:
        assert float(row["max_total"]) == build.MAX_TOTAL
        assert float(row["add_one"]) + float(row["scaled_sum"]) == float(row["total"])
        if float(row["total"]) < build.MAX_TOTAL:
            assert row["reason"] and row["reason"] != "all tests passed", row


@pytest.mark.parametrize("student, words", [
    ("infinite loop", "your answer for part 'add_one' ran out of its time (5 s) at line "),
    ("infinite loop", "; it was left out and the rest graded without it"),
    ("sleeps forever", "`time.sleep(10**6)`"),
    ("kills parent", "flag: sent signal 9 to"),
    ("connects to loopback", "flag: tried to reach the network (connect ('127.0.0.1'"),
    ("writes everywhere", "flag: tried to write "),
    ("forks and daemon", "flag: left "),
    ("segfault", "segmentation fault"),
    ("os exit", "ended the worker early"),
    ("sys exit", "sys.exit()"),
    ("output flood", "File too large"),
    ("60 MB", "over the 20 MB limit"),
    ("nested deep", "nested too deeply"),
    ("nbformat 3", "only format 4"),
    ("deletes answer cell", "the answer cell for part 'add_one' is missing"),
    ("duplicates answer cell", "appears 2 times"),
    ("edits test cell", "test cell 'add_one' was edited"),
    ("reads solutions", "No such file"),
    ("copies a classmate", "No such file"),
    ("borrows the reference", "flag: cell 'add_one_answer' uses .reference"),
])
def test_the_reason_says_what_happened(graded, student, words):
    row = next(r for r in graded["rows"] if r["student"] == student)
    assert words in row["reason"], row


def test_no_process_is_left_behind(graded):
    assert len(graded["uids"]) == 2
    assert graded["leftover"] == []
    assert worker_processes(graded["uids"]) == []


def test_nothing_outside_out_changes(graded):
    before = graded["before"]
    assert tree_digest(graded["submitted"]) == before["submitted"]
    assert tree_digest(graded["solutions"]) == before["solutions"]
    assert tree_digest(os.path.dirname(CANARY)) == before["canary"]
    assert not [p for p in graded["pwned"] if os.path.exists(p)]
    assert os.listdir(graded["tmpdir"]) == []  # every scratch folder removed
    out = graded["out"]
    assert {"feedback", "gradebook.csv", "journal.jsonl"} <= set(os.listdir(out))
    with pytest.raises(BlockingIOError):
        graded["listener"].accept()  # nobody connected


def test_feedback_for_everyone_escaped_and_without_the_solutions(graded):
    folder = os.path.join(graded["out"], "feedback")
    assert len(os.listdir(folder)) == len(build.EXPECTED)
    for name in os.listdir(folder):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            page = f.read()
        assert "BEGIN SOLUTION" not in page and "np.sum(x)" not in page
        assert "<img" not in page and "<script" not in page
    with open(os.path.join(folder, "untouched.html"), encoding="utf-8") as f:
        assert "`add_one` still raises NotImplementedError" in f.read()
    with open(os.path.join(folder, "half right.html"), encoding="utf-8") as f:
        page = f.read()
    assert "add_one: 0 / 1" in page and "scaled_sum: 2 / 2" in page


def _journal_records(out: str) -> list[str]:
    with open(os.path.join(out, "journal.jsonl"), encoding="utf-8") as f:
        return f.read().splitlines()


def test_a_killed_grader_resumes_without_losing_rows(tmp_path):
    base = readable_folder("dlcore-resume-")
    try:
        submitted = os.path.join(base, "submitted")
        os.makedirs(submitted)
        solutions = os.path.join(base, "solutions")
        os.makedirs(solutions)
        build.write(os.path.join(solutions, f"{build.ASSIGNMENT}.ipynb"), build.teacher())
        for name in ("a1", "a2", "a3", "c1"):
            build.write(os.path.join(submitted, f"{name}.ipynb"), build.learner())
        build.write(os.path.join(submitted, "b sleeps.ipynb"),
                    build.learner("import time\ntime.sleep(10**6)\n"))
        out = os.path.join(base, "out")
        tmpdir = os.path.join(base, "tmp")
        os.mkdir(tmpdir, 0o755)
        env = {**os.environ, "TMPDIR": tmpdir}
        log = open(os.path.join(base, "first.log"), "w+")
        first = subprocess.Popen(grade_command(submitted, solutions, out, "--timeout", "60",
                                               "--workers", "1"),
                                 cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=log, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if os.path.exists(os.path.join(out, "journal.jsonl")) and any(
                    '"b sleeps"' in line and '"start"' in line for line in _journal_records(out)):
                break
            time.sleep(0.2)
        time.sleep(0.5)
        first.send_signal(signal.SIGKILL)
        first.wait()
        time.sleep(0.5)
        log.seek(0)
        assert worker_processes(uids_used(log.read())) == []  # they died with the grader
        log.close()
        assert not os.path.exists(os.path.join(out, "gradebook.csv"))
        assert os.listdir(tmpdir)  # the killed grader's scratch folder is still there
        second = subprocess.run(grade_command(submitted, solutions, out, "--timeout", "2",
                                              "--workers", "1"),
                                cwd=PROJECT, capture_output=True, text=True, timeout=120,
                                env=env)
        assert os.listdir(tmpdir) == []  # and the next run removed it
        assert second.returncode == 0, second.stderr[-2000:]
        with open(os.path.join(out, "gradebook.csv"), newline="", encoding="utf-8") as f:
            rows = {r["student"]: (r["status"], float(r["total"])) for r in csv.DictReader(f)}
        assert rows == {"a1": ("graded", 3.0), "a2": ("graded", 3.0), "a3": ("graded", 3.0),
                        "b sleeps": ("timeout", 2.0), "c1": ("graded", 3.0)}
        records = _journal_records(out)
        assert sum('"kind": "run"' in line for line in records) == 1  # same hidden seed
        assert sum('"a1"' in line and '"start"' in line for line in records) == 1
        assert sum('"b sleeps"' in line and '"start"' in line for line in records) == 2
    finally:
        shutil.rmtree(base)


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_without_a_separate_user_the_grader_says_so_and_still_protects_files(tmp_path):
    """Root only inside a user namespace (as in a rootless container): no uid switch,
    so the grader warns; the read-only file system and the pid namespace still hold."""
    base = readable_folder("dlcore-userns-")
    try:
        subs = build.hostile({"write_paths": [CANARY], "port": 9, "teacher_path": "/x",
                              "classmate_path": "/x"})
        submitted = os.path.join(base, "submitted")
        solutions = os.path.join(base, "solutions")
        os.makedirs(submitted)
        os.makedirs(solutions)
        build.write(os.path.join(solutions, f"{build.ASSIGNMENT}.ipynb"), build.teacher())
        for name in ("honest", "kills parent", "writes everywhere"):
            build.write(os.path.join(submitted, f"{name}.ipynb"), subs[name])
        before = tree_digest(os.path.dirname(CANARY))
        out = os.path.join(base, "out")
        proc = subprocess.run(["unshare", "-Ur", *grade_command(submitted, solutions, out,
                                                                "--timeout", "10")],
                              cwd=PROJECT, capture_output=True, text=True, timeout=120)
        if "unshare failed" in proc.stderr:
            pytest.skip("user namespaces are not allowed here")
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "warning: the grader is not root" in proc.stderr
        with open(os.path.join(out, "gradebook.csv"), newline="", encoding="utf-8") as f:
            totals = {r["student"]: float(r["total"]) for r in csv.DictReader(f)}
        assert totals == {"honest": 3.0, "kills parent": 3.0, "writes everywhere": 3.0}
        assert tree_digest(os.path.dirname(CANARY)) == before
    finally:
        shutil.rmtree(base)
