"""A realistic class through the real command, as a teacher runs it: a roster with a
learner who handed in nothing and a submission that matches nobody, nbgrader's
timestamps, a late learner and one with an extension, an override, a copied pair; then
``--only`` with a longer time limit, the run log, the class report in headless Chromium,
and the LMS export."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, timedelta

import classroom
import pytest

from dlcore.grading.course.late import parse_when

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSIGNMENT = classroom.ASSIGNMENT
DUE = "2026-12-01T23:59+01:00"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def _grade(submitted, out, *extra, timeout=600):
    return subprocess.run([sys.executable, "-m", "dlcore", "grade", str(submitted),
                           "--assignment", ASSIGNMENT, "--out", str(out), "--workers", "2",
                           *map(str, extra)],
                          cwd=PROJECT, capture_output=True, text=True, timeout=timeout)


def _rows(out):
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


def _stamp(folder, when):
    """nbgrader's ``timestamp.txt``, in its own format."""
    text = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    (folder / "timestamp.txt").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The class on disk and its first graded run (shared by the tests below)."""
    root = tmp_path_factory.mktemp("course")
    klass = classroom.make_class(n_honest=8, n_copies=1, seed=5)
    submitted = root / "submitted"
    classroom.write_class(klass, str(submitted))
    due = parse_when(DUE)
    for i, student in enumerate(sorted(klass.answers)):
        _stamp(submitted / student / ASSIGNMENT, due - timedelta(hours=i + 1))
    _stamp(submitted / "learner002" / ASSIGNMENT, due + timedelta(hours=30))  # 2 days late
    _stamp(submitted / "learner004" / ASSIGNMENT, due + timedelta(hours=5))  # extension
    # a learner who mailed a bare notebook: no timestamp, its file time counts
    flat = submitted / "learner006.ipynb"
    shutil.move(str(submitted / "learner006" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), flat)
    shutil.rmtree(submitted / "learner006")
    os.utime(flat, (due.timestamp() - 600, due.timestamp() - 600))
    # a submission that matches nobody on the roster (a copy of an honest learner's)
    (original, _), = klass.copies
    source = next(s for s in ("learner000", "learner001", "learner003") if s != original)
    stranger = submitted / "stranger" / ASSIGNMENT
    stranger.mkdir(parents=True)
    shutil.copy(submitted / source / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", stranger)
    _stamp(stranger, due - timedelta(days=1))
    roster = root / "roster.csv"
    with open(roster, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "name", "email", "sis_id", "section"])
        for i, student in enumerate(sorted(klass.answers)):
            shown = "Learner001" if student == "learner001" else student  # case differs
            w.writerow([shown, f"Name {i}", f"{student}@uni.edu", f"S{i:03d}", "A"])
        w.writerow(["ghost", "Never Came", "ghost@uni.edu", "S999", "B"])
    (root / "extensions.csv").write_text("student,due\nlearner004,2026-12-02T12:00+01:00\n",
                                         encoding="utf-8")
    (root / "overrides.csv").write_text(
        "student,part,points,comment\nlearner003,numerical_gradient,1,"
        "\"right idea, x restored by hand <see email>\"\n", encoding="utf-8")
    out = root / "out"
    proc = _grade(submitted, out, "--roster", roster, "--due", DUE, "--late-penalty", 10,
                  "--extensions", root / "extensions.csv", "--overrides",
                  root / "overrides.csv", "--seed", 7, "--timeout", 60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"root": root, "klass": klass, "submitted": submitted, "out": out,
            "roster": roster, "stderr": proc.stderr,
            "stranger_source": "Learner001" if source == "learner001" else source}


pytestmark = pytest.mark.slow


def test_everyone_on_the_roster_gets_a_row_and_the_stranger_is_kept(course):
    rows = _rows(course["out"])
    klass = course["klass"]
    assert set(rows) == set(klass.answers) - {"learner001"} | {"Learner001", "ghost",
                                                                "stranger"}
    assert list(rows)[-2:] == ["ghost", "stranger"]  # roster order, then the unmatched
    ghost = rows["ghost"]
    assert ghost["status"] == "missing" and "nothing was handed in" in ghost["reason"]
    assert ghost["total"] == "0" and ghost["name"] == "Never Came"
    stranger = rows["stranger"]
    assert stranger["on_roster"] == "no" and stranger["reason"].startswith("not on the roster")
    assert stranger["status"] == "graded"
    assert "'stranger' matches nobody on the roster" in course["stderr"]
    assert rows["Learner001"]["on_roster"] == "yes"
    assert rows["Learner001"]["email"] == "learner001@uni.edu"


def test_lateness_comes_from_the_timestamps_and_costs_per_started_day(course):
    rows = _rows(course["out"])
    late = rows["learner002"]
    assert late["submitted_from"] == "timestamp.txt" and late["late_by"] == "1d 6h 00m"
    raw = float(late["raw_total"])
    assert float(late["penalty"]) == pytest.approx(round(0.2 * raw, 2))
    assert float(late["total"]) == pytest.approx(raw - float(late["penalty"]))
    extended = rows["learner004"]
    assert extended["late_by"] == "" and extended["penalty"] == "0"
    assert extended["due"] == "2026-12-02T12:00+01:00"
    assert rows["learner006"]["submitted_from"] == "mtime"
    assert rows["learner006"]["late_by"] == ""
    with open(course["out"] / "feedback" / "learner002.html", encoding="utf-8") as f:
        assert "2 started days late, 20% of your" in f.read()


def test_overrides_are_applied_last_and_shown_to_the_learner(course):
    row = _rows(course["out"])["learner003"]
    assert row["numerical_gradient"] == "1"
    assert "numerical_gradient:" in row["overrides"] and "-> 1" in row["overrides"]
    assert float(row["total"]) == sum(float(row[p]) for p in classroom.PARTS)
    with open(course["out"] / "feedback" / "learner003.html", encoding="utf-8") as f:
        page = f.read()
    assert "Changed by your teacher" in page
    assert "right idea, x restored by hand &lt;see email&gt;" in page


def test_parts_csv_agrees_with_the_gradebook(course):
    rows = [r for r in _rows(course["out"]).values() if r["status"] != "missing"]
    with open(course["out"] / "parts.csv", newline="", encoding="utf-8") as f:
        parts = {r["grade_id"]: r for r in csv.DictReader(f)}
    assert list(parts) == list(classroom.PARTS)
    for gid, p in parts.items():
        points = float(p["points"])
        full = sum(1 for r in rows if float(r[gid]) >= points)
        assert int(p["handed_in"]) == len(rows) and int(p["full_marks"]) == full
        assert float(p["mean_points"]) == pytest.approx(
            sum(float(r[gid]) for r in rows) / len(rows), abs=1e-3)


def test_the_copied_pair_tops_similarity_csv(course):
    (original, copier), = course["klass"].copies
    with open(course["out"] / "similarity.csv", newline="", encoding="utf-8") as f:
        pairs = list(csv.DictReader(f))
    top = [{p["student_a"], p["student_b"]} for p in pairs[:2]]
    # the disguised copy, and the stranger who handed in a classmate's notebook as it was
    assert {original, copier} in top and {course["stranger_source"], "stranger"} in top
    # (in a class of 10 notebooks no part can say much: the ranks count, see test_course)
    assert pairs[0]["stands_out"] == "yes"
    report = (course["out"] / "report.html").read_text(encoding="utf-8")
    assert "1. " + " &amp; ".join(sorted(top[0])) in report


_REPORT_IN_CHROMIUM = """
import json, sys
from playwright.sync_api import sync_playwright
chromium, flags, url, shot = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=chromium, args=flags)
    try:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        images = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.complete, e.naturalWidth])")
        page.screenshot(path=shot, full_page=True)
        headings = page.eval_on_selector_all("h2", "els => els.map(e => e.textContent)")
    finally:
        browser.close()
