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
read). Each widget's cell is made the active cell before its controls are timed (the
first press in a cell that is not active pays a one-off cost, most likely JupyterLab
activating the cell).

    python benchmarks/widgets_browser.py                         # every lesson, this checkout
    python benchmarks/widgets_browser.py --root /tmp/old --label before   # another checkout
    python benchmarks/widgets_browser.py -k 04_backward --repeats 9
    python benchmarks/widgets_browser.py --label run2                # a second run, later
    python benchmarks/widgets_browser.py --merge run1 run2 --label after  # pool them

Writes ``benchmarks/widgets-browser-<label>.json``; with both a ``before`` and an ``after``
JSON present, ``--compare`` writes ``benchmarks/widgets-browser.md`` (per lesson and
control, before -> after, and the summary the issue asks for). Takes 15-20 minutes for
every lesson. Run it on a quiet machine (it prints the load average). These 2-core VMs
also change speed by 30-60% within an hour, with no load to show it: each lesson
records a machine probe (a fixed piece of Python, timed just before it), and runs made
at different times are best pooled with ``--merge`` (each control's median over the
changes of every run).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from tests.browser import lab  # noqa: E402
from tests.browser.measure import (  # noqa: E402
    CONTROLS,
    JS_FILEBROWSER,
    JS_IMAGE_SCALES,
    JS_READY,
    MAX_CONTROLS_PER_WIDGET,
    TOP_OUTPUTS,
    activate_cell,
    is_training,
    time_change,
    time_training,
    wait_idle,
    widget_controls,
)

VIEWPORT = {"width": 1280, "height": 900}
RUN_ALL_TIMEOUT_S = 240


def machine_probe_ms() -> float:
    """How fast this machine is right now: the best of 5 runs of a fixed piece of Python
    (about 25 ms on a fast day here). These VMs' speed drifts by 30-60% within an hour,
    every lesson's timings with it, so each lesson records the probe taken before it."""
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        total = 0
        for i in range(300_000):
            total += i * i % 7
        best = min(best, time.perf_counter() - t0)
    return 1e3 * best


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
        entries = []
        activate_cell(page, root)
        for kind, control, name_ in widget_controls(page, root, MAX_CONTROLS_PER_WIDGET):
            if not control.is_enabled():
                continue
            control.scroll_into_view_if_needed()
            if is_training(kind, name_):
                entries.append({"control": name_, "kind": "train",
                                **time_training(page, root, control)})
                continue
            times, busy = [], False
            for step in range(repeats):
                if not control.is_enabled():
                    break
                change = time_change(page, root, kind, control, step)
                busy = busy or change["busy"]
                if change["ms"] is not None:
                    times.append(change["ms"])
            entries.append({"control": name_, "kind": kind, "times_ms": times, "busy": busy,
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
            probe = machine_probe_ms()
            try:
                result = measure_lesson(page, url, name, repeats) | {"probe_ms": probe}
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
    if "probe_ms" in result:
        text += f" (machine probe {result['probe_ms']:.0f} ms)"
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
             f"{after['load_before'][0]:.1f})"
             + (f", {len(after['merged_from'])} runs pooled ("
                + ", ".join(d[11:16] for d in after['dates']) + ")"
                if after.get("merged_from") else "")
             + ". A control's time is the median over its changes "
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


def merge(labels: list[str], label: str) -> Path:
    """Pool several runs into one: each control's changes from every run (its median
    over all of them), each training button's median first frame and frames a second.
    One run on these VMs can fall in a slow stretch; several runs spread over time
    give a median that does not."""
    runs = [json.loads((HERE / f"widgets-browser-{name}.json").read_text()) for name in labels]
    lessons = {}
    for data in runs:
        for les in data["lessons"]:
            if "widgets" not in les:
                continue
            into = lessons.setdefault(les["lesson"], {"lesson": les["lesson"], "widgets": {},
                                                      "run_all_s": [], "probe_ms": [],
                                                      "min_image_scale": []})
            into["run_all_s"].append(les["run_all_s"])
            if les.get("probe_ms") is not None:
                into["probe_ms"].append(les["probe_ms"])
            if les.get("min_image_scale") is not None:
                into["min_image_scale"].append(les["min_image_scale"])
            for w in les["widgets"]:
                controls = into["widgets"].setdefault(w["widget"], {})
                seen_here: dict = {}
                for c in w["controls"]:         # two handles of one range slider: two
                    k = seen_here[c["control"]] = seen_here.get(c["control"], 0) + 1
                    controls.setdefault((c["control"], k), []).append(c)
    merged = []
    for les in sorted(lessons.values(), key=lambda x: x["lesson"]):
        widgets = []
        for number, controls in sorted(les["widgets"].items()):
            entries = []
            for (name, _), seen in controls.items():
                if seen[0]["kind"] == "train":
                    firsts = [c["first_frame_ms"] for c in seen if c["first_frame_ms"] is not None]
                    entries.append({"control": name, "kind": "train", "runs": len(seen),
                                    "first_frame_ms": statistics.median(firsts) if firsts else None,
                                    "fps": statistics.median(c["fps"] for c in seen),
                                    "frames": max(c["frames"] for c in seen),
                                    "live": all(c["live"] for c in seen),
                                    "paused": any(c["paused"] for c in seen),
                                    "per_run": [[c["first_frame_ms"], c["fps"]] for c in seen]})
                    continue
                times = [t for c in seen for t in c["times_ms"]]
                entries.append({"control": name, "kind": seen[0]["kind"], "times_ms": times,
                                 "busy": any(c["busy"] for c in seen), "runs": len(seen),
                                 "median_ms": statistics.median(times) if times else None,
                                 "per_run_median_ms": [c["median_ms"] for c in seen]})
            widgets.append({"widget": number, "controls": entries})
        merged.append({"lesson": les["lesson"], "widgets": widgets,
                       "run_all_s": statistics.median(les["run_all_s"]),
                       "probe_ms": les["probe_ms"],
                       "min_image_scale": min(les["min_image_scale"], default=None)})
    result = {"label": label, "merged_from": labels, "root": runs[0]["root"],
              "date": runs[-1]["date"], "load_before": runs[0]["load_before"],
              "dates": [data["date"] for data in runs], "lessons": merged}
    out = HERE / f"widgets-browser-{label}.json"
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out.relative_to(ROOT)} from {', '.join(labels)}")
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose lessons to serve")
    parser.add_argument("--label", default="after", help="names the JSON written")
    parser.add_argument("-k", dest="pattern", help="only lessons whose file name contains this")
    parser.add_argument("--repeats", type=int, default=5,
                        help="changes per control (5: on a 2-core VM a median of 3 moved a "
                             "control by 100 ms from one run to the next)")
    parser.add_argument("--windowing", help="JupyterLab's notebook windowing mode (default: "
                        "JupyterLab's own, contentVisibility, what a learner has; 'none' lays "
                        "out every cell)")
    parser.add_argument("--merge", nargs="+", metavar="LABEL",
                        help="pool these runs' JSON files into the one --label names")
    parser.add_argument("--compare", action="store_true",
                        help="write widgets-browser.md from the before and after JSON files")
    args = parser.parse_args(argv)
    if args.merge:
        merge(args.merge, args.label)
        return
    if args.compare:
        compare(HERE / "widgets-browser-before.json", HERE / "widgets-browser-after.json")
        return
    if args.windowing:
        lab.LAB_SETTINGS["@jupyterlab/notebook-extension/tracker.jupyterlab-settings"] = {
            "windowingMode": args.windowing}
    run(args.root.resolve(), args.label, args.pattern, args.repeats)


if __name__ == "__main__":
    main()
