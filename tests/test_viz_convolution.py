"""Lesson 07's pictures and widgets compute what nn.Conv2d computes."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore import nn  # noqa: E402
from dlcore.nn.functional import softmax  # noqa: E402
from dlcore.viz import convolution as cv  # noqa: E402
from dlcore.viz import plots  # noqa: E402
from dlcore.viz import widgets as vw  # noqa: E402


def loops(x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The textbook convolution (cross-correlation) of one grey image."""
    x = np.pad(x.astype(np.float64), padding)
    k = w.shape[0]
    n_r = (x.shape[0] - k) // stride + 1
    n_c = (x.shape[1] - k) // stride + 1
    return np.array([[(x[i * stride:i * stride + k, j * stride:j * stride + k] * w).sum()
                      for j in range(n_c)] for i in range(n_r)])


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 1), (3, 2)])
def test_convolve_is_the_sliding_weighted_sum(rng, stride, padding):
    x = rng.random((9, 11)).astype(np.float32)
    w = rng.standard_normal((3, 3)).astype(np.float32)
    np.testing.assert_allclose(cv.convolve(x, w, stride, padding), loops(x, w, stride, padding),
                               rtol=1e-5, atol=1e-5)


def test_blend_kernel_runs_from_identity_to_the_kernel():
    sharpen = cv.KERNELS["sharpen"]
    np.testing.assert_array_equal(cv.blend_kernel(sharpen, 0.0), cv.IDENTITY)
    np.testing.assert_allclose(cv.blend_kernel(sharpen, 1.0), sharpen)
    np.testing.assert_allclose(cv.blend_kernel(sharpen, 2.0) - cv.IDENTITY,
                               2 * (sharpen - cv.IDENTITY))


def test_identity_kernel_leaves_the_photo_alone():
    photo = cv.photo(size=(40, 60))
    assert photo.shape == (40, 60) and 0 <= photo.min() and photo.max() <= 1
    np.testing.assert_allclose(cv.convolve(photo, cv.IDENTITY, padding=1), photo, atol=1e-6)


def test_edge_kernels_answer_zero_on_a_flat_image():
    flat = np.full((6, 6), 0.7, dtype=np.float32)
    for name in ("edges (all directions)", "vertical edges (Sobel x)",
                 "horizontal edges (Sobel y)"):
        np.testing.assert_allclose(cv.convolve(flat, cv.KERNELS[name]), 0, atol=1e-5)


def test_filtered_and_kernel_html_show_what_the_kernel_figure_shows():
    photo = cv.photo(size=(30, 40))
    edges = cv.KERNELS["edges (all directions)"]
    values, clim, note = cv.filtered(photo, edges)
    fig = cv.kernel_figure(photo, edges)
    np.testing.assert_allclose(values, fig.parts.result.get_array(), atol=1e-6)
    assert clim == fig.parts.result.get_clim() and note in fig.parts.result_title.get_text()
    table = cv.kernel_html(edges)
    assert "kernel (sum 0)" in table and table.count("<td") == 9 and ">8</td>" in table
    assert cv.image_figure(photo).parts.image.get_array().shape == photo.shape


def test_filter_grid_puts_each_kernel_in_its_cell():
    kernels = np.arange(10 * 9, dtype=np.float32).reshape(10, 3, 3) - 40
    fig = cv.filter_grid(kernels, ncols=4)
    grid = fig.axes[0].images[0].get_array()
    assert grid.shape == (3 * 4, 4 * 4 - 1)                # 3 rows of 4, gaps between
    np.testing.assert_array_equal(grid[1:4, 0:3], kernels[0])
    np.testing.assert_array_equal(grid[5:8, 4:7], kernels[5])   # row 1, column 1
    assert np.ma.getmaskarray(grid)[0].all()               # the label row above row 0
    assert [t.get_text() for t in fig.axes[0].texts] == [f"filter {f}" for f in range(10)]
    assert fig.axes[0].images[0].get_clim() == (-49, 49)   # one scale: the largest |weight|


def test_kernel_figure_shows_the_engines_output():
    photo = cv.photo(size=(30, 40))
    blur = cv.KERNELS["blur (box)"]
    fig = cv.kernel_figure(photo, blur, "blur")
    shown = fig.axes[2].images[0].get_array()
    np.testing.assert_allclose(shown, np.clip(cv.convolve(photo, blur, padding=1), 0, 1),
                               atol=1e-6)
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), blur)


