"""A tiny fake assignment, ``99_fake``, for the autograder's tests.

Two graded functions, ``add_one(x) -> x + 1`` (1 point) and ``scaled_sum(x, k) -> k *
sum(x)`` (2 points), with the same ``Spec`` machinery as the course's exercises, so the
grader's tests do not depend on how the real exercises change. The worker imports this
module by name (``--specs tests.hostile.fake_spec``), as it imports the real registry.
"""
from __future__ import annotations

import numpy as np

from dlcore.grading.spec import Case, Credit, Hint, Spec, as_array, as_float, as_parts, learner

ASSIGNMENT = "99_fake"
PARTS_ASSIGNMENT = "98_parts"  # one part whose two outputs earn their points apart


def _add_one_cases(seed: int) -> list[Case]:
    g = np.random.default_rng([seed, 1])
    return [Case(f"{n} numbers", {"x": np.round(g.standard_normal(n), 3)}) for n in (3, 5)]


def _scaled_sum_cases(seed: int) -> list[Case]:
    g = np.random.default_rng([seed, 2])
    return [Case("4 numbers", {"x": np.round(g.standard_normal(4), 3),
                               "k": float(np.round(g.uniform(2, 5), 3))})]


ADD_ONE = Spec(
    grade_id="add_one", assignment=ASSIGNMENT, name="add_one", points=1,
    task="x (N,) -> x + 1", make_cases=_add_one_cases,
    run=lambda ns, c: as_array(learner(ns, "add_one")(c.copy_inputs()["x"])),
    reference=lambda c: c.inputs["x"] + 1.0,
    hints=(Hint("You added 2, not 1.", mistake=lambda c: c.inputs["x"] + 2.0),),
    time_limit=3.0,
)

SCALED_SUM = Spec(
    grade_id="scaled_sum", assignment=ASSIGNMENT, name="scaled_sum", points=2,
    task="x (N,), k -> k * sum(x)", make_cases=_scaled_sum_cases,
    run=lambda ns, c: as_float(learner(ns, "scaled_sum")(**c.copy_inputs())),
    reference=lambda c: float(c.inputs["k"] * c.inputs["x"].sum()),
    time_limit=3.0,
)

SPECS = [ADD_ONE, SCALED_SUM]


def _moments_cases(seed: int) -> list[Case]:
    g = np.random.default_rng([seed, 3])
    return [Case(f"{n} numbers", {"x": np.round(g.standard_normal(n), 3), "eps": 1e-5})
            for n in (4, 6)]


MOMENTS = Spec(
    grade_id="moments", assignment=PARTS_ASSIGNMENT, name="moments", points=2,
    task="x (N,), eps -> (mean, std) with std = sqrt(var + eps)",
    make_cases=_moments_cases,
    run=lambda ns, c: as_parts(learner(ns, "moments")(**c.copy_inputs()), ("mean", "std")),
    reference=lambda c: {"mean": np.array(c.inputs["x"].mean()),
                         "std": np.array(np.sqrt(c.inputs["x"].var() + c.inputs["eps"]))},
    rtol=1e-7, atol=1e-9, credit=Credit.PER_OUTPUT, time_limit=3.0,
)


def specs_for(assignment: str) -> list[Spec]:
    if assignment == PARTS_ASSIGNMENT:
        return [MOMENTS]
    if assignment != ASSIGNMENT:
        raise KeyError(f"no exercise notebook is called {assignment!r}; known ones: "
                       f"{ASSIGNMENT}, {PARTS_ASSIGNMENT}")
    return list(SPECS)
