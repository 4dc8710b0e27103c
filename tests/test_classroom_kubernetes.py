"""`classroom kubernetes`: what can be checked without a cluster.

Kubernetes and Docker do not run on the machines this course is tested on, so the chart is
never installed and the image never built here. What is checked: the values file parses as
YAML and holds the same settings `classroom start` uses (sign-in, roster, teacher, limits,
culling, chapters copied without overwriting, the data); the image's build context installs
the course's own pins and the hub's own version, and carries checked data.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bench.common import chapter_notebooks
from classroom import cli
from classroom.kubernetes import hub_pin
from conftest import make_tiny_data
from helpers import datasets

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def written(tmp_path, monkeypatch):
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
    assert user["memory"]["limit"] == 1500 * 2**20 and user["cpu"]["limit"] == 2.0
    assert user["extraEnv"]["COURSE_DATA_DIR"] == "/srv/course/data"
    assert user["extraEnv"]["TF_NUM_INTRAOP_THREADS"] == "2"
    copy = " ".join(user["lifecycleHooks"]["postStart"]["exec"]["command"])
    assert "cp -n /srv/course/notebooks/" in copy, "chapters copied without overwriting"
    assert values["cull"] == {"enabled": True, "timeout": 45 * 60, "every": 60}


def test_the_image_installs_the_same_pins_and_checked_data(written):
    image = written / "image"
    dockerfile = (image / "Dockerfile").read_text()
    for name in ("requirements.lock", "requirements-classroom.lock"):
        assert (image / name).read_bytes() == (ROOT / name).read_bytes()
    assert re.search(
        r"^RUN pip install --require-hashes -r requirements.lock "
        r"-r requirements-classroom.lock$",
        dockerfile,
        re.MULTILINE,
    )
    assert hub_pin() in dockerfile
    locked = (ROOT / "requirements-classroom.lock").read_text().splitlines()
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
    assert code == 2 and "repeats 'a'" in capsys.readouterr().err
    assert not (tmp_path / "k8s").exists()