def test_kernel_gallery_one_panel_per_kernel():
    photo = cv.photo(size=(30, 40))
    names = ["identity", "sharpen", "edges (all directions)", "emboss"]
    fig = cv.kernel_gallery(photo, names)
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title().rsplit(" (sum", 1)[0] for ax in panels] == names
    edges = panels[2].images[0].get_array()
    assert edges.min() >= 0 and edges.max() == pytest.approx(1.0)


def test_one_pixel_figure_sums_the_products():
    patch = cv.photo(size=(30, 40))[10:18, 10:18]
    kernel = cv.KERNELS["vertical edges (Sobel x)"]
    fig = cv.one_pixel_figure(patch, kernel, 2, 3)
    products = fig.axes[3].images[0].get_array()
    np.testing.assert_allclose(products, patch[2:5, 3:6] * kernel, atol=1e-6)
    expected = cv.convolve(patch, kernel)[2, 3]
    assert f"{expected:.3f}" in fig.axes[3].get_title()


@pytest.mark.parametrize("size, kernel, stride, padding",
                         [(7, 3, 1, 0), (7, 3, 2, 1), (8, 3, 2, 0), (10, 5, 3, 2), (4, 2, 2, 0)])
def test_window_positions_match_conv2d(size, kernel, stride, padding):
    positions = cv.window_positions(size, kernel, stride, padding)
    y = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding)(
        np.zeros((1, 1, size, size), np.float32))
    assert len(positions) == y.shape[2] * y.shape[3]
    assert positions[0] == (0, 0)
    last_r, last_c = positions[-1]
    assert last_r + kernel <= size + 2 * padding and last_c + kernel <= size + 2 * padding
    assert last_r + stride + kernel > size + 2 * padding      # no further window fits


def test_stride_padding_figure_states_the_formula_and_marks_the_window():
    fig = cv.stride_padding_figure(size=7, kernel=3, stride=2, padding=1, window=5)
    assert "= 4" in fig._suptitle.get_text()
    ax_in, ax_out = fig.axes
    centres, chosen = [line for line in ax_in.lines if line.get_marker() == "o"]
    assert len(centres.get_xdata()) == 16                  # every window's centre
    r, c = cv.window_positions(7, 3, 2, 1)[5]
    assert (chosen.get_xdata()[0], chosen.get_ydata()[0]) == (c + 1.5, 9 - r - 1.5)
    assert fig.parts.window_box.get_xy() == (c, 9 - r - 3)
    assert "window 6 of 16" in ax_out.get_title()
    assert fig.parts.chosen.get_xy() == (1, 2)             # output row 1, column 1 of 4
    zeros = fig.parts.zeros.get_xdata()
    assert len(zeros) == 9 * 9 - 7 * 7                     # one "0" per padding cell
    assert len(fig.parts.grid_in.get_segments()) == 2 * 10  # 9 x 9 cells: 10 lines each way
    floor = cv.stride_padding_figure(size=8, kernel=3, stride=2, padding=0)
    assert "never reached" in floor._suptitle.get_text()
    assert all(rect.get_visible() for rect in floor.parts.unreached)
    too_big = cv.stride_padding_figure(size=3, kernel=5, stride=1, padding=0)
    assert "< 1" in too_big._suptitle.get_text()
    assert not too_big.parts.window_box.get_visible() and too_big.parts.too_big.get_visible()


def test_im2col_is_the_engines_columns():
    x = np.arange(16, dtype=np.float32).reshape(4, 4)
    cols = cv.im2col(x, 3)
    assert cols.shape == (9, 4)
    np.testing.assert_array_equal(cols[:, 0], x[:3, :3].ravel())
    np.testing.assert_array_equal(cols[:, 3], x[1:, 1:].ravel())
    w = np.arange(9, dtype=np.float32).reshape(3, 3) - 4
    np.testing.assert_allclose((w.reshape(1, -1) @ cols).reshape(2, 2), cv.convolve(x, w))
    fig = cv.im2col_figure(x, w)
    shown = [float(t.get_text()) for t in fig.axes[3].texts]
    np.testing.assert_allclose(shown, cv.convolve(x, w).ravel())


def small_cnn() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(24, 10))


def test_feature_map_figure_shows_the_maps_and_the_probabilities(rng):
    model = small_cnn()
    image = rng.random((1, 8, 8)).astype(np.float32)
    fig = cv.feature_map_figure(model, image, label=3, max_maps=4)
    bars = [p.get_height() for p in fig.parts.bars]
    np.testing.assert_allclose(bars, softmax(model(image[None]), dim=-1)[0], rtol=1e-5)
    outputs = dict(plots.layer_outputs(model, image[None]))
    first_relu, second_relu = outputs["(1) ReLU()"][0], outputs["(4) ReLU()"][0]
    rows = [im.get_array() for im in fig.parts.maps]
    assert len(rows) == 2                                  # one row per ReLU
    np.testing.assert_allclose(rows[0], cv.mosaic(first_relu[:4]), rtol=1e-6)
    np.testing.assert_allclose(rows[1][:, :4], second_relu[0], rtol=1e-6)
    assert np.ma.getmaskarray(rows[0])[:, 8].all()         # the gap between maps 0 and 1
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "after (1) ReLU:\n4 maps 8×8" in texts and "(first 4 shown)" in texts


