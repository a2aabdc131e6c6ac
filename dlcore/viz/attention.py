"""Lesson 13's experiments, figures and widgets: attention and transformers.

    from dlcore.viz import attention as av
    results = av.compare_on_reversal()            # LSTM against attention, a few seconds
    av.bottleneck_figure(results)
    av.scaling_figure()                           # why scores are divided by sqrt(E)
    av.mask_figure("the cat sat")                 # no mask, padding, causal
    av.block_figure()                             # the transformer block, post- and pre-norm
    av.attention_explorer(model, vocab)           # heatmaps of a GPT, layer by layer, head by head
    av.sampling_explorer(model, vocab)            # temperature and top-k

Every widget is a thin layer over a plain function that returns a figure.
"""
from __future__ import annotations

import functools
import html
import time
from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure

from .. import nn, optim
from ..nn.attention import attention_forward, causal_mask, mask_to_bias, masked_softmax
from ..rng import manual_seed
from . import gpt, plots, widgets

MODEL_COLORS = {"LSTM": plots.ORANGE, "attention": plots.BLUE, "attention, no positions": "0.6"}


# -- 1. the bottleneck: reversing a sequence ---------------------------------------------
def reverse_task(n: int, length: int = 12, n_symbols: int = 8, seed: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Read ``length`` random symbols, then write them backwards.

    Returns ids int64 (n, 2 * length): the symbols (0 .. n_symbols - 1), then
    ``length`` copies of the marker ``n_symbols`` ("your turn"), and targets int64
    (n, length): the symbols reversed, to be written at the marker positions.
    """
    g = np.random.default_rng(seed)
    symbols = g.integers(0, n_symbols, size=(n, length))
    ids = np.concatenate([symbols, np.full((n, length), n_symbols)], axis=1)
    return ids, symbols[:, ::-1].copy()


class ReverseLSTM(nn.Module):
    """ids (N, 2L) -> Embedding -> LSTM -> Linear on the last L steps -> (N, L, symbols).

    When it must start writing, everything it read is squeezed into one state (h, c)."""

    def __init__(self, n_symbols: int = 8, length: int = 12, embed: int = 8, hidden: int = 32):
        super().__init__()
        self.length = length
        self.embed = nn.Embedding(n_symbols + 1, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_symbols)

    def forward(self, ids):
        output, _ = self.lstm(self.embed(ids))                 # (N, 2L, H)
        self._cache = output.shape
        return self.head(output[:, self.length:])              # the writing half

    def backward(self, grad):
        shape = self._saved()
        grad_output = np.zeros(shape, grad.dtype)
        grad_output[:, self.length:] = self.head.backward(grad)
        self.embed.backward(self.lstm.backward(grad_output))


class ReverseAttention(nn.Module):
    """ids (N, 2L) -> token (+ position) embeddings x -> x + MultiheadAttention(x, x, x)
    -> Linear on the last L positions -> (N, L, symbols).

    Each writing position can look straight back at any reading position."""

    def __init__(self, n_symbols: int = 8, length: int = 12, d_model: int = 32,
                 num_heads: int = 1, positions: bool = True):
        super().__init__()
        self.length = length
        self.embed = nn.Embedding(n_symbols + 1, d_model)
        self.pos = nn.Embedding(2 * length, d_model) if positions else None
        self.attn = nn.MultiheadAttention(d_model, num_heads, batch_first=True)
        self.head = nn.Linear(d_model, n_symbols)

    def forward(self, ids):
        x = self.embed(ids)
        if self.pos is not None:
            x = x + self.pos(np.arange(ids.shape[1]))
        attended, weights = self.attn(x, x, x)
        y = x + attended                                       # a residual connection
        self._cache = y.shape
        self.last_weights = weights                            # (N, 2L, 2L), to look at
        return self.head(y[:, self.length:])

    def backward(self, grad):
        shape = self._saved()
        grad_y = np.zeros(shape, grad.dtype)
        grad_y[:, self.length:] = self.head.backward(grad)
        grad_x = grad_y + self.attn.backward(grad_y)           # both paths of the residual
        self.embed.backward(grad_x)
        if self.pos is not None:
            self.pos.backward(grad_x.sum(axis=0))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def train_reverse(model: nn.Module, steps: int = 250, batch_size: int = 32, lr: float = 1e-2,
                  n_symbols: int = 8, length: int = 12, seed: int = 0) -> list[float]:
    """Adam on fresh batches of ``reverse_task`` (batch k uses seed 1000 + k); returns
    the loss of every step."""
    manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        ids, targets = reverse_task(batch_size, length, n_symbols, seed=1000 + step)
        scores = model(ids)
        losses.append(loss_fn(scores.reshape(-1, n_symbols), targets.reshape(-1)))
        model.backward(loss_fn.backward().reshape(scores.shape))
        optimizer.step()
        optimizer.zero_grad()
    return losses


def position_accuracy(model: nn.Module, ids: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The fraction right at each output position (L,): position i recalls input L-1-i."""
    return (model(ids).argmax(-1) == targets).mean(axis=0)


@dataclass
class ReversalResults:
    length: int
    n_symbols: int
    steps: int
    models: dict = field(default_factory=dict)       # name -> trained model
    losses: dict = field(default_factory=dict)       # name -> loss per step
    accuracy: dict = field(default_factory=dict)     # name -> accuracy per output position
    parameters: dict = field(default_factory=dict)   # name -> parameter count


def compare_on_reversal(length: int = 12, n_symbols: int = 8, steps: int = 250,
                        hidden: int = 32, d_model: int = 32, seed: int = 0) -> ReversalResults:
    """Train an LSTM, an attention model and the attention model without positions
    on the same batches; test each on 500 fresh sequences (seed 99)."""
    manual_seed(seed)
    builders = {
        "LSTM": lambda: ReverseLSTM(n_symbols, length, hidden=hidden),
        "attention": lambda: ReverseAttention(n_symbols, length, d_model),
        "attention, no positions": lambda: ReverseAttention(n_symbols, length, d_model,
                                                            positions=False),
    }
    results = ReversalResults(length, n_symbols, steps)
    ids, targets = reverse_task(500, length, n_symbols, seed=99)
    for name, build in builders.items():
        manual_seed(seed)
        model = build()
        results.parameters[name] = count_parameters(model)
        results.losses[name] = train_reverse(model, steps, n_symbols=n_symbols, length=length,
                                             seed=seed)
        model.eval()
        results.accuracy[name] = position_accuracy(model, ids, targets)
        results.models[name] = model
    return results


def bottleneck_figure(results: ReversalResults) -> Figure:
    """Left: the training loss of each model. Right: accuracy by how far back the
    symbol to write was read (1 = the last symbol read)."""
    with plots.style():
        fig, (ax_loss, ax_acc) = plots.subplots("wide", 1, 2)
        distance = np.arange(1, results.length + 1)
        for name, losses in results.losses.items():
            color = MODEL_COLORS.get(name)
            label = f"{name} ({results.parameters[name]:,} parameters)"
            ax_loss.plot(np.arange(1, len(losses) + 1), losses, color=color, label=label)
            ax_acc.plot(distance, results.accuracy[name], "o-", color=color, label=name)
        ax_loss.axhline(np.log(results.n_symbols), color="#555", ls=":", lw=1)
        ax_loss.set(xlabel="training step", ylabel="cross-entropy",
                    title="training loss (dotted: guessing)")
        ax_loss.legend(fontsize=8)
        ax_acc.axhline(1 / results.n_symbols, color="#555", ls=":", lw=1)
        ax_acc.set(xlabel="output position (1 = the last symbol read, "
                          f"{results.length} = the first)",
                   ylabel="fraction right", ylim=(0, 1.05),
                   title="accuracy on 500 new sequences (dotted: chance)")
        ax_acc.legend(fontsize=8)
    return plots.finish(fig)


# -- 2. scores, scaling, masks ---------------------------------------------------------------
def scaling_stats(dims=(4, 16, 64, 256, 1024), keys: int = 16, trials: int = 500,
                  seed: int = 0) -> dict:
    """For random q and k with N(0, 1) entries: the spread of the scores q.k, and the
    largest softmax weight among ``keys`` keys, without and with division by sqrt(E);
    also the size of the softmax's gradient (the Frobenius norm of its Jacobian
    diag(p) - p p^T), which is 0 when one weight is 1 and the rest 0."""
    g = np.random.default_rng(seed)
    out = {"dims": np.array(dims), "std": [], "max_raw": [], "max_scaled": [],
           "grad_raw": [], "grad_scaled": []}
    for d in dims:
        q = g.standard_normal((trials, 1, d))
        k = g.standard_normal((trials, keys, d))
        scores = (q @ k.transpose(0, 2, 1))[:, 0]                  # (trials, keys)
        out["std"].append(scores.std())
        for tag, s in (("raw", scores), ("scaled", scores / np.sqrt(d))):
            p = masked_softmax(s)
            out[f"max_{tag}"].append(p.max(-1).mean())
            jac = p[:, :, None] * (np.eye(keys) - p[:, None, :])  # (trials, keys, keys)
            out[f"grad_{tag}"].append(np.sqrt((jac ** 2).sum((1, 2))).mean())
    return {k: np.asarray(v) for k, v in out.items()}


def scaling_figure(stats: dict | None = None, keys: int = 16) -> Figure:
    """The three panels of ``scaling_stats`` (computed with defaults if not given)
    against E, the size of q and k."""
    s = scaling_stats(keys=keys) if stats is None else stats
    with plots.style():
        fig, axes = plots.subplots("wide", 1, 3)
        axes[0].plot(s["dims"], s["std"], "o-", color=plots.VERMILLION, label="q . k")
        axes[0].plot(s["dims"], np.sqrt(s["dims"]), ":", color="#555", label="sqrt(E)")
        axes[0].plot(s["dims"], s["std"] / np.sqrt(s["dims"]), "o-", color=plots.BLUE,
                     label="q . k / sqrt(E)")
        axes[0].set(title="spread (std) of the scores", xlabel="E")
        for ax, key, title in ((axes[1], "max", f"largest of {keys} weights"),
                               (axes[2], "grad", "size of the softmax's gradient")):
            ax.plot(s["dims"], s[f"{key}_raw"], "o-", color=plots.VERMILLION, label="unscaled")
            ax.plot(s["dims"], s[f"{key}_scaled"], "o-", color=plots.BLUE,
                    label="divided by sqrt(E)")
            ax.set(title=title, xlabel="E", ylim=(0, None))
        for ax in axes:
            ax.set_xscale("log", base=2)
            ax.legend(fontsize=8)
    return plots.finish(fig)


def toy_qkv(words: list[str], dim: int = 8, seed: int = 0):
    """Made-up embeddings for a few words, and x W_q, x W_k, x W_v with random W:
    (x, q, k, v), each (T, dim)."""
    g = np.random.default_rng(seed)
    x = g.standard_normal((len(words), dim))
    w_q, w_k, w_v = (g.standard_normal((dim, dim)) / np.sqrt(dim) for _ in range(3))
    return x, x @ w_q, x @ w_k, x @ w_v


def heatmap(ax, weights: np.ndarray, rows: list[str], cols: list[str], title: str = "",
            numbers: bool = True) -> None:
    """Attention weights (T, S) as a grid: row i = query i, column j = key j."""
    ax.imshow(weights, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(cols)), [_shown(c) for c in cols], rotation=0)
    ax.set_yticks(range(len(rows)), [_shown(r) for r in rows])
    ax.set_xlabel("key (looked at)")
    ax.set_ylabel("query (looking)")
    ax.set_title(title, fontsize=10)
    ax.grid(False)
    if numbers and weights.size <= 100:
        for (i, j), w in np.ndenumerate(weights):
            ax.text(j, i, f"{w:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if w > 0.6 else "#222")


def mask_figure(words: list[str], pad: int = 2, seed: int = 0) -> Figure:
    """The same toy scores three ways: no mask, the last ``pad`` words marked as
    padding (key_padding_mask), and a causal mask. Masked weights are exactly 0."""
    _, q, k, v = toy_qkv(words, seed=seed)
    T = len(words)
    padding = np.zeros(T, bool)
    padding[T - pad:] = True
    cases = [("no mask", None),
             (f"padding mask (last {pad} are padding)", np.where(padding, -np.inf, 0.0)[None]),
             ("causal mask (no peeking ahead)", mask_to_bias(causal_mask(T), np.float64))]
    with plots.style():
        fig, axes = plots.subplots("wide", 1, 3)
        for ax, (title, bias) in zip(axes, cases, strict=True):
            _, weights, _ = attention_forward(q, k, v, bias)
            heatmap(ax, weights, words, words, title)
    return plots.finish(fig)


# -- 3. the transformer block ---------------------------------------------------------------
def block_figure() -> Figure:
    """The encoder layer drawn both ways: post-norm (2017, PyTorch's default) and
    pre-norm (GPT-2 and most models since, ``norm_first=True``)."""
    colors = {"attn": "#cfe0f3", "mlp": "#f6dfbf", "norm": "#e4e4e4", "add": "#ffffff"}

    def box(ax, y, text, kind, x=0.5, w=0.56, h=0.075):
        plots.box(ax, x, y, text, color="#333", w=w, h=h, fc=colors[kind], lw=1, fontsize=9,
                  rounding=0.01)

    def arrow(ax, y0, y1, x=0.5):
        plots.arrow(ax, (x, y0), (x, y1), color="#333", lw=1, head="->", size=10)

    def skip(ax, y0, y1):
        """The residual path: from the split at y0, round the right side, into the + at y1."""
        ax.plot([0.5, 0.88, 0.88], [y0, y0, y1], color=plots.VERMILLION, lw=1.2)
        plots.arrow(ax, (0.88, y1), (0.5 + 0.07, y1), color=plots.VERMILLION, lw=1.2,
                    head="->", size=10)

    layouts = {
        "post-norm (norm_first=False)": [("x", None), ("self-attention", "attn"),
                                         ("+", "add"), ("LayerNorm  norm1", "norm"),
                                         ("MLP: linear1, activation, linear2", "mlp"),
                                         ("+", "add"), ("LayerNorm  norm2", "norm")],
        "pre-norm (norm_first=True)": [("x", None), ("LayerNorm  norm1", "norm"),
                                       ("self-attention", "attn"), ("+", "add"),
                                       ("LayerNorm  norm2", "norm"),
                                       ("MLP: linear1, activation, linear2", "mlp"),
                                       ("+", "add")],
    }
    with plots.style():
        fig, axes = plots.subplots("wide", 1, 2)
        for ax, (title, items) in zip(axes, layouts.items(), strict=True):
            ys = np.linspace(0.06, 0.9, len(items) + 1)
            plus = [i for i, (text, _) in enumerate(items) if text == "+"]
            for i, (text, kind) in enumerate(items):
                if kind is None:
                    ax.text(0.5, ys[i], "input x (N, L, E)", ha="center", va="center")
                else:
                    box(ax, ys[i], text, kind, w=0.12 if kind == "add" else 0.56)
                arrow(ax, ys[i] + 0.04, ys[i + 1] - 0.04)
            ax.text(0.5, ys[-1], "output (N, L, E)", ha="center", va="center")
            # Each residual splits off below its branch: after the input, and after the
            # third item (norm1 in post-norm, the first + in pre-norm).
            for start, end in zip((0, 3), plus, strict=True):
                skip(ax, (ys[start] + ys[start + 1]) / 2, ys[end])
            ax.text(0.9, 0.5, "residual\nconnections", color=plots.VERMILLION, ha="left",
                    fontsize=8)
            ax.set(xlim=(0, 1), ylim=(0, 1), title=title)
            ax.axis("off")
    return plots.finish(fig)


# -- 4. the GPT's attention and sampling widgets -------------------------------------------
def _shown(ch: str) -> str:
    return {" ": "␣", "\n": "↵"}.get(ch, ch)


@functools.lru_cache(maxsize=16)
def _maps(model: gpt.TinyGPT, vocab, text: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """``gpt.attention_maps`` and the characters it read, kept for the last few texts:
    moving the layer or head of the explorer then only redraws."""
    with widgets.one_blas_thread():      # small products: one thread is faster
        maps = gpt.attention_maps(model, vocab, text)
    return maps, tuple(gpt.clean_prompt(text, vocab)[-model.context:])


@dataclass
class MapParts:
    """What ``set_attention_map`` changes on an ``attention_map_figure``."""
    image: object
    ax: object
    chars: tuple = ()
    ticks: bool = True          # every character along both axes (False: a thumbnail)


def _char_ticks(ax, chars) -> None:
    """Every character on both axes, every second one past 40 (they would overlap)."""
    every = 1 if len(chars) <= 40 else 2
    ticks = range(0, len(chars), every)
    size = 9 if len(chars) <= 20 else (7 if len(chars) <= 40 else 6)
    ax.set_xticks(ticks, [_shown(chars[i]) for i in ticks], fontsize=size)
    ax.set_yticks(ticks, [_shown(chars[i]) for i in ticks], fontsize=size)


def map_title(layer: int, head: int) -> str:
    return f"layer {layer + 1}, head {head + 1}: row i is what character i looked at"


def attention_map_figure(model: gpt.TinyGPT, vocab, text: str, layer: int = 0,
                         head: int = 0, *, small: bool = False, title: bool = True) -> Figure:
    """The GPT's attention weights for ``text`` in one head of one layer (row i: what
    character i looked at), with every character along the axes and a colour bar;
    ``small=True``: a thumbnail titled "head h", no axes, for a row of heads.
    ``title=False``: no title (a widget writes it beside the figure). ``fig.parts``
    holds what ``set_attention_map`` changes."""
    maps, chars = _maps(model, vocab, text)
    with plots.style():
        if small:
            fig, ax = plots.subplots("small")
            # A thumbnail: four of them fit beside the large map (no SIZES is this small).
            fig.set_size_inches(2.0, 2.0)
            fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02)
        else:
            fig, ax = plots.subplots("square")
        image = ax.imshow(maps[layer, head], cmap="Blues", vmin=0, vmax=1)
        ax.grid(False)
        if small:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"head {head + 1}", fontsize=9)
        else:
            ax.set_xlabel("key (looked at)")
            ax.set_ylabel("query (looking)")
            fig.colorbar(image, ax=ax, shrink=0.8, label="attention weight")
            if title:
                ax.set_title(map_title(layer, head), fontsize=10)
        fig.parts = MapParts(image, ax, ticks=not small)
        set_attention_map(fig, model, vocab, text, layer, head)
    return plots.finish(fig)


