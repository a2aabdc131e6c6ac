"""Running a course around the class autograder: what turns graded notebooks into a
course's grades, one idea per file.

* ``roster``: the class list; everyone on it gets a row, strangers are kept and named.
* ``late``: due dates (with a time zone), extensions, when a notebook came in, the penalty.
* ``overrides``: the teacher's last word on a part or a total, checked before grading.
* ``book``: a result plus the late penalty, overrides and roster columns = a gradebook row.
* ``runlog``: ``OUT/log.jsonl``, what each run did and why.
* ``stats``: per-part and class statistics (``parts.csv``).
* ``similarity``: copy detection (``similarity.csv``).
* ``plots``, ``pages``, ``templates/``: the figures and the Jinja2 pages (feedback, report).
* ``classreport``: writes ``parts.csv``, ``similarity.csv`` and ``report.html``.
* ``lms``: ``python -m dlcore gradebook``: assignments joined, as CSV, Canvas or Moodle.
"""
