"""Lesson 13's tiny GPT: a character-level transformer that writes like Python's docs.

    from dlcore.viz import gpt
    model, vocab, info = gpt.load_pretrained()        # weights shipped in dlcore/data
    gpt.sample(model, vocab, "The ", length=200, temperature=0.8, top_k=10, seed=0)
    maps = gpt.attention_maps(model, vocab, "def f(x):")   # (layers, heads, T, T)

``TinyGPT`` is built from the engine's layers only: a token ``Embedding`` plus a
position ``Embedding``, a stack of ``TransformerEncoderLayer`` blocks (pre-norm, GELU)
that each see only the past through a causal mask, a final ``LayerNorm`` and a
``Linear`` that scores every possible next character. It is the decoder-only shape of
GPT-2, small enough to train on a laptop CPU in NumPy.

``train_char_model`` trains it (or lesson 12's ``CharLSTM``) on random windows of a
text; ``benchmarks/train_tiny_gpt.py`` runs it for both models and writes the weights
and loss curves that ``load_pretrained`` reads.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .. import data, nn, optim
from ..nn.attention import causal_mask
from ..nn.functional import softmax
from ..rng import manual_seed
from ..serialization import load

PRETRAINED = Path(__file__).resolve().parents[1] / "data" / "tiny_gpt.npz"


class TinyGPT(nn.Module):
    """ids (N, T) -> scores for the next character (N, T, V), each position seeing
    only itself and the positions before it.

    Args:
        vocab_size: V, the number of characters.
        context: the longest input, T <= context (the position table's size).
        d_model, nhead, num_layers, dim_feedforward: the blocks' sizes.
    """

    def __init__(self, vocab_size: int, context: int = 64, d_model: int = 64, nhead: int = 4,
                 num_layers: int = 2, dim_feedforward: int = 256, dropout: float = 0.0):
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(context, d_model)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                       activation="gelu", batch_first=True, norm_first=True)
            for _ in range(num_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)
        # Start the embeddings small, as GPT-2 does (N(0, 0.02)); N(0, 1) swamps the blocks.
        for table in (self.tok, self.pos):
            table.weight.data *= 0.02

    def forward(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids)
        T = ids.shape[-1]
        if T > self.context:
            raise ValueError(f"TinyGPT reads at most context={self.context} characters, "
                             f"got {T}")
        x = self.tok(ids) + self.pos(np.arange(T))           # (N, T, D): what and where
        mask = causal_mask(T)                                 # no peeking at the future
        for block in self.blocks:
            x = block(x, src_mask=mask)
        self._cache = ids.shape
        return self.head(self.norm(x))                        # (N, T, V)

    def backward(self, grad_out: np.ndarray) -> None:
        self._saved()
        grad = self.norm.backward(self.head.backward(grad_out))
        for block in reversed(self.blocks):
            grad = block.backward(grad)
        self.tok.backward(grad)
        self.pos.backward(grad.reshape(-1, *grad.shape[-2:]).sum(axis=0))   # summed over N

    def extra_repr(self) -> str:
        return f"context={self.context}"


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def random_windows(ids: np.ndarray, batch_size: int, seq_len: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``batch_size`` windows of ``seq_len`` ids at random places, and the same
    windows shifted by one (the next character at every position)."""
    starts = rng.integers(0, len(ids) - seq_len - 1, size=batch_size)
    offsets = np.arange(seq_len)
    return ids[starts[:, None] + offsets], ids[starts[:, None] + offsets + 1]


def evaluate_loss(model: nn.Module, ids: np.ndarray, seq_len: int, windows: int = 64,
                  seed: int = 1) -> float:
    """Mean cross-entropy (nats per character) on ``windows`` fixed random windows."""
    x, y = random_windows(ids, windows, seq_len, np.random.default_rng(seed))
    scores = model(x)
    return float(nn.CrossEntropyLoss()(scores.reshape(-1, scores.shape[-1]), y.reshape(-1)))


def train_char_model(model: nn.Module, train_ids: np.ndarray, val_ids: np.ndarray,
                     steps: int = 200, batch_size: int = 32, seq_len: int = 64,
                     lr: float = 3e-3, eval_every: int = 50, seed: int = 0,
                     progress: bool = False) -> dict:
    """Adam on random windows with a cosine-decaying learning rate.

    ``model(ids)`` must give (N, T, V) scores and ``model.backward(grad)`` take their
    gradient (``TinyGPT`` and lesson 12's ``CharLSTM`` both do). Returns a dict:
    ``train`` the loss of every step, ``val_steps`` and ``val`` the validation loss
    every ``eval_every`` steps, ``seconds`` the training time.
    """
    manual_seed(seed)
    rng = np.random.default_rng(seed)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=lr / 10)
    history = {"train": [], "val_steps": [], "val": []}
    start = time.perf_counter()
    for step in range(1, steps + 1):
        model.train()
        x, y = random_windows(train_ids, batch_size, seq_len, rng)
        scores = model(x)
        loss = loss_fn(scores.reshape(-1, scores.shape[-1]), y.reshape(-1))
        model.backward(loss_fn.backward().reshape(scores.shape))
        optimizer.step()
        optimizer.zero_grad()
        scheduler.step()
        history["train"].append(loss)
        if step % eval_every == 0 or step == steps:
            model.eval()
            history["val_steps"].append(step)
            history["val"].append(evaluate_loss(model, val_ids, seq_len))
            if progress:
                print(f"step {step:5d}  train {loss:.3f}  val {history['val'][-1]:.3f}  "
                      f"{time.perf_counter() - start:.0f} s", flush=True)
    model.eval()
    history["seconds"] = time.perf_counter() - start
    return history


