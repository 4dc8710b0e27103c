"""The classroom server (issue 18): a real JupyterHub on loopback, driven over HTTP.

`python3 course.py classroom start` runs on free ports with a two-student roster and tiny
data; then two students and the teacher sign in, a kernel reached through the proxy runs a
course check, the report shows who passed it, a student is kept out of another's server,
wrong passwords and strangers are refused, and an edited notebook survives a restart. After
each stop no process of the classroom is left and its ports are free.

Every wait polls a condition (a port, an API answer) with a deadline; nothing sleeps a fixed
time. About a minute on two busy cores.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from bench.common import chapter_notebooks
from classroom import hub as hub_module
from classroom.client import SignInError, Student
from classroom.settings import free_port
from conftest import make_tiny_data
from helpers import datasets

ROOT = Path(__file__).resolve().parent.parent
CLASS_PW = "class-pass-2026"
TEACHER_PW = "t" * 8 + "-teacher-password-long-enough-32"
STUDENTS = ["alice", "bob"]


class Classroom:
    """A classroom started with the launcher's own command, stopped by its process id."""

    def __init__(self, tmp: Path):
        self.dir = tmp / "class"
        self.roster = tmp / "students.txt"
        self.roster.write_text("\n".join(STUDENTS) + "\n", encoding="utf-8")
        self.data = make_tiny_data(tmp / "data")
        datasets.write_sums(self.data)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.log = tmp / "hub.log"
        self.site = tmp / "site"  # a stand-in for the built course website
        self.site.mkdir()
        (self.site / "index.html").write_text("<h1>course map</h1>", encoding="utf-8")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        """Start it the teacher's way (the launcher installs the hub the first time)."""
        env = dict(os.environ, COURSE_CLASS_PASSWORD=CLASS_PW, COURSE_TEACHER_PASSWORD=TEACHER_PW)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "course.py"),
                    "classroom",
                    "start",
                    "--roster",
                    str(self.roster),
                    "--dir",
                    str(self.dir),
                    "--port",
                    str(self.port),
                    "--data",
                    str(self.data),
                    "--idle-minutes",
                    "30",
                    "--site",
                    str(self.site),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        ready = hub_module.wait_for(
            lambda: self.proc.poll() is not None or hub_module.api_ready(self.port), 240
        )
        if not ready or self.proc.poll() is not None:
            self.stop()
            pytest.fail(f"the hub did not come up; its log ends:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def ports(self) -> list[int]:
        settings = json.loads((self.dir / "classroom.json").read_text())
        return [self.port, *settings["internal_ports"].values()]

    def stop(self) -> None:
        """SIGTERM, as a service manager or Ctrl-C would send; wait for a clean exit."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        hub_module.stop_leftovers(self.dir.resolve())  # never leave a test's processes behind


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    room = Classroom(tmp_path_factory.mktemp("classroom"))
    room.start()
    yield room
    room.stop()


@pytest.fixture(scope="module")
def signed_in(classroom):
    alice = Student(classroom.base, "alice", CLASS_PW)
    bob = Student(classroom.base, "bob", CLASS_PW)
    for student in (alice, bob):
        student.start_server()
    return alice, bob


def test_students_and_the_teacher_sign_in(classroom, signed_in):
    teacher = Student(classroom.base, "teacher", TEACHER_PW)
    users = teacher.hub_api("GET", "users")
    assert users.status_code == 200, "the teacher is an admin and can list the class"
    assert {u["name"] for u in users.json()} >= {"alice", "bob", "teacher"}
    alice, _ = signed_in
    assert alice.hub_api("GET", "users").status_code == 403, "a student is not an admin"


def test_each_student_has_the_chapters(signed_in):
    chapters = [p.name for p in chapter_notebooks()]
    for student in signed_in:
        assert [f for f in student.files() if f.endswith(".ipynb")] == chapters


def test_a_kernel_runs_course_code_and_the_report_shows_who_passed(classroom, signed_in):
    alice, bob = signed_in
    kernel = alice.kernel()
    result = kernel.run(
        "import helpers, numpy as np\nfrom helpers import checks\n"
        "checks.check_relu(lambda x: np.maximum(x, 0))",
        timeout=300,
    )
    assert result.error == "" and result.text.startswith("[ok]"), result
    data_dir = kernel.run("import os; print(os.environ['COURSE_DATA_DIR'])").stdout.strip()
    assert Path(data_dir) == (classroom.dir / "data").resolve(), "one shared copy of the data"
    bob.kernel().run("from helpers import checks\nchecks.check_relu(None)")

    csv_path = classroom.dir.parent / "report.csv"
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "course.py"),
            "classroom",
            "report",
            "--dir",
            str(classroom.dir),
            "--csv",
            str(csv_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    rows = {
        (r[0], r[2]): r for r in (line.split(",") for line in csv_path.read_text().splitlines()[1:])
    }
    header = csv_path.read_text().splitlines()[0]
    assert header.startswith("student,chapter,check,attempts,passed,last_seen")
    assert rows[("alice", "check_relu")][3:5] == ["1", "yes"]
    assert rows[("bob", "check_relu")][3:5] == ["0", "no"], "bob only ran the empty exercise"
    assert "alice: 1 of" in out.stdout and "chapter 01: passed 1 (relu)" in out.stdout
    assert "bob: 0 of" in out.stdout


def test_a_student_cannot_reach_another_students_server(signed_in):
    alice, bob = signed_in
    assert alice.server_api("GET", "contents", user="bob").status_code == 403
    page = alice.get("user/bob/lab")
    assert page.status_code == 403, "bob's server let alice in"


def test_a_student_works_in_chromium(classroom, signed_in, tmp_path):
    """Sign in through the hub's page, see the chapters in JupyterLab, run chapter 01."""
    from test_browser_widgets import CHROMIUM_FLAGS, _chromium, _playwright

    chromium, sync_playwright = _chromium(), _playwright()
    _, bob = signed_in
    name = "01_neurons_and_activations.ipynb"
    # Clear one output in bob's copy, so the page can only show it by running the cell.
    notebook = bob.server_api("GET", f"contents/{name}").json()["content"]
    cell = next(c for c in notebook["cells"] if "z = w @ x + b" in "".join(c["source"]))
    expected = "".join(cell["outputs"][0]["text"]).splitlines()[-1]
    cell["outputs"], cell["execution_count"] = [], None
    bob.server_api(
        "PUT", f"contents/{name}", json={"type": "notebook", "format": "json", "content": notebook}
    ).raise_for_status()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium,
            headless=True,
            chromium_sandbox=False,
            args=[f for f in CHROMIUM_FLAGS if f != "--headless"],
        )
        page = browser.new_page()
        page.set_default_timeout(90_000)
        try:
            page.goto(classroom.base)
            page.fill("#username_input", "bob")
            page.fill("#password_input", CLASS_PW)
            page.click("#login_submit")
            page.wait_for_url("**/user/bob/lab/**")
            listing = page.locator(".jp-DirListing-content")
            for chapter in ("00_start_here.ipynb", name, "08_chatbot_engine.ipynb"):
                listing.get_by_text(chapter, exact=True).wait_for(state="visible")

            page.goto(f"{classroom.base}user/bob/lab/tree/{name}")
            notebook_view = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
            notebook_view.get_by_role("heading", name="The neuron and its activation").wait_for()
            page.get_by_text("| Idle").first.wait_for()  # the kernel has started
            notebook_view.locator(".jp-Cell").first.click()
            page.keyboard.press("Escape")
            for _ in range(4):  # title, set-up cell, text, the neuron's cell
                page.keyboard.press("Shift+Enter")
            notebook_view.locator(".jp-OutputArea-output").get_by_text(expected).wait_for()
            assert (
                notebook_view.locator(
                    ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                ).count()
                == 0
            )
        except Exception:
            page.screenshot(path=str(tmp_path / "classroom.png"))
            print(f"screenshot: {tmp_path / 'classroom.png'}")
            raise
        finally:
            browser.close()


