"""course.py: set-up is idempotent (no pip when nothing changed) and commands are validated."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def course(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("course_under_test", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "requirements.txt").write_text("numpy==2.4.6\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(module, "STAMP", tmp_path / ".venv" / ".course-installed")
    calls = []

    def fake_run(cmd, check=False, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(module.subprocess, "run", fake_run)
    # Pretend the venv exists, so no real interpreter is created.
    python = module.venv_python()
    python.parent.mkdir(parents=True)
    python.write_text("")
    return module, calls


def test_first_setup_installs_then_second_is_a_no_op(course):
    module, calls = course
    module.setup()
    assert any("-r" in cmd for cmd in calls) and any("-e" in cmd for cmd in calls)
    calls.clear()
    module.setup()
    assert calls == []


def test_changed_requirements_reinstall(course):
    module, calls = course
    module.setup()
    calls.clear()
    (module.ROOT / "requirements.txt").write_text("numpy==2.4.7\n")
    module.setup()
    assert any("-r" in cmd for cmd in calls)


def test_unknown_command_is_refused(course, capsys):
    module, _ = course
    assert module.main(["deploy"]) == 2
    assert "Unknown command 'deploy'" in capsys.readouterr().err


def test_failed_install_says_what_to_do(course, monkeypatch, capsys):
    module, _ = course

    def failing(cmd, check=False, **kwargs):
        raise subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(module.subprocess, "run", failing)
    assert module.main(["setup"]) == 1
    err = capsys.readouterr().err
    assert "Set-up failed" in err and "network connection to PyPI" in err
    assert not module.STAMP.exists()  # a failed install is retried next time


def test_wrong_python_is_refused(course, monkeypatch):
    module, _ = course
    monkeypatch.setattr(sys, "version_info", (3, 9, 0))
    with pytest.raises(SystemExit, match="needs Python 3.11"):
        module.setup()
