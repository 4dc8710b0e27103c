"""The live class page: a JupyterHub service that shows the class's progress as it happens.

JupyterHub starts it (``python -m classroom.liveview --folder CLASSROOM_DIR``) and proxies it
at ``/services/class/``. Only the hub's admins may see it: they sign in through the hub
(OAuth); anyone else gets 403. The students' kernels POST their progress-log lines to
``api/events`` with the student's own JupyterHub token, and the service asks the hub whose
token it is: the student's name comes from the hub, never from the message.

Every accepted event is appended to ``FOLDER/state/live/events.jsonl`` before the answer, and
that file is read again at start, so a restart of the service or the hub shows the same grid.
The students' servers (state, last activity) are polled from the hub API with the service's
own token, and their memory is read from their control groups when the class has them.
What the page shows is computed by :mod:`classroom.livemodel`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jupyterhub.services import auth as hub
from tornado import web
from tornado.httpclient import AsyncHTTPClient
from tornado.iostream import StreamClosedError

from classroom import accounts, cgroups
from classroom.livemodel import ClassState, Feed, csv_text, parse_time, server_view
from classroom.settings import ClassroomError, Settings

log = logging.getLogger("classroom.liveview")
STATIC = Path(__file__).with_name("static")
MAX_BODY = 1024 * 1024  # a POST of events larger than this is refused (413)
POLL_SECONDS = 3.0  # how often the hub is asked about servers, and help is worked out again
# The hub's pure-Python proxy hands a response on only once it is complete, and drops one
# that takes over 20 s; so each stream response ends as soon as it has news (or after HOLD
# seconds without), and the page's EventSource reconnects with the Last-Event-ID it has.
HOLD_SECONDS = 10.0
RETRY_MS = 300  # how soon the page's EventSource asks again
BACKLOG = 1000  # messages kept for pages that reconnect; one further behind gets the state
PAGINATED = "application/jupyterhub-pagination+json"
ROLE = "list:users, read:users:activity and read:servers"  # what the service's role needs
Memory = Callable[[str], int | None]


def now() -> datetime:
    return datetime.now(UTC)


class EventStore:
    """The accepted events, one JSON line each, in a folder only the service's account can read."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)
        self.path = folder / "events.jsonl"

    def load(self, state: ClassState) -> tuple[int, int]:
        """Replay the stored events into ``state``: ``(taken, skipped)``; bad lines are skipped."""
        taken = skipped = 0
        if not self.path.is_file():
            return 0, 0
        with open(self.path, "rb") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                    received = parse_time(record["received"]) or now()
                    ok = state.add(record["user"], record["event"], received)
                except (ValueError, KeyError, TypeError):
                    ok = False
                taken, skipped = taken + ok, skipped + (not ok)
            if fh.tell() and not line.endswith(b"\n"):  # a line cut short: end it, keep it apart
                self.append_text("\n")
        return taken, skipped

    def append(self, student: str, events: list[dict[str, Any]], received: datetime) -> None:
        """Append ``events`` (one write, then fsync); raises OSError when it cannot."""
        if not events:
            return
        stamp = received.isoformat()
        text = "".join(
            json.dumps({"user": student, "received": stamp, "event": e}, ensure_ascii=False) + "\n"
            for e in events
        )
        self.append_text(text)

    def append_text(self, text: str) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, text.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)


