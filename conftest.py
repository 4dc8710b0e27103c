"""pytest's set-up for the whole project (options: pyproject.toml).

The notebooks' kernels inherit this process's environment, so a plain
``python -m pytest`` gives them the same settings as ``python3 course.py test``.
"""

import os

from course import KERNEL_ENV

for _name, _value in KERNEL_ENV.items():
    os.environ.setdefault(_name, _value)
