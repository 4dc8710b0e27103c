"""The notebooks' name for :mod:`helpers.data`, and its command line.

python -m helpers.datasets fetch  [--to DIR] [--mirror URL]   download, write SHA256SUMS
python -m helpers.datasets verify [DIR]                       check a folder
python -m helpers.datasets serve  [--dir DIR] [--port PORT]   be the classroom mirror
"""

import sys

from helpers.data import *  # noqa: F403 - the same public names
from helpers.data import __all__  # noqa: F401
from helpers.data.cli import main

if __name__ == "__main__":
    sys.exit(main())
