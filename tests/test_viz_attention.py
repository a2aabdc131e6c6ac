"""Lesson 13's experiments and figures: the reversal task and its models (gradients,
learning), the scaling statistics, the figures and the widgets' plain functions."""
from __future__ import annotations

import time

import numpy as np
import pytest
from matplotlib.figure import Figure

import dlcore
from dlcore import data, nn
from dlcore.gradcheck import numerical_gradient
from dlcore.viz import attention as av
from dlcore.viz import gpt


def test_reverse_task_writes_the_symbols_backwards():
    ids, targets = av.reverse_task(3, length=5, n_symbols=4, seed=2)
    assert ids.shape == (3, 10) and targets.shape == (3, 5)
    assert np.all(ids[:, 5:] == 4) and ids[:, :5].max() < 4
    np.testing.assert_array_equal(targets, ids[:, 4::-1])


@pytest.mark.parametrize("build", [lambda: av.ReverseLSTM(4, 3, embed=3, hidden=4),
                                   lambda: av.ReverseAttention(4, 3, d_model=4, num_heads=2),
                                   lambda: av.ReverseAttention(4, 3, 4, positions=False)])
def test_reversal_models_backward_matches_central_differences(build):
    dlcore.manual_seed(0)
    model = build().double()
    ids, targets = av.reverse_task(2, length=3, n_symbols=4, seed=0)
    loss_fn = nn.CrossEntropyLoss()

    def loss():
        return loss_fn(model(ids).reshape(-1, 4), targets.reshape(-1))

    model.zero_grad()
    scores = model(ids)
    loss_fn(scores.reshape(-1, 4), targets.reshape(-1))
    model.backward(loss_fn.backward().reshape(scores.shape))
    for name, p in model.named_parameters():
        numeric = numerical_gradient(loss, p.data)
        assert np.abs(p.grad - numeric).max() < 1e-6 * np.abs(numeric).max(), name


def test_attention_solves_the_reversal_and_the_lstm_does_not_at_the_same_budget():
    results = av.compare_on_reversal(length=8, steps=120)
    sizes = results.parameters
    assert abs(sizes["LSTM"] - sizes["attention"]) < 0.1 * sizes["LSTM"]
    assert results.accuracy["attention"].mean() > 0.95
    assert results.accuracy["LSTM"].mean() < 0.8
    assert results.accuracy["attention, no positions"].mean() < 0.5
    assert isinstance(av.bottleneck_figure(results), Figure)


def test_scaling_keeps_the_spread_and_the_gradient():
    s = av.scaling_stats(dims=(4, 64, 1024), trials=300)
    np.testing.assert_allclose(s["std"], np.sqrt(s["dims"]), rtol=0.15)
    assert s["max_raw"][-1] > 0.9 and np.ptp(s["max_scaled"]) < 0.05
    assert s["grad_raw"][-1] < 0.25 * s["grad_raw"][0]
    assert np.ptp(s["grad_scaled"]) < 0.05


def test_figures():
    assert len(av.scaling_figure(av.scaling_stats(dims=(4, 16), trials=50)).axes) == 3
    assert len(av.mask_figure(["a", "b", "c", "<pad>"], pad=1).axes) == 3
    assert len(av.block_figure().axes) == 2


@pytest.fixture(scope="module")
def small_gpt():
    vocab = data.CharVocab("abcdefghij (): ")
    dlcore.manual_seed(0)
    model = gpt.TinyGPT(len(vocab), context=16, d_model=8, nhead=2, num_layers=2,
                        dim_feedforward=16).eval()
    return model, vocab


def test_gpt_figures(small_gpt):
    model, vocab = small_gpt
    fig = av.attention_map_figure(model, vocab, "ab(c)", 1, 1)
    maps = gpt.attention_maps(model, vocab, "ab(c)")
    np.testing.assert_array_equal(fig.parts.image.get_array(), maps[1, 1])
    assert fig.parts.ax.get_title().startswith("layer 2, head 2")
    assert [t.get_text() for t in fig.parts.ax.get_xticklabels()] == ["a", "b", "(", "c", ")"]
    small = av.attention_map_figure(model, vocab, "ab(c)", 1, 0, small=True)
    np.testing.assert_array_equal(small.parts.image.get_array(), maps[1, 0])
    assert small.parts.ax.get_title() == "head 1" and not small.parts.ax.get_xticks().size
    fig = av.sampling_figure(model, vocab, "ab", temperature=1.5, top_k=3)
    heights = fig.parts.heights_t
    assert np.count_nonzero(heights) == 3 and sum(heights) == pytest.approx(1)
    p1 = gpt.next_char_probs(model(vocab.encode("ab")[None])[0, -1])
    order = np.argsort(-p1, kind="stable")[:len(fig.parts.labels)]
    assert [t.get_text() for t in fig.parts.labels] == [av._shown(vocab.chars[i])
                                                        for i in order]
    np.testing.assert_allclose(fig.parts.heights_1, p1[order])
    tops = fig.parts.bars_1.get_paths()[0].vertices[:, 1]       # what is drawn
    assert tops.max() == pytest.approx(p1[order][0])


