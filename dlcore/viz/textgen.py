"""Lesson 12's third application: a character-level LSTM writes like the Zen of Python.

    from dlcore.viz import textgen as tg
    model, vocab, losses = tg.train_char_lstm()          # a few seconds
    tg.next_char_probs(model, vocab, "Beautiful is ", temperature=1.0)
    tg.sample(model, vocab, "Beautiful is ", length=200, temperature=0.5, seed=0)
    next(tg.sample_chars(model, vocab, "Beautiful is "))  # one character at a time
    tg.temperature_figure(model, vocab, "Beautiful is ", temperature=0.5)
    tg.temperature_explorer(model, vocab)                # the widget: a temperature slider

The model reads characters as ids: ``Embedding`` -> ``LSTM`` -> ``Linear`` gives, at
every step, scores for the next character. Sampling divides the scores by a
**temperature** before the softmax: below 1 the likely characters get likelier
(safe, repetitive text), above 1 the distribution flattens (inventive, then
garbled). Sampling uses its own seeded generator, so a seed gives the same text.
"""
from __future__ import annotations

import itertools
import textwrap
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
from matplotlib.figure import Figure

from .. import data, nn, optim
from ..nn.functional import softmax
from ..rng import manual_seed
from . import plots
from .widgets import FigureView


class CharLSTM(nn.Module):
    """ids (N, T) -> Embedding (N, T, E) -> LSTM (N, T, H) -> Linear -> scores (N, T, V).

    The same ``Linear`` reads the hidden state of every step: the score of each
    possible next character after each prefix.
    """

    def __init__(self, vocab_size: int, embed: int = 16, hidden: int = 64):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, ids: np.ndarray) -> np.ndarray:
        output, _ = self.lstm(self.embed(ids))                 # (N, T, H)
        N, T, H = output.shape
        self._cache = (N, T)
        return self.head(output.reshape(N * T, H)).reshape(N, T, -1)

    def backward(self, grad_out: np.ndarray) -> None:
        N, T = self._saved()
        grad_h = self.head.backward(grad_out.reshape(N * T, -1)).reshape(N, T, -1)
        self.embed.backward(self.lstm.backward(grad_h))       # no gradient for integer ids

    def step(self, ids: np.ndarray, state=None):
        """Scores (N, V) after reading ids (N, T) from ``state`` (the LSTM's
        (h, c), None for zeros), and the new state: for sampling, no backward."""
        output, state = self.lstm(self.embed(ids), state)
        return self.head(output[:, -1]), state


def train_char_lstm(epochs: int = 8, seq_len: int = 32, hidden: int = 64, lr: float = 3e-2,
                    seed: int = 0) -> tuple[CharLSTM, data.CharVocab, list[float]]:
    """Train a ``CharLSTM`` on the Zen of Python: each window of ``seq_len``
    characters, shifted by one, is its own target. Returns the model, the
    vocabulary and the mean loss of each epoch."""
    manual_seed(seed)
    X, Y, vocab = data.char_windows(data.zen_of_python(), seq_len=seq_len, step=3)
    loader = data.DataLoader(data.TensorDataset(X, Y), batch_size=32, shuffle=True, seed=seed)
    model = CharLSTM(len(vocab), hidden=hidden)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for ids, targets in loader:
            scores = model(ids)                                   # (N, T, V)
            loss = loss_fn(scores.reshape(-1, len(vocab)), targets.reshape(-1))
            model.backward(loss_fn.backward().reshape(scores.shape))
            optimizer.step()
            optimizer.zero_grad()
            total += loss * len(ids)
        losses.append(total / len(X))
    model.eval()
    return model, vocab, losses


