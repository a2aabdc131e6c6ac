"""Start a worker for one submission, watch it, and leave nothing of it behind.

The grader process never runs learner code. For each submission it starts a fresh
interpreter (``worker.py``) in its own session and process group, in a scratch folder
inside a temporary folder of its own, with a minimal environment (one BLAS thread, no
user site, no bytecode written), stdout and stderr going to a capped file. The worker
confines itself (``confine.py``) before any learner code runs. The grader reads its JSON
lines from a dedicated pipe until it finishes or the wall clock runs out, then kills
its process group.

Afterwards every process the worker left behind is killed. The grader is a child
subreaper (``PR_SET_CHILD_SUBREAPER``), so a ``setsid`` daemon that escaped the process
group is re-parented to the grader rather than to init and is found by the sweep. As
root, each worker slot has its own unprivileged uid, so the sweep is "kill every
process of that uid" (``kill(-1)`` sent as that uid, which also stops a fork loop at
once), and two workers can neither signal each other nor share a process limit. The
uids (from 64000 up) are claimed per grading run, so two runs on one machine never
share one.
"""
from __future__ import annotations

import ctypes
import json
import os
import queue
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .processes import (
    can_switch_uid,
    claim_uids,
    count_user_processes,
    kill,
    killpg,
    processes,
    same_group,
    uid_of,
)

PR_SET_CHILD_SUBREAPER = 36
MAX_RESULT_BYTES = 64 * 1024 * 1024
SCRATCH_PREFIX = "dlcore-grade-"  # then the grader's pid


@dataclass(frozen=True)
class Limits:
    """Per-worker limits. ``timeout`` is wall-clock seconds for the whole submission."""

    timeout: float = 60.0
    memory_mb: int = 1024
    nproc: int = 32
    nofile: int = 64
    output_mb: int = 4
    scratch_mb: int = 64


@dataclass
class WorkerRun:
    """What one worker did, as the grader saw it from outside."""

    events: list[dict[str, Any]] = field(default_factory=list)
    returncode: int | None = None
    timed_out: bool = False
    too_much: bool = False
    output_tail: str = ""
    seconds: float = 0.0


