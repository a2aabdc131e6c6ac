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

from . import worker as _worker  # noqa: F401  (see below)
from .processes import (
    can_switch_uid,
    claim_uids,
    command_of,
    count_user_processes,
    innermost_pid,
    kill,
    killpg,
    processes,
    same_group,
    uid_of,
)

# ``worker`` (with ``confine`` and ``audit``) is imported above only so that this process
# writes its bytecode, as it does for the spec modules it imports: the worker runs with
# PYTHONDONTWRITEBYTECODE, and modules only it imported were compiled anew for each
# submission (about 10 ms of its start-up).
PR_SET_CHILD_SUBREAPER = 36
MAX_RESULT_BYTES = 64 * 1024 * 1024
SCRATCH_PREFIX = "dlcore-grade-"  # then the grader's pid
STARTUP_SECONDS = 60.0  # to import NumPy and the specs and confine, on a loaded machine


@dataclass(frozen=True)
class Limits:
    """Per-worker limits. ``timeout`` is wall-clock seconds for each phase: each cell
    of the notebook, and each graded part's hidden cases (see ``worker.py``)."""

    timeout: float = 60.0
    memory_mb: int = 1024
    nproc: int = 32
    nofile: int = 64
    output_mb: int = 4
    scratch_mb: int = 64


@dataclass
class WorkerRun:
    """What one worker did, as the grader saw it from outside.

    ``phase`` is the last phase the worker said it started (``None``: none yet);
    ``timed_out`` says the phase ran out of its time (or the run out of its total),
    ``trace`` holds the stack ``faulthandler`` wrote just before, ``leftovers`` the
    processes the learner's code left running when the worker said ``done``."""

    events: list[dict[str, Any]] = field(default_factory=list)
    returncode: int | None = None
    timed_out: bool = False
    too_much: bool = False
    output_tail: str = ""
    seconds: float = 0.0
    phase: int | None = None
    done: bool = False
    trace: str = ""
    leftovers: list[str] = field(default_factory=list)


