"""Grading on a Dask cluster (``dlcore/grading/autograder/cluster.py``).

The real command with ``--cluster local:2`` and with ``--scheduler`` against a
``LocalCluster`` of 2 workers on 127.0.0.1: the same gradebook as local grading for the
same class and seed; a worker killed mid-run and every row still there; the hostile
library graded through the cluster with the rows local grading gives. The version check
is tested on its comparison function (production code has no switch to fake a version).
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest
from hostile import build

from dlcore.grading.autograder.cluster import (
    ISOLATION_KEYS,
    isolation_note,
    parse_cluster,
    version_mismatch,
    weaker,
)

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EX01 = "01_neurons_and_layers"
ROOT_ON_LINUX = pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0,
                                   reason="the sandbox's full protection needs Linux and root")


# -- the pure parts ---------------------------------------------------------------------
VERSIONS = {"python": "3.12", "numpy": "2.3.1", "dlcore": "0.1.0",
            "dlcore source": "0123456789abcdef"}


def test_the_same_versions_agree():
    assert version_mismatch(VERSIONS, dict(VERSIONS)) == []


@pytest.mark.parametrize("key, theirs", [("numpy", "1.26.4"), ("dlcore", "0.2.0"),
                                         ("python", "3.11")])
def test_a_worker_with_another_version_is_refused_with_both_versions_named(key, theirs):
    worker = {**VERSIONS, key: theirs}
    [why] = version_mismatch(VERSIONS, worker)
    assert why == f"{key} {theirs} (the client has {VERSIONS[key]})"


def test_other_source_files_under_the_same_version_are_not_a_refusal():
    # (check_versions names them in a warning: a checkout edited during a long run)
    assert version_mismatch(VERSIONS, {**VERSIONS, "dlcore source": "fedcba9876543210"}) == []


def test_a_worker_that_reports_no_version_is_refused():
    worker = {k: v for k, v in VERSIONS.items() if k != "numpy"}
    assert version_mismatch(VERSIONS, worker) == ["numpy missing (the client has 2.3.1)"]


def test_weaker_isolation_is_what_the_client_has_and_the_worker_lacks():
    client = dict.fromkeys(ISOLATION_KEYS, True) | {"separate uid": False}
    worker = dict.fromkeys(ISOLATION_KEYS, True) | {"separate uid": False, "network": False}
    assert weaker(client, worker) == ["network"]
    assert weaker(client, client) == []
    # A client that cannot sandbox at all: every protection the worker lacks is named.
    assert weaker(None, worker) == ["separate uid", "network"]
    note = isolation_note("node7", ["network"])
    assert "node7" in note and ISOLATION_KEYS["network"] in note


@pytest.mark.parametrize("text, n", [("local", os.cpu_count() or 1), ("local:3", 3)])
def test_cluster_spec(text, n):
    assert parse_cluster(text) == n


@pytest.mark.parametrize("bad", ["local:0", "local:x", "remote:2", "tcp://h:1"])
def test_a_bad_cluster_spec_is_a_usage_error(bad):
    with pytest.raises(ValueError, match="local or local:N"):
        parse_cluster(bad)
    proc = subprocess.run([sys.executable, "-m", "dlcore", "grade", PROJECT, "--assignment",
                           EX01, "--out", "/nonexistent/out", "--cluster", bad],
                          cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--cluster takes local or local:N" in proc.stderr


def test_a_scheduler_address_needs_tcp_or_tls():
    proc = subprocess.run([sys.executable, "-m", "dlcore", "grade", PROJECT, "--assignment",
                           EX01, "--out", "/nonexistent/out", "--scheduler", "http://h:8786"],
                          cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "tcp://HOST:PORT or tls://HOST:PORT" in proc.stderr


# -- the real command ------------------------------------------------------------------
def grade(submitted: str, out: str, *extra: str, assignment: str = EX01,
          tmpdir: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"TMPDIR": tmpdir} if tmpdir else {})}
    return subprocess.run([sys.executable, "-m", "dlcore", "grade", submitted,
                           "--assignment", assignment, "--out", out, *extra],
                          cwd=PROJECT, capture_output=True, text=True, timeout=timeout,
                          env=env)


def rows(out: str) -> list[dict[str, str]]:
    with open(os.path.join(out, "gradebook.csv"), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def journal_kinds(out: str, kind: str) -> list[str]:
    """The students of the journal's records of one kind, in the order written."""
    with open(os.path.join(out, "journal.jsonl")) as f:
        return [r["student"] for r in map(json.loads, f) if r.get("kind") == kind]


