"""The report's figures, drawn with matplotlib and embedded as base64 PNG ``data:`` URLs,
so ``report.html`` is one file that opens anywhere without a server."""
from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # the grader draws into files, never onto a screen
import matplotlib.pyplot as plt  # noqa: E402


def _data_url(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def score_histogram(totals: list[float], max_total: float) -> str:
    """Totals of the learners who handed something in, one bar per point (or per tenth
    of the maximum when it is large)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.0), layout="constrained")
    width = max(max_total / 10, 1.0) if max_total > 12 else 1.0
    edges = [i * width - width / 2 for i in range(int(max_total / width) + 2)]
    ax.hist(totals, bins=edges, color="#3b6ea5", edgecolor="white")
    ax.set_xlabel(f"total points (out of {max_total:g})")
    ax.set_ylabel("learners")
    ax.set_xlim(edges[0], edges[-1])
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _data_url(fig)


def part_bars(names: list[str], full: list[int], partial: list[int], zero: list[int]) -> str:
    """Per part, how many learners earned all, some or none of its points."""
    fig, ax = plt.subplots(figsize=(6.4, 0.5 + 0.45 * len(names)), layout="constrained")
    rows = list(range(len(names)))[::-1]
    # Okabe-Ito blue, orange and vermillion (as dlcore.viz.plots): never a red-green pair
    ax.barh(rows, full, color="#0072B2", label="all points")
    ax.barh(rows, partial, left=full, color="#E69F00", label="some")
    ax.barh(rows, zero, left=[f + p for f, p in zip(full, partial, strict=True)],
            color="#D55E00", label="none", hatch="//", edgecolor="white")
    ax.set_yticks(rows, names)
    ax.set_xlabel("learners")
    fig.legend(loc="outside upper center", fontsize="small", ncols=3, frameon=False)
    return _data_url(fig)


def time_histogram(seconds: list[float]) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 2.6), layout="constrained")
    ax.hist(seconds, bins=min(30, max(5, len(seconds) // 4)), color="#7d5ba6",
            edgecolor="white")
    ax.set_xlabel("seconds to grade one notebook")
    ax.set_ylabel("notebooks")
    return _data_url(fig)
