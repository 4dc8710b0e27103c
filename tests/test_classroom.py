"""The classroom server: a real JupyterHub on loopback, driven over HTTP, as root.

`python3 course.py classroom start` runs on free ports with a two-student roster and tiny
data, as these machines run it: as root, so each student gets their own Unix account (a
prefix unique to this run) and control group, and their servers run from the students'
read-only environment (built in a temporary folder). Then two students and the teacher sign
in, a kernel reached through the proxy runs a course check, the report shows who passed it,
a student is kept out of another's server, wrong passwords and strangers are refused, and an
edited notebook survives a restart, even of a student whose account had to be made again.

An attack suite runs on the same hub: from inside
alice's kernel, every way of reaching the hub's secrets, bob's work, bob's kernel or past
the limits is tried and must be refused. After each stop no process and no control group of
the classroom is left and its ports are free; accounts are removed at the end.

Every wait polls a condition (a port, an API answer, a process gone) with a deadline;
nothing sleeps a fixed time. About two minutes on two busy cores, most of it building the
students' environment once.
"""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from bench.common import chapter_notebooks
from classroom import accounts, cgroups
from classroom import hub as hub_module
from classroom.browser import launch_options, sign_in
from classroom.client import SignInError, Student
from classroom.settings import free_port, remove_tree
from conftest import make_tiny_data
from helpers import datasets

ROOT = Path(__file__).resolve().parent.parent
CLASS_PW = "class-pass-2026"
TEACHER_PW = "t" * 8 + "-teacher-password-long-enough-32"
STUDENTS = ["alice", "bob"]
MEM, PIDS = "1G", 128  # the smallest --mem start accepts, so the memory test is quick

# The launcher starts with Ctrl-C (SIGINT) and SIGQUIT ignored, as `nohup`, `cmd &` in a script
# or a CI runner starts it: the hub must act on them all the same (classroom/hubexit.py).
IGNORING_INTERRUPTS = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "signal.signal(signal.SIGQUIT, signal.SIG_IGN); os.execv(sys.executable, sys.argv)",
]
pytestmark = [pytest.mark.hub, pytest.mark.slow]  # one JupyterHub for the module, as root


