"""The late policy: when each notebook came in, and what lateness costs.

``--due WHEN`` is an ISO 8601 date-time *with* a time zone (``2026-12-01T23:59+01:00``
or ``...Z``): a due date without one means a different moment on every machine, so it
is refused. ``--extensions FILE`` (CSV ``student,due``) gives some learners their own
due date. ``--late-penalty P`` takes P percent of the earned points per started day
late (1 minute late is one day; 24 h 1 min is two), never below zero.

When a notebook came in: nbgrader's ``timestamp.txt`` beside it (``submitted/STUDENT/
ASSIGNMENT/timestamp.txt``, written at submission as ``2026-12-01 14:03:22.123456 UTC``)
where there is one, else the file's modification time (which copying can change: the
gradebook says which source each time came from).
"""
from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

TIMESTAMP_FILE = "timestamp.txt"


class LateError(Exception):
    """A due date or extension that cannot be used; the message says why."""


def parse_when(text: str, what: str = "--due") -> datetime:
    """An aware datetime from ISO 8601 text; ``LateError`` when it is naive or malformed."""
    cleaned = text.strip()
    if cleaned.endswith((" UTC", " GMT")):
        cleaned = cleaned[:-4] + "+00:00"
    try:
        when = datetime.fromisoformat(cleaned)
    except ValueError:
        raise LateError(f"{what} {text!r} is not an ISO 8601 date-time such as "
                        "2026-12-01T23:59+01:00") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise LateError(f"{what} {text!r} has no time zone: add one, such as "
                        f"{cleaned}+01:00 or {cleaned}Z (UTC), so that it means the same "
                        "moment on every machine")
    return when


def read_extensions(path: str) -> dict[str, datetime]:
    """{student: their own due date} from a CSV file with ``student,due``."""
    out: dict[str, datetime] = {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if not {"student", "due"} <= set(reader.fieldnames or []):
                raise LateError(f"the extensions file {path} needs the columns "
                                f"student,due (it has: {', '.join(reader.fieldnames or [])})")
            for number, row in enumerate(reader, 2):
                student = (row["student"] or "").strip()
                if student in out:
                    raise LateError(f"{path}, line {number}: {student!r} has two extensions")
                out[student] = parse_when(row["due"] or "", f"{path}, line {number}: due")
    except OSError as err:
        raise LateError(f"cannot read the extensions file {path}: {err.strerror}") from None
    return out


@dataclass(frozen=True)
class Submitted:
    """When a notebook came in and how that is known (``timestamp.txt`` or ``mtime``)."""

    when: datetime | None
    source: str


def submitted_at(path: str | None, learner_folder: bool) -> Submitted:
    """From nbgrader's ``timestamp.txt`` beside ``path`` (only in a learner's own
    folder: one beside ``STUDENT.ipynb`` files would belong to nobody), else the mtime."""
    if path is None:
        return Submitted(None, "")
    if learner_folder:
        stamp = os.path.join(os.path.dirname(path), TIMESTAMP_FILE)
        try:
            with open(stamp, encoding="utf-8") as f:
                text = f.read(200).strip()
            return Submitted(parse_when(text, TIMESTAMP_FILE), TIMESTAMP_FILE)
        except (OSError, LateError):
            pass  # no stamp, or one that cannot be read: fall back to the file's time
    try:
        return Submitted(datetime.fromtimestamp(os.stat(path).st_mtime, UTC), "mtime")
    except OSError:
        return Submitted(None, "")


@dataclass(frozen=True)
class Lateness:
    due: datetime
    late_by: timedelta  # zero when on time
    days: int  # started days late
    percent: float  # of the earned points taken off


def lateness(when: datetime | None, due: datetime, penalty_percent: float) -> Lateness:
    if when is None or when <= due:
        return Lateness(due, timedelta(0), 0, 0.0)
    late_by = when - due
    days = math.ceil(late_by / timedelta(days=1))
    return Lateness(due, late_by, days, min(100.0, days * penalty_percent))


def describe(delta: timedelta) -> str:
    """``2d 3h 05m``: how late, for a gradebook cell."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return (f"{days}d " if days else "") + f"{hours}h {minutes:02d}m"
