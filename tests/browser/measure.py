"""Timing a widget in the page: from the input event to the new picture painted.

Shared by the browser tests (tests/browser/test_widgets.py print these numbers and fail
only on a gross regression) and the browser benchmark (benchmarks/widgets_browser.py).
The page's own clock is used: a capture listener notes the first input event (keydown,
mousedown, input, change, click) after ``JS_ARM``; a MutationObserver on the widget
notes each new picture once painted (an ``img`` decoded then a frame drawn, or an
element's ``data-frame`` attribute moved by a canvas widget) and each text change,
ignoring the moved control's own readout. A busy line (``.dl-status``) that gets text
marks the change as one that said it was working.
"""
from __future__ import annotations

import re
import time

CHANGE_TIMEOUT_S = 60
QUIET_S = 0.8             # a change is done when the kernel is idle and nothing moved this long
TRAIN_WATCH_S = 3.0       # frames are counted this long after pressing Train / Play
TRAINING_LABEL = r"^\s*(train|play|run|start|animate|sweep|go)\b"
MAX_CONTROLS_PER_WIDGET = 12

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
CONTROL_BOX = (".widget-slider, .widget-dropdown, .widget-select, .widget-checkbox, "
               ".widget-radio, .widget-toggle-buttons, .widget-button, .widget-toggle-button")
TOP_OUTPUTS = ".jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output"

JS_READY = """(name) => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!w || !w.context || !w.context.path.endsWith(name) || !w.sessionContext) return false;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""
JS_BUSY = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  const pending = [...document.querySelectorAll('.jp-InputPrompt')]
    .some(p => p.textContent.includes('*'));
  return !k || k.status !== 'idle' || pending;
}"""

# Watch one widget: the time of the first input event after arming, and of every
# picture (img decoded, canvas frame) and text change painted after it.
JS_ARM = """([root, control, boxSel]) => {
  const own = control ? control.closest(boxSel) : null;
  const outside = (n) => !own || !own.contains(n.nodeType === 1 ? n : n.parentNode);
  if (window.__obs) window.__obs.disconnect();
  const rec = window.__rec = {input: null, pictures: [], texts: [], busy: false,
                              last: performance.now()};
  const painted = (list) => requestAnimationFrame(() => {
    const t = performance.now(); list.push(t); rec.last = t; });
  const onInput = () => { if (rec.input === null) rec.input = performance.now(); };
  for (const type of ['keydown', 'mousedown', 'input', 'change', 'click'])
    document.addEventListener(type, onInput, {capture: true, once: true});
  const seeImg = (img) => {
    rec.last = performance.now();
    const decoded = img.decode ? img.decode() : Promise.resolve();
    decoded.catch(() => {}).then(() => painted(rec.pictures));
  };
  window.__obs = new MutationObserver((muts) => {
    if (muts.some(m => outside(m.target))) rec.last = performance.now();
    for (const m of muts) {
      if (!outside(m.target)) continue;       // the control's own readout or label
      const el = m.target.nodeType === 1 ? m.target : m.target.parentNode;
      if (el && el.closest && el.closest('.dl-status') && el.innerText.trim()) rec.busy = true;
      if (m.type === 'attributes' && m.target.tagName === 'IMG' && m.attributeName === 'src') {
        seeImg(m.target); continue; }
      if (m.type === 'attributes' && m.attributeName === 'data-frame') {
        painted(rec.pictures); continue; }
      if (m.type === 'childList') {
        let img = false;
        m.addedNodes.forEach(n => { if (n.nodeType !== 1) return;
          const imgs = n.tagName === 'IMG' ? [n] : [...n.querySelectorAll('img')];
          imgs.forEach(i => { img = true; seeImg(i); });
          if (n.tagName === 'CANVAS' || n.querySelector('canvas')) {
            img = true; painted(rec.pictures); }
        });
        if (!img) painted(rec.texts);
        continue; }
      if (m.type === 'characterData') painted(rec.texts);
    }
  });
  window.__obs.observe(root, {subtree: true, childList: true, attributes: true,
                              attributeFilter: ['src', 'data-frame'], characterData: true});
}"""
JS_RECORD = "() => ({...window.__rec, now: performance.now()})"

JS_CONTROL_NAME = """([el, boxSel]) => {
  const box = el.closest(boxSel) || el;
  if (el.tagName === 'BUTTON') return (el.innerText || el.title || 'button').trim();
  const label = box.querySelector('.widget-label, label');
  return ((label && label.innerText) || el.getAttribute('aria-label') || '').trim();
}"""
JS_IMAGE_SCALES = """(root) => [...root.querySelectorAll('img')]
  .filter(i => i.naturalWidth > 0 && i.clientWidth > 0)
  .map(i => i.clientWidth / i.naturalWidth)"""
JS_FILEBROWSER = """() => window.jupyterapp.commands.execute('filebrowser:activate')"""


