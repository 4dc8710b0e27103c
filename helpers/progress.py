"""The learner's progress log: which exercise checks ran, and what they answered.

Every public ``checks.check_*`` call appends one JSON line to a small log in the
learner's home (``~/.dl-course/progress.jsonl``; ``COURSE_PROGRESS_FILE`` names
another file, or ``off`` turns the log off). A solution cell's
``checks.confirm(...)`` appends a second line that marks that call as the
course's own solution, so running the solutions never counts as the learner's
work. A line holds the chapter, the check, whether it was attempted and passed, and
``feedback``: the text the check itself showed the learner (``[try again] ...``, at
most 2,000 characters), so a teacher sees what their last attempt was told. Nothing
else is logged: no code, and of an answer only what that feedback says about it.

Writing the log never breaks or slows a check: any error while writing is
swallowed and the check answers as usual.

In a classroom (``COURSE_CLASS_FEED`` and ``JUPYTERHUB_API_TOKEN`` set by the hub) every
new line is also sent on to the teacher's live class page, in the background
(:mod:`helpers.classfeed`); a learner alone keeps only the local log.

``python3 course.py progress`` (:mod:`helpers.progress_report`) prints the learner's own
table; a teacher's ``course.py classroom report`` reads every student's log with the same code.
Both take the catalogue of checks (:func:`helpers.checks.all_checks`) themselves: this module
is a leaf that the checks call, and imports nothing of the course but :mod:`helpers.classfeed`.
"""

from __future__ import annotations

import csv
import json
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from helpers import classfeed

__all__ = [
    "log_path",
    "log_check",
    "log_solution",
    "read_events",
    "summarize",
    "Row",
    "format_table",
    "write_csv",
    "CSV_COLUMNS",
]

LOG_ENV = "COURSE_PROGRESS_FILE"
FEEDBACK_CHARS = 2000  # the longest feedback text a log line keeps
CSV_COLUMNS = ("student", "chapter", "check", "attempts", "passed", "last_seen")


def log_path(home: Path | None = None) -> Path | None:
    """The log file of this learner (or of the learner whose home is ``home``).

    ``None`` when ``COURSE_PROGRESS_FILE=off``. ``home`` is used by the
    classroom report, which reads each student's home in turn.
    """
    if home is not None:
        return home / ".dl-course" / "progress.jsonl"
    chosen = os.environ.get(LOG_ENV, "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    return Path.home() / ".dl-course" / "progress.jsonl"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _append(event: dict[str, Any]) -> bool:
    """Append one line; ``False`` (never an exception) when it cannot be written."""
    try:
        path = log_path()
        if path is None:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(event, ensure_ascii=False) + "\n"
        # One write() on an O_APPEND file: lines from two kernels never interleave.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
    except Exception:  # noqa: BLE001 - a log must never break a learner's check
        return False
    classfeed.notify(path)  # returns at once, never raises; off unless under a hub
    return True


def _feedback_text(feedback: Any) -> str:
    """The feedback as the learner saw it (its repr: ``[ok] ...``), cut to
    :data:`FEEDBACK_CHARS` characters; '' when it cannot be shown."""
    try:
        text = repr(feedback)
        # A learner's text may hold lone surrogates, which UTF-8 cannot write.
        text = text.encode("utf-8", "replace").decode("utf-8")
    except Exception:  # noqa: BLE001
        return ""
    if len(text) > FEEDBACK_CHARS:
        text = text[: FEEDBACK_CHARS - 1] + "\u2026"
    return text


def log_check(chapter: str, check: str, feedback: Any) -> str:
    """Log one check call; return its event id ('' if it was not written)."""
    event_id = uuid.uuid4().hex[:16]
    written = _append(
        {
            "t": _now(),
            "id": event_id,
            "chapter": str(chapter),
            "check": str(check),
            "attempted": bool(getattr(feedback, "attempted", True)),
            "ok": bool(getattr(feedback, "ok", False)),
            "feedback": _feedback_text(feedback),
        }
    )
    return event_id if written else ""


def log_solution(event_id: str) -> None:
    """Mark a logged check call as a run of the course's own solution."""
    if event_id:
        _append({"t": _now(), "solution": event_id})


def read_events(path: Path | None) -> list[dict[str, Any]]:
    """The check calls in a log, without those that were solutions.

    Lines that are not valid JSON (a log cut short by a full disk, say) are
    skipped, so one bad line never hides the rest.
    """
    if path is None or not path.is_file():
        return []
    checks: list[dict[str, Any]] = []
    solutions: set[str] = set()
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if not isinstance(event, dict):
                continue
            if "solution" in event:
                solutions.add(str(event["solution"]))
            elif "check" in event and "chapter" in event:
                checks.append(event)
    return [e for e in checks if e.get("id") not in solutions]


@dataclass(frozen=True)
class Row:
    """One student's record for one check."""

    student: str
    chapter: str
    check: str
    attempts: int
    passed: bool
    last_seen: str

    @property
    def status(self) -> str:
        if self.passed:
            return "passed"
        return "attempted" if self.attempts else "not tried"


def summarize(
    student: str, events: Iterable[dict[str, Any]], catalogue: dict[str, list[str]]
) -> list[Row]:
    """One row per check of the catalogue (and per logged check it does not list)."""
    seen: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for event in events:
        seen.setdefault((str(event["chapter"]), str(event["check"])), []).append(event)
    keys = [(chapter, check) for chapter, names in catalogue.items() for check in names]
    keys += sorted(k for k in seen if k not in set(keys))
    rows = []
    for chapter, check in keys:
        calls = seen.get((chapter, check), [])
        tried = [e for e in calls if e.get("attempted")]
        rows.append(
            Row(
                student=student,
                chapter=chapter,
                check=check,
                attempts=len(tried),
                passed=any(e.get("ok") for e in tried),
                last_seen=max((str(e.get("t", "")) for e in calls), default=""),
            )
        )
    return rows


def format_table(rows: Sequence[Row]) -> str:
    """Chapter by chapter: checks passed, attempted and not tried, and the last activity."""
    lines = []
    students = list(dict.fromkeys(r.student for r in rows))
    for student in students:
        mine = [r for r in rows if r.student == student]
        passed = sum(r.passed for r in mine)
        last = max((r.last_seen for r in mine), default="") or "never"
        lines.append(f"{student}: {passed} of {len(mine)} checks passed; last worked {last}")
        for chapter in dict.fromkeys(r.chapter for r in mine):
            here = [r for r in mine if r.chapter == chapter]
            by_status = {
                s: [r.check.removeprefix("check_") for r in here if r.status == s]
                for s in ("passed", "attempted", "not tried")
            }
            parts = [
                f"{s} {len(names)}"
                + (f" ({', '.join(names)})" if names and s != "not tried" else "")
                for s, names in by_status.items()
            ]
            lines.append(f"  chapter {chapter}: " + "; ".join(parts))
    return "\n".join(lines)


def write_csv(rows: Sequence[Row], target: Path) -> None:
    """One row per student and check (columns :data:`CSV_COLUMNS`), written atomically."""
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for r in rows:
            writer.writerow(
                [
                    r.student,
                    r.chapter,
                    r.check,
                    r.attempts,
                    "yes" if r.passed else "no",
                    r.last_seen,
                ]
            )
    os.replace(tmp, target)
