"""One way to build a widget: controls, a picture that answers in a blink, a busy state,
and live frames for anything that trains.

Every widget in the course is a thin layer over plain functions a test can call:
``draw(**values) -> Figure`` makes the picture for given control values, and,
for speed, ``update(fig, **values)`` changes the artists of a figure ``draw`` made
(new line data, a new image, a new title) instead of building a new one.

    box = widgets.interactive_figure(draw, {"w": slider, "b": slider}, update=update)

Where the time goes, and what this module does about it (measured in a real
JupyterLab, see ``benchmarks/widgets.md``):

- Turning a figure into an image is most of a redraw. ``display(fig)`` in an
  ``Output`` widget asks for a tight bounding box and lets constrained layout run
  again, each a full extra draw, then sends the image three times (to the browser,
  back with the Output's state, the echo). Here a figure is laid out once, its layout
  frozen, drawn once per change with Agg and sent once as PNG bytes to an
  ``ipywidgets.Image`` (``FigureView``).
- Keeping the figure and changing its artists skips building axes, ticks and text.
- For frames of a live picture whose axes do not move (a loss curve with fixed
  limits, a decision boundary), ``FigureView(fig, animated=[...])`` draws everything
  else once and then only the moving artists over a saved background (blitting).
- A change that takes longer than ``BUSY_AFTER_S`` greys the picture and disables the
  controls with a line of status, so a new control value never sits beside a stale
  picture without saying so.
- ``Player`` runs training (or a sweep) as a task on the kernel's event loop, a few
  steps between frames, so the kernel still hears Pause while it plays, and the
  picture moves at up to ``fps`` frames a second.

All of it is plain ipywidgets 8 (``Image``, ``Button``, ``HTML``), so it works wherever
they do: JupyterLab, Jupyter Notebook 7, VS Code.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import html
import io
import struct
import time
import zlib
from collections.abc import Callable, Iterable
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dlcore.viz import textcache

BUSY_AFTER_S = 0.3      # a change slower than this shows "working" while it computes
FPS = 25                # frames a second a Player aims for
IDLE_SHARE = 0.25       # of each frame's period a Player leaves idle: the kernel hears
                        # Pause and sends the frame; the browser and server get the CPU
PNG_LEVEL = 1           # zlib level: 1 encodes several times faster than 6, ~10% larger

# Kernel-side timings of every redraw (for benchmarks/widgets.py): one dict per
# picture sent, {"widget", "control", "compute_ms", "draw_ms", "encode_ms", "bytes"}.
TIMINGS: collections.deque = collections.deque(maxlen=10_000)

STALE_CSS = ("<style>.dl-stale{opacity:.45;transition:opacity .08s}"
             ".dl-status{color:#4a5568;font-size:12px;min-height:1.4em}</style>")


@functools.cache
def _blas():
    from threadpoolctl import ThreadpoolController  # comes with scikit-learn

    return ThreadpoolController()


def one_blas_thread():
    """A ``with`` block in which NumPy's matrix products use one thread.

    For the small products of a widget's training (lesson 10: 50 digits times 256
    units) splitting them over two threads costs more than it saves, and on a busy
    two-core machine the waiting threads spin against everything else (an epoch took
    5 ms on one thread, 50-300 ms on two, measured under load). The results are the
    same numbers either way."""
    try:
        return _blas().limit(limits=1, user_api="blas")
    except Exception:                     # no threadpoolctl, or a BLAS it cannot drive
        return contextlib.nullcontext()


def slider_style() -> dict:
    """Let a control's description take the room it needs."""
    return {"description_width": "initial"}


def encode_png(canvas: FigureCanvasAgg, format: str = "png") -> bytes:
    """The canvas's pixels as PNG bytes (RGB, lossless), or, ``format="jpeg"``, as a JPEG
    of quality 90: several times faster to encode, for live frames where a few soft
    edges go unseen."""
    if format == "jpeg":
        from PIL import Image

        width, height = canvas.get_width_height(physical=True)
        rgba = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw",
                                "RGBA", 0, 1)
        out = io.BytesIO()
        rgba.convert("RGB").save(out, format="jpeg", quality=90)
        return out.getvalue()
    return png_bytes(np.asarray(canvas.buffer_rgba())[:, :, :3])


