"""Lesson 05's pictures and widget of learning-rate schedules.

A schedule here is a function ``make(optimizer, total_steps)`` that returns one of
the engine's schedulers (``dlcore.optim.lr_scheduler``), stepped once per batch,
or ``None`` for a constant learning rate. The lesson defines its menu of them;
this file draws them and trains with them:

    schedules = {"constant": None,
                 "cosine": lambda opt, total: CosineAnnealingLR(opt, T_max=total)}
    schedules_figure(schedules, total_steps=320, lr=0.1)
    schedule_explorer(schedules)          # the widget
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .. import manual_seed, nn, optim, train
from ..data import load_digits, standardize
from . import plots, widgets

MakeSchedule = Callable[[optim.Optimizer, int], object] | None
STYLES = (("-", "o"), ("--", "s"), ("-.", "^"), (":", "D"), ("-", "v"))


def lr_per_step(make: MakeSchedule, total_steps: int, lr: float = 1.0) -> np.ndarray:
    """The learning rate used at each of ``total_steps`` steps, (total_steps,), under
    the schedule ``make`` builds for an SGD optimizer (momentum 0.9) starting at ``lr``."""
    weight = nn.Parameter(np.zeros(1))
    optimizer = optim.SGD([weight], lr=lr, momentum=0.9)
    scheduler = None if make is None else make(optimizer, total_steps)
    lrs = []
    for _ in range(total_steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()                 # a zero gradient: only the schedule moves
        if scheduler is not None:
            scheduler.step()
    return np.array(lrs)


def schedules_figure(schedules: Mapping[str, MakeSchedule], total_steps: int,
                     lr: float = 0.1) -> Figure:
    """One small panel per schedule: its learning rate against the step."""
    n = len(schedules)
    with plots.style():
        fig, axes = plots.subplots("wide", 1, n, sharey=True, squeeze=False)
        for k, (ax, (name, make)) in enumerate(zip(axes[0], schedules.items(), strict=True)):
            color = plots.CLASS_COLORS[k % len(plots.CLASS_COLORS)]
            linestyle, _ = STYLES[k % len(STYLES)]
            ax.plot(lr_per_step(make, total_steps, lr), linestyle, color=color, lw=2)
            ax.set_title(name, fontsize=10.5)
            ax.set_xlabel("step")
            ax.grid(True, alpha=0.3)
        axes[0, 0].set_ylabel("learning rate")
        axes[0, 0].set_ylim(0, 1.08 * lr)
    return plots.finish(fig)


def schedule_run(make: MakeSchedule, lr: float = 0.1, epochs: int = 8, seed: int = 0):
    """Train lesson 06's MLP (64 -> 128 -> 10) on the 8x8 digits with SGD (momentum
    0.9, batches of 32) under the schedule ``make``. Returns (learning rate per
    step, the ``History``, None), or, if the loss became NaN or infinite, (the
    learning rates, the ``History`` of the finished epochs or None, what
    happened: "the loss became nan at epoch E, step S of N")."""
    digits = standardize(load_digits())
    manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    train_loader, val_loader, _ = digits.loaders(batch_size=32, seed=seed)
    total = epochs * len(train_loader)
    scheduler = None if make is None else make(optimizer, total)
    lrs = lr_per_step(make, total, lr)
    finished = []                               # the History after each finished epoch
    try:
        history = train.fit(model, nn.CrossEntropyLoss(), optimizer, train_loader,
                            epochs=epochs, val_loader=val_loader, scheduler=scheduler,
                            scheduler_interval="batch" if scheduler is not None else None,
                            progress=False, callbacks=[finished.append])
    except train.NonFiniteLossError as err:
        return lrs, (finished[-1] if finished else None), str(err).split(";")[0]
    return lrs, history, None


def schedule_run_figure(name: str, lrs: np.ndarray, history,
                        diverged: str | None = None) -> Figure:
    """Left: the learning rate per step. Middle: the training and validation loss
    per epoch. Right: the validation accuracy per epoch. ``diverged`` (what
    ``schedule_run`` says when the loss became NaN) is written over the panels."""
    with plots.style():
        fig, (ax_lr, ax_loss, ax_acc) = plots.subplots("wide", 1, 3)
        ax_lr.plot(lrs, color=plots.CLASS_COLORS[0], lw=2)
        ax_lr.set_ylim(0, None)
        ax_lr.set_title(f"learning rate: {name}", fontsize=10.5)
        ax_lr.set_xlabel("step")
        for ax in (ax_lr, ax_loss, ax_acc):
            ax.grid(True, alpha=0.3)
        if diverged:
            for ax in (ax_loss, ax_acc):
                ax.text(0.5, 0.5, f"training stopped:\n{diverged}".replace(" at ", "\nat "),
                        transform=ax.transAxes, ha="center", va="center", fontsize=10,
                        color=plots.CLASS_COLORS[1])
        if history is None or len(history) == 0:
            ax_loss.set_title("loss (log scale)", fontsize=10.5)
            ax_acc.set_title("validation accuracy", fontsize=10.5)
            return plots.finish(fig)
        epochs = np.arange(1, len(history) + 1)
        ax_loss.semilogy(epochs, history["loss"], "-o", color=plots.CLASS_COLORS[0], ms=4,
                         label="training")
        ax_loss.semilogy(epochs, history["val_loss"], "--s", color=plots.CLASS_COLORS[1],
                         ms=4, label="validation")
        ax_loss.set_title("loss (log scale)", fontsize=10.5)
        ax_loss.set_xlabel("epoch")
        ax_loss.legend(fontsize=9)
        ax_acc.plot(epochs, 100 * np.asarray(history["val_accuracy"]), "--s",
                    color=plots.CLASS_COLORS[1], ms=4)
        ax_acc.set_ylim(80, 100)
        ax_acc.set_title(f"validation accuracy: last {history['val_accuracy'][-1]:.1%}",
                         fontsize=10.5)
        ax_acc.set_xlabel("epoch")
    return plots.finish(fig)


@functools.lru_cache(maxsize=1)
def _digits():
    return standardize(load_digits())


class LiveScheduleRun:
    """``schedule_run`` one batch at a time, for a widget to draw as it learns: the same
    model, data, seeds and order of operations as ``train.fit`` (so at the end its
    numbers are ``schedule_run``'s). ``step()`` trains one batch (and, at the end of an
    epoch, measures the validation loss and accuracy); it returns False when training
    is over or the loss became NaN or infinite (``diverged`` then says where)."""

    def __init__(self, make: MakeSchedule, lr: float = 0.1, epochs: int = 8, seed: int = 0):
        digits = _digits()
        manual_seed(seed)
        self.model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
        self.optimizer = optim.SGD(self.model.parameters(), lr=lr, momentum=0.9)
        self.train_loader, self.val_loader, _ = digits.loaders(batch_size=32, seed=seed)
        self.loss_fn = nn.CrossEntropyLoss()
        self.epochs = epochs
        self.steps_per_epoch = len(self.train_loader)
        self.total = epochs * self.steps_per_epoch
        self.scheduler = None if make is None else make(self.optimizer, self.total)
        self.lrs = lr_per_step(make, self.total, lr)
        self.batch_losses: list[float] = []        # every step's loss
        self.history = train.History()             # per epoch, as fit's
        self.diverged: str | None = None
        self._batches = None
        self._sum = self._count = 0.0

    @property
    def steps_done(self) -> int:
        return len(self.batch_losses)

    @property
    def finished(self) -> bool:
        return self.diverged is not None or len(self.history) == self.epochs

    def step(self) -> bool:
        if self.finished:
            return False
        if self._batches is None:
            self.model.train()
            self._batches = iter(self.train_loader)
            self._sum = self._count = 0.0
        X, y = next(self._batches)
        loss = self.loss_fn(self.model(X), y)
        epoch, step = len(self.history) + 1, self.steps_done % self.steps_per_epoch + 1
        if not np.isfinite(loss):
            err = train.NonFiniteLossError(epoch, step, self.steps_per_epoch, float(loss),
                                           self.optimizer.param_groups[0]["lr"])
            self.diverged = str(err).split(";")[0]
            return False
        self.model.backward(self.loss_fn.backward())
        self.optimizer.step()
        self.optimizer.zero_grad()
        if self.scheduler is not None:
            self.scheduler.step()
        self.batch_losses.append(float(loss))
        self._sum += float(loss) * len(X)
        self._count += len(X)
        if step == self.steps_per_epoch:          # the end of an epoch
            logs = {"loss": self._sum / self._count}
            logs.update({f"val_{k}": v for k, v in train.evaluate(
                self.model, self.val_loader, self.loss_fn).items()})
            self.history.append(epoch, logs)
            self._batches = None
        return not self.finished

    def status(self) -> str:
        text = f"epoch {min(len(self.history) + 1, self.epochs)} of {self.epochs}, " \
               f"step {self.steps_done} of {self.total}"
        if self.batch_losses:
            text += f", loss {self.batch_losses[-1]:.3g}"
        if len(self.history):
            text += f", validation accuracy {self.history['val_accuracy'][-1]:.1%}"
        if self.diverged:
            text += f" · stopped: {self.diverged}"
        return text


LIVE_LOSS_YLIM = (1e-4, 1e2)


@dataclass
class ScheduleParts:
    axes: tuple
    max_epochs: int
    lr_line: object
    lr_now: object
    batch_loss: object
    epoch_loss: object
    val_loss: object
    val_acc: object
    acc_text: object
    stopped: list
    legend: object

    @property
    def layers(self) -> list:
        """What a redraw may change, from the bottom up (``FigureView(layers=...)``):
        the epoch axes (only a run longer than ``max_epochs`` moves them), the
        learning-rate axis (the peak learning rate), the title, the schedule and the
        legend (the schedule, the number of epochs), then what moves as it trains
        (``set_schedule_progress``). Each axis's grid lies under the curves and the
        legend drawn after it."""
        ax_lr, ax_loss, ax_acc = self.axes
        return [[ax_lr.xaxis, ax_loss.xaxis, ax_acc.xaxis], [ax_lr.yaxis],
                [ax_lr.title, self.lr_line, self.legend],
                [self.lr_now, self.batch_loss, self.epoch_loss, self.val_loss, self.val_acc,
                 self.acc_text, *self.stopped]]


def live_schedule_figure(name: str, run: LiveScheduleRun, max_epochs: int | None = None
                         ) -> Figure:
    """The figure ``schedule_explorer`` trains into (``fig.parts``: ``ScheduleParts``):
    the learning rate at each step with a dot at the current step, the loss of every
    batch and per epoch (training and validation), the validation accuracy per epoch,
    all three against the epoch, from 0 to ``max_epochs`` (default: the run's), so that
    runs of different lengths share one still axis."""
    with plots.style():
        fig, (ax_lr, ax_loss, ax_acc) = plots.subplots("wide", 1, 3)
        lr_line, = ax_lr.plot(run.lrs, color=plots.CLASS_COLORS[0], lw=2)
        lr_now, = ax_lr.plot([], [], "o", color=plots.ACCENT, ms=8, mec="k", zorder=4)
        ax_lr.set_xlabel("epoch")
        batch_loss, = ax_loss.semilogy([], [], color=plots.CLASS_COLORS[0], lw=0.7,
                                       alpha=0.45, label="training, each batch")
        epoch_loss, = ax_loss.semilogy([], [], "-o", color=plots.CLASS_COLORS[0], ms=4,
                                       label="training, epoch mean")
        val_loss, = ax_loss.semilogy([], [], "--s", color=plots.CLASS_COLORS[1], ms=4,
                                     label="validation")
        ax_loss.set_ylim(*LIVE_LOSS_YLIM)
        ax_loss.set_title("loss (log scale)", fontsize=10.5)
        ax_loss.set_xlabel("epoch")
        legend = ax_loss.legend(fontsize=8, loc="lower left")
        val_acc, = ax_acc.plot([], [], "--s", color=plots.CLASS_COLORS[1], ms=4)
        ax_acc.set_ylim(0, 100)
        ax_acc.set_ylabel("%")
        ax_acc.set_title("validation accuracy", fontsize=10.5)
        ax_acc.set_xlabel("epoch")
        acc_text = ax_acc.text(0.95, 0.06, "", transform=ax_acc.transAxes, ha="right",
                               fontsize=10)
        stopped = [ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center", va="center",
                           fontsize=10, color=plots.CLASS_COLORS[1])
                   for ax in (ax_loss, ax_acc)]
        for ax in (ax_lr, ax_loss, ax_acc):
            ax.grid(True, alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))     # whole epochs
        fig.parts = ScheduleParts((ax_lr, ax_loss, ax_acc), max_epochs or run.epochs, lr_line,
                                  lr_now, batch_loss, epoch_loss, val_loss, val_acc, acc_text,
                                  stopped, legend)
        set_schedule_axes(fig, name, run)
        set_schedule_progress(fig, run)
    return plots.finish(fig)


def set_schedule_axes(fig: Figure, name: str, run: LiveScheduleRun) -> None:
    """What changes with the controls: the schedule's curve, its limits, the title (the
    epoch axes move only for a run longer than the figure's ``max_epochs``)."""
    parts = fig.parts
    parts.max_epochs = max(parts.max_epochs, run.epochs)
    parts.lr_line.set_data(np.arange(run.total) / run.steps_per_epoch, run.lrs)
    parts.axes[0].set_ylim(0, 1.08 * float(run.lrs.max()))
    parts.axes[0].set_title(f"learning rate: {name}", fontsize=10.5)
    for ax in parts.axes:
        ax.set_xlim(0, parts.max_epochs + 0.2)


def set_schedule_progress(fig: Figure, run: LiveScheduleRun) -> None:
    """What changes as it trains: the dot on the schedule, the curves, the numbers."""
    parts = fig.parts
    k = run.steps_done
    now = min(k, run.total - 1)
    parts.lr_now.set_data([now / run.steps_per_epoch], [run.lrs[now]])
    parts.batch_loss.set_data(np.arange(1, k + 1) / run.steps_per_epoch, run.batch_losses)
    epochs = np.arange(1, len(run.history) + 1)
    h = run.history
    parts.epoch_loss.set_data(epochs, h["loss"] if len(h) else [])
    parts.val_loss.set_data(epochs, h["val_loss"] if len(h) else [])
    accuracy = 100 * np.asarray(h["val_accuracy"] if len(h) else [])
    parts.val_acc.set_data(epochs, accuracy)
    parts.acc_text.set_text(f"last: {accuracy[-1]:.1f}%" if len(accuracy) else "")
    message = f"training stopped:\n{run.diverged}".replace(" at ", "\nat ") \
        if run.diverged else ""
    for text in parts.stopped:
        text.set_text(message)


def schedule_explorer(schedules: Mapping[str, MakeSchedule], lr: float = 0.1, epochs: int = 8):
    """A widget: pick a schedule, its peak learning rate and the number of epochs, then
    Train: lesson 06's MLP learns the digits with it live, batch by batch (about a
    second), the dot running along the schedule, the losses and the validation
    accuracy drawn as they come. Changing a control starts again from scratch."""
    import ipywidgets as ipw

    style = plots.slider_style()
    layout = ipw.Layout(width="400px")
    controls = {
        "name": ipw.Dropdown(options=list(schedules), value=list(schedules)[0],
                             description="schedule", style=style, layout=layout),
        "lr": ipw.FloatLogSlider(value=lr, base=10, min=-3, max=0, step=0.25,
                                 description="peak learning rate (SGD)",
                                 readout_format=".3g", style=style, layout=layout,
                                 continuous_update=False),
        "epochs": ipw.IntSlider(value=epochs, min=2, max=12, description="epochs of training",
                                style=style, layout=layout, continuous_update=False),
    }

    def new_run() -> LiveScheduleRun:
        return LiveScheduleRun(schedules[controls["name"].value], controls["lr"].value,
                               controls["epochs"].value)

    state = {"run": new_run()}
    fig = live_schedule_figure(controls["name"].value, state["run"],
                               max_epochs=controls["epochs"].max)
    # Drawn once: the frames and the epoch axes (0 to the slider's most epochs). A control
    # redraws the learning-rate axis if it moves, the schedule and the legend; a frame of
    # training only the curves.
    view = widgets.FigureView(fig, layers=fig.parts.layers, name="schedule_explorer")
    ax_lr = fig.parts.axes[0]
    view.show(control="(first)")

    def step() -> bool:
        return state["run"].step()

    def frame() -> None:
        set_schedule_progress(fig, state["run"])
        # live frames as JPEG (fast to encode); the last one, training over, as PNG
        view.frame(control="train", format="png" if state["run"].finished else "jpeg")

    def reset() -> None:
        state["run"] = new_run()

    # A batch takes about half a millisecond: at most a quarter of an epoch between
    # frames keeps each frame short (25 a second) and shows every epoch in 4 frames or more.
    def status() -> str:
        run = state["run"]
        return run.status() + (" · press Train" if run.steps_done == 0 else "")

    player = widgets.Player(step, frame, reset, status=status,
                            play_label="Train", controls=list(controls.values()),
                            max_steps_per_frame=max(1, state["run"].steps_per_epoch // 4))

    def on_change(change) -> None:
        player.pause()
        start = time.perf_counter()
        limits = ax_lr.get_xlim(), ax_lr.get_ylim()
        state["run"] = new_run()
        set_schedule_axes(fig, controls["name"].value, state["run"])
        set_schedule_progress(fig, state["run"])
        owner = change.get("owner") if isinstance(change, dict) else None
        # the status line first: the browser lays it out while the picture is drawn here
        player.rearm()
        # redraw from the lowest layer that changed: the x axes, the lr axis, the schedule
        layer = 0 if ax_lr.get_xlim() != limits[0] else 1 if ax_lr.get_ylim() != limits[1] \
            else 2
        view.refresh(layer, control=next((k for k, c in controls.items() if c is owner), ""),
                     compute_ms=1e3 * (time.perf_counter() - start))

    for control in controls.values():
        control.observe(on_change, names="value")
    box = ipw.VBox([*(ipw.HBox([c]) for c in controls.values()), view.widget, player.widget])
    box.view, box.player, box.controls, box.state = view, player, controls, state
    return box
