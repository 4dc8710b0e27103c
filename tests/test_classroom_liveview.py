"""The live class page's service (classroom/liveview.py), in-process, against a fake hub.

A small tornado app stands in for the hub's API: it answers ``GET /hub/api/user`` for a few
tokens (a teacher who is admin, students, a stranger, a service), ``GET /hub/api/users`` for
the server poll, and the two OAuth endpoints, so the service's real ``HubOAuth`` code runs.
Both listen on free ports of 127.0.0.1 in one event loop on a background thread; the tests
speak plain HTTP to them. Every wait polls a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import json
import re
import stat
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

pytest.importorskip(
    "jupyterhub",
    reason="the classroom hub is not installed (`python3 course.py test` installs it)",
)
from jupyterhub.services.auth import HubOAuth  # noqa: E402
from tornado import web  # noqa: E402

from classroom import liveview  # noqa: E402
from classroom.settings import Settings, free_port  # noqa: E402

CATALOGUE = {"01": ["check_relu", "check_glorot_limit"], "02": ["check_gradient"]}
PREFIX = "/services/class/"
ACCESS = "access:services!service=class"
USERS = {
    "teacher-token": {"name": "teacher", "admin": True, "scopes": ["access:services", ACCESS]},
    "alice-token": {"name": "alice", "admin": False, "scopes": ["access:servers!user=alice"]},
    "bob-token": {"name": "bob", "admin": False, "scopes": ["access:servers!user=bob"]},
    "mallory-token": {"name": "mallory", "admin": False, "scopes": []},
    # A student somebody gave the service's access scope: still not an admin.
    "carol-token": {"name": "carol", "admin": False, "scopes": [ACCESS]},
    # An admin whose token lacks the service's access scope (the hub would not issue it).
    "narrow-token": {"name": "teacher", "admin": True, "scopes": ["read:users:name"]},
    "service-token": {"name": "class", "kind": "service", "admin": False, "scopes": [ACCESS]},
}


class FakeHub(web.RequestHandler):
    """The few hub API endpoints the service uses."""

    def initialize(self, harness: Harness) -> None:
        self.harness = harness

    def token(self) -> str:
        return self.request.headers.get("Authorization", "").removeprefix("token ")

    def get(self, what: str) -> None:
        if what == "user":
            model = USERS.get(self.token())
            if model is None:
                raise web.HTTPError(403)
            self.finish({"kind": "user", "groups": [], **model})
        elif what == "users":
            if self.token() != "service-token" or self.harness.hub_broken:
                raise web.HTTPError(500 if self.harness.hub_broken else 403)
            started = self.harness.started
            alice = {"ready": True, "pending": None, "started": started, "last_activity": started}
            items = [{"name": "alice", "servers": {"": alice}}, {"name": "bob", "servers": {}}]
            self.finish({"items": items, "_pagination": {"offset": 0, "next": None}})
        elif what == "oauth2/authorize":  # the teacher is signed in to the hub: say yes
            query = urlencode({"code": "a-code", "state": self.get_argument("state")})
            back = self.get_argument("redirect_uri")
            self.redirect(f"http://127.0.0.1:{self.harness.port}{back}?{query}")

    def post(self, what: str) -> None:
        assert what == "oauth2/token" and self.get_argument("client_secret") == "service-token"
        self.finish({"access_token": "teacher-token", "token_type": "Bearer"})


class Harness:
    """A fake hub and the live class page, on free ports, in an event loop on a thread."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.hub_broken = folder, False
        self.started = datetime.now(UTC).isoformat()  # when alice's server started
        self.hub_port, self.port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}{PREFIX}"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.run(self._start_hub)
        self.run(self.start)

    def run(self, fn: Callable, *args):
        async def call():
            return await fn(*args)

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout=30)

    async def _start_hub(self) -> None:
        app = web.Application([(r"/hub/api/(.*)", FakeHub, {"harness": self})])
        self.hub = app.listen(self.hub_port, address="127.0.0.1")

    async def start(self) -> None:
        auth = HubOAuth(
            api_url=f"http://127.0.0.1:{self.hub_port}/hub/api",
            api_token="service-token",
            oauth_client_id="service-class",
            base_url=PREFIX,
            access_scopes={ACCESS},
            oauth_authorization_url=f"http://127.0.0.1:{self.hub_port}/hub/api/oauth2/authorize",
        )
        self.live, app = liveview.build(self.folder, auth, CATALOGUE)
        self.server = app.listen(self.port, address="127.0.0.1")
        self.task = asyncio.ensure_future(self.live.run(interval=0.1))

    async def stop(self) -> None:
        self.task.cancel()
        self.server.stop()
        await self.server.close_all_connections()

    def restart(self) -> None:
        self.run(self.stop)
        self.run(self.start)

    def close(self) -> None:
        self.run(self.stop)
        self.hub.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def get(self, path: str, token: str | None = "teacher-token", **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {token}"} if token else {}
        return requests.get(self.base + path, headers=headers, timeout=10, **kwargs)

    def send(self, events, token: str | None = "alice-token", **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {token}"} if token else {}
        body = events if isinstance(events, bytes) else json.dumps(events)
        return requests.post(self.base + "api/events", data=body, headers=headers, timeout=10)


@pytest.fixture
def hub(tmp_path):
    Settings(roster=["alice", "bob"], teacher="teacher").save(tmp_path)
    harness = Harness(tmp_path)
    yield harness
    harness.close()


def wait_for(condition: Callable[[], object], timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def line(check="check_relu", ok=False, chapter="01", **extra):
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    ident = f"{check}-{time.monotonic_ns()}"
    return {"t": stamp, "id": ident, "chapter": chapter, "check": check, "attempted": True} | {
        "ok": ok,
        "feedback": "[try again] relu(-1) should be 0",
        **extra,
    }


def test_identity_comes_from_the_token_never_from_the_body(hub):
    forged = line(student="bob", user="bob", name="bob")
    answer = hub.send([forged, line(ok=True)], token="alice-token")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 2, "duplicates": 0, "rejected": 0}
    cells = hub.get("api/state").json()["cells"]
    assert cells["alice"]["01/check_relu"] == {"state": "passed", "attempts": 2}
    assert cells["bob"]["01/check_relu"] == {"state": "not tried", "attempts": 0}
    stored = hub.folder / "state" / "live" / "events.jsonl"
    records = [json.loads(x) for x in stored.read_text(encoding="utf-8").splitlines()]
    assert [r["user"] for r in records] == ["alice", "alice"]
    assert "student" not in records[0]["event"]  # only the fields the page uses are kept
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    again = hub.send([forged], token="alice-token").json()
    assert again == {"accepted": 0, "duplicates": 1, "rejected": 0}


@pytest.mark.parametrize("token", [None, "wrong-token", "mallory-token", "service-token"])
def test_events_need_the_token_of_a_student_on_the_roster(hub, token):
    answer = hub.send([line()], token=token)
    assert answer.status_code == 403
    assert "message" in answer.json()
    assert not (hub.folder / "state" / "live" / "events.jsonl").exists()


def test_bad_bodies_are_refused_and_the_service_lives_on(hub):
    assert hub.send(b"{not json").status_code == 400
    assert hub.send({"id": "x"}).status_code == 400
    assert hub.send(b"[" + b" " * (liveview.MAX_BODY + 10) + b"]").status_code == 413
    answer = hub.send([line(), {"junk": True}, None, line("check_unknown")])
    assert answer.json() == {"accepted": 1, "duplicates": 0, "rejected": 3}
    assert hub.get("api/state").status_code == 200


@pytest.mark.parametrize("path", ["", "live.js", "api/state", "api/stream", "api/student/alice"])
@pytest.mark.parametrize("token", ["alice-token", "carol-token", "narrow-token", "service-token"])
def test_only_admins_may_open_the_page_and_its_api(hub, path, token):
    assert hub.get(path, token=token, allow_redirects=False).status_code == 403
    assert hub.get("report.csv", token=token).status_code == 403


def test_without_signing_in_the_page_sends_to_the_hub_and_the_api_says_403(hub):
    page = hub.get("", token=None, allow_redirects=False)
    assert page.status_code == 302
    assert f"127.0.0.1:{hub.hub_port}/hub/api/oauth2/authorize" in page.headers["Location"]
    assert hub.get("api/state", token=None).status_code == 403


def test_an_admin_sees_state_detail_and_csv(hub):
    hub.send([line(), line()])
    state = hub.get("api/state").json()
    assert state["roster"] == ["alice", "bob"]
    assert state["cells"]["alice"]["01/check_relu"] == {"state": "trying", "attempts": 2}
    assert "3 or more failed attempts" in state["rule"]
    wait_for(lambda: hub.get("api/state").json()["servers"]["alice"]["state"] == "ready")
    servers = hub.get("api/state").json()["servers"]
    assert servers["bob"]["state"] == "stopped"
    assert servers["alice"]["memory"] is None  # this class has no control groups
    detail = hub.get("api/student/alice").json()
    assert detail["last"]["feedback"] == "[try again] relu(-1) should be 0"
    assert detail["server"]["state"] == "ready"
    assert hub.get("api/student/mallory").status_code == 404
    csv = hub.get("report.csv")
    assert csv.headers["Content-Type"].startswith("text/csv")
    rows = csv.text.splitlines()
    assert rows[0] == "student,chapter,check,attempts,passed,last_seen"
    assert rows[1].startswith("alice,01,check_relu,2,no,") and len(rows) == 7
    assert hub.get("", allow_redirects=False).status_code == 200
    bare = requests.get(hub.base.rstrip("/"), allow_redirects=False, timeout=10)
    assert bare.status_code == 301 and bare.headers["Location"] == PREFIX
    page = hub.get("")
    assert page.status_code == 200 and '<table id="grid">' in page.text
    assert "'self'" in page.headers["Content-Security-Policy"]
    assert hub.get("live.js").headers["Content-Type"].startswith("text/javascript")


def test_the_grid_is_the_same_after_a_restart(hub):
    hub.send([line(), line("check_gradient", chapter="02", ok=True)])
    run = line("check_glorot_limit", ok=True)
    hub.send([{"t": run["t"], "solution": run["id"]}])  # the mark first, its call later
    hub.send([run])
    before = hub.get("api/state").json()["cells"]
    assert before["alice"]["01/check_glorot_limit"]["state"] == "solution"
    hub.restart()
    assert hub.get("api/state").json()["cells"] == before
    stored = hub.folder / "state" / "live" / "events.jsonl"
    with open(stored, "a", encoding="utf-8") as fh:
        fh.write('{"user": "alice", "received": "2026-')  # a line cut short by a crash
    hub.restart()
    assert hub.get("api/state").json()["cells"] == before  # the cut line is skipped ...
    assert hub.send([line()], token="alice-token").json()["accepted"] == 1
    hub.restart()  # ... and the next one was written on a line of its own
    assert hub.get("api/state").json()["cells"]["alice"]["01/check_relu"]["attempts"] == 2


def stream(hub, last: str | None = None) -> dict[str, list]:
    """One answer of api/stream, as EventSource reads it: ``{"id": [...], kind: [data ...]}``."""
    headers = {"Authorization": "token teacher-token"} | ({"Last-Event-ID": last} if last else {})
    answer = requests.get(hub.base + "api/stream", headers=headers, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/event-stream")
    found: dict[str, list] = {"id": []}
    for block in answer.text.split("\n\n"):
        fields = dict(x.split(": ", 1) for x in block.splitlines() if ": " in x)
        if "event" in fields:
            found.setdefault(fields["event"], []).append(json.loads(fields["data"]))
            found["id"].append(fields["id"])
    return found


def test_the_stream_sends_the_state_then_each_event_as_it_arrives(hub, monkeypatch):
    wait_for(lambda: hub.live.hub_ok)  # the servers are known: no news until an event
    first = stream(hub)  # no Last-Event-ID: the whole state, at once
    assert first["state"][0]["cells"]["alice"]["01/check_relu"]["state"] == "not tried"
    last = first["id"][-1]
    held: dict[str, dict] = {}
    waiter = threading.Thread(target=lambda: held.update(answer=stream(hub, last)))
    waiter.start()
    wait_for(lambda: hub.live.waiting == 1)  # the page waits for news ...
    sent = time.monotonic()
    for _ in range(3):
        hub.send([line()])
    waiter.join(10)
    assert time.monotonic() - sent < 3  # ... and has it at once
    rows = held["answer"]["row"]
    assert rows[0]["student"] == "alice" and rows[0]["cells"]["01/check_relu"]["state"] == "trying"
    # What came while no request was open is sent on the next one, in order, nothing missed.
    later = stream(hub, held["answer"]["id"][-1])
    seen = rows + later.get("row", [])
    assert [r["cells"]["01/check_relu"]["attempts"] for r in seen] == [1, 2, 3]
    status = (held["answer"]["status"] + later.get("status", []))[-1]
    assert [h["student"] for h in status["needs_help"]] == ["alice"]  # three failures
    # A page with nothing new is answered after the hold, and may ask again.
    monkeypatch.setattr(liveview, "HOLD_SECONDS", 0.2)
    hub.restart()
    wait_for(lambda: hub.live.hub_ok)  # the servers are known again: no status news
    again = stream(hub)
    assert stream(hub, again["id"][-1]) == {"id": []}
    assert "state" in stream(hub, last)  # an id from before the restart: the state again


def test_a_hub_hiccup_is_reported_not_fatal(hub):
    wait_for(lambda: hub.live.hub_ok is True)
    hub.hub_broken = True
    wait_for(lambda: hub.live.hub_ok is False)
    assert hub.get("api/state").json()["hub_ok"] is False
    hub.hub_broken = False
    wait_for(lambda: hub.live.hub_ok is True)


def test_the_browser_signs_in_through_the_hub_and_sends_the_xsrf_token(hub):
    browser = requests.Session()
    page = browser.get(hub.base, timeout=10)  # -> the hub's authorize -> oauth_callback -> page
    assert page.status_code == 200 and page.url == hub.base
    token = re.search(r'<meta name="xsrf" content="([^"]+)"', page.text).group(1)
    fetch = {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin"}  # as fetch() sends
    assert browser.get(hub.base + "api/state", headers=fetch, timeout=10).status_code == 403
    with_token = fetch | {"X-XSRFToken": token}
    assert browser.get(hub.base + "api/state", headers=with_token, timeout=10).status_code == 200
    stream = browser.get(
        hub.base + "api/stream", params={"_xsrf": token}, headers=fetch, stream=True, timeout=10
    )
    assert stream.status_code == 200
    stream.close()
    csv = browser.get(hub.base + "report.csv", timeout=10)  # a download is a navigation
    assert csv.status_code == 200
