"""Copy detection: pairs of learners whose answers are alike beyond what the task explains.

Two honest learners who solve ``relu_backward`` both write ``grad_out * (x > 0)``: a
short, obvious answer many share is no evidence. A copied answer shares what is
*unusual*: a roundabout loop, a pointless intermediate variable, the same wrong result.
So every piece of evidence is weighted by how rare it is in this class.

1. **Normalise** each answer cell (its text only: nothing is run). Comments go; every
   string becomes ``S``; a learner's own names (variables, helpers) become ``V``, so
   renaming changes nothing; keywords, builtins, module names and attributes after a dot
   (``np.sum``, ``.T``) stay, because they are the code's meaning.
2. **Fingerprint** it as MOSS does (Schleimer, Wilkerson and Aiken, "Winnowing: local
   algorithms for document fingerprinting", SIGMOD 2003): hash every run of ``K`` tokens
   and keep the smallest hash of each window of ``WINDOW`` hashes. Any shared run of at
   least ``K + WINDOW - 1`` tokens is caught; reordered lines keep their own fingerprints.
3. **Discount the task**: fingerprints of the handed-out stub (the exercise's answer
   cell) are dropped, and each remaining fingerprint ``h`` of part ``p`` weighs
   ``log(N_p / df(h))``, where ``df`` is how many learners have it: what half the class
   writes weighs less than ``log 2``; what two learners alone share weighs most.
4. **Identical wrong results**: a part both failed with the same messages (the same wrong
   numbers, the same wrong shape) adds ``WRONG_WEIGHT * log(others / (df - 1))``, the
   surprise of one classmate making exactly this mistake; a typical mistake (one a hint
   names, which learners make independently) counts a quarter of that, and one that more
   than a tenth of the class makes counts nothing.

Per part, the code evidence is not the raw overlap but how unusual it is: ``-log`` of
the share of classmates at least as close to each of the two (the rank of the one among
the other's neighbours), so the answer everyone writes the same way is no evidence and a
copy is the nearest neighbour in every part. A pair's ``score`` is the sum over parts;
``z`` says how far it stands above the class's pairs (robust: ``(score - median) /
(1.4826 * MAD)``). The evidence (lines that share rare fingerprints, side by side) is
kept for the report. Shapes: ``answers[student][part]``
is a cell's source; ``wrong[student][part]`` the failed messages of a part, or absent.
"""
from __future__ import annotations

import builtins
import math
import re
import statistics
import zlib
from bisect import bisect_right
from dataclasses import dataclass, field
from keyword import iskeyword

import numpy as np

K = 5
WINDOW = 4
WRONG_WEIGHT = 1.0  # -log of a share of the class, the same units as a part of code
TYPICAL_WEIGHT = 0.5
WEIGHT_FLOOR = 0.05  # what (nearly) everyone writes still weighs a little
COMMON_MISTAKE = 0.1  # a wrong result more than this share of the class has is no evidence
STANDS_OUT = 4.0  # a pair this many robust deviations above the class is shown

_TOKEN = re.compile(r"""
    (?P<string>[rRbBuUfF]{0,2}(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"
                               |'(?:\\.|[^'\\\n])*'))
  | (?P<comment>\#[^\n]*)
  | (?P<name>[A-Za-z_]\w*)
  | (?P<number>\d[\w.]*)
  | (?P<op>\*\*=?|//=?|->|[-+*/%@&|^<>!=]=|<<|>>|\S)
""", re.VERBOSE)

_KEEP = set(dir(builtins)) | {"np", "numpy", "math", "nn", "optim", "dlcore", "self",
                               "torch", "random", "itertools", "functools"}


@dataclass(frozen=True)
class Token:
    text: str
    line: int  # from 1


def tokens(source: str, keep: frozenset[str] = frozenset()) -> list[Token]:
    """``source`` as normalised tokens (see the module doc); names in ``keep`` (the
    task's own function names) stay as they are. Never raises, whatever the text."""
    out: list[Token] = []
    newlines = [i for i, c in enumerate(source) if c == "\n"]
    previous = ""
    for match in _TOKEN.finditer(source):
        kind, text = match.lastgroup, match.group(0)
        line = bisect_right(newlines, match.start()) + 1
        if kind == "string":
            out.append(Token("S", line))
        elif kind == "name":
            stays = (iskeyword(text) or previous == "." or text in _KEEP or text in keep)
            out.append(Token(text if stays else "V", line))
        elif kind != "comment":
            out.append(Token(text, line))
        if kind != "comment":
            previous = text
    return out