def set_attention_map(fig: Figure, model: gpt.TinyGPT, vocab, text: str, layer: int = 0,
                      head: int = 0) -> bool:
    """Show another text, layer or head on an ``attention_map_figure``. Returns True if
    the axes changed (another length of text: new limits, other characters along them),
    False if only the image did."""
    maps, chars = _maps(model, vocab, text)
    parts = fig.parts
    parts.image.set_data(maps[layer, head])
    if parts.ax.get_title().startswith("layer"):
        parts.ax.set_title(map_title(layer, head), fontsize=10)
    if parts.chars == chars:
        return False
    T = len(chars)
    parts.image.set_extent((-0.5, T - 0.5, T - 0.5, -0.5))
    parts.ax.set_xlim(-0.5, T - 0.5)
    parts.ax.set_ylim(T - 0.5, -0.5)
    if parts.ticks:
        _char_ticks(parts.ax, chars)
    parts.chars = chars
    return True


def attention_explorer(model: gpt.TinyGPT, vocab, text: str = "def area(r):\n    return 3.14*r*r"):
    """The widget: a text box, a layer slider and a head dropdown; the chosen head
    large on the left (``attention_map_figure``), every head of the layer small on the
    right, the chosen one framed. Each map is its own picture: a new head redraws the
    large map only (the frame is the picture's border), a new layer the five maps'
    images only (blitted), a new text everything; the maps of a text are computed once."""
    import ipywidgets as ipw

    layers = len(model.blocks)
    heads = model.blocks[0].self_attn.num_heads
    style = plots.slider_style()
    controls = {
        "text": ipw.Text(value=text, description="text (its last 64 characters)",
                         continuous_update=False, style=style,
                         layout=ipw.Layout(width="520px")),
        "layer": ipw.IntSlider(value=1, min=1, max=layers, description="layer", style=style),
        "head": ipw.Dropdown(options=[(f"head {h + 1}", h) for h in range(heads)], value=0,
                             description="head shown large", style=style),
    }
    big = attention_map_figure(model, vocab, text, title=False)
    views = [widgets.FigureView(big, animated=[big.parts.image], name="attention_explorer")]
    for h in range(heads):
        fig = attention_map_figure(model, vocab, text, 0, h, small=True)
        views.append(widgets.FigureView(fig, animated=[fig.parts.image],
                                        name="attention_explorer heads"))
    title = ipw.HTML(layout=ipw.Layout(margin="0 0 0 60px"))

    def redraw(change=None) -> None:
        start = time.perf_counter()
        name = next((k for k, c in controls.items() if change and c is change["owner"]),
                    "")
        text, layer, head = (controls[k].value for k in ("text", "layer", "head"))
        title.value = f"<b>{html.escape(map_title(layer - 1, head))}</b>"
        for h, view in enumerate(views[1:]):
            view.widget.layout.border = (f"3px solid {plots.ACCENT}" if h == head
                                         else "3px solid transparent")
        shown = [(views[0], head)]
        if name != "head":                  # the small maps change only with the layer
            shown += [(view, h) for h, view in enumerate(views[1:])]
        for view, h in shown:
            t0 = time.perf_counter()
            moved = set_attention_map(view.fig, model, vocab, text, layer - 1, h)
            compute_ms = 1e3 * (time.perf_counter() - (start if view is views[0] else t0))
            if moved:
                view.show(control=name, compute_ms=compute_ms)
            else:
                view.frame(control=name, compute_ms=compute_ms)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()                                # the first pictures
    grid = ipw.GridBox([view.widget for view in views[1:]], layout=ipw.Layout(
        grid_template_columns=f"repeat({-(-heads // 2)}, auto)", align_content="center"))
    box = ipw.VBox([controls["text"], ipw.HBox([controls["layer"], controls["head"]]),
                    title, ipw.HBox([views[0].widget, grid])])
    box.view, box.views, box.controls, box.title = views[0], views, controls, title
    return box


