"""Lesson 12's drawing pad: templates, the image the pen makes, and the CNN's reading."""
from __future__ import annotations

import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore.viz import draw, widgets  # noqa: E402


@pytest.fixture(scope="module")
def trained():
    return draw.train_digit_cnn(epochs=4)


def test_templates_are_8x8_ink():
    for name in draw.TEMPLATES:
        cells = draw.template(name)
        assert cells.shape == (8, 8) and cells.dtype == bool
        assert 10 <= cells.sum() <= 30, name
    with pytest.raises(ValueError, match="choose one of"):
        draw.template("x")


def test_pen_image_scales_ink_and_adds_repeatable_noise():
    cells = draw.template("3")
    image = draw.pen_image(cells, intensity=0.6)
    assert image.dtype == np.float32
    np.testing.assert_allclose(image[cells], 0.6)
    assert np.all(image[~cells] == 0)
    noisy = draw.pen_image(cells, 0.6, noise=0.3, seed=1)
    np.testing.assert_array_equal(noisy, draw.pen_image(cells, 0.6, noise=0.3, seed=1))
    assert not np.array_equal(noisy, image)
    assert noisy.min() >= 0 and noisy.max() <= 1
    with pytest.raises(ValueError, match=r"\(8, 8\)"):
        draw.pen_image(np.zeros((7, 8)))


def test_cnn_reads_the_digits_and_most_templates(trained):
    model, scores = trained
    assert scores["test_accuracy"] > 0.85
    right = sum(int(np.argmax(draw.probabilities(model, draw.pen_image(draw.template(k)))))
                == int(k) for k in draw.TEMPLATES)
    assert right >= 8


def test_probabilities_sum_to_one_and_figure_names_the_top_class(trained):
    model, _ = trained
    image = draw.pen_image(draw.template("7"))
    probs = draw.probabilities(model, image)
    assert probs.shape == (10,)
    np.testing.assert_allclose(probs.sum(), 1, rtol=1e-5)
    fig = draw.prediction_figure(image, probs)
    ax_img, ax_bar = fig.axes
    np.testing.assert_array_equal(ax_img.images[0].get_array(), image)
    heights = [p.get_height() for p in ax_bar.patches]
    np.testing.assert_allclose(heights, probs, rtol=1e-6)
    assert ax_bar.get_title().startswith(f"prediction: {int(np.argmax(probs))}")


def test_drawings_figure_shows_both_rows_in_one_image():
    drawn = np.stack([draw.template(k) for k in draw.TEMPLATES]).astype(np.float32)
    real = np.random.default_rng(0).uniform(size=(10, 8, 8))
    (ax,) = draw.drawings_figure(drawn, real).axes
    mosaic = ax.images[0].get_array()
    np.testing.assert_array_equal(mosaic[:8, 30:38], drawn[3])      # top row, the fourth
    np.testing.assert_array_equal(mosaic[12:20, 90:98], real[9])    # bottom row, the last
    texts = [t.get_text() for t in ax.texts]
    assert texts[:2] == ["drawn 0", "drawn 1"] and texts[-1] == "real 9"
    with pytest.raises(ValueError, match="two"):
        draw.drawings_figure(drawn[:5], real)


def test_digit_pad_follows_clicks_sliders_and_templates(trained):
    model, _ = trained
    box = draw.digit_pad(model, start="3")
    fig = box.view.fig
    three = draw.pen_image(draw.template("3"))
    np.testing.assert_array_equal(fig.parts.image.get_array(), three)
    assert [c.value for c in box.cells] == draw.template("3").ravel().tolist()
    before = widgets.image_array(box).copy()

    box.cells[0].value = True                       # ink the top-left cell
    assert fig.parts.image.get_array()[0, 0] == 1.0
    assert "dl-pad" in box.grid._dom_classes and ".dl-pad" in draw.INK_CSS   # ink colour
    clicked = widgets.image_array(box).copy()
    assert (clicked != before).any()

    widgets.find_control(box, "pen intensity").value = 0.5
    assert fig.parts.image.get_array().max() == 0.5
    widgets.find_control(box, "noise").value = 0.3
    np.testing.assert_array_equal(fig.parts.image.get_array(),
                                  draw.pen_image(np.array([c.value for c in box.cells]
                                                          ).reshape(8, 8), 0.5, 0.3))
    widgets.find_control(box, "start from").value = "7"
    seven = draw.pen_image(draw.template("7"), 0.5, 0.3)
    probs = draw.probabilities(model, seven)
    np.testing.assert_allclose([b.get_height() for b in fig.parts.bars], probs, rtol=1e-6)
    assert fig.parts.ax_bar.get_title().startswith(f"prediction: {int(np.argmax(probs))}")
    before = widgets.image_array(box)
    start = time.process_time()
    widgets.find_control(box, "clear the grid").click()
    assert time.process_time() - start < 0.5          # CPU time: a gross-regression guard
    assert not any(c.value for c in box.cells)
    assert not np.array_equal(widgets.image_array(box), before)
    np.testing.assert_array_equal(fig.parts.image.get_array(),     # noise only, no ink
                                  draw.pen_image(np.zeros((8, 8), bool), 0.5, 0.3))
    assert box.view.fig is fig                             # changed in place


def test_digit_pad_click_is_fast(trained):
    model, _ = trained
    box = draw.digit_pad(model)
    widgets.TIMINGS.clear()
    for k in range(5):
        box.cells[k].value = not box.cells[k].value
    worst = max(r["compute_ms"] + r["draw_ms"] + r["encode_ms"] for r in widgets.TIMINGS)
    assert len(widgets.TIMINGS) == 5 and worst < 500       # a gross-regression guard