def with_temperature(scores: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(scores / temperature): the probabilities sampling draws from."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    return softmax(np.asarray(scores, np.float64) / temperature, dim=-1)


def next_char_probs(model: CharLSTM, vocab: data.CharVocab, prompt: str,
                    temperature: float = 1.0) -> np.ndarray:
    """P(next character) (V,) after the prompt, at a temperature."""
    scores, _ = model.step(vocab.encode(prompt)[None])
    return with_temperature(scores[0], temperature)


def sample_chars(model: CharLSTM, vocab: data.CharVocab, prompt: str,
                 temperature: float = 1.0, seed: int = 0) -> Iterator[str]:
    """Characters written after the prompt, one at a time, for as long as you ask:
    each is drawn from softmax(scores / temperature) and fed back as the next input."""
    rng = np.random.default_rng(seed)
    scores, state = model.step(vocab.encode(prompt)[None])      # read the prompt
    while True:
        p = with_temperature(scores[0], temperature)
        next_id = int(rng.choice(len(p), p=p))
        yield vocab.chars[next_id]
        scores, state = model.step(np.array([[next_id]]), state)


def sample(model: CharLSTM, vocab: data.CharVocab, prompt: str, length: int = 200,
           temperature: float = 1.0, seed: int = 0) -> str:
    """The prompt followed by ``length`` sampled characters (``sample_chars``)."""
    written = sample_chars(model, vocab, prompt, temperature, seed)
    return prompt + "".join(itertools.islice(written, length))


def _shown(ch: str) -> str:
    return {" ": "␣", "\n": "↵"}.get(ch, ch)


def _wrapped(text: str) -> str:
    return "\n".join(textwrap.fill(line, 95) for line in text.split("\n"))


def _next_char_bars(ax, model: CharLSTM, vocab: data.CharVocab, prompt: str,
                    temperature: float, top: int) -> SimpleNamespace:
    """P(next character) after the prompt at temperature 1 (grey) and at
    ``temperature``, the ``top`` likeliest; returns the artists a widget changes."""
    p1 = next_char_probs(model, vocab, prompt, 1.0)
    pt = next_char_probs(model, vocab, prompt, temperature)
    order = np.argsort(-p1, kind="stable")[:top]
    x = np.arange(len(order))
    bars_1 = ax.bar(x - 0.2, p1[order], 0.4, color="#a0aec0", label="temperature 1")
    bars_t = ax.bar(x + 0.2, pt[order], 0.4, color=plots.CLASS_COLORS[1],
                    label=f"temperature {temperature:.2f}")
    ax.set_xticks(x, [_shown(vocab.chars[i]) for i in order], fontsize=12)
    ax.tick_params(axis="x", pad=2)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("probability")
    ax.set_title(f"the next character after “{prompt}”")
    legend = ax.legend(loc="upper right")
    return SimpleNamespace(ax=ax, bars_1=bars_1, bars_t=bars_t, legend=legend, order=order,
                           prompt=prompt)


def temperature_figure(model: CharLSTM, vocab: data.CharVocab, prompt: str = "Although ",
                       temperature: float = 1.0, length: int = 300, seed: int = 0,
                       top: int = 12) -> Figure:
    """Top: P(next character) after the prompt at temperature 1 and at the chosen
    temperature (the ``top`` likeliest). Bottom: text sampled at that temperature."""
    text = sample(model, vocab, prompt, length, temperature, seed)
    with plots.style():
        fig, (ax, ax_text) = plots.subplots("wide", 2, 1, height_ratios=[1.3, 1])
        fig.set_size_inches(10.0, 5.2)          # "wide", and room for 300 characters of text
        fig.get_layout_engine().set(h_pad=0.1)  # "␣" hangs below the other labels
        _next_char_bars(ax, model, vocab, prompt, temperature, top)
        ax_text.text(0, 1, _wrapped(text), family="monospace", fontsize=9.5, va="top")
        ax_text.axis("off")
        ax_text.set_title(f"sampled at temperature {temperature:.2f} (seed {seed})",
                          loc="left", fontsize=11)
    return plots.finish(fig)


def next_char_figure(model: CharLSTM, vocab: data.CharVocab, prompt: str = "Although ",
                     temperature: float = 1.0, top: int = 12) -> Figure:
    """The top of ``temperature_figure`` alone (the widget writes its text beside it, as
    text); ``fig.parts`` holds what ``update_next_char`` changes."""
    with plots.style():
        fig, ax = plots.subplots("wide")
        fig.set_size_inches(10.0, 3.0)          # "wide", as short as the bars allow
        fig.get_layout_engine().set(h_pad=0.1)  # "␣" hangs below the other labels
        fig.parts = _next_char_bars(ax, model, vocab, prompt, temperature, top)
    return plots.finish(fig)


def update_next_char(fig: Figure, model: CharLSTM, vocab: data.CharVocab, prompt: str,
                     temperature: float) -> bool:
    """Change a ``next_char_figure`` in place: the bars at the new temperature and, for
    a new prompt, the characters and the bars at temperature 1 with them. Returns True
    if the prompt changed (then more than the coloured bars must be redrawn)."""
    parts = fig.parts
    new_prompt = prompt != parts.prompt
    if new_prompt:
        p1 = next_char_probs(model, vocab, prompt, 1.0)
        parts.order = np.argsort(-p1, kind="stable")[:len(parts.order)]
        for bar, h in zip(parts.bars_1, p1[parts.order], strict=True):
            bar.set_height(h)
        parts.ax.set_xticklabels([_shown(vocab.chars[i]) for i in parts.order])
        parts.ax.set_title(f"the next character after “{prompt}”")
        parts.prompt = prompt
    pt = next_char_probs(model, vocab, prompt, temperature)
    for bar, h in zip(parts.bars_t, pt[parts.order], strict=True):
        bar.set_height(h)
    parts.legend.get_texts()[1].set_text(f"temperature {temperature:.2f}")
    return new_prompt


def temperature_explorer(model: CharLSTM, vocab: data.CharVocab, prompt: str = "Although ",
                         length: int = 200):
    """The widget: temperature and seed sliders, a prompt box. A move redraws the bars
    at once; then the text below is written as it is sampled, a few characters at a
    time (one step of the LSTM per character): you watch the model write. A new move
    stops that text and starts another. The returned VBox has ``.view`` (the bars),
    ``.text`` (the HTML the text is written into), ``.controls`` and ``.redraw``."""
    import asyncio
    import html
    import time

    import ipywidgets as widgets

    style = plots.slider_style()
    controls = {
        "temperature": widgets.FloatSlider(value=1.0, min=0.1, max=2.0, step=0.05,
                                           description="temperature", style=style),
        "seed": widgets.IntSlider(value=0, min=0, max=20, description="seed (another draw)",
                                  style=style),
        "prompt": widgets.Text(value=prompt, description="prompt (Enter)",
                               continuous_update=False, style=style),
    }

    def clean(text: str) -> str:
        return "".join(ch for ch in text if ch in vocab.stoi) or vocab.chars[0]

    fig = next_char_figure(model, vocab, clean(prompt), 1.0)
    parts = fig.parts
    view = FigureView(fig, animated=[*parts.bars_t, parts.legend],
                      name="textgen.temperature_explorer")
    written = widgets.HTML(layout=widgets.Layout(width="900px", min_height="9em"))
    state = {"task": None}

    def pieces(prompt: str, temperature: float, seed: int):
        """Sample in slices of ~30 ms of work; yield the text so far after each."""
        chars = sample_chars(model, vocab, prompt, temperature, seed)
        text = prompt
        while len(text) < len(prompt) + length:
            start = time.perf_counter()
            while len(text) < len(prompt) + length and time.perf_counter() - start < 0.03:
                text += next(chars)
            yield text

    def show_text(text: str, prompt: str, temperature: float, seed: int) -> None:
        done = len(text) - len(prompt)
        head = (f"sampled at temperature {temperature:.2f} (seed {seed}): {done} of {length} "
                f"characters{'' if done == length else ' …'}")
        written.value = (f"<div style='font-size:13px;color:#4a5568'>{head}</div>"
                         f"<pre style='margin:2px 0;font-size:12px;line-height:1.3;"
                         f"white-space:pre-wrap'>{html.escape(_wrapped(text))}</pre>")

    async def stream(texts, *args) -> None:
        for text in texts:
            show_text(text, *args)
            await asyncio.sleep(0)            # the kernel hears the next move here

    def redraw(change=None) -> None:
        if state["task"] is not None:
            state["task"].cancel()
            state["task"] = None
        t0 = time.perf_counter()
        temperature, seed = controls["temperature"].value, controls["seed"].value
        prompt_now = clean(controls["prompt"].value)
        owner = change.get("owner") if isinstance(change, dict) else None
        name = next((k for k, c in controls.items() if c is owner), "(first)")
        if name != "seed":                     # the seed changes the text, not the bars
            whole = update_next_char(fig, model, vocab, prompt_now, temperature)
            compute_ms = 1e3 * (time.perf_counter() - t0)
            if whole or change is None:
                view.show(control=name, compute_ms=compute_ms)
            else:
                view.frame(control=name, compute_ms=compute_ms)
        args = (prompt_now, temperature, seed)
        show_text(prompt_now, *args)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:                       # a test or a script: write it all now
            show_text([prompt_now, *pieces(*args)][-1], *args)
        else:
            state["task"] = loop.create_task(stream(pieces(*args), *args))

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox(list(controls.values())), view.widget, written])
    box.view, box.text, box.controls, box.redraw = view, written, controls, redraw
    return box
