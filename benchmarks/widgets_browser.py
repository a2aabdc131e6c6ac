"""How long a person waits on each widget, measured in a real JupyterLab in headless Chromium.

For each lesson (1280x900 window, the file browser open, as a learner on a laptop sees
it): open it, run all cells, wait until the kernel is idle, then for every control of
every widget: change it several times (a slider one step at a time, a dropdown to the
next option, a button or checkbox a click) and time, with the page's own clock, from
the input event to the last new picture painted (an ``img`` decoded and drawn, or a
canvas frame) once the kernel is idle again. Buttons that train or play (Train, Play,
Run...) are timed differently: the first frame after the click, then frames per second
over the next seconds, then Pause. The page also records, per lesson, the smallest
ratio of an image's shown width to its own width (a figure shrunk below 90% is hard to
read).

    python benchmarks/widgets_browser.py                         # every lesson, this checkout
    python benchmarks/widgets_browser.py --root /tmp/old --label before   # another checkout
    python benchmarks/widgets_browser.py -k 04_backward --repeats 5

Writes ``benchmarks/widgets-browser-<label>.json``; with both a ``before`` and an ``after``
JSON present, ``--compare`` writes ``benchmarks/widgets-browser.md`` (per lesson and
control, before -> after, and the summary the issue asks for). Takes 10-15 minutes for
every lesson. Run it on a quiet machine (it prints the load average).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from tests.browser import lab  # noqa: E402

VIEWPORT = {"width": 1280, "height": 900}
RUN_ALL_TIMEOUT_S = 240
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
  const rec = window.__rec = {input: null, pictures: [], texts: [], last: performance.now()};
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


def wait_idle(page, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    idle_since = None
    while time.monotonic() < deadline:
        if page.evaluate(JS_BUSY):
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= 1.0:
            return
        page.wait_for_timeout(100)
    raise TimeoutError(f"kernel still busy after {timeout:.0f} s")


def wait_quiet(page, timeout: float) -> dict:
    """Until the kernel is idle and the widget has not changed for QUIET_S; the record."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.wait_for_timeout(100)
        rec = page.evaluate(JS_RECORD)
        if not page.evaluate(JS_BUSY) and rec["now"] - rec["last"] >= QUIET_S * 1000:
            return rec
    return page.evaluate(JS_RECORD) | {"timeout": True}


def move(kind: str, control, step: int) -> None:
    if kind == "slider":
        now, high = control.get_attribute("aria-valuenow"), control.get_attribute("aria-valuemax")
        at_max = now is not None and high is not None and float(now) >= float(high)
        control.focus()
        control.press("ArrowLeft" if at_max else "ArrowRight")
    elif kind in ("dropdown", "select"):
        count = control.evaluate("s => s.options.length")
        current = control.evaluate("s => s.selectedIndex")
        if count > 1:
            control.select_option(index=(current + 1) % count)
    else:
        control.click()


def time_change(page, root, kind, control, step) -> float | None:
    page.evaluate(JS_ARM, [root, control, CONTROL_BOX])
    move(kind, control, step)
    rec = wait_quiet(page, CHANGE_TIMEOUT_S)
    if rec["input"] is None:
        return None
    done = rec["pictures"] or rec["texts"]
    return (max(done) - rec["input"]) if done else None


def time_training(page, root, control) -> dict:
    """Click Train/Play: first frame, frames a second while it plays, then Pause."""
    page.evaluate(JS_ARM, [root, control, CONTROL_BOX])
    control.click()
    page.wait_for_timeout(TRAIN_WATCH_S * 1000)
    rec = page.evaluate(JS_RECORD)
    frames = sorted(t for t in rec["pictures"] if t >= (rec["input"] or 0))
    label = control.inner_text().strip().lower()
    paused = False
    if label.startswith("pause") or label.startswith("stop"):
        control.click()
        paused = True
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