def corpus(vocab: data.CharVocab | None = None, val_fraction: float = 0.1
           ) -> tuple[np.ndarray, np.ndarray, data.CharVocab]:
    """Python's documentation as ids: (train ids, validation ids (the last
    ``val_fraction``), vocab). Characters outside ``vocab`` are dropped."""
    text = data.python_docs()
    if vocab is None:
        vocab = data.CharVocab(text)
    else:
        text = "".join(ch for ch in text if ch in vocab.stoi)
    ids = vocab.encode(text)
    cut = int(len(ids) * (1 - val_fraction))
    return ids[:cut], ids[cut:], vocab


def load_pretrained(path: str | Path = PRETRAINED):
    """The shipped models: ``(gpt, vocab, info)``.

    ``info["lstm"]`` is lesson 12's ``CharLSTM`` trained the same way beside it;
    ``info["gpt"]`` and ``info["lstm"]`` hold each model's ``model``, ``config``,
    ``parameters`` and loss curves (``train``, ``val_steps``, ``val``, ``seconds``),
    as ``benchmarks/train_tiny_gpt.py`` wrote them.
    """
    from .textgen import CharLSTM

    saved = load(path)
    vocab = data.CharVocab(str(saved["vocab"]))
    info = {}
    for name, cls in (("gpt", TinyGPT), ("lstm", CharLSTM)):
        part = saved[name]
        config = {key: int(value) for key, value in part["config"].items()}
        model = cls(len(vocab), **config)
        model.load_state_dict(part["state"])
        info[name] = {"model": model.eval(), "config": config,
                      "parameters": count_parameters(model),
                      **{key: np.asarray(part[key]) for key in ("train", "val_steps", "val")},
                      "seconds": float(part["seconds"]), "steps": int(part["steps"])}
    return info["gpt"]["model"], vocab, info


# -- sampling -----------------------------------------------------------------------------
def next_char_probs(scores: np.ndarray, temperature: float = 1.0,
                    top_k: int | None = None) -> np.ndarray:
    """softmax(scores / temperature) over the ``top_k`` highest scores (the rest 0)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    scores = np.asarray(scores, np.float64) / temperature
    if top_k is not None and 0 < top_k < scores.shape[-1]:
        kth = np.sort(scores, axis=-1)[..., -top_k][..., None]
        scores = np.where(scores >= kth, scores, -np.inf)
    return softmax(scores, dim=-1)


def sample(model: nn.Module, vocab: data.CharVocab, prompt: str, length: int = 200,
           temperature: float = 1.0, top_k: int | None = None, seed: int = 0) -> str:
    """The prompt and ``length`` characters drawn one at a time from
    ``next_char_probs`` of the model's scores for the last position.

    A ``TinyGPT`` rereads its input cut to the last ``context`` characters at every
    step; a recurrent model with a ``step`` method (lesson 12's ``CharLSTM``) carries
    its state forward and reads one character per step.
    """
    rng = np.random.default_rng(seed)
    ids = list(vocab.encode(clean_prompt(prompt, vocab)))
    recurrent = hasattr(model, "step")
    if recurrent:
        scores, state = model.step(np.array(ids)[None])
    for _ in range(length):
        if not recurrent:
            scores = model(np.array(ids[-model.context:])[None])[:, -1]
        p = next_char_probs(scores[0], temperature, top_k)
        ids.append(int(rng.choice(len(p), p=p)))
        if recurrent:
            scores, state = model.step(np.array([[ids[-1]]]), state)
    return vocab.decode(np.array(ids))


def clean_prompt(prompt: str, vocab: data.CharVocab) -> str:
    """The prompt without characters the model has never seen (a space if none is left)."""
    kept = "".join(ch for ch in prompt if ch in vocab.stoi)
    return kept or " "


def attention_maps(model: TinyGPT, vocab: data.CharVocab, text: str) -> np.ndarray:
    """The attention weights of every block and head for ``text`` (its last
    ``context`` characters): an array (layers, heads, T, T), row i the weights with
    which character i looked at characters 0..i."""
    ids = vocab.encode(clean_prompt(text, vocab)[-model.context:])[None]
    T = ids.shape[1]
    mask = causal_mask(T)
    x = model.tok(ids) + model.pos(np.arange(T))
    maps = []
    for block in model.blocks:
        h = block.norm1(x) if block.norm_first else x
        _, weights = block.self_attn(h, h, h, attn_mask=mask, average_attn_weights=False)
        maps.append(weights[0])
        x = block(x, src_mask=mask)
    return np.stack(maps)
