"""Character corpora from the standard library, and a character vocabulary.

``import this`` prints the Zen of Python; the module keeps it ROT13-encoded in
``this.s``. ``zen_of_python()`` decodes it without printing anything.
``python_docs()`` is Python's own reference documentation, the text ``help()`` shows,
which CPython ships in ``pydoc_data.topics``: about 550 times longer.
"""
from __future__ import annotations

import codecs
import contextlib
import io

import numpy as np


def zen_of_python() -> str:
    """The Zen of Python (PEP 20), 19 aphorisms, about 850 characters."""
    with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints once
        import this
    return codecs.decode(this.s, "rot13")


# Typographic characters of the docs as ASCII, so the vocabulary stays plain.
_ASCII = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2013": "-", "\u2014": "--", "\u2026": "...", "\u00b0": " degrees",
                        "\u00df": "ss"})


def python_docs(ascii: bool = True) -> str:
    """Python's reference documentation as one text: the 79 help topics of
    ``pydoc_data.topics`` (what ``help('if')`` prints), joined in name order.

    About 465,000 characters in Python 3.11 (the exact text follows the Python
    version): English prose, grammar rules and indented code examples. With
    ``ascii`` (the default) curly quotes, dashes and the few other non-ASCII
    characters become ASCII (94 distinct characters in Python 3.11).
    """
    try:
        from pydoc_data.topics import topics
    except ImportError as error:      # some Linux distributions package it apart
        raise RuntimeError("python_docs needs the standard library's pydoc_data "
                           "package, which this Python does not have") from error
    text = "\n\n".join(topics[name].strip("\n") for name in sorted(topics))
    return text.translate(_ASCII) if ascii else text


class CharVocab:
    """Characters <-> integer ids, built from the characters of a text (sorted).

    ``encode('abc')`` gives an int64 array of ids, ``decode(ids)`` the string.
    """

    def __init__(self, text: str):
        if not text:
            raise ValueError("CharVocab needs a non-empty text")
        self.chars: list[str] = sorted(set(text))
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        unknown = sorted(set(text) - set(self.stoi))
        if unknown:
            raise ValueError(f"CharVocab.encode: characters not in the vocabulary: {unknown}")
        return np.array([self.stoi[c] for c in text], dtype=np.int64)

    def decode(self, ids) -> str:
        ids = np.asarray(ids).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"CharVocab.decode: ids must be in [0, {len(self) - 1}], "
                             f"got values from {ids.min()} to {ids.max()}")
        return "".join(self.chars[int(i)] for i in ids)

    def one_hot(self, ids) -> np.ndarray:
        """float32 one-hot vectors, shape ids.shape + (len(vocab),)."""
        return np.eye(len(self), dtype=np.float32)[np.asarray(ids)]

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters)"


def char_windows(text: str, seq_len: int = 32, vocab: CharVocab | None = None, step: int = 1
                 ) -> tuple[np.ndarray, np.ndarray, CharVocab]:
    """Training pairs for a character-level language model.

    Returns (X, Y, vocab): X int64 (N, T=seq_len) ids of the characters
    text[i:i+T], Y int64 (N, T) the next character at each position,
    text[i+1:i+T+1]; windows start every ``step`` characters.
    """
    vocab = vocab or CharVocab(text)
    ids = vocab.encode(text)
    if len(ids) <= seq_len:
        raise ValueError(f"char_windows: text of {len(ids)} characters is too short "
                         f"for seq_len={seq_len}")
    starts = np.arange(0, len(ids) - seq_len, step)
    offsets = np.arange(seq_len)
    X = ids[starts[:, None] + offsets]
    Y = ids[starts[:, None] + offsets + 1]
    return X, Y, vocab
