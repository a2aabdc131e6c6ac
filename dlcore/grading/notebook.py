"""Writing and running exercise notebooks: nbgrader cells, and executing a solution
notebook in place so its committed outputs are fresh and free of timestamps."""
from __future__ import annotations

from pathlib import Path

import nbformat

from .generate import CELL_METADATA_KEPT, KERNELSPEC, NBFORMAT_MINOR
from .spec import MARK_BEGIN, MARK_END, Spec


def nbgrader_meta(grade_id: str, *, solution: bool = False, grade: bool = False,
                  locked: bool = False, points: float | None = None) -> dict:
    """nbgrader's cell metadata, schema version 3."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked,
            "schema_version": 3, "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def markdown(text: str, cell_id: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text.strip("\n"), id=cell_id)


def code(source: str, cell_id: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(source.strip("\n"), id=cell_id)


def answer_cell(spec: Spec, head: str, solution: str, tail: str = "") -> nbformat.NotebookNode:
    """The learner's cell: ``head`` (signature, docstring), then ``solution`` between
    the markers, indented like the function body, then ``tail``."""
    body = [line for line in solution.strip("\n").split("\n")]
    indent = len(body[0]) - len(body[0].lstrip())
    pad = " " * indent
    source = (head.strip("\n") + f"\n{pad}{MARK_BEGIN}\n" + "\n".join(body)
              + f"\n{pad}{MARK_END}" + (("\n" + tail.strip("\n")) if tail else ""))
    cell = nbformat.v4.new_code_cell(source, id=spec.answer_id)
    cell.metadata["nbgrader"] = nbgrader_meta(spec.answer_id, solution=True)
    return cell


def test_cell(spec: Spec) -> nbformat.NotebookNode:
    """The locked, graded cell that runs the check."""
    cell = nbformat.v4.new_code_cell(f'check("{spec.grade_id}", {spec.name})',
                                     id=spec.grade_id)
    cell.metadata["nbgrader"] = nbgrader_meta(spec.grade_id, grade=True, locked=True,
                                              points=spec.points)
    cell.metadata["deletable"] = False
    cell.metadata["editable"] = False
    return cell


def new_notebook(cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}})
    nb.nbformat_minor = NBFORMAT_MINOR
    return nb


def execute(path: Path, timeout: int = 120, allow_errors: bool = False
            ) -> nbformat.NotebookNode:
    """Run the notebook at ``path`` on a fresh kernel from its own folder; return it
    with outputs, without nbclient's timing metadata (so re-runs give the same bytes)."""
    from nbclient import NotebookClient
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            allow_errors=allow_errors, record_timing=False,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    client.execute()
    for cell in nb.cells:
        cell.metadata = {k: cell.metadata[k] for k in CELL_METADATA_KEPT if k in cell.metadata}
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    nb.nbformat_minor = NBFORMAT_MINOR
    return nb


def execute_in_place(path: Path, timeout: int = 120) -> None:
    """Execute a solution notebook and save it with its outputs."""
    nb = execute(path, timeout)
    Path(path).write_text(nbformat.writes(nb, version=4), encoding="utf-8")
