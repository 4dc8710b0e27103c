"""A student's browser, in code: sign in, start a server, run cells in a kernel.

Used by the classroom tests and the classroom benchmark; it talks to the hub
only over HTTP and WebSocket, through the proxy, as a browser does.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests


class SignInError(RuntimeError):
    """The hub refused the sign-in (wrong password, name not on the roster)."""


@dataclass
class Result:
    """What one cell printed and returned, and whether it raised."""

    stdout: str = ""
    text: str = ""  # the execute_result's text/plain
    error: str = ""
    seconds: float = 0.0
    outputs: list[dict] = field(default_factory=list)


class Student:
    """One signed-in user of a hub at ``base`` (e.g. ``http://127.0.0.1:8000/``)."""

    def __init__(self, base: str, name: str, password: str):
        self.base = base if base.endswith("/") else base + "/"
        self.name = name
        self.http = requests.Session()
        self.sign_in(password)

    def url(self, path: str) -> str:
        return urljoin(self.base, path.lstrip("/"))

    def sign_in(self, password: str) -> None:
        page = self.http.get(self.url("hub/login"), timeout=30)
        page.raise_for_status()
        xsrf = self.http.cookies.get("_xsrf", "")
        answer = self.http.post(
            self.url("hub/login"),
            timeout=60,
            allow_redirects=False,
            data={"username": self.name, "password": password, "_xsrf": xsrf},
        )
        if answer.status_code != 302:
            raise SignInError(f"{self.name}: the hub answered {answer.status_code} to the sign-in")

    def cookie(self, name: str, path: str) -> str:
        """The value of cookie ``name`` set for ``path`` ('' if none)."""
        for cookie in self.http.cookies:
            if cookie.name == name and cookie.path.rstrip("/") == path.rstrip("/"):
                return cookie.value or ""
        return ""

    def hub_api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"X-XSRFToken": self.cookie("_xsrf", "/hub/")}
        return self.http.request(
            method, self.url(f"hub/api/{path}"), headers=headers, timeout=60, **kwargs
        )

    def start_server(self, timeout: float = 180) -> None:
        """Start this user's server (as the spawn page does) and wait until it answers."""
        answer = self.hub_api("POST", f"users/{self.name}/server", json={})
        if answer.status_code not in (201, 202, 400):  # 400: already running
            raise RuntimeError(
                f"{self.name}: starting the server gave {answer.status_code}: {answer.text[:200]}"
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            user = self.hub_api("GET", f"users/{self.name}").json()
            server = (user.get("servers") or {}).get("", {})
            if server.get("ready"):
                break
            time.sleep(0.5)
        else:
            raise TimeoutError(f"{self.name}'s server did not start within {timeout:.0f} s")
        # Opening the server's page signs the browser in to it (OAuth with the hub).
        self.get(f"user/{self.name}/").raise_for_status()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.url(path), timeout=60, **kwargs)

    def server_api(
        self, method: str, path: str, user: str | None = None, **kwargs
    ) -> requests.Response:
        """A call to a single-user server's REST API (by default this user's own)."""
        prefix = f"user/{user or self.name}/"
        headers = {"X-XSRFToken": self.cookie("_xsrf", f"/{prefix}")}
        return self.http.request(
            method,
            self.url(prefix + "api/" + path),
            headers=headers,
            timeout=60,
            allow_redirects=False,
            **kwargs,
        )

    def files(self) -> list[str]:
        listing = self.server_api("GET", "contents").json()
        return sorted(item["name"] for item in listing["content"])

    def kernel(self) -> Kernel:
        answer = self.server_api("POST", "kernels", json={"name": "python3"})
        answer.raise_for_status()
        return Kernel(self, answer.json()["id"])


class Kernel:
    """A kernel on the student's server, driven over its WebSocket channel."""

    def __init__(self, student: Student, kernel_id: str):
        self.student = student
        self.id = kernel_id
        self.session = uuid.uuid4().hex

    def run(self, code: str, timeout: float = 600) -> Result:
        return asyncio.run(self._run(code, timeout))

    async def _run(self, code: str, timeout: float) -> Result:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        st = self.student
        url = st.url(f"user/{st.name}/api/kernels/{self.id}/channels").replace("http", "ws", 1)
        cookies = "; ".join(f"{c.name}={c.value}" for c in st.http.cookies)
        request = HTTPRequest(url, headers={"Cookie": cookies}, request_timeout=60)
        conn = await websocket_connect(request)
        msg_id = uuid.uuid4().hex
        conn.write_message(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": st.name,
                        "session": self.session,
                        "msg_type": "execute_request",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "buffers": [],
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": True,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        result, replied, idle = Result(), False, False
        start = time.monotonic()
        try:
            while not (replied and idle):
                left = timeout - (time.monotonic() - start)
                if left <= 0:
                    raise TimeoutError(f"a cell ran longer than {timeout:.0f} s")
                raw = await asyncio.wait_for(conn.read_message(), left)
                if raw is None:
                    raise ConnectionError("the kernel's WebSocket closed")
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    result.stdout += content.get("text", "")
                elif kind in ("execute_result", "display_data"):
                    result.outputs.append(content.get("data", {}))
                    if kind == "execute_result":
                        result.text = content.get("data", {}).get("text/plain", "")
                elif kind == "error":
                    result.error = f"{content.get('ename')}: {content.get('evalue')}"
                elif kind == "status" and content.get("execution_state") == "idle":
                    idle = True
                elif kind == "execute_reply":
                    replied = True
        finally:
            conn.close()
        result.seconds = time.monotonic() - start
        return result
