"""`classroom kubernetes`: what can be checked without a cluster.

Kubernetes and Docker do not run on the machines this course is tested on, so the chart is
never installed and the image never built here. What is checked: the values file parses as
YAML and holds the same settings `classroom start` uses (sign-in, roster, teacher, memory and
CPU limits, culling, chapters copied without overwriting, the data); the students' servers
run as the non-root jovyan with no privilege escalation and no capabilities; the process cap
the values cannot hold is stated in them and printed, with the kubelet setting it needs; the
values keep to the keys and types the chart's values.schema.yaml allows (an excerpt below;
the whole schema too when Z2JH_CHART_DIR names a checkout's `jupyterhub/` folder); the
image's build context installs the course's own pins and the hub's own version, and carries
checked data.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest
import yaml

from bench.common import chapter_notebooks
from classroom import cli
from classroom.kubernetes import hub_pin, values, write_deployment
from classroom.settings import ClassroomError, Settings
from conftest import make_tiny_data
from helpers import datasets

ROOT = Path(__file__).resolve().parent.parent
MEM_BYTES = 1500 * 2**20  # --mem 1500M, as `classroom start` reads it

# An excerpt of the Zero to JupyterHub chart's jupyterhub/values.schema.yaml: the keys these
# values use, with the chart's own types (descriptions left out; the `required` lists left
# out too, as the chart's default values.yaml supplies those keys).
# Source: https://github.com/jupyterhub/zero-to-jupyterhub-k8s, jupyterhub/values.schema.yaml
# at commit 48ea50e34daddde55d76e30df6ecd47e4abd4d8e.
# Copyright (c) 2017, Project Jupyter Contributors. BSD-3-Clause licence:
# https://github.com/jupyterhub/zero-to-jupyterhub-k8s/blob/main/LICENSE
SCHEMA_EXCERPT = yaml.safe_load(
    """
$schema: http://json-schema.org/draft-07/schema#
type: object
additionalProperties: false
properties:
  hub:
    type: object
    additionalProperties: false
    properties:
      config:
        type: object
        additionalProperties: false
        patternProperties:
          "^[A-Z].*$":
            type: object
            additionalProperties: true
        properties:
          JupyterHub:
            type: object
            additionalProperties: true
            properties:
              subdomain_host:
                type: string
  proxy:
    type: object
    additionalProperties: false
    properties:
      https:
        type: object
        additionalProperties: false
        properties:
          enabled:
            type: [boolean, "null"]
          type:
            enum: [null, "", letsencrypt, manual, offload, secret]
          manual:
            type: object
            additionalProperties: false
            properties:
              key:
                type: [string, "null"]
              cert:
                type: [string, "null"]
  singleuser:
    type: object
    additionalProperties: false
    properties:
      cpu:
        type: object
        additionalProperties: false
        properties:
          limit:
            type: [number, "null"]
          guarantee:
            type: [number, "null"]
      memory:
        type: object
        additionalProperties: false
        properties:
          limit:
            type: [number, string, "null"]
          guarantee:
            type: [number, string, "null"]
      image:
        type: object
        additionalProperties: false
        required: [name, tag]
        properties:
          name:
            type: string
          tag:
            type: string
      extraEnv:
        type: [object, array]
        additionalProperties: true
      defaultUrl:
        type: [string, "null"]
      fsGid:
        type: [integer, "null"]
      lifecycleHooks:
        type: object
        additionalProperties: false
        properties:
          postStart:
            type: object
            additionalProperties: true
          preStop:
            type: object
            additionalProperties: true
      startTimeout:
        type: [integer, "null"]
      storage:
        type: object
        additionalProperties: false
        properties:
          capacity:
            type: [string, "null"]
      allowPrivilegeEscalation:
        type: [boolean, "null"]
      uid:
        type: [integer, "null"]
  cull:
    type: object
    additionalProperties: false
    properties:
      enabled:
        type: boolean
      timeout:
        type: [integer, "null"]
      every:
        type: [integer, "null"]
