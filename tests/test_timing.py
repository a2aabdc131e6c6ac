"""Each lesson runs top to bottom on a clean kernel within its time budget.

The time is nbval's own run of the lesson (kernel start included), shared with
`test_notebooks.py` so no lesson runs twice; the terminal summary lists every notebook's
time. The budget is 60 s on a 2-core machine; the aim, 20 s, is reported, not enforced.
"""
from __future__ import annotations

import pytest
from notebook_runs import (
    LESSON_AIM_S,
    LESSON_BUDGET_S,
    find,
    nb_id,
    record,
    run_nbval,
    summary_note,
    xdist_group,
)


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.parametrize("path", xdist_group(find("notebooks")), ids=nb_id)
def test_lesson_runs_within_budget(path, request):
    run = run_nbval(path)
    record(request, path, run.seconds, summary_note(run))
    assert run.cell_times, f"{nb_id(path)} could not be timed:\n{run.report()}"
    assert run.seconds <= LESSON_BUDGET_S, (
        f"{nb_id(path)} took {run.seconds:.1f} s on a clean kernel, over the budget of "
        f"{LESSON_BUDGET_S:.0f} s (aim {LESSON_AIM_S:.0f} s); slowest cells (nbval counts "
        f"code cells from 0): {run.slowest()}")