def test_mosaic_lays_maps_side_by_side():
    maps = np.arange(12, dtype=np.float32).reshape(3, 2, 2)
    out = cv.mosaic(maps, gap=1)
    assert out.shape == (2, 8)
    np.testing.assert_array_equal(out[:, 3:5], maps[1])
    assert np.isnan(out[:, [2, 5]]).all()


def test_update_feature_map_figure_shows_another_image(rng):
    model = small_cnn()
    images = rng.random((2, 1, 8, 8)).astype(np.float32)
    fig = cv.feature_map_figure(model, images[0], label=0)
    cv.update_feature_map_figure(fig, model, images[1], label=1)
    fresh = cv.feature_map_figure(model, images[1], label=1)
    for a, b in zip(fig.parts.maps, fresh.parts.maps, strict=True):
        np.testing.assert_allclose(a.get_array(), b.get_array(), rtol=1e-6)
    assert fig.parts.bars_title.get_text() == fresh.parts.bars_title.get_text()
    assert fig.parts.input_title.get_text() == "input: a 1"


def test_kernel_figure_updates_in_place():
    photo = cv.photo(size=(30, 40))
    fig = cv.kernel_figure(photo, cv.KERNELS["blur (box)"], "blur")
    edges = cv.KERNELS["edges (all directions)"]
    cv.update_kernel_figure(fig, edges, "edges")
    result = fig.parts.result
    np.testing.assert_allclose(result.get_array(), cv.convolve(photo, edges, padding=1),
                               atol=1e-5)
    low, high = result.get_clim()
    assert low == -high > -np.inf                          # signed: 0 is mid-grey
    assert "mid-grey = 0" in fig.parts.result_title.get_text()
    assert fig.parts.numbers[1][1].get_text() == "8"
    assert fig.parts.suptitle.get_text() == "kernel: edges"
    with pytest.raises(ValueError, match="3, 3"):
        cv.update_kernel_figure(fig, np.ones((5, 5)))


def picture_state(fig) -> list:
    """Everything a stride-and-padding figure shows: texts, and each artist's
    visibility and data, positions or segments."""
    state = [fig.parts.suptitle.get_text(), *(ax.get_title() for ax in fig.axes),
             *(ax.get_xlim() for ax in fig.axes)]
    for artist in [*fig.parts.shape_artists, fig.parts.too_big]:
        state.append(artist.get_visible())
        if not artist.get_visible():
            continue
        if hasattr(artist, "get_xydata"):
            state.append(artist.get_xydata().tolist())
        elif hasattr(artist, "get_segments"):
            state.append([seg.tolist() for seg in artist.get_segments()])
        elif hasattr(artist, "get_bbox"):
            state.append(artist.get_bbox().bounds)
        else:
            state.append(artist.get_text())
    return state


def test_update_stride_padding_figure_equals_a_fresh_figure():
    fig = cv.stride_padding_figure(size=7, kernel=3, stride=2, padding=1, window=5)
    artists = len(fig.axes[0].get_children()) + len(fig.axes[1].get_children())
    for values, new_shape in [(dict(size=8, kernel=3, stride=2, padding=0, window=3), True),
                              (dict(size=8, kernel=3, stride=2, padding=0, window=7), False),
                              (dict(size=3, kernel=5, stride=1, padding=0, window=0), True),
                              (dict(size=10, kernel=1, stride=1, padding=2, window=9), True)]:
        assert cv.update_stride_padding_figure(fig, **values) is new_shape
        assert picture_state(fig) == picture_state(cv.stride_padding_figure(**values))
    # the same artists, changed in place: nothing added, nothing left behind
    assert len(fig.axes[0].get_children()) + len(fig.axes[1].get_children()) == artists


def changed(box, control, value) -> bool:
    """Move ``control`` of widget ``box`` to ``value``; did the picture change?"""
    before = vw.image_array(box).copy()
    control.value = value
    after = vw.image_array(box)
    return before.shape != after.shape or bool((before != after).any())


