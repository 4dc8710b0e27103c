"""The live class page's state, built from the events the students' checks report.

Pure and in memory (standard library plus :mod:`helpers.progress`): ``liveview.py`` feeds it
the progress-log lines each student's kernel sends, stores them, and shows what this module
computes. The events are the lines ``helpers/progress.py`` writes: a check call
``{"t", "id", "chapter", "check", "attempted", "ok", "feedback"?}`` and a solution mark
``{"t", "solution": id}`` (that call ran the course's own solution, so it is not the student's
work). Nothing here ever sees code or answers: only which check ran, when, and its verdict.

A cell of the grid (one student, one exercise) is ``"not tried"``, ``"trying"`` (attempts, no
pass yet), ``"passed"`` (by the student's own answer) or ``"solution"`` (passed only by running
the solution). Attempts and passes are counted as ``classroom report`` counts them
(:func:`helpers.progress.summarize`): a call whose answer was still left blank ("not attempted
yet") is no attempt, and solution runs count for nothing; so the CSV export matches the report.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from helpers.progress import CSV_COLUMNS, Row, summarize

FAIL_COUNT = 3  # failed attempts at one exercise ...
FAIL_WINDOW = timedelta(minutes=10)  # ... within this long, with no pass since, need help
QUIET = timedelta(minutes=10)  # a running server with no check and no activity this long
MAX_CALLS = 5000  # events kept per student: a runaway (or hostile) kernel cannot fill memory
MAX_FEEDBACK = 2000  # characters of feedback text kept per call
MAX_ID = 64  # characters of an event id
RULE = (
    f"A student is listed after {FAIL_COUNT} or more failed attempts at one exercise in the "
    f"last {FAIL_WINDOW.seconds // 60} minutes with no pass since the first of them, or when "
    f"their server runs with no check and no activity for {QUIET.seconds // 60} minutes."
)

CellState = Literal["not tried", "trying", "passed", "solution"]
Verdict = Literal["new", "duplicate", "malformed", "not on roster", "full"]


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime (a naive one is taken as UTC); else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Call:
    """One check call, as the student's kernel reported it."""

    id: str
    t: datetime
    t_text: str  # as sent: the CSV's last_seen uses it, as ``classroom report`` does
    chapter: str
    check: str
    attempted: bool
    ok: bool
    feedback: str | None
    received: datetime


@dataclass(frozen=True)
class Help:
    """One reason a student needs help: ``reason`` is "failing" (one exercise) or "quiet"."""

    student: str
    reason: Literal["failing", "quiet"]
    text: str  # what the page shows after the student's name (or roster number)
    since: datetime | None
    chapter: str = ""
    check: str = ""
    failures: int = 0  # failed attempts in the window ("failing" only)

    def as_json(self) -> dict[str, Any]:
        since = self.since.isoformat() if self.since else None
        return asdict(self) | {"since": since, "short": short(self.check)}


@dataclass
class _Student:
    calls: dict[str, Call] = field(default_factory=dict)  # by event id, in arrival order
    solutions: set[str] = field(default_factory=set)  # ids marked as solution runs


def short(check: str) -> str:
    """A check's name as the grid shows it: ``check_relu`` -> ``relu``."""
    return check.removeprefix("check_")


