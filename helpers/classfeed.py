"""The class feed: a student's progress log, sent on to the teacher's live class page.

In a classroom the hub sets ``COURSE_CLASS_FEED`` (the class page's events URL) in every
student's environment, and JupyterHub gives each student's server (and the kernels it
starts) ``JUPYTERHUB_API_TOKEN``, the student's own token. When both are set,
:func:`notify` - which :mod:`helpers.progress` calls after every line it appends - wakes
one daemon thread per process that sends the log's new lines as
``POST $COURSE_CLASS_FEED`` with ``Authorization: token $JUPYTERHUB_API_TOKEN`` and a JSON
list of the lines (the dicts the log holds) as the body. Without them it does nothing:
a learner alone keeps the local log and ``course.py progress`` as before.

What it promises:

- A check never waits: :func:`notify` only records the log's name and wakes the thread
  (no file or network access in the learner's call); it never raises and never prints.
- Nothing is lost: the log itself is the queue. How far the class page has acknowledged
  it is a byte offset in a small file beside the log (``progress.sent`` for
  ``progress.jsonl``, replaced atomically), advanced only after a 2xx answer whose body
  is a JSON object with ``"accepted"``. Anything else (no answer within
  :data:`TIMEOUT`, a refused connection, an error, a redirect, a login page) leaves the
  offset where it was, and the thread tries again after a growing delay (1, 2, 4 ... at
  most 30 s) for as long as a backlog remains; a later check tries at once. So events
  queued while the service is down reach it when it is back.
- Only whole lines (ending in a newline) are sent, in batches of at most
  :data:`BATCH_LINES` lines and :data:`BATCH_BYTES` bytes. Lines that are not a JSON
  object (one cut short by a full disk), or longer than a batch (hand-made: the course's
  own are a few KB), are passed over, so they never hold up the lines after them.
- Lines may be sent twice (an answer lost on the way back, two kernels of one student
  sending the same lines, a log replaced under the same name, a new
  ``COURSE_CLASS_FEED``, which starts from the log's first line): the class page
  de-duplicates them by each line's ``id`` (and by ``solution`` for solution lines).

:func:`flush` waits (at most ``timeout`` seconds) until the backlog has been sent, and
:func:`backlog` counts the lines not yet acknowledged.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FEED_ENV",
    "TOKEN_ENV",
    "TIMEOUT",
    "notify",
    "flush",
    "backlog",
    "sent_path",
]

FEED_ENV = "COURSE_CLASS_FEED"
TOKEN_ENV = "JUPYTERHUB_API_TOKEN"

TIMEOUT = 2.0  # seconds a request may take (per connect/read) before it counts as failed
FIRST_RETRY = 1.0  # seconds before the first retry; doubled after each failure ...
MAX_RETRY = 30.0  # ... up to this
BATCH_LINES = 500  # at most this many lines per request ...
BATCH_BYTES = 256 * 1024  # ... and this many bytes (a longer line is passed over)


def sent_path(log: Path) -> Path:
    """The file that records how far ``log`` has been acknowledged (``progress.sent``)."""
    log = Path(log)
    name = log.stem + ".sent"
    return log.with_name(name if name != log.name else log.name + ".sent")


def _delay(failures: int) -> float:
    """Seconds to wait after ``failures`` failed attempts in a row: 1, 2, 4 ... 30."""
    return min(MAX_RETRY, FIRST_RETRY * 2.0 ** max(0, min(failures - 1, 30)))


def _settings() -> tuple[str, str] | None:
    """``(url, token)`` when this process is a student's under a hub, else None."""
    url = os.environ.get(FEED_ENV, "").strip()
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not url or not token or not url.lower().startswith(("http://", "https://")):
        return None
    return url, token


# --- the log and its acknowledged offset -------------------------------------------------


@dataclass(frozen=True)
class _Mark:
    """How far a log has been acknowledged, and how to tell it is still the same log."""

    url: str
    inode: int
    offset: int
    tail: str  # sha256 of the last acknowledged line (offset - tail_len ... offset)
    tail_len: int

    def holds(self, fh: Any, url: str, inode: int, size: int) -> bool:
        """Whether this mark is about the open log ``fh`` and the feed ``url``."""
        if self.url != url or self.inode != inode or not 0 <= self.offset <= size:
            return False
        if self.offset == 0:
            return True
        if not 0 < self.tail_len <= self.offset:
            return False
        fh.seek(self.offset - self.tail_len)
        return hashlib.sha256(fh.read(self.tail_len)).hexdigest() == self.tail


def _read_mark(path: Path) -> _Mark | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _Mark(
            url=str(data["url"]),
            inode=int(data["inode"]),
            offset=int(data["offset"]),
            tail=str(data["tail"]),
            tail_len=int(data["tail_len"]),
        )
    except Exception:  # noqa: BLE001 - missing or unreadable: start from the beginning
        return None


