"""Find the submissions in a folder and name their learners.

Three layouts, mixed freely in one folder:

* nbgrader's ``STUDENT/ASSIGNMENT/*.ipynb`` (``submitted/`` or ``autograded/`` folders);
* ``STUDENT.ipynb`` files;
* ``STUDENT/*.ipynb`` folders.

Every learner gets a ``Submission``, even one whose folder holds no notebook or several
that cannot be told apart: that one carries a ``problem`` and later gets its row with
zero and the reason. Hidden entries (``.ipynb_checkpoints``, dot files) are skipped.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Submission:
    """One learner's notebook (``path``), or why there is none (``problem``)."""

    student: str
    path: str | None
    problem: str = ""


def _notebooks(folder: str) -> list[str]:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names
            if n.endswith(".ipynb") and not n.startswith(".")
            and not os.path.isdir(os.path.join(folder, n))]


def _pick(student: str, folder: str, assignment: str) -> Submission:
    found = _notebooks(folder)
    named = [p for p in found if os.path.basename(p) == f"{assignment}.ipynb"]
    if named:
        return Submission(student, named[0])
    if len(found) == 1:
        return Submission(student, found[0])
    if not found:
        return Submission(student, None, "no notebook found in the learner's folder")
    names = ", ".join(os.path.basename(p) for p in found)
    return Submission(student, None, f"several notebooks ({names}) and none is called "
                                     f"{assignment}.ipynb")


def find_submissions(root: str, assignment: str,
                     exclude: tuple[str, ...] = ()) -> list[Submission]:
    """All submissions under ``root``, sorted by learner name; the folders in
    ``exclude`` (the grader's output folder, say) are not learners."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f"no folder of submissions at {root!r}")
    skip = {os.path.realpath(p) for p in exclude}
    subs: list[Submission] = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if name.startswith(".") or os.path.realpath(path) in skip:
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            inner = os.path.join(path, assignment)
            folder = inner if os.path.isdir(inner) and not os.path.islink(inner) else path
            subs.append(_pick(name, folder, assignment))
        elif name.endswith(".ipynb"):
            subs.append(Submission(name[: -len(".ipynb")], path))
    return _unique_names(subs)


def _unique_names(subs: list[Submission]) -> list[Submission]:
    """``alice.ipynb`` beside ``alice/``: both rows stay, the second named ``alice (2)``."""
    seen: dict[str, int] = {}
    out = []
    for sub in subs:
        count = seen.get(sub.student, 0) + 1
        seen[sub.student] = count
        if count > 1:
            sub = Submission(f"{sub.student} ({count})", sub.path, sub.problem)
        out.append(sub)
    return out