@dataclass
class SamplingParts:
    """The artists a ``sampling_figure`` changes: everything in its axes but the frame,
    so that a change redraws only these over a saved background (blitting). Each set
    of bars is one collection of rectangles (one artist to draw, not twelve)."""
    ax: object
    bars_1: object              # P(next) at temperature 1
    bars_t: object              # what sampling draws from
    labels: list                # the characters under the bars (they change with the text)
    heights_1: np.ndarray = None    # the bars' heights, as last set
    heights_t: np.ndarray = None


def _bars(left: np.ndarray, heights: np.ndarray, width: float = 0.4) -> np.ndarray:
    """The corners of bars from 0 up to ``heights``: (bars, 4, 2), for a PolyCollection."""
    x = np.stack([left, left, left + width, left + width], axis=1)
    y = np.stack([0 * heights, heights, heights, 0 * heights], axis=1)
    return np.stack([x, y], axis=2)


def sampling_figure(model: gpt.TinyGPT, vocab, text: str = "The ", temperature: float = 0.8,
                    top_k: int = 0, top: int = 12, labels: bool = True) -> Figure:
    """P(next character) after ``text`` at temperature 1 (grey), and what sampling draws
    from at this temperature and top-k (0 = all characters), for the ``top`` characters
    likeliest at temperature 1 (``fig.parts``: the artists ``set_sampling`` changes).
    ``labels=False``: the characters are not drawn under the bars (a widget writes them
    as HTML, ``labels_html``)."""
    from matplotlib.collections import PolyCollection

    top = min(top, len(vocab))
    with plots.style():
        fig, ax = plots.subplots("wide")
        fig.set_size_inches(10.0, 3.2)          # "wide", as short as the bars allow
        fig.get_layout_engine().set(h_pad=0.1)  # "␣" hangs below the other labels
        x = np.arange(top, dtype=float)
        bars_1 = PolyCollection(_bars(x - 0.4, 0 * x), facecolors="#a0aec0",
                                label="temperature 1, all characters")
        bars_t = PolyCollection(_bars(x, 0 * x), facecolors=plots.BLUE,
                                label="what sampling draws from (this temperature and top-k)")
        ax.add_collection(bars_1, autolim=False)
        ax.add_collection(bars_t, autolim=False)
        # The characters are texts under the bars, not tick labels: they change with the
        # text as it is written, and texts redraw in a blink where an axis does not.
        under = ax.get_xaxis_transform()               # x in data, y in axes fraction
        labels = [ax.text(i, -0.03, "x", transform=under, ha="center", va="top",
                          fontsize=12, visible=labels) for i in range(top)]
        ax.set_xticks([])
        ax.set_xlim(-0.6, top - 0.4)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("probability")
        # A fixed title: the text itself is shown beside the figure (a long title that
        # changed every frame would cost more to draw than all the bars).
        ax.set_title("the next character, after the text written so far", fontsize=10.5)
        ax.legend(loc="upper right", fontsize=9)
        fig.parts = SamplingParts(ax, bars_1, bars_t, labels)
        set_sampling(fig, model, vocab, text, temperature, top_k)
    return plots.finish(fig)


