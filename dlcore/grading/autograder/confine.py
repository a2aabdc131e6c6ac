"""The worker confining itself, before any learner code runs (Linux only).

Called first thing in the worker process, still running the grader's trusted code:

1. resource limits: CPU time, address space, open files, file size, no core dumps;
2. new namespaces where the OS allows: a network namespace (only a down loopback, so
   every connection fails) and a mount namespace, in which
   - the worker's scratch folder becomes a small private tmpfs (gone with the process),
   - the teacher's solutions, the submissions and the grader's output folder are
     covered by empty read-only tmpfs mounts, so learner code can neither read other
     notebooks nor the solutions, nor write into them,
   - folders on the way to the Python installation that an unprivileged user may not
     cross (``/root`` for a pyenv Python) are replaced by a tmpfs holding only that
     installation, so the interpreter still imports the standard library;
3. when started as root: drop to an unprivileged uid/gid (no supplementary groups), so
   ``RLIMIT_NPROC`` holds, signals to other users' processes fail with ``EPERM``, and
   root-owned files stay out of reach; then the process limit;
4. ``no_new_privs``, and death with the grader (``PR_SET_PDEATHSIG``).

Not root, it tries a user namespace instead (network and mounts, same uid). It returns
a report of what it managed, which the worker sends before learner code runs.
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV = 1, 2, 4
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    _check(_libc.mount(source.encode(), target.encode(),
                       fstype.encode() if fstype else None, flags,
                       data.encode() if data else None), f"mount {target}")


def set_limits(cfg: dict[str, Any]) -> None:
    cpu = int(cfg["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
    resource.setrlimit(resource.RLIMIT_AS, (cfg["memory_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (cfg["nofile"],) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (cfg["fsize_bytes"],) * 2)


def _unshare(root: bool) -> tuple[bool, str]:
    """New network + mount namespaces; (ok, reason if not)."""
    if root:
        if _libc.unshare(CLONE_NEWNET | CLONE_NEWNS) == 0:
            return True, ""
        return False, os.strerror(ctypes.get_errno())
    uid, gid = os.getuid(), os.getgid()
    if _libc.unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) != 0:
        return False, f"no user namespaces for this user ({os.strerror(ctypes.get_errno())})"
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    except OSError as err:
        return False, f"user namespace without an id map ({err})"
    return True, ""


def _blocked_ancestors(paths: list[str]) -> dict[str, set[str]]:
    """{folder others may not cross: {its children on the way to ``paths``}}."""
    blocked: dict[str, set[str]] = {}
    for path in paths:
        parts = os.path.abspath(path).strip(os.sep).split(os.sep)
        for depth in range(len(parts) - 1):
            folder = os.sep + os.sep.join(parts[:depth])
            try:
                mode = os.stat(folder).st_mode
            except OSError:
                break
            if not mode & 0o001:
                blocked.setdefault(folder, set()).add(parts[depth])
                break
    return blocked


def _expose(paths: list[str], hold: str) -> None:
    """Let an unprivileged uid reach ``paths`` through folders it may not cross."""
    for n, (folder, children) in enumerate(sorted(_blocked_ancestors(paths).items())):
        kept = []
        for i, child in enumerate(sorted(children)):
            place = os.path.join(hold, f"{n}-{i}")
            source = os.path.join(folder, child)
            if os.path.isdir(source):
                os.mkdir(place)
            else:
                open(place, "w").close()
            _mount(source, place, None, MS_BIND | MS_REC)
            kept.append((child, place, os.path.isdir(source)))
        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
        for child, place, is_dir in kept:
            target = os.path.join(folder, child)
            if is_dir:
                os.mkdir(target)
            else:
                open(target, "w").close()
            _mount(place, target, None, MS_BIND | MS_REC)
            _check(_libc.umount2(place.encode(), MNT_DETACH), f"umount {place}")


def _inside(path: str, folder: str) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _hide(folders: list[str], keep: list[str]) -> list[str]:
    """Cover ``folders`` with empty read-only tmpfs mounts; the ones left visible."""
    visible = []
    for folder in folders:
        if not os.path.isdir(folder):
            continue
        if any(_inside(k, folder) for k in keep):
            visible.append(folder)
            continue
        _mount("tmpfs", folder, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
               "mode=0555,size=4k,nr_inodes=8")
    return visible


def _needed_paths(scratch: str) -> list[str]:
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable),
             scratch}
    paths.update(p for p in sys.path if p and os.path.exists(p))
    return sorted(paths)


def confine(cfg: dict[str, Any]) -> dict[str, Any]:
    """Confine this process as ``cfg`` says; return what was achieved (see module doc)."""
    report: dict[str, Any] = {"limits": True}
    set_limits(cfg)
    root = os.geteuid() == 0
    uid = int(cfg["uid"]) if root else os.getuid()
    scratch, hold = cfg["scratch"], cfg["hold"]
    needed = _needed_paths(scratch)
    isolated, why = _unshare(root)
    report["network"] = "isolated" if isolated else f"shared ({why})"
    report["hidden"] = []
    report["visible"] = list(cfg["hide"])
    if isolated:
        try:
            _mount("none", "/", None, MS_REC | MS_PRIVATE)
            if root:
                _expose(needed, hold)
            _mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV,
                   f"mode=0700,uid={uid},gid={uid if root else os.getgid()},"
                   f"size={cfg['scratch_bytes']},nr_inodes=4096")
            report["visible"] = _hide(list(cfg["hide"]), needed)
            report["hidden"] = [f for f in cfg["hide"] if f not in report["visible"]]
        except OSError as err:
            report["mounts"] = f"failed ({err})"
    if root:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    report["uid"] = os.getuid()
    report["python_readable"] = os.access(sys.base_prefix, os.R_OK | os.X_OK)
    nproc = int(cfg["nproc"]) if root else int(cfg["nproc"]) + int(cfg.get("user_procs", 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
    if os.getppid() != int(cfg["grader_pid"]):
        os._exit(70)  # the grader is gone already
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a flood then fails with EFBIG
    os.chdir(scratch)
    return report
