"""Lesson 12's sounds: the synthetic voices, their spectrograms, and the CNN that hears them."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore import train  # noqa: E402
from dlcore.nn.functional import softmax  # noqa: E402
from dlcore.viz import sounds, widgets  # noqa: E402


def _pitch_track(kind: str) -> np.ndarray:
    """The loudest frequency row of each window of a noiseless sound."""
    return sounds.spectrogram(sounds.make_sound(kind, noise=0.0, seed=2)).argmax(axis=0)


def test_spectrogram_shape_and_pitch_direction():
    S = sounds.spectrogram(sounds.make_sound("steady", 0.0))
    assert S.shape == (32, 32) and S.min() >= 0 and S.max() == 1
    rising, falling, steady = (_pitch_track(k) for k in ("rising", "falling", "steady"))
    assert rising[-3:].mean() > rising[:3].mean()
    assert falling[-3:].mean() < falling[:3].mean()
    assert np.ptp(steady) <= 1
    with pytest.raises(ValueError, match="kind must be one of"):
        sounds.make_sound("whistle")


def test_spectrogram_of_a_batch_is_each_sound_on_its_own():
    waves = np.stack([sounds.make_sound(kind, 0.3, seed) for seed, kind in
                      enumerate(sounds.KINDS)])
    np.testing.assert_array_equal(sounds.spectrogram(waves),
                                  np.stack([sounds.spectrogram(w) for w in waves]))


def test_make_sounds_is_balanced_and_repeatable():
    X, y = sounds.make_sounds(40, seed=1)
    assert X.shape == (40, 1, 32, 32) and X.dtype == np.float32
    assert np.bincount(y).tolist() == [10, 10, 10, 10]
    np.testing.assert_array_equal(X, sounds.make_sounds(40, seed=1)[0])


@pytest.fixture(scope="module")
def trained():
    return sounds.train_sound_cnn()


def test_cnn_hears_the_kinds_and_the_figure_shows_it(trained):
    model, scores = trained
    assert scores["test_accuracy"] > 0.8
    fig = sounds.sound_figure(model, "falling", noise=0.1, seed=4)
    ax_wave, ax_spec, ax_bar = fig.axes
    np.testing.assert_array_equal(ax_spec.images[0].get_array(),
                                  sounds.spectrogram(sounds.make_sound("falling", 0.1, 4)))
    heights = [p.get_height() for p in ax_bar.patches]
    assert len(heights) == 4
    np.testing.assert_allclose(sum(heights), 1, rtol=1e-5)


def test_spectrogram_grid_draws_each_with_time_and_frequency_axes():
    S = np.stack([sounds.spectrogram(sounds.make_sound(kind, seed=0)) for kind in sounds.KINDS])
    fig = sounds.spectrogram_grid(S, list(sounds.KINDS))
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert len(panels) == 4 and panels[0].get_ylabel() == "frequency (Hz)"
    assert panels[0].get_ylim()[1] == sounds.RATE / 2
    with pytest.raises(ValueError, match="titles"):
        sounds.spectrogram_grid(S, ["only one"])


def test_sound_explorer_shows_the_chosen_sound(trained):
    model, _ = trained
    box = sounds.sound_explorer(model)
    fig = box.view.fig
    before = widgets.image_array(box).copy()
    widgets.TIMINGS.clear()
    widgets.find_control(box, "sound").value = "beeping"
    widgets.find_control(box, "noise").value = 1.5
    widgets.find_control(box, "example").value = 4
    x = sounds.make_sound("beeping", 1.5, 4)
    np.testing.assert_array_equal(fig.parts.image.get_array(), sounds.spectrogram(x))
    np.testing.assert_array_equal(fig.parts.wave.get_ydata(), x[fig.parts.shown])
    assert fig.parts.ax_wave.get_title() == "the wave: “beeping”, noise 1.50"
    probs = softmax(train.predict(model, sounds.spectrogram(x)[None, None]), dim=-1)[0]
    np.testing.assert_allclose([b.get_height() for b in fig.parts.bars], probs, rtol=1e-5)
    assert (widgets.image_array(box) != before).any()
    worst = max(t["compute_ms"] + t["draw_ms"] + t["encode_ms"] for t in widgets.TIMINGS)
    assert len(widgets.TIMINGS) == 3 and worst < 500       # a gross-regression guard
