"""The code that runs inside the sandboxed worker process, one per submission.

    python -s -P -m dlcore.grading.autograder.worker RESULT_FD TRACE_FD  < job.json

Order matters, and is the whole security argument:

1. trusted: read the job from stdin (cells to run, grade_ids, the hidden cases already
   encoded by the grader, the sandbox settings, the phases to skip); import the specs;
   confine the process (``confine.confine``); install the audit hook that reports what
   the learner's code tries beyond its sandbox (``audit.py``); write a ``ready`` line
   with what the sandbox achieved;
2. untrusted: ``exec`` the cells (the teacher's setup cells and the learner's answer
   cells) in one namespace, each a phase of its own (a ``phase`` line first);
3. ``spec.run(namespace, case)`` for every hidden case, each part a phase, each answer
   written as one JSON line of plain data (``spec.encode``) to the result pipe, then
   ``done``; then it waits to be killed, so the grader sees any process left running.

The grader times each phase apart and ends the worker when one runs out; it then starts
a new worker that skips that phase (and the parts already answered), so a loop in one
cell or part costs only that one (see ``grade.py``).

After step 2 the learner may have patched anything in this process (``json``, NumPy,
the specs, ``os.write``), so nothing written after it can be trusted, and the grader
does not trust it: every line is parsed strictly, decoded to fresh plain data, and
compared in the grader's own process with references the worker never sees. The
answers are the learner function's outputs on inputs drawn from a seed chosen at
grading time, so a forged line has to contain the right outputs for those inputs,
which is solving the exercise. Only the ``ready`` line is written before learner code
runs, so it is the one line the grader believes as it is.

Authenticating each line is impossible in-process (a key in memory is a key the learner
can read), and hiding the pipe does not help (its number is in ``/proc/self/fd``), so
the design makes forging pointless instead: the pipe exists so that ordinary printing
never mixes with answers; a case answered twice counts as unanswered; a line that is
not well-formed plain data earns nothing; ``done`` without the answers earns nothing;
the wall clock and the grader's own view of the process decide timeouts and crashes.
"""
from __future__ import annotations

import faulthandler
import importlib
import json
import linecache
import os
import signal
import sys
import time
from typing import Any

from ..spec import CASE_TIMEOUT, decode_case, encode, learner_error
from .audit import install_audit
from .confine import confine

MAX_LINE = 8 * 1024 * 1024


class _Pipe:
    """JSON lines to the grader, through the references taken before learner code ran."""

    def __init__(self, fd: int) -> None:
        self.fd, self._write, self._dumps = fd, os.write, json.dumps

    def send(self, record: dict[str, Any]) -> None:
        data = (self._dumps(record) + "\n").encode()
        if len(data) > MAX_LINE:
            data = (self._dumps({**{k: v for k, v in record.items() if k != "got"},
                                 "error": {"type": "AnswerError",
                                           "message": "the answer is too large to grade"}})
                    + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[self._write(self.fd, view):]


def _strip_magics(source: str) -> str:
    """IPython ``%magic`` and ``!shell`` lines become ``pass``; the rest is kept."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass"
        lines.append(line)
    return "\n".join(lines) + "\n"


class _CaseTimeout(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _CaseTimeout("took too long on this case")


class _Phase:
    """Tells the grader where the worker is, so each cell and each part's cases are
    timed apart (the grader keeps the clock, see ``sandbox.py``), and arms
    ``faulthandler`` to write the stack to the trace pipe shortly before that phase's
    time is up, so the grader can say which line was running."""

    def __init__(self, pipe: _Pipe, trace_fd: int | None, budget: float) -> None:
        self.pipe, self.trace_fd, self.budget = pipe, trace_fd, budget
        self._later, self._cancel = faulthandler.dump_traceback_later, \
            faulthandler.cancel_dump_traceback_later

    def start(self, index: int) -> None:
        self.pipe.send({"event": "phase", "index": index})
        if self.trace_fd is not None:
            self._later(max(self.budget - 0.5, self.budget * 0.8), file=self.trace_fd)

    def end(self) -> None:
        if self.trace_fd is not None:
            self._cancel()


def run_job(job: dict[str, Any], pipe: _Pipe, trace_fd: int | None = None) -> None:
    """Phases in order: every cell (index ``i``), then every part's cases (index
    ``len(cells) + j``); the phases in ``job["skip"]`` are left out (a cell that ran out
    of time or killed an earlier worker, a part answered by an earlier worker)."""
    registry = importlib.import_module(job["specs_module"])
    specs = {s.grade_id: s for s in registry.specs_for(job["assignment"])}
    graded = [(specs[g], [decode_case(c) for c in cases]) for g, cases in job["cases"]]
    skip = set(job.get("skip", ()))
    budget = float(job.get("budget", 60.0))
    scratch = job["sandbox"]["scratch"]
    report = confine(job["sandbox"])
    report["audit"] = install_audit(pipe, scratch, bool(report.get("pid_namespace")))
    pipe.send({"event": "ready", "sandbox": report})
    sys.stdin = open(os.devnull)
    phase = _Phase(pipe, trace_fd, budget)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    cells = job["cells"]
    for index, cell in enumerate(cells):
        if index in skip:
            continue
        phase.start(index)
        name = f"<cell {index}>"
        source = _strip_magics(cell["source"])
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        try:
            exec(compile(source, name, "exec"), namespace)
        except BaseException as err:  # SystemExit and KeyboardInterrupt included
            pipe.send({"event": "cell_error", "index": index,
                       "error": learner_error(err).to_plain()})
        phase.end()
    for j, (spec, cases) in enumerate(graded):
        if len(cells) + j in skip:
            continue
        phase.start(len(cells) + j)
        limit = min(float(spec.time_limit), budget)
        for k, case in enumerate(cases):
            record: dict[str, Any] = {"event": "result", "grade_id": spec.grade_id, "case": k}
            try:
                signal.signal(signal.SIGALRM, _on_alarm)
                signal.setitimer(signal.ITIMER_REAL, limit)
                try:
                    record["got"] = encode(spec.run(namespace, case))
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except _CaseTimeout:
                record["error"] = {"type": CASE_TIMEOUT,
                                   "message": f"took longer than {limit:g} s on this case"}
            except BaseException as err:
                record["error"] = learner_error(err).to_plain()
            pipe.send(record)
        phase.end()
    pipe.send({"event": "done"})
    # The grader looks for processes the learner left running, then ends this one.
    while True:
        time.sleep(60)


def main() -> None:
    pipe = _Pipe(int(sys.argv[1]))
    trace_fd = int(sys.argv[2]) if len(sys.argv) > 2 else None
    job = json.loads(sys.stdin.buffer.read())
    try:
        run_job(job, pipe, trace_fd)
    except BaseException as err:  # anything above that escaped, learner-made or not
        try:
            pipe.send({"event": "worker_error", "error": learner_error(err).to_plain()})
        except BaseException:
            pass
    try:
        sys.stdout.flush()
    except BaseException:
        pass
    os._exit(0)  # no atexit handlers, no finalizers the learner may have registered


if __name__ == "__main__":
    main()