class Sandbox:
    """Runs workers; one instance per grading run, shared by the grading threads."""

    def __init__(self, limits: Limits, hide: list[str], pythonpath: list[str],
                 slots: int) -> None:
        self.limits, self.hide, self.pythonpath = limits, hide, pythonpath
        self._lock = threading.Lock()
        self._active: set[int] = set()
        self._stopped = False
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

    def _config(self, uid: int, scratch: str, hold: str, total: float) -> dict[str, Any]:
        lim = self.limits
        return {"uid": uid, "drop_uid": self.root, "scratch": scratch, "hold": hold,
                "hide": self.hide,
                "grader_pid": os.getpid(), "cpu_seconds": max(1, int(total + 5)),
                "memory_bytes": lim.memory_mb * 2**20, "nproc": lim.nproc,
                "nofile": lim.nofile, "fsize_bytes": lim.output_mb * 2**20,
                "scratch_bytes": lim.scratch_mb * 2**20,
                "user_procs": 0 if self.root else count_user_processes()}

    def run(self, job: dict[str, Any], total: float | None = None) -> WorkerRun:
        """Run one worker on ``job`` (see ``worker.py``) and clean up after it. Each
        phase gets ``limits.timeout`` seconds; the whole run at most ``total``
        (default: the time of one phase)."""
        uid = self._uids.get()
        base = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        total = float(total if total is not None else self.limits.timeout)
        try:
            return self._run({**job, "budget": self.limits.timeout}, uid, base, total)
        finally:
            shutil.rmtree(base, ignore_errors=True)
            self._uids.put(uid)

    def _run(self, job: dict[str, Any], uid: int, base: str, total: float) -> WorkerRun:
        os.chmod(base, 0o711)
        scratch, hold = os.path.join(base, "work"), os.path.join(base, "hold")
        os.mkdir(scratch, 0o700)
        os.mkdir(hold, 0o700)
        if self.root:
            os.chown(scratch, uid, uid)
        job = {**job, "sandbox": self._config(uid, scratch, hold, total)}
        run = WorkerRun()
        start = time.monotonic()
        read_end, write_end = os.pipe()
        trace_read, trace_write = os.pipe()
        os.set_blocking(trace_read, False)
        output_fd = os.open(os.path.join(base, "output"), os.O_RDWR | os.O_CREAT, 0o600)
        with open(output_fd, "w+b") as output:
            with self._lock:
                if self._stopped:
                    os.close(read_end)
                    os.close(write_end)
                    os.close(trace_read)
                    os.close(trace_write)
                    run.output_tail = "the grading run was stopped before this worker started"
                    return run
                proc = subprocess.Popen(
                    [sys.executable, "-s", "-P", "-m", "dlcore.grading.autograder.worker",
                     str(write_end), str(trace_write)],
                    stdin=subprocess.PIPE, stdout=output, stderr=subprocess.STDOUT,
                    pass_fds=(write_end, trace_write), cwd=scratch, env=self._env(scratch),
                    start_new_session=True)
                self._active.add(proc.pid)
            os.close(write_end)
            os.close(trace_write)
            try:
                self._feed(proc, job)
                self._collect(proc, read_end, start, total, run, uid)
            finally:
                os.close(read_end)
                killpg(proc.pid)
                proc.wait()
                run.returncode = proc.returncode
                with self._lock:
                    self._active.discard(proc.pid)
                    self.sweep(uid, proc.pid)
                run.trace = _read_all(trace_read, 64 * 1024)
                os.close(trace_read)
            run.seconds = time.monotonic() - start
            output.seek(max(0, output.seek(0, os.SEEK_END) - 2000))
            run.output_tail = output.read().decode("utf-8", errors="replace")
        return run

    @staticmethod
    def _feed(proc: subprocess.Popen, job: dict[str, Any]) -> None:
        try:
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
        except OSError:
            pass  # the worker died early; its exit status says why

    def _collect(self, proc: subprocess.Popen, fd: int, start: float, total: float,
                 run: WorkerRun, uid: int) -> None:
        """Read the worker's lines until it is done, dies, or runs out of time.

        The start-up (no learner code yet) has ``STARTUP_SECONDS``; from the ``ready``
        line on, the clock restarts at each ``phase`` line, but only for a phase later
        than the last one (a forged line cannot buy time twice), and never past
        ``total`` after ``ready``."""
        budget = self.limits.timeout
        end_of_all = start + STARTUP_SECONDS + total
        deadline = start + STARTUP_SECONDS  # trusted start-up: imports, confinement
        pending, size = b"", 0
        while True:
            now = time.monotonic()
            if now >= deadline:
                run.timed_out = True
                return
            ready, _, _ = select.select([fd], [], [], min(deadline - now, 0.2))
            if ready:
                chunk = os.read(fd, 1 << 16)
            elif proc.poll() is not None:
                # Exited, and the pipe was empty a moment ago; take what it wrote since
                # (a left-behind child may hold the pipe open, so EOF may never come).
                chunk = os.read(fd, 1 << 16) if select.select([fd], [], [], 0)[0] else b""
            else:
                continue
            if not chunk:
                return
            size += len(chunk)
            if size > MAX_RESULT_BYTES:
                run.too_much = True
                return
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            for event in _parse_lines(b"\n".join(lines) + b"\n" if lines else b""):
                run.events.append(event)
                kind = event.get("event")
                index = event.get("index")
                if kind == "ready" and len(run.events) == 1:
                    end_of_all = time.monotonic() + total
                    deadline = min(time.monotonic() + budget, end_of_all)
                elif kind == "phase" and type(index) is int and \
                        (run.phase is None or index > run.phase):
                    run.phase = index
                    deadline = min(time.monotonic() + budget, end_of_all)
                elif kind == "done":
                    run.done = True
                    ready_line = next((e for e in run.events if e.get("event") == "ready"), {})
                    own_pids = bool((ready_line.get("sandbox") or {}).get("pid_namespace"))
                    run.leftovers = self._leftovers(uid, proc.pid, own_pids)
                    return

    def stop(self) -> int:
        """Stop this sandbox for good (say, after Ctrl-C on a cluster run, whose cancelled
        tasks keep their threads): kill the process group of every worker running now,
        and start no new one (``run`` then returns a run that never became ready). The
        threads that started them sweep up as usual. Returns how many were killed."""
        with self._lock:
            self._stopped = True
            pids = sorted(self._active)
        for pid in pids:
            killpg(pid)
        return len(pids)

    def _leftovers(self, uid: int, worker_pid: int, own_pids: bool) -> list[str]:
        """Processes the learner's code left running, while the worker waits after
        ``done``: of the worker's uid (root) or descended from it, less the worker
        itself and, in its pid namespace, that namespace's init (pid 1) and worker (2)."""
        if self.root:
            found = [int(p) for p in os.listdir("/proc") if p.isdigit() and uid_of(p) == uid]
        else:
            found = self._orphans(worker_pid)
        procs = processes()
        out = []
        for pid in found:
            if pid == worker_pid or procs.get(pid, (0, "Z"))[1] == "Z":
                continue
            inner = innermost_pid(pid)
            if own_pids and inner is not None and inner <= 2:
                continue
            out.append(command_of(pid))
        return out[:10]

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
    """Remove the temporary folders of graders that were killed before they could (their
    process is gone)."""
    folder = tempfile.gettempdir()
    for name in os.listdir(folder):
        found = re.fullmatch(re.escape(SCRATCH_PREFIX) + r"(\d+)-\w+", name)
        path = os.path.join(folder, name)
        if found is None or os.lstat(path).st_uid != os.geteuid():
            continue
        # Any live process of that pid keeps its folder: a grader may run inside another
        # program (pytest, a Dask worker) whose command line does not say dlcore.
        if not os.path.exists(f"/proc/{found[1]}"):
            shutil.rmtree(path, ignore_errors=True)


def _read_all(fd: int, limit: int) -> str:
    """What a non-blocking pipe holds now, up to ``limit`` bytes."""
    chunks, size = [], 0
    while size < limit:
        try:
            chunk = os.read(fd, 1 << 14)
        except (BlockingIOError, OSError):
            break
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:limit].decode("utf-8", errors="replace")


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
