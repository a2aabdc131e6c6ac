"""Lesson 11 (augmentation and transfer): two ways to learn from few labels.

Augmentation makes more training images out of the ones you have (a shifted,
slightly rotated 3 is still a 3). Transfer learning borrows layers trained on
another, larger data set and fine-tunes them on the few labels, with some
layers frozen (``requires_grad_(False)``: the optimizer skips them).

    from dlcore.viz import transfer
    variants = transfer.augment_examples(images, "rotation", 0.5, seed=0)  # (N, 1 + V, H, W)
    transfer.augmentation_figure(images, "rotation", 0.5)       # the explorer's picture
    X, y = transfer.per_class(X_train, y_train, 10, seed=0)     # 10 labelled images a class
    history = transfer.train_on_few(model, X, y, steps=200, lr=1e-2)
    sweep = transfer.label_sweep(make_model, pretrained.state_dict(), X_pool, y_pool,
                                 X_test, y_test, counts=(1, 2, 5, 10, 20), freeze_first=6)
    transfer.label_sweep_figure(sweep, count=5)                  # accuracy against labels
    transfer.seed_comparison_figure(losses, accuracies)          # one experiment, several seeds

Widgets: ``augmentation_explorer(images)`` (the grid drawn as one image, redrawn in
place) and ``label_sweep_explorer(sweep, setup)`` (a slider over the label counts; with
``setup``, the sweep's own arguments, it runs the sweep again live with other steps,
learning rate or draws, each point appearing as it finishes: ``label_sweep_runs``).
"""
from __future__ import annotations

import collections
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator

from .. import data, nn, optim, train
from ..rng import manual_seed
from . import plots


@dataclass(frozen=True)
class Augmentation:
    """One augmentation on a 0-to-1 strength dial: ``make(strength, generator)``
    builds the ``dlcore.data`` transform; ``describe(strength)`` says what it does."""
    make: Callable[[float, np.random.Generator | None], Callable[[np.ndarray], np.ndarray]]
    describe: Callable[[float], str]


# Strength 1 is the largest setting offered; each maps it to the transform's own unit.
AUGMENTATIONS: dict[str, Augmentation] = {
    "shift": Augmentation(
        lambda s, g: data.RandomShift(max_shift=round(6 * s), generator=g),
        lambda s: f"RandomShift(max_shift={round(6 * s)}): moved up to {round(6 * s)} px"),
    "rotation": Augmentation(
        lambda s, g: data.RandomRotation(degrees=45 * s, generator=g),
        lambda s: f"RandomRotation(degrees={45 * s:.0f}): turned up to ±{45 * s:.0f}°"),
    "horizontal flip": Augmentation(
        lambda s, g: data.RandomHorizontalFlip(p=s, generator=g),
        lambda s: f"RandomHorizontalFlip(p={s:.2f}): mirrored with probability {s:.2f}"),
    "noise": Augmentation(
        lambda s, g: data.GaussianNoise(std=0.5 * s, clip=(0.0, 1.0), generator=g),
        lambda s: f"GaussianNoise(std={0.5 * s:.2f}): grain added to every pixel"),
    "crop": Augmentation(
        lambda s, g: data.RandomCrop(padding=round(6 * s), generator=g),
        lambda s: f"RandomCrop(padding={round(6 * s)}): pad, then cut the original size"),
}


def _augmentation(kind: str) -> Augmentation:
    if kind not in AUGMENTATIONS:
        raise ValueError(f"augmentation must be one of {list(AUGMENTATIONS)}, got {kind!r}")
    return AUGMENTATIONS[kind]


def augment_examples(images: np.ndarray, kind: str, strength: float, seed: int = 0,
                     variants: int = 7) -> np.ndarray:
    """Each image beside ``variants`` random augmentations of it.

    ``images`` (N, 1, H, W) or (N, H, W) in [0, 1]; returns (N, 1 + variants, H, W):
    column 0 the originals, then one column per draw of the transform (its own
    generator, seeded, so the same ``seed`` gives the same pictures).
    """
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"augmentation strength must be in [0, 1], got {strength}")
    X = np.asarray(images, dtype=np.float32)
    if X.ndim == 4:
        if X.shape[1] != 1:
            raise ValueError(f"augment_examples expects grey images (N, 1, H, W), got {X.shape}")
        X = X[:, 0]
    if X.ndim != 3:
        raise ValueError(f"augment_examples expects images (N, H, W) or (N, 1, H, W), "
                         f"got {X.shape}")
    transform = _augmentation(kind).make(strength, np.random.default_rng(seed))
    columns = [X] + [transform(X) for _ in range(variants)]
    return np.stack(columns, axis=1)


