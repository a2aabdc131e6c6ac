"""Lesson 12's third application: a character-level LSTM writes like the Zen of Python.

    from dlcore.viz import textgen as tg
    model, vocab, losses = tg.train_char_lstm()          # a few seconds
    tg.next_char_probs(model, vocab, "Beautiful is ", temperature=1.0)
    tg.sample(model, vocab, "Beautiful is ", length=200, temperature=0.5, seed=0)
    tg.temperature_figure(model, vocab, "Beautiful is ", temperature=0.5)
    tg.temperature_explorer(model, vocab)                # the widget: a temperature slider

The model reads characters as ids: ``Embedding`` -> ``LSTM`` -> ``Linear`` gives, at
every step, scores for the next character. Sampling divides the scores by a
**temperature** before the softmax: below 1 the likely characters get likelier
(safe, repetitive text), above 1 the distribution flattens (inventive, then
garbled). Sampling uses its own seeded generator, so a seed gives the same text.
"""
from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.figure import Figure

from .. import data, nn, optim
from ..nn.functional import softmax
from ..rng import manual_seed
from . import plots


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


def train_char_lstm(epochs: int = 16, seq_len: int = 32, hidden: int = 64, lr: float = 1e-2,
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


def sample(model: CharLSTM, vocab: data.CharVocab, prompt: str, length: int = 200,
           temperature: float = 1.0, seed: int = 0) -> str:
    """The prompt followed by ``length`` sampled characters, one at a time: each
    is drawn from softmax(scores / temperature) and fed back as the next input."""
    rng = np.random.default_rng(seed)
    scores, state = model.step(vocab.encode(prompt)[None])
    ids = []
    for _ in range(length):
        p = with_temperature(scores[0], temperature)
        ids.append(int(rng.choice(len(p), p=p)))
        scores, state = model.step(np.array([[ids[-1]]]), state)
    return prompt + vocab.decode(np.array(ids))


def _shown(ch: str) -> str:
    return {" ": "␣", "\n": "↵"}.get(ch, ch)


def temperature_figure(model: CharLSTM, vocab: data.CharVocab, prompt: str = "Although ",
                       temperature: float = 1.0, length: int = 300, seed: int = 0,
                       top: int = 12) -> Figure:
    """Top: P(next character) after the prompt at temperature 1 and at the chosen
    temperature (the ``top`` likeliest). Bottom: text sampled at that temperature."""
    p1 = next_char_probs(model, vocab, prompt, 1.0)
    pt = next_char_probs(model, vocab, prompt, temperature)
    order = np.argsort(-p1, kind="stable")[:top]
    text = sample(model, vocab, prompt, length, temperature, seed)
    with plots.style():
        fig, (ax, ax_text) = plots.subplots("wide", 2, 1, height_ratios=[1.3, 1])
        fig.set_size_inches(10.0, 5.2)
        x = np.arange(len(order))
        ax.bar(x - 0.2, p1[order], 0.4, color="#a0aec0", label="temperature 1")
        ax.bar(x + 0.2, pt[order], 0.4, color=plots.CLASS_COLORS[1],
               label=f"temperature {temperature:.2f}")
        ax.set_xticks(x, [_shown(vocab.chars[i]) for i in order], fontsize=12)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("probability")
        ax.set_title(f"the next character after “{prompt}”")
        ax.legend(loc="upper right")
        lines = [textwrap.fill(line, 95) for line in text.split("\n")]
        ax_text.text(0, 1, "\n".join(lines), family="monospace", fontsize=9.5, va="top")
        ax_text.axis("off")
        ax_text.set_title(f"sampled at temperature {temperature:.2f} (seed {seed})",
                          loc="left", fontsize=11)
    return plots.finish(fig)


def temperature_explorer(model: CharLSTM, vocab: data.CharVocab, prompt: str = "Although "):
    """The widget: temperature and seed sliders, a prompt box; text redrawn on release."""
    import ipywidgets as widgets

    style = plots.slider_style()
    controls = {
        "temperature": widgets.FloatSlider(value=1.0, min=0.1, max=2.0, step=0.05,
                                           description="temperature", style=style),
        "seed": widgets.IntSlider(value=0, min=0, max=20, description="seed", style=style),
        "prompt": widgets.Text(value=prompt, description="prompt", continuous_update=False),
    }

    def draw(temperature: float, seed: int, prompt: str) -> Figure:
        unknown = set(prompt) - set(vocab.stoi)
        clean = "".join(ch for ch in prompt if ch not in unknown) or vocab.chars[0]
        return temperature_figure(model, vocab, clean, temperature, seed=seed)

    return plots.interactive_figure(draw, controls, height="480px")

