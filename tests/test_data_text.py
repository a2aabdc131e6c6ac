"""The Zen of Python corpus and the character vocabulary."""
from __future__ import annotations

import numpy as np
import pytest

from dlcore.data import CharVocab, char_windows, zen_of_python


def test_zen_is_decoded_and_silent(capsys):
    zen = zen_of_python()
    assert zen.startswith("The Zen of Python, by Tim Peters")
    assert "Beautiful is better than ugly." in zen
    assert capsys.readouterr().out == ""


def test_vocab_round_trip():
    text = zen_of_python()
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.max() == len(vocab) - 1
    assert vocab.decode(ids) == text
    assert vocab.chars == sorted(vocab.chars)
    assert vocab.one_hot(ids[:5]).shape == (5, len(vocab))
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("\u00e9")
    with pytest.raises(ValueError):
        vocab.decode([len(vocab)])


def test_char_windows_are_shifted_by_one():
    X, Y, vocab = char_windows("hello world", seq_len=4)
    assert X.shape == Y.shape == (7, 4)
    assert vocab.decode(X[0]) == "hell" and vocab.decode(Y[0]) == "ello"
    assert np.array_equal(X[:, 1:], Y[:, :-1])
    with pytest.raises(ValueError, match="too short"):
        char_windows("abc", seq_len=5)


def test_python_docs_is_the_help_text_in_ascii():
    from dlcore.data import python_docs

    text = python_docs()
    assert len(text) > 300_000 and text.isascii()
    assert 'The "if" statement' in text and "Assert statements" in text
    assert text == python_docs()                                  # the same every call
    raw = python_docs(ascii=False)
    assert not raw.isascii() and "\u201c" not in text and "\u2014" not in text
    vocab = CharVocab(text)
    assert vocab.decode(vocab.encode(text[:1000])) == text[:1000]