def mosaic(grid: np.ndarray, gap: int = 2) -> np.ndarray:
    """(R, C, H, W) images as one (R*(H+gap)-gap, C*(W+gap)-gap) picture, white gaps
    between them: one image to draw instead of R*C axes (a redraw ten times cheaper)."""
    rows, cols, h, w = grid.shape
    out = np.ones((rows * (h + gap) - gap, cols * (w + gap) - gap), dtype=np.float32)
    for r in range(rows):
        for c in range(cols):
            out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = grid[r, c]
    return out


def _mosaic_figure(grid: np.ndarray, column_labels: Sequence[str], row_labels: Sequence[str],
                   title: str) -> Figure:
    """A grid of grey images (R, C, H, W) drawn as one image in one axes, columns
    labelled above, rows on the left. Its size grows with the grid (0.9 in a cell, as
    ``plots.image_grid``, less if that would be wider than the "wide" size), so it does
    not use one of the fixed ``plots.SIZES``."""
    rows, cols, h, w = grid.shape
    gap = 2
    left = 1.3 if any(row_labels) else 0.1
    cell = min(0.9, (plots.SIZES["wide"][0] - left - 0.1) / cols)   # at most 900 px wide
    width, height = cell * cols + left + 0.1, cell * rows + 0.65
    with plots.style():
        fig = plt.figure(figsize=(width, height), dpi=plots.DPI)
        ax = fig.add_axes((left / width, 0.08 / height, cell * cols / width,
                           cell * rows / height))
        image = ax.imshow(mosaic(grid, gap), cmap="gray", vmin=0.0, vmax=1.0,
                          interpolation="nearest", aspect="auto")
        ax.axis("off")
        for c, label in enumerate(column_labels):
            ax.text(c * (w + gap) + w / 2, -1.5, label, ha="center", va="bottom", fontsize=9)
        for r, label in enumerate(row_labels):
            ax.text(-2, r * (h + gap) + h / 2, label, ha="right", va="center", fontsize=9)
        heading = fig.suptitle(title, y=1 - 0.02 / height, va="top")
    fig.parts = SimpleNamespace(image=image, title=heading, gap=gap)
    return plots.finish(fig)


def image_rows(rows: np.ndarray, column_labels: Sequence[str] = (),
               row_labels: Sequence[str] = (), title: str = "") -> Figure:
    """Grey images in rows, (R, C, H, W) or (R, C, 1, H, W) in [0, 1], drawn as one
    picture (cheap to draw, unlike R*C axes), columns labelled above, rows on the left."""
    rows = np.asarray(rows, dtype=np.float32)
    if rows.ndim == 5 and rows.shape[2] == 1:
        rows = rows[:, :, 0]
    if rows.ndim != 4:
        raise ValueError(f"image_rows expects images (R, C, H, W), got {rows.shape}")
    return _mosaic_figure(rows, list(column_labels) or [""] * rows.shape[1],
                          list(row_labels) or [""] * rows.shape[0], title)


def augmentation_figure(images: np.ndarray, kind: str = "rotation", strength: float = 0.5,
                        seed: int = 0, variants: int = 7) -> Figure:
    """A grid: one row per image, the original first, then its augmented variants,
    titled with the transform the code would use. ``update_augmentation_figure``
    redraws it for another augmentation, strength or draw."""
    grid = augment_examples(images, kind, strength, seed, variants)
    labels = ["original"] + [f"variant {c}" for c in range(1, grid.shape[1])]
    fig = _mosaic_figure(grid, labels, [""] * len(grid), _augmentation(kind).describe(strength))
    fig.parts.images, fig.parts.variants = np.asarray(images), variants
    return fig


def update_augmentation_figure(fig: Figure, kind: str = "rotation", strength: float = 0.5,
                               seed: int = 0) -> None:
    """New augmented variants in an ``augmentation_figure``, in place."""
    parts = fig.parts
    grid = augment_examples(parts.images, kind, strength, seed, parts.variants)
    parts.image.set_data(mosaic(grid, parts.gap))
    parts.title.set_text(_augmentation(kind).describe(strength))


def augmentation_gallery(image: np.ndarray, strength: float = 0.5, seed: int = 0,
                         variants: int = 5) -> Figure:
    """Every augmentation of ``AUGMENTATIONS`` on one image (H, W) or (1, H, W):
    one row each, the original first."""
    image = np.asarray(image, dtype=np.float32).reshape(1, *np.shape(image)[-2:])
    rows = np.stack([augment_examples(image, kind, strength, seed, variants)[0]
                     for kind in AUGMENTATIONS])
    labels = ["original"] + [f"variant {c}" for c in range(1, variants + 1)]
    return _mosaic_figure(rows, labels, list(AUGMENTATIONS),
                          f"each augmentation at strength {strength:g}")