class ClassState:
    """Every accepted event of a class, and the grid, help list, details and CSV they give."""

    def __init__(self, roster: list[str], catalogue: dict[str, list[str]]) -> None:
        self.roster = list(roster)
        self.catalogue = {chapter: list(checks) for chapter, checks in catalogue.items()}
        self._known = {(ch, c) for ch, checks in self.catalogue.items() for c in checks}
        self._students = {name: _Student() for name in self.roster}

    # --- taking events in -------------------------------------------------------------------
    def verdict(self, student: str, event: Any) -> Verdict:
        """What :meth:`add` would do with ``event`` from ``student`` (nothing is changed)."""
        mine = self._students.get(student)
        if mine is None:
            return "not on roster"
        if not isinstance(event, dict):
            return "malformed"
        if "solution" in event:
            ident = event["solution"]
            if not _good_id(ident):
                return "malformed"
            return "duplicate" if ident in mine.solutions else self._room(mine)
        ident = event.get("id")
        if not _good_id(ident) or parse_time(event.get("t")) is None:
            return "malformed"
        if (event.get("chapter"), event.get("check")) not in self._known:
            return "malformed"  # not one of the course's checks (a typo, or junk)
        if not isinstance(event.get("attempted"), bool) or not isinstance(event.get("ok"), bool):
            return "malformed"
        if not isinstance(event.get("feedback", ""), str | None):
            return "malformed"
        return "duplicate" if ident in mine.calls else self._room(mine)

    def triage(self, student: str, events: list[Any]) -> tuple[list[dict[str, Any]], int, int]:
        """A batch sorted out before it is stored: ``(new events, duplicates, rejected)``.

        The new events are :func:`normalized`, and an event repeated within the batch counts
        as a duplicate; nothing changes until each new one is :meth:`add`-ed.
        """
        new: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        duplicates = rejected = 0
        for event in events:
            verdict = self.verdict(student, event)
            if verdict == "new":
                key = ("s", event["solution"]) if "solution" in event else ("c", event["id"])
                duplicates += key in seen
                if key not in seen:
                    seen.add(key)
                    new.append(normalized(event))
            elif verdict == "duplicate":
                duplicates += 1
            else:
                rejected += 1
        return new, duplicates, rejected

    @staticmethod
    def _room(mine: _Student) -> Verdict:
        return "full" if len(mine.calls) + len(mine.solutions) >= MAX_CALLS else "new"

    def add(self, student: str, event: Any, received: datetime) -> bool:
        """Take one event from ``student``; False (and nothing changes) unless it is new and valid.

        A ``{"solution": id}`` mark may arrive before or after the call it marks. Events from
        a student not on the roster, duplicates (an id already seen from that student) and
        malformed events are refused, never raised on.
        """
        if self.verdict(student, event) != "new":
            return False
        mine = self._students[student]
        if "solution" in event:
            mine.solutions.add(event["solution"])
            return True
        feedback = event.get("feedback")
        mine.calls[event["id"]] = Call(
            id=event["id"],
            t=parse_time(event["t"]),  # type: ignore[arg-type] - checked by verdict()
            t_text=event["t"],
            chapter=event["chapter"],
            check=event["check"],
            attempted=event["attempted"],
            ok=event["ok"],
            feedback=feedback[:MAX_FEEDBACK] if isinstance(feedback, str) else None,
            received=received,
        )
        return True

    # --- reading it out ---------------------------------------------------------------------
    def _own(self, student: str) -> list[Call]:
        """The student's calls that were not solution runs, oldest first."""
        mine = self._students[student]
        return sorted(
            (c for c in mine.calls.values() if c.id not in mine.solutions), key=lambda c: c.t
        )

    def _solved(self, student: str) -> set[tuple[str, str]]:
        """The exercises the student passed by running the course's solution."""
        mine = self._students[student]
        return {
            (c.chapter, c.check)
            for c in mine.calls.values()
            if c.id in mine.solutions and c.ok and c.attempted
        }

    def rows(self, student: str) -> list[Row]:
        """The student's rows as ``classroom report`` counts them (catalogue order)."""
        events = [
            {
                "t": c.t_text,
                "chapter": c.chapter,
                "check": c.check,
                "attempted": c.attempted,
                "ok": c.ok,
            }
            for c in self._own(student)
        ]
        return summarize(student, events, self.catalogue)

    def row(self, student: str) -> dict[str, dict[str, Any]]:
        """The student's cells, keyed ``"chapter/check"``: ``{"state", "attempts"}``."""
        solved = self._solved(student)
        cells = {}
        for r in self.rows(student):
            state: CellState
            if r.passed:
                state = "passed"
            elif (r.chapter, r.check) in solved:
                state = "solution"
            else:
                state = "trying" if r.attempts else "not tried"
            cells[f"{r.chapter}/{r.check}"] = {"state": state, "attempts": r.attempts}
        return cells

    def cell(self, student: str, chapter: str, check: str) -> tuple[CellState, int]:
        """One cell: its state and the number of the student's own attempts."""
        found = self.row(student)[f"{chapter}/{check}"]
        return found["state"], found["attempts"]

    def snapshot(self) -> dict[str, Any]:
        """The whole grid, as the page draws it."""
        return {
            "roster": self.roster,
            "chapters": [
                {"chapter": ch, "checks": [{"name": c, "short": short(c)} for c in checks]}
                for ch, checks in self.catalogue.items()
            ],
            "cells": {student: self.row(student) for student in self.roster},
            "rule": RULE,
        }

    def needs_help(self, now: datetime, servers: dict[str, dict[str, Any]]) -> list[Help]:
        """Who needs help now, by the two rules of :data:`RULE`, in roster order.

        ``servers`` maps a student to their server as the hub reports it: ``state``
        ("ready" when running), ``last_activity`` and ``started`` (ISO times or None).
        """
        found: list[Help] = []
        for student in self.roster:
            every = sorted(self._students[student].calls.values(), key=lambda c: c.t)
            by_check: dict[tuple[str, str], list[Call]] = {}
            for c in every:
                if c.attempted:
                    by_check.setdefault((c.chapter, c.check), []).append(c)
            for chapter, checks in self.catalogue.items():
                for check in checks:
                    here = by_check.get((chapter, check), [])
                    if item := self._failing(student, here, chapter, check, now):
                        found.append(item)
            server = servers.get(student) or {}
            if server.get("state") != "ready":
                continue
            marks = [every[-1].t] if every else []
            marks += [parse_time(server.get(key)) for key in ("last_activity", "started")]
            quiet_since = max((m for m in marks if m is not None), default=None)
            if quiet_since is None:
                text = "server running; no check and no activity recorded"
            elif now - quiet_since >= QUIET:
                minutes = int((now - quiet_since).total_seconds() // 60)
                text = f"server running; no check and no activity for {minutes} minutes"
            else:
                continue
            found.append(Help(student, "quiet", text, quiet_since))
        return found

    def _failing(
        self, student: str, here: list[Call], chapter: str, check: str, now: datetime
    ) -> Help | None:
        """Rule one for one exercise (``here``: its attempted calls, oldest first)."""
        solutions = self._students[student].solutions
        recent = [
            c for c in here if not c.ok and c.id not in solutions and c.t >= now - FAIL_WINDOW
        ]
        if len(recent) < FAIL_COUNT:
            return None
        first = recent[0].t
        if any(c.ok and c.t >= first for c in here):  # their own pass, or the solution's
            return None
        text = (
            f"{len(recent)} failed attempts at {short(check)} (chapter {chapter}) in the last "
            f"{FAIL_WINDOW.seconds // 60} minutes, no pass since"
        )
        return Help(student, "failing", text, first, chapter, check, len(recent))

    def detail(self, student: str, limit: int = 100) -> dict[str, Any]:
        """One student's attempts over time (the last ``limit``, oldest first) and last feedback."""
        mine = self._students[student]
        calls = sorted(mine.calls.values(), key=lambda c: c.t)
        attempts = [
            {
                "t": c.t.isoformat(),
                "chapter": c.chapter,
                "check": c.check,
                "short": short(c.check),
                "attempted": c.attempted,
                "ok": c.ok,
                "solution": c.id in mine.solutions,
                "feedback": c.feedback,
            }
            for c in calls[-limit:]
        ]
        return {
            "student": student,
            "number": self.roster.index(student) + 1,
            "calls": len(calls),
            "attempts": attempts,
            "last": attempts[-1] if attempts else None,
            "cells": self.row(student),
        }

    def csv_rows(self) -> list[Row]:
        """Every roster student's rows, exactly as ``classroom report --csv`` writes them."""
        return [r for student in self.roster for r in self.rows(student)]


class Feed:
    """Numbered messages for the pages' Server-Sent Events, the last ``keep`` of them kept.

    A message's id is ``EPOCH-N``; ``EPOCH`` is new at every start of the service, so a page
    that reconnects with an id from before a restart is sent the whole state again.
    """

    def __init__(self, keep: int = 1000) -> None:
        self.epoch, self.seq = secrets.token_hex(4), 0
        self.recent: deque[tuple[int, str]] = deque(maxlen=keep)

    def message(self, kind: str, data: Any) -> str:
        """An event-stream message of ``kind`` with the current id (the state carries it too)."""
        text = json.dumps(data, ensure_ascii=False)
        return f"id: {self.epoch}-{self.seq}\nevent: {kind}\ndata: {text}\n\n"

    def publish(self, kind: str, data: Any) -> None:
        self.seq += 1
        self.recent.append((self.seq, self.message(kind, data)))

    def since(self, last_id: str) -> list[str] | None:
        """The messages after ``last_id``; None when the page must start again from the state."""
        epoch, _, number = last_id.partition("-")
        if epoch != self.epoch or not number.isdigit() or int(number) > self.seq:
            return None
        first = self.recent[0][0] if self.recent else self.seq + 1
        if int(number) < first - 1:
            return None
        return [text for seq, text in self.recent if seq > int(number)]


def normalized(event: dict[str, Any]) -> dict[str, Any]:
    """A valid event with only the fields the page uses (anything else a kernel sent is dropped)."""
    if "solution" in event:
        return {k: event[k] for k in ("t", "solution") if k in event}
    kept = {k: event[k] for k in ("t", "id", "chapter", "check", "attempted", "ok")}
    if isinstance(event.get("feedback"), str):
        kept["feedback"] = event["feedback"][:MAX_FEEDBACK]
    return kept


def server_view(user: dict[str, Any] | None) -> dict[str, Any]:
    """A student's default server, from the hub's user model (``GET /hub/api/users``).

    ``state`` is "ready" (running), "pending" (starting or stopping) or "stopped".
    """
    user = user or {}
    server = (user.get("servers") or {}).get("") or {}
    state = "stopped" if not server else "ready" if server.get("ready") else "pending"
    return {
        "state": state,
        "last_activity": server.get("last_activity") or user.get("last_activity"),
        "started": server.get("started"),
    }


def _good_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID


def csv_text(rows: Sequence[Row]) -> str:
    """The CSV of :func:`helpers.progress.write_csv` (same columns and values), as text."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        passed = "yes" if r.passed else "no"
        writer.writerow([r.student, r.chapter, r.check, r.attempts, passed, r.last_seen])
    return out.getvalue()
