"""Lesson 12's text generator: the model's gradients, temperature, seeded sampling."""
from __future__ import annotations

import asyncio
import html

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore.data import CharVocab  # noqa: E402
from dlcore.gradcheck import numerical_gradient, rel_error  # noqa: E402
from dlcore.viz import textgen as tg  # noqa: E402
from dlcore.viz import widgets  # noqa: E402


def test_backward_matches_numerical_gradients(rng):
    model = tg.CharLSTM(5, embed=3, hidden=4).double()
    ids = np.array([[0, 1, 2], [4, 3, 1]])
    upstream = rng.standard_normal((2, 3, 5))

    def f() -> float:
        return float(np.sum(model(ids) * upstream))

    model.zero_grad()
    model(ids)
    model.backward(upstream)
    for name, p in model.named_parameters():
        assert rel_error(p.grad, numerical_gradient(f, p.data)) < 1e-5, name


def test_step_gives_the_last_scores_of_forward(rng):
    model = tg.CharLSTM(6, embed=3, hidden=5)
    ids = rng.integers(0, 6, (2, 7))
    scores, (h, c) = model.step(ids[:, :4])
    scores2, _ = model.step(ids[:, 4:], (h, c))
    np.testing.assert_allclose(scores2, model(ids)[:, -1], atol=1e-5)


def test_temperature_sharpens_and_flattens():
    scores = np.array([2.0, 1.0, 0.0])
    p1, cold, hot = (tg.with_temperature(scores, t) for t in (1.0, 0.25, 4.0))
    np.testing.assert_allclose(p1, np.exp(scores) / np.exp(scores).sum())
    assert cold[0] > p1[0] > hot[0] and hot[2] > p1[2] > cold[2]
    with pytest.raises(ValueError, match="positive"):
        tg.with_temperature(scores, 0)


def test_trained_model_learns_the_zen_and_samples_repeatably():
    model, vocab, losses = tg.train_char_lstm(epochs=6)
    assert isinstance(vocab, CharVocab) and losses[-1] < 0.75 * losses[0]
    a = tg.sample(model, vocab, "Although ", 60, temperature=0.8, seed=3)
    assert a == tg.sample(model, vocab, "Although ", 60, temperature=0.8, seed=3)
    assert a.startswith("Although ") and len(a) == len("Although ") + 60
    assert set(a) <= set(vocab.chars)
    fig = tg.temperature_figure(model, vocab, "Although ", temperature=0.5, length=40)
    bars = fig.axes[0].patches
    order = np.argsort(-tg.next_char_probs(model, vocab, "Although "), kind="stable")[:12]
    cold = tg.next_char_probs(model, vocab, "Although ", 0.5)[order]
    np.testing.assert_allclose([b.get_height() for b in bars[12:]], cold, rtol=1e-6)


def test_sample_is_sample_chars_one_at_a_time():
    model = tg.CharLSTM(5, embed=3, hidden=4)
    vocab = CharVocab("abcde")
    text = tg.sample(model, vocab, "ab", 30, temperature=1.3, seed=2)
    chars = tg.sample_chars(model, vocab, "ab", temperature=1.3, seed=2)
    assert text == "ab" + "".join(next(chars) for _ in range(30))


@pytest.fixture(scope="module")
def small_model():
    return tg.train_char_lstm(epochs=2)


def test_temperature_explorer_redraws_bars_and_writes_the_text(small_model):
    model, vocab, _ = small_model
    box = tg.temperature_explorer(model, vocab, length=80)
    fig = box.view.fig
    assert "80 of 80 characters" in box.text.value
    before = widgets.image_array(box).copy()
    widgets.TIMINGS.clear()
    widgets.find_control(box, "temperature").value = 0.4
    order = fig.parts.order
    cold = tg.next_char_probs(model, vocab, "Although ", 0.4)[order]
    np.testing.assert_allclose([b.get_height() for b in fig.parts.bars_t], cold, rtol=1e-6)
    assert (widgets.image_array(box) != before).any()
    expected = tg.sample(model, vocab, "Although ", 80, temperature=0.4, seed=0)
    assert html.escape(expected.split("\n")[0][:40]) in box.text.value
    assert "temperature 0.40 (seed 0)" in box.text.value
    sent = len(widgets.TIMINGS)
    widgets.find_control(box, "seed").value = 5
    assert html.escape(tg.sample(model, vocab, "Although ", 80, 0.4, seed=5)[:40]) \
        in box.text.value
    assert len(widgets.TIMINGS) == sent          # another draw: new text, the same bars
    worst = max(r["compute_ms"] + r["draw_ms"] + r["encode_ms"] for r in widgets.TIMINGS
                if r["control"] == "temperature")
    assert worst < 500                                     # a gross-regression guard
    widgets.find_control(box, "prompt").value = "Errors"   # a new prompt: a whole redraw
    assert fig.parts.ax.get_title() == "the next character after “Errors”"
    p1 = tg.next_char_probs(model, vocab, "Errors")
    np.testing.assert_allclose(sorted((b.get_height() for b in fig.parts.bars_1), reverse=True),
                               np.sort(p1)[::-1][:12], rtol=1e-6)


def test_temperature_explorer_streams_the_text_on_a_running_loop(small_model):
    model, vocab, _ = small_model
    box = tg.temperature_explorer(model, vocab, length=200)

    async def move_and_watch():
        box.controls["temperature"].value = 1.5
        shown = [box.text.value]                  # the bars are redrawn at once ...
        while "200 of 200" not in box.text.value:
            if box.text.value != shown[-1]:
                shown.append(box.text.value)
            await asyncio.sleep(0.001)
        return shown

    shown = asyncio.run(move_and_watch())
    assert "0 of 200 characters" in shown[0]      # ... and the text starts empty: it is
    # written afterwards, on the loop, in slices of ~30 ms (one slice on a fast machine)
    final = tg.sample(model, vocab, "Although ", 200, temperature=1.5, seed=0)
    assert html.escape(final[-20:].split("\n")[-1]) in box.text.value
