"""Grade a class on a Dask cluster: the same grading, one task per submission.

    python -m dlcore grade SUBMISSIONS --assignment NN --out OUT --cluster local[:N]
    python -m dlcore grade SUBMISSIONS --assignment NN --out OUT --scheduler tls://HOST:8786

``--cluster local:N`` starts a ``LocalCluster`` of N single-threaded worker processes on
127.0.0.1 for this run and closes it at the end; ``--scheduler`` joins a running Dask
scheduler (``dask scheduler`` / ``dask worker`` on several machines, dask-jobqueue on
Slurm or PBS, dask-kubernetes). A ``tls://`` address takes its certificates from Dask's
own configuration (``distributed.comm.tls.ca-file``, ``.client.cert``, ``.client.key``
in ``~/.config/dask/*.yaml`` or ``DASK_DISTRIBUTED__COMM__TLS__...`` variables), as
``dask scheduler --tls-ca-file ...`` and ``dask worker --tls-ca-file ...`` do. Only
this module imports Dask, and only the cluster path imports this module.

**The task** (``grade_task``) is a pure function of (notebook bytes, assignment name,
hidden seed, student): the client ships the notebook's *bytes* (a worker on another
machine cannot read the client's paths) and, once per run, the teacher's notebook and
the seed (``run``, a ``RunPlugin`` every worker holds, even one that joins later). The
worker rebuilds the assignment from its own installed specs with that seed, writes the
bytes into a temporary folder of its own and grades them with its own ``Sandbox``: a
fresh confined process per submission, started and waited for in the task's thread
(``PR_SET_PDEATHSIG`` follows the thread), exactly as the local path does. A task that
runs twice (a lost worker, a retry) gives the same result, and the client keeps the
first one per student.

**Only the client writes**: the journal, then the gradebook, feedback, report and
similarity, from the results merged by student. The journal gets what the local path
writes: a ``start`` record when a worker begins grading a notebook (the task tells the
client through a Dask event topic, ``start_topic``; one per notebook and run, however
often Dask runs its task) and an ``end`` record as each result arrives. So an
interrupted run resumes, and a notebook that was being graded each of two times the
client died is not tried a third time, as locally; the notebooks merely waiting in the
submission window have no ``start`` and are graded as usual. A worker lost mid-run
costs no row: Dask hands its tasks to another worker; a notebook whose worker dies
more often than Dask's ``allowed-failures`` (3) gets its row with status "crashed" and
that reason.

Security argument, beyond the local path's (``sandbox.py``, ``confine.py``):

* Learner code runs only inside the sandboxed process on the worker, never in the Dask
  worker itself, so it cannot reach the Dask comm, the scheduler or other tasks' data.
  The worker's temporary folder of notebooks and its Dask local directory are among the
  folders the sandbox hides, so concurrent learners on one worker cannot read each
  other's notebooks.
* The hidden cases never leave the machines: each worker computes them from the seed,
  and the client and workers must run the same dlcore version, NumPy and Python (other
  dlcore source files under the same version are named in a warning): a worker that
  differs is refused, with the versions named, and the
  run's tasks go only to the workers that agree (``check_versions``); a task that lands
  on a worker that joined later with other versions refuses to grade
  (``VersionRefused``) and is sent to the workers that agree at that moment.
* A worker whose sandbox gives less isolation than the client's own (no separate uid,
  no network or process namespace, no read-only file system) says so in every row it
  grades (a teacher's note and a flag in the reason) and on the command line, never
  silently.
* The Dask comm itself is the teacher's: a ``tcp://`` scheduler must only be reachable
  from the course's machines; across networks use ``tls://``. Learner code in a sandbox
  with network isolation cannot reach the scheduler at all; on a worker without it
  (flagged) only TLS keeps it out, and only if it cannot read the key files: run such
  workers as root with the keys readable by root only, so the learner's unprivileged
  uid cannot.
* Ctrl-C cancels every future, stops the sandboxed processes this run still has on the
  workers (``stop_run``), and closes a ``LocalCluster``: nothing is left running.
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import logging
import os
import platform
import shutil
import socket
import sys
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import distributed
from distributed import Client, LocalCluster, WorkerPlugin, as_completed, get_worker
from tqdm import tqdm

from .discover import Submission
from .grade import Assignment, digest_of, empty_result, grade_submission
from .journal import Journal
from .result import Flag, FlagKind
from .sandbox import Limits, Sandbox

#: What every worker must share with the client to grade the same way: a worker that
#: differs is refused. Its dlcore source files may differ too (an edited install with
#: the same version number): that is said on the command line, not refused, since a
#: course's own checkout changes under a long run.
VERSION_KEYS = ("python", "numpy", "dlcore")

#: Isolation the sandbox can give; True means the learner's code is kept out of it.
ISOLATION_KEYS = {
    "separate uid": "learner code runs as its own unprivileged user",
    "network": "learner code has no network",
    "read-only files": "learner code cannot write outside its scratch folder",
    "process namespace": "learner code cannot see or signal other processes",
    "hidden folders": "learner code cannot read the other notebooks",
    "subreaper": "a daemon started by learner code cannot outlive its worker",
}


class ClusterError(Exception):
    """The cluster cannot grade this run (bad address, no worker with our versions)."""


class VersionRefused(Exception):
    """Raised by a task on a worker whose versions differ from the client's."""


