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

import numpy as np
from matplotlib.figure import Figure

from .. import data, nn, optim, train
from ..nn.functional import softmax
from ..rng import manual_seed
from . import plots

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


def threshold_figure(p_malignant: np.ndarray, y_true: np.ndarray, threshold: float) -> Figure:
    """Left: P(malignant) of every test patient, split by the truth, with the
    threshold; the errors are the dots on the wrong side. Right: sensitivity
    and specificity for every threshold, the chosen one marked."""
    p, y = np.asarray(p_malignant), np.asarray(y_true)
    c = counts(p, y, threshold)
    jitter = np.random.default_rng(0).uniform(-0.25, 0.25, len(p))
    with plots.style():
        fig, (ax, ax_curve) = plots.subplots("wide", 1, 2, width_ratios=[1.4, 1])
        for row, cls in enumerate((MALIGNANT, 1 - MALIGNANT)):
            mine = y == cls
            wrong = mine & (predict_at(p, threshold) != cls)
            ax.scatter(p[mine & ~wrong], row + jitter[mine & ~wrong], s=18,
                       color=plots.CLASS_COLORS[cls], alpha=0.7, label=f"truly {CLASS_NAMES[cls]}")
            ax.scatter(p[wrong], row + jitter[wrong], s=70, marker="X", color="black",
                       label="false negative (cancer missed)" if cls == MALIGNANT
                       else "false positive (false alarm)")
        ax.axvline(threshold, color=plots.ACCENT, lw=2.5)
        ax.text(threshold, 1.55, f" threshold {threshold:.2f}", color="#975a16", va="center")
        ax.set_yticks([0, 1], [f"truly {n}" for n in CLASS_NAMES])
        ax.set_ylim(-0.5, 2.5)
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel("P(malignant), from the network")
        ax.legend(loc="upper center", ncol=2, fontsize=8.5, framealpha=0.9)
        ax.set_title(f"cancers missed: {c['FN']}, false alarms: {c['FP']} "
                     f"(of {len(p)} patients)")
        grid = np.linspace(0, 1, 101)
        sens = [counts(p, y, t)["sensitivity"] for t in grid]
        spec = [counts(p, y, t)["specificity"] for t in grid]
        ax_curve.plot(grid, sens, color=plots.CLASS_COLORS[0], ls="-", label="sensitivity")
        ax_curve.plot(grid, spec, color=plots.CLASS_COLORS[1], ls="--", label="specificity")
        ax_curve.axvline(threshold, color=plots.ACCENT, lw=2.5)
        ax_curve.set_xlabel("threshold")
        ax_curve.set_ylim(0, 1.05)
        ax_curve.set_title(f"sensitivity {c['sensitivity']:.1%}, "
                           f"specificity {c['specificity']:.1%}", fontsize=11)
        ax_curve.legend(loc="lower center")
    return plots.finish(fig)


def confusion_at(p_malignant: np.ndarray, y_true: np.ndarray, threshold: float) -> Figure:
    """The confusion matrix at a threshold (``plots.confusion_matrix``)."""
    c = counts(p_malignant, y_true, threshold)
    return plots.confusion_matrix(y_true, predict_at(p_malignant, threshold), CLASS_NAMES,
                                  title=f"threshold {threshold:.2f}: accuracy "
                                        f"{c['accuracy']:.1%}", size="small")


def threshold_explorer(run: DiagnosisRun):
    """The widget: a threshold slider moves the confusion matrix and the errors."""
    import ipywidgets as widgets
    from IPython.display import display

    threshold = widgets.FloatSlider(value=0.5, min=0.02, max=0.98, step=0.02,
                                    description="decision threshold", continuous_update=False,
                                    style=plots.slider_style(),
                                    layout=widgets.Layout(width="420px"))
    out_points = widgets.Output(layout=widgets.Layout(height="400px", overflow="hidden"))
    out_matrix = widgets.Output(layout=widgets.Layout(height="320px", overflow="hidden"))

    def redraw(_change=None) -> None:
        for out, draw in ((out_points, threshold_figure), (out_matrix, confusion_at)):
            fig = draw(run.p_malignant, run.y_test, threshold.value)
            with out:
                out.clear_output(wait=True)
                display(fig)

    threshold.observe(redraw, names="value")
    redraw()
    return widgets.VBox([threshold, out_points, out_matrix])