def _write_mark(path: Path, mark: _Mark, fh: Any) -> None:
    """Replace the mark file atomically, unless it already holds a later offset of this
    very log (another kernel got further: going back would only cause duplicates)."""
    other = _read_mark(path)
    if other is not None and other.offset > mark.offset:
        if other.holds(fh, mark.url, mark.inode, os.fstat(fh.fileno()).st_size):
            return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_text(json.dumps(mark.__dict__) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# The last mark this process saw acknowledged, per log: used when the mark file cannot
# be written (a read-only folder), so a sent batch is not sent again and again.
_memory: dict[str, _Mark] = {}


def _start(fh: Any, log: Path, url: str) -> tuple[int, int]:
    """``(inode, offset)``: where sending ``log`` resumes (0 when no mark holds)."""
    st = os.fstat(fh.fileno())
    marks = [_read_mark(sent_path(log)), _memory.get(str(log))]
    held = [m.offset for m in marks if m is not None and m.holds(fh, url, st.st_ino, st.st_size)]
    return st.st_ino, max(held, default=0)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _batch(fh: Any, offset: int) -> tuple[list[bytes], int, bytes]:
    """The whole lines from ``offset`` that hold a JSON object: ``(lines, end, last line)``.

    At most :data:`BATCH_LINES` lines and :data:`BATCH_BYTES` bytes; ``end`` is the offset
    after the last line taken or passed over, ``last`` that line (its tail for a long one).
    """
    fh.seek(offset)
    lines: list[bytes] = []
    end, last, size = offset, b"", 0
    while len(lines) < BATCH_LINES:
        line = fh.readline(BATCH_BYTES + 1)
        if len(line) > BATCH_BYTES:
            # Longer than any line the course writes (a hand-made one): passed over, or
            # the class page would refuse the batch again and again, and all after it.
            skipped = (0, line) if line.endswith(b"\n") else _skip_line(fh)
            if skipped is None:
                break  # not whole yet
            end, last = end + len(line) + skipped[0], skipped[1]
            continue
        if not line.endswith(b"\n"):
            break  # end of the log, or a line still being written: wait for its newline
        if size + len(line) > BATCH_BYTES:
            break  # the next batch's
        end, last = end + len(line), line
        try:
            event = json.loads(line, parse_constant=_reject_constant)
        except ValueError:
            continue  # a broken line never becomes whole: pass over it
        if isinstance(event, dict):
            lines.append(line.rstrip(b"\r\n"))
            size += len(line)
    return lines, end, last


def _skip_line(fh: Any) -> tuple[int, bytes] | None:
    """Read on to the end of a long line: ``(bytes read, the last piece)``; None when the
    log ends before its newline."""
    read = 0
    while True:
        piece = fh.readline(BATCH_BYTES)
        read += len(piece)
        if piece.endswith(b"\n"):
            return read, piece
        if not piece:
            return None


def _count_lines(log: Path, url: str) -> int:
    with open(log, "rb") as fh:
        _, offset = _start(fh, log, url)
        fh.seek(offset)
        return sum(1 for line in fh if line.endswith(b"\n"))


def backlog(log: Path | None) -> int:
    """Lines of ``log`` (this learner's is ``helpers.progress.log_path()``) that the class
    page has not acknowledged.

    0 when the feed is off (no ``COURSE_CLASS_FEED`` or no token) or the log is missing.
    This module imports nothing of the course: :mod:`helpers.progress` calls it, never the
    other way round.
    """
    try:
        settings = _settings()
        if settings is None:
            return 0
        if log is None or not Path(log).is_file():
            return 0
        return _count_lines(Path(log), settings[0])
    except Exception:  # noqa: BLE001
        return 0


# --- sending ---------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: it would turn the POST into a GET (a 200 that stored
    nothing) and carry the token to another address."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# No proxies: the class page is the hub's own service, and the token must not go to a proxy.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _post(url: str, token: str, lines: list[bytes]) -> bool:
    """Send one batch; True only for a 2xx answer with a JSON object holding "accepted".

    The body is the log's own lines (UTF-8 JSON objects) as one JSON list.
    """
    request = urllib.request.Request(
        url,
        data=b"[" + b",".join(lines) + b"]",
        method="POST",
        headers={
            "Authorization": f"token {token}",
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
        },
    )
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            if not 200 <= response.status < 300:
                return False
            answer = json.loads(response.read(1 << 20) or b"null")
    except Exception:  # noqa: BLE001 - down, slow, refused, an error answer: try later
        return False
    return isinstance(answer, dict) and "accepted" in answer