# -- versions ---------------------------------------------------------------------------
@functools.cache
def _source_digest() -> str:
    """SHA-256 of dlcore's own Python files (the specs and the grader included), so two
    installs that say 0.1.0 but grade differently are told apart. Read once per process,
    near when it imported them: a file edited later changes nothing this process runs."""
    import dlcore

    root = os.path.dirname(os.path.abspath(dlcore.__file__))
    h = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(folder, name)
            h.update(os.path.relpath(path, root).encode() + b"\0")
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()[:16]


def versions() -> dict[str, str]:
    """This process's versions of what grading depends on."""
    import numpy

    import dlcore

    return {"python": ".".join(platform.python_version_tuple()[:2]),
            "numpy": numpy.__version__, "dlcore": dlcore.__version__,
            "dlcore source": _source_digest()}


def version_mismatch(client: dict[str, str], worker: dict[str, str]) -> list[str]:
    """What differs between the client's and a worker's ``versions()``, in words; an
    empty list when they agree."""
    return [f"{key} {worker.get(key, 'missing')} (the client has {client.get(key)})"
            for key in VERSION_KEYS if worker.get(key) != client.get(key)]


def check_versions(client: Client, mine: dict[str, str]
                   ) -> tuple[list[str], list[str], list[str]]:
    """(workers that may grade, refusals in words, warnings in words) over the workers
    connected now."""
    found = client.run(versions)
    ok, refused, warnings = [], [], []
    for address, theirs in sorted(found.items()):
        wrong = version_mismatch(mine, theirs)
        if wrong:
            refused.append(f"worker {address} refused: " + ", ".join(wrong))
            continue
        ok.append(address)
        if theirs.get("dlcore source") != mine.get("dlcore source"):
            warnings.append(f"worker {address} runs dlcore {theirs['dlcore']} from other "
                            f"source files than this machine (digest "
                            f"{theirs.get('dlcore source')}, here {mine.get('dlcore source')})"
                            ": install the same dlcore everywhere, or its rows may differ")
    return ok, refused, warnings


# -- isolation --------------------------------------------------------------------------
def isolation(sandbox: Sandbox, report: dict[str, Any]) -> dict[str, bool]:
    """What a sandbox gives, from its probe worker's report (``cli.probe``)."""
    return {"separate uid": bool(sandbox.root),
            "network": report.get("network") == "isolated",
            "read-only files": bool(report.get("read_only")),
            "process namespace": bool(report.get("pid_namespace")),
            "hidden folders": not report.get("visible"),
            "subreaper": bool(sandbox.subreaper)}


def weaker(client: dict[str, bool] | None, worker: dict[str, bool]) -> list[str]:
    """The protections the worker lacks that the client's machine gives (all of them
    count when the client could not start a sandbox itself)."""
    return [key for key in ISOLATION_KEYS
            if (client is None or client.get(key)) and not worker.get(key)]


def isolation_note(host: str, missing: list[str]) -> str:
    return (f"graded on {host}, whose sandbox gives less isolation than the grading "
            f"client's: " + "; ".join(f"not: {ISOLATION_KEYS[k]}" for k in missing))


