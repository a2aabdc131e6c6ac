"""What the learner's code tried beyond its sandbox, seen from inside the worker.

``install_audit`` is called by the worker's trusted code, after ``confine`` and before
any learner code runs. It adds a ``sys.addaudithook`` hook (PEP 578: the interpreter
calls it for every audited operation, and a hook cannot be removed) that reports, as
``audit`` lines on the result pipe:

* ``network``: a connection, a datagram sent, a host name looked up
  (``socket.connect``, ``socket.sendto``, ``socket.getaddrinfo``...);
* ``signal``: a signal sent to a process outside the worker (``os.kill``,
  ``os.killpg``): the grader, the sandbox's own init, every process (``-1``);
* ``write``: a file opened for writing, or removed, renamed, created, outside the
  worker's scratch folder.

The sandbox stops all of these anyway (network namespace, other uid, read-only mounts);
the hook only lets the grader *say* that they were tried, as a ``flag:`` for the
teacher, which never changes points. What a daemon left behind is seen from outside, by
the sandbox (``sandbox.py``), not here.

The hook runs inside learner code's process, so learner code can defeat the report (by
patching the pipe, say): it informs, it does not protect. It never raises (an exception
in an audit hook would abort the learner's operation and change the grading), reports
each distinct attempt once, at most ``MAX_REPORTS`` in all, and ignores the events its
own work raises.
"""
from __future__ import annotations

import os
import sys
from typing import Any

MAX_REPORTS = 20
NETWORK = {"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
           "socket.gethostbyname", "socket.gethostbyaddr"}
SIGNALS = {"os.kill", "os.killpg"}
WRITES = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.link",
          "os.truncate", "os.chmod", "os.chown", "os.utime", "shutil.rmtree"}
WATCHED = NETWORK | SIGNALS | WRITES | {"open"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
ALLOWED = ("/dev/null", "/dev/stdout", "/dev/stderr")


def install_audit(pipe: Any, scratch: str, own_pid_namespace: bool) -> bool:
    """Install the hook; ``pipe`` has ``send(dict)``. Returns True once installed."""
    scratch = os.path.realpath(scratch)
    seen: set[tuple[str, str]] = set()
    busy = [False]
    realpath, getcwd, getpid, fspath = os.path.realpath, os.getcwd, os.getpid, os.fspath
    send = pipe.send

    def outside(path: Any) -> str:
        """The path, if it lies outside the scratch folder; "" otherwise."""
        if isinstance(path, int):
            return ""  # an open file descriptor: what it names was opened earlier
        try:
            text = fspath(path)
            text = text.decode(errors="replace") if isinstance(text, bytes) else text
            full = realpath(text if text.startswith("/") else os.path.join(getcwd(), text))
        except Exception:
            return ""
        if full == scratch or full.startswith(scratch + "/") or full in ALLOWED:
            return ""
        return full

    def mine(pid: int, group: bool) -> bool:
        """Whether ``pid`` (a process group with ``group``) belongs to the worker: in a
        pid namespace of its own, the worker is pid 2 and its children come after."""
        if pid == getpid() and not group:
            return True
        if pid <= 0:
            return False  # its own process group (init included) or every process
        if own_pid_namespace:
            return pid >= (3 if group else 2)
        return _descends_from(pid, getpid())

    def judge(event: str, args: tuple) -> tuple[str, str] | None:
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                (mode is None and isinstance(flags, int) and flags & WRITE_FLAGS)
            where = outside(path) if writing else ""
            return ("write", f"tried to write {where[:160]}") if where else None
        if event in WRITES:
            where = outside(args[0]) if args else ""
            verb = event.split(".")[-1]
            return ("write", f"tried {verb} on {where[:160]}") if where else None
        if event in SIGNALS:
            target, sig = args[0], args[1]
            if not isinstance(target, int) or sig == 0 or mine(target, event == "os.killpg"):
                return None
            who = {-1: "every process it could reach", 0: "its whole process group",
                   1: "the sandbox's init process"}.get(target, f"process {target}")
            what = "process group" if event == "os.killpg" else "signal"
            return ("signal", f"sent {what} {sig} to {who}, outside its worker")
        if event in NETWORK:
            target = args[1] if len(args) > 1 else None
            if event == "socket.getaddrinfo":
                target = args[0]
            if target is None:
                return None
            return ("network", f"tried to reach the network ({event.split('.')[-1]} "
                               f"{str(target)[:100]})")
        return None

    def hook(event: str, args: tuple) -> None:
        if event not in WATCHED or busy[0] or len(seen) >= MAX_REPORTS:
            return
        busy[0] = True
        try:
            found = judge(event, args)
            if found is not None and found not in seen:
                seen.add(found)
                send({"event": "audit", "kind": found[0], "detail": found[1]})
        except BaseException:
            pass
        finally:
            busy[0] = False

    sys.addaudithook(hook)
    return True


def _descends_from(pid: int, ancestor: int) -> bool:
    for _ in range(64):
        if pid == ancestor:
            return True
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                text = f.read().decode(errors="replace")
            pid = int(text[text.rfind(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid <= 1:
            return False
    return False