def set_sampling(fig: Figure, model: gpt.TinyGPT, vocab, text: str, temperature: float,
                 top_k: int, scores: np.ndarray | None = None) -> str:
    """The bars of a ``sampling_figure`` for the next character after another text, at
    another temperature or top-k. ``scores``: the model's scores for that character, if
    already computed (a ``LiveSample`` has them). Returns what changed: "labels" (other
    characters, and their bars), "bars" (only the bars) or "" (nothing)."""
    parts = fig.parts
    k = top_k or None
    text = gpt.clean_prompt(text, vocab)
    if scores is None:
        scores = next_scores(model, vocab.encode(text[-model.context:]))
    p1 = gpt.next_char_probs(scores, 1.0)
    pt = gpt.next_char_probs(scores, temperature, k)
    order = np.argsort(-p1, kind="stable")[:len(parts.labels)]
    texts = [_shown(vocab.chars[i]) for i in order]
    changed = ("labels" if texts != [label.get_text() for label in parts.labels] else
               "" if (np.array_equal(p1[order], parts.heights_1)
                      and np.array_equal(pt[order], parts.heights_t)) else "bars")
    parts.heights_1, parts.heights_t = p1[order], pt[order]
    x = np.arange(len(order), dtype=float)
    parts.bars_1.set_verts(_bars(x - 0.4, parts.heights_1))
    parts.bars_t.set_verts(_bars(x, parts.heights_t))
    for label, text in zip(parts.labels, texts, strict=True):
        label.set_text(text)
    return changed