def wait_idle(page, timeout: float, what: str = "", idle_for: float = 1.0) -> None:
    """Poll until the kernel has been idle, with no cell pending, for ``idle_for`` s."""
    deadline = time.monotonic() + timeout
    idle_since = None
    while time.monotonic() < deadline:
        if page.evaluate(JS_BUSY):
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= idle_for:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the kernel was still busy after {timeout:.0f} s {what}".rstrip())


def wait_quiet(page, timeout: float) -> dict:
    """Until the kernel is idle and the widget has not changed for QUIET_S; the record."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.wait_for_timeout(100)
        rec = page.evaluate(JS_RECORD)
        if not page.evaluate(JS_BUSY) and rec["now"] - rec["last"] >= QUIET_S * 1000:
            return rec
    return page.evaluate(JS_RECORD) | {"timeout": True}


def move(kind: str, control, step: int = 0, *, far: bool = False) -> None:
    """Change a control the way a person does: a slider one step with the arrow keys (or,
    ``far``, to its other end with End / Home), a dropdown to its next option, anything
    else a click."""
    if kind == "slider":
        now, high = control.get_attribute("aria-valuenow"), control.get_attribute("aria-valuemax")
        at_max = now is not None and high is not None and float(now) >= float(high)
        control.focus()
        if far:
            control.press("Home" if at_max else "End")
        else:
            control.press("ArrowLeft" if at_max else "ArrowRight")
    elif kind in ("dropdown", "select"):
        count = control.evaluate("s => s.options.length")
        current = control.evaluate("s => s.selectedIndex")
        if count > 1:
            control.select_option(index=(current + 1) % count)
    else:
        control.click()


def time_change(page, root, kind, control, step: int = 0, *, far: bool = False) -> dict:
    """Move a control once; ``{"ms": input to the last picture (or text) painted, or None
    if nothing changed, "busy": whether it said it was working, "picture": a picture
    changed}``."""
    page.evaluate(JS_ARM, [root, control, CONTROL_BOX])
    move(kind, control, step, far=far)
    rec = wait_quiet(page, CHANGE_TIMEOUT_S)
    done = rec["pictures"] or rec["texts"]
    ms = (max(done) - rec["input"]) if done and rec["input"] is not None else None
    return {"ms": ms, "busy": rec["busy"], "picture": bool(rec["pictures"])}


def is_training(kind: str, name: str) -> bool:
    return kind == "button" and re.match(TRAINING_LABEL, name, re.I) is not None


def control_name(page, control, kind: str) -> str:
    return page.evaluate(JS_CONTROL_NAME, [control, CONTROL_BOX]) or kind


def time_training(page, root, control) -> dict:
    """Click Train/Play: first frame, frames a second while it plays, then Pause."""
    page.evaluate(JS_ARM, [root, control, CONTROL_BOX])
    control.click()
    page.wait_for_timeout(TRAIN_WATCH_S * 1000)
    rec = page.evaluate(JS_RECORD)
    frames = sorted(t for t in rec["pictures"] if t >= (rec["input"] or 0))
    label = control.inner_text().strip().lower()
    paused = False
    if (label.startswith("pause") or label.startswith("stop")) and control.is_enabled():
        try:                          # the run may end between reading the label and the click
            control.click(timeout=2_000)
            paused = True
        except Exception:             # Playwright's TimeoutError: it finished on its own
            pass
    final = wait_quiet(page, CHANGE_TIMEOUT_S * 3)
    frames_all = sorted(t for t in final["pictures"] if t >= (final["input"] or 0))
    first = (frames_all[0] - final["input"]) if frames_all and final["input"] else None
    fps = 0.0
    if len(frames) >= 2:
        fps = (len(frames) - 1) / ((frames[-1] - frames[0]) / 1000)
    elif frames_all:
        fps = 0.0
    return {"first_frame_ms": first, "fps": fps, "frames": len(frames_all),
            "live": len(frames) >= 2, "paused": paused,
            "done_ms": (max(frames_all) - final["input"]) if frames_all and final["input"]
            else None}




def activate_cell(page, root) -> None:
    """Make the widget's cell JupyterLab's active cell (a click on its input prompt), as
    it is once a person has clicked anything in it. The first press of a control in a
    cell that is not active took far longer than the next (a probe at load 10: 700-950 ms
    against 120-330), most likely JupyterLab making that cell the active one; timed with
    it, the first control of each widget would carry that one-off cost."""
    prompt = root.evaluate_handle(
        "e => { const c = e.closest('.jp-Cell'); return c && c.querySelector('.jp-InputPrompt'); }")
    element = prompt.as_element()
    if element is not None:
        element.click()
        page.wait_for_timeout(300)


def widget_controls(page, root, cap: int) -> list[tuple[str, object, str]]:
    """The visible controls of one widget as ``(kind, element, name)``, at most ``cap``:
    its Train / Play buttons first (so a widget with many settings still has its
    training timed), then the others in page order."""
    found = []
    for kind, sel in CONTROLS.items():
        for el in root.query_selector_all(sel):
            if el.is_visible():
                found.append((kind, el, control_name(page, el, kind)))
    found.sort(key=lambda c: not is_training(c[0], c[2]))     # stable: page order kept
    return found[:cap]
