"""Where a widget's time goes in the kernel: computing, drawing the figure, encoding it.

For each lesson: run it top to bottom in a fresh kernel (nbclient), then, in that same
kernel, find every widget the lesson displays and move each of its controls a few times
(a slider one step, a dropdown to the next option, a checkbox or a button a click),
timing each change from setting the value to the observers' return. Matplotlib's Agg
``draw`` and PIL's PNG ``save`` are timed around the same change (wrapped, the same way
for any version of the course), so each change splits into

    draw    rendering the figure (``Figure.draw``: once, or again for a tight bounding
            box; layout engines run inside it),
    encode  turning the pixels into PNG bytes,
    compute everything else: the model, the numbers, building the figure's artists.

Buttons that train or play (Train, Play, Run...) start work that runs on the kernel's
event loop as frames; their frames per second are measured in the browser
(``benchmarks/widgets_browser.py``) and skipped here.

    python benchmarks/widgets.py                                 # this checkout -> after
    python benchmarks/widgets.py --root /tmp/old --label before  # an older checkout
    python benchmarks/widgets.py --compare                       # widgets.md, before -> after

Writes ``benchmarks/widgets-<label>.json``; ``--compare`` writes ``benchmarks/widgets.md``.
About 3-5 minutes for every lesson; run it on a quiet machine (it prints the load).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TRAINING_LABEL = r"^\s*(train|play|run|start|animate|sweep|go)\b"
MAX_CONTROLS_PER_WIDGET = 12

# Runs in the lesson's kernel after the lesson: moves every control of the widgets whose
# model ids are in MODEL_IDS and prints one JSON line of timings.
DRIVER = r'''
import json as _json, re as _re, statistics as _st, time as _time
import ipywidgets as _W
from matplotlib.figure import Figure as _Fig
import PIL.Image as _PIL

_acc = {"draw": 0.0, "encode": 0.0, "depth": 0}
_orig_draw, _orig_save = _Fig.draw, _PIL.Image.save
def _draw(self, *a, **k):
    _acc["depth"] += 1
    t = _time.perf_counter()
    try:
        return _orig_draw(self, *a, **k)
    finally:
        _acc["depth"] -= 1
        if _acc["depth"] == 0:
            _acc["draw"] += _time.perf_counter() - t
def _save(self, *a, **k):
    t = _time.perf_counter()
    try:
        return _orig_save(self, *a, **k)
    finally:
        _acc["encode"] += _time.perf_counter() - t
_Fig.draw, _PIL.Image.save = _draw, _save
try:                                  # a course with the widgets core times its own pictures
    from dlcore.viz.widgets import TIMINGS as _VIEWS
except ImportError:
    _VIEWS = None

try:
    from ipywidgets.widgets.widget import _instances as _INST
except ImportError:
    _INST = _W.Widget.widgets

def _controls(w, out):
    if isinstance(w, (_W.IntSlider, _W.FloatSlider, _W.FloatLogSlider, _W.SelectionSlider,
                      _W.Dropdown, _W.Select, _W.Checkbox, _W.ToggleButton,
                      _W.ToggleButtons, _W.RadioButtons, _W.Button, _W.IntRangeSlider)):
        out.append(w)
    for c in getattr(w, "children", ()):
        _controls(c, out)
    return out

def _label(c):
    return (getattr(c, "description", "") or getattr(c, "tooltip", "") or type(c).__name__).strip()

def _move(c):
    if isinstance(c, _W.Button):
        c.click(); return
    if isinstance(c, (_W.Checkbox, _W.ToggleButton)):
        c.value = not c.value; return
    if isinstance(c, (_W.Dropdown, _W.Select, _W.ToggleButtons, _W.RadioButtons,
                      _W.SelectionSlider)):
        opts = list(c.options)
        if len(opts) > 1:
            c.index = (c.index + 1) % len(opts)
        return
    if isinstance(c, _W.IntRangeSlider):
        lo, hi = c.value
        c.value = (lo, hi - c.step) if hi - c.step > lo else (lo, c.max); return
    if isinstance(c, _W.FloatLogSlider):
        v = c.value * c.base ** c.step
        c.value = v if v <= c.base ** c.max else c.base ** c.min; return
    v = c.value + c.step
    c.value = v if v <= c.max else c.min

_result = []
for _n, _mid in enumerate(MODEL_IDS, start=1):
    _root = _INST.get(_mid)
    if _root is None:
        continue
    _entries = []
    for _c in _controls(_root, [])[:MAX_CONTROLS]:
        if getattr(_c, "disabled", False):
            continue
        _name = _label(_c)
        if isinstance(_c, _W.Button) and _re.match(TRAINING, _name, _re.I):
            _entries.append({"control": _name, "kind": "train"}); continue
        _rows = []
        for _ in range(REPEATS):
            _acc["draw"] = _acc["encode"] = 0.0
            _seen = len(_VIEWS) if _VIEWS is not None else 0
            _t = _time.perf_counter()
            _move(_c)
            _total = _time.perf_counter() - _t
            _draw, _encode = _acc["draw"], _acc["encode"]
            _bytes = None
            if _VIEWS is not None and len(_VIEWS) > _seen:
                # FigureView records its own draw (blits included, which never call
                # Figure.draw) and its encoding (its own PNG writer, not PIL's save)
                _new = list(_VIEWS)[_seen:]
                _draw = sum(r["draw_ms"] for r in _new) / 1e3
                _encode = sum(r["encode_ms"] for r in _new) / 1e3
                _bytes = sum(r["bytes"] for r in _new)
            _rows.append((_total, _draw, _encode, _bytes))
        _med = sorted(_rows, key=lambda r: r[0])[len(_rows) // 2]
        _entries.append({"control": _name, "kind": type(_c).__name__,
                         "total_ms": 1e3 * _med[0], "draw_ms": 1e3 * _med[1],
                         "encode_ms": 1e3 * _med[2],
                         "compute_ms": 1e3 * (_med[0] - _med[1] - _med[2]),
                         "bytes": _med[3]})
    _result.append({"widget": _n, "controls": _entries})
print("@@TIMINGS@@" + _json.dumps(_result))
'''


def displayed_widgets(nb) -> list[str]:
    """Model ids of the widgets a notebook's cells displayed, in order."""
    ids = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            view = data.get("application/vnd.jupyter.widget-view+json")
            if view and view.get("model_id"):
                ids.append(view["model_id"])
    return ids


