"""The code that runs inside the sandboxed worker process, one per submission.

    python -s -P -m dlcore.grading.autograder.worker RESULT_FD  < job.json

Order matters, and is the whole security argument:

1. trusted: read the job from stdin (cells to run, grade_ids, the hidden cases already
   encoded by the grader, the sandbox settings); import the specs; confine the process
   (``confine.confine``); write a ``ready`` line with what the sandbox achieved;
2. untrusted: ``exec`` the cells (the teacher's setup cells and the learner's answer
   cells) in one namespace;
3. ``spec.run(namespace, case)`` for every hidden case, each answer written as one JSON
   line of plain data (``spec.encode``) to the result pipe, then ``done``.

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

import importlib
import json
import linecache
import os
import signal
import sys
from typing import Any

from ..spec import AnswerError, LearnerError, decode_case, describe_exception, encode
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


def _error(err: BaseException) -> dict[str, Any]:
    if isinstance(err, AnswerError):
        return LearnerError("AnswerError", str(err)).to_plain()
    return describe_exception(err).to_plain()


class _CaseTimeout(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _CaseTimeout("took too long on this case")


def run_job(job: dict[str, Any], pipe: _Pipe) -> None:
    registry = importlib.import_module(job["specs_module"])
    specs = {s.grade_id: s for s in registry.specs_for(job["assignment"])}
    graded = [(specs[g], [decode_case(c) for c in cases]) for g, cases in job["cases"]]
    pipe.send({"event": "ready", "sandbox": confine(job["sandbox"])})
    sys.stdin = open(os.devnull)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    for index, cell in enumerate(job["cells"]):
        pipe.send({"event": "cell", "index": index})
        name = f"<cell {cell.get('grade_id') or index}>"
        source = _strip_magics(cell["source"])
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        try:
            exec(compile(source, name, "exec"), namespace)
        except BaseException as err:  # SystemExit and KeyboardInterrupt included
            pipe.send({"event": "cell_error", "index": index, "error": _error(err)})
    for spec, cases in graded:
        for k, case in enumerate(cases):
            pipe.send({"event": "case", "grade_id": spec.grade_id, "case": k})
            record: dict[str, Any] = {"event": "result", "grade_id": spec.grade_id, "case": k}
            try:
                signal.signal(signal.SIGALRM, _on_alarm)
                signal.setitimer(signal.ITIMER_REAL, float(spec.time_limit))
                try:
                    record["got"] = encode(spec.run(namespace, case))
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except _CaseTimeout:
                record["error"] = {"type": "TimeoutError",
                                   "message": f"took longer than {spec.time_limit:g} s"}
            except BaseException as err:
                record["error"] = _error(err)
            pipe.send(record)
    pipe.send({"event": "done"})


def main() -> None:
    pipe = _Pipe(int(sys.argv[1]))
    job = json.loads(sys.stdin.buffer.read())
    try:
        run_job(job, pipe)
    except BaseException as err:  # anything above that escaped, learner-made or not
        try:
            pipe.send({"event": "worker_error", "error": _error(err)})
        except BaseException:
            pass
    try:
        sys.stdout.flush()
    except BaseException:
        pass
    os._exit(0)  # no atexit handlers, no finalizers the learner may have registered


if __name__ == "__main__":
    main()