def test_attention_explorer_moves_layer_head_and_text(small_gpt):
    from dlcore.viz import widgets

    model, vocab = small_gpt
    box = av.attention_explorer(model, vocab, "abc(de)")
    big, heads = box.views[0], box.views[1:]
    maps = gpt.attention_maps(model, vocab, "abc(de)")
    assert len(heads) == 2 and box.title.value.startswith("<b>layer 1, head 1")
    assert heads[0].widget.layout.border.endswith(av.plots.ACCENT)        # framed
    before = [widgets.image_array(view) for view in box.views]
    start = time.process_time()
    widgets.find_control(box, "layer").value = 2
    assert time.process_time() - start < 0.5          # CPU time: a gross-regression guard
    np.testing.assert_array_equal(big.fig.parts.image.get_array(), maps[1, 0])
    for h, view in enumerate(heads):                  # every head of layer 2, small
        np.testing.assert_array_equal(view.fig.parts.image.get_array(), maps[1, h])
    assert all(not np.array_equal(widgets.image_array(view), old)
               for view, old in zip(box.views, before, strict=True))
    before = [widgets.image_array(view) for view in box.views]
    sent = [view.widget.value for view in heads]
    start = time.process_time()
    widgets.find_control(box, "head shown large").value = 1
    assert time.process_time() - start < 0.5
    np.testing.assert_array_equal(big.fig.parts.image.get_array(), maps[1, 1])
    assert box.title.value.startswith("<b>layer 2, head 2")
    assert not np.array_equal(widgets.image_array(big), before[0])
    assert [view.widget.value for view in heads] == sent       # the small maps: not redrawn
    assert heads[1].widget.layout.border.endswith(av.plots.ACCENT)
    assert "transparent" in heads[0].widget.layout.border
    widgets.find_control(box, "text").value = "ab"
    parts = big.fig.parts
    assert parts.image.get_array().shape == (2, 2) and parts.chars == ("a", "b")
    assert [t.get_text() for t in parts.ax.get_xticklabels()] == ["a", "b"]
    assert heads[0].fig.parts.image.get_array().shape == (2, 2)


def test_sampling_explorer_writes_what_gpt_sample_writes(small_gpt):
    import html

    from dlcore.viz import widgets

    model, vocab = small_gpt
    box = av.sampling_explorer(model, vocab, "ab", length=40)
    parts, writer = box.view.fig.parts, box.state["writer"]
    assert writer.written == 0 and not box.player.done          # press Start writing
    assert not box.player.play_button.disabled
    assert "temperature 0.80, all characters (seed 0): 0 of 40" in box.text.value
    before = widgets.image_array(box)
    box.player.play(frame_every=8)        # no event loop: written at once, a frame every 8
    expected = gpt.sample(model, vocab, "ab", 40, 0.8, None, 0)
    assert writer.text == expected and box.player.done
    assert html.escape(expected[2:]) in box.text.value and "40 of 40" in box.text.value
    # the bars followed the text: they show the next character after all of it
    p1 = gpt.next_char_probs(model(vocab.encode(expected[-16:])[None])[0, -1])
    np.testing.assert_allclose(np.sort(parts.heights_1), np.sort(p1)[-len(parts.labels):])
    likeliest = av._shown(vocab.chars[int(np.argmax(p1))])        # under the first bar
    first_cell = box.labels.value.split("</span>")[0]
    assert first_cell.endswith(f"<span>{html.escape(likeliest)}")
    assert not any(label.get_visible() for label in parts.labels)  # HTML, not drawn
    assert not np.array_equal(widgets.image_array(box), before)

    written = widgets.image_array(box)
    widgets.find_control(box, "seed").value = 3
    writer = box.state["writer"]
    assert writer.written == 0 and not box.player.done            # a new text, not written
    assert "(seed 3): 0 of 40" in box.text.value
    assert not np.array_equal(widgets.image_array(box), written)
    box.player.play()
    assert writer.text == gpt.sample(model, vocab, "ab", 40, 0.8, None, 3)
    box.player.reset()
    assert box.state["writer"].written == 0
    before = widgets.image_array(box)
    start = time.process_time()
    box.player.step()
    assert time.process_time() - start < 0.5          # CPU time: a gross-regression guard
    assert box.state["writer"].written == 1 and "1 of 40" in box.text.value
    assert not np.array_equal(widgets.image_array(box), before)   # the bars after "ab" + 1

    before = widgets.image_array(box)
    start = time.process_time()
    widgets.find_control(box, "top-k").value = 2
    assert time.process_time() - start < 0.5          # CPU time: a gross-regression guard
    assert np.count_nonzero(parts.heights_t) == 2
    assert "temperature 0.80, top 2 (seed 3)" in box.text.value
    assert not np.array_equal(widgets.image_array(box), before)
    before = widgets.image_array(box)
    widgets.find_control(box, "temperature").value = 1.5
    assert "temperature 1.50, top 2" in box.text.value
    assert not np.array_equal(widgets.image_array(box), before)


def test_sampling_explorer_writes_live_on_the_event_loop(small_gpt):
    import asyncio

    model, vocab = small_gpt
    box = av.sampling_explorer(model, vocab, "ab", length=40)
    pictures = []
    box.view.widget.observe(lambda change: pictures.append(change["new"]), "value")

    async def write():
        box.player.play()                              # a task on the loop, as in Jupyter
        while box.player.playing:
            await asyncio.sleep(0.01)

    asyncio.run(write())
    assert box.state["writer"].text == gpt.sample(model, vocab, "ab", 40, 0.8, None, 0)
    assert box.player.done and box.player.frames > 2 and len(set(pictures)) > 2
    assert "40 of 40" in box.text.value


def test_loss_curves_figure_reads_the_shipped_file():
    _, _, info = gpt.load_pretrained()
    ax = av.loss_curves_figure(info).axes[0]
    assert len(ax.lines) == 4 and "116,318 parameters" in ax.get_legend_handles_labels()[1][1]