def measure_lesson(path: Path, root: Path, repeats: int) -> dict:
    import time

    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root),
                                                                   os.environ.get("PYTHONPATH")])))
    env.pop("MPLBACKEND", None)
    t0 = time.monotonic()
    with client.setup_kernel(env=env):
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        run_all_s = time.monotonic() - t0
        ids = displayed_widgets(nb)
        code = (f"MODEL_IDS = {ids!r}\nREPEATS = {repeats}\nMAX_CONTROLS = "
                f"{MAX_CONTROLS_PER_WIDGET}\nTRAINING = {TRAINING_LABEL!r}\n" + DRIVER)
        cell = nbformat.v4.new_code_cell(code)
        nb.cells.append(cell)
        client.execute_cell(cell, len(nb.cells) - 1)
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    match = re.search(r"@@TIMINGS@@(.*)", text)
    if not match:
        raise RuntimeError(f"{path.name}: the driver printed no timings: {text[-2000:]}")
    return {"lesson": path.name, "run_all_s": run_all_s, "widgets": json.loads(match.group(1))}


def run(root: Path, label: str, pattern: str | None, repeats: int) -> Path:
    lessons = sorted((root / "notebooks").glob("*.ipynb"))
    if pattern:
        lessons = [p for p in lessons if pattern in p.name]
    print(f"load average before: {os.getloadavg()}")
    results = {"label": label, "root": str(root), "date": datetime.datetime.now().isoformat(),
               "load_before": os.getloadavg(), "lessons": []}
    for path in lessons:
        try:
            result = measure_lesson(path, root, repeats)
        except Exception as err:      # one broken lesson must not lose the others
            result = {"lesson": path.name, "error": f"{type(err).__name__}: {err}"[:2000]}
        results["lessons"].append(result)
        print(summary_line(result), flush=True)
    results["load_after"] = os.getloadavg()
    out = HERE / f"widgets-{label}.json"
    if pattern and out.exists():
        old = json.loads(out.read_text())
        keep = [x for x in old["lessons"] if x["lesson"] not in {p.name for p in lessons}]
        results["lessons"] = sorted(keep + results["lessons"], key=lambda x: x["lesson"])
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out.relative_to(ROOT)}")
    return out


