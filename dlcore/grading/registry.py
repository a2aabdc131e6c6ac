"""Every graded function of the course, by its nbgrader ``grade_id``.

Each exercise notebook has one module in ``dlcore/grading/specs/``, named ``ex`` + the
notebook's name (``ex01_neurons_and_layers`` for ``01_neurons_and_layers``), with
``ASSIGNMENT`` and a ``SPECS`` list; add a new module's name to ``_MODULES`` below.

Modules are imported on first use: ``specs_for(assignment)`` imports that exercise's
module only (a sandboxed grading worker, started once per submission, needs one of
fourteen); ``get_spec`` and ``all_specs`` import them all, once, and check that no
``grade_id`` is used twice across the course.
"""
from __future__ import annotations

import importlib
import threading

from .spec import Spec

_MODULES = ("ex01_neurons_and_layers", "ex02_forward_pass", "ex03_loss_functions",
            "ex04_backward_pass", "ex05_optimizers", "ex06_training",
            "ex07_convolutional_networks", "ex08_recurrent_networks", "ex09_lstm",
            "ex10_dropout_and_batch_norm", "ex11_augmentation_and_transfer",
            "ex12_applications", "ex13_attention_and_transformers", "ex14_autograd")

_LOCK = threading.RLock()
_BY_ASSIGNMENT: dict[str, list[Spec]] = {}
_SPECS: dict[str, Spec] | None = None  # every spec by grade_id, once all are imported


def _load(module_name: str) -> list[Spec]:
    """The specs of one module, imported now if need be; its ``ASSIGNMENT`` must be its
    name without ``ex`` (that is how ``specs_for`` finds it without importing the rest)."""
    assignment = module_name.removeprefix("ex")
    with _LOCK:
        if assignment not in _BY_ASSIGNMENT:
            module = importlib.import_module(f"{__package__}.specs.{module_name}")
            if module.ASSIGNMENT != assignment or \
                    any(s.assignment != assignment for s in module.SPECS):
                raise RuntimeError(f"{module.__name__} must grade {assignment!r} (its name "
                                   f"without 'ex'), not {module.ASSIGNMENT!r}")
            _BY_ASSIGNMENT[assignment] = list(module.SPECS)
        return _BY_ASSIGNMENT[assignment]


def _all() -> dict[str, Spec]:
    global _SPECS
    with _LOCK:
        if _SPECS is None:
            by_id: dict[str, Spec] = {}
            cell_ids: set[str] = set()
            for name in _MODULES:
                for spec in _load(name):
                    for cell_id in (spec.grade_id, spec.answer_id):
                        if cell_id in cell_ids:
                            raise RuntimeError(f"grade_id {cell_id!r} is used twice "
                                               f"(again in {name})")
                        cell_ids.add(cell_id)
                    by_id[spec.grade_id] = spec
            _SPECS = by_id
        return _SPECS


def all_specs() -> list[Spec]:
    """Every spec, in course order."""
    return list(_all().values())


def get_spec(grade_id: str) -> Spec:
    """The spec of the graded cell ``grade_id``; ``KeyError`` in plain words if none."""
    specs = _all()
    try:
        return specs[grade_id]
    except (KeyError, TypeError):
        raise KeyError(f"no graded exercise is called {grade_id!r}; known ones: "
                       f"{', '.join(specs)}") from None


def specs_for(assignment: str) -> list[Spec]:
    """The specs of one exercise notebook (``'01_neurons_and_layers'``), in order; only
    its own module is imported."""
    if isinstance(assignment, str) and f"ex{assignment}" in _MODULES:
        return list(_load(f"ex{assignment}"))
    raise KeyError(f"no exercise notebook is called {assignment!r}; known ones: "
                   f"{', '.join(assignments())}")


def assignments() -> list[str]:
    """The names of the exercise notebooks, in course order (nothing is imported)."""
    return [name.removeprefix("ex") for name in _MODULES]
