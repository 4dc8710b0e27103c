"""The hub's settings for each route, read from jupyterhub_config.py without starting a hub.

The config file is executed as JupyterHub would, with a traitlets ``Config`` as ``c``, on a
classroom folder written by hand: the accounts route with control groups, the accounts route
where systemd runs the machine, and ``--shared-account``. What matters is who a student's
server runs as, and from which environment.

Both deployments apply the same rules (classroom/policy.py): the last tests give one
classroom's settings to the hub's config and to the Kubernetes values, and find the same
sign-in, limits, environment, first page, timeouts and culling in each.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from classroom import accounts, kubernetes, policy
from classroom.settings import Settings, save_passwords

pytest.importorskip(
    "jupyterhub",
    reason="the classroom hub is not installed (`python3 course.py test` installs it)",
)

CONFIG = Path(__file__).resolve().parent.parent / "classroom" / "jupyterhub_config.py"


CLASS_PW, TEACHER_PW = "class-pass-2026", "t" * 40


def classroom_settings(tmp_path: Path, **settings) -> Settings:
    base = dict(
        roster=["kim minjun", "김민준"],
        data_dir=str(tmp_path / "data"),
        internal_ports={"hub": 1, "proxy_api": 2, "site": 3, "live": 4},
    )
    return Settings(**{**base, **settings})


def load_config(tmp_path: Path, monkeypatch, **settings) -> Config:
    folder = tmp_path / "class"
    (folder / "homes").mkdir(parents=True)
    classroom_settings(tmp_path, **settings).save(folder)
    save_passwords(folder, CLASS_PW, TEACHER_PW)
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


SAME_RULES = [
    dict(isolation="accounts", spawner="local", mem="2G", cpus=1.5, pids=300, idle_minutes=45),
    dict(isolation="shared", mem="1500M", cpus=0.5, idle_minutes=5, teacher="park"),
]


@pytest.mark.parametrize("settings", SAME_RULES, ids=["accounts", "shared"])
def test_the_hub_and_kubernetes_apply_the_same_rules(tmp_path, monkeypatch, settings):
    hub = load_config(tmp_path, monkeypatch, student_env=str(tmp_path / "env"), **settings)
    checked = classroom_settings(tmp_path, **settings)
    k8s = kubernetes.values(checked, CLASS_PW, TEACHER_PW, "registry.example/course:1", None)
    helm, user = k8s["hub"]["config"], k8s["singleuser"]
    # Sign-in: the roster, the teacher, the two passwords, nobody left over from before.
    sign_in = policy.sign_in(checked, CLASS_PW, TEACHER_PW)
    assert hub.Authenticator.allowed_users == set(helm["Authenticator"]["allowed_users"])
    assert hub.Authenticator.allowed_users == set(sign_in.students) == set(checked.roster)
    assert hub.Authenticator.admin_users == set(helm["Authenticator"]["admin_users"])
    assert hub.Authenticator.allow_existing_users is helm["Authenticator"]["allow_existing_users"]
    assert hub.Authenticator.allow_existing_users is False
    assert (
        hub.SharedPasswordAuthenticator.user_password
        == (helm["SharedPasswordAuthenticator"]["user_password"])
    )
    assert (
        hub.SharedPasswordAuthenticator.admin_password
        == (helm["SharedPasswordAuthenticator"]["admin_password"])
    )
    assert hub.JupyterHub.template_vars == helm["JupyterHub"]["template_vars"]
    # Limits: memory in bytes and CPUs on both; the process cap where each can set it.
    limits = policy.limits(checked)
    assert hub.Spawner.mem_limit == user["memory"]["limit"] == limits.memory_bytes
    assert hub.Spawner.cpu_limit == user["cpu"]["limit"] == float(settings["cpus"])
    if settings["isolation"] == "accounts":
        assert hub.CourseSpawner.memory_bytes == limits.memory_bytes
        assert hub.CourseSpawner.pids == limits.pids == settings["pids"]
    # The environment: the same variables, apart from what only one deployment knows.
    local_only = {"COURSE_CLASSROOM", "COURSE_CLASS_FEED", "PATH", "COURSE_DATA_DIR"}
    shared = {k: v for k, v in hub.Spawner.environment.items() if k not in local_only}
    assert shared == {k: v for k, v in user["extraEnv"].items() if k != "COURSE_DATA_DIR"}
    assert shared["TF_NUM_INTRAOP_THREADS"] == str(limits.threads)
    assert user["extraEnv"]["COURSE_DATA_DIR"] == "/srv/course/data"
    # The first page, how long a start may take, the server's options and idle culling.
    assert hub.Spawner.default_url == user["defaultUrl"]
    assert hub.Spawner.start_timeout == user["startTimeout"] == policy.START_SECONDS
    assert hub.Spawner.http_timeout == helm["KubeSpawner"]["http_timeout"]
    assert set(policy.server_arguments()) <= set(hub.Spawner.args)
    assert helm["KubeSpawner"]["args"] == policy.server_arguments()
    culler = next(s for s in hub.JupyterHub.services if s["name"] == "idle-culler")
    cull = policy.culling(checked)
    assert f"--timeout={cull['timeout']}" in culler["command"]
    assert f"--cull-every={cull['every']}" in culler["command"]
    assert (k8s["cull"]["timeout"], k8s["cull"]["every"]) == (cull["timeout"], cull["every"])
    assert cull["timeout"] == settings["idle_minutes"] * 60


def test_the_rules_are_plain_functions_of_the_settings(tmp_path):
    checked = classroom_settings(tmp_path, mem="1.5G", cpus=2.4, pids=128, idle_minutes=3)
    assert policy.limits(checked) == policy.Limits(int(1.5 * 1024**3), 2.4, 128)
    assert policy.limits(checked).threads == 2
    assert policy.limits(classroom_settings(tmp_path, cpus=0.25)).threads == 1
    env = policy.server_environment(checked, "/data")
    assert env["COURSE_DATA_DIR"] == "/data" and env["OMP_NUM_THREADS"] == "2"
    assert all(isinstance(v, str) for v in env.values()), "environments hold strings only"
    assert policy.culling(checked) == {"timeout": 180, "every": policy.CULL_EVERY}
    assert policy.first_page(["00_start.ipynb", "01_x.ipynb"]) == "/lab/tree/00_start.ipynb"
    assert policy.sign_in(checked, "a" * 8, "b" * 32).students == ("kim minjun", "김민준")
