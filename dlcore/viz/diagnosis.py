"""Lesson 12's second application: diagnosing breast tumours, and the price of errors.

    from dlcore.viz import diagnosis as dx
    run = dx.train_diagnosis()                    # 30 measurements -> malignant or benign
    dx.counts(run.p_malignant, run.y_test, threshold=0.5)
    dx.threshold_figure(run.p_malignant, run.y_test, threshold=0.5)
    dx.threshold_explorer(run)                    # the widget: a decision-threshold slider

In ``load_breast_cancer`` class 0 is malignant and class 1 benign. Here
"positive" means malignant: a **false negative** is a cancer called benign (a
patient sent home), a **false positive** a benign tumour called malignant (a
needless biopsy). The network gives P(malignant); the threshold decides.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from matplotlib.figure import Figure

from .. import data, nn, optim, train
from ..nn.functional import softmax
from ..rng import manual_seed
from . import plots
from .widgets import FigureView

CLASS_NAMES = ["malignant", "benign"]          # the table's classes 0 and 1
MALIGNANT = 0


@dataclass
class DiagnosisRun:
    """A trained network and its P(malignant) for each test patient."""
    model: nn.Module
    p_malignant: np.ndarray       # (N,) on the test set
    y_test: np.ndarray            # (N,) 0 malignant, 1 benign
    test_accuracy: float


def train_diagnosis(epochs: int = 30, seed: int = 0) -> DiagnosisRun:
    """An MLP 30 -> 16 -> 2 on the standardised table (Adam, lr 1e-3, batches of 32)."""
    manual_seed(seed)
    table = data.load_breast_cancer(seed=seed)
    train_loader, _, _ = table.loaders(batch_size=32, seed=seed)
    model = nn.Sequential(nn.Linear(30, 16), nn.ReLU(), nn.Linear(16, 2))
    train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3),
              train_loader, epochs=epochs, progress=False)
    model.eval()
    p = softmax(train.predict(model, table.X_test), dim=-1)[:, MALIGNANT]
    accuracy = float(np.mean((p >= 0.5) == (table.y_test == MALIGNANT)))
    return DiagnosisRun(model, p, table.y_test, accuracy)


def predict_at(p_malignant: np.ndarray, threshold: float) -> np.ndarray:
    """Class labels (0 malignant, 1 benign): malignant where P(malignant) >= threshold."""
    return np.where(np.asarray(p_malignant) >= threshold, MALIGNANT, 1 - MALIGNANT)


def counts(p_malignant: np.ndarray, y_true: np.ndarray, threshold: float) -> dict[str, float]:
    """The four outcomes at a threshold, malignant being "positive": TP, FN, FP,
    TN, and sensitivity = TP / (TP + FN) (cancers found), specificity =
    TN / (TN + FP) (benign tumours cleared), accuracy."""
    y_pred = predict_at(p_malignant, threshold)
    sick, called = np.asarray(y_true) == MALIGNANT, y_pred == MALIGNANT
    tp, fn = int(np.sum(sick & called)), int(np.sum(sick & ~called))
    fp, tn = int(np.sum(~sick & called)), int(np.sum(~sick & ~called))
    return {"TP": tp, "FN": fn, "FP": fp, "TN": tn,
            "sensitivity": tp / max(tp + fn, 1), "specificity": tn / max(tn + fp, 1),
            "accuracy": (tp + tn) / max(len(y_pred), 1)}


def _split_points(p: np.ndarray, y: np.ndarray, jitter: np.ndarray, threshold: float):
    """For each class (malignant row 0, benign row 1): the (x, y) of the patients called
    right and of those called wrong at ``threshold``."""
    called = predict_at(p, threshold)
    parts = []
    for row, cls in enumerate((MALIGNANT, 1 - MALIGNANT)):
        mine = y == cls
        wrong = mine & (called != cls)
        for chosen in (mine & ~wrong, wrong):
            parts.append(np.column_stack([p[chosen], row + jitter[chosen]]))
    return parts        # [malignant right, malignant wrong, benign right, benign wrong]


def threshold_figure(p_malignant: np.ndarray, y_true: np.ndarray, threshold: float) -> Figure:
    """Left: P(malignant) of every test patient, split by the truth, with the
    threshold; the errors are the dots on the wrong side. Right: sensitivity
    and specificity for every threshold, the chosen one marked. ``fig.parts``
    holds what a new threshold changes (``update_threshold``)."""
    p, y = np.asarray(p_malignant), np.asarray(y_true)
    jitter = np.random.default_rng(0).uniform(-0.25, 0.25, len(p))
    points = _split_points(p, y, jitter, threshold)
    with plots.style():
        fig, (ax, ax_curve) = plots.subplots("wide", 1, 2, width_ratios=[1.4, 1])
        dots = []
        for row, cls in enumerate((MALIGNANT, 1 - MALIGNANT)):
            right, wrong = points[2 * row], points[2 * row + 1]
            dots.append(ax.scatter(right[:, 0], right[:, 1], s=18, color=plots.CLASS_COLORS[cls],
                                   alpha=0.7, label=f"truly {CLASS_NAMES[cls]}"))
            dots.append(ax.scatter(wrong[:, 0], wrong[:, 1], s=70, marker="X", color="black",
                                   label="false negative (cancer missed)" if cls == MALIGNANT
                                   else "false positive (false alarm)"))
        line = ax.axvline(threshold, color=plots.ACCENT, lw=2.5)
        label = ax.text(threshold, 1.55, "", color="#975a16", va="center")
        ax.set_yticks([0, 1], [f"truly {n}" for n in CLASS_NAMES])
        ax.set_ylim(-0.5, 2.5)
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel("P(malignant), from the network")
        ax.legend(loc="upper center", ncol=2, fontsize=8.5, framealpha=0.9)
        grid = np.linspace(0, 1, 101)
        sens = [counts(p, y, t)["sensitivity"] for t in grid]
        spec = [counts(p, y, t)["specificity"] for t in grid]
        ax_curve.plot(grid, sens, color=plots.CLASS_COLORS[0], ls="-", label="sensitivity")
        ax_curve.plot(grid, spec, color=plots.CLASS_COLORS[1], ls="--", label="specificity")
        curve_line = ax_curve.axvline(threshold, color=plots.ACCENT, lw=2.5)
        ax_curve.set_xlabel("threshold")
        ax_curve.set_ylim(0, 1.05)
        ax_curve.set_title(" ", fontsize=11)
        ax_curve.legend(loc="lower center")
    fig.parts = SimpleNamespace(p=p, y=y, jitter=jitter, dots=dots, lines=[line, curve_line],
                                label=label, titles=[ax.title, ax_curve.title])
    update_threshold(fig, threshold)
    return plots.finish(fig)


def update_threshold(fig: Figure, threshold: float) -> None:
    """Move a ``threshold_figure`` to a new threshold: the dots called wrong, the
    lines, the counts in the titles."""
    parts = fig.parts
    p, y = parts.p, parts.y
    c = counts(p, y, threshold)
    for dots, xy in zip(parts.dots, _split_points(p, y, parts.jitter, threshold), strict=True):
        dots.set_offsets(xy)
    for line in parts.lines:
        line.set_xdata([threshold, threshold])
    parts.label.set_x(threshold)
    parts.label.set_text(f" threshold {threshold:.2f}")
    parts.titles[0].set_text(f"cancers missed: {c['FN']}, false alarms: {c['FP']} "
                             f"(of {len(p)} patients)")
    parts.titles[1].set_text(f"sensitivity {c['sensitivity']:.1%}, "
                             f"specificity {c['specificity']:.1%}")


def threshold_artists(fig: Figure) -> list:
    """What ``update_threshold`` changes: the artists a widget redraws alone."""
    parts = fig.parts
    return [*parts.dots, *parts.lines, parts.label, *parts.titles]


def confusion_at(p_malignant: np.ndarray, y_true: np.ndarray, threshold: float) -> Figure:
    """The confusion matrix at a threshold (``plots.confusion_matrix``)."""
    c = counts(p_malignant, y_true, threshold)
    return plots.confusion_matrix(y_true, predict_at(p_malignant, threshold), CLASS_NAMES,
                                  title=f"threshold {threshold:.2f}: accuracy "
                                        f"{c['accuracy']:.1%}", size="small")


def update_confusion(fig: Figure, p_malignant: np.ndarray, y_true: np.ndarray,
                     threshold: float, name_threshold: bool = True) -> bool:
    """Change a ``confusion_at`` figure to another threshold: the counts, their shading
    and the title, as ``plots.confusion_matrix`` draws them (the title without the
    threshold if not ``name_threshold``: a widget's slider shows it). Returns True if
    the picture changed."""
    c = counts(p_malignant, y_true, threshold)
    matrix = np.array([[c["TP"], c["FN"]], [c["FP"], c["TN"]]], dtype=float)
    ax = fig.axes[0]
    title = (f"threshold {threshold:.2f}: " if name_threshold else "") + \
        f"accuracy {c['accuracy']:.1%}"
    image = ax.images[0]
    if np.array_equal(image.get_array(), matrix) and ax.get_title() == title:
        return False
    image.set_data(matrix)
    image.set_clim(0, matrix.max())
    for text, v in zip(ax.texts, matrix.ravel(), strict=True):
        text.set_text(f"{int(v)}")
        text.set_color("white" if v > 0.6 * matrix.max() else "black")
    ax.set_title(title)
    return True


def threshold_explorer(run: DiagnosisRun):
    """The widget: a threshold slider moves the errors, the curves' marker and the
    confusion matrix. Both figures are drawn once; a move redraws only what changes
    (``update_threshold``, ``update_confusion``), so the slider follows the drag.
    The returned VBox has ``.views`` (the two pictures) and ``.controls``."""
    import time

    import ipywidgets as widgets

    threshold = widgets.FloatSlider(value=0.5, min=0.02, max=0.98, step=0.02,
                                    description="decision threshold", continuous_update=True,
                                    style=plots.slider_style(),
                                    layout=widgets.Layout(width="420px"))
    points = threshold_figure(run.p_malignant, run.y_test, threshold.value)
    matrix = confusion_at(run.p_malignant, run.y_test, threshold.value)
    # the slider names the threshold: the matrix's title gives only the accuracy, so the
    # matrix is sent again only when a count changes (most moves change none)
    update_confusion(matrix, run.p_malignant, run.y_test, threshold.value,
                     name_threshold=False)
    ax_matrix = matrix.axes[0]
    views = [FigureView(points, animated=threshold_artists(points),
                        name="diagnosis.threshold_explorer"),
             FigureView(matrix, animated=[ax_matrix.images[0], *ax_matrix.texts,
                                          ax_matrix.title],
                        name="diagnosis.threshold_explorer (matrix)")]
    for view in views:
        view.show(control="(first)")

    def redraw(_change=None) -> None:
        t0 = time.perf_counter()
        update_threshold(points, threshold.value)
        changed = update_confusion(matrix, run.p_malignant, run.y_test, threshold.value,
                                   name_threshold=False)
        compute_ms = 1e3 * (time.perf_counter() - t0)
        for view in views[:1 + changed]:
            view.frame(control="decision threshold", compute_ms=compute_ms)

    threshold.observe(redraw, names="value")
    box = widgets.VBox([threshold, *(view.widget for view in views)])
    box.views, box.view, box.controls = views, views[0], {"threshold": threshold}
    return box