def png_bytes(rgb: np.ndarray) -> bytes:
    """A (height, width, 3) uint8 image as a PNG file, written directly: each row gets
    PNG's filter 0 ("none"), then zlib at level ``PNG_LEVEL``. Pillow tries the filters
    row by row, which takes most of its time on a figure; without them a figure (large
    flat areas) encodes about twice as fast and is no larger (lossless either way)."""
    height, width = rgb.shape[:2]
    rows = np.empty((height, 1 + 3 * width), np.uint8)
    rows[:, 0] = 0                                           # byte 0 of a row: its filter
    pixels = rows[:, 1:].reshape(height, width, 3)
    for channel in range(3):     # one channel at a time: 7x faster than copying
        pixels[..., channel] = rgb[..., channel]     # 3-byte pixels out of the RGBA buffer

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)   # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_LEVEL)) + chunk(b"IEND", b""))


@contextlib.contextmanager
def unhinted_text():
    """Draw text without FreeType's hinting inside this block. Text is most of a widget's
    redraw (matplotlib 3.11 shapes and renders it glyph by glyph), and hinting (snapping
    glyph outlines to the pixel grid) costs 10-45% of a draw for no visible gain at the
    course's 90 dpi. Every FigureView draw runs in it."""
    hinting = matplotlib.rcParams["text.hinting"]
    matplotlib.rcParams["text.hinting"] = "none"
    try:
        yield
    finally:
        matplotlib.rcParams["text.hinting"] = hinting