def fingerprints(toks: list[Token], k: int = K, window: int = WINDOW,
                 winnow: bool = True) -> dict[int, set[int]]:
    """{hash: lines it covers} of ``toks``: every k-gram, or the winnowed ones. A k-gram
    never crosses a line (a line shorter than ``k`` is one gram), so moving whole lines
    around changes no fingerprint."""
    by_line: dict[int, list[str]] = {}
    for t in toks:
        by_line.setdefault(t.line, []).append(t.text)
    grams = []
    for line, texts in by_line.items():
        for i in range(max(1, len(texts) - k + 1)):
            grams.append((zlib.crc32("\x1f".join(texts[i:i + k]).encode()), line))
    if not winnow or len(grams) <= window:
        picks = range(len(grams))
    else:
        chosen: set[int] = set()
        for start in range(len(grams) - window + 1):
            hashes = [grams[i][0] for i in range(start, start + window)]
            low = min(hashes)
            chosen.add(start + max(i for i, h in enumerate(hashes) if h == low))
        picks = sorted(chosen)
    out: dict[int, set[int]] = {}
    for i in picks:
        h, line = grams[i]
        out.setdefault(h, set()).add(line)
    return out


@dataclass
class PartEvidence:
    """What one part of two learners' answers shares."""

    part: str
    similarity: float  # weighted Jaccard of their fingerprints, 0..1
    surprise: float  # the evidence this part adds to the pair's score
    closer_than: float = 0.0  # share of classmates less close to them than each other
    lines_a: list[int] = field(default_factory=list)
    lines_b: list[int] = field(default_factory=list)
    source_a: str = ""
    source_b: str = ""
    same_wrong: str = ""  # the identical failure messages, if any


@dataclass
class Pair:
    a: str
    b: str
    score: float
    z: float = 0.0
    parts: list[PartEvidence] = field(default_factory=list)

    @property
    def stands_out(self) -> bool:
        return self.z >= STANDS_OUT


@dataclass
class _Part:
    """One part's fingerprints across the class and every pair's closeness."""

    prints: dict[str, dict[int, set[int]]]
    weight: dict[int, float]
    similarity: dict[tuple[str, str], float]


def _weighted_jaccard(a: dict[int, set[int]], b: dict[int, set[int]],
                      weight: dict[int, float]) -> float:
    shared = sum(weight[h] for h in a.keys() & b.keys())
    union = sum(weight[h] for h in a.keys() | b.keys())
    return shared / union if union > 0 else 0.0


def _part(answers: dict[str, dict[str, str]], part: str, stub: str,
          keep: frozenset[str], winnow: bool) -> _Part:
    cut = set(fingerprints(tokens(stub, keep), winnow=False))
    prints: dict[str, dict[int, set[int]]] = {}
    for student, cells in answers.items():
        if part in cells:
            found = {h: lines for h, lines in fingerprints(tokens(cells[part], keep),
                                                           winnow=winnow).items()
                     if h not in cut}
            if found:
                prints[student] = found
    n = len(prints)
    holders: dict[int, list[str]] = {}
    for student, found in prints.items():
        for h in found:
            holders.setdefault(h, []).append(student)
    # log(n / df), with a floor so that an answer only common grams make up is not empty
    weight = {h: max(math.log(n / len(who)), WEIGHT_FLOOR) for h, who in holders.items()}
    # shared[a, b] = the weight of the fingerprints a and b both have: one matrix product
    # of the (learners, fingerprints) incidence matrix with its weighted transpose
    students = sorted(prints)
    column = {h: j for j, h in enumerate(weight)}
    has = np.zeros((len(students), len(column)))
    for i, s in enumerate(students):
        has[i, [column[h] for h in prints[s]]] = 1.0
    w = np.array(list(weight.values()))
    shared = (has * w) @ has.T
    totals = np.diag(shared)
    similarity = {}
    for i, j in zip(*np.nonzero(np.triu(shared, k=1)), strict=True):
        value = shared[i, j]
        # rounded, so that equal answers tie exactly whatever the order of summation
        similarity[(students[i], students[j])] = round(
            float(value / (totals[i] + totals[j] - value)), 9)
    return _Part(prints, weight, similarity)


