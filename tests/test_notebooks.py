"""Every lesson and solution notebook passes nbval against its committed outputs;
every untouched exercise notebook runs through, only its graded checks failing, politely.

Notebooks are found when the tests are collected, so a new lesson is covered the moment
it lands in `notebooks/`, `solutions/` or `exercises/`. Each notebook runs once per
session (see `notebook_runs.py`): the nbval test and the time-budget test of a lesson share
the run (they are in this one file, which pytest-xdist's `--dist loadfile` runs in one
process). The terminal summary lists every notebook's time. A lesson's budget is 60 s on a
2-core machine; the aim, 20 s, is reported, not enforced.
Run just these with `python -m pytest -m notebooks`.
"""
from __future__ import annotations

import re

import pytest
from notebook_runs import (
    LESSON_AIM_S,
    LESSON_BUDGET_S,
    SANITIZE,
    find,
    nb_id,
    record,
    run_exercise,
    run_nbval,
    summary_note,
)

LESSONS = find("notebooks")
SOLUTIONS = find("solutions")
EXERCISES = find("exercises")

# The polite failure of an untouched exercise's check: dlcore.grading's CheckFailed,
# shown as its short message (its `_render_traceback_`), never a long traceback.
POLITE_NAMES = {"CheckFailed"}
POLITE_MAX_LINES = 30


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.parametrize("path", LESSONS + SOLUTIONS, ids=nb_id)
def test_notebook_matches_committed_outputs(path, request):
    run = run_nbval(path)
    record(request, path, run.seconds, summary_note(run))
    assert run.ok, run.report()


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.parametrize("path", LESSONS, ids=nb_id)
def test_lesson_runs_within_budget(path, request):
    """A lesson runs top to bottom on a clean kernel within its budget (nbval's own run,
    kernel start included, shared with the test above)."""
    run = run_nbval(path)
    record(request, path, run.seconds, summary_note(run))
    assert run.cell_times, f"{nb_id(path)} could not be timed:\n{run.report()}"
    assert run.seconds <= LESSON_BUDGET_S, (
        f"{nb_id(path)} took {run.seconds:.1f} s on a clean kernel, over the budget of "
        f"{LESSON_BUDGET_S:.0f} s (aim {LESSON_AIM_S:.0f} s); slowest cells (nbval counts "
        f"code cells from 0): {run.slowest()}")


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.parametrize("path", EXERCISES, ids=nb_id)
def test_untouched_exercise_fails_only_its_checks_politely(path, request):
    run = run_exercise(path)
    record(request, path, run.seconds, f"exercise: {len(run.errors)} check(s) failed")
    assert not run.crash, f"{nb_id(path)} did not run through: {run.crash}"
    impolite = [e for e in run.errors if not is_polite(e)]
    assert not impolite, (
        f"{nb_id(path)}: an untouched exercise may only fail in its graded check cells, "
        f"with a short 'check failed' message; these cells failed otherwise:\n"
        + "\n".join(describe(e) for e in impolite))
    assert run.errors, (
        f"{nb_id(path)}: no check failed on the untouched exercise; its checks cannot "
        f"tell a missing answer from a right one")


def is_polite(error: dict) -> bool:
    evalue = error["evalue"]
    return (error["graded"] and error["ename"] in POLITE_NAMES and bool(evalue.strip())
            and len(evalue.splitlines()) <= POLITE_MAX_LINES
            and error["traceback_lines"] <= POLITE_MAX_LINES)


def describe(error: dict) -> str:
    kind = "graded" if error["graded"] else "not graded"
    first = error["source"].strip().splitlines()[:1] or [""]
    evalue = error["evalue"].strip().splitlines()
    shown = "\n      ".join(evalue[:8]) + (" ..." if len(evalue) > 8 else "")
    return (f"  cell {error['index']} ({kind}; starts `{first[0][:60]}`): "
            f"{error['ename']}: {shown} [traceback: {error['traceback_lines']} lines]")


@pytest.mark.parametrize("text, expected", [
    ("<dlcore.nn.linear.Linear object at 0x7f3a1c2b9d90>",
     "<dlcore.nn.linear.Linear object at 0xADDRESS>"),
    ("model_id: 'a3f1e2d4c5b6a7980123456789abcdef'", "model_id: 'MODEL-ID'"),
    ("epoch 3:  40%|████      | 2/5 [00:01<00:02,  1.50it/s, loss=0.312]", "TQDM-BAR"),
    ("CPU times: user 1.2 s, sys: 3 ms, total: 1.2 s", "TIMING"),
    ("trained 5 epochs in 2.31 s (120 ms per epoch)",
     "trained 5 epochs in DURATION (DURATION per epoch)"),
    ("saved at 2026-11-25 08:42:31", "saved at TIMESTAMP"),
    ("wrote /tmp/tmpab12cd/model.npz", "wrote /tmp/TMPPATH"),
])
def test_sanitizer_masks_volatile_text(text, expected):
    assert sanitize(text) == expected


@pytest.mark.parametrize("text", [
    "epoch 5: loss 0.2345, accuracy 97.5%",
    "Linear(in_features=64, out_features=10, bias=True)",
    "array([[0.1234, 1.5   ],\n       [2.    , 3.    ]], dtype=float32)",
    "10 samples, 3 steps, 1 sigmoid",
    "weights: 8,256 parameters",
])
def test_sanitizer_leaves_results_alone(text):
    assert sanitize(text) == text


def sanitize(text: str) -> str:
    """Apply the patterns the way nbval does: in file order, `re.sub` each."""
    config = SANITIZE.read_text(encoding="utf-8")
    pairs = re.findall(r"^regex: (.*)$\n^replace: (.*)$", config, flags=re.MULTILINE)
    assert pairs, f"no regex/replace pairs in {SANITIZE}"
    for regex, replace in pairs:
        text = re.sub(regex, replace, text)
    return text
