"""Start a classroom's JupyterHub, and stop it with nothing left behind.

``start()`` checks everything first (``settings.py``), prepares the folder, then
runs JupyterHub in the foreground. Ctrl-C or SIGTERM stops the hub, which stops
the proxy and every student's server; any process of this classroom still alive
after that (found by the ``COURSE_CLASSROOM`` marker in its environment, never
by its name) is stopped by its process id. A restart keeps the accounts (the
hub's database) and the students' files (their homes).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from classroom.settings import (
    ROOT,
    ClassroomError,
    Settings,
    check_folder,
    check_options,
    check_port,
    copy_data,
    free_port,
    load_passwords,
    save_passwords,
    verify_data,
)

CONFIG = Path(__file__).with_name("jupyterhub_config.py")
MARKER = "COURSE_CLASSROOM"


def systemd_available() -> bool:
    """True where systemd runs this machine, so it can enforce per-student limits."""
    return Path("/run/systemd/system").is_dir() and shutil.which("systemd-run") is not None


def warnings_for(settings: Settings, spawner: str) -> list[str]:
    """What the teacher must know before the class signs in."""
    said = []
    if spawner != "systemd":
        said.append(
            "WARNING: this machine does not run systemd, so the students' servers run as "
            "plain processes of this account. Not enforced: the memory limit (--mem "
            f"{settings.mem}; one student's runaway kernel can use up the machine's memory and "
            "stop others' kernels), the CPU limit (--cpus only caps TensorFlow's threads), and "
            "separation between students (code one student runs can read or change another "
            "student's files). For a real class, run this on a Linux server with systemd, "
            "where each student gets an enforced limit, or on Kubernetes (`classroom "
            "kubernetes`)."
        )
    if settings.ip not in ("127.0.0.1", "localhost", "::1") and not settings.ssl_cert:
        said.append(
            f"WARNING: the hub listens on {settings.ip} without TLS: passwords and notebooks "
            "cross the class network unencrypted, readable by anyone on it. Pass a "
            "certificate with --ssl-cert and --ssl-key (or put the hub behind an HTTPS "
            "proxy) when the network is not one you trust."
        )
    return said


def prepare(args) -> tuple[Path, Settings, tuple[str, str, bool], list[str]]:
    """Check every option, then write the classroom folder; nothing is written on error."""
    teacher, roster = check_options(args)
    check_port(args.ip, args.port)
    source = Path(args.data).expanduser().resolve()
    files = verify_data(source)
    folder = check_folder(Path(args.dir))
    pid = running_pid(folder)
    if pid:
        raise ClassroomError(
            f"A classroom is already running from {folder} (process {pid}). Stop it first "
            "(Ctrl-C in its terminal, or `kill` that process id), or pass another --dir."
        )
    passwords = load_passwords(folder)
    # Every check passed: from here on the folder is written.
    folder.mkdir(parents=True, exist_ok=True)
    data = copy_data(source, files, folder)
    spawner = "systemd" if systemd_available() else "local"
    site = Path(args.site or ROOT / "site").resolve()
    settings = Settings(
        roster=roster,
        teacher=teacher,
        ip=args.ip,
        port=args.port,
        mem=args.mem,
        cpus=args.cpus,
        idle_minutes=args.idle_minutes,
        data_dir=str(data),
        ssl_cert=str(Path(args.ssl_cert).resolve()) if args.ssl_cert else "",
        ssl_key=str(Path(args.ssl_key).resolve()) if args.ssl_key else "",
        site_dir=str(site) if (site / "index.html").is_file() else "",
        internal_ports={"hub": free_port(), "proxy_api": free_port(), "site": free_port()},
        spawner=spawner,
    )
    (folder / "state").mkdir(exist_ok=True)
    (folder / "homes").mkdir(exist_ok=True)
    save_passwords(folder, passwords[0], passwords[1])  # the hub's config reads them there
    settings.save(folder)
    return folder, settings, passwords, warnings_for(settings, spawner)


def hub_command() -> list[str]:
    return [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)]


def hub_environment(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "COURSE_CLASSROOM_DIR": str(folder),
            MARKER: str(folder),
            "CONFIGPROXY_AUTH_TOKEN": secrets.token_hex(32),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        }
    )
    return env


def classroom_processes(folder: Path) -> Iterator[int]:
    """The ids of every live process started for this classroom (Linux: /proc)."""
    wanted = f"{MARKER}={folder}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if wanted in environ.split(b"\0"):
            yield int(entry.name)


def running_pid(folder: Path) -> int | None:
    """The hub's process id when a hub of this classroom is alive."""
    pid_file = folder / "state" / "jupyterhub.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid in set(classroom_processes(folder)) else None


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def api_ready(port: int, host: str = "127.0.0.1") -> bool:
    """True once the hub answers its REST API through the proxy (signing in works then)."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{host}:{port}/hub/api/", timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def start_hub_process(folder: Path, stdout=None) -> subprocess.Popen:
    """JupyterHub for this classroom, in its own session (signals reach only it)."""
    return subprocess.Popen(
        hub_command(),
        cwd=folder / "state",
        env=hub_environment(folder),
        stdout=stdout,
        stderr=subprocess.STDOUT if stdout else None,
        start_new_session=True,
    )


def port_answers(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=0.5):
            return True
    except OSError:
        return False


def stop_leftovers(folder: Path, grace: float = 10.0) -> list[int]:
    """SIGTERM, then SIGKILL, every process still marked as this classroom's."""
    pids = list(classroom_processes(folder))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if wait_for(lambda: not list(classroom_processes(folder)), grace):
            break
    return pids


def run_hub(folder: Path, settings: Settings, on_ready: Callable[[], None] | None = None) -> int:
    """Run the hub until it exits or this process gets Ctrl-C / SIGTERM; clean up."""
    proc = start_hub_process(folder)
    stopping = False

    def stop(signum, frame):  # noqa: ARG001 - signal handler signature
        nonlocal stopping
        stopping = True
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        host = "127.0.0.1" if settings.ip in ("0.0.0.0", "::", "") else settings.ip
        if settings.ssl_cert:  # the API check below speaks plain HTTP: wait for the port
            ready = lambda: port_answers(host, settings.port)  # noqa: E731
        else:
            ready = lambda: api_ready(settings.port, host)  # noqa: E731
        if wait_for(lambda: proc.poll() is not None or ready(), 60):
            if proc.poll() is None and on_ready:
                on_ready()
        while proc.poll() is None:
            try:
                proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        code = proc.returncode
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stop_leftovers(folder)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if stopping else code
