"""Every lesson's widgets work in a real JupyterLab, in headless Chromium.

For each lesson in `notebooks/` (found at collection, so new lessons are covered at
once): open it, run all cells, wait for the kernel to be idle, then for each widget on
the page move its controls (slider: End or Home on the focused handle; dropdown: the
next option; button, checkbox: a click) and check that what they drive changed: a label
or HTML, a readout, the text or the `img` of an `Output` widget, a canvas. A lesson
without a widget fails; so does any traceback in the page or on the kernel's channel.
Run just these with `python -m pytest -m browser`.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if not p.name.startswith("."))
RUN_ALL_TIMEOUT_S = 180    # a lesson is budgeted 60 s; the browser adds rendering
CHANGE_TIMEOUT_S = 90      # a control that trains something may take a while
IDLE_FOR_S = 1.0           # the kernel counts as done once idle this long
SETTLE_S = 2.5             # after a move, nothing changed for this long once idle: no change
MAX_CONTROLS_PER_WIDGET = 6

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# One control kind per selector: what to find inside a widget, and how to move it.
CONTROLS = {
    "slider": ".widget-slider .noUi-handle",
    "dropdown": ".widget-dropdown select",
    "select": ".widget-select select",
    "button": "button.widget-button",
    "toggle": "button.widget-toggle-button",
    "toggles": ".widget-toggle-buttons button",
    "checkbox": ".widget-checkbox input[type=checkbox]",
    "radio": ".widget-radio-box input[type=radio]",
}
# The element of a control whose own text (description, readout) does not count as
# "what it drives".
CONTROL_BOX = ".widget-slider, .widget-dropdown, .widget-select, .widget-checkbox, " \
              ".widget-radio, .widget-toggle-buttons, .widget-button, .widget-toggle-button"

JS_NOTEBOOK_READY = """(name) => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!w || !w.context || !w.context.path.endsWith(name) || !w.sessionContext) return false;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""

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

JS_BUSY = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  const pending = [...document.querySelectorAll('.jp-InputPrompt')]
    .some(p => p.textContent.includes('*'));
  return !k || k.status !== 'idle' || pending;
}"""

JS_TRACEBACKS = """() => [...document.querySelectorAll(
    '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]')]
  .map(e => e.innerText).filter(t => t.includes('Traceback') || t.includes('Error'))
  .concat([...document.querySelectorAll('.jp-OutputArea-output')]
    .map(e => e.innerText).filter(t => t.includes('Error displaying widget')))
  .concat(window.__kernelErrors || [])"""

# The top-level outputs of the cells (not those nested in an Output widget).
TOP_OUTPUTS = ".jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output"

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
        print(f"{name} widget {number}: " + ", ".join(
            f"{kind} {'changed it' if changed else 'changed nothing'}"
            for kind, changed in results))
        if not any(changed for _, changed in results):
            root.scroll_into_view_if_needed()
            shot = save_screenshot(page, f"{path.stem}-widget{number}")
            tried = ", ".join(kind for kind, _ in results) or "none"
            problems.append(f"widget {number} of {len(roots)}: moving its controls "
                            f"({tried}) changed nothing it shows (screenshot: {shot})")
    errors = page.evaluate(JS_TRACEBACKS)
    if errors:
        problems.append("errors after moving the widgets:\n" + "\n---\n".join(errors))
    assert not problems, f"{name}:\n" + "\n".join(problems)


def exercise_widget(page, root) -> list[tuple[str, bool]]:
    """Move each control of one widget in turn; say which changed what the widget shows."""
    results = []
    controls = [(kind, el) for kind, sel in CONTROLS.items() for el in root.query_selector_all(sel)]
    for kind, control in controls[:MAX_CONTROLS_PER_WIDGET]:
        if not control.is_visible() or not control.is_enabled():
            continue
        before = page.evaluate(JS_SNAPSHOT, [root, control, CONTROL_BOX])
        control.scroll_into_view_if_needed()
        move(kind, control)
        changed = False
        idle_since = None
        deadline = time.monotonic() + CHANGE_TIMEOUT_S
        while time.monotonic() < deadline:
            page.wait_for_timeout(200)
            if page.evaluate(JS_SNAPSHOT, [root, control, CONTROL_BOX]) != before:
                changed = True
                break
            if page.evaluate(JS_BUSY):
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= SETTLE_S:
                break   # the kernel is done and nothing changed
        results.append((kind, changed))
        wait_until_idle(page, CHANGE_TIMEOUT_S, what=f"after moving a {kind}")
    return results


def move(kind: str, control) -> None:
    if kind == "slider":
        now = control.get_attribute("aria-valuenow")
        high = control.get_attribute("aria-valuemax")
        at_max = now is not None and high is not None and float(now) >= float(high)
        control.focus()
        control.press("Home" if at_max else "End")
    elif kind in ("dropdown", "select"):
        count = control.evaluate("s => s.options.length")
        current = control.evaluate("s => s.selectedIndex")
        if count > 1:
            control.select_option(index=(current + 1) % count)
    else:
        control.click()


def wait_until_idle(page, timeout: float, what: str) -> None:
    """Poll until the kernel has been idle, with no cell pending, for IDLE_FOR_S."""
    deadline = time.monotonic() + timeout
    idle_since = None
    while time.monotonic() < deadline:
        if page.evaluate(JS_BUSY):
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= IDLE_FOR_S:
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"the kernel was still busy after {timeout:.0f} s {what}")


def save_screenshot(page, stem: str) -> str:
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    target = artifacts / f"{stem}.png"
    page.screenshot(path=str(target))
    return target.relative_to(ROOT).as_posix()
