"""dlcore.viz.plots: the shared helpers draw what their inputs say."""
from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from dlcore import nn
from dlcore.viz import plots

matplotlib.use("Agg")


def _blobs():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-1.5, 0.4, (30, 2)), rng.normal(1.5, 0.4, (30, 2))])
    return X.astype(np.float32), np.repeat([0, 1], 30)


def test_figures_are_closed_and_fixed_size():
    before = len(plt.get_fignums())
    fig = plots.decision_boundary(lambda p: p[:, 0], *_blobs())
    assert len(plt.get_fignums()) == before
    assert tuple(fig.get_size_inches()) == pytest.approx(plots.SIZES["square"])


def test_subplots_rejects_unknown_size():
    with pytest.raises(ValueError, match="size must be one of"):
        plots.subplots("huge")


def test_grid_covers_the_data_with_a_margin():
    X = np.array([[0.0, 0.0], [2.0, 4.0]])
    xx, yy, points = plots.grid(X, steps=5, margin=1.0)
    assert xx.shape == yy.shape == (5, 5)
    assert points.shape == (25, 2)
    assert (xx.min(), xx.max(), yy.min(), yy.max()) == (-1.0, 3.0, -1.0, 5.0)


def test_surface_matches_the_function_on_the_grid():
    X, _ = _blobs()
    xx, yy, zz = plots.surface(lambda p: (2 * p[:, 0] - p[:, 1])[:, None], X, steps=7)
    np.testing.assert_allclose(zz, 2 * xx - yy, rtol=1e-5, atol=1e-5)
    _, _, zz3 = plots.surface(lambda p: np.zeros((len(p), 3)), X, steps=7)
    assert zz3.shape == (7, 7, 3)


def test_decision_boundary_draws_the_line_where_the_output_crosses_the_threshold():
    X, y = _blobs()
    # Output x1 - 0.5: the decision line is the vertical line x1 = 0.5.
    fig = plots.decision_boundary(lambda p: p[:, :1] - 0.5, X, y)
    ax = fig.axes[0]
    boundary = [c for c in ax.collections if hasattr(c, "get_paths")
                and type(c).__name__ == "QuadContourSet" and len(c.levels) == 1]
    assert boundary and boundary[0].levels[0] == 0.0
    vertices = np.concatenate([p.vertices for p in boundary[0].get_paths()])
    np.testing.assert_allclose(vertices[:, 0], 0.5, atol=0.05)
    # the data are drawn once per class, in the class colours
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["class 0", "class 1"]


def test_decision_boundary_threshold_is_one_half_for_probabilities():
    X, y = _blobs()
    model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    model[0].weight.data[:] = [[3.0, 0.0]]
    model[0].bias.data[:] = [-1.5]
    fig = plots.decision_boundary(model, X, y)
    contour = [c for c in fig.axes[0].collections if type(c).__name__ == "QuadContourSet"
               and len(c.levels) == 1][0]
    assert contour.levels[0] == 0.5
    vertices = np.concatenate([p.vertices for p in contour.get_paths()])
    np.testing.assert_allclose(vertices[:, 0], 0.5, atol=0.05)


def test_decision_boundary_colours_regions_by_argmax_for_several_outputs():
    X, y = _blobs()
    fig = plots.decision_boundary(lambda p: np.stack([-p[:, 0], p[:, 0], 0 * p[:, 0]], 1), X, y)
    filled = [c for c in fig.axes[0].collections if type(c).__name__ == "QuadContourSet"][0]
    np.testing.assert_allclose(filled.levels, [-0.5, 0.5, 1.5, 2.5])


def test_layer_sizes_reads_a_sequential_and_names_activations():
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3), nn.Tanh(),
                          nn.Linear(3, 1), nn.Sigmoid())
    assert plots.layer_sizes(model) == [(2, ""), (4, "ReLU"), (3, "Tanh"), (1, "Sigmoid")]
    assert plots.layer_sizes([3, 5, 2]) == [(3, ""), (5, ""), (2, "")]
    with pytest.raises(ValueError, match="at least two"):
        plots.layer_sizes([3])


def test_network_diagram_draws_one_circle_per_unit_and_counts_parameters():
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    fig = plots.network_diagram(model)
    ax = fig.axes[0]
    from matplotlib.collections import LineCollection, PathCollection

    units = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
    assert units == 2 + 4 + 1
    (edges,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(edges.get_segments()) == 2 * 4 + 4 * 1
    assert "17 parameters" in ax.get_title()


def test_network_diagram_elides_wide_layers():
    fig = plots.network_diagram([64, 128, 10], max_units=6)
    ax = fig.axes[0]
    from matplotlib.collections import PathCollection

    assert [len(c.get_offsets()) for c in ax.collections
            if isinstance(c, PathCollection)] == [5, 5, 5]
    assert "9,610 parameters" in ax.get_title()
    assert sum(t.get_text() == "⋮" for t in ax.texts) == 3


def test_confusion_matrix_counts_pairs():
    fig = plots.confusion_matrix([0, 1, 2, 2, 1], [0, 2, 2, 2, 1])
    matrix = np.asarray(fig.axes[0].images[0].get_array())
    np.testing.assert_array_equal(matrix, [[1, 0, 0], [0, 1, 1], [0, 0, 2]])
    assert "80.0%" in fig.axes[0].get_title()
    fig = plots.confusion_matrix([0, 0, 1], [0, 1, 1], normalize=True)
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), [[0.5, 0.5], [0, 1]])


