"""What runs on this machine, read from ``/proc``, and the worker uids a run may use.

Small helpers for ``sandbox.py``: the process table (parent, state, uid of each
process), killing quietly, and claiming worker uids. As root, each worker slot runs as
its own uid from 64000 up; a uid is claimed for the whole grading run by binding an
abstract unix socket named after it (no file is written, and the claim ends with the
process), so two grading runs on one machine never use, or sweep, the same uid.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess

FIRST_UID, LAST_UID = 64000, 64999


def read_stat(pid: str) -> tuple[int, str] | None:
    """(ppid, state) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode(errors="replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    return int(fields[1]), fields[0]


def uid_of(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def innermost_pid(pid: int) -> int | None:
    """The pid of a process inside its innermost pid namespace (``NSpid``'s last)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def command_of(pid: int) -> str:
    """A short description of a process: its pid and program name."""
    try:
        with open(f"/proc/{pid}/comm", "rb") as f:
            name = f.read(64).decode(errors="replace").strip()
    except OSError:
        name = ""
    return f"pid {pid} ({name or 'gone'})"


def processes() -> dict[int, tuple[int, str]]:
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = read_stat(name)
            if info is not None:
                out[int(name)] = info
    return out


def can_switch_uid() -> bool:
    """Whether this process may start a child as another uid (root, not in a user
    namespace that maps only itself)."""
    if os.geteuid() != 0:
        return False
    try:
        subprocess.run(["true"], user=FIRST_UID, group=FIRST_UID, extra_groups=[],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def claim_uids(count: int, claims: list[socket.socket]) -> list[int]:
    """``count`` worker uids that no other grading run on this machine is using and no
    process runs as. Each is claimed by binding an abstract unix socket (no file; the
    claim ends with the process), so two graders never sweep each other's workers."""
    busy = {uid_of(p) for p in os.listdir("/proc") if p.isdigit()}
    uids = []
    for uid in range(FIRST_UID, LAST_UID + 1):
        if len(uids) == count:
            break
        if uid in busy:
            continue
        claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            claim.bind(f"\0dlcore-grade-uid-{uid}")
        except OSError:
            claim.close()
            continue
        claims.append(claim)
        uids.append(uid)
    if len(uids) < count:
        raise RuntimeError(f"no {count} free worker uids in {FIRST_UID}-{LAST_UID}")
    return uids


def same_group(pid: int, worker_pid: int) -> bool:
    try:
        return os.getpgid(pid) == worker_pid or os.getsid(pid) == worker_pid
    except OSError:
        return False


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def count_user_processes() -> int:
    uid = os.getuid()
    return sum(1 for p in os.listdir("/proc") if p.isdigit() and uid_of(p) == uid)
