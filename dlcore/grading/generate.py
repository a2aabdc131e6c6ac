"""The exercise generator: ``exercises/`` from ``solutions/`` (``python -m dlcore exercises``).

Every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block in a solution cell becomes
one ``raise NotImplementedError(...)`` line at the block's indentation; what stands
above the block (the signature, the docstring) stays. Outputs and execution counts
are cleared, nbgrader metadata kept, and the file written deterministically
(nbformat 4.5, sorted keys, cell ids from the cells' grade ids and positions), so a
second run gives the same bytes. Misplaced markers stop the build, naming the
notebook and the cell.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from .spec import MARK_BEGIN, MARK_END

NBFORMAT_MINOR = 5
CELL_METADATA_KEPT = ("deletable", "editable", "nbgrader", "tags")
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


class MarkerError(ValueError):
    """A solution marker where it does not belong; the message names notebook and cell."""


def _where(name: str, index: int, cell) -> str:
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    label = f"cell {index + 1}" + (f" ({grade_id})" if grade_id else "")
    first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
    return f"{name}, {label}, starting {first[:60]!r}"


def _stub(lines: list[str], begin: int) -> str:
    """The message of the NotImplementedError that replaces a block."""
    for line in reversed(lines[:begin]):
        found = re.match(r"\s*(?:def|class)\s+(\w+)", line)
        if found:
            return (f"{found.group(1)}: replace this line with your code (see the task "
                    "above), then run this cell")
    return "replace this line with your code (see the task above), then run this cell"


def clear_cell_source(source: str, where: str) -> tuple[str, int]:
    """The source with each solution block replaced by a stub; and how many blocks."""
    lines = source.split("\n")
    out: list[str] = []
    begin = None
    blocks = 0
    for i, line in enumerate(lines):
        if MARK_BEGIN in line:
            if begin is not None:
                raise MarkerError(f"{where}: {MARK_BEGIN} at line {i + 1} inside another "
                                  f"solution block (opened at line {begin + 1}); blocks "
                                  "cannot nest")
            begin = i
            indent = re.match(r"\s*", line).group(0)
            out.append(f'{indent}raise NotImplementedError("{_stub(lines, i)}")')
        elif MARK_END in line:
            if begin is None:
                raise MarkerError(f"{where}: {MARK_END} at line {i + 1} without a "
                                  f"{MARK_BEGIN} before it")
            begin = None
            blocks += 1
        elif begin is None:
            out.append(line)
    if begin is not None:
        raise MarkerError(f"{where}: {MARK_BEGIN} at line {begin + 1} is never closed "
                          f"by {MARK_END}")
    return "\n".join(out), blocks


def _has_marker(source: str) -> bool:
    return MARK_BEGIN in source or MARK_END in source


def make_exercise(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The learner's copy of the solution notebook ``nb`` (``name`` for messages)."""
    cells = []
    for index, cell in enumerate(nb.cells):
        where = _where(name, index, cell)
        meta = {k: cell.metadata[k] for k in CELL_METADATA_KEPT if k in cell.metadata}
        is_solution = bool(meta.get("nbgrader", {}).get("solution", False))
        source = cell.source
        if cell.cell_type != "code":
            if _has_marker(source):
                raise MarkerError(f"{where}: solution markers in a {cell.cell_type} cell; "
                                  "they belong in code cells marked as solution cells")
        elif is_solution:
            source, blocks = clear_cell_source(source, where)
            if blocks == 0:
                raise MarkerError(f"{where}: a solution cell without a {MARK_BEGIN} ... "
                                  f"{MARK_END} block")
        elif _has_marker(source):
            raise MarkerError(f"{where}: solution markers in a cell that is not a solution "
                              "cell (nbgrader metadata solution: true)")
        grade_id = meta.get("nbgrader", {}).get("grade_id")
        cell_id = grade_id if grade_id else f"cell-{index}"
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(source, metadata=meta, id=cell_id)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(source, metadata=meta, id=cell_id)
        else:
            new = nbformat.v4.new_raw_cell(source, metadata=meta, id=cell_id)
        cells.append(new)
    out = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}})
    out.nbformat_minor = NBFORMAT_MINOR
    return out


def exercise_text(solution: Path) -> str:
    """The exact text of the exercise notebook made from ``solution``."""
    nb = nbformat.read(solution, as_version=4)
    return nbformat.writes(make_exercise(nb, solution.name), version=4)


def write_exercises(solutions: Path, exercises: Path, check: bool = False) -> list[str]:
    """Write (or with ``check`` only compare) every exercise; return the names of the
    files that were (or would be) changed."""
    changed = []
    sources = sorted(Path(solutions).glob("*.ipynb"))
    if not check:
        Path(exercises).mkdir(parents=True, exist_ok=True)
    for solution in sources:
        text = exercise_text(solution)
        target = Path(exercises) / solution.name
        old = target.read_text(encoding="utf-8") if target.exists() else None
        if old != text:
            changed.append(solution.name)
            if not check:
                target.write_text(text, encoding="utf-8")
    return changed