def test_image_grid_shows_every_image_with_its_label():
    images = np.arange(5 * 1 * 3 * 3, dtype=float).reshape(5, 1, 3, 3)
    fig = plots.image_grid(images, labels=list("abcde"), ncols=3)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 6 and len(shown) == 5
    assert [ax.get_title() for ax in shown] == list("abcde")
    np.testing.assert_array_equal(shown[4].images[0].get_array(), images[4, 0])


def test_interactive_figure_redraws_the_picture_when_a_control_moves():
    import ipywidgets as widgets

    from dlcore.viz import widgets as vw

    calls = []

    def draw(a, b):
        calls.append((a, b))
        return plots.network_diagram([a, b])

    a = widgets.IntSlider(value=2, min=1, max=5, description="a")
    b = widgets.IntSlider(value=3, min=1, max=5, description="b")
    box = plots.interactive_figure(draw, {"a": a, "b": b}, columns=1)
    rows = box.children[:2]
    assert [row.children[0] for row in rows] == [a, b]
    assert isinstance(box.view.widget, widgets.Image) and box.children[-1] is box.view.widget
    before = vw.image_array(box)
    a.value = 4
    assert calls[-1] == (4, 3)
    after = vw.image_array(box)
    assert before.shape == after.shape and (before != after).any()


def test_show_source_gives_the_engines_code_with_its_file():
    import inspect
    import textwrap

    shown = plots.show_source(nn.Linear.forward)
    text = shown.data
    assert text.startswith("`Linear.forward`, from `dlcore/nn/linear.py`:")
    assert "```python\ndef forward(self, x" in text              # dedented
    assert textwrap.dedent(inspect.getsource(nn.Linear.forward)).rstrip() in text
    assert repr(shown).startswith("<IPython.core.display.Markdown object")


def test_show_source_names_where_an_inherited_method_lives_and_shows_classes():
    text = plots.show_source(nn.BatchNorm1d.forward).data
    assert text.startswith("`BatchNorm.forward`, from `dlcore/nn/normalization.py`:")
    assert "x_hat = " in text
    assert plots.show_source(nn.Sigmoid).data.startswith("`Sigmoid`, from `dlcore/nn/")
    assert "class Sigmoid(" in plots.show_source(nn.Sigmoid).data


def test_show_source_says_what_it_cannot_show():
    with pytest.raises(TypeError, match="show_source: no Python source to show for"):
        plots.show_source(len)


def test_decision_boundary_can_leave_out_the_legend():
    X, y = _blobs()
    fig = plots.decision_boundary(lambda p: p[:, 0], X, y, legend=False)
    assert fig.axes[0].get_legend() is None


# Machado, Oliveira & Fernandes (2009): deuteranopia (severity 1) on linear RGB.
_DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968],
                          [0.280085, 0.672501, 0.047413],
                          [-0.011820, 0.042940, 0.968881]])


def _as_deuteranope_sees(color: str) -> np.ndarray:
    from matplotlib.colors import to_rgb

    c = np.array(to_rgb(color))
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    seen = np.clip(_DEUTERANOPIA @ linear, 0, 1)
    return np.where(seen <= 0.0031308, 12.92 * seen, 1.055 * seen ** (1 / 2.4) - 0.055)


def test_the_first_class_colours_stay_apart_for_a_deuteranope():
    """Classes 0 and 1 (and each pair of the first three) stay far apart when red and
    green collapse; the pair the course used before, #c53030 red and #2f855a green,
    comes out only 0.20 apart in this simulation, the same olive."""
    def distance(a, b):
        return float(np.linalg.norm(_as_deuteranope_sees(a) - _as_deuteranope_sees(b)))

    assert distance("#c53030", "#2f855a") < 0.25                 # the old red-green pair
    assert distance(*plots.CLASS_COLORS[:2]) > 0.75
    first = plots.CLASS_COLORS[:3]
    pairs = [(a, b) for i, a in enumerate(first) for b in first[i + 1:]]
    assert min(distance(a, b) for a, b in pairs) > 0.4
    assert len(set(plots.CLASS_COLORS)) == len(plots.CLASS_COLORS) == 10
    assert (plots.FORWARD_COLOR, plots.BACKWARD_COLOR) == plots.CLASS_COLORS[:2]


def test_the_surface_runs_from_class_0_through_white_to_class_1():
    from matplotlib.colors import to_hex

    cmap = plots.SURFACE_CMAP
    assert to_hex(cmap(0.0)).lower() == plots.CLASS_COLORS[0].lower()
    assert to_hex(cmap(1.0)).lower() == plots.CLASS_COLORS[1].lower()
    assert min(cmap(0.5)[:3]) > 0.98                               # white in the middle


def test_mosaic_places_each_image_with_nan_gaps_and_a_top_band():
    images = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    out = plots.mosaic(images, 3, gap=(2, 1), top=1)
    assert out.shape == (1 + 2 * (2 + 2) - 2, 3 * (3 + 1) - 1)
    for k, image in enumerate(images):
        r, c = divmod(k, 3)
        np.testing.assert_array_equal(out[1 + 4 * r:1 + 4 * r + 2, 4 * c:4 * c + 3], image)
    assert np.isnan(out[0]).all() and np.isnan(out[:, 3]).all()   # the band and a gap
    assert np.isnan(out[5:, 8:]).all()                            # no sixth image
    assert np.isfinite(out).sum() == images.size
    with pytest.raises(ValueError, match=r"\(N, h, w\)"):
        plots.mosaic(images[0], 3)