class Live:
    """The service's state: the class, the stored events, the servers, the open pages."""

    def __init__(
        self,
        state: ClassState,
        store: EventStore,
        hub_api: tuple[str, str] | None,
        memory: tuple[Memory | None, str] | None = None,
    ) -> None:
        """``hub_api``: (API URL, the service's token); ``memory``: :func:`memory_reader`'s."""
        self.state, self.store, self.hub_api = state, store, hub_api
        self.memory, self.memory_note = memory or (None, "")
        self.servers: dict[str, dict[str, Any]] = {s: {"state": "unknown"} for s in state.roster}
        self.hub_ok: bool | None = None
        self.feed = Feed(BACKLOG)
        self.changed = asyncio.Event()  # set (and replaced) at every new message
        self.waiting = 0  # stream requests held open for news
        self._last_status = ""

    def accept(self, student: str, events: list[Any]) -> dict[str, int]:
        """Store, then take, ``student``'s new events; count the rest as duplicates or rejected."""
        new, duplicates, rejected = self.state.triage(student, events)
        received = now()
        self.store.append(student, new, received)  # on disk before anything is answered
        for event in new:
            self.state.add(student, event, received)
        if new:
            self.publish("row", {"student": student, "cells": self.state.row(student)})
            self.refresh(force=True)
        return {"accepted": len(new), "duplicates": duplicates, "rejected": rejected}

    def status(self) -> dict[str, Any]:
        helps = self.state.needs_help(now(), self.servers)
        return {
            "needs_help": [h.as_json() for h in helps],
            "servers": self.servers,
            "hub_ok": self.hub_ok,
            "memory_note": self.memory_note,
        }

    def refresh(self, force: bool = False) -> None:
        """Send the help list and servers to the pages, when they changed (or ``force``)."""
        status = self.status()
        text = json.dumps(status, sort_keys=True)
        if force or text != self._last_status:
            self._last_status = text
            self.publish("status", status)

    def publish(self, kind: str, data: Any) -> None:
        """One message for every page; the stream requests waiting for news get it at once."""
        self.feed.publish(kind, data)
        self.changed.set()
        self.changed = asyncio.Event()

    def student(self, name: str) -> dict[str, Any]:
        return self.state.detail(name) | {"server": self.servers.get(name, {})}

    async def poll_hub(self) -> None:
        """Ask the hub for every user's server; read each running student's memory."""
        if self.hub_api is None:
            return
        api_url, token = self.hub_api
        headers = {"Authorization": f"token {token}", "Accept": PAGINATED}
        users: list[Any] = []
        offset: int | None = 0
        while offset is not None:
            url = f"{api_url.rstrip('/')}/users?offset={offset}&limit=200"
            answer = await AsyncHTTPClient().fetch(url, headers=headers, request_timeout=5)
            data = json.loads(answer.body)
            data = {"items": data} if isinstance(data, list) else data  # an unpaginated hub
            users += data["items"]
            after = (data.get("_pagination") or {}).get("next")
            offset = int(after["offset"]) if after and data["items"] else None
        by_name = {u.get("name"): u for u in users if isinstance(u, dict)}
        for name in self.state.roster:
            server = server_view(by_name.get(name))
            running = self.memory and server["state"] != "stopped"
            server["memory"] = self.memory(name) if running else None  # type: ignore[misc]
            self.servers[name] = server

    async def run(self, interval: float = POLL_SECONDS) -> None:
        """Forever: poll the hub, then refresh the pages; no hiccup ends the loop."""
        while True:
            try:
                await self.poll_hub()
                self.hub_ok = True if self.hub_api else None
            except Exception as err:  # noqa: BLE001 - a hub hiccup must not stop the service
                if self.hub_ok is not False:
                    hint = f" (its role needs {ROLE})" if getattr(err, "code", 0) == 403 else ""
                    log.warning("The hub API did not answer the service: %s%s.", err, hint)
                self.hub_ok = False
            try:
                self.refresh()
            except Exception:  # noqa: BLE001
                log.exception("Could not work out the help list")
            await asyncio.sleep(interval)


class Handler(web.RequestHandler):
    """What every handler shares: the service's state and the hub's authenticator."""

    def initialize(self, live: Live, hub_auth: hub.HubAuth) -> None:
        self.live, self.hub_auth = live, hub_auth

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        message = self._reason
        if "exc_info" in kwargs and isinstance(kwargs["exc_info"][1], web.HTTPError):
            message = kwargs["exc_info"][1].log_message or message
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": status_code, "message": message}))


class AdminHandler(hub.HubOAuthenticated, Handler):
    """Open to the hub's admins only: others get 403; a page sends the signed-out to sign in."""

    page = False

    async def prepare(self) -> None:
        model = await self.hub_auth.get_user(self, sync=False)
        if model is None:
            if self.page and self.request.method in ("GET", "HEAD"):
                self.redirect(self.get_login_url())
                return
            raise web.HTTPError(403, "Sign in to the hub as an admin first.")
        try:
            model = self.check_hub_user(model)
        except hub.UserNotAllowed:
            model = None
        if not model or model.get("kind", "user") != "user" or not model.get("admin"):
            raise web.HTTPError(403, "Only the hub's admins may open the live class page.")
        self.current_user = model
        self.set_header("Cache-Control", "no-store")