def labels_html(fig: Figure) -> str:
    """The characters under the bars of a ``sampling_figure``, as HTML to put right
    under its picture: one cell per bar, placed in percent of the picture's width so
    they stay under their bars when the picture is shown smaller. (Drawing twelve
    texts in the figure cost more than the rest of a frame.)"""
    parts = fig.parts
    n = len(parts.labels)
    (left, _), (right, _) = parts.ax.transData.transform([(-0.5, 0), (n - 0.5, 0)])
    width = fig.bbox.width
    cells = "".join(f"<span>{html.escape(label.get_text())}</span>" for label in parts.labels)
    return (f"<div style='display:grid;grid-template-columns:repeat({n},1fr);"
            f"margin:0 {100 * (1 - right / width):.3f}% 0 {100 * left / width:.3f}%;"
            "text-align:center;font-size:15px;line-height:1.2'>" + cells + "</div>")


def next_scores(model: gpt.TinyGPT, ids) -> np.ndarray:
    """The model's scores for the character after ``ids`` (at most its context).
    The last few are kept: every change of temperature, top-k or seed starts again
    from the same prompt, whose scores are then computed once."""
    return _next_scores(model, tuple(int(i) for i in ids)).copy()


@functools.lru_cache(maxsize=8)
def _next_scores(model, ids: tuple) -> np.ndarray:
    with widgets.one_blas_thread():      # products of 64 x 64: one thread is faster
        return model(np.array(ids)[None])[0, -1]