def augmentation_explorer(images: np.ndarray, seed: int = 0):
    """Pick an augmentation and its strength (and a new draw); see a grid of
    augmented copies of ``images`` (a few digits)."""
    import ipywidgets as widgets

    style = plots.slider_style()
    controls = {
        "kind": widgets.Dropdown(options=list(AUGMENTATIONS), value="rotation",
                                 description="augmentation", style=style,
                                 tooltip="which change to apply to every digit"),
        "strength": widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05,
                                        description="strength", style=style,
                                        tooltip="0: no change; 1: the largest setting offered"),
        "seed": widgets.IntSlider(value=seed, min=0, max=20, description="random draw",
                                  style=style, tooltip="other random numbers: other variants"),
    }

    def draw(kind, strength, seed):
        return augmentation_figure(images, kind, strength, seed)

    return plots.interactive_figure(draw, controls, update=update_augmentation_figure,
                                    columns=3, name="augmentation_explorer")


def flip_figure(photo: np.ndarray, digits: np.ndarray, labels: Sequence) -> Figure:
    """A photo and some digits, each beside its mirror image: a mirrored temple
    is still a temple; a mirrored 3 is no longer a 3."""
    digits = np.asarray(digits).reshape(len(digits), *np.shape(digits)[-2:])
    with plots.style():
        # A strip of small images (not one of the fixed sizes): the photo and its mirror,
        # then each digit and its mirror in the 43% of the width that is left.
        fig, axes = plt.subplots(1, 2 + 2 * len(digits), figsize=(10.0, 2.3), dpi=plots.DPI)
        step = 0.427 / (2 * len(digits))
        _place(fig, [*PHOTO_AXES, *((0.569 + step * k, 0.278, 0.94 * step, 0.437)
                                    for k in range(2 * len(digits)))])
        axes[0].imshow(photo)
        axes[0].set_title("photo")
        axes[1].imshow(data.hflip(photo[None].transpose(0, 3, 1, 2))[0].transpose(1, 2, 0))
        axes[1].set_title("mirrored: still a temple")
        for i, (digit, label) in enumerate(zip(digits, labels, strict=True)):
            a, b = axes[2 + 2 * i], axes[3 + 2 * i]
            a.imshow(digit, cmap="gray")
            a.set_title(f"a {label}")
            b.imshow(data.hflip(digit), cmap="gray")
            b.set_title(f"not a {label}", color=plots.CLASS_COLORS[1])
        for ax in axes:
            ax.axis("off")
    return plots.finish(fig)


# -- few labels --------------------------------------------------------------------------

def per_class(X: np.ndarray, y: np.ndarray, count: int, seed: int = 0
              ) -> tuple[np.ndarray, np.ndarray]:
    """``count`` examples of every class, drawn at random (seeded) from (X, y):
    a small labelled set such as one person could label in minutes."""
    y = np.asarray(y)
    g = np.random.default_rng(seed)
    picks = []
    for c in np.unique(y):
        pool = np.flatnonzero(y == c)
        if count > len(pool):
            raise ValueError(f"per_class: class {c} has {len(pool)} examples, "
                             f"{count} asked for")
        picks.append(g.choice(pool, count, replace=False))
    idx = np.concatenate(picks)
    return X[idx], y[idx]


def _few_loader(X: np.ndarray, y: np.ndarray, steps: int, batch_size: int, seed: int,
                transform=None) -> tuple[data.DataLoader, int]:
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=min(batch_size, len(X)),
                             shuffle=True, seed=seed, transform=transform)
    return loader, max(1, math.ceil(steps / len(loader)))


def train_on_few(model: nn.Module, X: np.ndarray, y: np.ndarray, *, steps: int = 200,
                 lr: float = 1e-2, transform: Callable[[np.ndarray], np.ndarray] | None = None,
                 val: tuple[np.ndarray, np.ndarray] | None = None, batch_size: int = 32,
                 seed: int = 0) -> train.History:
    """Adam on (X, y) for about ``steps`` updates (whole epochs of batches of
    ``batch_size``), with ``transform`` applied to every batch (augmentation).
    Frozen parameters stay as they are: the optimizer skips them, and the
    backward stops at the first trainable layer (``fit(..., input_grad=False)``)."""
    loader, epochs = _few_loader(X, y, steps, batch_size, seed, transform)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    return train.fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=epochs,
                     val_loader=val, progress=False, input_grad=False)


LINESTYLES = ("-", "--", ":", "-.")
# Where the axes of the figures below go, (left, bottom, width, height) in figure
# fractions: the places constrained layout finds for them, written down, so that drawing
# a figure needs no layout pass (one costs two to three draws of the figure).
SEED_COMPARISON_AXES = ((0.065, 0.113, 0.506, 0.828), (0.635, 0.113, 0.361, 0.828))
LABEL_SWEEP_AXES = ((0.059, 0.113, 0.521, 0.783), (0.644, 0.113, 0.348, 0.783))
IDEA_AXES = ((0.004, 0.01, 0.393, 0.93), (0.407, 0.01, 0.589, 0.93))
PHOTO_AXES = ((0.004, 0.098, 0.274, 0.797), (0.287, 0.098, 0.274, 0.797))   # flip_figure