class PageHandler(AdminHandler):
    """The page (``live.html``, with this sign-in's XSRF token in it), its script and style."""

    page = True
    TYPES = {"live.js": "text/javascript", "live.css": "text/css"}

    def get(self, name: str) -> None:
        if name:
            self.set_header("Content-Type", f"{self.TYPES[name]}; charset=utf-8")
            self.finish((STATIC / name).read_bytes())
            return
        token = self.xsrf_token
        token = token.decode("ascii") if isinstance(token, bytes) else token
        policy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
        self.set_header("Content-Security-Policy", policy)
        html = (STATIC / "live.html").read_text(encoding="utf-8")
        self.finish(html.replace("{{xsrf}}", web.escape.xhtml_escape(token)))


class StateHandler(AdminHandler):
    def get(self) -> None:
        self.finish(self.live.state.snapshot() | self.live.status())


class StudentHandler(AdminHandler):
    def get(self, name: str) -> None:
        if name not in self.live.state.roster:
            raise web.HTTPError(404, f"{name!r} is not on the roster.")
        self.finish(self.live.student(name))


class CsvHandler(AdminHandler):
    page = True

    def get(self) -> None:
        stamp = now().astimezone().strftime("%Y%m%d-%H%M")
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="class-{stamp}.csv"')
        self.finish(csv_text(self.live.state.csv_rows()))


class StreamHandler(AdminHandler):
    """Server-Sent Events, one batch per response: the page's EventSource asks again at once.

    A request without a known ``Last-Event-ID`` gets the whole state; one with it gets the
    messages since, waiting up to :data:`HOLD_SECONDS` for the next when there are none.
    """

    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("X-Accel-Buffering", "no")
        live = self.live
        last = self.request.headers.get("Last-Event-ID") or self.get_argument("last", "")
        news = live.feed.since(last)
        if news == []:
            live.waiting += 1
            try:
                await asyncio.wait_for(live.changed.wait(), HOLD_SECONDS)
            except TimeoutError:
                pass
            finally:
                live.waiting -= 1
            news = live.feed.since(last)
        if news is None:
            news = [live.feed.message("state", live.state.snapshot() | live.status())]
        try:
            self.finish(f"retry: {RETRY_MS}\n\n" + ("".join(news) or ": nothing new\n\n"))
        except StreamClosedError:
            pass  # the page went away while it waited