def _surprise(part: _Part) -> dict[tuple[str, str], float]:
    """For each pair: -log of how many classmates are at least this close, averaged over
    the two learners' points of view (their rank among each other's neighbours)."""
    others = len(part.prints) - 1
    if others < 2:
        return {}
    near: dict[str, list[float]] = {s: [] for s in part.prints}  # -similarity, sorted
    for (a, b), sim in part.similarity.items():
        near[a].append(-sim)
        near[b].append(-sim)
    for sims in near.values():
        sims.sort()
    out = {}
    for (a, b), sim in part.similarity.items():
        rank_a = bisect_right(near[a], -sim)  # classmates at least this close, b included
        rank_b = bisect_right(near[b], -sim)
        out[(a, b)] = -0.5 * (math.log(rank_a / others) + math.log(rank_b / others))
    return out


def compare_class(answers: dict[str, dict[str, str]], stubs: dict[str, str],
                  wrong: dict[str, dict[str, str]] | None = None,
                  keep: frozenset[str] = frozenset(), evidence_for: int = 20,
                  winnow: bool = False) -> list[Pair]:
    """Every pair of learners with any evidence, highest score first; the first
    ``evidence_for`` pairs carry their evidence (lines and sources) per part."""
    wrong = wrong or {}
    names = sorted({p for cells in answers.values() for p in cells} | set(stubs))
    parts = {p: _part(answers, p, stubs.get(p, ""), keep, winnow) for p in names}
    total: dict[tuple[str, str], Pair] = {}
    for name, part in parts.items():
        for key, surprise in _surprise(part).items():
            pair = total.setdefault(key, Pair(key[0], key[1], 0.0))
            pair.score += surprise
            pair.parts.append(PartEvidence(name, part.similarity[key], surprise,
                                           1 - math.exp(-surprise)))
        _add_same_wrong(total, name, wrong, answers)
    pairs = sorted(total.values(), key=lambda p: (-p.score, p.a, p.b))
    _robust_z(pairs, len(answers))
    for pair in pairs[:evidence_for]:
        for ev in pair.parts:
            ev.source_a = answers[pair.a].get(ev.part, "")
            ev.source_b = answers[pair.b].get(ev.part, "")
            _mark_lines(ev, parts[ev.part], pair)
        pair.parts.sort(key=lambda ev: -ev.surprise)
    return pairs


def _mark_lines(ev: PartEvidence, part: _Part, pair: Pair) -> None:
    """The lines of each answer that hold fingerprints the two share and not nearly
    everyone has (weight above the floor)."""
    a, b = part.prints.get(pair.a, {}), part.prints.get(pair.b, {})
    for h in a.keys() & b.keys():
        if part.weight[h] > WEIGHT_FLOOR:
            ev.lines_a = sorted(set(ev.lines_a) | a[h])
            ev.lines_b = sorted(set(ev.lines_b) | b[h])


def _add_same_wrong(total: dict[tuple[str, str], Pair], part: str,
                    wrong: dict[str, dict[str, str]],
                    answers: dict[str, dict[str, str]]) -> None:
    """The same failure messages on a part: the surprise of a classmate making exactly
    this mistake, ``log(others / (df - 1))``, times ``WRONG_WEIGHT`` (``TYPICAL_WEIGHT``
    when the message carries a hint: a mistake the course knows learners make)."""
    others = sum(1 for cells in answers.values() if part in cells) - 1
    by_message: dict[str, list[str]] = {}
    for student, failed in wrong.items():
        if part in failed and student in answers:
            by_message.setdefault(failed[part], []).append(student)
    for message, who in by_message.items():
        if len(who) < 2 or len(who) - 1 > max(1.0, COMMON_MISTAKE * others):
            continue  # nobody to share it with, or a mistake many make on their own
        factor = TYPICAL_WEIGHT if "Hint:" in message else WRONG_WEIGHT
        weight = factor * math.log(others / (len(who) - 1))
        who = sorted(who)
        for i, a in enumerate(who):
            for b in who[i + 1:]:
                pair = total.setdefault((a, b), Pair(a, b, 0.0))
                pair.score += weight
                ev = next((e for e in pair.parts if e.part == part), None)
                if ev is None:
                    ev = PartEvidence(part, 0.0, 0.0)
                    pair.parts.append(ev)
                ev.surprise += weight
                ev.same_wrong = message


def _robust_z(pairs: list[Pair], learners: int) -> None:
    """How far each pair stands above the class's pairs, in robust standard deviations
    (pairs that share nothing count as 0)."""
    everyone = learners * (learners - 1) // 2
    scores = [p.score for p in pairs] + [0.0] * max(0, everyone - len(pairs))
    if len(scores) < 3:
        return
    median = statistics.median(scores)
    mad = statistics.median(abs(s - median) for s in scores) * 1.4826
    spread = max(mad, 0.05 * max(scores), 1e-9)
    for p in pairs:
        p.z = (p.score - median) / spread
