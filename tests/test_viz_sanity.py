"""Lesson 06's sanity-check pictures draw the measurements they are given."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from dlcore.viz import sanity  # noqa: E402


def test_update_ratio_figure_one_panel_per_run_one_line_per_layer():
    ratios = {"lr 1e-3": {"a": [1e-3, 2e-3], "b": [5e-4, 6e-4]},
              "lr 1e-1": {"a": [0.1, 0.05], "b": [0.02, 0.03]}}
    fig = sanity.update_ratio_figure(ratios)
    assert [ax.get_title() for ax in fig.axes] == list(ratios)
    lines = [ln for ln in fig.axes[1].get_lines() if ln.get_label() in ("a", "b")]
    np.testing.assert_allclose(lines[0].get_ydata(), [0.1, 0.05])
    assert lines[0].get_linestyle() != lines[1].get_linestyle()


def test_histograms_one_column_per_layer_and_stds_in_the_legend():
    rng = np.random.default_rng(0)
    acts = {"wide": {"layer 1": rng.normal(0, 1, 500), "layer 2": rng.normal(0, 1, 500)},
            "narrow": {"layer 1": rng.normal(0, 0.1, 500), "layer 2": rng.normal(0, 0.01, 500)}}
    fig = sanity.layer_histograms_figure(acts, acts)
    assert len(fig.axes) == 4
    assert fig.axes[1].get_title() == "layer 2: output"
    assert fig.axes[3].get_title() == "layer 2: weight gradient"
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels[1] == f"narrow: std {acts['narrow']['layer 2'].std():.2g}, 0% zero"
    # Drawn as log10 |value|: a run 100 times smaller sits 2 units to the left.
    patches = fig.axes[1].patches
    centre = [np.average(p.get_path().vertices[:, 0], weights=p.get_path().vertices[:, 1])
              for p in patches]
    assert centre[0] - centre[1] > 1.5


def test_exact_zeros_are_counted_not_drawn():
    relu = np.maximum(np.random.default_rng(1).normal(size=1000), 0)
    fig = sanity.layer_histograms_figure({"run": {"l": relu}}, {"run": {"l": relu + 1}})
    label = fig.axes[0].get_legend().get_texts()[0].get_text()
    assert label.endswith(f"{np.mean(relu == 0):.0%} zero")
