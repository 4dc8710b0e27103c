"""The progress log: every check call is logged with the feedback the learner saw, solutions
are not the learner's work, a log that cannot be written never breaks a check, and the
table/CSV say passed/attempted/not tried."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import checks, progress

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def log(tmp_path, monkeypatch):
    path = tmp_path / "home" / ".dl-course" / "progress.jsonl"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(path))
    # Run inside a classroom's server, the tests' lines must not reach the class page.
    monkeypatch.delenv("COURSE_CLASS_FEED", raising=False)
    return path


def relu(x):
    return np.maximum(x, 0)


def test_every_check_call_is_logged_with_its_chapter(log):
    checks.check_relu(relu)
    checks.check_relu(None)
    checks.check_output_size(3)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["chapter"], e["check"], e["attempted"], e["ok"]) for e in events] == [
        ("01", "check_relu", True, True),
        ("01", "check_relu", False, False),
        ("06", "check_output_size", True, False),
    ]


def test_each_line_keeps_the_feedback_the_learner_saw(log):
    wrong, unfinished = checks.check_relu(lambda x: x), checks.check_relu(None)
    right = checks.check_relu(relu)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["feedback"] for e in events] == [repr(wrong), repr(unfinished), repr(right)]
    assert events[0]["feedback"].startswith("[try again] ")
    assert events[1]["feedback"].startswith("[not attempted yet] ")
    assert events[2]["feedback"].startswith("[ok] ")


def test_long_or_unwritable_feedback_is_cut_not_lost(log):
    long = checks.Feedback(False, "x" * 5000)
    odd = checks.Feedback(False, "the answer 'caf\udce9' is not a choice")  # a lone surrogate
    assert progress.log_check("03", "check_loss_choice", long)
    assert progress.log_check("03", "check_loss_choice", odd)
    first, second = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert len(first["feedback"]) == progress.FEEDBACK_CHARS
    assert first["feedback"].startswith("[try again] xxx") and first["feedback"][-1] == "\u2026"
    assert second["feedback"] == "[try again] the answer 'caf?' is not a choice"


def test_a_solution_run_is_not_counted_as_the_learners_work(log):
    checks.confirm(checks.check_relu(relu))
    assert progress.read_events(log) == []
    rows = progress.summarize("me", progress.read_events(log), checks.all_checks())
    assert next(r for r in rows if r.check == "check_relu").status == "not tried"


def test_feedback_still_reads_and_compares_the_same(log):
    first, second = checks.check_relu(relu), checks.check_relu(relu)
    assert first == second and repr(first).startswith("[ok]") and first.event != second.event


def test_an_unwritable_log_never_breaks_a_check(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(blocker / "sub" / "progress.jsonl"))
    feedback = checks.check_relu(relu)
    assert feedback.ok and feedback.event == ""
    checks.confirm(feedback)  # and a solution with nothing logged still confirms


def test_the_log_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    assert progress.log_path() is None and checks.check_relu(relu).ok


def test_summary_passed_attempted_not_tried_and_broken_lines(log):
    checks.check_relu(lambda x: x)  # attempted, wrong
    checks.check_relu(relu)  # then right
    checks.check_output_size(3)  # attempted, wrong
    checks.check_conv_params(None)  # opened but not attempted
    with open(log, "a") as fh:
        fh.write('{"t": "cut sho')  # a line cut short: skipped
    rows = {
        r.check: r for r in progress.summarize("me", progress.read_events(log), checks.all_checks())
    }
    assert (rows["check_relu"].attempts, rows["check_relu"].status) == (2, "passed")
    assert rows["check_output_size"].status == "attempted"
    assert rows["check_conv_params"].status == "not tried"
    assert rows["check_glorot_limit"].last_seen == ""
    catalogue = checks.all_checks()
    assert set(catalogue) == {p.stem[2:] for p in (ROOT / "helpers/checks").glob("ch[0-9]*.py")}
    assert len(rows) == sum(len(v) for v in catalogue.values())
    table = progress.format_table(list(rows.values()))
    assert "me: 1 of" in table and "chapter 01: passed 1 (relu)" in table
    assert "chapter 06: passed 0; attempted 1 (output_size)" in table


def test_the_csv_has_one_row_per_check(log, tmp_path):
    checks.check_relu(relu)
    rows = progress.summarize("me", progress.read_events(log), checks.all_checks())
    target = tmp_path / "out.csv"
    progress.write_csv(rows, target)
    read = list(csv.DictReader(target.open()))
    assert list(read[0]) == list(progress.CSV_COLUMNS) and len(read) == len(rows)
    assert next(r for r in read if r["check"] == "check_relu")["passed"] == "yes"


def test_course_progress_command(log):
    import course

    checks.check_relu(relu)
    assert course.PLAIN_COMMANDS["progress"] == "helpers.progress_report"
    out = subprocess.run(
        [sys.executable, "-m", course.PLAIN_COMMANDS["progress"]],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0 and "you: 1 of" in out.stdout, out.stderr


def test_the_log_is_a_leaf_that_the_checks_call():
    """Importing the log loads none of the checks: only the class feed it calls (and the
    ``helpers`` package itself). The catalogue comes from ``helpers.checks.all_checks``."""
    code = (
        "import json, sys, helpers.progress; "
        "print(json.dumps([m for m in sys.modules if m.split('.')[0] == 'helpers']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    loaded = set(json.loads(out.stdout))
    assert "helpers.checks" not in loaded
    assert loaded <= {"helpers", "helpers.memory", "helpers.progress", "helpers.classfeed"}
    assert not hasattr(progress, "all_checks")