@web.stream_request_body
class EventsHandler(Handler):
    """POST a JSON list of progress-log lines, with the student's own hub token."""

    def prepare(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        length = int(self.request.headers.get("Content-Length") or 0)
        if length > 8 * MAX_BODY:  # not even read: the connection is closed after the answer
            raise web.HTTPError(413, f"At most {MAX_BODY} bytes of events per request.")
        self.request.connection.set_max_body_size(8 * MAX_BODY)

    def data_received(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size <= MAX_BODY:
            self.chunks.append(chunk)

    async def post(self) -> None:
        if self.size > MAX_BODY:
            raise web.HTTPError(413, f"At most {MAX_BODY} bytes of events per request.")
        match = hub.HubAuth.auth_header_pat.match(self.request.headers.get("Authorization", ""))
        if not match:
            raise web.HTTPError(403, "Send the student's hub token: Authorization: token ...")
        try:
            model = await self.hub_auth.user_for_token(match.group(1).strip(), sync=False)
        except web.HTTPError as err:
            raise web.HTTPError(503, "The hub did not answer; send the events again.") from err
        if not model or model.get("kind", "user") != "user":
            raise web.HTTPError(403, "That token is not a hub user's token.")
        student = model["name"]
        if student not in self.live.state.roster:
            raise web.HTTPError(403, f"{student!r} is not on the class roster.")
        try:
            events = json.loads(b"".join(self.chunks))
        except ValueError:
            raise web.HTTPError(400, "The body is not JSON: send a list of log lines.") from None
        if not isinstance(events, list):
            raise web.HTTPError(400, "Send a JSON list of progress-log lines.")
        try:
            answer = self.live.accept(student, events)
        except OSError as err:
            log.error("Could not store events: %s", err)
            raise web.HTTPError(503, "The events could not be stored; send them again.") from err
        self.finish(answer)


class Callback(hub.HubOAuthCallbackHandler):
    def initialize(self, live: Live, hub_auth: hub.HubAuth) -> None:  # noqa: ARG002
        self.hub_auth = hub_auth


def make_app(
    live: Live, hub_auth: hub.HubOAuth, prefix: str, cookie_secret: bytes
) -> web.Application:
    """The service's tornado application, every route under ``prefix`` (``/services/class/``)."""
    prefix = "/" + prefix.strip("/") + "/"
    args = {"live": live, "hub_auth": hub_auth}
    routes: list[Any] = [
        (prefix.rstrip("/"), web.RedirectHandler, {"url": prefix}),
        (prefix + r"(|live\.js|live\.css)", PageHandler, args),
        (prefix + "oauth_callback", Callback, args),
        (prefix + "api/state", StateHandler, args),
        (prefix + "api/stream", StreamHandler, args),
        (prefix + "api/student/([^/]+)", StudentHandler, args),
        (prefix + "api/events", EventsHandler, args),
        (prefix + "report.csv", CsvHandler, args),
    ]
    return web.Application(routes, cookie_secret=cookie_secret)


def cookie_secret(folder: Path) -> bytes:
    """The secret that signs the admins' cookies, kept so a restart signs no one out."""
    path = folder / "cookie_secret"
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        secret = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secret.hex())
        return secret


def memory_reader(cgroup_parent: str) -> tuple[Memory | None, str]:
    """How to read a student's memory use, or why it cannot be known."""
    if not cgroup_parent:
        return None, "memory is unknown: the students' servers have no control group of their own"
    found = cgroups.detect()
    if isinstance(found, str):
        return None, f"memory is unknown: {found}"

    def read(name: str) -> int | None:
        try:
            group = found.group(f"{cgroup_parent}/{accounts.folder_name(name)}")
            return group.memory_current()
        except Exception:  # noqa: BLE001 - an unreadable group means "unknown"
            return None

    return read, ""


def build(
    folder: Path, hub_auth: hub.HubOAuth, catalogue: dict[str, list[str]] | None = None
) -> tuple[Live, web.Application]:
    """The service for the classroom in ``folder``, its stored events loaded.

    ``catalogue`` defaults to the course's checks (:func:`helpers.checks.all_checks`).
    Raises :class:`ClassroomError` when ``folder`` holds no classroom.
    """
    from helpers.checks import all_checks

    settings = Settings.load(folder)
    state = ClassState(settings.roster, all_checks() if catalogue is None else catalogue)
    store = EventStore(folder / "state" / "live")
    taken, skipped = store.load(state)
    log.info("Loaded %d stored events (%d skipped) from %s", taken, skipped, store.path)
    memory = memory_reader(settings.cgroup_parent)
    live = Live(state, store, (hub_auth.api_url, hub_auth.api_token), memory)
    app = make_app(live, hub_auth, hub_auth.base_url, cookie_secret(store.path.parent))
    return live, app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classroom.liveview", description=__doc__)
    parser.add_argument("--folder", required=True, type=Path, help="the classroom folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[liveview %(levelname)s] %(message)s")
    url = os.environ.get("JUPYTERHUB_SERVICE_URL", "")
    if not url or not os.environ.get("JUPYTERHUB_API_TOKEN"):
        print(
            "The live class page runs as a JupyterHub service: JupyterHub starts it and sets "
            "JUPYTERHUB_SERVICE_URL, JUPYTERHUB_SERVICE_PREFIX and JUPYTERHUB_API_TOKEN, which "
            "are missing here. Add it to c.JupyterHub.services in classroom/jupyterhub_config.py "
            "and start the classroom with `python3 course.py classroom start`.",
            file=sys.stderr,
        )
        return 2
    try:
        live, app = build(args.folder.expanduser().resolve(), hub.HubOAuth())
    except ClassroomError as err:
        print(err, file=sys.stderr)
        return 2
    where = urlparse(url)

    async def serve() -> None:
        app.listen(where.port or 80, address=where.hostname or "127.0.0.1", xheaders=True)
        log.info("The live class page listens on %s", url)
        await live.run()

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