def _send(log: Path, url: str, token: str) -> bool:
    """Send every whole line after the acknowledged offset; True when none is left."""
    try:
        fh = open(log, "rb")
    except FileNotFoundError:
        return True  # no log (yet, or any more): nothing to send
    with fh:
        inode, offset = _start(fh, log, url)
        while True:
            lines, end, last = _batch(fh, offset)
            if end == offset:
                return True
            if lines and not _post(url, token, lines):
                return False
            mark = _Mark(url, inode, end, hashlib.sha256(last).hexdigest(), len(last))
            _memory[str(log)] = mark
            try:
                _write_mark(sent_path(log), mark, fh)
            except OSError:
                pass  # kept in memory; a later process may send these lines again
            offset = end


# --- the thread --------------------------------------------------------------------------


@dataclass
class _Target:
    url: str
    token: str
    asked: int = 0  # how many times a send was asked for ...
    done: int = 0  # ... and how many of those a complete send has answered
    failures: int = 0
    next_try: float = 0.0


_cond = threading.Condition()
_targets: dict[str, _Target] = {}
_thread: threading.Thread | None = None


def _ask(log: Path, settings: tuple[str, str]) -> int:
    """Record a request to send ``log`` (``_cond`` held); its number."""
    global _thread
    key = str(log)
    target = _targets.get(key)
    if target is None:
        target = _targets[key] = _Target(*settings)
    target.url, target.token = settings
    target.asked += 1
    target.next_try = 0.0  # a new line: try now, even in the middle of a retry delay
    if _thread is None or not _thread.is_alive():
        _thread = threading.Thread(target=_run, name="course-class-feed", daemon=True)
        _thread.start()
    _cond.notify_all()
    return target.asked


def notify(log: Path | None) -> None:
    """A line was appended to ``log``: send it (and any backlog) in the background.

    Returns at once and never raises; does nothing unless ``COURSE_CLASS_FEED`` and
    ``JUPYTERHUB_API_TOKEN`` are both set.
    """
    try:
        settings = _settings()
        if settings is None or log is None:
            return
        with _cond:
            _ask(Path(log), settings)
    except Exception:  # noqa: BLE001 - the class page must never break a learner's check
        pass


def flush(timeout: float = 10.0, log: Path | None = None) -> bool:
    """Wait until every whole line is acknowledged; False if that takes over ``timeout`` s.

    ``log`` (when given, and the feed is on) is sent even if no check has run in this
    process; otherwise every log this process has notified about. True at once when
    there is nothing to send (the feed is off).
    """
    deadline = time.monotonic() + timeout
    try:
        with _cond:
            if log is not None:
                key = str(log)
                known = _targets.get(key)
                settings = _settings() or (known and (known.url, known.token))
                if not settings:
                    return True  # the feed is off: nothing to send
                wanted = {key: _ask(Path(log), settings)}
            else:
                wanted = {
                    key: _ask(Path(key), (t.url, t.token)) for key, t in list(_targets.items())
                }
            while True:
                pending = [k for k, n in wanted.items() if k in _targets and _targets[k].done < n]
                if not pending:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                _cond.wait(left)
    except Exception:  # noqa: BLE001
        return False


def _forget() -> None:
    """Drop every log this process was sending (for tests: a fresh start)."""
    with _cond:
        _targets.clear()
        _memory.clear()
        _cond.notify_all()


def _run() -> None:
    while True:
        try:
            _step()
        except BaseException:  # noqa: BLE001 - nothing may surface in the learner's notebook
            time.sleep(FIRST_RETRY)


def _step() -> None:
    """Send every log that is due; otherwise wait for a request or the next retry."""
    with _cond:
        now = time.monotonic()
        waiting = {k: t for k, t in _targets.items() if t.done < t.asked}
        due = {k: (t.url, t.token, t.asked) for k, t in waiting.items() if t.next_try <= now}
        if not due:
            retry = min((t.next_try for t in waiting.values()), default=None)
            _cond.wait(None if retry is None else max(0.0, retry - now))
            return
    for key, (url, token, asked) in due.items():
        try:
            complete = _send(Path(key), url, token)
        except Exception:  # noqa: BLE001 - an unreadable log, say: try again later
            complete = False
        with _cond:
            target = _targets.get(key)
            if target is None:
                continue  # forgotten meanwhile
            if complete:
                target.failures, target.next_try = 0, 0.0
                target.done = max(target.done, asked)
            else:
                target.failures += 1
                target.next_try = time.monotonic() + _delay(target.failures)
            _cond.notify_all()


def _after_fork_in_child() -> None:
    """A forked child (a data-loader worker, say) starts with no thread and sends nothing
    until its own checks ask it to."""
    global _cond, _thread
    _cond = threading.Condition()
    _targets.clear()
    _memory.clear()
    _thread = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
