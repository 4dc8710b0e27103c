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


def pytest_collection_modifyitems(items):
    """Every notebook nbval runs is ``slow``: `pytest -m "not slow"` leaves them out."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