# -- the worker's side ------------------------------------------------------------------
class _WorkerState:
    """One run's assignment and sandbox inside one Dask worker process."""

    def __init__(self, run: dict[str, Any]) -> None:
        from .cli import PROJECT, SandboxError, _module_root, probe_report

        registry = importlib.import_module(run["specs_module"])
        specs = registry.specs_for(run["assignment"])
        self.assignment = Assignment.build(run["assignment"], specs, run["specs_module"],
                                           run["teacher"], run["seed"], run["timeout"])
        worker = get_worker()
        # Inside the worker's Dask folder, which Dask removes when the worker closes.
        local = os.path.realpath(worker.local_directory)
        self.folder = tempfile.mkdtemp(prefix="dlcore-notebooks-", dir=local)
        hide = list(dict.fromkeys([*run["hide"], local]))
        pythonpath = list(dict.fromkeys([PROJECT, _module_root(registry)]))
        slots = max(1, int(getattr(worker.state, "nthreads", 1)))
        self.sandbox = Sandbox(Limits(timeout=run["timeout"], memory_mb=run["memory_mb"]),
                               hide, pythonpath, slots)
        self.host = f"{socket.gethostname()} ({worker.address})"
        self.isolation = dict.fromkeys(ISOLATION_KEYS, False)
        self.broken = ""
        for _ in range(2):  # once more: a probe can fail on a machine under heavy load
            try:
                self.isolation = isolation(self.sandbox,
                                           probe_report(self.sandbox, self.assignment))
                self.broken = ""
                break
            except SandboxError as err:
                self.broken = str(err)[:500]
        self.missing = weaker(run["client_isolation"], self.isolation)


_STATES: OrderedDict[str, _WorkerState] = OrderedDict()
_STATES_LOCK = threading.Lock()


def _state(run: dict[str, Any]) -> _WorkerState:
    with _STATES_LOCK:
        if run["id"] not in _STATES:
            state = _WorkerState(run)
            if state.broken:  # not kept: the next task on this worker tries again
                return state
            _STATES[run["id"]] = state
            while len(_STATES) > 4:  # runs of other classes on a shared cluster
                _, old = _STATES.popitem(last=False)
                shutil.rmtree(old.folder, ignore_errors=True)
        return _STATES[run["id"]]


class RunPlugin(WorkerPlugin):
    """What every task of one run needs (the teacher's notebook, the seed...), held by
    each worker. Registered with the scheduler, so a worker that joins mid-run (or that
    a nanny restarts) gets it too; removed at the end of the run."""

    def __init__(self, run: dict[str, Any]) -> None:
        self.run = run
        self.name = plugin_name(run["id"])

    def teardown(self, worker: Any) -> None:
        with _STATES_LOCK:
            state = _STATES.pop(self.run["id"], None)
        if state is not None:
            shutil.rmtree(state.folder, ignore_errors=True)


def plugin_name(run_id: str) -> str:
    return f"dlcore-grade-{run_id}"


def start_topic(run_id: str) -> str:
    """The Dask event topic on which a task says that it began grading a notebook."""
    return f"dlcore-grade-{run_id}-start"


def grade_task(run_id: str, student: str, notebook: bytes) -> dict[str, Any]:
    """Grade one learner's notebook on this worker: the journal's plain result dict as
    ``result``, with ``host`` and ``missing`` (the isolation it lacks) for the client.
    Pure: the same notebook, student and run (assignment, seed) give the same result
    wherever and however often it runs."""
    run = get_worker().plugins[plugin_name(run_id)].run
    if (wrong := version_mismatch(run["versions"], versions())):
        raise VersionRefused(f"worker {get_worker().address} refused: " + ", ".join(wrong))
    get_worker().log_event(start_topic(run_id), {"student": student})
    state = _state(run)
    sub_dir = tempfile.mkdtemp(dir=state.folder)
    try:
        path = os.path.join(sub_dir, "submission.ipynb")
        with open(path, "wb") as f:
            f.write(notebook)
        sub = Submission(student, path)
        if state.broken:
            result = empty_result(sub, state.assignment, "error",
                                  f"the sandbox does not start on {state.host}: "
                                  f"{state.broken}")
        else:
            result = grade_submission(sub, state.assignment, state.sandbox)
    finally:
        shutil.rmtree(state.folder if state.broken else sub_dir, ignore_errors=True)
    if state.missing:
        note = isolation_note(state.host, state.missing)
        result["teacher_notes"] = [*result.get("teacher_notes", []), note]
        result["flags"] = [*result.get("flags", []),
                           Flag(FlagKind.ISOLATION, note).to_plain()]
        result["reason"] = f"{result['reason']}; flag: {note}"
    return {"result": result, "host": state.host, "missing": state.missing}