def test_the_hub_also_serves_the_course_website(classroom):
    page = requests.get(classroom.base + "services/course-site/index.html", timeout=30)
    assert page.status_code == 200 and "course map" in page.text


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("alice", "not-the-class-password"),  # wrong password
        ("mallory", CLASS_PW),  # not on the roster
        ("teacher", CLASS_PW),  # the teacher needs the teacher's password
    ],
)
def test_wrong_passwords_and_strangers_are_refused(classroom, name, password):
    with pytest.raises(SignInError):
        Student(classroom.base, name, password)


def test_work_survives_a_restart_and_a_stop_leaves_nothing(classroom, signed_in):
    alice, _ = signed_in
    name = "01_neurons_and_activations.ipynb"
    notebook = alice.server_api("GET", f"contents/{name}").json()
    notebook["content"]["cells"][0]["source"] = "# alice was here"
    saved = alice.server_api(
        "PUT",
        f"contents/{name}",
        json={"type": "notebook", "format": "json", "content": notebook["content"]},
    )
    assert saved.status_code == 200, saved.text

    for round_ in ("restart", "final stop"):
        ports = classroom.ports()
        classroom.stop()
        assert classroom.proc.returncode == 0, classroom.tail()
        left = list(hub_module.classroom_processes(classroom.dir.resolve()))
        assert left == [], f"processes left after the {round_}: {left}"
        for port in ports:
            assert not hub_module.port_answers("127.0.0.1", port), f"port {port} still open"
        if round_ == "restart":
            classroom.start()
            again = Student(classroom.base, "alice", CLASS_PW)
            again.start_server()
            cell = again.server_api("GET", f"contents/{name}").json()["content"]["cells"][0]
            assert cell["source"] == "# alice was here", "the restart overwrote alice's work"
