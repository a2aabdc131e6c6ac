"""Lesson 12's first application: draw a digit, and a CNN reads it.

    from dlcore.viz import draw
    model, scores = draw.train_digit_cnn()             # 8x8 digits, a few seconds
    image = draw.pen_image(draw.template("3"), intensity=1.0, noise=0.0)
    draw.prediction_figure(image, draw.probabilities(model, image))
    draw.digit_pad(model)                              # the widget: an 8x8 grid to click

The pad is a grid of 8x8 toggle buttons: a pressed button is a cell of ink.
``pen_image`` turns the pressed cells into the image the network reads (ink
times the pen's intensity, plus seeded noise, clipped to [0, 1], the scale of
``load_digits``). ``probability_bars`` is shared with the other applications.
"""
from __future__ import annotations

from types import SimpleNamespace

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .. import data, nn, optim, train
from ..nn.functional import softmax
from ..rng import manual_seed
from . import plots
from .widgets import FigureView

# Digits drawn on the 8x8 grid ('#' = ink), to start the pad from: the average
# training image of each class, inked where it is darker than 0.45.
TEMPLATES = {
    "0": ["...##...", "..####..", "..#..#..", "..#..#..", "..#..#..", "..#..#..",
          "..####..", "...##..."],
    "1": ["...##...", "...###..", "...##...", "..###...", "...##...", "...##...",
          "...###..", "...###.."],
    "2": ["..###...", "..###...", "..#.#...", "....#...", "...##...", "...##...",
          "..#####.", "..#####."],
    "3": ["..####..", "..####..", "....##..", "...##...", "....##..", ".....#..",
          "....##..", "..####.."],
    "4": ["....#...", "...##...", "..##....", "..#..#..", ".#####..", "..####..",
          "...##...", "...##..."],
    "5": ["..####..", "..###...", "..#.....", "..###...", "..####..", "....##..",
          "...##...", "..###..."],
    "6": ["...##...", "..##....", "..##....", "..##....", "..####..", "..##.##.",
          "..##.##.", "...###.."],
    "7": ["...###..", "..####..", ".....#..", "....##..", "..####..", "...##...",
          "...#....", "...#...."],
    "8": ["...##...", "..####..", "..####..", "..####..", "...##...", "..####..",
          "..####..", "...##..."],
    "9": ["...##...", "..####..", "..#.##..", "..####..", ".....#..", ".....#..",
          ".....#..", "...###.."],
}


def template(name: str) -> np.ndarray:
    """One of ``TEMPLATES`` as an (8, 8) boolean array of ink cells."""
    if name not in TEMPLATES:
        raise ValueError(f"template: choose one of {sorted(TEMPLATES)}, got {name!r}")
    return np.array([[ch == "#" for ch in row] for row in TEMPLATES[name]])


def pen_image(cells: np.ndarray, intensity: float = 1.0, noise: float = 0.0,
              seed: int = 0) -> np.ndarray:
    """The (8, 8) float32 image of the pressed ``cells`` (8, 8): ink of the
    given intensity, plus Gaussian noise of std ``noise`` (same seed, same
    noise), clipped to [0, 1] like the training digits."""
    cells = np.asarray(cells, dtype=bool)
    if cells.shape != (8, 8):
        raise ValueError(f"pen_image expected an (8, 8) grid of cells, got {cells.shape}")
    if not 0.0 <= intensity <= 1.0 or noise < 0:
        raise ValueError(f"pen_image: intensity in [0, 1] and noise >= 0, got "
                         f"{intensity}, {noise}")
    image = cells * float(intensity)
    if noise > 0:
        image = image + noise * np.random.default_rng(seed).standard_normal((8, 8))
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def digit_cnn() -> nn.Sequential:
    """A small CNN for (N, 1, 8, 8) digits: 8 filters 3x3, pool, two Linear layers."""
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(8 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))


def train_digit_cnn(epochs: int = 10, seed: int = 0) -> tuple[nn.Sequential, dict[str, float]]:
    """Train ``digit_cnn`` on the 8x8 handwritten digits (Adam, lr 5e-3, batches
    of 64). Returns the model (in eval mode) and its validation and test accuracy."""
    manual_seed(seed)
    digits = data.load_digits(images=True, seed=seed)
    train_loader, val_loader, test_loader = digits.loaders(batch_size=64, seed=seed)
    model = digit_cnn()
    train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=5e-3),
              train_loader, epochs=epochs, progress=False,
              input_grad=False)      # skip dL/d(image): nothing uses it, and it is faster
    model.eval()
    scores = {"val_accuracy": train.evaluate(model, val_loader)["accuracy"],
              "test_accuracy": train.evaluate(model, test_loader)["accuracy"]}
    return model, scores