class LiveSample:
    """``gpt.sample`` one character per ``step()``, for a widget to show the text as it
    is written (the same characters as ``gpt.sample`` with the same arguments).
    ``next_scores()`` are the model's scores for the next character, computed once and
    used both by the picture and by the step that draws it."""

    def __init__(self, model, vocab, prompt: str, length: int = 200,
                 temperature: float = 1.0, top_k: int | None = None, seed: int = 0):
        self.model, self.vocab, self.length = model, vocab, length
        self.temperature, self.top_k = temperature, top_k
        self.rng = np.random.default_rng(seed)
        self.prompt = gpt.clean_prompt(prompt, vocab)
        self.ids = list(vocab.encode(self.prompt))
        self.written = 0
        self._scores = None

    def next_scores(self) -> np.ndarray:
        if self._scores is None:
            self._scores = next_scores(self.model, self.ids[-self.model.context:])
        return self._scores

    def step(self) -> bool:
        if self.written >= self.length:
            return False
        p = gpt.next_char_probs(self.next_scores(), self.temperature, self.top_k)
        self.ids.append(int(self.rng.choice(len(p), p=p)))
        self._scores = None
        self.written += 1
        return self.written < self.length

    @property
    def text(self) -> str:
        return self.vocab.decode(np.array(self.ids))