def stop_run(run_id: str) -> int:
    """Kill the sandboxed processes this run still has on this worker and start no more
    (after Ctrl-C: cancelled tasks keep their thread); how many were stopped."""
    with _STATES_LOCK:
        state = _STATES.get(run_id)
    return 0 if state is None else state.sandbox.stop()


# -- the client's side ------------------------------------------------------------------
def parse_cluster(text: str) -> int:
    """``local`` or ``local:N`` -> N workers (``local``: one per core)."""
    name, _, count = text.partition(":")
    if name != "local" or (count and not count.isdigit()) or count == "0":
        raise ValueError(f"--cluster takes local or local:N (N >= 1), not {text!r}")
    return int(count) if count else (os.cpu_count() or 1)


def connect(cluster: str | None, scheduler: str | None) -> tuple[Client, Any]:
    """A client, and the ``LocalCluster`` it started (``None`` for a scheduler)."""
    if scheduler:
        if not scheduler.startswith(("tcp://", "tls://")):
            raise ClusterError(f"--scheduler takes tcp://HOST:PORT or tls://HOST:PORT, "
                               f"not {scheduler!r}")
        try:
            return Client(scheduler, timeout="30s"), None
        except (OSError, TimeoutError) as err:
            raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {err}"
                               ) from err
    n = parse_cluster(cluster or "local")
    local = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                         host="127.0.0.1", dashboard_address=None,
                         silence_logs=logging.ERROR)
    return Client(local), local


def _close(client: Client, local: Any, run_id: str | None) -> None:
    """Remove the run's plugin (when it was registered), close the client and a
    LocalCluster."""
    if run_id is not None:
        try:
            client.unregister_worker_plugin(plugin_name(run_id))
        except Exception:  # noqa: BLE001  (a scheduler already gone: nothing to remove)
            pass
    client.close()
    if local is not None:
        local.close()