class Sandbox:
    """Runs workers; one instance per grading run, shared by the grading threads."""

    def __init__(self, limits: Limits, hide: list[str], pythonpath: list[str],
                 slots: int) -> None:
        self.limits, self.hide, self.pythonpath = limits, hide, pythonpath
        self._lock = threading.Lock()
        self._active: set[int] = set()
        self._claims: list[socket.socket] = []
        self.uids = claim_uids(slots, self._claims) if can_switch_uid() else []
        self.root = bool(self.uids)
        self._uids: queue.Queue[int] = queue.Queue()
        for uid in self.uids or [os.getuid()] * slots:
            self._uids.put(uid)
        libc = ctypes.CDLL(None, use_errno=True)
        self.subreaper = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        remove_stale_scratch()

    def _env(self, scratch: str) -> dict[str, str]:
        return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                "HOME": scratch, "TMPDIR": scratch, "MPLCONFIGDIR": scratch,
                "PYTHONPATH": os.pathsep.join(self.pythonpath),
                "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
                "PYTHONIOENCODING": "utf-8", "MPLBACKEND": "Agg",
                "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1"}

    def _config(self, uid: int, scratch: str, hold: str) -> dict[str, Any]:
        lim = self.limits
        return {"uid": uid, "drop_uid": self.root, "scratch": scratch, "hold": hold,
                "hide": self.hide,
                "grader_pid": os.getpid(), "cpu_seconds": max(1, int(lim.timeout + 1)),
                "memory_bytes": lim.memory_mb * 2**20, "nproc": lim.nproc,
                "nofile": lim.nofile, "fsize_bytes": lim.output_mb * 2**20,
                "scratch_bytes": lim.scratch_mb * 2**20,
                "user_procs": 0 if self.root else count_user_processes()}

    def run(self, job: dict[str, Any]) -> WorkerRun:
        """Run one worker on ``job`` (see ``worker.py``) and clean up after it."""
        uid = self._uids.get()
        base = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        try:
            return self._run(job, uid, base)
        finally:
            shutil.rmtree(base, ignore_errors=True)
            self._uids.put(uid)

    def _run(self, job: dict[str, Any], uid: int, base: str) -> WorkerRun:
        os.chmod(base, 0o711)
        scratch, hold = os.path.join(base, "work"), os.path.join(base, "hold")
        os.mkdir(scratch, 0o700)
        os.mkdir(hold, 0o700)
        if self.root:
            os.chown(scratch, uid, uid)
        job = {**job, "sandbox": self._config(uid, scratch, hold)}
        run = WorkerRun()
        start = time.monotonic()
        read_end, write_end = os.pipe()
        output_fd = os.open(os.path.join(base, "output"), os.O_RDWR | os.O_CREAT, 0o600)
        with open(output_fd, "w+b") as output:
            with self._lock:
                proc = subprocess.Popen(
                    [sys.executable, "-s", "-P", "-m", "dlcore.grading.autograder.worker",
                     str(write_end)],
                    stdin=subprocess.PIPE, stdout=output, stderr=subprocess.STDOUT,
                    pass_fds=(write_end,), cwd=scratch, env=self._env(scratch),
                    start_new_session=True)
                self._active.add(proc.pid)
            os.close(write_end)
            try:
                self._feed(proc, job)
                data = self._collect(proc, read_end, start + self.limits.timeout, run)
            finally:
                os.close(read_end)
                killpg(proc.pid)
                proc.wait()
                run.returncode = proc.returncode
                with self._lock:
                    self._active.discard(proc.pid)
                    self.sweep(uid, proc.pid)
            run.seconds = time.monotonic() - start
            output.seek(max(0, output.seek(0, os.SEEK_END) - 2000))
            run.output_tail = output.read().decode("utf-8", errors="replace")
        run.events = _parse_lines(data)
        return run

    @staticmethod
    def _feed(proc: subprocess.Popen, job: dict[str, Any]) -> None:
        try:
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
        except OSError:
            pass  # the worker died early; its exit status says why

    def _collect(self, proc: subprocess.Popen, fd: int, deadline: float,
                 run: WorkerRun) -> bytes:
        chunks, size = [], 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                run.timed_out = True
                break
            ready, _, _ = select.select([fd], [], [], min(left, 0.2))
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_RESULT_BYTES:
                    run.too_much = True
                    break
            elif proc.poll() is not None:
                # Exited, and the pipe was empty a moment ago; take what it wrote since
                # (a left-behind child may hold the pipe open, so EOF may never come).
                while size <= MAX_RESULT_BYTES and select.select([fd], [], [], 0)[0]:
                    chunk = os.read(fd, 1 << 16)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                break
        return b"".join(chunks)

    def sweep(self, uid: int, worker_pid: int) -> None:
        """Kill everything the worker left behind, then reap the orphans we inherited.
        Call with ``self._lock`` held."""
        for _ in range(50):
            if self.root:
                try:  # kill(-1) as that uid: every process of it at once
                    subprocess.run(["kill", "-KILL", "-1"], user=uid, group=uid,
                                   extra_groups=[], stderr=subprocess.DEVNULL)
                except OSError:
                    pass  # no kill(1) here: the loop below kills them one by one
                left = [int(p) for p in os.listdir("/proc")
                        if p.isdigit() and uid_of(p) == uid]
            else:
                left = self._orphans(worker_pid)
            procs = processes()
            left = [p for p in left if procs.get(p, (0, "Z"))[1] != "Z"]
            for pid in left:
                kill(pid)
            self._reap(procs)
            if not left:
                return
            time.sleep(0.02)

    def _orphans(self, worker_pid: int) -> list[int]:
        """Not root: the worker's group, and every process re-parented to the grader
        that is not a running worker, with all their descendants."""
        procs = processes()
        me = os.getpid()
        roots = {p for p, (ppid, _) in procs.items() if ppid == me and p not in self._active}
        roots |= {p for p in procs if same_group(p, worker_pid)}
        found, todo = set(), list(roots)
        while todo:
            pid = todo.pop()
            if pid in found:
                continue
            found.add(pid)
            todo.extend(c for c, (ppid, _) in procs.items() if ppid == pid)
        return sorted(found)

    def _reap(self, procs: dict[int, tuple[int, str]]) -> None:
        me = os.getpid()
        for pid, (ppid, state) in procs.items():
            if ppid == me and state == "Z" and pid not in self._active:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass


def remove_stale_scratch() -> None:
    """Remove the temporary folders of graders that were killed before they could."""
    folder = tempfile.gettempdir()
    for name in os.listdir(folder):
        found = re.fullmatch(re.escape(SCRATCH_PREFIX) + r"(\d+)-\w+", name)
        path = os.path.join(folder, name)
        if found is None or os.lstat(path).st_uid != os.geteuid():
            continue
        try:
            with open(f"/proc/{found[1]}/cmdline", "rb") as f:
                alive = b"dlcore" in f.read()
        except OSError:
            alive = False
        if not alive:
            shutil.rmtree(path, ignore_errors=True)


def _parse_lines(data: bytes) -> list[dict[str, Any]]:
    """Complete JSON-object lines only; anything else (a torn last line, junk) is dropped."""
    events = []
    for line in data.split(b"\n")[:-1]:
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(event, dict):
            events.append(event)
    return events