def sample_html(writer: LiveSample, seed: int) -> str:
    """The text a ``LiveSample`` has written so far, as HTML: the prompt in bold."""
    import html

    prompt, rest = writer.text[:len(writer.prompt)], writer.text[len(writer.prompt):]
    setting = f"temperature {writer.temperature:.2f}, " + (
        f"top {writer.top_k}" if writer.top_k else "all characters")
    head = (f"sampled at {setting} (seed {seed}): {writer.written} of {writer.length} "
            "characters"
            + ("" if writer.written == writer.length else " …"))
    return (f"<div style='font-size:13px;color:#4a5568'>{head}</div>"
            "<pre style='margin:2px 0;font-size:12px;line-height:1.3;white-space:pre-wrap'>"
            f"<b>{html.escape(prompt)}</b>{html.escape(rest)}</pre>")


def sampling_explorer(model: gpt.TinyGPT, vocab, prompt: str = "The ", length: int = 200):
    """The widget: temperature, top-k and seed sliders and a prompt box; the bars of
    what the next character is drawn from, and the text below. A change redraws the
    bars at once and starts a new text from the prompt; Start writing writes it live,
    a few characters a frame, the bars following the text (Pause, Step one character,
    Reset). The text and the characters under the bars are HTML (text redraws for
    free); the bars are blitted."""
    import ipywidgets as ipw

    style = plots.slider_style()
    controls = {
        "temperature": ipw.FloatSlider(value=0.8, min=0.1, max=2.0, step=0.05,
                                       description="temperature", style=style),
        "top_k": ipw.IntSlider(value=0, min=0, max=len(vocab),
                               description="top-k (0: all characters)", style=style),
        "seed": ipw.IntSlider(value=0, min=0, max=20, description="seed", style=style),
        "prompt": ipw.Text(value=prompt, description="prompt", continuous_update=False,
                           style=style),
    }

    def values() -> dict:
        return {name: c.value for name, c in controls.items()}

    def new_writer() -> LiveSample:
        v = values()
        return LiveSample(model, vocab, v["prompt"], length, v["temperature"],
                          v["top_k"] or None, v["seed"])

    state = {"writer": new_writer()}
    fig = sampling_figure(model, vocab, prompt, 0.8, 0, labels=False)
    view = widgets.FigureView(fig, animated=[fig.parts.bars_1, fig.parts.bars_t],
                              name="sampling_explorer")
    # The characters under the bars are HTML as wide as the picture, both at its size
    # or, in a narrower page, the page's width: they stay under their bars.
    width = f"{fig.bbox.width:.0f}px"
    view.widget.layout.width = width
    under = ipw.HTML(layout=ipw.Layout(width=width, max_width="100%", margin="0"))
    written = ipw.HTML(layout=ipw.Layout(max_width="900px", height="12em", overflow="hidden"))

    def frame(control: str = "write") -> None:
        start = time.perf_counter()
        v, writer = values(), state["writer"]
        changed = set_sampling(fig, model, vocab, writer.text, v["temperature"], v["top_k"],
                               scores=writer.next_scores())
        under.value = labels_html(fig)
        written.value = sample_html(writer, v["seed"])
        if changed or not view.widget.value:     # the same bars (a new seed): no picture
            view.frame(control=control, compute_ms=1e3 * (time.perf_counter() - start))

    def reset() -> None:
        state["writer"] = new_writer()

    # The count of characters written is in the text's first line: the status line
    # stays as it is while it writes (one message a frame fewer).
    player = widgets.Player(lambda: state["writer"].step(), frame, reset,
                            status=lambda: ("press Start writing"
                                            if state["writer"].written == 0 else ""),
                            play_label="Start writing",
                            max_steps_per_frame=4)   # ~25 frames/s, 200 characters in 2 s

    def on_change(change) -> None:
        player.pause()
        owner = change.get("owner") if isinstance(change, dict) else None
        reset()
        frame(control=next((k for k, c in controls.items() if c is owner), ""))
        player.rearm()

    for control in controls.values():
        if hasattr(control, "continuous_update") and not isinstance(control, ipw.Text):
            control.continuous_update = True
        control.observe(on_change, names="value")
    frame(control="(first)")
    box = ipw.VBox([ipw.HBox([controls["temperature"], controls["top_k"]]),
                    ipw.HBox([controls["seed"], controls["prompt"]]), view.widget, under,
                    player.widget, written])
    box.view, box.player, box.controls, box.state = view, player, controls, state
    box.text, box.labels = written, under
    return box


def loss_curves_figure(info: dict, smooth: int = 50) -> Figure:
    """The shipped GPT's and LSTM's training loss (a running mean of ``smooth``
    steps) and validation loss, in nats per character."""
    names = {"gpt": "tiny GPT", "lstm": "LSTM (lesson 12's CharLSTM)"}
    colors = {"gpt": plots.BLUE, "lstm": plots.ORANGE}
    with plots.style():
        fig, ax = plots.subplots("medium")
        for key, label in names.items():
            part = info[key]
            train = np.asarray(part["train"], np.float64)
            smooth = min(smooth, len(train))
            kernel = np.ones(smooth) / smooth
            smoothed = np.convolve(train, kernel, mode="valid")
            ax.plot(np.arange(smooth, len(train) + 1), smoothed, color=colors[key], alpha=0.45,
                    label=f"{label}, training")
            ax.plot(part["val_steps"], part["val"], "o-", ms=3, color=colors[key],
                    label=f"{label}, validation ({part['parameters']:,} parameters)")
        ax.set(xlabel="training step (32 windows of 64 characters)",
               ylabel="cross-entropy (nats per character)", ylim=(1.0, 3.5),
               title="Python's documentation, character by character")
        ax.legend(fontsize=8)
    return plots.finish(fig)
