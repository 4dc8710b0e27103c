"""What the maintainer tools share: where things are, how a notebook runs, and its budget;
and the one writer of the README's generated blocks (:func:`write_readme_block`).

Standard library only. ``ROOT`` and the kernel environment are the launcher's own
(``course.py``); the nbval options live in ``pyproject.toml``, so a tool that tests a
notebook runs plain ``pytest`` on it (:func:`pytest_command`).
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

from course import KERNEL_ENV, ROOT

NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"


def chapter_notebooks(only: list[str] | None = None) -> list[Path]:
    """The course notebooks (``NN_name.ipynb``), all or those whose number is in ``only``."""
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    return [p for p in paths if not only or p.name[:2] in only]


NOISE_TOLERANCE = 0.10
"""A run may exceed its time or memory budget by this share before ``--check`` fails it.

The same notebook on the same machine varies by a few percent from run to run (more with
other work on the machine), and peak memory differs by up to about 15% between machines."""


def budget_for(key: str) -> tuple[int, int]:
    """Seconds and MB of peak kernel memory for notebook ``key`` (see bench/README.md).

    Every chapter gets 120 s and 1,200 MB (COURSE_GUIDE.md), except the small chapters 01-02
    (60 s, 1,024 MB) and chapter 06, which trains three networks on 55,000 images (180 s).
    ``--check`` allows ``NOISE_TOLERANCE`` on top.
    """
    number = int(key)
    if 1 <= number <= 2:
        return 60, 1024
    if number == 6:
        return 180, 1200
    return 120, 1200


BUDGETS = {path.name[:2]: budget_for(path.name[:2]) for path in chapter_notebooks()}


def kernel_env(**overrides: str | None) -> dict[str, str]:
    """This process's environment with the course's kernel settings forced on.

    ``overrides`` set further variables; a value of None removes one.
    """
    env = {**os.environ, **KERNEL_ENV}
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def pytest_command(paths: list[Path], python: str = sys.executable) -> list[str]:
    """The nbval test of some notebooks, with the options CI uses (from pyproject.toml)."""
    shown = (str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in paths)
    # -c: the options come from pyproject.toml even for a copy outside the project.
    return [python, "-m", "pytest", "-q", "-c", str(ROOT / "pyproject.toml"), *shown]


def cpu_model() -> str:
    """The processor's name as Linux reports it (e.g. "AMD EPYC"); the platform's elsewhere."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def fmt(value, spec: str, missing: str = "-") -> str:
    """``value`` formatted with ``spec``, or ``missing`` when there is none (a table cell)."""
    return missing if value is None else format(value, spec)


class ReadmeBlockError(Exception):
    """The README has no block of that name to fill (or a broken one); the message says how
    to put it back."""


def write_readme_block(name: str, text: str, readme: Path = README) -> None:
    """Put ``text`` between the README's ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` lines.

    The one writer of the README's generated blocks: the benchmark's Timings table
    (``timings``) and the classroom benchmark's table (``classroom-bench``). Everything
    outside the block stays byte for byte as it was, and the file is replaced atomically (a
    temporary file beside it, then ``os.replace``), so a reader never sees half a README.
    Raises :class:`ReadmeBlockError`, writing nothing, unless each marker is there exactly
    once, start before end.
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    with open(readme, encoding="utf-8", newline="") as fh:
        content = fh.read()
    counts = [content.count(start), content.count(end)]
    if counts != [1, 1]:
        found = f"{start} {counts[0]} time(s) and {end} {counts[1]} time(s)"
    elif content.index(start) > content.index(end):
        found = f"{end} before {start}"
    else:
        found = ""
    if found:
        raise ReadmeBlockError(
            f"{readme} has no {name} block to fill: it needs one {start} line and, after "
            f"it, one {end} line, and it has {found}. Put the two marker lines back where "
            "the block belongs (`git log -p README.md` shows where they were), then run again."
        )
    head, rest = content.split(start, 1)
    _, tail = rest.split(end, 1)
    block = text.strip("\n")
    fd, tmp = tempfile.mkstemp(dir=readme.parent, prefix=f".{readme.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(f"{head}{start}\n{block}\n{end}{tail}")
        os.chmod(tmp, stat.S_IMODE(os.stat(readme).st_mode))
        os.replace(tmp, readme)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
