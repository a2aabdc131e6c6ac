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

from collections.abc import Callable, Mapping

import numpy as np
from matplotlib.figure import Figure

from .. import manual_seed, nn, optim, train
from ..data import load_digits, standardize
from . import plots

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


def schedule_explorer(schedules: Mapping[str, MakeSchedule], lr: float = 0.1, epochs: int = 8):
    """A widget: pick a schedule, its peak learning rate and the number of epochs;
    lesson 06's MLP trains on the digits with it (about a second) and the learning
    rate, the losses and the validation accuracy are drawn."""
    import ipywidgets as widgets

    style = {"description_width": "190px"}
    layout = widgets.Layout(width="460px")
    controls = {
        "name": widgets.Dropdown(options=list(schedules), value=list(schedules)[0],
                                 description="schedule", style=style, layout=layout),
        "lr": widgets.FloatLogSlider(value=lr, base=10, min=-3, max=0, step=0.25,
                                     description="peak learning rate (SGD)",
                                     readout_format=".3g", style=style, layout=layout),
        "epochs": widgets.IntSlider(value=epochs, min=2, max=12,
                                    description="epochs of training", style=style,
                                    layout=layout),
    }

    def draw(name: str, lr: float, epochs: int) -> Figure:
        return schedule_run_figure(name, *schedule_run(schedules[name], lr, epochs))

    return plots.interactive_figure(draw, controls, height="420px", columns=1)