def drawings_figure(drawn: np.ndarray, real: np.ndarray) -> Figure:
    """Two rows of ten 8x8 digits: the ``drawn`` starting drawings (10, 8, 8) above
    the ``real`` test digits (10, 8, 8), each titled. One image of all twenty, a
    white line between them (one ``imshow``, not twenty axes: quick to draw)."""
    drawn, real = np.asarray(drawn), np.asarray(real)
    if drawn.shape != (10, 8, 8) or real.shape != (10, 8, 8):
        raise ValueError(f"drawings_figure expects two (10, 8, 8) stacks, got {drawn.shape} "
                         f"and {real.shape}")
    step, below = 8 + 2, 8 + 4                  # a digit and its gap: across, and down
    mosaic = plots.mosaic(np.concatenate([drawn, real]), 10, gap=(4, 2))  # titles between rows
    with plots.style():
        fig, ax = plots.subplots("wide")
        fig.set_size_inches(10.0, 2.5)                      # "wide", two rows of digits
        ax.imshow(mosaic, cmap=matplotlib.colormaps["gray_r"].with_extremes(bad="white"),
                  vmin=0, vmax=1, interpolation="nearest")
        ax.axis("off")
        for row, name in enumerate(("drawn", "real")):
            for k in range(10):
                ax.text(k * step + 3.5, row * below - 0.8, f"{name} {k}", ha="center",
                        va="bottom", fontsize=9)
    return plots.finish(fig)


def probabilities(model: nn.Module, image: np.ndarray) -> np.ndarray:
    """The model's probabilities (10,) for one (8, 8) image (softmax of its scores)."""
    x = np.asarray(image, np.float32).reshape(1, 1, 8, 8)
    return softmax(train.predict(model, x), dim=-1)[0]


def probability_bars(ax, probs: np.ndarray, names: list[str] | None = None,
                     title: str | None = None):
    """Bars of class probabilities, the most likely class highlighted and named
    in the title (shared by the applications that classify). Returns the bars,
    for ``update_probability_bars``."""
    probs = np.asarray(probs, dtype=float)
    names = names if names is not None else [str(k) for k in range(len(probs))]
    bars = ax.bar(range(len(probs)), probs, color="#a0aec0")
    ax.set_xticks(range(len(probs)), names)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("probability")
    update_probability_bars(ax, bars, probs, names, title)
    return bars


def update_probability_bars(ax, bars, probs: np.ndarray, names: list[str],
                            title: str | None = None) -> None:
    """New heights for the bars ``probability_bars`` drew, the best one coloured and
    named in the title: what a widget changes instead of drawing new bars."""
    probs = np.asarray(probs, dtype=float)
    best = int(np.argmax(probs))
    for k, (bar, p) in enumerate(zip(bars, probs, strict=True)):
        bar.set_height(p)
        bar.set_color(plots.CLASS_COLORS[1] if k == best else "#a0aec0")
    ax.set_title(title or f"prediction: {names[best]} ({probs[best]:.0%})")


