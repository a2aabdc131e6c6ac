"""Read notebooks defensively and take a learner's answer cells by ``grade_id``.

A submission may be anything: not JSON, empty, binary junk, an old nbformat, 60 MB,
nested 100,000 levels deep, a symbolic link. ``read_notebook`` turns every one of those
into a ``NotebookError`` whose message a teacher understands, and never into a crash.

What runs and what counts comes only from the teacher's copy (``solutions/NN_topic.ipynb``):
``plan_cells`` walks the teacher's code cells in order, keeps the teacher's own cells,
swaps in the learner's version of each answer cell (found by ``grade_id``), and leaves
the test cells out altogether (the specs do the testing). Deleted, duplicated or
retyped answer cells, and edited test cells or points, are noted in plain words.
"""
from __future__ import annotations

import ast
import json
import os
import stat
from dataclasses import dataclass, field
from typing import Any

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024


class NotebookError(Exception):
    """The file cannot be graded; the message says why, in plain words."""


@dataclass
class Cell:
    """One code cell to run: its source and where it comes from."""

    source: str
    origin: str  # "teacher", "learner" (an answer cell), "helper" (a cell the learner added)
    grade_id: str | None = None
    number: int = 0  # its place among the teacher's cells, from 1


@dataclass
class Plan:
    """What the worker runs for one submission, and what was noticed on the way.

    ``notes`` are about the whole notebook; ``part_notes`` about one part (by the
    grade_id of its test cell), both in words for the learner."""

    cells: list[Cell]
    notes: list[str] = field(default_factory=list)
    part_notes: dict[str, list[str]] = field(default_factory=dict)

    def note_part(self, answer_id: str, text: str) -> None:
        self.part_notes.setdefault(answer_id.removesuffix("_answer"), []).append(text)


