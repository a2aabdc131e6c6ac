"""Build the fake assignment's teacher notebook and the library of hostile submissions.

    python tests/hostile/build.py OUT_DIR   # writes OUT_DIR/solutions/ and OUT_DIR/submitted/

Each hostile submission is its own notebook (or file), named after what it tries; the
expected outcome of each is in ``EXPECTED`` (points earned, status). The tests call
``build(...)`` directly; the command line is there to look at the files.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any

ASSIGNMENT = "99_fake"
MAX_TOTAL = 3.0

ADD_ONE = "def add_one(x):\n    return x + 1\n"
SCALED_SUM = "import numpy as np\n\ndef scaled_sum(x, k):\n    return k * np.sum(x)\n"
WRONG_ADD_ONE = "def add_one(x):\n    return x * 0\n"
WRONG_SCALED_SUM = "def scaled_sum(x, k):\n    return 0.0\n"


def code(source: str, grade_id: str | None = None, solution: bool = False,
         grade: bool = False, points: float | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if grade_id is not None:
        meta["nbgrader"] = {"grade_id": grade_id, "solution": solution, "grade": grade,
                            "locked": not solution, "schema_version": 3}
        if points is not None:
            meta["nbgrader"]["points"] = points
    return {"cell_type": "code", "execution_count": None, "metadata": meta,
            "outputs": [], "source": source}


def markdown(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def notebook(cells: list[dict[str, Any]]) -> dict[str, Any]:
    return {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}}}


def teacher() -> dict[str, Any]:
    """The teacher's copy: setup, two answer cells with solutions, two test cells."""
    return notebook([
        markdown("# 99 fake: two tiny functions"),
        code("import numpy as np\n%matplotlib inline\n"),
        code("### BEGIN SOLUTION\n" + ADD_ONE + "### END SOLUTION\n", "add_one_answer",
             solution=True),
        code("assert add_one(np.zeros(2)).tolist() == [1.0, 1.0]\n", "add_one",
             grade=True, points=1),
        code("### BEGIN SOLUTION\n" + SCALED_SUM + "### END SOLUTION\n",
             "scaled_sum_answer", solution=True),
        code("assert scaled_sum(np.ones(2), 3.0) == 6.0\n", "scaled_sum", grade=True,
             points=2),
    ])


def learner(add_one: str = ADD_ONE, scaled_sum: str = SCALED_SUM) -> dict[str, Any]:
    """A learner's copy with the given answer cells (the test cells as handed out)."""
    nb = teacher()
    nb["cells"][2]["source"] = add_one
    nb["cells"][4]["source"] = scaled_sum
    return nb


def _with(nb: dict[str, Any], change) -> dict[str, Any]:
    change(nb["cells"])
    return nb


FAKE_RESULTS = r'''
import json, os
lines = [{"event": "result", "grade_id": g, "case": k,
          "got": {"__array__": "float64", "shape": [3], "data": [1.0, 1.0, 1.0]}}
         for g in ("add_one", "scaled_sum") for k in range(3)] + [{"event": "done"}]
data = "".join(json.dumps(line) + "\n" for line in lines).encode()
for fd in range(0, 256):
    try:
        os.write(fd, data)
    except OSError:
        pass
os._exit(0)
'''

FORK_AND_DAEMON = '''
import os, time
for _ in range(10):
    try:
        if os.fork() == 0:
            time.sleep(10**6)
            os._exit(0)
    except OSError:
        break
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(10**6)
    os._exit(0)
''' + ADD_ONE

FORK_BOMB = '''
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
'''

IGNORE_SIGNALS = '''
import signal
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGXCPU, signal.SIGALRM):
    signal.signal(s, signal.SIG_IGN)
while True:
    pass
'''

MEMORY = '''
import numpy as np

def hog():  # reserves address space without touching it, so it hits the limit at once
    blocks = []
    while True:
        blocks.append(np.empty(50 * 2**20, dtype=np.uint8))
try:
    hog()
except MemoryError:
    pass
''' + ADD_ONE

LIAR = '''
class Liar:
    def __eq__(self, other):
        return True
    __ne__ = lambda self, other: False
    def __float__(self):
        return 0.0

def add_one(x):
    return Liar()
'''

SUBCLASS = '''
import numpy as np

class Always(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)

def add_one(x):
    return np.zeros_like(x).view(Always)
'''

PATCH_NUMPY = '''
import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
import math
math.isclose = lambda *a, **k: True
''' + WRONG_ADD_ONE


BORROW = '''
import sys
from dlcore.grading.spec import Case
spec_{name} = next(s for s in sys.modules["tests.hostile.fake_spec"].SPECS
                   if s.name == "{name}")

def {name}({args}):
    return spec_{name}.reference(Case("", dict(zip("{args}".split(", "), [{args}]))))
'''