def prediction_figure(image: np.ndarray, probs: np.ndarray) -> Figure:
    """Left: the 8x8 image the network reads. Right: its ten probabilities.
    ``fig.parts`` holds the image and the bars, for ``update_prediction``."""
    with plots.style():
        fig, (ax_img, ax_bar) = plots.subplots("wide", 1, 2, width_ratios=[1, 1.6])
        shown = ax_img.imshow(image, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax_img.set_xticks([])
        ax_img.set_yticks([])
        ax_img.set_title("what the network reads (8x8)")
        bars = probability_bars(ax_bar, probs)
        ax_bar.set_xlabel("digit")
    fig.parts = SimpleNamespace(image=shown, bars=bars, ax_bar=ax_bar)
    return plots.finish(fig)


def update_prediction(fig: Figure, image: np.ndarray, probs: np.ndarray) -> None:
    """Show a new image and its probabilities in a ``prediction_figure``."""
    fig.parts.image.set_data(image)
    update_probability_bars(fig.parts.ax_bar, fig.parts.bars, probs,
                            [str(k) for k in range(len(probs))])


# A pressed toggle button has the class "mod-active": in the pad, that is ink.
INK_CSS = ("<style>.dl-pad .widget-toggle-button.mod-active"
           "{background-color:#2c5282;color:white}</style>")


def digit_pad(model: nn.Module, start: str = "3"):
    """The widget: click cells of an 8x8 grid to draw; the CNN's probabilities
    follow every click. Sliders: pen intensity and noise; a dropdown starts
    from a drawn template; a button clears the grid.

    The figure is drawn once and then changed in place (``update_prediction``), a
    few tens of milliseconds a click. A pressed cell is coloured by a style rule
    (``INK_CSS``), not by a message per cell: a template or Clear changes up to 64
    cells, and each message costs the browser time. The returned VBox has ``.cells``
    (the 64 toggle buttons, row by row), ``.view`` (the picture) and ``.controls``."""
    import contextlib
    import time

    import ipywidgets as widgets

    style = plots.slider_style()
    cells = [widgets.ToggleButton(value=False, tooltip=f"row {k // 8 + 1}, column {k % 8 + 1}: "
                                  "click to add or remove ink",
                                  layout=widgets.Layout(width="30px", height="30px"))
             for k in range(64)]
    grid = widgets.GridBox(cells, layout=widgets.Layout(
        grid_template_columns="repeat(8, 32px)", grid_gap="1px", width="265px"))
    grid.add_class("dl-pad")
    intensity = widgets.FloatSlider(value=1.0, min=0.1, max=1.0, step=0.05,
                                    description="pen intensity", style=style)
    noise = widgets.FloatSlider(value=0.0, min=0.0, max=0.6, step=0.05,
                                description="noise (std)", style=style)
    start_from = widgets.Dropdown(options=["blank", *TEMPLATES], value=start,
                                  description="start from template", style=style)
    clear = widgets.Button(description="clear the grid",
                           tooltip="remove all the ink from the grid")
    state = {"loading": False}

    def image_now(pressed: np.ndarray | None = None) -> np.ndarray:
        if pressed is None:
            pressed = np.array([c.value for c in cells]).reshape(8, 8)
        return pen_image(pressed, intensity.value, noise.value)

    image = image_now()
    fig = prediction_figure(image, probabilities(model, image))
    # only the image, the bars and the title change: each click redraws just those
    view = FigureView(fig, animated=[fig.parts.image, *fig.parts.bars, fig.parts.ax_bar.title],
                      name="draw.digit_pad")

    def redraw(change=None, pressed: np.ndarray | None = None) -> None:
        if state["loading"]:
            return
        t0 = time.perf_counter()
        image = image_now(pressed)
        update_prediction(view.fig, image, probabilities(model, image))
        owner = change.get("owner") if isinstance(change, dict) else None
        view.frame(control=getattr(owner, "description", "") or "cell",
                   compute_ms=1e3 * (time.perf_counter() - t0))

    def load(name: str) -> None:
        # The picture first, then the cells: the new reading is on its way before the
        # browser re-renders the (up to 64) buttons that change.
        pattern = template(name) if name in TEMPLATES else np.zeros((8, 8), bool)
        redraw(pressed=pattern)
        state["loading"] = True
        try:
            changed = [(cell, bool(ink)) for cell, ink in zip(cells, pattern.ravel(),
                                                               strict=True)
                       if cell.value != bool(ink)]
            with contextlib.ExitStack() as held:     # each cell's message sent at the end
                for cell, _ in changed:
                    held.enter_context(cell.hold_sync())
                for cell, ink in changed:
                    cell.value = ink
        finally:
            state["loading"] = False

    for control in (*cells, intensity, noise):
        control.observe(redraw, names="value")
    start_from.observe(lambda change: load(change["new"]), names="value")
    clear.on_click(lambda _button: load("blank"))
    load(start)
    controls = widgets.VBox([intensity, noise, start_from, clear])
    hint = widgets.HTML(INK_CSS + "click the cells to draw (a dark cell is ink)")
    box = widgets.VBox([widgets.HBox([widgets.VBox([hint, grid]), controls]), view.widget])
    box.cells, box.grid, box.view = cells, grid, view
    box.controls = {"intensity": intensity, "noise": noise, "start": start_from, "clear": clear}
    return box