def timed(data: dict) -> list[tuple[str, int, dict]]:
    return [(les["lesson"], w["widget"], c) for les in data["lessons"] if "widgets" in les
            for w in les["widgets"] for c in w["controls"] if "total_ms" in c]


def summary_line(result: dict) -> str:
    if "error" in result:
        return f"{result['lesson']}: ERROR {result['error'][:300]}"
    rows = timed({"lessons": [result]})
    if not rows:
        return f"{result['lesson']}: run-all {result['run_all_s']:.1f} s, no timed control"
    totals = [c["total_ms"] for _, _, c in rows]
    share = {k: sum(c[k] for _, _, c in rows) / max(sum(totals), 1e-9)
             for k in ("compute_ms", "draw_ms", "encode_ms")}
    return (f"{result['lesson']}: run-all {result['run_all_s']:.1f} s, {len(rows)} controls, "
            f"median {statistics.median(totals):.0f} ms, max {max(totals):.0f} ms "
            f"(compute {share['compute_ms']:.0%}, draw {share['draw_ms']:.0%}, "
            f"encode {share['encode_ms']:.0%})")


def compare() -> Path:
    before = json.loads((HERE / "widgets-before.json").read_text())
    after = json.loads((HERE / "widgets-after.json").read_text())

    def summary(data):
        rows = [c for _, _, c in timed(data)]
        total = sum(c["total_ms"] for c in rows) or 1.0
        meds = [c["total_ms"] for c in rows]
        return {"controls": len(rows), "median": statistics.median(meds) if meds else 0,
                "over_100": sum(m > 100 for m in meds), "over_300": sum(m > 300 for m in meds),
                **{k: sum(c[k] for c in rows) / total
                   for k in ("compute_ms", "draw_ms", "encode_ms")}}

    b, a = summary(before), summary(after)
    lines = ["# Widgets in the kernel: compute, draw, encode", "",
             "Measured by `benchmarks/widgets.py`: each lesson run in a fresh kernel, then "
             "every control of its widgets moved 3 times; the median change, split into "
             "Agg drawing, PNG encoding and the rest (compute). "
             f"Before: {before['date'][:16]}, load {before['load_before'][0]:.1f}; after: "
             f"{after['date'][:16]}, load {after['load_before'][0]:.1f}.", "",
             "| | before | after |", "| --- | ---: | ---: |",
             f"| controls timed | {b['controls']} | {a['controls']} |",
             f"| median change, ms | {b['median']:.0f} | {a['median']:.0f} |",
             f"| changes > 100 ms | {b['over_100']} | {a['over_100']} |",
             f"| changes > 300 ms | {b['over_300']} | {a['over_300']} |"]
    for key, what in [("compute_ms", "compute"), ("draw_ms", "draw"), ("encode_ms", "encode")]:
        lines.append(f"| share of time: {what} | {b[key]:.0%} | {a[key]:.0%} |")
    lines += ["", "## Per lesson, widget and control (ms: total = compute + draw + encode)", "",
              "| lesson | widget | control | before | after |",
              "| --- | ---: | --- | ---: | ---: |"]

    def cell(c):
        if c is None:
            return "-"
        return (f"{c['total_ms']:.0f} = {c['compute_ms']:.0f} + {c['draw_ms']:.0f} + "
                f"{c['encode_ms']:.0f}")

    old = {(les, w, c["control"]): c for les, w, c in timed(before)}
    new = {(les, w, c["control"]): c for les, w, c in timed(after)}
    for key in sorted(set(old) | set(new)):
        lines.append(f"| {key[0].removesuffix('.ipynb')} | {key[1]} | {key[2][:40]} | "
                     f"{cell(old.get(key))} | {cell(new.get(key))} |")
    out = HERE / "widgets.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose lessons to run")
    parser.add_argument("--label", default="after", help="names the JSON written")
    parser.add_argument("-k", dest="pattern", help="only lessons whose file name contains this")
    parser.add_argument("--repeats", type=int, default=3, help="changes per control")
    parser.add_argument("--compare", action="store_true",
                        help="write widgets.md from widgets-before.json and widgets-after.json")
    args = parser.parse_args(argv)
    if args.compare:
        compare()
        return
    sys.exit(0 if run(args.root.resolve(), args.label, args.pattern, args.repeats) else 1)


if __name__ == "__main__":
    main()