def freeze_layout(fig: Figure) -> None:
    """Lay the figure out once (constrained or tight layout runs in this draw), then keep
    those positions: later draws skip the layout engine, roughly halving them."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    with unhinted_text():
        canvas.draw()
    if fig.get_layout_engine() is not None:
        fig.set_layout_engine("none")
    for ax in fig.axes:
        # Each draw would otherwise measure every axis's tick labels again to place the
        # title (about 30% of a redraw); the title stays where this draw put it.
        # (What ``set_title(..., y=1.0)`` does; matplotlib has no public switch.)
        if hasattr(ax, "_autotitlepos"):
            ax._autotitlepos = False


class FigureView:
    """A matplotlib figure shown as a PNG in an ``ipywidgets.Image``, redrawn in place.

    ``view.widget`` is the Image to put in a box; ``view.show()`` draws the figure and
    sends it; ``view.fig`` may be swapped for a new figure of the same size
    (``view.set_figure(fig)``).

    Blitting: with ``animated`` artists, ``view.frame()`` redraws only those over a
    saved background. ``show()`` draws everything else (the background, saved), then
    them; call it again whenever anything else changes (limits, titles, other
    artists). An axis whose limits move may itself be animated (``ax.yaxis``: its
    ticks and labels are redrawn each frame) as long as nothing in the background
    depends on those limits.

    ``layers=[settings, moving]`` blits in several levels instead, each list of
    artists drawn over the ones before, in the order given (an axis before the curves
    on top of it): ``refresh()`` redraws every layer over the background (a control
    that changes a title, a legend, an axis's limits), ``refresh(k)`` layers k and up,
    ``frame()`` only the top one (a live frame: a moving dot, a growing curve).
    ``animated=arts`` is ``layers=[arts]``.

    ``format="jpeg"`` sends JPEGs (live training frames: encoding is ~3 ms instead of
    ~20 for a wide figure); ``show``, ``refresh`` and ``frame`` also take ``format=``
    for one picture (JPEG while it moves, PNG once it settles).
    """

    def __init__(self, fig: Figure, *, animated: Iterable = (), layers: Iterable = (),
                 name: str = "", format: str = "png"):
        import ipywidgets as widgets

        _check_format(format)
        _load_jpeg_encoder()
        self.name = name
        self.format = format
        self.widget = widgets.Image(format=format, layout=widgets.Layout(
            max_width="100%", height="auto", object_fit="contain"))
        self.fig = fig
        self.layers = [list(layer) for layer in layers]
        if animated:
            if self.layers:
                raise ValueError("FigureView: give animated= or layers=, not both")
            self.layers = [list(animated)]
        self.animated = [artist for layer in self.layers for artist in layer]
        self._saved: list = []          # _saved[k]: the pixels under layer k
        self.set_figure(fig)

    def set_figure(self, fig: Figure) -> None:
        self.fig = fig
        for artist in self.animated:
            artist.set_animated(True)
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)
        textcache.cache_text(fig.canvas.get_renderer())   # tick labels etc. rendered once
        freeze_layout(fig)          # its draw leaves the background (no animated layers)
        self.canvas = fig.canvas
        self._background_drawn = True
        self._saved = []

    def show(self, *, control: str = "", compute_ms: float = 0.0,
             format: str | None = None) -> bytes:
        """Draw the whole figure and send it; returns the image bytes."""
        t0 = time.perf_counter()
        with unhinted_text():
            # The canvas may still hold a drawn background nothing has changed since
            # (the first show after set_figure): matplotlib marks the figure stale when
            # any artist that is not animated changes.
            if not (self._background_drawn and not self.fig.stale):
                self.canvas.draw()                    # everything but the animated layers
            self._saved = []
            self._draw_layers(0)
        return self._send(t0, control, compute_ms, format)

    def refresh(self, layer: int = 0, *, control: str = "", compute_ms: float = 0.0,
                format: str | None = None) -> bytes:
        """Redraw layers ``layer`` and up over what lies under them (saved by the last
        ``show`` or ``refresh``); a full ``show`` if nothing is saved yet."""
        if not 0 <= layer < max(1, len(self.layers)):
            raise ValueError(f"FigureView {self.name!r}: no layer {layer} "
                             f"(it has {len(self.layers)})")
        if len(self._saved) <= layer:
            return self.show(control=control, compute_ms=compute_ms, format=format)
        t0 = time.perf_counter()
        self.canvas.restore_region(self._saved[layer])
        del self._saved[layer + 1:]
        with unhinted_text():
            self._draw_layers(layer)
        return self._send(t0, control, compute_ms, format)

    def frame(self, *, control: str = "", compute_ms: float = 0.0,
              format: str | None = None) -> bytes:
        """Redraw only the top layer (the animated artists) over the rest."""
        return self.refresh(max(0, len(self.layers) - 1), control=control,
                            compute_ms=compute_ms, format=format)

    def _draw_layers(self, first: int) -> None:
        """Draw layers ``first``.. over the canvas, saving the pixels under each."""
        self._background_drawn = False              # the canvas now shows more than that
        renderer = self.canvas.get_renderer()
        for k, layer in enumerate(self.layers[first:], start=first):
            if k == len(self._saved):
                self._saved.append(self.canvas.copy_from_bbox(self.fig.bbox))
            for artist in layer:
                if artist.get_visible():
                    artist.draw(renderer)

    def _send(self, t0: float, control: str, compute_ms: float,
              format: str | None = None) -> bytes:
        format = _check_format(format or self.format)
        t1 = time.perf_counter()
        data = encode_png(self.canvas, format)
        t2 = time.perf_counter()
        if format == self.widget.format:
            self.widget.value = data
        else:
            with self.widget.hold_sync():              # one message: the bytes and their kind
                self.widget.format = format
                self.widget.value = data
        TIMINGS.append({"widget": self.name, "control": control, "compute_ms": compute_ms,
                        "draw_ms": 1e3 * (t1 - t0), "encode_ms": 1e3 * (t2 - t1),
                        "bytes": len(data)})
        return data


_jpeg_loaded = False


def _load_jpeg_encoder() -> None:
    """Pillow loads its JPEG encoder the first time it is used (~50 ms): do it when the
    first view is built, not in a widget's first live frame."""
    global _jpeg_loaded
    if not _jpeg_loaded:
        from PIL import Image

        Image.preinit()
        _jpeg_loaded = True


def _check_format(format: str) -> str:
    if format not in ("png", "jpeg"):
        raise ValueError(f"FigureView: format must be 'png' or 'jpeg', got {format!r}")
    return format


class Busy:
    """Grey a picture, disable controls and say what is happening while a slow change
    computes: ``with busy("training 3 models..."):``. Cheap changes never call it, so
    fast widgets do not flicker."""

    def __init__(self, controls: Iterable, pictures: Iterable = ()):
        import ipywidgets as widgets

        self.controls = [c for c in controls if hasattr(c, "disabled")]
        self.pictures = list(pictures)
        self.status = widgets.HTML(STALE_CSS, layout=widgets.Layout(min_height="1.4em"))
        self.status.add_class("dl-status")
        self.active = False

    def __call__(self, message: str = "working…"):
        return _BusyBlock(self, message)

    def set(self, active: bool, message: str = "") -> None:
        self.active = active
        for control in self.controls:
            control.disabled = active
        for picture in self.pictures:
            (picture.add_class if active else picture.remove_class)("dl-stale")
        self.status.value = STALE_CSS + (f"<span>{message}</span>" if message else "")


class _BusyBlock:
    def __init__(self, busy: Busy, message: str):
        self.busy, self.message = busy, message

    def __enter__(self):
        self.busy.set(True, self.message)
        return self.busy

    def __exit__(self, *exc):
        self.busy.set(False)
        return False


def _values(controls: dict) -> dict:
    return {name: control.value for name, control in controls.items()}


def _rows(controls: Iterable, columns: int):
    import ipywidgets as widgets

    boxes = list(controls)
    return [widgets.HBox(boxes[i:i + columns]) for i in range(0, len(boxes), columns)]


def interactive_figure(draw: Callable[..., Figure], controls: dict, *,
                       update: Callable[..., Any] | None = None, columns: int = 3,
                       continuous: bool | None = None, height: str | None = None,
                       busy_message: str = "redrawing…", name: str | None = None,
                       animated: Callable[[Figure], Iterable] | None = None,
                       format: str = "png"):
    """A widget: ``controls`` (name -> ipywidget) above the picture ``draw(**values)``,
    redrawn whenever a control changes.

    ``draw`` is the plain function a test calls. With ``update(fig, **values)``, the
    first figure is kept and changed in place on every move (much faster than a new
    figure). ``continuous``: sliders redraw while dragged (True), on release (False), or,
    by default, while dragged only if the first redraw took under 60 ms. A change that
    took more than ``BUSY_AFTER_S`` last time shows ``busy_message`` and greys the
    picture while it computes. ``animated(fig) -> artists``: the only artists ``update``
    changes; then each change redraws just those over a saved background (blitting),
    except when ``update`` returns True (it changed something else too: limits, a
    colour bar), which redraws the whole figure. ``format="jpeg"`` sends JPEGs (a
    smooth colour surface: several times faster to encode than PNG, the loss unseen).
    ``height`` is accepted for old callers and ignored:
    the picture keeps its own size. The returned VBox has ``.view`` (the FigureView),
    ``.controls`` and ``.redraw()``.
    """
    import ipywidgets as widgets

    label = name or getattr(draw, "__qualname__", "figure")
    t0 = time.perf_counter()
    fig = draw(**_values(controls))
    compute_ms = 1e3 * (time.perf_counter() - t0)
    view = FigureView(fig, name=label, animated=animated(fig) if animated else (),
                      format=format)
    t1 = time.perf_counter()
    view.show(control="(first)", compute_ms=compute_ms)
    first_s = time.perf_counter() - t0
    busy = Busy(controls.values(), [view.widget])
    state = {"last_s": first_s if update is None else time.perf_counter() - t1}

    def redraw(change=None):
        control = ""
        if change is not None:
            owner = change.get("owner") if isinstance(change, dict) else None
            control = next((k for k, c in controls.items() if c is owner), "")
        slow = state["last_s"] > BUSY_AFTER_S
        if slow:
            busy.set(True, busy_message)
        try:
            start = time.perf_counter()
            values = _values(controls)
            full = True
            if update is not None:
                full = update(view.fig, **values) is True
            else:
                new = draw(**values)
                view.animated = list(animated(new)) if animated else []
                view.set_figure(new)
            computed = time.perf_counter()
            if update is not None and animated is not None and not full:
                view.frame(control=control, compute_ms=1e3 * (computed - start))
            else:
                view.show(control=control, compute_ms=1e3 * (computed - start))
            state["last_s"] = time.perf_counter() - start
        finally:
            if slow:
                busy.set(False)

    if continuous is None:
        continuous = state["last_s"] < 0.06
    for control in controls.values():
        if hasattr(control, "continuous_update"):
            control.continuous_update = continuous
        control.observe(redraw, names="value")

    box = widgets.VBox([*_rows(controls.values(), columns), busy.status, view.widget])
    box.view, box.controls, box.redraw, box.busy = view, controls, redraw, busy
    return box


class Player:
    """Play, pause, step and reset for anything that advances in steps: training a model
    epoch by epoch, a sweep point by point.

    ``step()`` advances one step and returns False when there is nothing left to do;
    ``frame()`` draws the current state; ``reset()`` starts again (then draws). Play runs
    the steps as a task on the kernel's event loop, with as many steps between frames as
    fit in one frame's time (``1 / fps``), so the picture moves at up to ``fps`` frames
    a second and the kernel still hears Pause. The first frame comes right after the
    first step. Without a running event loop (a test, a script), ``play()`` runs to the
    end (or ``max_steps``) at once, drawing every ``frame_every`` steps.

    ``max_steps_per_frame`` caps the steps between frames (for steps so cheap that one
    frame's time would hold the whole run: an animation revealing a path point by
    point). ``rearm()`` says there is something to play again after ``done`` (a control
    changed what it plays) without resetting it.

    ``player.widget`` is an HBox: Play/Pause, Step, Reset and a status line.
    ``player.status_text`` is a callable giving the status (e.g. "epoch 12, loss 0.31").
    """

    def __init__(self, step: Callable[[], bool | None], frame: Callable[[], Any],
                 reset: Callable[[], Any] | None = None, *, fps: float = FPS,
                 status: Callable[[], str] | None = None, play_label: str = "Train",
                 controls: Iterable = (), max_steps_per_frame: int | None = None):
        import ipywidgets as widgets

        self.step_fn, self.frame_fn, self.reset_fn = step, frame, reset
        self.fps = fps
        self.max_steps_per_frame = max_steps_per_frame
        self.status_fn = status
        self.play_label = play_label
        self.task = None
        self._starting = False            # inside play(), before the task exists
        self.done = False
        self.error = ""                   # what stopped the last run, if a step raised
        self.frames = 0
        self.steps = 0
        self.frame_times: collections.deque = collections.deque(maxlen=200)
        self.locked = [c for c in controls if hasattr(c, "disabled")]
        width = widgets.Layout(width="auto", min_width="7.5em")
        self.play_button = widgets.Button(description=play_label, icon="play",
                                          button_style="success", layout=width,
                                          tooltip=f"{play_label}: run until done or paused")
        self.step_button = widgets.Button(description="Step", icon="step-forward",
                                          layout=width, tooltip="one step, then pause")
        self.reset_button = widgets.Button(description="Reset", icon="undo", layout=width,
                                           tooltip="start again from the beginning")
        self.status = widgets.HTML(layout=widgets.Layout(margin="0 0 0 10px"))
        self.play_button.on_click(lambda _: self.toggle())
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self.reset())
        buttons = [self.play_button, self.step_button]
        if reset is not None:
            buttons.append(self.reset_button)
        self.widget = widgets.HBox([*buttons, self.status])
        self._show_status()

    # -- what the buttons do ---------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self.task is not None and not self.task.done()

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    @property
    def live(self) -> bool:
        """Whether the frame being drawn is one of a run (play's first frame included,
        drawn before the player counts as ``playing``), not a Step's, a Reset's or a
        setting's: a widget may send live frames as JPEGs and the others as PNGs."""
        return self.playing or self._starting

    def play(self, max_steps: int | None = None, frame_every: int = 1) -> None:
        """Start playing (on the kernel's event loop), or, without one, run to the end."""
        if self.done:
            return
        self._starting = True
        try:
            self._play(max_steps, frame_every)
        finally:
            self._starting = False

    def _play(self, max_steps: int | None, frame_every: int) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            n = 0
            while not self.done and (max_steps is None or n < max_steps):
                self._advance()
                n += 1
                if n % frame_every == 0 or self.done:
                    self._frame()
            return
        self.error = ""
        try:                              # the first step and frame at once, in the click's
            self._advance()               # own handler: a task would wait for the loop
            self._frame()
        except Exception as err:
            self._stopped(err)
            self._set_playing(False)
            raise
        if self.done:
            self._set_playing(False)
            return
        self.task = loop.create_task(self._run())

    def pause(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None
        self._set_playing(False)

    def step(self) -> None:
        self.pause()
        if not self.done:
            self._advance()
            self._frame()

    def reset(self) -> None:
        self.pause()
        self.done = False
        self.error = ""
        self.steps = 0
        if self.reset_fn is not None:
            self.reset_fn()
        self._frame()

    def rearm(self) -> None:
        """Playable again (not done), keeping the current state: after a control changed
        what the player plays."""
        self.done = False
        self._set_playing(self.playing)

    def finish(self) -> None:
        """Nothing to play (done), keeping the current state: what the player would play
        is already finished (a sweep shown from its cache). The counterpart of ``rearm``."""
        self.pause()
        self.done = True
        self._set_playing(False)

    # -- the loop --------------------------------------------------------------------
    async def _run(self) -> None:
        period = 1.0 / self.fps
        try:
            # The buttons turn to Pause and the controls lock one frame after the first
            # picture: a browser that gets them together re-renders the controls before
            # it paints the picture (100-200 ms of JupyterLab layout).
            await asyncio.sleep(period)
            self._set_playing(True)
            step_s = frame_s = 0.0           # what a step and a frame took, lately
            while not self.done:
                start = time.perf_counter()
                # Steps fill the period but for the frame and a margin (the kernel hears
                # Pause and sends the frame in it), and a step that would not end in time
                # waits for the next frame: a slow step (a slow machine) keeps the
                # frame rate and takes fewer steps a frame rather than fewer frames.
                budget = period * (1 - IDLE_SHARE) - frame_s
                steps = 0
                while not self.done:
                    t = time.perf_counter()
                    self._advance()
                    now = time.perf_counter()
                    step_s = now - t if step_s == 0 else 0.7 * step_s + 0.3 * (now - t)
                    steps += 1
                    if (now - start + step_s > budget
                            or steps == self.max_steps_per_frame):
                        break
                t = time.perf_counter()
                self._frame()
                now = time.perf_counter()
                frame_s = now - t if frame_s == 0 else 0.7 * frame_s + 0.3 * (now - t)
                await asyncio.sleep(max(0.0, period - (now - start)))
        except asyncio.CancelledError:
            raise
        except Exception as err:
            self._stopped(err)
            raise
        finally:
            self.task = None
            self._set_playing(False)

    def _stopped(self, err: Exception) -> None:
        self.error = f"stopped: {type(err).__name__}: {err}"

    def _advance(self) -> None:
        more = self.step_fn()
        self.steps += 1
        if more is False:
            self.done = True

    def _frame(self) -> None:
        self.frame_fn()
        self.frames += 1
        self.frame_times.append(time.perf_counter())
        self._show_status()

    def fps_measured(self) -> float:
        """Frames a second over the last frames drawn (0 if fewer than two)."""
        t = list(self.frame_times)
        return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else 0.0

    def _set_playing(self, playing: bool) -> None:
        self.play_button.description = "Pause" if playing else self.play_label
        self.play_button.icon = "pause" if playing else "play"
        self.play_button.button_style = "warning" if playing else "success"
        self.play_button.disabled = self.done and not playing
        self.step_button.disabled = playing or self.done
        for control in self.locked:
            control.disabled = playing
        self._show_status()

    def _show_status(self) -> None:
        text = self.status_fn() if self.status_fn else f"step {self.steps}"
        if self.done:
            text += " · done"
        if self.error:                    # a step raised: say so until the next run
            text += f" · <b style='color:#c53030'>{html.escape(self.error)}</b>"
        self.status.value = f"<span style='font-family:monospace'>{text}</span>"


def find_control(root, description: str):
    """The control under ``root`` (a widget box) whose description (or a button's
    label) contains ``description``, case-insensitive: how tests find a control by what
    it says rather than by its position. Raises if none or several match."""
    found = []

    def walk(w):
        desc = getattr(w, "description", None)
        if isinstance(desc, str) and description.lower() in desc.lower():
            found.append(w)
        for child in getattr(w, "children", ()):
            walk(child)
        for attr in ("widget",):
            inner = getattr(w, attr, None)
            if inner is not None and inner is not w and hasattr(inner, "children"):
                walk(inner)

    walk(root)
    if len(found) != 1:
        names = [getattr(w, "description", "?") for w in found]
        raise LookupError(f"find_control: {len(found)} controls match {description!r}"
                          + (f": {names}" if names else ""))
    return found[0]


def image_array(view_or_box) -> np.ndarray:
    """The picture a widget currently shows, decoded to an (H, W, 3) uint8 array: what
    a test compares before and after moving a control."""
    from PIL import Image

    view = getattr(view_or_box, "view", view_or_box)
    data = view.widget.value if isinstance(view, FigureView) else view.value
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