def measure_lesson(page, url: str, name: str, repeats: int) -> dict:
    page.goto(f"{url}/lab/tree/notebooks/{name}?reset")
    page.wait_for_function(JS_READY, arg=name, timeout=90_000)
    page.evaluate(JS_FILEBROWSER)
    t0 = time.monotonic()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    wait_idle(page, RUN_ALL_TIMEOUT_S)
    run_all_s = time.monotonic() - t0
    page.wait_for_timeout(500)
    roots = [r for r in page.query_selector_all(TOP_OUTPUTS)
             if any(r.query_selector(sel) for sel in CONTROLS.values())]
    widgets, scales = [], []
    for number, root in enumerate(roots, start=1):
        scales += page.evaluate(JS_IMAGE_SCALES, root)
        controls = [(k, el) for k, sel in CONTROLS.items() for el in root.query_selector_all(sel)]
        entries = []
        for kind, control in controls[:MAX_CONTROLS_PER_WIDGET]:
            if not control.is_visible() or not control.is_enabled():
                continue
            control.scroll_into_view_if_needed()
            name_ = page.evaluate(JS_CONTROL_NAME, [control, CONTROL_BOX]) or kind
            if kind == "button" and re.match(TRAINING_LABEL, name_, re.I):
                entries.append({"control": name_, "kind": "train",
                                **time_training(page, root, control)})
                continue
            times = []
            for step in range(repeats):
                if not control.is_enabled():
                    break
                t = time_change(page, root, kind, control, step)
                if t is not None:
                    times.append(t)
            entries.append({"control": name_, "kind": kind, "times_ms": times,
                            "median_ms": statistics.median(times) if times else None})
        widgets.append({"widget": number, "controls": entries})
        scales += page.evaluate(JS_IMAGE_SCALES, root)
    return {"lesson": name, "run_all_s": run_all_s, "widgets": widgets,
            "min_image_scale": min(scales) if scales else None}


def run(root: Path, label: str, pattern: str | None, repeats: int) -> Path:
    from playwright.sync_api import sync_playwright

    lessons = sorted(p.name for p in (root / "notebooks").glob("*.ipynb"))
    if pattern:
        lessons = [n for n in lessons if pattern in n]
    results = {"label": label, "root": str(root), "date": datetime.datetime.now().isoformat(),
               "load_before": os.getloadavg(), "lessons": []}
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as home, lab.LabServer(root, Path(home)) as url, \
            sync_playwright() as pw:
        browser = lab.launch_chromium(pw)
        for name in lessons:
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.set_default_timeout(30_000)
            try:
                result = measure_lesson(page, url, name, repeats)
            except Exception as err:      # one broken lesson must not lose the others
                result = {"lesson": name, "error": f"{type(err).__name__}: {err}"}
            finally:
                context.close()
                lab.shutdown_kernels(url)
            results["lessons"].append(result)
            print(summary_line(result), flush=True)
        browser.close()
    results["load_after"] = os.getloadavg()
    out = HERE / f"widgets-browser-{label}.json"
    if pattern and out.exists():          # a partial run updates those lessons only
        old = json.loads(out.read_text())
        keep = [x for x in old["lessons"] if x["lesson"] not in lessons]
        results["lessons"] = sorted(keep + results["lessons"], key=lambda x: x["lesson"])
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out.relative_to(ROOT)}")
    return out


def summary_line(result: dict) -> str:
    if "error" in result:
        return f"{result['lesson']}: ERROR {result['error']}"
    meds = [c["median_ms"] for w in result["widgets"] for c in w["controls"]
            if c.get("median_ms") is not None]
    trains = [c for w in result["widgets"] for c in w["controls"] if c["kind"] == "train"]
    text = (f"{result['lesson']}: run-all {result['run_all_s']:.1f} s, {len(meds)} controls, "
            f"median {statistics.median(meds):.0f} ms, max {max(meds):.0f} ms" if meds
            else f"{result['lesson']}: no timed control")
    for c in trains:
        first = c["first_frame_ms"]
        text += (f"; {c['control']}: first frame {first:.0f} ms, {c['fps']:.1f} fps"
                 if first is not None else f"; {c['control']}: no frame")
    return text


def all_controls(data: dict) -> list[tuple[str, int, dict]]:
    return [(les["lesson"], w["widget"], c) for les in data["lessons"] if "widgets" in les
            for w in les["widgets"] for c in w["controls"]]


