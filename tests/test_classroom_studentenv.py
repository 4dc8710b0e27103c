"""The students' environment (classroom/studentenv.py), in parts: no build here.

The whole build runs in test_classroom.py (a real hub's students run from it); these check
the decisions around it: which interpreter an unprivileged account can really run, that the
key follows the course's contents, that old environments go once nothing runs from them,
and that nothing in an environment is writable by anyone but its owner.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from classroom import studentenv
from classroom.hub import wait_for
from classroom.settings import ClassroomError

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="trying an interpreter as nobody needs root")


@as_root
def test_an_interpreter_behind_a_private_folder_is_not_the_students(tmp_path):
    system = shutil.which("python3")
    assert system
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "python3").symlink_to(Path(system).resolve())
    assert studentenv.version_for_students(private / "python3") is None
    public = Path("/usr/bin/python3")
    if public.exists():
        assert studentenv.version_for_students(public) is not None, "the system's Python works"


@as_root
def test_no_runnable_interpreter_is_one_clear_paragraph(monkeypatch, tmp_path):
    monkeypatch.setattr(studentenv, "candidates", lambda: [tmp_path / "missing-python"])
    with pytest.raises(ClassroomError, match="apt-get install python3.11"):
        studentenv.interpreter()


def test_the_key_follows_what_goes_into_the_environment(tmp_path, monkeypatch):
    root = tmp_path / "course"
    (root / "helpers").mkdir(parents=True)
    (root / "lab_settings").mkdir()
    (root / "requirements").mkdir()
    for name in (*studentenv.LOCKS, "pyproject.toml"):
        (root / name).write_text("x\n")
    (root / "helpers" / "a.py").write_text("A = 1\n")
    monkeypatch.setattr(studentenv, "ROOT", root)
    first = studentenv.key(Path("/usr/bin/python3"))
    assert studentenv.key(Path("/usr/bin/python3")) == first, "the same course, the same key"
    (root / "helpers" / "a.py").write_text("A = 2\n")
    assert studentenv.key(Path("/usr/bin/python3")) != first, "a changed helper, a new key"
    assert studentenv.key(Path("/usr/local/bin/python3.11")) != studentenv.key(
        Path("/usr/bin/python3")
    ), "another interpreter, a new key"


def test_old_environments_go_once_nothing_runs_from_them(tmp_path):
    keep, idle, busy = (tmp_path / f"env-{name}" for name in ("new", "idle", "busy"))
    for folder in (keep, idle, busy):
        (folder / "venv").mkdir(parents=True)
    running = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; time.sleep(120)", str(busy / "venv")]
    )
    try:
        # Popen returns before the child has replaced itself with the program: wait for that.
        assert wait_for(lambda: studentenv.in_use(busy), 30), "the child never started"
        removed = studentenv.prune(tmp_path, keep=keep)
    finally:
        running.kill()
        running.wait()
    assert removed == [idle]
    assert keep.is_dir() and busy.is_dir() and not idle.exists()


def test_nothing_in_an_environment_is_writable_by_others(tmp_path):
    folder = tmp_path / "env"
    (folder / "bin").mkdir(parents=True)
    script = folder / "bin" / "tool"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o777)
    data = folder / "data.txt"
    data.write_text("x")
    data.chmod(0o600)
    studentenv._read_only_for_others(folder)
    assert script.stat().st_mode & 0o777 == 0o755
    assert data.stat().st_mode & 0o777 == 0o644
    assert (folder / "bin").stat().st_mode & 0o777 == 0o755
