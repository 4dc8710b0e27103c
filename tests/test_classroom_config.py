"""The hub's settings for each route, read from jupyterhub_config.py without starting a hub.

The config file is executed as JupyterHub would, with a traitlets ``Config`` as ``c``, on a
classroom folder written by hand: the accounts route with control groups, the accounts route
where systemd runs the machine, and ``--shared-account``. What matters is who a student's
server runs as, and from which environment.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from classroom import accounts
from classroom.settings import Settings, save_passwords

pytest.importorskip(
    "jupyterhub",
    reason="the classroom hub is not installed (`python3 course.py test` installs it)",
)

CONFIG = Path(__file__).resolve().parent.parent / "classroom" / "jupyterhub_config.py"


def load_config(tmp_path: Path, monkeypatch, **settings) -> Config:
    folder = tmp_path / "class"
    (folder / "homes").mkdir(parents=True)
    base = dict(
        roster=["kim minjun", "김민준"],
        data_dir=str(tmp_path / "data"),
        internal_ports={"hub": 1, "proxy_api": 2, "site": 3, "live": 4},
    )
    Settings(**{**base, **settings}).save(folder)
    save_passwords(folder, "class-pass-2026", "t" * 40)
    monkeypatch.setenv("COURSE_CLASSROOM_DIR", str(folder))
    c = Config()
    runpy.run_path(str(CONFIG), init_globals={"c": c})
    return c


def test_accounts_and_control_groups(tmp_path, monkeypatch):
    env = tmp_path / "env"
    c = load_config(
        tmp_path,
        monkeypatch,
        isolation="accounts",
        spawner="local",
        cgroup_parent="dl-course-x-12345678",
        student_env=str(env),
        mem="2G",
        cpus=1.5,
        pids=300,
    )
    assert c.JupyterHub.spawner_class == "classroom.spawner.CourseSpawner"
    assert c.CourseSpawner.cgroup_parent == "dl-course-x-12345678"
    assert (c.CourseSpawner.memory_bytes, c.CourseSpawner.cpus, c.CourseSpawner.pids) == (
        2 * 1024**3,
        1.5,
        300,
    )
    assert c.Spawner.cmd == [str(env / "venv" / "bin" / "jupyterhub-singleuser")]
    assert "--allow-root" not in c.Spawner.args, "a student's server never runs as root"
    assert c.Spawner.environment["PATH"].startswith(str(env / "venv" / "bin"))
    assert c.Authenticator.allowed_users == {"kim minjun", "김민준"}


def test_the_systemd_route_runs_each_student_as_their_own_account(tmp_path, monkeypatch):
    c = load_config(
        tmp_path, monkeypatch, isolation="accounts", spawner="systemd", student_env="/opt/x"
    )
    assert c.JupyterHub.spawner_class == "classroom.spawner.CourseSystemdSpawner"
    assert c.SystemdSpawner.unit_extra_properties["TasksMax"] == "256"
    spawner_module = pytest.importorskip("classroom.spawner")
    spawner = spawner_module.CourseSystemdSpawner.__new__(spawner_module.CourseSystemdSpawner)
    spawner.user = SimpleNamespace(name="김민준", id=7)
    spawner.account_prefix = "jupyter-"
    expanded = spawner._expand_user_vars(c.SystemdSpawner.username_template)
    assert expanded == accounts.account_name("김민준") != "root"
    assert spawner._expand_user_vars(c.SystemdSpawner.unit_name_template).isascii()


def test_the_shared_account_route(tmp_path, monkeypatch):
    c = load_config(tmp_path, monkeypatch, isolation="shared")
    assert c.JupyterHub.spawner_class == "simple"
    assert "CourseSpawner" not in c and "CourseSystemdSpawner" not in c
