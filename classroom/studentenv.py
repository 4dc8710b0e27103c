"""The Python environment the students' accounts run: built once, read-only, outside any home.

When the hub runs as root, each student's server runs as that student's own account, which
must not read the teacher's clone (often in ``/root``, mode 0700: never loosened) nor the
interpreter it was made with (``pyenv`` keeps Python in ``/root`` too). So, as TLJH keeps
its user environment under ``/opt``, ``classroom start`` builds one here:

    /opt/dl-course/env-<key>/venv           the learner's lock + the hub's, and the helpers
    /opt/dl-course/env-<key>/lab_settings   the course's JupyterLab settings

``<key>`` is a hash of everything that goes in (the locks, the helpers' source, the
settings, the interpreter), so an updated course gets a new environment and an unchanged
one is reused at once; the environments of earlier versions are removed once no process
runs from them. The interpreter is the first candidate that an unprivileged account
can really run (tried as ``nobody``). uv installs from its cache (hard links, so the
environment costs little disk), with byte-code compiled, since students cannot write it.
Everything is owned by root and not writable by anyone else. A build cut short never looks
complete: the ``.complete`` stamp is written last.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from classroom.settings import ROOT, ClassroomError, remove_tree

ENV_ROOT = Path("/opt/dl-course")
LOCKS = ("requirements/course.lock", "requirements/classroom.lock")
STAMP = ".complete"
NOBODY = 65534  # the unprivileged uid every Linux system has
SUPPORTED = ((3, 10), (3, 13))


def candidates() -> list[Path]:
    """Interpreters to try, this one's own first, then the system's."""
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    found = [base]
    for name in ("/usr/bin/python3.11", "/usr/local/bin/python3.11", "/usr/bin/python3"):
        path = Path(name)
        if path.exists() and path.resolve() not in found:
            found.append(path.resolve())
    return found


def _as_nobody() -> None:  # a preexec_fn: runs in the child, before exec
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def version_for_students(python: Path) -> tuple[int, int] | None:
    """``(major, minor)`` when an unprivileged account can run ``python``, else None."""
    try:
        done = subprocess.run(
            [str(python), "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
            env={"PATH": "/usr/bin:/bin", "HOME": "/"},
            preexec_fn=_as_nobody,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode:
        return None
    major, minor = (int(part) for part in done.stdout.split())
    return major, minor


def interpreter() -> Path:
    """The first interpreter students can run and TensorFlow supports (one paragraph if none)."""
    tried = []
    for python in candidates():
        version = version_for_students(python)
        if version and SUPPORTED[0] <= version <= SUPPORTED[1]:
            return python
        tried.append(f"{python} ({'not runnable by other accounts' if not version else version})")
    raise ClassroomError(
        "The students' accounts need a Python they can run, and none was found: tried "
        f"{'; '.join(tried)}. Install the system's Python 3.11 (on Debian or Ubuntu: `apt-get "
        "install python3.11`), which every account can run, and start the classroom again."
    )


def key(python: Path) -> str:
    """A hash of what goes into the environment: locks, helpers, settings, interpreter."""
    digest = hashlib.sha256(str(python).encode())
    sources = [ROOT / name for name in (*LOCKS, "pyproject.toml")]
    sources += sorted((ROOT / "helpers").rglob("*.py")) + sorted((ROOT / "lab_settings").rglob("*"))
    for path in sources:
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        last = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ClassroomError(
            f"Building the students' environment failed while {what}: {' / '.join(last)}. "
            "It needs the package index (or uv's cache from an earlier `python3 course.py "
            "setup`); fix the cause and start the classroom again: nothing half-built is kept."
        )


def build(env_root: Path = ENV_ROOT, log=print) -> Path:
    """The students' environment folder (built now if needed); its ``venv/bin`` runs the server."""
    try:
        import uv  # noqa: F401 - course.py setup installs it into .venv
    except ImportError:
        raise ClassroomError(
            "Building the students' environment needs uv, which `python3 course.py setup` "
            "installs into .venv; run the classroom through `python3 course.py classroom "
            "start` (it sets .venv up first)."
        ) from None
    python = interpreter()
    target = env_root / f"env-{key(python)}"
    if (target / STAMP).is_file():
        prune(env_root, keep=target)
        return target
    log(f"Building the students' environment in {target} (first time: about a minute) ...")
    env_root.mkdir(parents=True, exist_ok=True)
    env_root.chmod(0o755)
    remove_tree(target)  # a build cut short: start again
    uv = [sys.executable, "-m", "uv"]
    venv = target / "venv"
    try:
        _run([*uv, "venv", "--quiet", "--python", str(python), str(venv)], "creating the venv")
        installing = [*uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python")]
        locks = [arg for lock in LOCKS for arg in ("-r", str(ROOT / lock))]
        _run([*installing, "--require-hashes", "--compile-bytecode", *locks], "installing locks")
        with tempfile.TemporaryDirectory(prefix="course-helpers-") as tmp:
            # From a copy, so the build leaves nothing (build/, *.egg-info) in the course folder.
            for name in ("pyproject.toml", "README.md"):
                shutil.copyfile(ROOT / name, Path(tmp) / name)
            skip = shutil.ignore_patterns("__pycache__")
            shutil.copytree(ROOT / "helpers", Path(tmp) / "helpers", ignore=skip)
            _run([*installing, "--no-deps", "--compile-bytecode", tmp], "installing the helpers")
        shutil.copytree(ROOT / "lab_settings", target / "lab_settings")
        _read_only_for_others(target)
        (target / STAMP).write_text(str(python) + "\n")
    except BaseException:
        remove_tree(target)
        raise
    prune(env_root, keep=target)
    return target


def in_use(folder: Path) -> bool:
    """True while any process runs from ``folder`` (a class still on an older environment)."""
    wanted = str(folder).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if wanted in (entry / "cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def prune(env_root: Path, keep: Path) -> list[Path]:
    """Remove the environments of earlier versions of the course that nothing runs from."""
    removed = []
    for old in sorted(env_root.glob("env-*")):
        if old != keep and old.is_dir() and not in_use(old):
            remove_tree(old)
            removed.append(old)
    return removed


def _read_only_for_others(folder: Path) -> None:
    """Owned by this (root) account; others may read and run, never write."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode & 0o7777
        path.chmod((mode | 0o444 | (0o111 if mode & 0o100 or path.is_dir() else 0)) & ~0o022)
