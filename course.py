#!/usr/bin/env python3
"""Set up the course and run it: the only entry point a learner, teacher or CI needs.

    python3 course.py lab       # set up (once), then open the course in JupyterLab
    python3 course.py test      # set up (once), then run every test (unit tests and nbval)
    python3 course.py setup     # only create/refresh the .venv
    python3 course.py bench     # measure every notebook (see bench/README.md)
    python3 course.py margins | perturb | breakage | variants | pretrain   # maintainers' tools
    python3 course.py classroom start|report ...   # the class on one JupyterHub (README)
    python3 course.py progress  # the exercises you have passed, chapter by chapter
    python3 course.py site      # the course as a static website, built offline
    python3 course.py lock      # refresh every requirements/*.lock from its .txt (uv)

Set-up creates ``.venv`` next to this file and installs ``requirements/course.lock`` (every
package the learner needs, transitive ones included, with exact versions and
hashes) and the ``helpers`` package (editable) into it. ``test`` and the
maintainers' tools also install ``requirements/dev.lock`` (pytest, nbval, ruff, ...),
and ``classroom`` and ``site`` the lock of their own requirements file. pip installs
uv (``requirements/uv.lock``) first, and uv installs the locks; pip is the fallback. It is
idempotent: a stamp in the .venv records what was installed, so a second call
with nothing changed starts in well under a second. Only the Python standard
library is used here, so this runs on a machine that has nothing but Python 3.11.

Where it works: TensorFlow 2.21, which every chapter uses, has packages for
Linux (x86-64, ARM64), Windows (x86-64) and macOS on Apple silicon, for a 64-bit
Python 3.10 to 3.13. On anything else set-up stops *before* pip and says what
to do instead (``COURSE_IGNORE_PLATFORM=1`` skips that check).
"""

from __future__ import annotations

