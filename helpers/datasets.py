"""The course's datasets: the public name, the one notebooks, scripts and docs import.

``from helpers.datasets import load_mnist``: every notebook uses this name, and so does
everything else in the project that only loads or checks data (the classroom, the
benchmark's recipes). The code lives in the package :mod:`helpers.data` (``store``,
``images``, ``imdb``, ``corpora``, ``nsmc``, ``cli``), its implementation; this module re-exports
exactly its public names (``helpers.data.__all__``) and is its command line. Import
``helpers.data``'s submodules only to work on or test their internals.

Where the data is, the project's one answer: :func:`data_folders` (``COURSE_DATA_DIR``, then
the course's ``data/``), :func:`default_data_dir` (the first of them) and
:func:`chosen_data_dir` (``COURSE_DATA_DIR`` alone; a relative value is taken from the
current directory, ``~`` is expanded).

python -m helpers.datasets fetch  [--to DIR] [--mirror URL]   download, write SHA256SUMS
python -m helpers.datasets verify [DIR]                       check a folder
python -m helpers.datasets serve  [--dir DIR] [--port PORT]   be the classroom mirror

(``DIR`` defaults to :func:`default_data_dir`.)
"""

import sys

from helpers.data import *  # noqa: F403 - the same public names
from helpers.data import __all__  # noqa: F401
from helpers.data.cli import main

if __name__ == "__main__":
    sys.exit(main())
