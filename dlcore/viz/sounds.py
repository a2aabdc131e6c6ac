"""Lesson 12's fifth application: hearing intonation, a CNN on spectrograms.

    from dlcore.viz import sounds
    x = sounds.make_sound("rising", noise=0.2, seed=0)    # 0.5 s of a synthetic voice
    S = sounds.spectrogram(x)                             # (32, 32): frequency x time
    X, y = sounds.make_sounds(n=600, seed=0)              # (600, 1, 32, 32), 4 classes
    model, scores = sounds.train_sound_cnn()
    sounds.sound_figure(model, "rising", noise=0.2)
    sounds.spectrogram_grid(S_stack, titles)              # several, large, with axes
    sounds.sound_explorer(model)                          # the widget

Most speech recognisers do not read the raw wave directly: they read a
**spectrogram** (often mel-scaled), the loudness of each frequency in short
overlapping windows of time (a Fourier transform per window,
``np.fft.rfft``); some, such as wav2vec 2.0, learn their own
features from the raw wave with convolutions. It turns a sound into an
image, and a CNN reads images. The sounds here are synthetic "voices" (a
fundamental and two harmonics) whose pitch rises (as in a question), falls
(a statement), stays steady (a hum) or comes in beeps, at random pitches,
speeds and noise levels.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from matplotlib.figure import Figure

from .. import data, nn, optim, train
from ..nn.functional import softmax
from ..rng import manual_seed
from . import plots
from .applications import live_figure
from .draw import probability_bars, update_probability_bars

KINDS = ("rising", "falling", "steady", "beeping")
RATE = 2048                     # samples per second: frequencies up to 1024 Hz
WINDOW = 62                     # samples per spectrogram window (30 ms), half overlapping
SAMPLES = WINDOW + 31 * (WINDOW // 2)    # 1023 samples (0.5 s): exactly 32 windows


def make_sound(kind: str, noise: float = 0.1, seed: int = 0) -> np.ndarray:
    """A 0.5 s synthetic voice (SAMPLES,) float32 of one of ``KINDS``, with
    Gaussian noise of std ``noise`` (the voice's amplitude is about 1)."""
    if kind not in KINDS:
        raise ValueError(f"make_sound: kind must be one of {KINDS}, got {kind!r}")
    rng = np.random.default_rng(seed)
    t = np.arange(SAMPLES) / RATE
    low, high = rng.uniform(150, 250), rng.uniform(350, 450)
    if kind == "rising":
        freq = low + (high - low) * t / t[-1]
    elif kind == "falling":
        freq = high - (high - low) * t / t[-1]
    else:
        freq = np.full_like(t, rng.uniform(low, high))
    phase = 2 * np.pi * np.cumsum(freq) / RATE          # the pitch may change over time
    voice = np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.25 * np.sin(3 * phase)
    if kind == "beeping":
        beeps = rng.uniform(3, 6)                         # beeps per half second
        voice *= (np.sin(2 * np.pi * beeps * t / t[-1] + rng.uniform(0, 2 * np.pi)) > 0)
    x = voice * rng.uniform(0.6, 1.0) + noise * rng.standard_normal(SAMPLES)
    return x.astype(np.float32)


def spectrogram(x: np.ndarray) -> np.ndarray:
    """(32, 32) in [0, 1]: rows are frequencies (0 to 1024 Hz, low first),
    columns time windows; loudness in decibels, the top 30 dB of the sound.
    A batch of sounds (N, SAMPLES) gives (N, 32, 32), each scaled on its own."""
    x = np.asarray(x, np.float64)
    hop = WINDOW // 2                                       # windows overlap by half
    starts = hop * np.arange((x.shape[-1] - WINDOW) // hop + 1)
    windows = x[..., starts[:, None] + np.arange(WINDOW)]  # (..., 32 windows, WINDOW)
    windows = windows - windows.mean(axis=-1, keepdims=True)
    taper = np.hanning(WINDOW + 1)[:-1]                     # fade each window in and out
    power = np.abs(np.fft.rfft(windows * taper, axis=-1)) ** 2   # (..., 32 windows, 32 freqs)
    db = 10 * np.log10(np.swapaxes(power, -1, -2) + 1e-12)      # frequencies as rows
    loudest = db.max(axis=(-2, -1), keepdims=True)
    return np.clip((db - loudest + 30) / 30, 0, 1).astype(np.float32)


def spectrogram_grid(spectrograms: np.ndarray, titles: list[str]) -> Figure:
    """Spectrograms (N, 32, 32) side by side, large enough to read, with time
    (s) along x and frequency (Hz) up the y axis, low pitch at the bottom."""
    spectrograms = np.asarray(spectrograms)
    if spectrograms.ndim != 3 or len(titles) != len(spectrograms):
        raise ValueError(f"spectrogram_grid expects (N, F, T) spectrograms and N titles, got "
                         f"{spectrograms.shape} and {len(titles)} titles")
    extent = (0, SAMPLES / RATE, 0, RATE / 2)
    with plots.style():
        # fixed margins, not a layout engine (a layout pass costs as much as two draws)
        fig, axes = plots.subplots("wide", 1, len(spectrograms), sharey=True, layout=None)
        fig.subplots_adjust(left=0.075, right=0.86, bottom=0.13, top=0.92, wspace=0.08)
        axes = np.atleast_1d(axes)
        for ax, S, title in zip(axes, spectrograms, titles, strict=True):
            image = ax.imshow(S, origin="lower", aspect="auto", extent=extent, cmap="magma",
                              vmin=0, vmax=1)
            ax.set_title(title)
            ax.set_xlabel("time (s)")
        axes[0].set_ylabel("frequency (Hz)")
        fig.colorbar(image, cax=fig.add_axes((0.885, 0.2, 0.015, 0.65)),
                     label="loudness (top 30 dB, scaled 0-1)")
    return plots.finish(fig)


def make_sounds(n: int = 600, max_noise: float = 1.0, seed: int = 0
                ) -> tuple[np.ndarray, np.ndarray]:
    """n spectrograms (n, 1, 32, 32) float32 and labels (n,) int64 (index into
    ``KINDS``), the classes in turn, noise levels uniform in [0, max_noise]."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % len(KINDS)
    seeds = rng.integers(0, 2**31, n)
    noises = rng.uniform(0, max_noise, n)
    waves = np.stack([make_sound(KINDS[c], noise, s)
                      for c, noise, s in zip(y, noises, seeds, strict=True)])
    return spectrogram(waves)[:, None], y.astype(np.int64)     # all in one call


def sound_cnn() -> nn.Sequential:
    """Two convolution blocks (4 and 8 filters 3x3, pool 2) and a Linear layer."""
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(8 * 8 * 8, len(KINDS)))


def train_sound_cnn(n: int = 800, epochs: int = 6, seed: int = 0
                    ) -> tuple[nn.Sequential, dict[str, float]]:
    """Train ``sound_cnn`` on ``make_sounds(n)`` (Adam, lr 1e-2, batches of 32);
    test accuracy on 400 fresh sounds."""
    manual_seed(seed)
    X, y = make_sounds(n, seed=seed)
    X_test, y_test = make_sounds(400, seed=seed + 1)
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=32, shuffle=True, seed=seed)
    model = sound_cnn()
    train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-2), loader,
              epochs=epochs, progress=False, input_grad=False)   # no dL/d(spectrogram)
    model.eval()
    return model, {"test_accuracy": train.evaluate(model, (X_test, y_test))["accuracy"]}


def sound_figure(model: nn.Module, kind: str = "rising", noise: float = 0.2,
                 seed: int = 0) -> Figure:
    """The wave (its first 0.1 s), its spectrogram and the CNN's probabilities.
    ``fig.parts`` holds what ``update_sound`` changes for another sound."""
    with plots.style():
        # fixed margins, not a layout engine (a layout pass costs as much as two draws)
        fig, (ax_wave, ax_spec, ax_bar) = plots.subplots("wide", 1, 3, layout=None,
                                                         width_ratios=[1, 1.1, 0.9])
        fig.subplots_adjust(left=0.065, right=0.99, bottom=0.15, top=0.92, wspace=0.33)
        t = np.arange(SAMPLES) / RATE
        shown = t < 0.1
        (wave,) = ax_wave.plot(t[shown] * 1000, np.zeros(shown.sum()),
                               color=plots.CLASS_COLORS[0], lw=1)
        ax_wave.set_xlabel("time (ms)")
        ax_wave.set_ylabel("air pressure")
        ax_wave.set_ylim(-6, 6)    # one scale for every sound: the noise is seen to grow
        image = ax_spec.imshow(np.zeros((32, 32)), origin="lower", aspect="auto", cmap="magma",
                               extent=(0, SAMPLES / RATE, 0, RATE / 2), vmin=0, vmax=1,
                               interpolation="nearest")
        ax_spec.set_xlabel("time (s)")
        ax_spec.set_ylabel("frequency (Hz)")
        ax_spec.set_title("its spectrogram (the CNN's input)")
        bars = probability_bars(ax_bar, np.full(len(KINDS), 1 / len(KINDS)), list(KINDS))
        ax_bar.tick_params(axis="x", labelrotation=30)
    fig.parts = SimpleNamespace(model=model, wave=wave, shown=shown, image=image, bars=bars,
                                ax_wave=ax_wave, ax_bar=ax_bar)
    update_sound(fig, kind, noise, seed)
    return plots.finish(fig)


def update_sound(fig: Figure, kind: str, noise: float, seed: int) -> None:
    """Show another sound in a ``sound_figure``: its wave, spectrogram, probabilities."""
    parts = fig.parts
    x = make_sound(kind, noise, seed)
    S = spectrogram(x)
    probs = softmax(train.predict(parts.model, S[None, None]), dim=-1)[0]
    parts.wave.set_ydata(x[parts.shown])
    parts.ax_wave.set_title(f"the wave: “{kind}”, noise {noise:.2f}")
    parts.image.set_data(S)
    update_probability_bars(parts.ax_bar, parts.bars, probs, list(KINDS))


def sound_explorer(model: nn.Module):
    """The widget: which kind of sound, how much noise, which example. The figure is
    drawn once; a move redraws only the wave, the spectrogram, the bars and the
    titles (``update_sound``)."""
    import ipywidgets as widgets

    style = plots.slider_style()
    controls = {"kind": widgets.Dropdown(options=KINDS, value="rising", description="sound",
                                         style=style),
                "noise": widgets.FloatSlider(value=0.2, min=0.0, max=2.0, step=0.1,
                                             description="noise (std)", style=style),
                "seed": widgets.IntSlider(value=0, min=0, max=30, description="example",
                                          style=style)}

    def draw(kind: str, noise: float, seed: int) -> Figure:
        return sound_figure(model, kind, noise, seed)

    def moving(fig: Figure) -> list:
        parts = fig.parts
        return [parts.wave, parts.ax_wave.title, parts.image, *parts.bars, parts.ax_bar.title]

    return live_figure(draw, controls, update_sound, moving, name="sounds.sound_explorer")
