"""Every lesson's widgets work in a real JupyterLab, in headless Chromium.

For each lesson in `notebooks/` (found at collection, so new lessons are covered at
once): open it, run all cells, wait for the kernel to be idle, then for each widget on
the page move its controls (slider: End or Home on the focused handle; dropdown: the
next option; button, checkbox: a click) and check that what they drive changed: a label
or HTML, a readout, the text or the `img` of an `Output` widget, a canvas. A lesson
without a widget fails; so does any traceback in the page or on the kernel's channel.

Each change is also timed, from the input event to the new picture painted (the same
measurement as benchmarks/widgets_browser.py, in tests/browser/measure.py), and printed.
The bar (150 ms a control, first frame of training within 150 ms, then 20 frames a
second) is judged by the benchmark on a quiet machine; here a control fails only on a
gross regression (GROSS_*: many times the bar), so a loaded CI machine does not make the
test flaky. A change that says it is working (its status line) is exempt from the time.
Run just these with `python -m pytest -m browser`.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from . import measure

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if not p.name.startswith("."))
RUN_ALL_TIMEOUT_S = 180    # a lesson is budgeted 60 s; the browser adds rendering
IDLE_FOR_S = 1.0           # the kernel counts as done once idle this long
GROSS_CHANGE_MS = 2000     # a control that does not train (bar 150 ms, none above 300)
GROSS_FIRST_FRAME_MS = 1500  # Train / Play: the first frame (bar 150 ms) ...
GROSS_MIN_FPS = 3          # ... then frames a second while it plays (bar 20)
MAX_CONTROLS_PER_WIDGET = 6  # the benchmark times up to 12; CI time is budgeted

# pytest-xdist runs a file's tests in one worker (--dist loadfile): a lesson at a time, one
# JupyterLab and one Chromium, while the other workers run the rest of the suite.
pytestmark = [pytest.mark.browser, pytest.mark.slow]

JS_NOTEBOOK_READY = measure.JS_READY
JS_BUSY = measure.JS_BUSY
CONTROLS, CONTROL_BOX, TOP_OUTPUTS = measure.CONTROLS, measure.CONTROL_BOX, measure.TOP_OUTPUTS

# Collect every error and every stderr traceback the kernel publishes, including those
# from widget callbacks, which have no cell to show them in.
JS_WATCH_KERNEL = """() => {
  window.__kernelErrors = [];
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  k.iopubMessage.connect((_, msg) => {
    const t = msg.header.msg_type, c = msg.content;
    if (t === 'error') window.__kernelErrors.push(c.ename + ': ' + c.evalue);
    if (t === 'stream' && c.name === 'stderr' && c.text.includes('Traceback'))
      window.__kernelErrors.push(c.text.slice(0, 2000));
  });
}"""

JS_RUN_ALL = """() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"""

JS_TRACEBACKS = """() => [...document.querySelectorAll(
    '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]')]
  .map(e => e.innerText).filter(t => t.includes('Traceback') || t.includes('Error'))
  .concat([...document.querySelectorAll('.jp-OutputArea-output')]
    .map(e => e.innerText).filter(t => t.includes('Error displaying widget')))
  .concat(window.__kernelErrors || [])"""

# What a widget shows, apart from the control being moved.
JS_SNAPSHOT = """([root, control, boxSel]) => {
  const own = control ? control.closest(boxSel) : null;
  const outside = e => !own || !own.contains(e);
  const parts = [];
  root.querySelectorAll('.widget-output, .widget-label, .widget-html-content, ' +
                        '.widget-readout, .widget-valid, .widget-text input, ' +
                        '.widget-textarea textarea, .progress-bar, .jp-RenderedText')
    .forEach(e => { if (outside(e)) parts.push(e.innerText || e.value || e.style.width); });
  root.querySelectorAll('img').forEach(e => { if (outside(e)) parts.push(e.src); });
  root.querySelectorAll('canvas').forEach(e => {
    try { if (outside(e)) parts.push(e.toDataURL()); } catch (err) { parts.push('?'); }
  });
  root.querySelectorAll('svg').forEach(e => { if (outside(e)) parts.push(e.innerHTML); });
  return parts.join('\\u0001');
}"""


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_widgets_respond(path, page, lab_url):
    name = path.name
    page.goto(f"{lab_url}/lab/tree/notebooks/{name}?reset")
    page.wait_for_function(JS_NOTEBOOK_READY, arg=name, timeout=60_000)
    page.evaluate(JS_WATCH_KERNEL)
    page.evaluate(JS_RUN_ALL)
    wait_until_idle(page, RUN_ALL_TIMEOUT_S, what=f"running all cells of {name}")
    page.wait_for_timeout(500)  # let the last widget views render

    errors = page.evaluate(JS_TRACEBACKS)
    assert not errors, f"{name}: errors after running all cells:\n" + "\n---\n".join(errors)

    roots = [r for r in page.query_selector_all(TOP_OUTPUTS)
             if any(r.query_selector(sel) for sel in CONTROLS.values())]
    assert roots, (f"{name} shows no widget with a control (slider, dropdown, button, ...) "
                   f"after running all cells; every lesson needs at least one")

    problems = []
    for number, root in enumerate(roots, start=1):
        results = exercise_widget(page, root)
        print(f"{name} widget {number}: " + "; ".join(describe(r) for r in results))
        if not any(r["changed"] for r in results):
            root.scroll_into_view_if_needed()
            shot = save_screenshot(page, f"{path.stem}-widget{number}")
            tried = ", ".join(r["kind"] for r in results) or "none"
            problems.append(f"widget {number} of {len(roots)}: moving its controls "
                            f"({tried}) changed nothing it shows (screenshot: {shot})")
        problems += [f"widget {number}: {r['name']!r}: {p}" for r in results
                     for p in gross_regressions(r)]
    errors = page.evaluate(JS_TRACEBACKS)
    if errors:
        problems.append("errors after moving the widgets:\n" + "\n---\n".join(errors))
    assert not problems, f"{name}:\n" + "\n".join(problems)


def exercise_widget(page, root) -> list[dict]:
    """Move each control of one widget in turn (a slider to its other end, a dropdown to
    the next option, a click; Train / Play pressed, watched, paused); say, per control,
    whether what the widget shows changed and how long it took."""
    results = []
    measure.activate_cell(page, root)
    for kind, control, name in measure.widget_controls(page, root, MAX_CONTROLS_PER_WIDGET):
        if not control.is_enabled():
            continue
        before = page.evaluate(JS_SNAPSHOT, [root, control, CONTROL_BOX])
        control.scroll_into_view_if_needed()
        if measure.is_training(kind, name):
            timing = measure.time_training(page, root, control)
            result = {"kind": "train", "ms": timing["first_frame_ms"], "busy": False,
                      "fps": timing["fps"], "live": timing["live"]}
        else:
            result = {"kind": kind, **measure.time_change(page, root, kind, control, far=True)}
        after = page.evaluate(JS_SNAPSHOT, [root, control, CONTROL_BOX])
        results.append({"name": name, "changed": after != before, **result})
        # (time_change and time_training return once the kernel is idle and the widget quiet)
    return results


def describe(r: dict) -> str:
    what = "changed it" if r["changed"] else "changed nothing"
    if r["ms"] is None:
        return f"{r['kind']} {r['name']!r} {what}"
    if r["kind"] == "train":
        return f"{r['name']!r} {what}: first frame {r['ms']:.0f} ms, {r['fps']:.1f} frames/s"
    return f"{r['kind']} {r['name']!r} {what} in {r['ms']:.0f} ms" + (
        " (said it was working)" if r["busy"] else "")


def gross_regressions(r: dict) -> list[str]:
    """Times many times the bar: what a loaded machine never explains."""
    if r["ms"] is None or not r["changed"]:
        return []
    if r["kind"] == "train":
        problems = []
        if r["ms"] > GROSS_FIRST_FRAME_MS:
            problems.append(f"first frame {r['ms']:.0f} ms after pressing it "
                            f"(bar 150 ms, fails above {GROSS_FIRST_FRAME_MS} ms)")
        if r["live"] and r["fps"] < GROSS_MIN_FPS:
            problems.append(f"{r['fps']:.1f} frames/s while it plays "
                            f"(bar 20, fails below {GROSS_MIN_FPS})")
        return problems
    if r["ms"] > GROSS_CHANGE_MS and not r["busy"]:
        return [f"{r['ms']:.0f} ms from input to new picture without saying it was working "
                f"(bar 150 ms, fails above {GROSS_CHANGE_MS} ms)"]
    return []


def wait_until_idle(page, timeout: float, what: str) -> None:
    measure.wait_idle(page, timeout, what, idle_for=IDLE_FOR_S)


def save_screenshot(page, stem: str) -> str:
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    target = artifacts / f"{stem}.png"
    page.screenshot(path=str(target))
    return target.relative_to(ROOT).as_posix()
