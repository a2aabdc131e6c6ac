"""A check's verdict on one graded function, as text (terminal) and HTML (JupyterLab)."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

from .verdict import Credit, Kind, Outcome, Verdict


@dataclass
class Report:
    """A check's ``Verdict`` on one graded function, shown to the learner at work.

    Its points follow the part's credit rule (``Spec.credit``), exactly as the class
    autograder's. ``refusal`` is set when the learner's code uses an engine shortcut
    that the part declares (``Spec.shortcuts``): then the part fails whatever the
    numbers."""

    verdict: Verdict

    @property
    def spec_name(self) -> str:
        return self.verdict.name

    @property
    def outcomes(self) -> list[Outcome]:
        return self.verdict.outcomes

    @property
    def refusal(self) -> str:
        return self.verdict.refusal

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    @property
    def wrong(self) -> int:
        return sum(not o.passed for o in self.outcomes)

    @property
    def points(self) -> float:
        return self.verdict.earned

    @property
    def not_implemented(self) -> bool:
        return self.verdict.not_implemented

    def failure(self) -> str:
        """The one line that the failing cell ends with."""
        if self.refusal:
            return self.refusal
        if self.not_implemented:
            return f"{self.verdict.name} is not implemented yet, see above"
        if len(self.outcomes) == 1:
            return f"{self.verdict.name} is not right yet, see above"
        return f"{self.wrong} of {len(self.outcomes)} cases wrong, see above"

    def summary(self) -> str:
        n = len(self.outcomes)
        pts = _points(self.verdict.points)
        if self.refusal:
            return (f"{self.verdict.name}: not accepted yet, it hands the work to ready-made "
                    f"code ({pts} when you write it yourself).")
        if self.not_implemented:
            return f"{self.verdict.name}: not done yet ({pts} when its checks pass)."
        if self.passed:
            cases = "the case is" if n == 1 else f"all {n} cases are"
            return f"{self.verdict.name}: {cases} right. {pts}."
        if self.verdict.credit is not Credit.ALL and self.verdict.earned > 0:
            return (f"{self.verdict.name}: {_points(self.verdict.earned)} of {pts} so far "
                    f"(points {self.verdict.credit.value}: "
                    f"{'; '.join(self.verdict.earned_by)}).")
        if n == 1:
            return f"{self.verdict.name}: not right yet ({pts} when it is)."
        return (f"{self.verdict.name}: {n - self.wrong} of {n} cases right, not yet "
                f"({pts} when all are).")

    def lines(self) -> list[tuple[str, str, str]]:
        """(mark, text, hint) per line; one line when every case failed the same way."""
        if self.refusal:
            return [("wrong", self.refusal, "")]
        failed = [o for o in self.outcomes if not o.passed]
        if len(failed) == len(self.outcomes) > 1 and len({o.message for o in failed}) == 1:
            message = failed[0].message
            if failed[0].kind is not Kind.NOT_IMPLEMENTED:
                message = f"every case: {message}"
            return [("wrong", message, failed[0].hint)]
        return [("right" if o.passed else "wrong",
                 f"{o.case}" + ("" if o.message == "right" else f": {o.message}"),
                 "" if o.passed else o.hint) for o in self.outcomes]

    def text(self) -> str:
        out = [self.summary()]
        for mark, text, hint in self.lines():
            out.append(f"  {mark:<5}  {text}")
            if hint:
                out.append(f"         hint: {hint}")
        if not self.passed:
            out.append(f'Stuck? hint("{self.verdict.grade_id}") gives a tip.')
        return "\n".join(out)

    def html(self) -> str:
        colour = "#2e7d32" if self.passed else "#c62828"
        items = []
        for mark, text, hint in self.lines():
            sign = "&#10004;" if mark == "right" else "&#10008;"
            tone = "#2e7d32" if mark == "right" else "#c62828"
            item = f'<li><span style="color:{tone}">{sign}</span> {_inline(text)}'
            if hint:
                item += f'<br><span style="color:#555"><b>hint:</b> {_inline(hint)}</span>'
            items.append(item + "</li>")
        stuck = "" if self.passed else (
            f'<div style="color:#555">Stuck? <code>hint("{self.verdict.grade_id}")</code> '
            "gives a tip.</div>")
        return (f'<div style="border-left:4px solid {colour};padding:4px 10px">'
                f'<b style="color:{colour}">{_inline(self.summary())}</b>'
                f'<ul style="margin:4px 0;list-style:none;padding-left:8px">{"".join(items)}'
                f"</ul>{stuck}</div>")

    __repr__ = text
    _repr_html_ = html


@dataclass
class Tip:
    """One tip from ``hint()``, displayed like a report."""

    grade_id: str
    number: int
    total: int
    tip: str

    def text(self) -> str:
        more = (f' Call hint("{self.grade_id}") again for another.'
                if self.number < self.total else " That was the last tip.")
        return f"Tip {self.number} of {self.total} for {self.grade_id}: {self.tip}{more}"

    def html(self) -> str:
        return ('<div style="border-left:4px solid #1565c0;padding:4px 10px">'
                f"{_inline(self.text())}</div>")

    __repr__ = text
    _repr_html_ = html


def _points(points: float) -> str:
    p = int(points) if float(points).is_integer() else round(points, 2)
    return f"{p} point" + ("" if p == 1 else "s")


def _inline(text: str) -> str:
    """Escape, then show `code` in backticks as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))
