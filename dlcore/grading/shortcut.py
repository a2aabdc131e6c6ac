"""Engine shortcuts: code that would do a graded part's work for the learner.

A learner asked to write ``dense_forward`` can call ``nn.Linear`` and get the numbers
right while learning nothing. Each ``Spec`` declares, narrowly, the shortcuts that
bypass what its part teaches (``Spec.shortcuts``): a regular expression and the
message the learner reads. The in-notebook check and the class autograder apply the
same rule to the same text, the learner's answer cell:

* ``code_only(source)`` blanks out comments, string literals (docstrings included)
  and IPython ``%magic``/``!shell`` lines, so a comment such as ``# as nn.Linear``
  never counts; the rule then searches what is left;
* ``answer_source(obj, name)`` finds, in a notebook, the cell that defined the
  learner's function or class (IPython keeps each cell in ``linecache``), and
  returns ``None`` when it cannot be found, so the check simply goes on without it.

Only the learner's own code is searched: the autograder takes the learner's answer
cell, and a test keeps every pattern off the code that the exercise hands out in
those cells. A determined learner can hide a call (``getattr(nn, "Lin" + "ear")``);
the rule is there to say plainly what the exercise asks, not to catch every trick.
"""
from __future__ import annotations

import inspect
import io
import linecache
import os
import re
import sys
import sysconfig
import tokenize
import types
from dataclasses import dataclass
from typing import Any

_BLANKED = (tokenize.COMMENT, tokenize.STRING) + tuple(
    getattr(tokenize, n) for n in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
    if hasattr(tokenize, n))


@dataclass(frozen=True)
class Shortcut:
    """Engine code that would do a part's work: ``pattern``, a regular expression
    searched in the learner's code with comments and strings blanked out, and
    ``message``, what the learner reads when it is found (plain words: what was
    used, and what the part asks for instead)."""

    pattern: str
    message: str

    def found_in(self, code: str) -> bool:
        return re.search(self.pattern, code) is not None


def code_only(source: str) -> str:
    """``source`` with comments, string literals and IPython magic lines replaced by
    spaces (lines and columns kept). Code that does not tokenize is kept as it is
    from the point where tokenizing stopped."""
    lines = io.StringIO(source).readlines()
    for k, line in enumerate(lines):
        if line.lstrip().startswith(("%", "!")):
            lines[k] = re.sub(r"[^\n]", " ", line)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    chars = list("".join(lines))
    try:
        for tok in tokenize.generate_tokens(io.StringIO("".join(lines)).readline):
            if tok.type not in _BLANKED:
                continue
            begin = starts[tok.start[0] - 1] + tok.start[1]
            end = starts[tok.end[0] - 1] + tok.end[1]
            for i in range(begin, min(end, len(chars))):
                if chars[i] != "\n":
                    chars[i] = " "
    except (tokenize.TokenError, SyntaxError):
        pass  # the rest stays as written
    return "".join(chars)


def first_shortcut(shortcuts: tuple[Shortcut, ...], source: str) -> Shortcut | None:
    """The first of ``shortcuts`` used by ``source`` (the learner's code), or None."""
    if not shortcuts:
        return None
    code = code_only(source)
    return next((s for s in shortcuts if s.found_in(code)), None)


# -- where the learner's code is, in a notebook --------------------------------
def _library_folders() -> tuple[str, ...]:
    folders = {os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}  # dlcore/
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            folders.add(os.path.abspath(path))
    return tuple(f + os.sep for f in sorted(folders))


_LIBRARY = _library_folders()


def _code_file(obj: Any) -> str | None:
    """The file name of the code of a function, or of a class's own methods."""
    try:
        obj = inspect.unwrap(obj)
    except ValueError:
        return None
    if inspect.isclass(obj):
        for member in vars(obj).values():
            member = getattr(member, "__func__", None) or getattr(member, "fget", None) or member
            if inspect.isfunction(member):
                return member.__code__.co_filename
        return None
    code = getattr(obj, "__code__", None)
    return code.co_filename if isinstance(code, types.CodeType) else None


def answer_source(obj: Any, name: str) -> str | None:
    """The learner's code that defines ``obj`` (their answer called ``name``): the
    notebook cell it was defined in, the definition itself when it comes from a file
    of the learner's, or, when ``obj`` is not the learner's code at all (say
    ``scipy.special.expit`` under another name), the last notebook cell that binds
    ``name``. ``None`` when none of these can be found (or ``obj`` resists reading)."""
    try:
        return _answer_source(obj, name)
    except Exception:  # a learner object whose attributes raise: no source, no refusal
        return None


def _answer_source(obj: Any, name: str) -> str | None:
    filename = _code_file(obj)
    if filename and not os.path.abspath(filename).startswith(_LIBRARY):
        if os.path.isfile(filename):
            try:
                return inspect.getsource(obj)
            except (OSError, TypeError):
                return None
        lines = linecache.getlines(filename)
        if lines:
            return "".join(lines)
        return None
    return _cell_binding(name)


def _cell_binding(name: str) -> str | None:
    """The last cell run in this IPython session that binds ``name``."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    cells = getattr(shell, "user_ns", {}).get("In", []) if shell is not None else []
    binds = re.compile(rf"^\s*(?:def|class)\s+{re.escape(name)}\b|\b{re.escape(name)}\s*=[^=]"
                       rf"|\bimport\b[^\n]{{0,200}}\b{re.escape(name)}\b", re.MULTILINE)
    for cell in reversed(cells[:-1] if isinstance(cells, list) else []):
        if isinstance(cell, str) and binds.search(code_only(cell)):
            return cell
    return None