"""
)


def notebook_security_context(config: dict) -> dict:
    """The notebook container's securityContext as KubeSpawner builds it from these values.

    The chart passes singleuser.uid and singleuser.allowPrivilegeEscalation to KubeSpawner's
    uid and allow_privilege_escalation (jupyterhub/files/hub/jupyterhub_config.py) and
    hub.config.KubeSpawner on as it is; KubeSpawner's make_pod (kubespawner/objects.py, 7.1.0)
    sets runAsUser, runAsGroup and allowPrivilegeEscalation from uid, gid and
    allow_privilege_escalation, then lays container_security_context over them.
    """
    user = config["singleuser"]
    spawner = config["hub"]["config"].get("KubeSpawner", {})
    context = {}
    if user.get("uid") is not None:
        context["runAsUser"] = user["uid"]
    if spawner.get("gid") is not None:
        context["runAsGroup"] = spawner["gid"]
    if user.get("allowPrivilegeEscalation", False) is not None:
        context["allowPrivilegeEscalation"] = user.get("allowPrivilegeEscalation", False)
    context.update(spawner.get("container_security_context") or {})
    return context


def helm_merge(defaults: dict, given: dict) -> dict:
    """Helm's merge of a chart's values with a values file: maps merge, the rest replaces,
    null removes."""
    merged = copy.deepcopy(defaults)
    for key, value in given.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = helm_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def kubernetes_args(tmp_path: Path, data: Path, out: Path, *extra: str):
    """`classroom kubernetes`'s parsed options (a roster of two, the teacher park)."""
    roster = tmp_path / "students.txt"
    roster.write_text("kim.minjun\nlee.seoyeon\n", encoding="utf-8")
    return cli.parser().parse_args(
        ["kubernetes", "--roster", str(roster), "--data", str(data), "--out", str(out)]
        + ["--teacher", "park", *extra]
    )


@pytest.fixture()
def written(tmp_path, monkeypatch, capsys):  # capsys: a test may read what it printed
    monkeypatch.setenv("COURSE_CLASS_PASSWORD", "class-pass-2026")
    monkeypatch.setenv("COURSE_TEACHER_PASSWORD", "p" * 36)
    data = make_tiny_data(tmp_path / "data")
    datasets.write_sums(data)
    roster = tmp_path / "students.txt"
    roster.write_text("kim.minjun\nlee.seoyeon\n", encoding="utf-8")
    out = tmp_path / "k8s"
    code = cli.main(
        [
            "kubernetes",
            "--roster",
            str(roster),
            "--data",
            str(data),
            "--out",
            str(out),
            "--mem",
            "1500M",
            "--cpus",
            "2",
            "--idle-minutes",
            "45",
            "--teacher",
            "park",
            "--image",
            "registry.example/course:2026-12",
        ]
    )
    assert code == 0
    return out


def test_values_hold_the_classrooms_settings(written):
    values_file = written / "values.yaml"
    assert values_file.stat().st_mode & 0o077 == 0, "it holds passwords: owner only"
    values = yaml.safe_load(values_file.read_text())
    hub = values["hub"]["config"]
    assert hub["JupyterHub"]["authenticator_class"] == "shared-password"
    assert hub["SharedPasswordAuthenticator"] == {
        "user_password": "class-pass-2026",
        "admin_password": "p" * 36,
    }
    assert hub["Authenticator"]["allowed_users"] == ["kim.minjun", "lee.seoyeon"]
    assert hub["Authenticator"]["admin_users"] == ["park"]
    user = values["singleuser"]
    assert user["image"] == {"name": "registry.example/course", "tag": "2026-12"}
    assert user["memory"]["limit"] == MEM_BYTES and user["cpu"]["limit"] == 2.0
    assert user["extraEnv"]["COURSE_DATA_DIR"] == "/srv/course/data"
    assert user["extraEnv"]["TF_NUM_INTRAOP_THREADS"] == "2"
    copy = " ".join(user["lifecycleHooks"]["postStart"]["exec"]["command"])
    assert "cp -n /srv/course/notebooks/" in copy, "chapters copied without overwriting"
    assert values["cull"] == {"enabled": True, "timeout": 45 * 60, "every": 60}


