"""A learner's first minutes, in a real browser (issue 15).

Starts the course's JupyterLab the way `python3 course.py lab` does (same command, same
config) on a free loopback port with a token, opens a small notebook in headless
Chromium, runs it, and checks that

- the widgets render (no "Error displaying widget") and talk to the kernel both ways:
  moving a slider in the page changes a value in the kernel, which updates a label;
- the course's own explorer (helpers.widgets.neuron_explorer) renders its sliders and plot;
- no "Would you like to get notified about official Jupyter news?" pop-up appears.

Needs Debian's Chromium (`apt-get install chromium`; CI's .ci/run installs it) and the
Python package playwright (requirements/dev.txt). Without them it is skipped with a message
saying so (in CI it fails instead: tests/conftest.py); tests/test_lab_environment.py still
checks the widget versions and the news setting without a browser. Budget: about a minute.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import course
from classroom import browser
from conftest import JUPYTER_DIRS, JUPYTER_SECRETS, free_port
from course import ROOT

CHROMIUM_FLAGS = browser.FLAGS
EXTRA_LAB_ARGS: list[str] = []
NEWS_QUESTION = "Would you like to get notified about official Jupyter news?"
TIMEOUT_MS = 45_000  # any single wait; the whole test takes ~20-40 s on 2 busy cores

pytestmark = pytest.mark.slow  # starts JupyterLab


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except OSError:
        return 0, b""


SMOKE_CELLS = [
    # 1: a plain ipywidgets slider whose value the kernel echoes into a label
    "import ipywidgets as widgets\n"
    'probe = widgets.IntSlider(value=3, min=0, max=10, description="probe")\n'
    'echo = widgets.Label(value="kernel saw 3")\n'
    'probe.observe(lambda change: setattr(echo, "value", f"kernel saw {change[\'new\']}"),\n'
    '              names="value")\n'
    "widgets.VBox([probe, echo])",
    # 2: the course's own explorer from chapter 1
    "import helpers\nfrom helpers.widgets import neuron_explorer\nneuron_explorer()",
]


def _write_notebook(folder: Path) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(src) for src in SMOKE_CELLS]
    nbformat.write(nb, folder / "widget_smoke.ipynb")
    return "widget_smoke.ipynb"


def _broken(area):
    """What ipywidgets shows instead of a widget it cannot render."""
    return area.locator(".jupyter-widgets-error-widget").or_(
        area.get_by_text("Error displaying widget")
    )


def _wait_rendered(area, rendered) -> None:
    """Wait until ``rendered`` shows in ``area``; fail at once if a widget error shows."""
    rendered.or_(_broken(area)).first.wait_for(state="visible")
    if _broken(area).count():
        error = _broken(area).first
        error.click()  # the error widget reveals its JavaScript error on click
        pytest.fail(
            "the JupyterLab widget manager could not render the widget (the front-end "
            "and the kernel's ipywidgets are out of step?): " + error.inner_text()[:600]
        )


@pytest.fixture(scope="module")
def course_lab(tmp_path_factory):
    """The course's JupyterLab, started with the launcher's own command line."""
    tmp_path = tmp_path_factory.mktemp("course_lab")
    port, token = free_port(), secrets.token_hex(16)
    root = tmp_path / "root"
    root.mkdir()
    name = _write_notebook(root)
    extra = [
        "--no-browser",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        *EXTRA_LAB_ARGS,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        extra.append("--allow-root")
    env = {k: v for k, v in os.environ.items() if k not in JUPYTER_SECRETS}
    for var, sub in {**JUPYTER_DIRS, "IPYTHONDIR": "ipython", "MPLCONFIGDIR": "mpl"}.items():
        env[var] = str(tmp_path / sub)
    env.update(course.KERNEL_ENV)
    log_path = tmp_path / "jupyter.log"
    command = course.lab_command(Path(sys.executable), extra)
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while _get(f"{base}/api/status?token={token}")[0] != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                pytest.fail(f"JupyterLab did not start ({' '.join(command)}):\n{tail}")
            time.sleep(0.25)
        yield {"base": base, "token": token, "notebook": name, "log": log_path, "tmp": tmp_path}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


def test_the_running_lab_serves_fetch_news_false(course_lab):
    """What the browser receives from the launcher's server: the news question is off."""
    url = (
        f"{course_lab['base']}/lab/api/settings/@jupyterlab/apputils-extension:"
        f"notification?token={course_lab['token']}"
    )
    status, body = _get(url)
    assert status == 200
    assert json.loads(body)["schema"]["properties"]["fetchNews"]["default"] == "false"


@pytest.mark.browser
def test_widgets_render_and_drive_the_kernel_in_chromium(course_lab, chromium, sync_playwright):
    started = time.monotonic()
    shot = course_lab["tmp"] / "page.png"
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(course_lab["tmp"] / "chromium-profile"),  # a fresh --user-data-dir
            executable_path=chromium,
            headless=True,
            chromium_sandbox=False,
            args=[flag for flag in CHROMIUM_FLAGS if flag != "--headless"],
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.pages[0] if context.pages else context.new_page()
        try:
            page.goto(
                f"{course_lab['base']}/lab/tree/{course_lab['notebook']}"
                f"?token={course_lab['token']}"
            )
            # The notebook is open and its kernel is idle.
            page.wait_for_function(
                "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                " const k = w && w.sessionContext && w.sessionContext.session"
                " && w.sessionContext.session.kernel;"
                " return !!k && k.status === 'idle'; }"
            )
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

            outputs = page.locator(".jp-Notebook .jp-Cell .jp-OutputArea")
            probe = outputs.nth(0).locator(".widget-slider")
            _wait_rendered(outputs.nth(0), probe)
            outputs.nth(0).get_by_text("kernel saw 3", exact=True).wait_for(state="visible")

            # Page -> kernel -> page: a key press moves the slider; the kernel's observer
            # writes the new value into the label.
            handle = probe.first.locator(".noUi-handle, .slider-container [role=slider]").first
            handle.focus()
            page.keyboard.press("ArrowRight")
            outputs.nth(0).get_by_text("kernel saw 4", exact=True).wait_for(state="visible")

            # The course's explorer: 7 sliders, a dropdown and a plot.
            explorer = outputs.nth(1)
            _wait_rendered(explorer, explorer.locator(".widget-output img"))
            assert explorer.locator(".widget-slider").count() >= 7
            assert explorer.locator(".widget-dropdown").count() == 1

            assert _broken(outputs).count() == 0
            assert page.get_by_text(NEWS_QUESTION).count() == 0, "the news pop-up appeared"
        except Exception:
            page.screenshot(path=str(shot))
            log = course_lab["log"].read_text(errors="replace")[-2000:]
            print(f"screenshot: {shot}\nserver log (end):\n{log}")
            raise
        finally:
            context.close()
    assert time.monotonic() - started < 90, "the browser part is far over its budget"