def _writes(paths: list[str]) -> str:
    return (f"for path in {paths!r}:\n"
            "    for mode in ('a', 'w'):\n"
            "        try:\n"
            "            with open(path, mode) as f:\n"
            "                f.write('pwned')\n"
            "        except OSError:\n"
            "            pass\n"
            "import tempfile\n"  # its own scratch folder and temporary files still work
            "with open('notes.txt', 'w') as f, tempfile.TemporaryFile() as g:\n"
            "    f.write('ok')\n"
            "    g.write(b'ok')\n") + ADD_ONE


def _connect(port: int) -> str:
    return (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), "
            "timeout=2).sendall(b'leak')\nexcept OSError:\n    pass\n") + ADD_ONE


def _read_solutions(teacher_path: str) -> str:
    return (f"import json\nnb = json.load(open({teacher_path!r}))\n"
            "for cell in nb['cells']:\n"
            "    if 'def ' in ''.join(cell['source']):\n"
            "        exec(''.join(cell['source']), globals())\n")


# name -> (points expected, status expected); names also test csv/html/file-name quoting.
# A cell that loops, sleeps or kills its worker costs only its own part: the other part
# (scaled_sum, right in all of these) keeps its 2 points.
EXPECTED: dict[str, tuple[float, str]] = {
    "honest": (3, "graded"),
    "O'Brien, Séan": (3, "graded"),
    "Zoë Ångström": (3, "graded"),
    "li wei": (3, "graded"),
    "<img src=x onerror=alert(1)>": (3, "graded"),
    "untouched": (0, "graded"),
    "half right": (2, "graded"),
    "infinite loop": (2, "timeout"),
    "ignores signals": (2, "timeout"),
    "sleeps forever": (2, "timeout"),
    "sys exit": (2, "graded"),
    "os exit": (2, "crashed"),
    "segfault": (2, "crashed"),
    "kills parent": (3, "graded"),
    "forks and daemon": (3, "graded"),
    "fork bomb": (2, "timeout"),
    "memory flood": (3, "graded"),
    "output flood": (2, "graded"),
    "eq always true": (0, "graded"),
    "ndarray subclass": (0, "graded"),
    "patches numpy": (0, "graded"),
    "fake results": (0, "graded"),
    "writes everywhere": (3, "graded"),
    "connects to loopback": (3, "graded"),
    "reads solutions": (0, "graded"),
    "copies a classmate": (0, "graded"),
    "borrows the reference": (3, "graded"),  # a known hole: flagged for the teacher
    "deletes answer cell": (2, "graded"),
    "answer cell to markdown": (2, "graded"),
    "duplicates answer cell": (2, "graded"),
    "edits test cell": (0, "graded"),
    "changes points": (3, "graded"),
    "not json": (0, "unreadable"),
    "empty": (0, "unreadable"),
    "binary junk": (0, "unreadable"),
    "nbformat 3": (0, "unreadable"),
    "60 MB": (0, "unreadable"),
    "nested deep": (0, "unreadable"),
}


