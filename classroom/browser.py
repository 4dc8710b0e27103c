"""Debian's Chromium, driven by Playwright: where it is and how it is started.

Shared by the browser tests and the live page's benchmark. Playwright's own browser download
needs the internet; the course uses the system's Chromium instead (``apt-get install
chromium``), or the one ``COURSE_CHROMIUM`` names.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """The Chromium to drive, or None when there is none."""
    for candidate in (
        os.environ.get("COURSE_CHROMIUM"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        "/usr/bin/chromium",
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def launch_options() -> dict:
    """Keyword arguments for Playwright's ``chromium.launch`` (headless, no sandbox: root)."""
    return {
        "headless": True,
        "chromium_sandbox": False,
        "args": [flag for flag in FLAGS if flag != "--headless"],
    }


def sign_in(page, base: str, name: str, password: str, then: str = "hub/home") -> None:
    """Sign ``name`` in on the hub's own page, then wait until ``then`` (a hub path) is open."""
    from urllib.parse import quote

    page.goto(f"{base}hub/login?next={quote('/' + then, safe='')}")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(f"**/{then.rstrip('/')}**")
