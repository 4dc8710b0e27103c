"""The live class page's model (classroom/livemodel.py): cells, duplicates, help, details, CSV."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from classroom import livemodel
from classroom.livemodel import FAIL_COUNT, FAIL_WINDOW, QUIET, RULE, ClassState, csv_text
from helpers import progress

CATALOGUE = {"01": ["check_relu", "check_glorot_limit"], "02": ["check_gradient"]}
NOW = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)
_ids = iter(range(1_000_000))


def call(check="check_relu", *, ok=False, attempted=True, at=NOW, chapter="01", **extra):
    """A progress-log line of one check call, as helpers/progress.py writes it."""
    event = {
        "t": at.isoformat(timespec="seconds"),
        "id": f"e{next(_ids)}",
        "chapter": chapter,
        "check": check,
        "attempted": attempted,
        "ok": ok,
        "feedback": "[try again] not yet" if not ok else "[ok] well done",
    }
    return event | extra


def solution(event, at=NOW):
    return {"t": at.isoformat(timespec="seconds"), "solution": event["id"]}


def fresh():
    return ClassState(["alice", "bob"], CATALOGUE)


def test_cells_go_from_not_tried_to_trying_to_passed():
    state = fresh()
    assert state.cell("alice", "01", "check_relu") == ("not tried", 0)
    assert state.add("alice", call(), NOW)
    assert state.add("alice", call(), NOW)
    assert state.cell("alice", "01", "check_relu") == ("trying", 2)
    assert state.add("alice", call(ok=True), NOW)
    assert state.cell("alice", "01", "check_relu") == ("passed", 3)
    assert state.cell("bob", "01", "check_relu") == ("not tried", 0)
    assert set(state.row("alice")) == {
        "01/check_relu",
        "01/check_glorot_limit",
        "02/check_gradient",
    }


def test_a_blank_answer_is_no_attempt_as_in_the_report():
    state = fresh()
    assert state.add("alice", call(attempted=False), NOW)
    assert state.cell("alice", "01", "check_relu") == ("not tried", 0)


def test_a_solution_run_marks_its_call_whichever_line_arrives_first():
    for solution_first in (False, True):
        state = fresh()
        mine = call(ok=True)
        lines = [solution(mine), mine] if solution_first else [mine, solution(mine)]
        assert state.add("alice", call(), NOW)  # one failed attempt of their own first
        assert all(state.add("alice", line, NOW) for line in lines)
        assert state.cell("alice", "01", "check_relu") == ("solution", 1)
        assert state.rows("alice")[0].passed is False  # the report does not count it either


def test_a_pass_of_ones_own_beats_a_solution_run():
    state = fresh()
    mine = call(ok=True)
    for line in (mine, solution(mine), call(ok=True)):
        assert state.add("alice", line, NOW)
    assert state.cell("alice", "01", "check_relu") == ("passed", 1)


def test_duplicates_are_refused_per_student():
    state = fresh()
    line = call()
    assert state.add("alice", line, NOW)
    assert not state.add("alice", dict(line), NOW)
    assert state.add("bob", dict(line), NOW)  # another student's id space: no interference
    mark = solution(line)
    assert state.add("alice", mark, NOW)
    assert not state.add("alice", dict(mark), NOW)
    assert state.cell("alice", "01", "check_relu") == ("not tried", 0)  # a failed solution run


def test_malformed_events_and_strangers_are_refused_without_raising():
    state = fresh()
    bad = [
        None,
        [],
        "text",
        {},
        call() | {"id": ""},
        call() | {"id": 7},
        call() | {"id": "x" * 65},
        call() | {"t": "yesterday"},
        {k: v for k, v in call().items() if k != "t"},
        call("check_unknown"),
        call(chapter="09"),
        call() | {"ok": "yes"},
        call() | {"attempted": 1},
        call() | {"feedback": ["a"]},
        {"solution": 5},
        {"solution": ""},
    ]
    for event in bad:
        assert state.verdict("alice", event) == "malformed", event
        assert not state.add("alice", event, NOW)
    assert state.verdict("mallory", call()) == "not on roster"
    assert not state.add("mallory", call(), NOW)
    assert "mallory" not in state.snapshot()["cells"]
    assert state.detail("alice")["calls"] == 0


def test_feedback_is_kept_short_and_extra_fields_dropped():
    event = call(feedback="x" * 5000, student="bob", code="secret")
    kept = livemodel.normalized(event)
    assert len(kept["feedback"]) == livemodel.MAX_FEEDBACK
    assert set(kept) == {"t", "id", "chapter", "check", "attempted", "ok", "feedback"}


def test_a_batch_counts_repeats_within_it_as_duplicates():
    state = fresh()
    first, again = call(), call()
    assert state.add("alice", first, NOW)
    new, duplicates, rejected = state.triage("alice", [first, again, dict(again), {"x": 1}])
    assert [e["id"] for e in new] == [again["id"]]
    assert (duplicates, rejected) == (2, 1)


def test_a_student_cannot_fill_the_memory(monkeypatch):
    monkeypatch.setattr(livemodel, "MAX_CALLS", 3)
    state = fresh()
    assert all(state.add("alice", call(), NOW) for _ in range(3))
    assert state.verdict("alice", call()) == "full"
    assert state.verdict("bob", call()) == "new"


def failing(state, count, first_at, check="check_relu"):
    for i in range(count):
        assert state.add("alice", call(check, at=first_at + timedelta(seconds=i)), NOW)


def help_for(state, servers=None, now=NOW):
    return [(h.student, h.reason, h.check) for h in state.needs_help(now, servers or {})]


def test_help_rule_one_needs_three_failures_in_ten_minutes():
    assert FAIL_COUNT == 3 and FAIL_WINDOW == timedelta(minutes=10)
    state = fresh()
    failing(state, 2, NOW - timedelta(minutes=5))
    assert help_for(state) == []
    failing(state, 1, NOW - timedelta(minutes=1))
    assert help_for(state) == [("alice", "failing", "check_relu")]
    (item,) = state.needs_help(NOW, {})
    assert "3 failed attempts at relu" in item.text and "alice" not in item.text


def test_help_rule_one_at_the_edge_of_the_window():
    # The first failure exactly ten minutes ago counts; one second earlier it does not.
    for offset, expected in ((timedelta(0), 1), (timedelta(seconds=1), 0)):
        state = fresh()
        state.add("alice", call(at=NOW - FAIL_WINDOW - offset), NOW)
        failing(state, 2, NOW - timedelta(minutes=2))
        assert len(help_for(state)) == expected


def test_help_rule_one_ends_with_a_pass_after_the_failures():
    state = fresh()
    state.add("alice", call(ok=True, at=NOW - timedelta(minutes=8)), NOW)  # passed before ...
    failing(state, 3, NOW - timedelta(minutes=5))  # ... then broke it again: help
    assert help_for(state) == [("alice", "failing", "check_relu")]
    state.add("alice", call(ok=True, at=NOW - timedelta(minutes=1)), NOW)
    assert help_for(state) == []

    state = fresh()
    failing(state, 3, NOW - timedelta(minutes=5))
    assert state.add("alice", call(attempted=False, at=NOW), NOW)  # a blank is no pass
    assert help_for(state) == [("alice", "failing", "check_relu")]
    answer = call(ok=True, at=NOW)
    state.add("alice", answer, NOW)
    state.add("alice", solution(answer), NOW)  # the solution's pass ends it too
    assert help_for(state) == []


def test_help_rule_two_a_quiet_running_server():
    assert QUIET == timedelta(minutes=10)
    state = fresh()
    quiet = (NOW - QUIET).isoformat()
    ready = {"state": "ready", "last_activity": quiet, "started": quiet}
    assert help_for(state, {"alice": ready}) == [("alice", "quiet", "")]
    (item,) = state.needs_help(NOW, {"alice": ready})
    assert "10 minutes" in item.text
    almost = (NOW - QUIET + timedelta(seconds=1)).isoformat()
    assert help_for(state, {"alice": ready | {"last_activity": almost}}) == []
    assert help_for(state, {"alice": ready | {"state": "stopped"}}) == []
    assert help_for(state, {"alice": ready | {"state": "pending"}}) == []
    assert help_for(state, {"alice": {"state": "ready"}}) == [("alice", "quiet", "")]
    state.add("alice", call(at=NOW - timedelta(minutes=2)), NOW)  # a recent check: busy
    assert help_for(state, {"alice": ready}) == []


def test_the_rule_text_names_the_thresholds():
    assert f"{FAIL_COUNT} or more failed attempts" in RULE
    assert "10 minutes" in RULE and RULE.count(".") == 1


def test_a_students_detail_lists_attempts_in_time_order_with_the_last_feedback():
    state = fresh()
    later = call(at=NOW + timedelta(minutes=1), feedback="[try again] relu(-1) should be 0")
    earlier = call("check_gradient", chapter="02", at=NOW)
    state.add("alice", later, NOW)
    state.add("alice", earlier, NOW)
    detail = state.detail("alice")
    assert [a["check"] for a in detail["attempts"]] == ["check_gradient", "check_relu"]
    assert detail["last"]["feedback"] == "[try again] relu(-1) should be 0"
    assert detail["number"] == 1 and detail["cells"]["01/check_relu"]["state"] == "trying"
    assert state.detail("bob")["last"] is None


def test_csv_matches_what_classroom_report_writes(tmp_path):
    state = fresh()
    own = call(ok=True, at=NOW + timedelta(minutes=3))
    run = call("check_gradient", chapter="02", ok=True, at=NOW)
    lines = [call(at=NOW), call(attempted=False), own, run, solution(run)]
    log = tmp_path / "progress.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    for line in lines:
        assert state.add("alice", line, NOW)
    expected = progress.summarize("alice", progress.read_events(log), CATALOGUE)
    assert state.rows("alice") == expected
    rows = state.csv_rows()
    assert [r.student for r in rows] == ["alice"] * 3 + ["bob"] * 3
    progress.write_csv(rows, tmp_path / "report.csv")
    text = csv_text(rows)
    assert text == (tmp_path / "report.csv").read_bytes().decode("utf-8")  # \r\n and all
    assert text.splitlines()[0] == "student,chapter,check,attempts,passed,last_seen"
    assert text.splitlines()[1] == f"alice,01,check_relu,2,yes,{own['t']}"


def test_server_view_reads_the_hubs_user_model():
    assert livemodel.server_view(None)["state"] == "stopped"
    user = {"name": "alice", "last_activity": "u", "servers": {"": {"ready": True, "started": "s"}}}
    assert livemodel.server_view(user) == {"state": "ready", "last_activity": "u", "started": "s"}
    user["servers"][""] = {"ready": False, "pending": "spawn", "last_activity": "x"}
    assert livemodel.server_view(user)["state"] == "pending"
    assert livemodel.server_view(user)["last_activity"] == "x"
