"""What the maintainer tools share: where things are, how a notebook runs, and its budget;
and the one writer of the README's generated blocks (:func:`write_readme_block`).

Standard library only (and the course's chapter registry, :mod:`helpers.chapters`, and the
machine's description, :mod:`bench.cpu`, both standard library only). ``ROOT`` and the
kernel environment are the launcher's own (``course.py``); the chapters, their notebooks and
budgets are the registry's entries for ``ROOT``; the nbval options live in
``pyproject.toml``, so a tool that tests a notebook runs plain ``pytest`` on it
(:func:`pytest_command`).
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

from bench import cpu
from course import KERNEL_ENV, ROOT
from helpers import chapters as registry

NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"
CHAPTERS = registry.load(ROOT)  # this tree's chapter registry (helpers/chapters.py)


def chapter_notebooks(only: list[str] | None = None) -> list[Path]:
    """The course notebooks, in the registry's order: all, or those whose number is in ``only``."""
    return [NOTEBOOKS / ch.notebook for ch in CHAPTERS if not only or ch.number in only]


NOISE_TOLERANCE = 0.10
"""A run may exceed its time or memory budget by this share before ``--check`` fails it.

The same notebook on the same machine varies by a few percent from run to run (more with
other work on the machine), and peak memory differs by up to about 15% between machines."""


def budget_for(key: str) -> tuple[int, int]:
    """Seconds and MB of peak kernel memory for chapter ``key`` ("05"): its registry entry's.

    The budgets are kept in ``helpers/chapters.py``, whose docstring says where they come
    from (the course guide's 120 s and 1.2 GB per notebook, with the exceptions it names);
    bench/README.md explains how ``--check`` judges a run (``NOISE_TOLERANCE`` on top).
    KeyError for a number the registry does not have.
    """
    return registry.get(key, CHAPTERS).budget


BUDGETS = {chapter.number: chapter.budget for chapter in CHAPTERS}


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
    # A notebook's cells run in order, whatever order plugin a maintainer has installed.
    ordered = ["-p", "no:randomly"]
    return [python, "-m", "pytest", "-q", "-c", str(ROOT / "pyproject.toml"), *ordered, *shown]


def cpu_model() -> str:
    """The processor's name as Linux reports it (e.g. "AMD EPYC"); the platform's elsewhere.

    :func:`bench.cpu.cpu_model`; the rest of the machine's description is in :mod:`bench.cpu`.
    """
    return cpu.cpu_model()


def fmt(value, spec: str, missing: str = "-") -> str:
    """``value`` formatted with ``spec``, or ``missing`` when there is none (a table cell)."""
    return missing if value is None else format(value, spec)


def read_readme_block(name: str, readme: Path = README) -> str | None:
    """The text between the README's ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` lines
    (without the newlines next to the markers), or None unless each is there once, in order."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    content = readme.read_text(encoding="utf-8")
    if content.count(start) != 1 or content.count(end) != 1:
        return None
    rest = content.split(start, 1)[1]
    if end not in rest:
        return None
    return rest.split(end, 1)[0].strip("\n")


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