def grade_on_cluster(subs: list[Submission], assignment: Assignment, journal: Journal,
                     only: set[str], run: dict[str, Any], cluster: str | None,
                     scheduler: str | None, warn: Callable[[str], None]
                     ) -> tuple[list[dict[str, Any]], int]:
    """Every submission's result in the order of ``subs`` and how many were graded now,
    as ``cli._grade_all``. ``run`` holds what the workers need once: assignment,
    specs_module, teacher, seed, timeout, memory_mb, hide, client_isolation; it
    reaches the workers once, as a ``RunPlugin``."""
    results: dict[str, dict[str, Any]] = {}
    digests: dict[str, str] = {}
    todo: list[Submission] = []
    kept: set[str] = set()  # taken from the journal as they are
    for sub in subs:  # the journal's side first: no task for what is already graded
        digest = digests[sub.student] = digest_of(sub.path)
        done = journal.finished(sub.student, digest)
        if sub.path is None:
            results[sub.student] = empty_result(sub, assignment, "missing", sub.problem)
            journal.end(sub.student, digest, results[sub.student])
        elif done is not None and sub.student not in only:
            results[sub.student] = done
            kept.add(sub.student)
        elif journal.unfinished_starts(sub.student, digest) >= 2 and sub.student not in only:
            results[sub.student] = empty_result(
                sub, assignment, "crashed", "the grader itself stopped twice while grading "
                "this notebook; it was not tried again")
            journal.end(sub.student, digest, results[sub.student])
        else:
            todo.append(sub)
    graded_now = sum(1 for s in subs if s.path is not None and s.student not in kept)
    if not todo:
        return [results[s.student] for s in subs], graded_now
    mine = versions()
    run = {**run, "versions": mine,
           "id": hashlib.sha256(os.urandom(16)).hexdigest()[:16]}
    client, local = connect(cluster, scheduler)
    futures: list[Any] = []
    registered = False
    started: set[str] = set()
    journal_open = [True]
    journal_lock = threading.Lock()

    def on_start(event: tuple[float, Any]) -> None:
        """A task began grading: the journal's ``start`` record, written here (the
        client's event loop), once per notebook, never after its ``end``."""
        msg = event[1] if isinstance(event, tuple) and len(event) == 2 else None
        student = msg.get("student") if isinstance(msg, dict) else None
        with journal_lock:
            if journal_open[0] and student in digests and student not in started \
                    and student not in results:
                started.add(student)
                journal.start(student, digests[student])

    def finish() -> None:
        with journal_lock:
            journal_open[0] = False
        client.unsubscribe_topic(start_topic(run["id"]))
        _close(client, local, run["id"] if registered else None)

    client.subscribe_topic(start_topic(run["id"]), on_start)
    try:
        client.wait_for_workers(1, timeout=120)
        ok, refused, warnings = check_versions(client, mine)
        for line in refused + warnings:
            warn(line)
        if not ok:
            raise ClusterError("no worker runs the client's versions "
                               f"({', '.join(f'{k} {v}' for k, v in mine.items())}); "
                               "nothing was graded")
        # Restrict placement only when a worker was refused: otherwise a worker that a
        # nanny restarts (a new address) may take the tasks of the one it replaces.
        allowed = set(ok) if refused else set()
        client.register_plugin(RunPlugin(run), name=plugin_name(run["id"]))
        registered = True
        by_key: dict[str, Submission] = {}
        queue = iter(todo)
        pending = as_completed()

        def submit_next() -> None:
            """Submit the next notebook, read only now: the client and the scheduler
            hold a window of notebooks, never the whole class."""
            for sub in queue:
                try:
                    with open(sub.path, "rb") as f:
                        data = f.read()
                except OSError as err:
                    results[sub.student] = empty_result(sub, assignment, "unreadable",
                                                        f"cannot read the notebook: {err}")
                    journal.end(sub.student, digests[sub.student], results[sub.student])
                    bar.update(1)
                    continue
                future = client.submit(grade_task, run["id"], sub.student, data,
                                       key=f"dlcore-grade-{run['id']}-{len(by_key)}",
                                       workers=sorted(allowed) or None, pure=False)
                by_key[future.key] = sub
                futures.append(future)
                pending.add(future)
                return

        told: set[str] = set()
        with tqdm(total=len(todo), desc=f"grading on {len(ok)} Dask workers",
                  unit="notebook", file=sys.stderr) as bar:
            for _ in range(max(64, 4 * len(ok))):
                submit_next()
            retries = 0
            for future in pending:
                sub = by_key[future.key]
                futures.remove(future)
                try:
                    answer = future.result()
                except VersionRefused as err:  # a worker that joined after the check
                    warn(str(err))
                    allowed, _, _ = check_versions(client, mine)
                    allowed = set(allowed)
                    if not allowed:
                        raise ClusterError("no worker with the client's versions is left"
                                           ) from err
                    retries += 1
                    with open(sub.path, "rb") as f:
                        data = f.read()
                    again = client.submit(grade_task, run["id"], sub.student, data,
                                          key=f"{future.key}-again{retries}",
                                          workers=sorted(allowed), pure=False)
                    by_key[again.key] = sub
                    futures.append(again)
                    pending.add(again)
                    continue
                except distributed.KilledWorker as err:
                    answer = {"result": empty_result(
                        sub, assignment, "crashed", "the Dask worker grading this notebook "
                        f"died each time it was tried ({err}); the other rows are unaffected"),
                        "host": "", "missing": []}
                except Exception as err:  # a grader bug must not cost the other rows
                    answer = {"result": empty_result(
                        sub, assignment, "error",
                        f"internal grader error on a Dask worker ({type(err).__name__}: "
                        f"{err})"), "host": "", "missing": []}
                submit_next()
                if sub.student in results:  # a duplicate run of the same pure task
                    continue
                with journal_lock:  # its start, if still on the way, is then dropped
                    results[sub.student] = answer["result"]
                    journal.end(sub.student, digests[sub.student], answer["result"])
                if answer["missing"] and answer["host"] not in told:
                    told.add(answer["host"])
                    warn(isolation_note(answer["host"], answer["missing"]))
                bar.update(1)
    except KeyboardInterrupt:
        client.cancel(futures, force=True)
        try:
            client.run(stop_run, run["id"])
        finally:
            finish()
        raise
    except BaseException:
        finish()
        raise
    finish()
    return [results[s.student] for s in subs], graded_now