print(json.dumps([errors, images, headings]))
"""


@pytest.mark.browser
def test_the_report_opens_in_chromium_without_errors(course):
    pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no /usr/bin/chromium")
    report = course["out"] / "report.html"
    text = report.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text  # nothing fetched from outside
    assert text.count("data:image/png;base64,") == 3
    # In a child process: pytest-playwright's fixtures (tests/browser) keep an asyncio loop
    # running in this one once they have been used, and the sync API refuses to start there.
    proc = subprocess.run(
        [sys.executable, "-c", _REPORT_IN_CHROMIUM, CHROMIUM, json.dumps(CHROMIUM_FLAGS),
         report.as_uri(), str(course["root"] / "report.png")],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    errors, images, headings = json.loads(proc.stdout.strip().splitlines()[-1])
    assert errors == []
    assert images and all(done and width > 100 for done, width in images)
    assert headings == ["Scores", "Parts", "Mistakes found most often", "Statuses",
                        "Time per submission", "Similar answers"]


def test_only_regrades_the_named_learner_and_the_log_says_so(course):
    out = course["out"]
    before = _rows(out)
    proc = _grade(course["submitted"], out, "--roster", course["roster"], "--due", DUE,
                  "--late-penalty", 10, "--extensions", course["root"] / "extensions.csv",
                  "--overrides", course["root"] / "overrides.csv", "--seed", 7,
                  "--only", "learner005", "--timeout", 120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "1 graded now" in proc.stderr
    after = _rows(out)
    assert after == before  # same seed, same notebooks: the same rows
    with open(out / "log.jsonl", encoding="utf-8") as f:
        log = [json.loads(line) for line in f]
    assert [r["graded"] for r in log[-2:]] == [len(before) - 1, 1]  # ghost is not graded
    assert log[-1]["only"] == ["learner005"] and log[-1]["timeout"] == 120
    assert log[-1]["why"] == "--only: regrade these learners"
    assert log[-1]["missing"] == ["ghost"] and log[-1]["unmatched"] == ["stranger"]
    assert log[-1]["overrides"][0]["student"] == "learner003"
    with open(out / "journal.jsonl", encoding="utf-8") as f:
        ends = [json.loads(line)["student"] for line in f if '"kind": "end"' in line]
    assert ends.count("learner005") == 2 and ends.count("learner003") == 1


def test_another_seed_into_the_same_out_is_refused(course):
    proc = _grade(course["submitted"], course["out"], "--seed", 8, timeout=120)
    assert proc.returncode == 2
    assert "hidden seed 7, not --seed 8" in proc.stderr


def test_the_gradebook_command_writes_the_lms_files(course, tmp_path):
    for fmt, first in (("canvas", "Student"), ("moodle", "Email address"), ("csv", "student")):
        target = tmp_path / f"{fmt}.csv"
        proc = subprocess.run([sys.executable, "-m", "dlcore", "gradebook",
                               str(course["out"]), "--out", str(target), "--roster",
                               str(course["roster"]), "--format", fmt],
                              cwd=PROJECT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        with open(target, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        assert rows[0][0] == first and rows[0][-1 if fmt != "csv" else -3] == ASSIGNMENT
    assert len(rows) == 1 + 11  # ten on the roster (ghost too), and the stranger
