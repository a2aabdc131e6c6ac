"""A journal of the grading run, so a grader killed half-way resumes without losing rows.

``OUT/journal.jsonl``, one JSON object a line, each written with ``fsync``:

* ``run``: the assignment and the hidden seed (``--seed``, or drawn once from
  ``os.urandom``, so a resumed run grades on the same hidden cases; a resumed run given
  another ``--seed`` is refused);
* ``start``: a submission (learner name and the SHA-256 of the file) goes to a worker;
* ``end``: its full result (row and feedback, plain data, with the ``seconds`` it took).

On a new run into the same OUT, finished submissions whose file is unchanged are not
graded again (unless named by ``--only``: then the newest ``end`` wins). A submission
that was started twice and never finished (it was being graded each time the grader
died) is not retried a third time: it gets a row saying so.
A torn last line (the grader killed mid-write) is ignored.
"""
from __future__ import annotations

import json
import os
import threading
from typing import Any

FILENAME = "journal.jsonl"


class JournalError(Exception):
    pass


class Journal:
    def __init__(self, out_dir: str, assignment: str, seed: int | None = None) -> None:
        self.path = os.path.join(out_dir, FILENAME)
        self._lock = threading.Lock()
        self._ends: dict[tuple[str, str], dict[str, Any]] = {}
        self._starts: dict[tuple[str, str], int] = {}
        self.seed: int | None = None
        records = self._read()
        for record in records:
            kind = record.get("kind")
            if kind == "run":
                if record.get("assignment") != assignment:
                    raise JournalError(f"{out_dir} holds the journal of another assignment "
                                       f"({record.get('assignment')!r}); use a new --out")
                if self.seed is None and type(record.get("seed")) is int:
                    self.seed = record["seed"]
            elif kind in ("start", "end"):
                key = (str(record.get("student")), str(record.get("digest")))
                if kind == "start":
                    self._starts[key] = self._starts.get(key, 0) + 1
                elif isinstance(record.get("result"), dict):
                    self._ends[key] = record["result"]
        if seed is not None and self.seed is not None and seed != self.seed:
            raise JournalError(f"{out_dir} was graded with hidden seed {self.seed}, not "
                               f"--seed {seed}: use a new --out, or the same seed")
        self._file = open(self.path, "a", encoding="utf-8")
        if self._file.tell() and not self._ends_with_newline():
            self._file.write("\n")
        if self.seed is None:
            self.seed = seed if seed is not None else int.from_bytes(os.urandom(4), "little")
            self._append({"kind": "run", "assignment": assignment, "seed": self.seed})

    def _read(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                lines = f.read().split("\n")
        except FileNotFoundError:
            return []
        records = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b"\n"

    def _append(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())

    def finished(self, student: str, digest: str) -> dict[str, Any] | None:
        return self._ends.get((student, digest))

    def unfinished_starts(self, student: str, digest: str) -> int:
        key = (student, digest)
        return 0 if key in self._ends else self._starts.get(key, 0)

    def start(self, student: str, digest: str) -> None:
        self._append({"kind": "start", "student": student, "digest": digest})

    def end(self, student: str, digest: str, result: dict[str, Any]) -> None:
        self._ends[(student, digest)] = result
        self._append({"kind": "end", "student": student, "digest": digest, "result": result})

    def close(self) -> None:
        self._file.close()