def _place(fig: Figure, boxes: Sequence[Sequence[float]]) -> None:
    """Put the axes of ``fig`` at ``boxes`` (figure fractions), one box per axes."""
    for ax, box in zip(fig.axes, boxes, strict=True):
        ax.set_position(box)
MARKERS = ("o", "s", "^", "D")


def seed_comparison_figure(losses: Mapping[str, Sequence[Sequence[float]]],
                           accuracies: Mapping[str, Sequence[float]]) -> Figure:
    """One experiment repeated over seeds. Left: the training loss of every run
    (log scale), one colour and line style per setting, one line per seed.
    Right: each seed's test accuracy as a marker, the mean as a black line,
    the spread (min to max) as a vertical line. ``losses`` maps a setting to its runs'
    per-epoch losses; ``accuracies`` the same setting to its runs' accuracies."""
    names = list(accuracies)
    if list(losses) != names:
        raise ValueError(f"losses and accuracies must name the same settings, got "
                         f"{list(losses)} and {names}")
    with plots.style():
        fig, (ax, bars) = plots.subplots("wide", 1, 2, layout=None)
        _place(fig, SEED_COMPARISON_AXES)
        for i, name in enumerate(names):
            color = plots.CLASS_COLORS[i % len(plots.CLASS_COLORS)]
            for run, values in enumerate(losses[name]):
                ax.plot(np.arange(1, len(values) + 1), values, color=color,
                        ls=LINESTYLES[i % len(LINESTYLES)], lw=1.5, alpha=0.8,
                        label=name if run == 0 else None)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss (log scale)")
        ax.set_title("training loss, every seed")
        ax.legend(fontsize=9)
        for i, name in enumerate(names):
            color = plots.CLASS_COLORS[i % len(plots.CLASS_COLORS)]
            values = 100 * np.asarray(accuracies[name], dtype=float)
            bars.vlines(i, values.min(), values.max(), color=color, lw=2)
            bars.hlines(values.mean(), i - 0.25, i + 0.25, color="black", lw=2.5)
            bars.plot(np.full(len(values), i) + np.linspace(-0.12, 0.12, len(values)), values,
                      MARKERS[i % len(MARKERS)], color=color, mec="black", ms=8)
            bars.text(i + 0.3, values.mean(), f"mean\n{values.mean():.1f}%", va="center",
                      fontsize=9)
        bars.set_xticks(range(len(names)), [n.replace(" (", "\n(") for n in names],
                        fontsize=8)
        low = min(100 * min(a) for a in accuracies.values())
        bars.set_ylim(max(0, low - 5), 100)
        bars.grid(True, axis="y", alpha=0.3)
        bars.set_xlim(-0.6, len(names) - 0.1)
        bars.set_ylabel("test accuracy (%)")
        bars.set_title("test accuracy per seed (black: the mean)")
    return plots.finish(fig)


SCRATCH, FROZEN, FINE_TUNED = "from scratch", "pretrained, features frozen", \
    "pretrained, all layers fine-tuned"


def label_sweep_runs(make_model: Callable[[], nn.Sequential],
                     pretrained: Mapping[str, np.ndarray], X_pool: np.ndarray,
                     y_pool: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
                     counts: Sequence[int] = (1, 2, 5, 10, 20), *, freeze_first: int = 0,
                     steps: int = 200, lr: float = 1e-2, draws: int = 1, seed: int = 0,
                     every_epoch: bool = False) -> Iterator[tuple[dict[str, np.ndarray], tuple]]:
    """``label_sweep`` one training at a time, for a widget that shows each point as
    it finishes: after every training, yields ``(sweep, (count, mode, draw, epoch,
    epochs))``, the sweep so far (a point is NaN until all its draws are trained, then
    their mean) and what was just trained; with ``every_epoch``, also after every
    epoch of a training (``epoch < epochs``, the sweep unchanged). Each training is
    ``train_on_few`` run epoch by epoch and seeds itself, so the order changes nothing:
    the last sweep is ``label_sweep``'s."""
    modes = [SCRATCH, FINE_TUNED] + ([FROZEN] if freeze_first else [])
    sweep = {"counts": np.asarray(counts, dtype=int)}
    sweep.update({mode: np.full(len(counts), np.nan) for mode in modes})
    loss_fn = nn.CrossEntropyLoss()
    for i, count in enumerate(counts):
        for mode in modes:
            total = 0.0
            for draw in range(seed, seed + draws):
                X, y = per_class(X_pool, y_pool, int(count), draw)
                manual_seed(seed)
                model = make_model()
                if mode != SCRATCH:
                    model.load_state_dict(pretrained)
                if mode == FROZEN:
                    model[:freeze_first].requires_grad_(False)
                loader, epochs = _few_loader(X, y, steps, 32, seed)
                optimizer = optim.Adam(model.parameters(), lr=lr)
                what = (int(count), mode, draw - seed + 1)
                for epoch in range(1, epochs + 1):      # train_on_few, one epoch at a time
                    train.fit(model, loss_fn, optimizer, loader, epochs=1, progress=False,
                              input_grad=False)
                    if every_epoch and epoch < epochs:
                        yield sweep, (*what, epoch, epochs)
                total += train.evaluate(model, (X_test, y_test))["accuracy"]
                if draw == seed + draws - 1:
                    sweep[mode][i] = total / draws
                yield sweep, (*what, epochs, epochs)


def label_sweep(make_model: Callable[[], nn.Sequential], pretrained: Mapping[str, np.ndarray],
                X_pool: np.ndarray, y_pool: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
                counts: Sequence[int] = (1, 2, 5, 10, 20), *, freeze_first: int = 0,
                steps: int = 200, lr: float = 1e-2, draws: int = 1,
                seed: int = 0) -> dict[str, np.ndarray]:
    """Test accuracy against the number of labels per class, for a model trained
    from scratch and the same model started from ``pretrained`` weights (a state
    dict), all layers fine-tuned; with ``freeze_first`` > 0, also with its first
    ``freeze_first`` modules frozen.

    Every run: ``count`` labelled examples a class from (X_pool, y_pool) (the
    same examples for every model), the same initial weights for the scratch
    model (``manual_seed(seed)``), ``train_on_few(steps, lr)``. Accuracies are
    means over ``draws`` different sets of examples (seeds ``seed``,
    ``seed + 1``, ...): with a handful of labels, which ones you draw matters.
    Returns ``{'counts': (K,), SCRATCH: (K,), FINE_TUNED: (K,)[, FROZEN: (K,)]}``.
    """
    runs = label_sweep_runs(make_model, pretrained, X_pool, y_pool, X_test, y_test, counts,
                            freeze_first=freeze_first, steps=steps, lr=lr, draws=draws,
                            seed=seed)
    (sweep, _), = collections.deque(runs, maxlen=1)          # the last: every point done
    return sweep


_SWEEP_COLORS = {SCRATCH: "#718096", FROZEN: plots.CLASS_COLORS[0],
                 FINE_TUNED: plots.CLASS_COLORS[1]}
_SWEEP_STYLES = {SCRATCH: ":", FROZEN: "--", FINE_TUNED: "-"}
_SWEEP_MARKERS = {SCRATCH: "s", FROZEN: "^", FINE_TUNED: "o"}
_DATA_HEIGHT = 0.74        # of the accuracy axis, up to 101%; the legend goes above


def label_sweep_figure(sweep: Mapping[str, np.ndarray], count: int | None = None,
                       title: str = "more labels help; pretraining helps most when they "
                                    "are few") -> Figure:
    """Left: test accuracy against labels per class (log scale), one line per
    way of training, ``count`` highlighted. Right: the accuracies at ``count``.
    Points not computed yet (NaN) are left out. ``update_label_sweep_figure``
    changes it in place (another count, more points); ``fig.parts.layers`` are the
    artists it changes (everything else stays: axes, ticks, legend)."""
    counts = np.asarray(sweep["counts"])
    modes = [m for m in (SCRATCH, FROZEN, FINE_TUNED) if m in sweep]
    with plots.style():
        fig, (ax, bars) = plots.subplots("wide", 1, 2, layout=None)
        _place(fig, LABEL_SWEEP_AXES)
        lines = {mode: ax.plot([], [], color=_SWEEP_COLORS[mode], label=mode,
                               ls=_SWEEP_STYLES[mode], marker=_SWEEP_MARKERS[mode],
                               lw=2 if mode == FINE_TUNED else 1.5, ms=6)[0] for mode in modes}
        band = ax.axvspan(counts[0] / 1.25, counts[0] * 1.25, ymax=_DATA_HEIGHT,
                          color=plots.ACCENT, alpha=0.25, lw=0)
        ax.set_xscale("log")
        ax.set_xlim(counts.min() / 1.6, counts.max() * 1.6)
        ax.set_xticks(counts, [str(c) for c in counts])
        ax.minorticks_off()
        ax.set_xlabel("labelled examples per class (log scale)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        # The legend sits in a band above 100% that no accuracy reaches, so no curve
        # ever runs under it (``update_label_sweep_figure`` keeps the band).
        ax.legend(loc="upper left", fontsize=9)
        ax.yaxis.set_major_locator(FixedLocator(np.arange(0, 101, 10)))
        positions = np.arange(len(modes))
        patches = bars.bar(positions, np.zeros(len(modes)),
                           color=[_SWEEP_COLORS[m] for m in modes], width=0.6).patches
        texts = [bars.text(x, 0, "", ha="center", va="bottom", fontsize=10) for x in positions]
        bars.set_xticks(positions, [m.replace(", ", ",\n") for m in modes], fontsize=8)
        bars.set_ylim(0, 109)
        bars.set_ylabel("test accuracy (%)")
        bars.set_title(" \n ", fontsize=11)
        # a live sweep's progress: a thin bar along the top of the curves, growing
        progress = ax.add_patch(plt.Rectangle((0, 0.988), 0, 0.012, transform=ax.transAxes,
                                              color="#a0aec0", lw=0))
    # What a widget changes, in three layers that can each be redrawn alone over the
    # ones before (blitting), from the rarest change to the most frequent: the settings
    # (the title); the highlighted count (its band, bars and numbers); the curves and
    # the progress bar. Drawing text is the slow part: a live frame draws none.
    layers = [[ax.title], [band, *patches, *texts, bars.title], [*lines.values(), progress]]
    fig.parts = SimpleNamespace(ax=ax, bars=bars, lines=lines, band=band, patches=patches,
                                texts=texts, modes=modes, low=None, progress=progress,
                                layers=layers)
    update_label_sweep_figure(fig, sweep, count)
    return plots.finish(fig)


def update_label_sweep_figure(fig: Figure, sweep: Mapping[str, np.ndarray],
                              count: int | None = None) -> bool:
    """Show ``sweep`` (complete or not) with ``count`` highlighted in a
    ``label_sweep_figure``. Returns True if the accuracy axis had to be widened."""
    parts = fig.parts
    counts = np.asarray(sweep["counts"])
    count = int(counts[0] if count is None else count)
    if count not in counts:
        raise ValueError(f"count must be one of {counts.tolist()}, got {count}")
    k = int(np.flatnonzero(counts == count)[0])
    for mode in parts.modes:
        parts.lines[mode].set_data(counts, 100 * np.asarray(sweep[mode]))
    parts.band.set_x(count / 1.25)
    parts.band.set_width(count * 1.25 - count / 1.25)
    for patch, text, mode in zip(parts.patches, parts.texts, parts.modes, strict=True):
        value = 100 * sweep[mode][k]
        patch.set_height(value if np.isfinite(value) else 0.0)
        text.set_position((text.get_position()[0], (value if np.isfinite(value) else 0) + 1))
        text.set_text(f"{value:.1f}%" if np.isfinite(value) else "…")
    gain = 100 * (sweep[FINE_TUNED][k] - sweep[SCRATCH][k])
    parts.bars.set_title(f"{count} per class ({10 * count} images):\nfine-tuned "
                         + (f"{gain:+.1f} points over scratch" if np.isfinite(gain)
                            else "… (not trained yet)"), fontsize=11)
    values = np.concatenate([100 * np.asarray(sweep[m]) for m in parts.modes])
    values = values[np.isfinite(values)]
    old = parts.ax.get_ylim()
    if len(values):            # fixed limits, widened only when a point falls below them
        low = max(0.0, 5 * np.floor(values.min() / 5) - 5)
        parts.low = low if parts.low is None else min(parts.low, low)
    low = 0.0 if parts.low is None else parts.low
    parts.ax.set_ylim(low, low + (101.0 - low) / _DATA_HEIGHT)    # the legend's band on top
    return parts.ax.get_ylim() != old


def label_sweep_explorer(sweep: Mapping[str, np.ndarray], setup: Mapping | None = None):
    """A slider over the label counts of ``sweep`` (already computed), redrawing
    ``label_sweep_figure`` with that count highlighted.

    With ``setup`` (the keyword arguments ``sweep`` was computed with by
    ``label_sweep``), the widget can also run the sweep again, live, with other
    fine-tuning steps, learning rate or number of draws: ▶ Run sweep trains one model
    at a time, an epoch between frames, and each point appears as it finishes (Pause,
    Step: one epoch, Reset: start again). Finished sweeps are kept, so going back to
    their settings is instant.

    Every change redraws only the layers of ``fig.parts.layers`` that changed over the
    rest of the figure, drawn once (blitting): a live frame the curves and the progress
    bar, a new count its band and bars, new settings the title too; the whole figure
    only when the accuracy axis has to widen. Live frames are sent as JPEG (quick to
    encode), the first one too, the picture at rest as PNG (crisp text)."""
    import ipywidgets as widgets

    from .widgets import FigureView, Player

    style = plots.slider_style()
    counts = [int(c) for c in sweep["counts"]]
    count = widgets.SelectionSlider(options=counts, value=counts[len(counts) // 2],
                                    description="labels per class", style=style,
                                    tooltip="the label count highlighted on the left, whose "
                                            "three accuracies the bars show")
    fig = label_sweep_figure(sweep, count.value)
    parts = fig.parts
    view = FigureView(fig, layers=parts.layers, name="label_sweep_explorer")
    state = SimpleNamespace(sweep=sweep, drawn=None)

    def looks() -> list:
        """What each layer but the top shows: a layer is redrawn when its look changed."""
        return [parts.ax.get_title(),
                (parts.bars.get_title(), *(t.get_text() for t in parts.texts),
                 *(p.get_height() for p in parts.patches), parts.band.get_x())]

    def redraw(widened: bool, control: str, t0: float, live: bool = False) -> None:
        now = looks()
        changed = [k for k, look in enumerate(now) if state.drawn is None
                   or look != state.drawn[k]]
        state.drawn = now
        ms = 1e3 * (time.perf_counter() - t0)
        format = "jpeg" if live else "png"
        if widened:                                  # new axis limits: everything again
            view.show(control=control, compute_ms=ms, format=format)
        else:
            top = len(parts.layers) - 1                # the curves: every live frame
            view.refresh(changed[0] if changed else top, control=control, compute_ms=ms,
                         format=format)

    def show_count(_change=None) -> None:
        t0 = time.perf_counter()
        widened = update_label_sweep_figure(fig, state.sweep, count.value)
        redraw(widened, "labels per class", t0)

    count.observe(show_count, names="value")
    count.continuous_update = True
    redraw(True, "(first)", time.perf_counter())
    if setup is None:
        box = widgets.VBox([count, view.widget])
        box.view, box.fig, box.controls = view, fig, {"count": count}
        return box

    setup = dict(setup)
    steps = widgets.SelectionSlider(options=sorted({25, 50, 100, 200, 400,
                                                    int(setup.get("steps", 200))}),
                                    value=int(setup.get("steps", 200)),
                                    description="fine-tuning steps",
                                    style=style,
                                    tooltip="Adam steps per training (for Run sweep; moving it "
                                            "stops a sweep under way)")
    rates = sorted({1e-3, 3e-3, 1e-2, 3e-2, float(setup.get("lr", 1e-2))})
    lr = widgets.SelectionSlider(options=[(f"{r:g}", r) for r in rates],
                                 value=float(setup.get("lr", 1e-2)),
                                 description="learning rate", style=style,
                                 tooltip="Adam's learning rate for every training (for Run sweep; "
                                         "moving it stops a sweep under way)")
    draws = widgets.IntSlider(value=setup.get("draws", 1), min=1, max=5, description="draws",
                              style=style, tooltip="how many different sets of labelled "
                                                   "examples each point averages (for Run sweep; "
                                                   "moving it stops a sweep under way)")
    for control in (steps, lr, draws):
        control.continuous_update = False
    settings = (steps, lr, draws)
    key = lambda: (steps.value, lr.value, draws.value)            # noqa: E731
    finished = {key(): sweep}
    modes = parts.modes
    total = lambda: len(counts) * len(modes) * draws.value        # noqa: E731
    state.runs, state.trained, state.last = None, 0, None

    def empty() -> dict:
        return {"counts": np.asarray(counts), **{m: np.full(len(counts), np.nan) for m in modes}}

    def title() -> str:
        return (f"{steps.value} steps, learning rate {lr.value:g}, mean of {draws.value} "
                f"draw{'s' if draws.value > 1 else ''} per point")

    def step() -> bool:
        if state.runs is None:       # a new sweep (for settings run before: the same, live)
            state.runs = label_sweep_runs(**{**setup, "counts": counts, "steps": steps.value,
                                             "lr": lr.value, "draws": draws.value,
                                             "every_epoch": True})
            state.sweep, state.trained = empty(), 0
        state.sweep, state.last = next(state.runs)
        c, mode, d, epoch, epochs = state.last
        state.trained += epoch == epochs
        if state.trained == total():
            finished[key()] = state.sweep
            return False
        return True

    def frame() -> None:
        t0 = time.perf_counter()
        parts.ax.set_title(title())
        widened = update_label_sweep_figure(fig, state.sweep, count.value)
        parts.progress.set_width(done_fraction())
        live = player.live and not player.done
        redraw(widened, "Run sweep", t0, live=live)

    def reset() -> None:
        state.runs, state.sweep, state.trained, state.last = None, empty(), 0, None

    short = {SCRATCH: "from scratch", FROZEN: "frozen", FINE_TUNED: "fine-tuned"}

    def status() -> str:             # short: one line beside the buttons (the title says the rest)
        if state.runs is None and key() in finished:
            return "this sweep is shown; ▶ Run sweep runs it again, live"
        if state.last is None:
            return f"not run yet: press ▶ Run sweep ({total()} trainings)"
        if state.trained == total():
            return f"{total()}/{total()} trainings done"
        c, mode, d, epoch, epochs = state.last
        return (f"{state.trained}/{total()} trainings done; now {c} per class, {short[mode]}, "
                f"draw {d}/{draws.value}, epoch {epoch}/{epochs}")

    def done_fraction() -> float:
        """The progress bar: trainings done, and the share of the one under way."""
        if state.last is None or state.trained == total():
            return 0.0
        c, mode, d, epoch, epochs = state.last
        return (state.trained + (epoch / epochs if epoch < epochs else 0.0)) / total()

    # The settings stay movable while a sweep runs (moving one stops it and shows that
    # setting's sweep): locking three sliders costs the browser ~200 ms at every start.
    player = Player(step, frame, reset, status=status, play_label="Run sweep")
    for button, tip in ((player.play_button, "run the sweep with these settings, one training "
                                             "at a time; press again to pause"),
                        (player.step_button, "one more epoch of the training under way, "
                                             "then pause"),
                        (player.reset_button, "forget this sweep and start it again")):
        button.tooltip = tip

    def choose(_change=None) -> None:
        t0 = time.perf_counter()
        state.runs, state.last = None, None
        state.sweep = finished.get(key(), empty())
        state.trained = total() if key() in finished else 0
        parts.ax.set_title(title())
        widened = update_label_sweep_figure(fig, state.sweep, count.value)
        parts.progress.set_width(0.0)
        player.done = False                 # Run sweep: these settings live (again, if run)
        player.steps = 0
        player.pause()
        redraw(widened, "settings", t0)

    for control in settings:
        control.observe(choose, names="value")
    choose()
    box = widgets.VBox([widgets.HBox([count, steps]), widgets.HBox([lr, draws]),
                        player.widget, view.widget])
    box.view, box.fig, box.player, box.finished = view, fig, player, finished
    box.controls = {"count": count, "steps": steps, "lr": lr, "draws": draws}
    return box


# -- the picture of the idea ---------------------------------------------------------------

def _box(ax, x, y, w, h, text, color, text_color="white", fontsize=10):
    plots.box(ax, x, y, text, color=color, fc=color, w=w, h=h, lw=0, fontsize=fontsize,
              text_color=text_color, rounding=0.02)


def _arrow(ax, start, end, text=""):
    plots.arrow(ax, start, end, color="#4a5568", lw=1.5, size=14)
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.06, text, ha="center",
                va="bottom", fontsize=9, color="#4a5568")


def idea_figure(image: np.ndarray, seed: int = 0) -> Figure:
    """The two remedies for few labels. Left: augmentation turns one labelled
    image (H, W) into many. Right: transfer learning copies the layers of a
    network trained on a large data set, freezes the first ones and trains
    the rest on the few labels."""
    image = np.asarray(image, dtype=np.float32).reshape(np.shape(image)[-2:])
    variants = augment_examples(image[None], "rotation", 0.35, seed, variants=1)[0, 1:]
    variants = np.concatenate([variants, augment_examples(image[None], "shift", 0.5, seed,
                                                          variants=1)[0, 1:],
                               augment_examples(image[None], "noise", 0.3, seed,
                                                variants=1)[0, 1:]])
    gray, blue, red = "#a0aec0", plots.CLASS_COLORS[0], plots.CLASS_COLORS[1]
    with plots.style():
        fig, (left, right) = plots.subplots("wide", 1, 2, layout=None)
        _place(fig, IDEA_AXES)
        for ax in (left, right):
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.axis("off")
        left.set_title("augmentation: more images, same labels")
        left.imshow(image, cmap="gray", extent=(0.02, 0.32, 0.33, 0.67), aspect="auto")
        left.text(0.17, 0.27, "1 labelled image", ha="center", fontsize=9)
        for i, (variant, name) in enumerate(zip(variants, ("rotated", "shifted", "noisy"),
                                                strict=True)):
            top = 0.98 - 0.33 * i
            left.imshow(variant, cmap="gray", extent=(0.62, 0.84, top - 0.28, top),
                        aspect="auto")
            left.text(0.87, top - 0.14, name, va="center", fontsize=9)
            _arrow(left, (0.34, 0.5), (0.6, top - 0.14))

        right.set_title("transfer: borrow layers trained on another data set")
        xs = (0.1, 0.26, 0.42)
        for x, name in zip(xs, ("conv", "conv", "head"), strict=True):
            _box(right, x, 0.75, 0.13, 0.22, name, blue)
        for x, name in zip(xs, ("conv\n(frozen)", "conv\n(frozen)", "head"), strict=True):
            _box(right, x, 0.2, 0.13, 0.22, name, gray if "frozen" in name else red,
                 fontsize=9)
            _arrow(right, (x, 0.63), (x, 0.32))
        right.text(0.5, 0.475, "copy the\nweights", fontsize=9, color="#4a5568", va="center")
        _box(right, 0.8, 0.75, 0.36, 0.26, "1. pretrain on thousands\nof printed digits\n"
             "(cheap: rendered from fonts)", "#edf2f7", "black", 9)
        _box(right, 0.8, 0.2, 0.36, 0.26, "2. fine-tune on 1 to 20\nhandwritten digits a class\n"
             "(costly: people label them)", "#edf2f7", "black", 9)
        _arrow(right, (0.61, 0.75), (0.5, 0.75))
        _arrow(right, (0.61, 0.2), (0.5, 0.2))
    return plots.finish(fig)
