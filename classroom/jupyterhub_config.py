"""JupyterHub's settings for a classroom, read from the folder ``classroom start`` prepared.

JupyterHub loads this file (``jupyterhub -f``); ``COURSE_CLASSROOM_DIR`` names the
classroom folder, whose ``classroom.json`` and ``secrets.json`` hold the
checked settings (see ``settings.py``). The rules a student's server gets (sign-in,
limits, environment, first page, timeouts, culling) come from ``policy.py``, which
``kubernetes.py`` translates for the Zero to JupyterHub chart: this file applies them, and
adds only what a hub on one machine needs (ports, the spawner, the services).
"""

# ruff: noqa: F821 - `c` is provided by JupyterHub when it loads this file

import json
import os
import pwd
import sys
from pathlib import Path

from classroom import accounts, hubexit, policy
from classroom.settings import SECRETS_NAME, Settings, chapter_notebooks
from classroom.spawner import CourseAuthenticator, give_chapters

# First, before JupyterHub starts its services and the students' servers: a hub started in the
# background inherits Ctrl-C ignored, and its services would too, so that every stop waited
# 30 s for each of them (hubexit.py).
if restored := hubexit.answer_interrupts():
    print(
        f"The hub acts on {' and '.join(restored)} again (they came in ignored).", file=sys.stderr
    )

FOLDER = Path(os.environ["COURSE_CLASSROOM_DIR"])
SETTINGS = Settings.load(FOLDER)
SECRETS = json.loads((FOLDER / SECRETS_NAME).read_text(encoding="utf-8"))
# The rules every deployment shares (policy.py); this file only applies them.
SIGN_IN = policy.sign_in(SETTINGS, SECRETS["class_password"], SECRETS["teacher_password"])
LIMITS = policy.limits(SETTINGS)
ROOT = Path(SETTINGS.course_root)
BIN = Path(sys.executable).parent
STATE = FOLDER / "state"
HOMES = FOLDER / "homes"
PORTS = SETTINGS.internal_ports
# "accounts": each student's server runs as their own account (the hub is root), from the
# students' read-only environment (studentenv.py). "shared": every server runs as the hub's
# account, from its own .venv (a learner alone, or a teacher's explicit --shared-account).
ISOLATED = SETTINGS.isolation == "accounts"
PREFIX = SETTINGS.account_prefix
SERVER_BIN = Path(SETTINGS.student_env) / "venv" / "bin" if ISOLATED else BIN
LAB_SETTINGS = Path(SETTINGS.student_env) / "lab_settings" if ISOLATED else ROOT / "lab_settings"

# --- where it listens ------------------------------------------------------------------------
scheme = "https" if SETTINGS.ssl_cert else "http"
c.JupyterHub.bind_url = f"{scheme}://{SETTINGS.ip}:{SETTINGS.port}/"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{PORTS['hub']}"
if SETTINGS.ssl_cert:
    c.JupyterHub.ssl_cert = SETTINGS.ssl_cert
    c.JupyterHub.ssl_key = SETTINGS.ssl_key