def test_values_cap_memory_and_cpu_as_classroom_start_does(written):
    user = yaml.safe_load((written / "values.yaml").read_text())["singleuser"]
    # --mem 1500M: the limit, and guaranteed too (no student is scheduled short of it).
    assert user["memory"] == {"limit": MEM_BYTES, "guarantee": MEM_BYTES}
    assert user["cpu"]["limit"] == 2.0, "--cpus 2: a CFS quota of two CPUs"
    assert 0 < user["cpu"]["guarantee"] <= user["cpu"]["limit"]


def test_students_servers_run_as_jovyan_never_root(written):
    config = yaml.safe_load((written / "values.yaml").read_text())
    user = config["singleuser"]
    assert user["uid"] == 1000 and user["uid"] != 0
    assert user["fsGid"] == 100
    assert user["allowPrivilegeEscalation"] is False
    spawner = config["hub"]["config"]["KubeSpawner"]
    assert spawner["gid"] == 100
    assert spawner["container_security_context"] == {
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert notebook_security_context(config) == {
        "runAsUser": 1000,
        "runAsGroup": 100,
        "allowPrivilegeEscalation": False,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    # extraPodConfig's securityContext would replace the pod's (and fsGid's fsGroup with it).
    assert "extraPodConfig" not in user
    dockerfile = (written / "image" / "Dockerfile").read_text()
    assert "useradd --create-home --home-dir /home/jovyan --uid 1000 --gid 100 jovyan" in (
        dockerfile
    )
    assert re.search(r"^USER 1000:100$", dockerfile, re.MULTILINE)


def test_the_process_cap_is_stated_and_printed(written, capsys):
    text = (written / "values.yaml").read_text()
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert "#     podPidsLimit: 256" in comments, "--pids defaults to 256, as in start"
    assert "--pids 256" in "\n".join(comments)
    assert "podPidsLimit" not in yaml.safe_dump(yaml.safe_load(text)), "only a comment"
    assert "    podPidsLimit: 256" in capsys.readouterr().err.splitlines()


def test_the_process_cap_follows_pids(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CLASS_PASSWORD", "class-pass-2026")
    monkeypatch.setenv("COURSE_TEACHER_PASSWORD", "p" * 36)
    data = make_tiny_data(tmp_path / "data")
    datasets.write_sums(data)
    args = kubernetes_args(tmp_path, data, tmp_path / "k8s")
    args.pids = 300  # as `--pids 300` gives it
    assert write_deployment(args)[0] == tmp_path / "k8s" / "values.yaml"
    comments = (tmp_path / "k8s" / "values.yaml").read_text().splitlines()
    assert "#     podPidsLimit: 300" in comments
    assert "# (or start their kubelets with --pod-max-pids=300). See" in comments
    printed = capsys.readouterr().err
    assert "    podPidsLimit: 300" in printed.splitlines()
    assert "classroom start --pids 300" in printed


@pytest.mark.parametrize("pids", [0, -1, 2.5])
def test_a_bad_pids_writes_nothing(tmp_path, pids):
    args = kubernetes_args(tmp_path, tmp_path / "data", tmp_path / "k8s")
    args.pids = pids
    with pytest.raises(ClassroomError, match="--pids"):
        write_deployment(args)
    assert not (tmp_path / "k8s").exists()


def classroom_values(tmp_path: Path, ssl: bool) -> dict:
    """values() as YAML gives them to Helm, with and without the school's TLS files."""
    files = None
    if ssl:
        files = (tmp_path / "cert.pem", tmp_path / "key.pem")
        for path in files:
            path.write_text("-----BEGIN PEM-----\n", encoding="utf-8")
    settings = Settings(roster=["kim.minjun"], teacher="park", mem="1500M", cpus=2, idle_minutes=45)
    config = values(settings, "c", "t", "registry.example/course:1", files)
    return yaml.safe_load(yaml.safe_dump(config))


@pytest.mark.parametrize("ssl", [False, True], ids=["http", "https"])
def test_values_keep_to_the_charts_schema(tmp_path, ssl):
    jsonschema = pytest.importorskip("jsonschema")
    config = classroom_values(tmp_path, ssl)
    jsonschema.Draft7Validator(SCHEMA_EXCERPT).validate(config)
    wrong = copy.deepcopy(config)
    wrong["singleuser"]["containerSecurityContext"] = {"runAsNonRoot": True}
    with pytest.raises(jsonschema.ValidationError, match="containerSecurityContext"):
        jsonschema.Draft7Validator(SCHEMA_EXCERPT).validate(wrong)


@pytest.mark.skipif(
    not os.environ.get("Z2JH_CHART_DIR"),
    reason="set Z2JH_CHART_DIR to a zero-to-jupyterhub-k8s checkout's jupyterhub/ folder",
)
@pytest.mark.parametrize("ssl", [False, True], ids=["http", "https"])
def test_values_pass_the_whole_chart_schema(tmp_path, ssl):
    jsonschema = pytest.importorskip("jsonschema")
    chart = Path(os.environ["Z2JH_CHART_DIR"])
    schema = yaml.safe_load((chart / "values.schema.yaml").read_text(encoding="utf-8"))
    defaults = yaml.safe_load((chart / "values.yaml").read_text(encoding="utf-8"))
    merged = helm_merge(defaults, classroom_values(tmp_path, ssl))
    jsonschema.Draft7Validator(schema).validate(merged)


def test_the_image_installs_the_same_pins_and_checked_data(written):
    image = written / "image"
    dockerfile = (image / "Dockerfile").read_text()
    for name in ("requirements/course.lock", "requirements/classroom.lock"):
        assert (image / name).read_bytes() == (ROOT / name).read_bytes()
    assert re.search(
        r"^RUN pip install --require-hashes -r requirements/course.lock "
        r"-r requirements/classroom.lock$",
        dockerfile,
        re.MULTILINE,
    )
    assert hub_pin() in dockerfile
    locked = (ROOT / "requirements/classroom.lock").read_text().splitlines()
    assert f"{hub_pin()} \\" in locked, "the image's hub is the version the teacher's hub runs"
    assert "python -m helpers.datasets verify /srv/course/data" in dockerfile
    assert all(status == "OK" for _, status in datasets.verify(image / "data"))
    chapters = [p.name for p in chapter_notebooks()]
    assert sorted(p.name for p in (image / "notebooks").glob("*.ipynb")) == chapters
    assert (image / "lab_settings" / "overrides.json").is_file()


def test_a_second_run_keeps_the_passwords_and_replaces_the_image(written, monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_CLASS_PASSWORD")
    monkeypatch.delenv("COURSE_TEACHER_PASSWORD")
    before = yaml.safe_load((written / "values.yaml").read_text())["hub"]["config"]
    roster = tmp_path / "students.txt"
    assert (
        cli.main(
            [
                "kubernetes",
                "--roster",
                str(roster),
                "--data",
                str(tmp_path / "data"),
                "--out",
                str(written),
            ]
        )
        == 0
    )
    after = yaml.safe_load((written / "values.yaml").read_text())["hub"]["config"]
    assert after["SharedPasswordAuthenticator"] == before["SharedPasswordAuthenticator"]
    assert not (written / ".image-new").exists()


def test_bad_roster_writes_nothing(tmp_path, capsys):
    roster = tmp_path / "students.txt"
    roster.write_text("a\na\n")
    code = cli.main(["kubernetes", "--roster", str(roster), "--out", str(tmp_path / "k8s")])
    err = capsys.readouterr().err
    assert code == 2 and "roster" in err and "'a'" in err, "the error names the repeated name"
    assert not (tmp_path / "k8s").exists()
