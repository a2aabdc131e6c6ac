"""Every graded function of the course, by its nbgrader ``grade_id``.

Each exercise notebook has one module in ``dlcore/grading/specs/`` with a
``SPECS`` list; add a new module to ``_MODULES`` below.
"""
from __future__ import annotations

from .spec import Spec
from .specs import (
    ex01_neurons_and_layers,
    ex02_forward_pass,
    ex03_loss_functions,
    ex04_backward_pass,
    ex05_optimizers,
    ex06_training,
    ex07_convolutional_networks,
    ex08_recurrent_networks,
    ex09_lstm,
    ex10_dropout_and_batch_norm,
    ex11_augmentation_and_transfer,
    ex12_applications,
    ex13_attention_and_transformers,
    ex14_autograd,
)

_MODULES = (ex01_neurons_and_layers, ex02_forward_pass, ex03_loss_functions, ex04_backward_pass,
            ex05_optimizers, ex06_training, ex07_convolutional_networks, ex08_recurrent_networks,
            ex09_lstm, ex10_dropout_and_batch_norm, ex11_augmentation_and_transfer,
            ex12_applications, ex13_attention_and_transformers, ex14_autograd)


def _collect() -> dict[str, Spec]:
    by_id: dict[str, Spec] = {}
    cell_ids: set[str] = set()
    for module in _MODULES:
        for spec in module.SPECS:
            for cell_id in (spec.grade_id, spec.answer_id):
                if cell_id in cell_ids:
                    raise RuntimeError(f"grade_id {cell_id!r} is used twice "
                                       f"(again in {module.__name__})")
                cell_ids.add(cell_id)
            by_id[spec.grade_id] = spec
    return by_id


_SPECS = _collect()


def all_specs() -> list[Spec]:
    """Every spec, in course order."""
    return list(_SPECS.values())


def get_spec(grade_id: str) -> Spec:
    """The spec of the graded cell ``grade_id``; ``KeyError`` in plain words if none."""
    try:
        return _SPECS[grade_id]
    except (KeyError, TypeError):
        raise KeyError(f"no graded exercise is called {grade_id!r}; known ones: "
                       f"{', '.join(_SPECS)}") from None


def specs_for(assignment: str) -> list[Spec]:
    """The specs of one exercise notebook (``'01_neurons_and_layers'``), in order."""
    specs = [s for s in _SPECS.values() if s.assignment == assignment]
    if not specs:
        raise KeyError(f"no exercise notebook is called {assignment!r}; known ones: "
                       f"{', '.join(assignments())}")
    return specs


def assignments() -> list[str]:
    """The names of the exercise notebooks, in course order."""
    return list(dict.fromkeys(s.assignment for s in _SPECS.values()))
