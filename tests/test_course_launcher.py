"""course.py: set-up is idempotent (no pip when nothing changed), commands are validated, a
platform without TensorFlow 2.21 is refused before pip, and a failed pip is quoted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import course as course_module


@pytest.fixture()
def course(tmp_path, monkeypatch):
    module = course_module
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements/course.txt").write_text("numpy==2.4.6\n")
    (tmp_path / "requirements/dev.txt").write_text("-r course.txt\npytest==9.2.0\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(module, "STAMP", tmp_path / ".venv" / ".course-installed")
    monkeypatch.delenv("COURSE_IGNORE_PLATFORM", raising=False)
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
    (module.ROOT / "requirements/course.txt").write_text("numpy==2.4.7\n")
    module.setup()
    assert any("-r" in cmd for cmd in calls)


def test_unknown_command_is_refused(course, capsys):
    module, _ = course
    assert module.main(["deploy"]) == 2
    assert "Unknown command 'deploy'" in capsys.readouterr().err


def _run_fails(module, monkeypatch, output, when=lambda cmd: True, calls=None):
    """Fake subprocess.run: records each command in ``calls``; those ``when`` picks exit 1."""

    def fake(cmd, check=False, **kwargs):
        if calls is not None:
            calls.append(cmd)
        failed = when(cmd)
        return subprocess.CompletedProcess(cmd, int(failed), stdout=output if failed else "")

    monkeypatch.setattr(module.subprocess, "run", fake)


def _pip_fails_with(module, monkeypatch, output):
    _run_fails(module, monkeypatch, output)


NO_WHEEL = """Collecting tensorflow==2.21.0 (from -r requirements/course.txt (line 7))
ERROR: Could not find a version that satisfies the requirement tensorflow==2.21.0 (from versions: none)
ERROR: No matching distribution found for tensorflow==2.21.0
"""  # noqa: E501 - pip's own lines
NO_NETWORK = """WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError(... Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')': /simple/tensorflow/
ERROR: Could not find a version that satisfies the requirement tensorflow==2.21.0 (from versions: none)
"""  # noqa: E501 - pip's own lines


def test_failed_install_quotes_pip_and_does_not_blame_the_network(course, monkeypatch, capsys):
    module, _ = course
    _pip_fails_with(module, monkeypatch, NO_WHEEL)
    assert module.main(["setup"]) == 1
    err = capsys.readouterr().err
    assert "Set-up failed" in err and "pip said" in err
    assert "No matching distribution found for tensorflow==2.21.0" in err
    assert "network" not in err.lower()
    assert "hosted notebook service" in err and "Apple silicon" in err
    assert not module.STAMP.exists()  # a failed install is retried next time


def test_a_network_failure_is_called_one(course, monkeypatch, capsys):
    module, _ = course
    _pip_fails_with(module, monkeypatch, NO_NETWORK)
    assert module.main(["setup"]) == 1
    err = capsys.readouterr().err
    assert "Temporary failure in name resolution" in err
    assert "check the network connection to PyPI" in err


def test_any_other_pip_failure_is_quoted_not_guessed(course, monkeypatch, capsys):
    module, _ = course
    _pip_fails_with(
        module,
        monkeypatch,
        "\n".join(f"line {i}" for i in range(40)) + "\nerror: subprocess-exited-with-error",
    )
    assert module.main(["setup"]) == 1
    err = capsys.readouterr().err
    assert "subprocess-exited-with-error" in err and "line 39" in err
    assert "line 5\n" not in err  # only the last lines
    assert "network" not in err.lower() and "pip's own words above" in err


@pytest.mark.parametrize(
    "system, machine, bits, expected",
    [
        ("Darwin", "x86_64", 64, "macOS on an Intel processor"),
        ("Windows", "ARM64", 64, "Windows on ARM64"),
        ("Linux", "armv7l", 32, "32-bit Python"),
        ("Windows", "AMD64", 32, "32-bit Python"),
        ("Linux", "ppc64le", 64, "Linux on ppc64le"),
        ("FreeBSD", "amd64", 64, "FreeBSD on amd64"),
    ],
)
def test_a_platform_without_tensorflow_is_refused_before_pip(
    course, monkeypatch, capsys, system, machine, bits, expected
):
    module, calls = course
    monkeypatch.setattr(module.platform, "system", lambda: system)
    monkeypatch.setattr(module.platform, "machine", lambda: machine)
    monkeypatch.setattr(module.struct, "calcsize", lambda fmt: bits // 8)
    assert module.main(["setup"]) == 1
    err = capsys.readouterr().err
    assert calls == [], "pip must not run on a platform it cannot install"
    assert expected in err and "has no package for" in err
    assert "Linux (x86-64 or ARM64), Windows (x86-64) and macOS on Apple silicon" in err
    assert "hosted notebook service" in err
    assert "network" not in err.lower()


@pytest.mark.parametrize(
    "system, machine",
    [
        ("Linux", "x86_64"),
        ("Linux", "aarch64"),
        ("Windows", "AMD64"),
        ("Darwin", "arm64"),
    ],
)
@pytest.mark.parametrize("version", [(3, 10), (3, 11), (3, 13)])
def test_supported_platforms_pass(course, system, machine, version):
    module, _ = course
    assert module.platform_problem(system, machine, version, 64) is None


def test_the_platform_check_can_be_overridden(course, monkeypatch):
    module, calls = course
    monkeypatch.setattr(module.platform, "system", lambda: "Darwin")
    monkeypatch.setattr(module.platform, "machine", lambda: "x86_64")
    monkeypatch.setenv("COURSE_IGNORE_PLATFORM", "1")
    module.setup()
    assert any("-r" in cmd for cmd in calls)


def test_wrong_python_is_refused(course, monkeypatch, capsys):
    module, calls = course
    monkeypatch.setattr(sys, "version_info", (3, 9, 0))
    assert module.main(["setup"]) == 1
    assert "needs Python 3.11" in capsys.readouterr().err and calls == []
    monkeypatch.setattr(sys, "version_info", (3, 14, 0))
    with pytest.raises(module.SetupError, match="this is 3.14"):
        module.setup()


def test_lab_passes_the_course_config(course):
    module, _ = course
    cmd = module.lab_command(Path("python"), ["--port", "8890"])
    assert cmd[1:4] == ["-m", "jupyter", "lab"]
    assert cmd[4] == f"--config={module.ROOT / 'jupyter_notebook_config.py'}"
    assert cmd[-2:] == ["--port", "8890"]


@pytest.mark.parametrize("command", ["margins", "perturb", "breakage", "variants", "bench"])
def test_maintainer_commands_reach_their_bench_module(course, command):
    module, calls = course
    assert module.main([command, "--help"]) == 0
    assert calls[-1][1:4] == ["-m", f"bench.{'run' if command == 'bench' else command}", "--help"]


def test_setup_installs_the_lock_with_hashes_when_there_is_one(course):
    module, calls = course
    (module.ROOT / "requirements/course.lock").write_text("numpy==2.4.6 --hash=sha256:00\n")
    module.setup()
    assert ["--require-hashes", "-r", str(module.ROOT / "requirements/course.lock")] == calls[0][
        -3:
    ]


def test_test_installs_the_maintainers_lock_too(course):
    module, calls = course
    (module.ROOT / "requirements/dev.lock").write_text("pytest==9.2.0 --hash=sha256:00\n")
    (module.ROOT / "requirements/classroom.txt").write_text("jupyterhub==6.1.1\n")
    assert module.main(["test", "-q"]) == 0
    installs = [cmd for cmd in calls if "install" in cmd]
    assert installs[-2][-3:] == [
        "--require-hashes",
        "-r",
        str(module.ROOT / "requirements/dev.lock"),
    ]
    # The classroom's hub too: its tests import it before any of them starts a hub.
    assert installs[-1][-2:] == ["-r", str(module.ROOT / "requirements/classroom.txt")]
    assert calls[-1][1:] == [
        "-m",
        "pytest",
        "-n",
        "2",
        "--dist",
        "loadfile",
        "--no-loadscope-reorder",
        "-q",
    ]
    calls.clear()
    module.main(["test"])  # installed once: the stamp remembers
    assert not [cmd for cmd in calls if "install" in cmd]


def test_lock_locks_every_requirements_file_against_the_learners(course):
    module, calls = course
    (module.ROOT / "requirements/site.txt").write_text("jinja2==3.1.6\n")
    assert module.main(["lock"]) == 0
    compiles = [cmd for cmd in calls if "compile" in cmd]
    # uv runs inside requirements/, so each lock names the files it came from by short names.
    assert [cmd[-3:] for cmd in compiles] == [
        ["course.txt", "-o", "course.lock"],
        ["dev.txt", "-o", "dev.lock"],
        ["site.txt", "-o", "site.lock"],
    ]
    assert "--constraint" not in compiles[0]
    assert all(cmd[-5:-3] == ["--constraint", "course.lock"] for cmd in compiles[1:])
    assert all({"--universal", "--generate-hashes"} <= set(cmd) for cmd in compiles)


def _with_uv_lock(module):
    (module.ROOT / "requirements/uv.lock").write_text("uv==0.13.8 --hash=sha256:00\n")
    (module.ROOT / "requirements/course.lock").write_text("numpy==2.4.6 --hash=sha256:00\n")


def _is_uv(cmd) -> bool:
    return cmd[1:3] == ["-m", "uv"]


def test_pip_installs_uv_once_then_uv_installs_the_locks(course):
    module, calls = course
    _with_uv_lock(module)
    module.setup()
    uv_lock, learner_lock = (
        str(module.ROOT / f) for f in ("requirements/uv.lock", "requirements/course.lock")
    )
    assert calls[0][1:3] == ["-m", "pip"] and calls[0][-3:] == ["--require-hashes", "-r", uv_lock]
    assert all(_is_uv(cmd) for cmd in calls[1:]) and len(calls) == 3
    assert calls[1][-3:] == ["--require-hashes", "-r", learner_lock]
    assert "--compile-bytecode" in calls[1] and calls[2][-3:] == [
        "--no-deps",
        "-e",
        str(module.ROOT),
    ]
    calls.clear()
    (module.ROOT / "requirements/dev.lock").write_text("pytest==9.2.0 --hash=sha256:00\n")
    assert module.main(["test"]) == 0
    installs = [cmd for cmd in calls if "install" in cmd]
    assert len(installs) == 1 and _is_uv(installs[0]), "uv is installed once per .venv"


def test_when_uv_fails_pip_does_the_same_install(course, monkeypatch, capsys):
    module, calls = course
    _with_uv_lock(module)

    _run_fails(module, monkeypatch, "error: no route", when=_is_uv, calls=calls)
    module.setup()
    assert [cmd[2] for cmd in calls] == ["pip", "uv", "pip", "uv", "pip"]
    assert calls[2][-3:] == calls[1][-3:] and calls[4][-3:] == calls[3][-3:]
    assert module.STAMP.is_file()
    assert "uv could not install this (error: no route); pip tries" in capsys.readouterr().out


def test_when_uv_cannot_be_installed_pip_installs_everything(course, monkeypatch, capsys):
    module, calls = course
    _with_uv_lock(module)

    _run_fails(
        module,
        monkeypatch,
        "ERROR: no uv wheel",
        when=lambda cmd: "requirements/uv.lock" in cmd[-1],
        calls=calls,
    )
    module.setup()
    assert not any(_is_uv(cmd) for cmd in calls) and module.STAMP.is_file()
    assert sum("requirements/uv.lock" in cmd[-1] for cmd in calls) == 1, "tried once per run"
    assert not (module.VENV / ".course-installed-uv").exists(), "the next run tries uv again"
    said = capsys.readouterr().out
    assert "could not be installed (ERROR: no uv wheel), so pip installs everything" in said


@pytest.mark.parametrize(
    "extra", [["-n", "0"], ["-n4"], ["--numprocesses=auto"], ["-p", "no:xdist"], ["--dist=no"]]
)
def test_test_keeps_the_maintainers_own_choice_of_workers(course, extra):
    module, calls = course
    assert module.main(["test", *extra, "tests/test_text.py"]) == 0
    assert calls[-1][1:] == ["-m", "pytest", *extra, "tests/test_text.py"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../shared/datasets", "{cwd}/../shared/datasets"),
        ("data", "{cwd}/data"),
        ("/srv/data", "/srv/data"),
        ("", ""),
    ],
)
def test_a_relative_data_folder_is_read_from_where_the_command_ran(
    tmp_path, monkeypatch, given, expected
):
    """Kernels start in notebooks/: the launcher makes COURSE_DATA_DIR absolute for them."""
    import os

    monkeypatch.chdir(tmp_path)
    environ = {"COURSE_DATA_DIR": given} if given else {}
    course_module.absolute_data_dir(environ)
    wanted = os.path.abspath(expected.format(cwd=tmp_path)) if expected else None
    assert environ.get("COURSE_DATA_DIR") == wanted
