"""JupyterHub's settings for a classroom, read from the folder ``classroom start`` prepared.

JupyterHub loads this file (``jupyterhub -f``); ``COURSE_CLASSROOM_DIR`` names the
classroom folder, whose ``classroom.json`` and ``secrets.json`` hold the
checked settings (see ``settings.py``). Nothing here is specific to one
machine: the same settings appear, translated, in ``kubernetes.py``.
"""

# ruff: noqa: F821 - `c` is provided by JupyterHub when it loads this file

import json
import os
import shutil
import sys
from pathlib import Path

from classroom.settings import chapter_notebooks

FOLDER = Path(os.environ["COURSE_CLASSROOM_DIR"])
S = json.loads((FOLDER / "classroom.json").read_text(encoding="utf-8"))
SECRETS = json.loads((FOLDER / "secrets.json").read_text(encoding="utf-8"))
ROOT = Path(S["course_root"])
BIN = Path(sys.executable).parent
STATE = FOLDER / "state"
HOMES = FOLDER / "homes"
PORTS = S["internal_ports"]
CPUS = max(1, round(S["cpus"]))

# --- where it listens ------------------------------------------------------------------------
scheme = "https" if S["ssl_cert"] else "http"
c.JupyterHub.bind_url = f"{scheme}://{S['ip']}:{S['port']}/"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{PORTS['hub']}"
if S["ssl_cert"]:
    c.JupyterHub.ssl_cert = S["ssl_cert"]
    c.JupyterHub.ssl_key = S["ssl_key"]
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
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = SECRETS["class_password"]
c.SharedPasswordAuthenticator.admin_password = SECRETS["teacher_password"]
c.Authenticator.allowed_users = set(S["roster"])
c.Authenticator.admin_users = {S["teacher"]}
c.Authenticator.allow_existing_users = False  # a name taken off the roster can no longer sign in
c.JupyterHub.template_vars = {
    "announcement_login": "Sign in with your name as the class list spells it, and the "
    "class password your teacher gives you.",
}

# --- each student's server ----------------------------------------------------------------------
if S.get("spawner") == "systemd":
    # Enforced limits, one systemd unit per student (see README: not testable without systemd).
    c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
    c.SystemdSpawner.username_template = os.environ.get("USER") or "root"
    c.SystemdSpawner.user_workingdir = str(HOMES / "{USERNAME}")
    c.SystemdSpawner.isolate_tmp = True
    c.SystemdSpawner.disable_user_sudo = True
else:
    # All servers run as this account: nothing limits memory or separates students' files.
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.home_dir_template = str(HOMES / "{username}")
c.Spawner.mem_limit = S["mem"]
c.Spawner.cpu_limit = float(S["cpus"])
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab/tree/00_start_here.ipynb"
c.Spawner.args = [
    f"--LabApp.app_settings_dir={ROOT / 'lab_settings'}",  # no news pop-up, as in `lab`
    "--ZMQChannelsWebsocketConnection.iopub_data_rate_limit=5000000",
]
if os.geteuid() == 0:  # e.g. a container run as root: Jupyter refuses to start without it
    c.Spawner.args.append("--allow-root")
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
c.Spawner.environment = {
    "COURSE_DATA_DIR": S["data_dir"],
    "COURSE_CLASSROOM": str(FOLDER),  # marks every process of this classroom (see hub.py)
    "PYTHONHASHSEED": "0",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    # Each student's TensorFlow uses at most --cpus threads, so 30 kernels do not each
    # start one thread per core of the server.
    "TF_NUM_INTRAOP_THREADS": str(CPUS),
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": str(CPUS),
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}


def copy_course(spawner):
    """Give a student the chapters they do not have yet; never overwrite one they have."""
    home = HOMES / spawner.user.name
    home.mkdir(parents=True, exist_ok=True)
    for notebook in chapter_notebooks(ROOT):
        target = home / notebook.name
        if not target.exists():
            tmp = home / f".{notebook.name}.copying"
            shutil.copyfile(notebook, tmp)
            os.replace(tmp, target)  # a copy cut short never looks like a chapter
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
            f"--timeout={S['idle_minutes'] * 60}",
            "--cull-every=60",
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
if S["site_dir"] and (Path(S["site_dir"]) / "index.html").is_file():
    # The course website, read-only, at /services/course-site/ (no sign-in needed).
    www = STATE / "www" / "services"
    www.mkdir(parents=True, exist_ok=True)
    link = www / "course-site"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(S["site_dir"], target_is_directory=True)
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
c.JupyterHub.services = services
c.JupyterHub.load_roles = roles