class Classroom:
    """A classroom started with the launcher's own command, stopped by its process id."""

    def __init__(self, tmp: Path, student_env: Path, prefix: str):
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
        self.student_env = student_env
        self.prefix = prefix
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        """Start it the teacher's way (the launcher installs the hub the first time)."""
        env = dict(os.environ, COURSE_CLASS_PASSWORD=CLASS_PW, COURSE_TEACHER_PASSWORD=TEACHER_PW)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    *IGNORING_INTERRUPTS,
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
                    "--mem",
                    MEM,
                    "--pids",
                    str(PIDS),
                    "--account-prefix",
                    self.prefix,
                    "--student-env",
                    str(self.student_env),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        ready = hub_module.wait_for(
            lambda: self.proc.poll() is not None or hub_module.api_ready(self.port), 600
        )
        if not ready or self.proc.poll() is not None:
            self.stop()
            pytest.fail(f"the hub did not come up; its log ends:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def settings(self) -> dict:
        return json.loads((self.dir / "classroom.json").read_text())

    def ports(self) -> list[int]:
        return [self.port, *self.settings()["internal_ports"].values()]

    def processes(self) -> list[int]:
        """The launcher's process group and every process marked as this classroom's."""
        group = [
            int(p) for p in os.listdir("/proc") if p.isdigit() and _pgid(int(p)) == self.proc.pid
        ]
        return sorted(set(group) | set(hub_module.classroom_processes(self.dir.resolve())))

    def account(self, name: str) -> pwd.struct_passwd:
        return pwd.getpwnam(self.settings()["accounts"][name])

    def groups(self) -> list[Path]:
        """The classroom's control-group folders that exist now."""
        found = cgroups.detect()
        assert not isinstance(found, str), found
        return [p for p in found.group(self.settings()["cgroup_parent"]).paths() if p.is_dir()]

    def command(self, *args: str) -> subprocess.CompletedProcess:
        """``course.py classroom ARGS --dir DIR``, as the teacher runs it; it must succeed."""
        out = subprocess.run(
            [sys.executable, str(ROOT / "course.py"), "classroom", *args, "--dir", str(self.dir)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return out

    def report(self, *extra: str) -> subprocess.CompletedProcess:
        return self.command("report", *extra)

    def stop(self) -> None:
        """SIGTERM, as a service manager or Ctrl-C would send; wait for a clean exit."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                # Say where it hangs before ending it: the failure then names the cause.
                with self.log.open("a") as log:
                    log.write(hang_report(self.processes()))
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        hub_module.stop_leftovers(self.dir.resolve())  # never leave a test's processes behind


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def proc_status(pid: int) -> dict[str, str] | None:
    """The fields of ``/proc/PID/status`` ("State", "SigIgn", ...), or None once it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def hang_report(pids: list[int]) -> str:
    """Each process's state, kernel wait channel and stack, and its Python threads' stacks
    (when py-spy is installed): what a hang needs to be understood, read before the kill."""
    lines = ["", "--- hang report: processes that had not exited ---"]
    for pid in pids:
        proc = Path(f"/proc/{pid}")
        status = proc_status(pid)
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if status is None:
            continue
        lines.append(f"pid {pid} ({status.get('State', '?')}) ppid {status.get('PPid')}: {cmd}")
        for name in ("wchan", "stack"):
            try:
                lines.append(f"  {name}: {(proc / name).read_text().strip()}")
            except OSError as exc:
                lines.append(f"  {name}: unreadable ({exc.strerror})")
        spy = Path(sys.executable).with_name("py-spy")
        if spy.exists():
            try:
                out = subprocess.run(
                    [str(spy), "dump", "--pid", str(pid)],
                    capture_output=True,
                    text=True,
                    timeout=30,
                )
                lines.append(out.stdout + out.stderr)
            except subprocess.TimeoutExpired:
                lines.append("  py-spy dump timed out")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def classroom():
    if os.geteuid() != 0:
        pytest.skip("the classroom's accounts need root (CI and the course's machines are root)")
    # Not pytest's tmp_path: that lives in a folder only root may enter, and the students'
    # accounts must reach their homes.
    tmp = Path(tempfile.mkdtemp(prefix="course-classroom-"))
    tmp.chmod(0o755)
    prefix = f"dlt{uuid.uuid4().hex[:4]}-"  # at most 8 characters
    room = Classroom(tmp, tmp / "student-env", prefix)
    try:
        room.start()
        yield room
    finally:
        try:
            room.stop()
            settings = room.settings() if (room.dir / "classroom.json").exists() else {}
            found = cgroups.detect()
            if settings.get("cgroup_parent") and not isinstance(found, str):
                cgroups.remove_tree(found, settings["cgroup_parent"])
            accounts.remove(accounts.plan([*STUDENTS, "teacher"], prefix).values())
        finally:
            remove_tree(tmp)


@pytest.fixture(scope="module")
def signed_in(classroom):
    alice = Student(classroom.base, "alice", CLASS_PW)
    bob = Student(classroom.base, "bob", CLASS_PW)
    for student in (alice, bob):
        student.start_server()
    return alice, bob


@pytest.fixture(autouse=True)
def no_kernels_left(request):
    """Each test's kernels are shut down after it: they count against --mem and --pids."""
    yield
    if "signed_in" not in request.fixturenames:
        return
    for student in request.getfixturevalue("signed_in"):
        try:
            running = student.server_api("GET", "kernels")
            for kernel in running.json() if running.status_code == 200 else []:
                student.server_api("DELETE", f"kernels/{kernel['id']}")
        except requests.RequestException:
            pass  # the server is down (the restart test): its kernels are gone with it


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
    out = classroom.report("--csv", str(csv_path))
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


def _refused(kernel, code: str) -> str:
    """Run ``code`` (which must raise) in a kernel; the error's type and text."""
    result = kernel.run(code, timeout=120)
    assert result.error, f"this should have been refused, but ran: {code!r} -> {result.stdout!r}"
    return result.error


def test_a_students_kernel_runs_as_their_own_account(classroom, signed_in):
    alice, _ = signed_in
    out = alice.kernel().run("import os, pwd; print(os.geteuid(), pwd.getpwuid(os.geteuid())[0])")
    uid, name = out.stdout.split()
    account = classroom.account("alice")
    assert (int(uid), name) == (account.pw_uid, account.pw_name) and int(uid) != 0
    assert name.startswith(classroom.prefix), "the account carries the class's prefix"
    home = Path(account.pw_dir)
    assert home.stat().st_uid == account.pw_uid and home.stat().st_mode & 0o777 == 0o700


def test_a_student_cannot_reach_the_hubs_secrets(classroom, signed_in):
    alice, _ = signed_in
    kernel = alice.kernel()
    state = classroom.dir / "state"
    for path in (
        classroom.dir / "secrets.json",
        classroom.dir / "classroom.json",
        state / "jupyterhub_cookie_secret",
        state / "jupyterhub.sqlite",
    ):
        assert "PermissionError" in _refused(kernel, f"open({str(path)!r}).read()")
    assert "PermissionError" in _refused(kernel, f"import os; os.listdir({str(classroom.dir)!r})")
    # The hub's own processes (the proxy token and the teacher's password live in their
    # environment) are root's: their environment cannot be read.
    assert "PermissionError" in _refused(
        kernel, f"open('/proc/{classroom.proc.pid}/environ').read()"
    )


def test_a_student_cannot_read_or_change_anothers_work(classroom, signed_in):
    alice, bob = signed_in
    bob.kernel().run("from helpers import checks\nchecks.check_relu(lambda x: x)")  # a log
    bob_home = Path(classroom.account("bob").pw_dir)
    log = bob_home / ".dl-course" / "progress.jsonl"
    assert log.is_file(), "bob's attempt was logged in bob's home"
    before = log.read_bytes()
    kernel = alice.kernel()
    notebook = bob_home / "01_neurons_and_activations.ipynb"
    for code in (
        f"import os; os.listdir({str(bob_home)!r})",
        f"open({str(notebook)!r}).read()",
        f"open({str(notebook)!r}, 'w').write('gone')",
        f"open({str(bob_home / 'planted.txt')!r}, 'w').write('x')",
        # a forged pass in bob's progress log
        f'open({str(log)!r}, \'a\').write(\'{{"chapter": "01", "check": "check_relu", '
        f'"passed": true}}\\n\')',
    ):
        assert "PermissionError" in _refused(kernel, code), code
    assert log.read_bytes() == before, "bob's log is unchanged"
    # Nor can the course, the data or the students' environment be changed.
    for path in (
        Path(classroom.settings()["data_dir"]) / "mnist.npz",
        Path(classroom.settings()["student_env"]) / "venv" / "pyvenv.cfg",
    ):
        error = _refused(kernel, f"open({str(path)!r}, 'a').write('x')")
        assert "PermissionError" in error or "OSError" in error, error


def test_a_student_cannot_reach_anothers_kernel(classroom, signed_in):
    alice, bob = signed_in
    bobs = bob.kernel()
    pid = int(bobs.run("import os; print(os.getpid())").stdout)
    connection = bobs.run(
        "from ipykernel.connect import get_connection_file; print(get_connection_file())"
    ).stdout.strip()
    assert Path(connection).is_file() and Path(connection).stat().st_mode & 0o077 == 0
    kernel = alice.kernel()
    assert "PermissionError" in _refused(kernel, f"open({connection!r}).read()")
    assert "PermissionError" in _refused(
        kernel, f"import os, signal; os.kill({pid}, signal.SIGKILL)"
    )
    assert bobs.run("print(6 * 7)").stdout.strip() == "42", "bob's kernel still answers"


def test_a_student_cannot_reach_anothers_server_around_the_proxy(classroom, signed_in):
    """Bob's server listens on loopback; alice's kernel, on the same machine, calls it directly."""
    import psutil

    alice, _ = signed_in
    bob = classroom.account("bob")
    ports = [
        conn.laddr.port
        for proc in psutil.process_iter(["uids", "cmdline"])
        if proc.info["uids"]
        and proc.info["uids"].real == bob.pw_uid
        and any("jupyterhub-singleuser" in part for part in proc.info["cmdline"] or [])
        for conn in proc.net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN
    ]
    assert ports, "bob's server is listening"
    result = alice.kernel().run(
        "import http.client\n"
        f"c = http.client.HTTPConnection('127.0.0.1', {ports[0]}, timeout=30)\n"
        "c.request('GET', '/user/bob/api/contents')\n"
        "print(c.getresponse().status)"
    )
    assert result.stdout.strip() in ("302", "401", "403"), result


def test_the_limits_hold_and_stay_inside_one_students_group(classroom, signed_in):
    alice, bob = signed_in
    bobs = bob.kernel()
    kernel = alice.kernel()
    # Processes: more than --pids cannot start; the ones that did are stopped again.
    result = kernel.run(
        "import subprocess\nprocs, error = [], ''\n"
        f"for _ in range({PIDS + 20}):\n"
        "    try:\n        procs.append(subprocess.Popen(['sleep', '60']))\n"
        "    except OSError as err:\n        error = type(err).__name__\n        break\n"
        "for p in procs:\n    p.kill(); p.wait()\n"
        "print(len(procs), error)",
        timeout=180,
    )
    started, error = result.stdout.split()
    assert int(started) < PIDS and error in ("BlockingIOError", "OSError"), result
    # Memory: past --mem, alice's kernel dies, and bob's kernel is untouched.
    pid = int(kernel.run("import os; print(os.getpid())").stdout)
    with pytest.raises((TimeoutError, ConnectionError)):
        kernel.run("import numpy as np\nx = np.ones(2 * 1024**3 // 8)\nprint(x.sum())", timeout=90)
    assert hub_module.wait_for(lambda: not Path(f"/proc/{pid}").exists(), 60), "still alive"
    assert bobs.run("print(6 * 7)").stdout.strip() == "42", "bob's kernel still answers"
    assert alice.kernel().run("print(1 + 1)").stdout.strip() == "2", "alice can start again"
    # Each server (and its kernels) is in its student's own group, with the class's caps.
    for name in STUDENTS:
        account = classroom.account(name)
        group = [p for p in classroom.groups()]
        assert group, "the class has control groups while it runs"
        pids = [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _owner(p) == account.pw_uid
        ]
        assert pids, f"{name} has processes"
        for found in pids:
            cgroup = _read(Path(f"/proc/{found}/cgroup"))
            assert classroom.settings()["cgroup_parent"] in cgroup, (name, found, cgroup)


def _owner(proc: Path) -> int | None:
    try:
        return proc.stat().st_uid
    except OSError:
        return None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def test_the_teacher_still_gets_the_true_report(classroom, signed_in):
    """After the attacks: the teacher is still admin, and the report holds only real work."""
    alice, _ = signed_in
    passing = (
        "import numpy as np\nfrom helpers import checks\n"
        "checks.check_relu(lambda x: np.maximum(x, 0))"
    )
    assert alice.kernel().run(passing).text.startswith("[ok]"), "alice's own, real pass"
    teacher = Student(classroom.base, "teacher", TEACHER_PW)
    assert teacher.hub_api("GET", "users").status_code == 200
    out = classroom.report()
    assert f"alice -> {classroom.account('alice').pw_name}" in out.stdout
    assert "chapter 01: passed" in out.stdout and "relu" in out.stdout
    assert "bob: 0 of" in out.stdout, "the pass alice tried to write into bob's log is not there"


@contextmanager
def chromium_page(sync_playwright, chromium: str, screenshot: Path, **page_options):
    """A page in Debian's Chromium; if the test fails in it, a screenshot is saved and named."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, **launch_options())
        page = browser.new_page(**page_options)
        page.set_default_timeout(90_000)
        try:
            yield page
        except Exception:
            page.screenshot(path=str(screenshot))
            print(f"screenshot: {screenshot}")
            raise
        finally:
            browser.close()


@pytest.mark.browser
def test_a_student_works_in_chromium(classroom, signed_in, tmp_path):
    """Sign in through the hub's page, see the chapters in JupyterLab, run chapter 01."""
    from conftest import find_chromium, import_playwright

    chromium, sync_playwright = find_chromium(), import_playwright()
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

    with chromium_page(sync_playwright, chromium, tmp_path / "classroom.png") as page:
        page.goto(classroom.base)  # the hub's own page, as a student finds it
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


LIVE_CHECK = "01/check_relu_derivative"
FAILING = "from helpers import checks\nchecks.check_relu_derivative(lambda z: z)"
PASSING = (
    "import numpy as np\nfrom helpers import checks\n"
    "checks.check_relu_derivative(lambda z: (np.asarray(z) > 0).astype(float))"
)


def live_state(classroom, teacher: Student) -> dict:
    """The page's data, as the teacher's browser gets it (the page first: it signs in)."""
    assert teacher.get("services/class/").status_code == 200
    answer = teacher.get("services/class/api/state")
    assert answer.status_code == 200, answer.status_code
    return answer.json()


def cell_of(state: dict, student: str, key: str = LIVE_CHECK) -> dict:
    return state["cells"].get(student, {}).get(key, {"state": "not tried", "attempts": 0})


def service_pids(classroom) -> list[int]:
    return [
        pid
        for pid in hub_module.classroom_processes(classroom.dir.resolve())
        if b"classroom.liveview" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def ended(pid: int) -> bool:
    """The process is gone, or a zombie: dead, until the hub reaps it at its next poll of the
    service (every 30 s, JupyterHub's ``Spawner.poll_interval``)."""
    status = proc_status(pid)
    return status is None or status["State"].startswith("Z")


def outside_the_browser(kernel, code: str):
    """A kernel call from another thread (Playwright's sync API owns this one's event loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(kernel.run, code).result()


@pytest.mark.browser
def test_the_teacher_watches_the_class_live(classroom, signed_in, tmp_path):
    """The live page in Chromium: a failing, then a passing check appear within 5 s each."""
    from conftest import find_chromium, import_playwright

    chromium, sync_playwright = find_chromium(), import_playwright()
    from playwright.sync_api import expect

    alice, bob = signed_in
    for path in ("services/class/", "services/class/api/state", "services/class/report.csv"):
        assert bob.get(path).status_code == 403, f"a student opened {path}"
    kernel = alice.kernel()
    kernel.run("from helpers import checks")  # imported before the clock starts
    with chromium_page(
        sync_playwright, chromium, tmp_path / "live.png", viewport={"width": 1600, "height": 900}
    ) as page:
        sign_in(page, classroom.base, "teacher", TEACHER_PW, then="services/class/")
        cell = page.locator(f'tr[data-student="alice"] td[data-key="{LIVE_CHECK}"]')
        expect(cell).to_have_text("·")
        expect(page.locator("#conn")).to_have_class("conn on")
        for attempt in (1, 2, 3):
            assert outside_the_browser(kernel, FAILING).text.startswith("[try again]")
            expect(cell).to_have_text(f"✗{attempt}", timeout=5_000)
        help_list = page.locator("#help")
        expect(help_list).to_contain_text("alice", timeout=5_000)  # 3 failures: needs help
        assert outside_the_browser(kernel, PASSING).text.startswith("[ok]")
        expect(cell).to_have_text("✓", timeout=5_000)
        expect(help_list).not_to_contain_text("alice", timeout=5_000)
        page.check("#hide")
        expect(page.locator('tr[data-student="alice"] .who')).to_have_text("#1")


def test_the_live_page_takes_identity_from_the_token_and_loses_nothing(classroom, signed_in):
    alice, bob = signed_in
    teacher = Student(classroom.base, "teacher", TEACHER_PW)
    kernel = alice.kernel()
    token = kernel.run("import os; print(os.environ['JUPYTERHUB_API_TOKEN'])").stdout.strip()
    feed = kernel.run("import os; print(os.environ['COURSE_CLASS_FEED'])").stdout.strip()
    assert token and feed.startswith("http://127.0.0.1:"), "kernels know the page and a token"
    # Alice's token, a message that claims to be bob's pass: recorded as alice's, or refused.
    forged = [
        {
            "t": "2026-12-07T10:00:00+00:00",
            "id": "forged-by-alice",
            "chapter": "01",
            "check": "check_glorot_limit",
            "attempted": True,
            "ok": True,
            "student": "bob",
        }
    ]
    answer = requests.post(
        feed, json=forged, headers={"Authorization": f"token {token}"}, timeout=30
    )
    assert answer.status_code in (200, 403), answer.text
    state = live_state(classroom, teacher)
    assert cell_of(state, "bob", "01/check_glorot_limit")["state"] == "not tried"
    if answer.status_code == 200:  # taken: then as alice's own (self-reported) pass
        assert cell_of(state, "alice", "01/check_glorot_limit")["state"] == "passed"
    refused = requests.post(feed, json=forged, headers={"Authorization": "token x"}, timeout=30)
    assert refused.status_code == 403, "a made-up token is refused"

    # The service stops (here: killed); a check run meanwhile reaches it once it is back.
    before = live_state(classroom, teacher)["cells"]
    [old] = service_pids(classroom)
    os.kill(old, signal.SIGKILL)
    assert hub_module.wait_for(lambda: ended(old), 30), "SIGKILL ends the service"
    assert kernel.run(FAILING).text.startswith("[try again]")  # answered at once all the same
    assert hub_module.wait_for(lambda: service_pids(classroom) not in ([], [old]), 60), (
        "the hub restarts its service"
    )
    after: dict = {}

    def arrived() -> bool:
        nonlocal after
        try:
            after = live_state(classroom, teacher)["cells"]
        except (AssertionError, requests.RequestException, ValueError):
            return False
        return (
            cell_of({"cells": after}, "alice")["attempts"]
            > cell_of({"cells": before}, "alice")["attempts"]
        )

    assert hub_module.wait_for(arrived, 90, interval=1), "the queued check never arrived"
    assert {k: v for k, v in after.items() if k != "alice"} == {
        k: v for k, v in before.items() if k != "alice"
    }, "nothing else changed"


def test_the_teacher_collects_and_resets_a_chapter(classroom, signed_in, tmp_path):
    """On the running class: collect takes alice's saved edit; reset keeps it beside a new copy."""
    alice, _ = signed_in
    name = "02_forward_and_backprop.ipynb"
    notebook = alice.server_api("GET", f"contents/{name}").json()["content"]
    notebook["cells"][0]["source"] = "# alice's own work"
    alice.server_api(
        "PUT", f"contents/{name}", json={"type": "notebook", "format": "json", "content": notebook}
    ).raise_for_status()

    classroom.command("collect", "--chapter", "02", "--out", str(tmp_path))
    [folder] = tmp_path.glob("02-*")
    collected = json.loads((folder / "alice.ipynb").read_text(encoding="utf-8"))
    assert "".join(collected["cells"][0]["source"]) == "# alice's own work"  # lines on disk
    assert "bob" in (folder / "index.csv").read_text(encoding="utf-8")

    classroom.command("reset", "--student", "alice", "--chapter", "02")
    files = alice.files()
    kept = [f for f in files if f.startswith("02_forward_and_backprop.before-reset-")]
    assert len(kept) == 1, files
    old = alice.server_api("GET", f"contents/{kept[0]}").json()["content"]
    assert old["cells"][0]["source"] == "# alice's own work", "the old copy survives the reset"
    fresh = alice.server_api("GET", f"contents/{name}").json()["content"]
    original = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
    assert "".join(fresh["cells"][0]["source"]) == "".join(original["cells"][0]["source"])
    home = Path(classroom.account("alice").pw_dir)
    assert (home / name).stat().st_uid == classroom.account("alice").pw_uid, "hers to edit"


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


def test_every_process_of_the_class_acts_on_ctrl_c(classroom, signed_in):
    """The launcher came in with SIGINT ignored (IGNORING_INTERRUPTS); the hub, its proxy, its
    services and the students' servers act on it all the same. JupyterHub stops each service
    with SIGINT first and waits 30 s before SIGTERM: ignored, a stop took 90 s."""
    ignoring, seen = [], []
    for pid in hub_module.classroom_processes(classroom.dir.resolve()):
        status = proc_status(pid)
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # ended meanwhile
        if status is None:
            continue
        what = " ".join(os.path.basename(part.decode()) for part in command[:3])
        seen.append(what)
        ignored = int(status["SigIgn"], 16)
        if ignored & (1 << (signal.SIGINT - 1)):
            ignoring.append(f"{pid} {what}")
    for part in ("jupyterhub", "configurable-http-proxy", "liveview", "jupyterhub-singleuser"):
        assert any(part in what for what in seen), f"no {part} among the class's processes"
    assert ignoring == [], "these ignore Ctrl-C, so a stop waits 30 s for each"


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

    teacher = Student(classroom.base, "teacher", TEACHER_PW)
    grid = live_state(classroom, teacher)["cells"]
    for round_ in ("restart", "final stop"):
        ports = classroom.ports()
        assert classroom.groups(), "the class has control groups while it runs"
        classroom.stop()
        assert classroom.proc.returncode == 0, classroom.tail(300)
        left = list(hub_module.classroom_processes(classroom.dir.resolve()))
        assert left == [], f"processes left after the {round_}: {left}"
        assert classroom.groups() == [], f"control groups left after the {round_}"
        for port in ports:
            assert not hub_module.port_answers("127.0.0.1", port), f"port {port} still open"
        if round_ == "restart":
            # Alice's account is lost between two classes (say, the server was rebuilt):
            # the next start makes it again and gives her work back to it.
            old_uid = classroom.account("alice").pw_uid
            subprocess.run(["userdel", classroom.account("alice").pw_name], check=True)
            classroom.start()
            account = classroom.account("alice")
            home = Path(account.pw_dir)
            for path in (home, home / name):
                assert path.stat().st_uid == account.pw_uid, f"{path} is not alice's"
            assert account.pw_uid != old_uid, "useradd gave the new account a new uid"
            bob = classroom.account("bob")
            assert Path(bob.pw_dir).stat().st_uid == bob.pw_uid, "bob's home is still his"
            again = Student(classroom.base, "alice", CLASS_PW)
            again.start_server()
            cell = again.server_api("GET", f"contents/{name}").json()["content"]["cells"][0]
            assert cell["source"] == "# alice was here", "the restart overwrote alice's work"
            teacher = Student(classroom.base, "teacher", TEACHER_PW)
            assert live_state(classroom, teacher)["cells"] == grid, "the live grid is kept"