import hashlib
import os
import platform
import struct
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".course-installed"
REQUIREMENTS = "requirements/course.txt"
DEV_REQUIREMENTS = "requirements/dev.txt"
# uv, the installer every other lock goes through: pip installs it first (hash-checked,
# once per .venv), then it installs the same locks with the same hashes several times
# faster. Where uv cannot be installed or fails, pip does the install instead.
UV_REQUIREMENTS = "requirements/uv.txt"
_NO_UV: set[Path] = set()  # the .venvs where uv failed to install in this run (not tried again)
# `course.py lock`: one universal resolution (every platform in WHEEL_PLATFORMS) for the
# tested Python, with the hash of every file, as `pip install --require-hashes` wants.
LOCK_OPTIONS = (
    "--universal",
    "--generate-hashes",
    "--python-version",
    "3.11",
    "--quiet",
    "--custom-compile-command",
    "python3 course.py lock",
)
# What every process the course starts (a JupyterLab kernel, a test, a benchmark run)
# inherits: stable set and dict order, and no TensorFlow C++ log lines in the outputs.
KERNEL_ENV = {"PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "3"}
SUPPORTED = ((3, 10), (3, 13))  # TensorFlow 2.21 wheels; the course is tested on 3.11
# (system, machine) pairs with a TensorFlow 2.21 wheel, machine names as platform.machine()
# spells them on each system.
WHEEL_PLATFORMS = {
    ("Linux", "x86_64"): "Linux on x86-64",
    ("Linux", "aarch64"): "Linux on ARM64",
    ("Linux", "arm64"): "Linux on ARM64",
    ("Windows", "AMD64"): "Windows on x86-64",
    ("Darwin", "arm64"): "macOS on Apple silicon",
}
WORKS = (
    "Linux (x86-64 or ARM64), Windows (x86-64) and macOS on Apple silicon (M1 or "
    "later), with a 64-bit Python 3.10 to 3.13 (3.11 is the tested one)"
)
INSTEAD = (
    "What to do instead: run the course on a machine that is one of those (a lab "
    "computer, or a Linux virtual machine or server), or on a hosted notebook service "
    "that runs Linux (such as Google Colab or Kaggle): upload this folder and run "
    "`pip install -r requirements/course.txt -e .` in a notebook cell there."
)
# Commands that need the maintainers' packages (requirements/dev.txt) too.
DEV_COMMANDS = ("test", "lock")
# `test` runs pytest in two worker processes (pytest-xdist), each test file or notebook whole
# in one of them. A notebook's kernel keeps about 1.2 of two cores busy on average (its
# CPU-seconds over its time in the benchmark), so a second worker fills the idle time: on
# 2 cores the suite took 299 s, against about 520 s in one process. Passing -n (e.g. `-n 0`:
# one process) overrides it.
TEST_WORKERS = ("-n", "2", "--dist", "loadfile", "--no-loadscope-reorder")
BENCH_COMMANDS = {
    "bench": "bench.run",
    "margins": "bench.margins",
    "perturb": "bench.perturb",
    "breakage": "bench.breakage",
    "variants": "bench.variants",
    "pretrain": "bench.pretrain",
}
# Commands that need packages a learner's set-up does not install: the module that runs
# them, and the optional requirements file installed into .venv the first time.
EXTRA_COMMANDS = {
    "classroom": ("classroom.cli", "requirements/classroom.txt"),
    "site": ("website.build", "requirements/site.txt"),
}
# Commands that need nothing beyond the learner's set-up.
PLAIN_COMMANDS = {"progress": "helpers.progress_report"}


class SetupError(Exception):
    """Set-up cannot go on; the message says why and what to do."""


def platform_problem(
    system: str | None = None,
    machine: str | None = None,
    version: tuple[int, ...] | None = None,
    bits: int | None = None,
) -> str | None:
    """``None`` when TensorFlow 2.21 installs here, else one paragraph for the learner."""
    system = system or platform.system()
    machine = machine or platform.machine()
    version = tuple(version or sys.version_info[:2])[:2]
    bits = bits or struct.calcsize("P") * 8
    python = ".".join(map(str, version))
    if system == "Darwin" and machine == "x86_64":
        where = (
            "macOS on an Intel processor (x86_64). If this Mac has an Apple chip (M1 or "
            "later), this Python is an Intel build running under Rosetta: install the "
            "arm64 Python 3.11 from python.org (or Homebrew's in /opt/homebrew) and run "
            "course.py with it."
        )
    elif bits != 64:
        where = (
            f"a {bits}-bit Python. If the computer itself is 64-bit, install the 64-bit "
            "Python 3.11 and run course.py with it."
        )
    elif (system, machine) not in WHEEL_PLATFORMS:
        where = f"{system or 'this system'} on {machine or 'this processor'}."
    elif not (SUPPORTED[0] <= version <= SUPPORTED[1]):
        return (
            f"This course needs Python 3.11 (3.10 to 3.13 work); this is {python}. "
            "Install Python 3.11 and run `python3.11 course.py ...` (Windows: "
            "`py -3.11 course.py ...`), or use the conda route in the README, which "
            "brings its own Python 3.11."
        )
    else:
        return None
    return (
        f"This course cannot be installed on this machine: TensorFlow 2.21, which every "
        f"chapter uses, has no package for {where} It works on {WORKS}. {INSTEAD} "
        "(To try anyway, set COURSE_IGNORE_PLATFORM=1.)"
    )


def _pip_advice(output: str) -> str:
    """What the end of pip's output means for the learner."""
    text = output.lower()
    network = (
        "connection",
        "timed out",
        "name resolution",
        "proxy",
        "ssl",
        "certificate",
        "network is unreachable",
        "max retries",
    )
    if any(word in text for word in network):
        return (
            "pip could not reach the package index: check the network connection to PyPI "
            "(or your proxy settings) and run the same command again."
        )
    if "no matching distribution" in text or "could not find a version" in text:
        return (
            f"pip found no package of a pinned version for this platform and Python (or "
            f"the package index it uses does not have one). The course works on {WORKS}. "
            f"{INSTEAD}"
        )
    if "no space left" in text:
        return "The disk is full: free some space (TensorFlow needs about 2 GB) and run again."
    return "pip's own words above say what went wrong."


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def lock_of(requirements: Path) -> Path:
    """``requirements/x.txt`` -> ``requirements/x.lock``."""
    return requirements.with_suffix(".lock")


def installable(requirements: str) -> tuple[Path, list[str]]:
    """The file pip installs for a requirements file (its lock, when there is one), and how."""
    path = ROOT / requirements
    lock = lock_of(path)
    if lock.is_file():
        return lock, ["--require-hashes", "-r", str(lock)]
    return path, ["-r", str(path)]


def wanted_stamp() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for path in (installable(REQUIREMENTS)[0], ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _quiet(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def pip_command(python: Path, *args: str) -> list[str]:
    return [
        str(python),
        "-m",
        "pip",
        "--disable-pip-version-check",
        "install",
        "--progress-bar",
        "off",
        "-q",
        *args,
    ]


def _last_line(result: subprocess.CompletedProcess) -> str:
    return ((result.stdout or "").strip().splitlines() or ["(no output)"])[-1]


def pip_install(python: Path, *args: str) -> None:
    """Run pip quietly; when it fails, raise with the last lines of what it said."""
    cmd = pip_command(python, *args)
    result = _quiet(cmd)
    if result.returncode:
        lines = (result.stdout or "").strip().splitlines()[-15:] or ["(no output)"]
        said = "\n".join(f"    {line}" for line in lines)
        raise SetupError(
            f"Set-up failed while running: {' '.join(cmd)}\n"
            f"pip said (last lines):\n{said}\n{_pip_advice(said)} "
            f"Delete {VENV.name}/ to start again from scratch."
        )


def uv_ready(python: Path) -> bool:
    """Install uv into .venv with pip the first time (from its lock); False if it cannot be.

    A stamp records the lock it came from, so this costs nothing once uv is there.
    """
    source, args = installable(UV_REQUIREMENTS)
    if not source.is_file() or python in _NO_UV:
        return False
    wanted = hashlib.sha256(source.read_bytes()).hexdigest()
    stamp = VENV / ".course-installed-uv"
    if stamp.is_file() and stamp.read_text() == wanted:
        return True
    stamp.unlink(missing_ok=True)
    result = _quiet(pip_command(python, *args))
    if result.returncode:
        print(
            f"uv, the fast installer, could not be installed ({_last_line(result)}), "
            "so pip installs everything instead (slower).",
            flush=True,
        )
        _NO_UV.add(python)
        return False
    stamp.write_text(wanted)
    return True


def install(python: Path, *args: str) -> None:
    """Install into .venv with uv, or with pip when uv is missing or fails.

    uv gets pip's arguments and compiles the bytecode as pip does (without it, every
    kernel whose Python may not write bytecode would import TensorFlow from source).
    When both fail, pip's words are the ones quoted.
    """
    if uv_ready(python):
        uv = [str(python), "-m", "uv", "pip", "install", "--python", str(python)]
        result = _quiet([*uv, "--compile-bytecode", "--quiet", *args])
        if not result.returncode:
            return
        print(
            f"uv could not install this ({_last_line(result)}); pip tries the same ...", flush=True
        )
    pip_install(python, *args)


def setup() -> Path:
    """Create or refresh .venv; return its Python. Near-instant when up to date."""
    problem = platform_problem()
    if problem and not os.environ.get("COURSE_IGNORE_PLATFORM"):
        raise SetupError(problem)
    stamp = wanted_stamp()
    python = venv_python()
    if python.exists() and STAMP.is_file() and STAMP.read_text() == stamp:
        return python
    if not python.exists():
        print(f"Creating {VENV.name}/ with Python {sys.version.split()[0]} ...", flush=True)
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        except (subprocess.CalledProcessError, OSError) as err:
            raise SetupError(
                f"Could not create {VENV.name}/ ({err}). On Debian or Ubuntu, install the "
                "venv module first: `sudo apt install python3-venv` (or python3.11-venv)."
            ) from err
    source, args = installable(REQUIREMENTS)
    print(
        f"Installing {source.relative_to(ROOT)} and the helpers package (first time: ~1-3 min) ...",
        flush=True,
    )
    STAMP.unlink(missing_ok=True)
    install(python, *args)
    install(python, "--no-deps", "-e", str(ROOT))
    STAMP.write_text(stamp)
    print("Set-up complete.", flush=True)
    return python


def install_extra(python: Path, requirements: str) -> None:
    """Install an optional requirements file into .venv once (its own stamp records it).

    Its lock is installed when there is one (``course.py lock`` writes it), else the file.
    """
    source, args = installable(requirements)
    stamp = VENV / f".course-installed-{Path(requirements).stem}"
    wanted = hashlib.sha256(source.read_bytes() + STAMP.read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text() == wanted:
        return
    print(f"Installing {source.relative_to(ROOT)} (first time only) ...", flush=True)
    stamp.unlink(missing_ok=True)
    install(python, *args)
    stamp.write_text(wanted)


def lock(python: Path) -> int:
    """Rewrite the lock of every ``requirements/*.txt``; the others agree with the learner's.

    ``requirements/course.txt`` is resolved first; every other file is resolved with
    ``requirements/course.lock`` as a constraint, so a package in both gets the same version.
    """
    base = ROOT / REQUIREMENTS
    folder = base.parent  # uv runs there, so each lock names the others by their short names
    files = [base, *sorted(p for p in folder.glob("*.txt") if p != base)]
    for path in files:
        constraint = [] if path == base else ["--constraint", lock_of(base).name]
        print(f"Locking {path.name} -> {lock_of(path).name} ...", flush=True)
        code = subprocess.run(
            [
                str(python),
                "-m",
                "uv",
                "pip",
                "compile",
                *LOCK_OPTIONS,
                *constraint,
                path.name,
                "-o",
                lock_of(path).name,
            ],
            cwd=folder,
        ).returncode
        if code:
            return code
    return 0


def test_workers(extra: list[str]) -> tuple[str, ...]:
    """TEST_WORKERS, unless the arguments already choose how pytest distributes the tests."""
    chosen = ("-n", "--numprocesses", "--dist", "no:xdist")
    return () if any(arg.startswith(chosen) for arg in extra) else TEST_WORKERS


def lab_command(python: Path, extra: list[str]) -> list[str]:
    """JupyterLab with the course's server config (which also turns the news pop-up off)."""
    config = ROOT / "jupyter_notebook_config.py"
    return [str(python), "-m", "jupyter", "lab", f"--config={config}", *extra]


def run(python: Path, args: list[str], replace: bool = False) -> int:
    """Run the .venv's Python with ``args`` from the project root.

    ``replace`` makes that Python take this process's place (POSIX), so Ctrl-C and
    SIGTERM reach it directly: a server can then stop everything it started.
    """
    env = {**KERNEL_ENV, **os.environ}  # a maintainer's own setting wins
    if replace and os.name == "posix":
        sys.stdout.flush()
        sys.stderr.flush()
        os.chdir(ROOT)
        os.execve(str(python), [str(python), *args], env)
    return subprocess.run([str(python), *args], cwd=ROOT, env=env).returncode


def absolute_data_dir(environ=os.environ) -> None:
    """A relative ``COURSE_DATA_DIR`` means relative to where the command ran.

    Resolved once here, so every kernel, server and hub the launcher starts reads the same
    folder, whatever folder it starts in (the notebooks' kernels start in ``notebooks/``).
    """
    chosen = environ.get("COURSE_DATA_DIR", "")
    if chosen and not os.path.isabs(os.path.expanduser(chosen)):
        environ["COURSE_DATA_DIR"] = os.path.abspath(os.path.expanduser(chosen))


def main(argv: list[str]) -> int:
    absolute_data_dir()
    command, extra = (argv[0], argv[1:]) if argv else ("help", [])
    if command in ("help", "-h", "--help"):
        print(__doc__)
        return 0
    if command not in (
        "setup",
        "lab",
        *DEV_COMMANDS,
        *BENCH_COMMANDS,
        *EXTRA_COMMANDS,
        *PLAIN_COMMANDS,
    ):
        print(f"Unknown command {command!r}.\n{__doc__}", file=sys.stderr)
        return 2
    try:
        python = setup()
        if command in DEV_COMMANDS or command in BENCH_COMMANDS:
            install_extra(python, DEV_REQUIREMENTS)
        classroom = EXTRA_COMMANDS["classroom"][1]
        if command == "test" and (ROOT / classroom).is_file():
            install_extra(python, classroom)  # the tests import the classroom's hub and service
        if command in EXTRA_COMMANDS:
            install_extra(python, EXTRA_COMMANDS[command][1])
    except SetupError as err:
        print(err, file=sys.stderr)
        return 1
    if command == "setup":
        return 0
    if command == "lab":
        return run(python, lab_command(python, extra)[1:])
    if command == "test":  # what to run and how: [tool.pytest.ini_options] in pyproject.toml
        return run(python, ["-m", "pytest", *test_workers(extra), *extra])
    if command == "lock":
        return lock(python)
    if command in EXTRA_COMMANDS:
        return run(python, ["-m", EXTRA_COMMANDS[command][0], *extra], replace=True)
    if command in PLAIN_COMMANDS:
        return run(python, ["-m", PLAIN_COMMANDS[command], *extra])
    return run(python, ["-m", BENCH_COMMANDS[command], *extra])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
