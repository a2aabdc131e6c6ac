"""What a graded function is: its ``Spec``, its test ``Case``s and the ``Outcome`` of one.

A spec is the single description of one graded function (or class) that both the
in-notebook check and the class autograder use:

* ``make_cases(seed)`` builds inputs from a seed (public seeds in the notebook,
  hidden seeds in the autograder). Inputs are plain data: NumPy arrays
  (float64, int64 or bool), numbers, strings, bools, lists and dicts of them.
* ``run(namespace, case)`` calls the learner's function, found by ``name`` in the
  learner's namespace, and returns plain data only (see ``as_array``,
  ``as_float``). In the autograder it runs inside the sandboxed worker.
* ``reference(case)`` gives the right answer from the dlcore engine. It never
  runs in the worker.
* ``compare(got, expected, case)`` decides on plain data, in the grader's own
  process, and says in plain words what is wrong, with the hint whose
  ``mistake`` the learner's answer matches. No learner object is ever compared.
* ``shortcuts`` name the engine code that would do the part's work for the learner
  (``nn.Linear`` in a part that asks for ``X @ W.T + b``); ``refusal(source)`` says,
  from the learner's answer cell, whether one is used (see ``shortcut.py``).

Plain data crosses the process boundary as JSON through ``encode``/``decode``
(arrays as ``{"__array__": dtype, "shape": [...], "data": [...]}``).
"""
from __future__ import annotations

import copy
import linecache
import math
import os
import re
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .shortcut import Shortcut, first_shortcut
from .verdict import Credit, Kind, Outcome

__all__ = ["AnswerError", "Case", "Credit", "Hint", "Kind", "LearnerError", "MissingName",
           "Outcome", "Spec", "as_array", "as_float", "as_parts", "decode", "decode_case",
           "describe_exception", "encode", "encode_case", "learner", "learner_error"]

MARK_BEGIN = "### BEGIN SOLUTION"
MARK_END = "### END SOLUTION"
PLAIN_DTYPES = ("float64", "int64", "bool")


# -- the pieces --------------------------------------------------------------
@dataclass
class Case:
    """One set of inputs. ``label`` says in plain words what is special about it
    ("3 samples, 4 features", "very large inputs"); ``inputs`` are plain data."""

    label: str
    inputs: dict[str, Any]

    def copy_inputs(self) -> dict[str, Any]:
        """Fresh copies, so a learner who changes an input in place changes nothing."""
        return copy.deepcopy(self.inputs)


@dataclass(frozen=True)
class Hint:
    """A hint for one typical mistake.

    ``mistake(case)`` computes (grader side) the answer that mistake would give,
    or ``None`` where it does not apply; a learner's answer that matches it gets
    ``text``. ``errors`` names exception types (``"FloatingPointError"``) whose
    appearance also calls for ``text``.
    """

    text: str
    mistake: Callable[[Case], Any] | None = None
    errors: tuple[str, ...] = ()


class AnswerError(Exception):
    """The learner's answer cannot be read (``None``, wrong type, missing name).
    Its message is plain words for the learner, shown as it is."""


class MissingName(AnswerError):
    """The function the part asks for is not defined in the learner's namespace."""


# The type names a ``LearnerError`` carries for what is not an exception of the
# learner's own: the worker's per-case alarm, and the two kinds of ``AnswerError``.
CASE_TIMEOUT = "CaseTimeout"


@dataclass
class LearnerError:
    """An exception raised by the learner's code, as plain data: its type name,
    message and the line in the learner's own code where it happened."""

    type: str
    message: str
    line: int | None = None
    code: str | None = None
    cell: int | None = None  # the autograder's cell index, from the file name "<cell N>"

    def to_plain(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message, "line": self.line,
                "code": self.code, "cell": self.cell}

    @classmethod
    def from_plain(cls, data: Any) -> LearnerError:
        if not isinstance(data, dict):
            raise ValueError("a learner error must be a dict")
        line, cell = data.get("line"), data.get("cell")
        return cls(type=_short_text(data.get("type"), 80) or "Exception",
                   message=_short_text(data.get("message"), 500),
                   line=line if isinstance(line, int) and not isinstance(line, bool) else None,
                   code=_short_text(data.get("code"), 200) or None,
                   cell=cell if isinstance(cell, int) and not isinstance(cell, bool) else None)

    @property
    def kind(self) -> Kind:
        return {"NotImplementedError": Kind.NOT_IMPLEMENTED, "MissingName": Kind.MISSING,
                "AnswerError": Kind.UNREADABLE, CASE_TIMEOUT: Kind.TIMEOUT,
                }.get(self.type, Kind.RAISED)


