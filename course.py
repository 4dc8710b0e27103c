#!/usr/bin/env python3
"""Set up the course and run it: the only entry point a learner, teacher or CI needs.

    python3 course.py lab     # set up (once), then open the course in JupyterLab
    python3 course.py test    # set up (once), then run every test: unit tests, then nbval
    python3 course.py setup   # only create/refresh the .venv
    python3 course.py bench   # measure every notebook (see bench/README.md)

Set-up creates ``.venv`` next to this file and installs ``requirements.txt`` and
the ``helpers`` package (editable) into it. It is idempotent: a stamp in the
.venv records what was installed, so a second call with nothing changed starts
in well under a second. Only the Python standard library is used here, so this
runs on a machine that has nothing but Python 3.11.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".course-installed"
INPUTS = ("requirements.txt", "pyproject.toml")
SUPPORTED = ((3, 10), (3, 13))  # TensorFlow 2.21 wheels; the course is tested on 3.11


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def wanted_stamp() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for name in INPUTS:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def setup() -> Path:
    """Create or refresh .venv; return its Python. Near-instant when up to date."""
    if not (SUPPORTED[0] <= sys.version_info[:2] <= SUPPORTED[1]):
        sys.exit(
            f"This course needs Python 3.11 (3.10 to 3.13 work); this is "
            f"{sys.version.split()[0]}. Install Python 3.11 and run "
            "`python3.11 course.py ...`, or use the conda route in the README."
        )
    stamp = wanted_stamp()
    python = venv_python()
    if python.exists() and STAMP.is_file() and STAMP.read_text() == stamp:
        return python
    if not python.exists():
        print(f"Creating {VENV.name}/ with Python {sys.version.split()[0]} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    print("Installing requirements.txt and the helpers package (first time: ~1-3 min) ...",
          flush=True)
    STAMP.unlink(missing_ok=True)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "install",
           "--progress-bar", "off", "-q"]
    subprocess.run([*pip, "-r", str(ROOT / "requirements.txt")], check=True)
    subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True)
    STAMP.write_text(stamp)
    print("Set-up complete.", flush=True)
    return python


def run(python: Path, args: list[str]) -> int:
    env = dict(os.environ)
    env.setdefault("PYTHONHASHSEED", "0")  # kernels inherit it: stable set/dict order
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return subprocess.run([str(python), *args], cwd=ROOT, env=env).returncode


def main(argv: list[str]) -> int:
    command, extra = (argv[0], argv[1:]) if argv else ("help", [])
    if command in ("help", "-h", "--help"):
        print(__doc__)
        return 0
    if command not in ("setup", "lab", "test", "bench"):
        print(f"Unknown command {command!r}.\n{__doc__}", file=sys.stderr)
        return 2
    try:
        python = setup()
    except subprocess.CalledProcessError as err:
        print(
            f"Set-up failed while running: {' '.join(map(str, err.cmd))}\n"
            "Check the network connection to PyPI (or your proxy settings) and run the "
            f"same command again; delete {VENV.name}/ to start from scratch.",
            file=sys.stderr,
        )
        return 1
    if command == "setup":
        return 0
    if command == "lab":
        config = ROOT / "jupyter_notebook_config.py"
        return run(python, ["-m", "jupyter", "lab", f"--config={config}", *extra])
    if command == "test":
        return run(python, [
            "-m", "pytest", "tests", "notebooks",
            "--nbval", "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg",
            "--nbval-cell-timeout", "600", *extra,
        ])
    return run(python, ["-m", "bench.run", *extra])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