def test_kernel_editor_controls_change_the_picture_fast():
    photo = cv.photo(size=(40, 60))
    box = cv.kernel_editor(photo)
    kernel, strength = vw.find_control(box, "kernel"), vw.find_control(box, "strength")
    output = box.view.fig.parts.image
    assert changed(box, kernel, "sharpen")
    assert ">5</td>" in box.kernel_html.value                   # sharpen's centre
    np.testing.assert_allclose(output.get_array(),
                               np.clip(cv.convolve(photo, cv.KERNELS["sharpen"], padding=1),
                                       0, 1), atol=1e-5)
    assert changed(box, strength, 0.0)
    assert ">1</td>" in box.kernel_html.value and "kernel (sum 1)" in box.kernel_html.value
    np.testing.assert_allclose(output.get_array(), np.clip(photo, 0, 1), atol=1e-5)
    assert changed(box, kernel, "edges (all directions)") is False   # strength 0: identity
    assert changed(box, strength, 1.0)
    assert "mid-grey = 0" in box.output_title.value
    low, high = output.get_clim()
    assert low == -high < 0                                  # signed: 0 is mid-grey
    # the photo is its own picture, sent once: a new kernel sends only the output
    np.testing.assert_array_equal(box.input_view.fig.parts.image.get_array(), photo)
    photo_png = box.input_view.widget.value
    assert changed(box, strength, 1.5)
    assert box.input_view.widget.value is photo_png
    vw.TIMINGS.clear()
    kernel.value = "emboss"
    record = vw.TIMINGS[-1]
    assert record["widget"] == "kernel_editor" and record["control"] == "name"
    assert sum(record[k] for k in ("compute_ms", "draw_ms", "encode_ms")) < 500


def test_stride_padding_explorer_controls_change_the_picture_and_the_window_range():
    box = cv.stride_padding_explorer()
    window = vw.find_control(box, "window")
    assert window.max == 15                                # 7, 3, 2, 1 -> 4 x 4 windows
    assert changed(box, vw.find_control(box, "stride S"), 1)
    assert window.max == 48                                # 7 x 7 windows
    grid = box.view.fig.parts.grid_in.get_segments()
    assert changed(box, window, 30)
    assert "window 31 of 49" in box.view.fig.axes[1].get_title()
    assert "window 31 of 49" in box.caption.value                 # the titles, as text above
    assert "= 7" in box.caption.value and not box.view.fig.parts.suptitle.get_visible()
    assert box.view.fig.parts.window_layer == box.view.animated   # a window alone is blitted
    np.testing.assert_array_equal(box.view.fig.parts.grid_in.get_segments(), grid)
    for text, value in (("input size", 9), ("kernel K", 5), ("padding P", 2)):
        assert changed(box, vw.find_control(box, text), value), text
    vw.TIMINGS.clear()
    window.value = 3
    assert sum(vw.TIMINGS[-1][k] for k in ("compute_ms", "draw_ms", "encode_ms")) < 500


def test_feature_map_explorer_shows_the_chosen_image(rng):
    model = small_cnn()
    images = rng.random((3, 1, 8, 8)).astype(np.float32)
    box = cv.feature_map_explorer(model, images, np.array([0, 1, 2]))
    slider = vw.find_control(box, "test image")
    assert slider.max == 2
    assert changed(box, slider, 2)
    fresh = cv.feature_map_figure(model, images[2], 2)
    np.testing.assert_allclose(box.view.fig.parts.maps[0].get_array(),
                               fresh.parts.maps[0].get_array(), rtol=1e-6)
    vw.TIMINGS.clear()
    slider.value = 1
    assert sum(vw.TIMINGS[-1][k] for k in ("compute_ms", "draw_ms", "encode_ms")) < 500


def test_every_control_says_what_it_does(rng):
    model = small_cnn()
    boxes = (cv.kernel_editor(cv.photo(size=(20, 30))), cv.stride_padding_explorer(),
             cv.feature_map_explorer(model, rng.random((2, 1, 8, 8)).astype(np.float32),
                                     np.array([0, 1])))
    for box in boxes:
        for control in box.controls.values():
            assert control.description and len(control.tooltip or "") > 15, control


def test_seed_comparison_figure_shows_each_seed_and_the_mean():
    accuracies = {"MLP": [0.967, 0.967, 0.969], "CNN": [0.981, 0.975, 0.972]}
    fig = cv.seed_comparison_figure(accuracies, n_test=359)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    cnn = 100 * np.array(accuracies["CNN"])
    assert labels[1] == f"CNN: {cnn.mean():.1f}% ± {cnn.std(ddof=1):.1f}"
    markers = [ln for ln in ax.get_lines() if ln.get_label() == labels[1]][0]
    np.testing.assert_allclose(markers.get_xdata(), cnn)
    assert "0.28 points" in ax.get_xlabel()