def make_class(folder: str, n: int = 6) -> str:
    """Exercise 01's class: full solutions, untouched stubs, a wrong answer, a broken
    file."""
    submitted = os.path.join(folder, "submitted")
    os.makedirs(submitted)
    with open(os.path.join(PROJECT, "solutions", f"{EX01}.ipynb"), encoding="utf-8") as f:
        solution = json.load(f)
    for i in range(n):
        nb = json.loads(json.dumps(solution))
        if i % 3 == 1:  # the dense layer forgets its bias
            for cell in nb["cells"]:
                text = "".join(cell["source"])
                if "def dense_forward" in text:
                    cell["source"] = text.replace("+ b", "+ 0 * b")
        with open(os.path.join(submitted, f"learner{i:02d}.ipynb"), "w") as f:
            json.dump(nb, f)
    shutil.copy(os.path.join(PROJECT, "exercises", f"{EX01}.ipynb"),
                os.path.join(submitted, "stub.ipynb"))
    with open(os.path.join(submitted, "broken.ipynb"), "w") as f:
        f.write("{ not a notebook")
    return submitted


def test_a_local_run_imports_no_dask(tmp_path):
    code = ("import sys\nfrom dlcore.grading.autograder.cli import main\n"
            f"status = main([{str(tmp_path / 'none')!r}, '--assignment', {EX01!r}, "
            f"'--out', {str(tmp_path / 'out')!r}])\n"
            "print(status, sorted(m for m in sys.modules if m.split('.')[0] in "
            "('dask', 'distributed') or m.endswith('autograder.cluster')))\n")
    (tmp_path / "none").mkdir()
    shutil.copy(os.path.join(PROJECT, "solutions", f"{EX01}.ipynb"),
                tmp_path / "none" / "alice.ipynb")
    proc = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True,
                          text=True, timeout=300)
    assert proc.stdout.strip() == "0 []", proc.stdout + proc.stderr[-2000:]
    assert "graded 1 learners (1 graded now, 1 with full marks)" in proc.stderr


@pytest.fixture(scope="module")
def ex01_class():
    base = tempfile.mkdtemp(prefix="dlcore-cluster-test-")
    os.chmod(base, 0o755)
    yield base, make_class(base)
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
@ROOT_ON_LINUX
def test_the_cluster_gives_the_same_gradebook_as_local_grading(ex01_class):
    base, submitted = ex01_class
    local, dask = os.path.join(base, "local"), os.path.join(base, "dask")
    first = grade(submitted, local, "--seed", "1234", "--workers", "2")
    assert first.returncode == 0, first.stderr[-3000:]
    second = grade(submitted, dask, "--seed", "1234", "--cluster", "local:2")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "grading on 2 Dask workers" in second.stderr
    assert "less isolation" not in second.stderr  # same machine, same sandbox
    assert rows(dask) == rows(local)
    got = {r["student"]: (r["status"], float(r["total"])) for r in rows(dask)}
    assert got["learner00"] == ("graded", 4.0) and got["learner01"][1] < 4.0
    assert got["stub"][1] == 0.0 and got["broken"][0] == "unreadable"
    for name in ("parts.csv", "similarity.csv"):
        with open(os.path.join(local, name)) as a, open(os.path.join(dask, name)) as b:
            assert a.read() == b.read(), name
    assert sorted(os.listdir(os.path.join(dask, "feedback"))) == \
        sorted(os.listdir(os.path.join(local, "feedback")))
    # The journal as locally: one start record per notebook graded, before its end.
    starts = journal_kinds(dask, "start")
    assert sorted(starts) == sorted(journal_kinds(local, "start")) == \
        sorted(r["student"] for r in rows(local))
    assert len(set(starts)) == len(starts) and set(journal_kinds(dask, "end")) == set(starts)
    with open(os.path.join(dask, "journal.jsonl")) as f:
        order = [(r["kind"], r.get("student")) for r in map(json.loads, f)]
    assert all(order.index(("start", s)) < order.index(("end", s)) for s in starts)
    # Resuming: nothing is graded again, nothing changes, no new start.
    again = grade(submitted, dask, "--seed", "1234", "--cluster", "local:2")
    assert again.returncode == 0 and "(0 graded now" in again.stderr, again.stderr[-2000:]
    assert rows(dask) == rows(local)
    assert journal_kinds(dask, "start") == starts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@ROOT_ON_LINUX