def read_notebook(path: str, max_bytes: int = MAX_NOTEBOOK_BYTES) -> dict[str, Any]:
    """The notebook at ``path`` as a dict, checked to be nbformat 4 with sane cells."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        if os.path.islink(path):
            raise NotebookError("the file is a symbolic link; only plain files are read") from None
        raise NotebookError(f"cannot open the file ({err.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotebookError("not a plain file")
    with os.fdopen(fd, "rb") as f:
        if info.st_size > max_bytes:
            raise NotebookError(f"the file is {info.st_size / 2**20:.1f} MB, over the "
                                f"{max_bytes / 2**20:.0f} MB limit for a notebook")
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise NotebookError(f"the file is over the {max_bytes / 2**20:.0f} MB limit")
    if not raw.strip():
        raise NotebookError("the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotebookError("not a notebook: the file is not UTF-8 text "
                            "(binary data?)") from None
    try:
        nb = json.loads(text)
    except RecursionError:
        raise NotebookError("not a notebook: its JSON is nested too deeply") from None
    except ValueError as err:
        raise NotebookError(f"not a notebook: the file is not valid JSON ({err})") from None
    return _check_structure(nb)


def _check_structure(nb: Any) -> dict[str, Any]:
    if not isinstance(nb, dict):
        raise NotebookError("not a notebook: the JSON is not an object")
    version = nb.get("nbformat")
    if version != 4:
        shown = version if isinstance(version, int) and not isinstance(version, bool) else "?"
        raise NotebookError(f"notebook format {shown}, but only format 4 can be graded: "
                            "open it in a current Jupyter and save it again")
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise NotebookError("not a notebook: it has no list of cells")
    for i, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookError(f"cell {i} is malformed")
        source = cell.get("source", "")
        if not (isinstance(source, str)
                or isinstance(source, list) and all(isinstance(s, str) for s in source)):
            raise NotebookError(f"cell {i} has malformed source")
        if not isinstance(cell.get("metadata", {}), dict):
            raise NotebookError(f"cell {i} has malformed metadata")
    return nb


def source_of(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def nbgrader_meta(cell: dict[str, Any]) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def grade_id_of(cell: dict[str, Any]) -> str | None:
    grade_id = nbgrader_meta(cell).get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


def _is_answer(meta: dict[str, Any]) -> bool:
    return meta.get("solution") is True


def _is_test(meta: dict[str, Any]) -> bool:
    return meta.get("grade") is True and meta.get("solution") is not True


def plan_cells(teacher: dict[str, Any], learner: dict[str, Any],
               names: dict[str, str] | None = None) -> Plan:
    """The cells to run for ``learner``, in the teacher's order (see the module doc).

    ``names`` ({answer grade_id: function name}) lets an answer cell whose grading
    metadata is gone (code pasted into a fresh notebook) be found by the function it
    defines. Cells the learner added that define functions or classes (helpers) run
    after the notebook's cells, their ``def``, ``class`` and ``import`` statements only,
    as the learner's own kernel had them when the in-notebook check ran."""
    names = names or {}
    by_id: dict[str, list[dict[str, Any]]] = {}
    for cell in learner["cells"]:
        grade_id = grade_id_of(cell)
        if grade_id is not None:
            by_id.setdefault(grade_id, []).append(cell)
    teacher_sources = {source_of(c).strip() for c in teacher["cells"]}
    loose = [c for c in learner["cells"] if c.get("cell_type") == "code"
             and grade_id_of(c) is None and source_of(c).strip() not in teacher_sources]
    claimed: set[int] = set()
    plan = Plan(cells=[])
    for number, cell in enumerate(teacher["cells"], 1):
        meta = nbgrader_meta(cell)
        grade_id = grade_id_of(cell)
        if cell.get("cell_type") == "code" and _is_test(meta):
            _note_test_edits(plan, cell, by_id.get(grade_id, []))
            continue
        if grade_id is not None and _is_answer(meta):
            if cell.get("cell_type") != "code":
                continue  # a written answer: nothing to run
            mine = by_id.get(grade_id, [])
            if not mine and grade_id in names:
                found = [c for c in loose if names[grade_id] in defined_names(source_of(c))]
                if found:
                    claimed.add(id(found[-1]))
                    plan.cells.append(Cell(source_of(found[-1]), "learner", grade_id, number))
                    plan.note_part(grade_id, f"your answer was found by the function it "
                                   f"defines (`{names[grade_id]}`): its cell had no "
                                   "grading metadata (code pasted into a fresh notebook?)"
                                   + (f"; {len(found)} cells define it, the last one was "
                                      "graded" if len(found) > 1 else ""))
                    continue
            part = f"the answer cell for part '{grade_id.removesuffix('_answer')}'"
            if not mine:
                plan.notes.append(f"{part} is missing (deleted?)")
            elif len(mine) > 1:
                plan.notes.append(f"{part} appears {len(mine)} times; none of the copies "
                                  "is graded")
            elif mine[0].get("cell_type") != "code":
                plan.notes.append(f"{part} is no longer a code cell")
            else:
                plan.cells.append(Cell(source_of(mine[0]), "learner", grade_id, number))
            continue
        if cell.get("cell_type") == "code":
            plan.cells.append(Cell(source_of(cell), "teacher", grade_id, number))
    for cell in loose:
        if id(cell) in claimed:
            continue
        source, kept = definitions_only(source_of(cell))
        if kept:
            plan.cells.append(Cell(source, "helper"))
            plan.notes.append("a cell you added (defining " + ", ".join(
                f"`{n}`" for n in kept[:5]) + ") was run after the notebook's cells, "
                "its def, class and import statements only")
    return plan


def defined_names(source: str) -> list[str]:
    """The functions and classes a cell defines at its top level (none if it does not
    parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return [n.name for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def definitions_only(source: str) -> tuple[str, list[str]]:
    """``source`` with every top-level statement but def, class and import blanked
    (lines kept, so line numbers still point into the learner's cell), and the names
    it defines; ("", []) when it defines no function or class."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "", []
    lines = source.splitlines()
    keep = [False] * len(lines)
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        for i in range(first - 1, (node.end_lineno or node.lineno)):
            keep[i] = True
    if not names:
        return "", []
    return "\n".join(line if k else "" for line, k in zip(lines, keep, strict=True)) + "\n", \
        names


def _note_test_edits(plan: Plan, teacher_cell: dict[str, Any],
                     mine: list[dict[str, Any]]) -> None:
    grade_id = grade_id_of(teacher_cell)
    if len(mine) > 1:
        plan.notes.append(f"test cell '{grade_id}' appears {len(mine)} times; the copies "
                          "are ignored (tests and points come from the teacher's copy)")
    for cell in mine[:1]:
        if source_of(cell).strip() != source_of(teacher_cell).strip():
            plan.notes.append(f"test cell '{grade_id}' was edited; the edit is ignored "
                              "(tests come from the teacher's copy)")
        if nbgrader_meta(cell).get("points") != nbgrader_meta(teacher_cell).get("points"):
            plan.notes.append(f"the points of '{grade_id}' were changed; the change is "
                              "ignored (points come from the teacher's copy)")
