"""The widgets work in Jupyter Notebook 7 too, not only in JupyterLab.

The same server serves Notebook 7's pages (`/notebooks/...`). One lesson, the one with
the most kinds of widget (the playground's canvas drawn in the browser, Player buttons,
pictures redrawn from the kernel), is run there top to bottom and every control of its
widgets is moved, as tests/browser/test_widgets.py does in JupyterLab.
"""
from __future__ import annotations

import pytest

from . import measure
from .test_widgets import (
    CONTROLS,
    JS_RUN_ALL,
    JS_TRACEBACKS,
    JS_WATCH_KERNEL,
    RUN_ALL_TIMEOUT_S,
    TOP_OUTPUTS,
    describe,
    exercise_widget,
    gross_regressions,
    wait_until_idle,
)

LESSON = "06_training.ipynb"

# pytest-xdist runs a file's tests in one worker (--dist loadfile): a lesson at a time, one
# JupyterLab and one Chromium, while the other workers run the rest of the suite.
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_lesson_runs_and_its_widgets_respond_in_notebook_7(page, lab_url):
    page.goto(f"{lab_url}/notebooks/notebooks/{LESSON}")
    page.wait_for_function(measure.JS_READY, arg=LESSON, timeout=90_000)
    assert page.evaluate("() => !!document.querySelector('#main-panel, .jp-NotebookPanel')")
    assert "/lab" not in page.url                 # Notebook 7's own page, not JupyterLab
    page.evaluate(JS_WATCH_KERNEL)
    page.evaluate(JS_RUN_ALL)
    wait_until_idle(page, RUN_ALL_TIMEOUT_S, what=f"running all cells of {LESSON}")
    page.wait_for_timeout(500)
    errors = page.evaluate(JS_TRACEBACKS)
    assert not errors, "errors after running all cells:\n" + "\n---\n".join(errors)

    roots = [r for r in page.query_selector_all(TOP_OUTPUTS)
             if any(r.query_selector(sel) for sel in CONTROLS.values())]
    assert roots, f"{LESSON} shows no widget in Notebook 7"
    problems = []
    for number, root in enumerate(roots, start=1):
        results = exercise_widget(page, root)
        print(f"Notebook 7, {LESSON} widget {number}: " + "; ".join(map(describe, results)))
        if not any(r["changed"] for r in results):
            problems.append(f"widget {number}: moving its controls changed nothing")
        problems += [f"widget {number}: {r['name']!r}: {p}" for r in results
                     for p in gross_regressions(r)]
    errors = page.evaluate(JS_TRACEBACKS)
    if errors:
        problems.append("errors after moving the widgets:\n" + "\n---\n".join(errors))
    assert not problems, f"Notebook 7, {LESSON}:\n" + "\n".join(problems)