def stats(data: dict) -> dict:
    meds = [c["median_ms"] for _, _, c in all_controls(data) if c.get("median_ms") is not None]
    trains = [c for _, _, c in all_controls(data) if c["kind"] == "train"]
    return {"controls": len(meds), "widgets": sum(len(les.get("widgets", ()))
                                                  for les in data["lessons"]),
            "median": statistics.median(meds) if meds else None,
            "over_150": sum(m > 150 for m in meds), "over_300": sum(m > 300 for m in meds),
            "over_500": sum(m > 500 for m in meds), "over_1000": sum(m > 1000 for m in meds),
            "trains": len(trains)}


def num(v) -> str:
    return f"{v:.0f}" if v is not None else "-"


def pct(v) -> str:
    return f"{v:.0%}" if v is not None else "-"


def compare(before_path: Path, after_path: Path) -> Path:
    before, after = json.loads(before_path.read_text()), json.loads(after_path.read_text())
    b, a = stats(before), stats(after)
    lines = ["# Widgets in the browser: before and after", "",
             f"Measured by `benchmarks/widgets_browser.py` in JupyterLab + headless Chromium "
             f"(1280x900, file browser open). Before: {before['date'][:16]} (load "
             f"{before['load_before'][0]:.1f}), after: {after['date'][:16]} (load "
             f"{after['load_before'][0]:.1f}). A control's time is the median over its changes "
             "from the input event to the last new picture painted.", "",
             "| | before | after |", "| --- | ---: | ---: |"]
    for key, what in [("widgets", "widgets"), ("controls", "controls timed"),
                      ("median", "median, ms"), ("over_150", "controls > 150 ms"),
                      ("over_300", "controls > 300 ms"), ("over_500", "controls > 500 ms"),
                      ("over_1000", "controls > 1 s"), ("trains", "train / play buttons")]:
        lines.append(f"| {what} | {num(b[key])} | {num(a[key])} |")
    lines += ["", "## Per lesson and control (ms; training: first frame, frames/s)", "",
              "| lesson | widget | control | before | after |",
              "| --- | ---: | --- | ---: | ---: |"]

    def describe(c):
        if c is None:
            return "-"
        if c["kind"] == "train":
            first = c["first_frame_ms"]
            return (f"first {first:.0f}, {c['fps']:.0f} fps" if first is not None else "no frame")
        return f"{c['median_ms']:.0f}" if c.get("median_ms") is not None else "-"

    old = {(les, w, c["control"]): c for les, w, c in all_controls(before)}
    new = {(les, w, c["control"]): c for les, w, c in all_controls(after)}
    keys = sorted(set(old) | set(new))
    for key in keys:
        lines.append(f"| {key[0].removesuffix('.ipynb')} | {key[1]} | {key[2][:40]} | "
                     f"{describe(old.get(key))} | {describe(new.get(key))} |")
    lines += ["", "## Smallest image scale per lesson (shown width / own width)", "",
              "| lesson | before | after |", "| --- | ---: | ---: |"]
    sb = {x["lesson"]: x.get("min_image_scale") for x in before["lessons"]}
    sa = {x["lesson"]: x.get("min_image_scale") for x in after["lessons"]}
    for name in sorted(set(sb) | set(sa)):
        short = name.removesuffix(".ipynb")
        lines.append(f"| {short} | {pct(sb.get(name))} | {pct(sa.get(name))} |")
    out = HERE / "widgets-browser.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose lessons to serve")
    parser.add_argument("--label", default="after", help="names the JSON written")
    parser.add_argument("-k", dest="pattern", help="only lessons whose file name contains this")
    parser.add_argument("--repeats", type=int, default=3, help="changes per control")
    parser.add_argument("--compare", action="store_true",
                        help="write widgets-browser.md from the before and after JSON files")
    args = parser.parse_args(argv)
    if args.compare:
        compare(HERE / "widgets-browser-before.json", HERE / "widgets-browser-after.json")
        return
    run(args.root.resolve(), args.label, args.pattern, args.repeats)


if __name__ == "__main__":
    main()