def _short_text(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


_NOT_LEARNER = tuple(os.path.dirname(p) + os.sep for p in (
    np.__file__, os.path.dirname(__file__), os.__file__))


def describe_exception(err: BaseException) -> LearnerError:
    """Turn an exception from the learner's code into a ``LearnerError``, naming
    the last line of the learner's own code in the traceback (not NumPy's, not
    dlcore's, not the standard library's)."""
    try:
        message = str(err)
    except Exception:  # a hostile __str__
        message = ""
    line = code = cell = None
    for frame in traceback.extract_tb(err.__traceback__):
        if frame.filename.startswith(_NOT_LEARNER):
            continue
        line = frame.lineno
        code = (frame.line or linecache.getline(frame.filename, frame.lineno or 0)).strip()
        found = re.fullmatch(r"<cell (\d+)>", frame.filename)
        cell = int(found[1]) if found else None
    return LearnerError(type(err).__name__, _short_text(message, 500), line, code or None,
                        cell)


def learner_error(err: BaseException) -> LearnerError:
    """Any exception from running the learner's answer, as plain data: an
    ``AnswerError`` (or ``MissingName``) keeps its plain-words message as it is."""
    if isinstance(err, AnswerError):
        return LearnerError(type(err).__name__ if isinstance(err, MissingName)
                            else "AnswerError", str(err))
    return describe_exception(err)


# -- what run() uses to read the learner's answer as plain data -------------
def learner(namespace: Mapping[str, Any], name: str) -> Any:
    """The learner's object called ``name``, or a plain-words ``AnswerError``."""
    if name not in namespace:
        raise MissingName(f"`{name}` is not defined: run the cell where you write it, "
                          "then run this check again.")
    obj = namespace[name]
    if not callable(obj):
        raise AnswerError(f"`{name}` should be a function (or class), but it is a "
                          f"{type(obj).__name__}.")
    return obj


def as_array(x: Any, what: str = "your result") -> np.ndarray:
    """``x`` as a plain float64 NumPy array (never a learner object)."""
    if x is None:
        raise AnswerError(f"{what} is None: did you forget to `return` it?")
    try:
        array = np.array(x, dtype=np.float64, copy=True, subok=False)
    except Exception as err:
        raise AnswerError(f"{what} should be an array of numbers, but it is a "
                          f"{type(x).__name__} that NumPy cannot read as one "
                          f"({type(err).__name__})") from None
    return array


def as_float(x: Any, what: str = "your result") -> float:
    """``x`` as one Python float; arrays of one element are accepted."""
    array = as_array(x, what)
    if array.size != 1:
        raise AnswerError(f"{what} should be a single number, but it is an array of "
                          f"shape {array.shape}.")
    return float(array.reshape(()))


def as_parts(x: Any, names: tuple[str, ...], what: str = "your result") -> dict[str, Any]:
    """A tuple such as ``(dx, dW, db)`` as ``{"dx": array, ...}``."""
    if x is None:
        raise AnswerError(f"{what} is None: did you forget to `return` it?")
    if not isinstance(x, (tuple, list)) or len(x) != len(names):
        got = f"a {type(x).__name__}"
        if isinstance(x, (tuple, list)):
            got += f" of {len(x)}"
        raise AnswerError(f"{what} should be a tuple of {len(names)} "
                          f"({', '.join(names)}), but it is {got}.")
    parts = zip(names, list(x), strict=True)
    return {name: as_array(part, f"{name} in {what}") for name, part in parts}


# -- the spec ----------------------------------------------------------------
Comparer = Callable[["Spec", Any, Any, Case], Outcome]


@dataclass(frozen=True)
class Spec:
    """One graded function. See the module docstring for who calls what where.

    ``grade_id`` is the nbgrader id of the graded test cell (unique across the
    course); the answer cell has the id ``answer_id`` (``<grade_id>_answer``).
    ``credit`` says how points are earned (``verdict.Credit``): all or nothing unless
    the spec declares its cases (``PER_CASE``) or its outputs (``PER_OUTPUT``: the
    reference is a dict such as ``{"loss": ..., "dW": ...}``) independent.
    """

    grade_id: str
    assignment: str
    name: str
    points: float
    task: str
    make_cases: Callable[[int], list[Case]]
    run: Callable[[Mapping[str, Any], Case], Any]
    reference: Callable[[Case], Any]
    hints: tuple[Hint, ...] = ()
    tips: tuple[str, ...] = ()
    public_seeds: tuple[int, ...] = (0,)
    rtol: float = 1e-5
    atol: float = 1e-8
    time_limit: float = 10.0
    comparer: Comparer | None = field(default=None, compare=False)
    shortcuts: tuple[Shortcut, ...] = ()
    credit: Credit = Credit.ALL

    @property
    def answer_id(self) -> str:
        return f"{self.grade_id}_answer"

    def cases(self, seeds: tuple[int, ...] | list[int] | None = None) -> list[Case]:
        """Cases for ``seeds`` (the public ones by default), labels numbered."""
        out: list[Case] = []
        for seed in self.public_seeds if seeds is None else seeds:
            out.extend(self.make_cases(int(seed)))
        for i, case in enumerate(out, 1):
            case.label = f"case {i} ({case.label})" if case.label else f"case {i}"
        return out

    def refusal(self, source: str | None) -> str:
        """The message of the first declared shortcut that the learner's code
        ``source`` uses (comments and strings do not count), or "" if none does."""
        found = first_shortcut(self.shortcuts, source) if source else None
        return found.message if found is not None else ""

    def compare(self, got: Any, expected: Any, case: Case) -> Outcome:
        """Judge plain data ``got`` against ``expected``; never calls learner code.
        A near miss (``compare.near_miss``: every entry within 100 times the tolerance,
        or 0.1% of its value) is ``Kind.CLOSE`` and
        says so in words; under ``Credit.PER_OUTPUT`` each output is judged apart."""
        if self.comparer is not None:
            return self.comparer(self, got, expected, case)
        from .compare import compare_plain, near_miss
        outputs: dict[str, bool] = {}
        if self.credit is Credit.PER_OUTPUT and isinstance(expected, dict):
            outputs = {key: isinstance(got, dict) and key in got
                       and not compare_plain(got[key], value, self.rtol, self.atol)
                       for key, value in expected.items()}
        problems = compare_plain(got, expected, self.rtol, self.atol)
        if not problems:
            return Outcome(case.label, True, "right", outputs=outputs)
        off = near_miss(got, expected, self.rtol, self.atol)
        if off is not None:
            message = f"close: off by {off:.2g}{_size_of_eps(off, case)}; " + "; ".join(problems)
            return Outcome(case.label, False, message, self.hint_for(got, case),
                           Kind.CLOSE, outputs)
        return Outcome(case.label, False, "; ".join(problems), self.hint_for(got, case),
                       outputs=outputs)

    def hint_for(self, got: Any, case: Case) -> str:
        """The text of the first hint whose mistaken answer ``got`` matches."""
        from .compare import compare_plain
        for hint in self.hints:
            if hint.mistake is None:
                continue
            try:
                wrong = hint.mistake(case)
            except Exception:
                continue
            if wrong is not None and not compare_plain(got, wrong, self.rtol, self.atol):
                return hint.text
        return ""

    def error_outcome(self, error: LearnerError, case: Case, graded: bool = False,
                      place: str = "") -> Outcome:
        """The verdict when the learner's code raised (or its answer was unreadable).

        ``graded``: written for the class autograder's feedback, read after the
        deadline ("your `f` raised ..."), not for the learner at work ("run this check
        again"). ``place`` names where the line is ("your answer to part 'f'")."""
        kind = error.kind
        if kind is Kind.NOT_IMPLEMENTED:
            message = (f"`{self.name}` still raises NotImplementedError: the handed-out "
                       "stub was not replaced with code" if graded else
                       "not implemented yet: in the cell that defines "
                       f"`{self.name}`, replace the line `raise NotImplementedError(...)` "
                       "with your code, run that cell, then run this check again.")
            return Outcome(case.label, False, message, kind=kind)
        if kind is Kind.MISSING:
            message = (f"`{self.name}` is not defined in your notebook" if graded
                       else error.message)
            return Outcome(case.label, False, message, kind=kind)
        if kind is Kind.UNREADABLE:
            return Outcome(case.label, False, error.message, kind=kind)
        if kind is Kind.TIMEOUT:
            return Outcome(case.label, False, f"your `{self.name}` {error.message}",
                           kind=kind)
        where = ""
        if error.line is not None:
            where = f" at line {error.line}" + (f" of {place}" if place else "") + \
                (f": `{error.code}`" if error.code else "")
        hint = next((h.text for h in self.hints if error.type in h.errors), "")
        who = f"your `{self.name}`" if graded else "your code"
        message = f"{who} raised {error.type}{where}"
        if error.message:
            message += f" ({error.message})"
        return Outcome(case.label, False, message, hint, kind)

    def judge(self, case: Case, got: Any = None, error: LearnerError | None = None,
              expected: Any = ..., graded: bool = False, place: str = "") -> Outcome:
        """THE way a case is judged, in the notebook and in the autograder alike: from
        the learner's plain answer ``got`` or ``error``, against ``expected`` (the
        reference, computed here when not given: ``...``). A failure of the checker itself is
        ``Kind.CHECKER``, never the learner's fault."""
        if error is not None:
            return self.error_outcome(error, case, graded, place)
        try:
            if expected is ...:
                expected = self.reference(case)
        except Exception as err:
            return Outcome(case.label, False, "the checker could not compute the right "
                           f"answer ({type(err).__name__}: {err}); please report this",
                           kind=Kind.CHECKER)
        try:
            return self.compare(got, expected, case)
        except Exception as err:  # a well-formed answer of a shape compare did not foresee
            return Outcome(case.label, False, "the checker could not compare your answer "
                           f"({type(err).__name__}: {err}); please report this",
                           kind=Kind.CHECKER)


def _size_of_eps(off: float, case: Case) -> str:
    """", about the size of eps" when a scalar input named like eps explains ``off``."""
    for key, value in case.inputs.items():
        if "eps" in key.lower() and isinstance(value, (int, float)) \
                and not isinstance(value, bool) and value > 0 and 0.2 <= off / value <= 5:
            return f", about the size of {key} ({value:g})"
    return ""


# -- plain data across the process boundary ----------------------------------
def encode(obj: Any) -> Any:
    """Plain data -> JSON-able data (arrays become tagged dicts)."""
    if isinstance(obj, np.ndarray):
        dtype = {"f": "float64", "i": "int64", "u": "int64", "b": "bool"}.get(obj.dtype.kind)
        if dtype is None:
            raise TypeError(f"cannot encode an array of dtype {obj.dtype}")
        return {"__array__": dtype, "shape": list(obj.shape),
                "data": obj.astype(dtype).ravel().tolist()}
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        return {str(k): encode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [encode(v) for v in obj]
    raise TypeError(f"cannot encode {type(obj).__name__} as plain data")


def decode(obj: Any, _depth: int = 0) -> Any:
    """JSON-able data -> plain data; strict, since it may come from a hostile worker.

    Raises ``ValueError`` on anything that is not what ``encode`` writes.
    """
    if _depth > 20:
        raise ValueError("plain data nested too deeply")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj
    if isinstance(obj, list):
        return [decode(v, _depth + 1) for v in obj]
    if isinstance(obj, dict):
        if "__array__" in obj:
            return _decode_array(obj)
        return {str(k): decode(v, _depth + 1) for k, v in obj.items()}
    raise ValueError(f"not plain data: {type(obj).__name__}")


def _decode_array(obj: dict) -> np.ndarray:
    dtype, shape, data = obj.get("__array__"), obj.get("shape"), obj.get("data")
    if dtype not in PLAIN_DTYPES or set(obj) != {"__array__", "shape", "data"}:
        raise ValueError("malformed array")
    if not isinstance(shape, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in shape):
        raise ValueError("malformed array shape")
    if not isinstance(data, list) or len(data) != math.prod(shape) or len(shape) > 8:
        raise ValueError("array data does not match its shape")
    kinds = (bool,) if dtype == "bool" else (int, float)
    if not all(isinstance(v, kinds) for v in data):
        raise ValueError("array data must be numbers")
    return np.array(data, dtype=dtype).reshape(shape)


def encode_case(case: Case) -> dict[str, Any]:
    return {"label": case.label, "inputs": encode(case.inputs)}


def decode_case(obj: Any) -> Case:
    if not isinstance(obj, dict) or not isinstance(obj.get("label"), str):
        raise ValueError("malformed case")
    inputs = decode(obj.get("inputs"))
    if not isinstance(inputs, dict):
        raise ValueError("malformed case inputs")
    return Case(obj["label"], inputs)

