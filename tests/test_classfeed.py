"""The class feed (helpers/classfeed.py): under a hub every progress-log line reaches the
teacher's class page; a check never waits for it, nothing is lost while the page is down,
slow or failing, and a learner alone sends nothing. Each test runs a real HTTP server on a
free 127.0.0.1 port and waits on conditions with deadlines, never a fixed sleep."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from conftest import free_port
from helpers import checks, classfeed

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "student-token-abc"
ROUTE = "/services/class/api/events"
FAST = 0.05  # seconds: a check's call must take well under this


class Feed:
    """A class page on 127.0.0.1 that records every request.

    ``script`` holds the first answers, in order: a status, ``"html"`` (a 200 login page),
    ``"redirect"`` (a 302 to a page that answers 200), ``"other"`` (a 200 that is not the
    class page's answer) or ``"hang"`` (no answer until
    :attr:`release` is set); after it, every request gets 200 ``{"accepted": n, ...}``.
    """

    def __init__(self, port: int = 0, script: list | None = None):
        self.script = list(script or [])
        self.requests: list[dict] = []  # method, path, headers, events, answer
        self.changed = threading.Condition()
        self.release = threading.Event()
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                feed._record("GET", self, None, 200)
                self._answer(200, b"<html>login</html>", "text/html")

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with feed.changed:
                    step = feed.script.pop(0) if feed.script else 200
                events = json.loads(body)
                request = feed._record("POST", self, events, step)
                if step == "hang":
                    feed.release.wait(30)
                    with feed.changed:
                        request["answer"] = step = 200  # stored, if late: a lost answer
                if step == "html":
                    self._answer(200, b"<html>please log in</html>", "text/html")
                elif step == "other":
                    self._answer(200, b'{"error": "not this"}', "application/json")
                elif step == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "/hub/login")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    answer = {"accepted": len(events), "duplicates": 0}
                    self._answer(step, json.dumps(answer).encode(), "application/json")

            def _answer(self, status, body, kind):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (a hanging answer)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request, client_address):  # quiet
                pass

        self.server = Server(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}{ROUTE}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def _record(self, method, handler, events, answer) -> dict:
        request = {
            "method": method,
            "path": handler.path,
            "headers": dict(handler.headers),
            "events": events,
            "answer": answer,
        }
        with self.changed:
            self.requests.append(request)
            self.changed.notify_all()
        return request

    def answer_again(self):
        """A hanging service recovers: held requests are answered, new ones at once."""
        with self.changed:
            self.script.clear()
        self.release.set()

    def posts(self) -> list[dict]:
        with self.changed:
            return [r for r in self.requests if r["method"] == "POST"]

    def acknowledged(self) -> list[dict]:
        """The events of every POST the service stored (answered 200), in order."""
        return [e for r in self.posts() if r["answer"] == 200 for e in r["events"]]

    def wait_for(self, condition, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
            return True

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def log(tmp_path, monkeypatch):
    """A learner under a hub: a log in a temporary home, a token, quick retries."""
    path = tmp_path / "home" / ".dl-course" / "progress.jsonl"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(path))
    monkeypatch.setenv(classfeed.TOKEN_ENV, TOKEN)
    monkeypatch.delenv(classfeed.FEED_ENV, raising=False)
    monkeypatch.setattr(classfeed, "FIRST_RETRY", 0.05)
    monkeypatch.setattr(classfeed, "MAX_RETRY", 0.2)
    yield path
    classfeed._forget()  # the next test starts with nothing to send


@pytest.fixture()
def feeds():
    started: list[Feed] = []

    def start(port: int = 0, script: list | None = None) -> Feed:
        started.append(Feed(port, script))
        return started[-1]

    yield start
    for feed in started:
        feed.stop()


def relu(x):
    return np.maximum(x, 0)


def timed_check(answer=relu) -> float:
    """Seconds one exercise check took, logging and notifying included."""
    start = time.perf_counter()
    checks.check_relu(answer)
    return time.perf_counter() - start


def logged(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def ids(events: list[dict]) -> list[str]:
    return [e.get("id") or "solution:" + e["solution"] for e in events]


def test_every_line_arrives_with_the_students_token(log, feeds, monkeypatch):
    feed = feeds()
    monkeypatch.setenv(classfeed.FEED_ENV, feed.url)
    checks.check_relu(relu)
    checks.check_relu(None)
    checks.confirm(checks.check_relu(lambda x: np.maximum(x, 0)))
    assert classfeed.flush(10, log)
    assert feed.acknowledged() == logged(log)  # exactly the dicts the log holds, in order
    assert len(logged(log)) == 4 and "solution" in logged(log)[-1]
    for request in feed.posts():
        assert request["path"] == ROUTE
        assert request["headers"]["Authorization"] == f"token {TOKEN}"
        assert request["headers"]["Content-Type"].startswith("application/json")
    assert classfeed.backlog(log) == 0
    mark = json.loads((log.parent / "progress.sent").read_text())
    assert mark["offset"] == log.stat().st_size and TOKEN not in json.dumps(mark)
    # Acknowledged lines are not sent again.
    before = len(feed.posts())
    assert classfeed.flush(10, log) and len(feed.posts()) == before


@pytest.mark.parametrize("missing", [classfeed.FEED_ENV, classfeed.TOKEN_ENV])
def test_a_learner_alone_sends_nothing(log, feeds, monkeypatch, missing):
    feed = feeds()
    monkeypatch.setenv(classfeed.FEED_ENV, feed.url)
    monkeypatch.delenv(missing)
    checks.check_relu(relu)
    checks.check_relu(None)
    assert len(logged(log)) == 2  # today's local log, as before
    assert not (log.parent / "progress.sent").exists()
    assert classfeed.backlog(log) == 0 and classfeed.flush(5, log)
    assert str(log) not in classfeed._targets
    # Under a hub the same log is sent whole, in one request: nothing went out before.
    monkeypatch.setenv(classfeed.FEED_ENV, feed.url)
    monkeypatch.setenv(classfeed.TOKEN_ENV, TOKEN)
    checks.check_relu(relu)
    assert classfeed.flush(10, log)
    assert len(feed.posts()) == 1 and feed.acknowledged() == logged(log)


def test_a_feed_that_is_not_http_is_ignored(log, monkeypatch):
    monkeypatch.setenv(classfeed.FEED_ENV, f"file://{log.parent}/stolen")
    assert checks.check_relu(relu).ok
    assert str(log) not in classfeed._targets and classfeed.flush(5, log)


def test_a_backlog_queued_while_the_service_is_down_arrives_when_it_is_back(
    log, feeds, monkeypatch
):
    port = free_port()
    monkeypatch.setenv(classfeed.FEED_ENV, f"http://127.0.0.1:{port}{ROUTE}")
    took = [timed_check(relu if i % 2 else None) for i in range(6)]
    assert max(took) < FAST, took
    assert classfeed.backlog(log) == 6
    assert not classfeed.flush(0.3, log)  # nobody answers: still queued
    assert classfeed.backlog(log) == 6
    feed = feeds(port)  # the service is back on the same port; no check runs
    assert feed.wait_for(lambda: len(feed.acknowledged()) >= 6), feed.requests
    assert classfeed.flush(10, log)
    assert ids(feed.acknowledged()) == ids(logged(log))  # none lost, order kept


def test_a_later_check_wakes_a_sender_that_waits_to_retry(log, feeds, monkeypatch):
    monkeypatch.setattr(classfeed, "FIRST_RETRY", 600.0)  # its own retry is far away
    monkeypatch.setattr(classfeed, "MAX_RETRY", 600.0)
    port = free_port()
    monkeypatch.setenv(classfeed.FEED_ENV, f"http://127.0.0.1:{port}{ROUTE}")
    checks.check_relu(relu)
    with classfeed._cond:  # the first attempt failed: the next is due in 10 minutes
        assert classfeed._cond.wait_for(
            lambda: classfeed._targets[str(log)].failures >= 1, timeout=10
        )
    feed = feeds(port)
    checks.check_relu(None)  # the next check sends both lines at once
    assert feed.wait_for(lambda: len(feed.acknowledged()) >= 2)
    assert ids(feed.acknowledged()) == ids(logged(log))


def test_errors_redirects_and_login_pages_are_not_acknowledgements(log, feeds, monkeypatch, capfd):
    feed = feeds(script=[500, 503, "redirect", "html", "other", 401])
    monkeypatch.setenv(classfeed.FEED_ENV, feed.url)
    took = []
    for i in range(4):
        took.append(timed_check(relu if i % 2 else lambda x: x))
        assert feed.wait_for(lambda n=i: len(feed.posts()) > n)  # each one failed or sent
    assert max(took) < FAST, took
    assert classfeed.flush(15, log)
    assert ids(feed.acknowledged()) == ids(logged(log))
    # Every failed batch reached the service (stored, maybe) and was sent again: a
    # duplicate is possible, a loss is not.
    assert len(feed.posts()) >= 7
    assert not [r for r in feed.requests if r["method"] == "GET"], "a redirect was followed"
    assert capfd.readouterr() == ("", ""), "nothing printed into the notebook"


def test_a_hanging_service_never_slows_a_check(log, feeds, monkeypatch, capfd):
    monkeypatch.setattr(classfeed, "TIMEOUT", 0.5)
    feed = feeds(script=["hang"] * 1000)
    monkeypatch.setenv(classfeed.FEED_ENV, feed.url)
    took = [timed_check()]
    assert feed.wait_for(lambda: len(feed.posts()) >= 1)  # the thread is stuck in it
    took += [timed_check(relu if i % 3 else None) for i in range(10)]
    assert feed.wait_for(lambda: len(feed.posts()) >= 2)  # it gave up, and tries again
    took += [timed_check(relu if i % 3 else None) for i in range(10)]
    assert max(took) < FAST, took
    assert not classfeed.flush(0.2, log)
    feed.answer_again()
    assert classfeed.flush(15, log)
    # Requests held past the timeout were stored but their answer came too late: those
    # lines were sent again (duplicates), and none is missing.
    assert set(ids(feed.acknowledged())) == set(ids(logged(log))) and len(logged(log)) == 21
    assert capfd.readouterr() == ("", "")


def test_a_check_under_a_hub_takes_no_longer_than_alone(log, feeds, monkeypatch):
    feed = feeds()
    monkeypatch.setenv(classfeed.FEED_ENV, feed.url)
    took = [timed_check() for _ in range(20)]
    assert max(took) < FAST, took
    assert classfeed.flush(10, log)
    assert ids(feed.acknowledged()) == ids(logged(log))


def run_kernel(log: Path, url: str, code: str) -> None:
    """Python code in a new process of the same student (another kernel, a restart)."""
    env = {
        **os.environ,
        "COURSE_PROGRESS_FILE": str(log),
        classfeed.FEED_ENV: url,
        classfeed.TOKEN_ENV: TOKEN,
    }
    prelude = (
        "from helpers import classfeed, progress\n"
        "from helpers.checks import Feedback\n"
        "def check(name, ok=True):\n"
        "    progress.log_check('01', name, Feedback(ok, 'message for ' + name))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", prelude + code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and not out.stdout and not out.stderr, out.stderr


def test_acknowledged_lines_are_not_sent_again_after_a_restart(log, feeds):
    feed = feeds()
    run_kernel(log, feed.url, "check('a'); check('b')\nassert classfeed.flush(10)")
    assert [e["check"] for e in feed.acknowledged()] == ["a", "b"]
    run_kernel(log, feed.url, "check('c')\nassert classfeed.flush(10)")
    run_kernel(log, feed.url, "assert classfeed.flush(10, progress.log_path())")
    assert [e["check"] for e in feed.acknowledged()] == ["a", "b", "c"]  # no duplicate
    assert classfeed.backlog(log) == 0


def test_a_new_process_sends_what_an_earlier_one_left(log, feeds):
    port = free_port()
    url = f"http://127.0.0.1:{port}{ROUTE}"
    run_kernel(log, url, "check('a'); check('b')\nassert not classfeed.flush(0.2)")
    feed = feeds(port)
    run_kernel(log, url, "check('c')\nassert classfeed.flush(10)")
    assert [e["check"] for e in feed.acknowledged()] == ["a", "b", "c"]


def test_two_kernels_of_one_student_lose_nothing(log, feeds):
    feed = feeds()
    env = {
        **os.environ,
        "COURSE_PROGRESS_FILE": str(log),
        classfeed.FEED_ENV: feed.url,
        classfeed.TOKEN_ENV: TOKEN,
    }
    code = (
        "import sys\n"
        "from helpers import classfeed, progress\n"
        "from helpers.checks import Feedback\n"
        "for i in range(40):\n"
        "    progress.log_check('01', f'{sys.argv[1]}{i}', Feedback(True, 'ok'))\n"
        "assert classfeed.flush(20)\n"
    )
    kernels = [
        subprocess.Popen([sys.executable, "-c", code, name], env=env, cwd=ROOT)
        for name in ("k1-", "k2-")
    ]
    assert [k.wait(timeout=120) for k in kernels] == [0, 0]
    assert set(ids(feed.acknowledged())) == set(ids(logged(log)))
    assert len(logged(log)) == 80


def test_a_partial_last_line_waits_for_its_newline(log, feeds, monkeypatch):
    feed = feeds()
    monkeypatch.setenv(classfeed.FEED_ENV, feed.url)
    checks.check_relu(relu)
    with open(log, "a", encoding="utf-8") as fh:
        fh.write('{"id": "later", "chapter": "01", "check": "check_relu", ')
    classfeed.notify(log)
    assert classfeed.flush(10, log)
    assert len(feed.acknowledged()) == 1 and classfeed.backlog(log) == 0
    with open(log, "a", encoding="utf-8") as fh:
        fh.write('"attempted": true, "ok": true}\n')
        fh.write("not json, cut short by a full disk\n[1, 2]\n")  # passed over
    checks.check_relu(None)
    assert classfeed.flush(10, log)
    sent = feed.acknowledged()
    assert [e["id"] for e in sent] == [logged_id(log, 0), "later", logged_id(log, 4)]
    assert sent[1] == {
        "id": "later",
        "chapter": "01",
        "check": "check_relu",
        "attempted": True,
        "ok": True,
    }


def logged_id(log: Path, n: int) -> str:
    return json.loads(log.read_text(encoding="utf-8").splitlines()[n])["id"]


def test_a_replaced_or_cleared_log_is_sent_again_from_its_start(log, feeds, monkeypatch):
    feed = feeds()
    monkeypatch.setenv(classfeed.FEED_ENV, feed.url)
    for _ in range(3):
        checks.check_relu(relu)
    assert classfeed.flush(10, log)
    sent = ids(feed.acknowledged())
    log.unlink()  # the learner starts over: a new, shorter log (maybe with the same inode)
    checks.check_relu(None)
    assert classfeed.flush(10, log)
    sent += ids(logged(log))
    assert ids(feed.acknowledged()) == sent
    classfeed._forget()  # a new process: the new log's mark is on disk, nothing goes again
    posts = len(feed.posts())
    assert classfeed.flush(10, log) and len(feed.posts()) == posts
    for _ in range(4):
        checks.check_relu(None)
    assert classfeed.flush(10, log)
    sent += ids(logged(log))[1:]
    assert ids(feed.acknowledged()) == sent
    log.write_text("")  # cleared in place (same inode), then one line
    (log.parent / "progress.sent").write_text("not a mark")  # and a broken mark
    checks.check_relu(relu)
    assert classfeed.flush(10, log)
    assert ids(feed.acknowledged()) == sent + ids(logged(log))


def test_long_logs_go_in_batches_in_order(log, feeds, monkeypatch):
    feed = feeds()
    monkeypatch.setenv(classfeed.FEED_ENV, feed.url)
    log.parent.mkdir(parents=True)
    small = [{"id": f"s{i}", "chapter": "01", "check": "check_relu"} for i in range(1100)]
    big = [{"id": f"b{i}", "feedback": "x" * 1900} for i in range(300)]
    log.write_text("".join(json.dumps(e) + "\n" for e in small + big), encoding="utf-8")
    classfeed.notify(log)
    assert classfeed.flush(20, log)
    assert feed.acknowledged() == small + big
    for request in feed.posts():
        body = json.dumps(request["events"]).encode()
        assert len(request["events"]) <= classfeed.BATCH_LINES
        assert len(body) <= classfeed.BATCH_BYTES + 1000
    assert len(feed.posts()) >= 5


def test_a_line_too_long_for_any_batch_is_passed_over(log, feeds, monkeypatch):
    """No line the course writes comes near this; a hand-made one must not block the rest
    (the class page would refuse its batch again and again)."""
    feed = feeds()
    monkeypatch.setenv(classfeed.FEED_ENV, feed.url)
    checks.check_relu(relu)
    limit = classfeed.BATCH_BYTES
    with open(log, "a", encoding="utf-8") as fh:
        for size in (limit - 1, limit, limit + 1, 3 * limit):  # with its newline: size + 1
            start = f'{{"id": "long{size}", "pad": "'
            fh.write(start + "x" * (size - len(start) - 2) + '"}\n')
    checks.check_relu(None)
    with open(log, "ab") as fh:
        fh.write(b'{"id": "unfinished", "pad": "' + b"y" * (2 * limit))  # not whole yet
    classfeed.notify(log)
    assert classfeed.flush(10, log)
    sent = [e["id"] for e in feed.acknowledged()]
    assert sent == [logged_id(log, 0), f"long{limit - 1}", logged_id(log, 5)]
    with open(log, "ab") as fh:
        fh.write(b'"}\n')
    checks.check_relu(relu)
    assert classfeed.flush(10, log)
    assert [e["id"] for e in feed.acknowledged()][3:] == [logged_id(log, 7)]


def test_retries_wait_longer_and_longer_up_to_thirty_seconds(monkeypatch):
    monkeypatch.setattr(classfeed, "FIRST_RETRY", 1.0)
    monkeypatch.setattr(classfeed, "MAX_RETRY", 30.0)
    assert [classfeed._delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]
    assert classfeed._delay(10_000) == 30


def test_notify_and_flush_never_raise(log, monkeypatch, tmp_path):
    monkeypatch.setenv(classfeed.FEED_ENV, f"http://127.0.0.1:{free_port()}{ROUTE}")
    classfeed.notify(None)
    classfeed.notify(tmp_path / "no such folder" / "progress.jsonl")  # no log: nothing to send
    assert classfeed.flush(5, tmp_path / "no such folder" / "progress.jsonl")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    classfeed.notify(blocker / "progress.jsonl")
    assert classfeed.backlog(blocker / "progress.jsonl") == 0
    assert classfeed.sent_path(Path("x/progress.jsonl")) == Path("x/progress.sent")
    assert classfeed.sent_path(Path("x/log.sent")) == Path("x/log.sent.sent")