def hostile(targets: dict[str, Any]) -> dict[str, bytes | dict[str, Any]]:
    """Every submission by learner name: a notebook dict, or raw bytes for the junk.

    ``targets``: ``write_paths`` (files learner code tries to write), ``port`` (a
    loopback port the test listens on), ``teacher_path`` (the teacher's copy),
    ``classmate_path`` (another learner's notebook)."""
    dup = code(WRONG_ADD_ONE, "add_one_answer", solution=True)

    def edit_test(cells):
        cells[3]["source"] = "pass\n"
        cells[3]["metadata"]["nbgrader"]["points"] = 100

    def change_points(cells):
        cells[5]["metadata"]["nbgrader"]["points"] = 1000

    def to_markdown(cells):
        cells[2] = {**markdown(cells[2]["source"]), "metadata": cells[2]["metadata"]}

    nested = b"[" * 100_000 + b"]" * 100_000
    big = notebook([{**code(ADD_ONE), "outputs": [
        {"output_type": "stream", "name": "stdout", "text": "x" * (60 * 2**20)}]}])
    subs: dict[str, bytes | dict[str, Any]] = {
        "honest": learner(),
        "O'Brien, Séan": learner(),
        "Zoë Ångström": learner(),
        "li wei": learner(),
        "<img src=x onerror=alert(1)>": learner(),
        "untouched": learner("def add_one(x):\n    raise NotImplementedError()\n",
                             "def scaled_sum(x, k):\n    raise NotImplementedError()\n"),
        "half right": learner(add_one=WRONG_ADD_ONE),
        "infinite loop": learner("while True:\n    pass\n"),
        "ignores signals": learner(IGNORE_SIGNALS),
        "sleeps forever": learner("import time\ntime.sleep(10**6)\n"),
        "sys exit": learner("import sys\nsys.exit(3)\n" + ADD_ONE),
        "os exit": learner("import os\nos._exit(0)\n"),
        "segfault": learner("import ctypes\nctypes.string_at(0)\n"),
        "kills parent": learner("import os, signal\nfor pid in (os.getppid(), 1, -1):\n"
                                "    try:\n        os.kill(pid, signal.SIGKILL)\n"
                                "    except OSError:\n        pass\n" + ADD_ONE),
        "forks and daemon": learner(FORK_AND_DAEMON),
        "fork bomb": learner(FORK_BOMB),
        "memory flood": learner(MEMORY),
        "output flood": learner("while True:\n    print('x' * 10000)\n"),
        "eq always true": learner(LIAR, "def scaled_sum(x, k):\n    return object()\n"),
        "ndarray subclass": learner(SUBCLASS, WRONG_SCALED_SUM),
        "patches numpy": learner(PATCH_NUMPY, WRONG_SCALED_SUM),
        "fake results": learner(FAKE_RESULTS),
        "writes everywhere": learner(_writes(targets["write_paths"])),
        "connects to loopback": learner(_connect(targets["port"])),
        "reads solutions": learner(_read_solutions(targets["teacher_path"]), ""),
        "copies a classmate": learner(_read_solutions(targets["classmate_path"]), ""),
        "borrows the reference": learner(BORROW.format(name="add_one", args="x"),
                                         BORROW.format(name="scaled_sum", args="x, k")),
        "deletes answer cell": _with(learner(), lambda cells: cells.pop(2)),
        "answer cell to markdown": _with(learner(), to_markdown),
        "duplicates answer cell": _with(learner(), lambda cells: cells.insert(3, dup)),
        "edits test cell": _with(learner(add_one=WRONG_ADD_ONE,
                                         scaled_sum=WRONG_SCALED_SUM), edit_test),
        "changes points": _with(learner(), change_points),
        "not json": b"this is not a notebook\n",
        "empty": b"",
        "binary junk": bytes(range(256)) * 64,
        "nbformat 3": json.dumps({"nbformat": 3, "nbformat_minor": 0,
                                  "worksheets": [{"cells": []}]}).encode(),
        "60 MB": json.dumps(big).encode(),
        "nested deep": b'{"nbformat": 4, "cells": ' + nested + b"}",
    }
    assert set(subs) == set(EXPECTED)
    return subs


def write(path: str, content: bytes | dict[str, Any]) -> None:
    data = content if isinstance(content, bytes) else json.dumps(content, indent=1).encode()
    with open(path, "wb") as f:
        f.write(data)


def open_to_workers(base: str) -> str:
    """Make what ``build`` wrote under ``base`` readable by the workers' unprivileged
    users, and return a folder for the grader's temporary files (``TMPDIR``)."""
    for root, dirs, files in os.walk(base):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    tmpdir = os.path.join(base, "tmp")
    os.mkdir(tmpdir, 0o755)
    return tmpdir


def build(out_dir: str, targets: dict[str, Any]) -> tuple[str, str]:
    """Write ``out_dir/solutions/99_fake.ipynb`` and the submissions, in the three
    layouts in turn ("honest" always in nbgrader's); return (solutions folder,
    submissions folder)."""
    solutions = os.path.join(out_dir, "solutions")
    submitted = os.path.join(out_dir, "submitted")
    os.makedirs(solutions, exist_ok=True)
    os.makedirs(submitted, exist_ok=True)
    write(os.path.join(solutions, f"{ASSIGNMENT}.ipynb"), teacher())
    for i, (name, content) in enumerate(sorted(hostile(targets).items())):
        if i % 3 == 0 or name == "honest":  # nbgrader: STUDENT/ASSIGNMENT/ASSIGNMENT.ipynb
            folder = os.path.join(submitted, name, ASSIGNMENT)
            os.makedirs(folder)
            write(os.path.join(folder, f"{ASSIGNMENT}.ipynb"), content)
        elif i % 3 == 1:  # STUDENT.ipynb
            write(os.path.join(submitted, f"{name}.ipynb"), content)
        else:  # STUDENT/anything.ipynb
            os.makedirs(os.path.join(submitted, name))
            write(os.path.join(submitted, name, "my work.ipynb"), content)
    return solutions, submitted


if __name__ == "__main__":
    build(sys.argv[1], {"write_paths": [], "port": 9, "teacher_path": "/nonexistent",
                        "classmate_path": "/nonexistent"})
