"""Graded exercises: specs, in-notebook checks, the exercise generator, the autograder.

In an exercise notebook::

    from dlcore.grading import check, hint
    check("neuron_forward", neuron_forward)   # plain-words feedback; fails the cell if wrong
    hint("neuron_forward")                    # the next tip, gentlest first
    with needs("neuron_forward"):             # a cell that uses the learner's code
        ...                                   # says "write it first" if it is a stub

Files: ``spec.py`` (``Spec``, ``Case``, ``Outcome``, ``Hint``, plain data in and out),
``compare.py`` (plain-words comparison), ``check.py`` and ``report.py`` (the
in-notebook check), ``registry.py`` (specs by ``grade_id``), ``specs/exNN_*.py`` (one
file per exercise notebook), ``generate.py`` (``python -m dlcore exercises``),
``autograder/`` (``python -m dlcore grade``).

How to add an exercise notebook
-------------------------------
1. Write ``dlcore/grading/specs/exNN_topic.py`` with ``ASSIGNMENT = "NN_topic"`` and a
   ``SPECS`` list; add its name to ``_MODULES`` in ``registry.py``. Per graded
   function, one ``Spec``:

   - ``grade_id`` unique across the course (it is the nbgrader id of the test cell;
     the answer cell gets ``<grade_id>_answer``), ``name`` the function the learner
     writes, ``points``, ``task`` (one line, with shapes);
   - ``make_cases(seed)``: a few ``Case(label, inputs)`` from ``gen(seed, salt)``
     (``specs/_common.py``), inputs plain data (float64/int64/bool arrays, numbers,
     lists); make one case that exposes each typical mistake (say a square W, so a
     transposed weight has the right shape but wrong values);
   - ``run(namespace, case)``: call the learner with ``call``/``call_array`` and return
     plain data only (``as_array``, ``as_float``, ``as_parts``); it runs in the
     autograder's sandboxed worker, so it must not compute the answer;
   - ``reference(case)``: the answer from the engine (``nn.Linear``, ``optim.Adam``...),
     never a copy of the solution; wrap module construction in ``keep_rng()``;
   - ``hints``: ``Hint(text, mistake=fn)`` where ``fn(case)`` computes what the mistake
     would give (``None`` where it does not apply), or ``Hint(text, errors=(...))``
     keyed to an exception name; ``tips`` for ``hint()``, never the reference code;
   - ``rtol``/``atol``; a ``comparer`` only when the answer is not a fixed value;
   - ``shortcuts=refuse(name, instead, (pattern, what), ...)`` (``specs/_common.py``):
     the ready-made code that would do this part's work (``names(...)``,
     ``reached(...)``); PyTorch is added unless ``torch=False``; leave it empty where
     building from engine layers is the exercise.
2. Write ``solutions/NN_topic.ipynb``: an intro pointing to ``notebooks/NN_topic.ipynb``,
   then per part a markdown task, an answer cell (nbgrader ``solution: true``,
   ``grade_id: <grade_id>_answer``, code between ``### BEGIN SOLUTION`` and
   ``### END SOLUTION``) and a test cell (``grade: true``, ``locked: true``, ``points``,
   ``grade_id``) calling ``check("<grade_id>", <name>)``; all with ``schema_version: 3``.
   ``dlcore.grading.notebook`` has helpers that write these cells.
3. Execute it (``python -m dlcore exercises --execute-solutions`` runs every solution
   notebook in place), then ``python -m dlcore exercises`` to regenerate
   ``exercises/``; commit both. ``tests/test_exercises.py`` and
   ``tests/test_grading_specs.py`` pick the new notebook and specs up by themselves.
"""
from __future__ import annotations

import importlib
import sys
import types
from typing import Any

# Imported on first use, so a process that needs one part (a sandboxed grading worker,
# started once per submission) does not pay for the others.
_LAZY = {"check": "check", "hint": "check", "needs": "check", "CheckFailed": "check",
         "run_check": "check", "get_spec": "registry", "specs_for": "registry",
         "assignments": "registry", "all_specs": "registry", "Spec": "spec",
         "Case": "spec", "Outcome": "spec", "Hint": "spec"}

__all__ = ["check", "hint", "needs", "CheckFailed", "run_check", "get_spec", "specs_for",
           "assignments", "all_specs", "Spec", "Case", "Outcome", "Hint"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Package(types.ModuleType):
    """``check`` is both a submodule (``check.py``) and the function learners call.
    Importing a submodule sets it as an attribute of its package, which would hide the
    function whenever ``dlcore.grading.check`` the module is imported first (say by
    ``from dlcore.grading.check import run_check``); this keeps the name for the
    function: ``from dlcore.grading import check`` and ``dlcore.grading.check(...)``
    always give the function, and the module stays in ``sys.modules``."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "check" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
