"""``OUT/log.jsonl``: every run into OUT appends one line saying what it did and why:
when, who, the command line, the options that change points (due date, penalty,
extensions, overrides, ``--only``, seed, time limit), what was graded and what was
taken from the journal unchanged, and each override applied. The journal is for
resuming; this log is for the teacher (and an appeal) months later."""
from __future__ import annotations

import getpass
import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

FILENAME = "log.jsonl"


def append(out_dir: str, record: dict[str, Any]) -> None:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    line = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "user": user,
            "argv": sys.argv[1:], **record}
    with open(os.path.join(out_dir, FILENAME), "a", encoding="utf-8") as f:
        f.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read(out_dir: str) -> list[dict[str, Any]]:
    try:
        with open(os.path.join(out_dir, FILENAME), encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []
