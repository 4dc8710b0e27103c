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
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from classroom import accounts, cgroups, isolation, studentenv
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


def warnings_for(settings: Settings, route: isolation.Route) -> list[str]:
    """What the teacher must know before the class signs in."""
    said = []
    if route.isolation == "shared":
        why = f" ({route.why_not})" if route.why_not else ""
        said.append(
            f"WARNING: the students are not kept apart{why}: "
            f"{isolation.SHARED_RISKS.format(user=isolation._me())}. Use this only for one "
            "learner or a class whose members you trust with each other's work and the "
            "teacher's password."
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
    isolation.check_memory_floor(args.mem)
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
    route = isolation.choose(len(roster), args.shared_account)
    prefix = args.account_prefix
    planned: dict[str, accounts.Account] = {}
    if route.isolation == "accounts":
        isolation.check_reachable(folder)
        planned = accounts.plan([*roster, teacher], prefix)
        accounts.check_existing(planned.values(), folder / "homes")
        studentenv.interpreter()  # one the students can run exists (the build comes later)
    # Every check passed: from here on the folder is written.
    folder.mkdir(parents=True, exist_ok=True)
    data = copy_data(source, files, folder)
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
        internal_ports={name: free_port() for name in ("hub", "proxy_api", "site", "live")},
        spawner=route.spawner,
        isolation=route.isolation,
        account_prefix=prefix,
        pids=args.pids,
        accounts={name: planned[name].name for name in roster} if planned else {},
    )
    (folder / "state").mkdir(exist_ok=True)
    (folder / "homes").mkdir(exist_ok=True)
    if route.isolation == "accounts":
        isolation.lock_down(folder)
        accounts.ensure(planned.values(), folder / "homes")
        settings.student_env = str(studentenv.build(Path(args.student_env)))
        if route.spawner == "local":
            settings.cgroup_parent = isolation.class_group(folder, prefix)
    save_passwords(folder, passwords[0], passwords[1])  # the hub's config reads them there
    settings.save(folder)
    return folder, settings, passwords, warnings_for(settings, route)


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


def remove_class_groups(settings: Settings) -> None:
    """The class's control groups, once its processes are gone (none when there were none)."""
    if not settings.cgroup_parent:
        return
    found = cgroups.detect()
    if not isinstance(found, str):
        cgroups.remove_tree(found, settings.cgroup_parent)


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
        remove_class_groups(settings)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if stopping else code
