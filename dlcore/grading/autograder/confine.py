"""The worker confining itself, before any learner code runs (Linux only).

Called first thing in the worker process, still running the grader's trusted code:

1. resource limits: CPU time, address space, open files, file size, no core dumps;
2. new namespaces where the OS allows: a network namespace (only a down loopback, so
   every connection fails), a pid namespace, and a mount namespace, in which
   - folders on the way to the Python installation that an unprivileged user may not
     cross (``/root`` for a pyenv Python) are replaced by a tmpfs holding only that
     installation, so the interpreter still imports the standard library;
   - the teacher's solutions, the submissions and the grader's output folder are
     covered by empty read-only tmpfs mounts: learner code can read none of them;
   - every mount is made read-only, then the shared temporary folders (``/tmp``,
     ``/dev/shm``...) and the scratch folder get small private tmpfs mounts, so
     whatever the learner writes lands in memory that vanishes with the worker;
3. when the grader is root: drop to the worker slot's unprivileged uid/gid (no
   supplementary groups), so ``RLIMIT_NPROC`` holds, signals to any other process fail
   with ``EPERM``, and root-owned files stay out of reach; then the process limit;
4. ``no_new_privs``, and death with the grader (``PR_SET_PDEATHSIG``);
5. in a pid namespace of its own where the OS allows (see ``_enter_pid_namespace``).

Not root, it tries a user namespace for step 2 (same uid). It returns a report of what
it managed, which the worker sends before any learner code runs.
"""
from __future__ import annotations

import ctypes
import os
import re
import resource
import signal
import sys
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME = 1 << 18, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
TEMP_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")

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


def _unshare() -> tuple[bool, bool, str]:
    """New network, mount and (where possible) pid namespaces, inside a new user
    namespace when this process may not make them otherwise.
    Returns (isolated, own pid namespace, reason if not isolated)."""
    basic = CLONE_NEWNET | CLONE_NEWNS
    for flags in (basic | CLONE_NEWPID, basic):
        if _libc.unshare(flags) == 0:
            return True, bool(flags & CLONE_NEWPID), ""
    uid, gid = os.getuid(), os.getgid()
    for flags in (CLONE_NEWUSER | basic | CLONE_NEWPID, CLONE_NEWUSER | basic):
        if _libc.unshare(flags) == 0:
            break
    else:
        return False, False, f"no namespaces for this user ({os.strerror(ctypes.get_errno())})"
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    except OSError as err:
        return False, False, f"a user namespace without an id map ({err})"
    return True, bool(flags & CLONE_NEWPID), ""


def _die_with_parent(parent: int) -> None:
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
    if os.getppid() not in (parent, 0):  # 0: the parent is outside our pid namespace
        os._exit(70)  # the parent is gone already


def _relay(child: int) -> None:
    """Wait for ``child`` and end the way it ended (a signal as 128 + its number)."""
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(70)
    code = 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    if code > 128 and os.getpid() != 1:  # outside the namespace: die by that signal
        sig = code - 128
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(code)


def _enter_pid_namespace() -> None:
    """After ``unshare(CLONE_NEWPID)``: fork the namespace's init, which forks the
    worker; each waits for its child and ends as it ended. When init ends (the worker
    is done, or the grader killed it), the kernel kills every process left in the
    namespace, daemons included; and learner code cannot see or signal any process
    outside it, the grader included."""
    for _ in range(2):
        parent = os.getpid()
        child = os.fork()
        if child:
            _relay(child)
        _die_with_parent(parent)


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
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable)}
    paths.update(p for p in sys.path if p and os.path.exists(p))
    return sorted(paths)


_KEEP_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC,
               "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME}


def _mount_points() -> list[tuple[str, int]]:
    """(mount point, flags to keep) for every mount this process sees."""
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            target = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
            flags = sum(_KEEP_FLAGS.get(opt, 0) for opt in fields[5].split(","))
            points.append((target, flags))
    return points


def _read_only_everywhere() -> int:
    """Remount every mount read-only in this namespace; the number that refused."""
    refused = 0
    for target, flags in _mount_points():
        if _libc.mount(None, target.encode(), None,
                       MS_BIND | MS_REMOUNT | MS_RDONLY | flags, None) != 0:
            refused += 1
    return refused


def _shared_temp(needed: list[str]) -> list[str]:
    """Temporary folders that hold something the worker needs (a checkout and its
    virtual environment under /tmp, say): they cannot be swapped for an empty tmpfs."""
    return [f for f in TEMP_FOLDERS if any(_inside(p, f) for p in needed)]


def _private_temp(scratch: str, uid: int, gid: int, size: int, shared: list[str]) -> None:
    """Fresh, small, private tmpfs for the shared temporary folders (except those in
    ``shared``, which stay visible read-only) and the scratch."""
    for folder in TEMP_FOLDERS:
        if folder in shared:
            continue
        if os.path.isdir(folder) and os.stat(folder).st_mode & 0o002:
            _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV,
                   f"mode=1777,size={size},nr_inodes=4096")
    if not os.path.isdir(scratch):  # it was under one of them: make it afresh
        os.makedirs(scratch, 0o700)
        os.chown(scratch, uid, gid)
    else:
        _mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV,
               f"mode=0700,uid={uid},gid={gid},size={size},nr_inodes=4096")


def confine(cfg: dict[str, Any]) -> dict[str, Any]:
    """Confine this process as ``cfg`` says; return what was achieved (see module doc)."""
    report: dict[str, Any] = {"limits": True}
    set_limits(cfg)
    drop = bool(cfg["drop_uid"])
    uid = int(cfg["uid"]) if drop else os.getuid()
    gid = uid if drop else os.getgid()
    scratch = cfg["scratch"]
    needed = _needed_paths(scratch)
    shared = _shared_temp(needed)
    # Where a temporary folder stays (see _shared_temp), the scratch inside it must be
    # reachable through the grader's private folders, like the interpreter's paths.
    reach = needed + [scratch] if any(_inside(scratch, f) for f in shared) else needed
    isolated, own_pids, why = _unshare()
    report["network"] = "isolated" if isolated else f"shared ({why})"
    report["pid_namespace"] = own_pids
    report["visible"] = list(cfg["hide"])
    report["read_only"] = False
    if isolated:
        try:
            _mount("none", "/", None, MS_REC | MS_PRIVATE)
            if drop:
                _expose(reach, cfg["hold"])
            report["visible"] = _hide(list(cfg["hide"]), needed + [scratch])
            report["read_only"] = _read_only_everywhere() == 0
            _private_temp(scratch, uid, gid, cfg["scratch_bytes"], shared)
            if shared:
                report["shared_temp"] = shared
        except OSError as err:
            report["mounts"] = f"failed ({err})"
    if drop:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    report["uid"] = os.getuid()
    nproc = int(cfg["nproc"]) + (0 if drop else int(cfg.get("user_procs", 0)))
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _die_with_parent(int(cfg["grader_pid"]))
    if own_pids:
        _enter_pid_namespace()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a flood then fails with EFBIG
    os.chdir(scratch)
    return report