def test_a_worker_killed_mid_run_costs_no_row(tmp_path):
    from distributed import Client, LocalCluster

    submitted = make_class(str(tmp_path), n=10)
    os.chmod(tmp_path, 0o755)
    out = str(tmp_path / "out")
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", scheduler_port=_free_port(),
                           dashboard_address=None)
    client = Client(cluster)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "dlcore", "grade", submitted,
                                 "--assignment", EX01, "--out", out, "--seed", "99",
                                 "--scheduler", cluster.scheduler_address],
                                cwd=PROJECT, stderr=subprocess.PIPE, text=True)
        journal = os.path.join(out, "journal.jsonl")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # wait for the first graded notebook
            if os.path.exists(journal) and '"kind": "end"' in open(journal).read():
                break
            time.sleep(0.2)
        pids = client.run(os.getpid)
        ended = open(journal).read().count('"kind": "end"')
        victim = sorted(pids.values())[0]
        os.kill(victim, signal.SIGKILL)  # its nanny starts a new worker
        _, stderr = proc.communicate(timeout=600)
    finally:
        client.close()
        cluster.close()
    assert proc.returncode == 0, stderr[-3000:]
    assert ended < 12, "the run ended before a worker could be killed: make the class larger"
    got = {r["student"]: (r["status"], float(r["total"])) for r in rows(out)}
    assert sorted(got) == sorted([f"learner{i:02d}" for i in range(10)] + ["stub", "broken"])
    for i in range(10):  # nobody lost a point to the killed worker
        assert got[f"learner{i:02d}"] == (("graded", 4.0) if i % 3 != 1 else
                                          got["learner01"]), got
    assert got["stub"] == ("graded", 0.0) and got["broken"][0] == "unreadable"
    with open(os.path.join(out, "journal.jsonl")) as f:
        ends = [json.loads(line) for line in f if '"kind": "end"' in line]
    assert len(ends) == 12  # one result per learner: a task run twice is written once


@pytest.mark.slow
@ROOT_ON_LINUX
def test_the_hostile_library_through_the_cluster_gets_the_rows_local_grading_gives():
    base = tempfile.mkdtemp(prefix="dlcore-hostile-cluster-")
    os.chmod(base, 0o755)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    submitted_path = os.path.join(base, "submitted")
    targets = {"port": listener.getsockname()[1],
               "teacher_path": os.path.join(base, "solutions", f"{build.ASSIGNMENT}.ipynb"),
               "classmate_path": os.path.join(submitted_path, "honest", build.ASSIGNMENT,
                                              f"{build.ASSIGNMENT}.ipynb"),
               "write_paths": [os.path.join(base, "pwned.txt"),
                               os.path.join(base, "out", "gradebook.csv")]}
    try:
        solutions, submitted = build.build(base, targets)
        tmpdir = build.open_to_workers(base)
        extra = ("--solutions", solutions, "--specs", "tests.hostile.fake_spec",
                 "--timeout", "5", "--memory-mb", "512", "--seed", "5")
        local = grade(submitted, os.path.join(base, "local"), *extra, "--workers", "2",
                      assignment=build.ASSIGNMENT, tmpdir=tmpdir)
        assert local.returncode == 0, local.stderr[-3000:]
        dask = grade(submitted, os.path.join(base, "out"), *extra, "--cluster", "local:2",
                     assignment=build.ASSIGNMENT, tmpdir=tmpdir)
        assert dask.returncode == 0, dask.stderr[-3000:]
        got = rows(os.path.join(base, "out"))
        expected = {name: (float(points), status)
                    for name, (points, status) in build.EXPECTED.items()}
        assert {r["student"]: (float(r["total"]), r["status"]) for r in got} == expected
        want = {r["student"]: r for r in rows(os.path.join(base, "local"))}
        for row in got:  # the same points per part, and the same kind of reason
            mine = want[row["student"]]
            assert (row["add_one"], row["scaled_sum"]) == (mine["add_one"], mine["scaled_sum"])
            assert ("flag:" in row["reason"]) == ("flag:" in mine["reason"]), (row, mine)
        reads = {r["student"]: r["reason"] for r in got}
        assert "No such file" in reads["reads solutions"]
        assert "No such file" in reads["copies a classmate"]
        assert not os.path.exists(os.path.join(base, "pwned.txt"))
        assert not any(name.startswith("dlcore-") for name in os.listdir(tmpdir))
    finally:
        listener.close()
        shutil.rmtree(base, ignore_errors=True)