# The proxy: configurable-http-proxy's pure-Python version (no Node needed).
c.ConfigurableHTTPProxy.command = [str(BIN / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORTS['proxy_api']}"
# Its API token comes from CONFIGPROXY_AUTH_TOKEN, which hub.py sets anew at every start.
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every student's server
c.JupyterHub.cleanup_proxy = True

# --- state, kept across restarts ---------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")

# --- who may sign in ---------------------------------------------------------------------------
c.JupyterHub.authenticator_class = CourseAuthenticator  # the shared password, names as read
c.SharedPasswordAuthenticator.user_password = SIGN_IN.class_password
c.SharedPasswordAuthenticator.admin_password = SIGN_IN.teacher_password
c.Authenticator.allowed_users = set(SIGN_IN.students)
c.Authenticator.admin_users = {SIGN_IN.teacher}
c.Authenticator.allow_existing_users = SIGN_IN.allow_existing_users
c.JupyterHub.template_vars = {"announcement_login": policy.LOGIN_NOTE}

# --- each student's server ----------------------------------------------------------------------
if ISOLATED and SETTINGS.spawner == "systemd":
    # One systemd unit per student, run as the student's account, with systemd's limits.
    c.JupyterHub.spawner_class = "classroom.spawner.CourseSystemdSpawner"
    c.CourseSystemdSpawner.account_prefix = PREFIX
    c.SystemdSpawner.username_template = "{USERNAME}"  # expanded to the account's name
    c.SystemdSpawner.unit_name_template = "dl-course-{USERNAME}"
    c.SystemdSpawner.isolate_tmp = True
    c.SystemdSpawner.disable_user_sudo = True
    c.SystemdSpawner.unit_extra_properties = {"TasksMax": str(LIMITS.pids), "MemorySwapMax": "0"}
elif ISOLATED:
    # The student's own account, in a control group with the memory, CPU and process caps.
    c.JupyterHub.spawner_class = "classroom.spawner.CourseSpawner"
    c.CourseSpawner.account_prefix = PREFIX
    c.CourseSpawner.cgroup_parent = SETTINGS.cgroup_parent
    c.CourseSpawner.memory_bytes = LIMITS.memory_bytes
    c.CourseSpawner.cpus = LIMITS.cpus
    c.CourseSpawner.pids = LIMITS.pids
else:
    # --shared-account: every server runs as this account; nothing separates the students.
    c.JupyterHub.spawner_class = "simple"
c.Spawner.mem_limit = LIMITS.memory_bytes
c.Spawner.cpu_limit = LIMITS.cpus
c.Spawner.cmd = [str(SERVER_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = policy.first_page([p.name for p in chapter_notebooks(ROOT)])
c.Spawner.args = [
    f"--LabApp.app_settings_dir={LAB_SETTINGS}",  # no news pop-up, as in `lab`
    *policy.server_arguments(),
]
if os.geteuid() == 0 and not ISOLATED:  # Jupyter refuses to run as root without it
    c.Spawner.args.append("--allow-root")
c.Spawner.http_timeout = policy.START_SECONDS
c.Spawner.start_timeout = policy.START_SECONDS
c.Spawner.environment = {
    **policy.server_environment(SETTINGS, SETTINGS.data_dir),
    "COURSE_CLASSROOM": str(FOLDER),  # marks every process of this classroom (see hub.py)
}
if ISOLATED:  # the students' environment first; nothing of the hub's account on the path
    c.Spawner.environment["PATH"] = f"{SERVER_BIN}:/usr/local/bin:/usr/bin:/bin"


def copy_course(spawner):
    """Give a student the chapters they do not have yet; never overwrite one they have."""
    if ISOLATED:
        entry = pwd.getpwnam(accounts.account_name(spawner.user.name, PREFIX))
        home = Path(entry.pw_dir)
        give_chapters(home, chapter_notebooks(ROOT), entry.pw_uid, entry.pw_gid)
    else:
        home = HOMES / accounts.folder_name(spawner.user.name)
        home.mkdir(parents=True, exist_ok=True)
        give_chapters(home, chapter_notebooks(ROOT))
        spawner.home_dir = str(home)
    spawner.notebook_dir = str(home)


c.Spawner.pre_spawn_hook = copy_course

# --- housekeeping --------------------------------------------------------------------------------
services = [
    {
        "name": "idle-culler",
        "command": [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={policy.culling(SETTINGS)['timeout']}",
            f"--cull-every={policy.culling(SETTINGS)['every']}",
        ],
        "environment": {"COURSE_CLASSROOM": str(FOLDER)},
    }
]
roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]
if SETTINGS.site_dir and (Path(SETTINGS.site_dir) / "index.html").is_file():
    # The course website, read-only, at /services/course-site/ (no sign-in needed).
    www = STATE / "www" / "services"
    www.mkdir(parents=True, exist_ok=True)
    link = www / "course-site"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(SETTINGS.site_dir, target_is_directory=True)
    services.append(
        {
            "name": "course-site",
            "url": f"http://127.0.0.1:{PORTS['site']}",
            "command": [
                sys.executable,
                "-m",
                "http.server",
                str(PORTS["site"]),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(STATE / "www"),
            ],
            "environment": {"COURSE_CLASSROOM": str(FOLDER)},
            "display": True,
        }
    )
# --- the live class page (classroom/liveview.py): the hub's admins only ------------------------
LIVE_URL = f"http://127.0.0.1:{PORTS['live']}"
services.append(
    {
        "name": "class",
        "url": LIVE_URL,
        "command": [sys.executable, "-m", "classroom.liveview", "--folder", str(FOLDER)],
        # JupyterHub passes a service neither PATH nor PYTHONPATH of its own.
        "environment": {"COURSE_CLASSROOM": str(FOLDER), "PYTHONPATH": str(ROOT)},
        "oauth_no_confirm": True,  # part of the hub: no "authorize this service?" page
        "display": True,  # listed in the hub's menu for those who may open it: the admins
    }
)
roles.append(
    {
        "name": "class-page",
        "scopes": ["list:users", "read:users:activity", "read:servers"],
        "services": ["class"],
    }
)
# Students' kernels post their checks straight to the service (not through the proxy), with
# their own token; the teacher's kernels are not on the roster and send nothing.
c.Spawner.environment["COURSE_CLASS_FEED"] = lambda spawner: (
    f"{LIVE_URL}/services/class/api/events" if spawner.user.name in SETTINGS.roster else ""
)
c.JupyterHub.services = services
c.JupyterHub.load_roles = roles
