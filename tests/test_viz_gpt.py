"""Lesson 13's tiny GPT: gradients, causality, sampling (temperature, top-k, seeds), the
attention maps, a short training run, and the shipped weights against the code."""
from __future__ import annotations

import numpy as np
import pytest

import dlcore
from dlcore import data, nn
from dlcore.gradcheck import numerical_gradient
from dlcore.viz import gpt
from dlcore.viz.textgen import CharLSTM

V = 11


def tiny(**kwargs):
    dlcore.manual_seed(0)
    return gpt.TinyGPT(V, context=6, d_model=8, nhead=2, num_layers=2, dim_feedforward=12,
                       **kwargs)


def test_every_parameter_gradient_matches_central_differences(rng):
    model = tiny().double()
    x, y = rng.integers(0, V, (3, 5)), rng.integers(0, V, (3, 5))
    loss_fn = nn.CrossEntropyLoss()

    def loss():
        return loss_fn(model(x).reshape(-1, V), y.reshape(-1))

    model.zero_grad()
    loss()
    model.backward(loss_fn.backward().reshape(3, 5, V))
    for name, p in model.named_parameters():
        numeric = numerical_gradient(loss, p.data)
        assert np.abs(p.grad - numeric).max() < 1e-6 * np.abs(numeric).max(), name


def test_no_position_sees_the_future(rng):
    model = tiny()
    x = rng.integers(0, V, (1, 6))
    changed = x.copy()
    changed[0, 4] = (x[0, 4] + 1) % V
    a, b = model(x), model(changed)
    np.testing.assert_array_equal(a[0, :4], b[0, :4])        # positions before 4: untouched
    assert not np.allclose(a[0, 4:], b[0, 4:])
    with pytest.raises(ValueError, match="at most context=6 characters, got 7"):
        model(np.zeros((1, 7), int))


def test_top_k_and_temperature():
    scores = np.array([3.0, 1.0, 0.5, -1.0])
    p = gpt.next_char_probs(scores, 1.0, top_k=2)
    assert np.count_nonzero(p) == 2 and np.isclose(p.sum(), 1) and p[0] > p[1] > 0
    cold, hot = gpt.next_char_probs(scores, 0.2), gpt.next_char_probs(scores, 5.0)
    assert cold[0] > 0.99 and hot.max() < 0.5
    np.testing.assert_allclose(gpt.next_char_probs(scores, 1.0, top_k=0),
                               gpt.next_char_probs(scores, 1.0))
    with pytest.raises(ValueError, match="temperature must be positive"):
        gpt.next_char_probs(scores, 0.0)


def test_sampling_is_seeded_and_works_for_the_lstm_too():
    vocab = data.CharVocab("abcdefghij ")
    model = tiny()
    text = gpt.sample(model, vocab, "ab", length=12, temperature=0.9, top_k=3, seed=4)
    assert len(text) == 14 and text.startswith("ab")
    assert text == gpt.sample(model, vocab, "ab", length=12, temperature=0.9, top_k=3, seed=4)
    assert gpt.sample(model, vocab, "a\u00e9b", length=0) == "ab"   # unknown characters dropped
    dlcore.manual_seed(0)
    lstm = CharLSTM(len(vocab), embed=4, hidden=6).eval()
    assert len(gpt.sample(lstm, vocab, "abc", length=20, seed=1)) == 23


def test_attention_maps_are_causal_rows_of_weights():
    vocab = data.CharVocab("abcdefghij ")
    maps = gpt.attention_maps(tiny(), vocab, "abcab")
    assert maps.shape == (2, 2, 5, 5)
    np.testing.assert_allclose(maps.sum(-1), 1, rtol=1e-5)
    assert np.all(maps[..., np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0)


def test_a_short_training_run_lowers_the_loss():
    ids = np.tile(np.arange(V), 200)                      # a text that repeats itself
    model = tiny()
    history = gpt.train_char_model(model, ids, ids, steps=60, batch_size=8, seq_len=6,
                                   lr=1e-2, eval_every=30)
    assert history["val_steps"] == [30, 60]
    assert history["val"][-1] < 0.5 * np.log(V) and history["train"][0] > 2.0


def test_the_shipped_models_match_their_recorded_losses():
    model, vocab, info = gpt.load_pretrained()
    assert len(vocab) == 94 and not model.training
    assert info["gpt"]["parameters"] == gpt.count_parameters(model) == 116_318
    assert info["lstm"]["parameters"] == 119_166
    _, val_ids, _ = gpt.corpus(vocab)
    for key in ("gpt", "lstm"):
        part = info[key]
        assert len(part["train"]) == part["steps"] == part["val_steps"][-1]
        # The file's last validation loss is what this code computes with its weights.
        again = gpt.evaluate_loss(part["model"], val_ids, seq_len=64)
        assert abs(again - part["val"][-1]) < 1e-3, key
