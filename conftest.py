"""pytest's set-up for the whole project (options and markers: pyproject.toml).

The notebooks' kernels inherit this process's environment, so a plain
``python -m pytest`` gives them the same settings as ``python3 course.py test``.
The unit tests' own support is in tests/conftest.py.
"""

import os

import pytest

from course import KERNEL_ENV

for _name, _value in KERNEL_ENV.items():
    os.environ.setdefault(_name, _value)


# The files that take longest, longest first (about 230 s for the hub's tests, 30 to 160 s for
# each of these chapters on 2 cores). `course.py test` hands whole files to two workers in
# collection order (pytest-xdist's loadfile with --no-loadscope-reorder); started first, the
# long ones run beside each other and the many short files fill the gaps, instead of a long
# chapter starting last and running alone. Within a file the order never changes.
LONGEST_FIRST = (
    "tests/test_run_twice.py",  # every chapter, twice: about 8 minutes of one worker
    "tests/test_classroom.py",
    "notebooks/05_",
    "notebooks/06_",
    "notebooks/07_",
    "notebooks/08_",
    "notebooks/04_",
    "notebooks/03_",
)


def _rank(item) -> int:
    path = item.path.relative_to(item.config.rootpath).as_posix()
    return next((i for i, start in enumerate(LONGEST_FIRST) if path.startswith(start)), 99)


def pytest_collection_modifyitems(items):
    """Every notebook nbval runs is ``slow``: `pytest -m "not slow"` leaves them out. The
    longest files go first (:data:`LONGEST_FIRST`); the sort is stable."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
    items.sort(key=_rank)
