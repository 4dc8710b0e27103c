"""The README's chapter table, generated from the chapter registry (``helpers/chapters.py``).

    .venv/bin/python -m bench.chapters           # rewrite the table in README.md
    .venv/bin/python -m bench.chapters --check   # exit 1 if README.md's table is not the registry's

The table sits between the README's ``<!-- chapters:start -->`` and ``<!-- chapters:end -->``
lines and is written by :func:`bench.common.write_readme_block`, like the Timings table;
``tests/test_chapters.py`` fails while it differs from :func:`readme_table`.
"""

from __future__ import annotations

import argparse
import sys

from bench.common import (
    CHAPTERS,
    README,
    ReadmeBlockError,
    read_readme_block,
    write_readme_block,
)
from helpers.chapters import Chapter
from helpers.tables import markdown_table

BLOCK = "chapters"


def readme_table(chapters: tuple[Chapter, ...] = CHAPTERS) -> str:
    """The README's chapter table: number, linked title, what you learn."""
    return markdown_table(
        ["#", "Notebook", "What you learn"],
        [(ch.number, f"[{ch.title}](notebooks/{ch.notebook})", ch.learn) for ch in chapters],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chapters",
        description="Write the README's chapter table from helpers/chapters.py.",
    )
    parser.add_argument(
        "--check", action="store_true", help="only compare; exit 1 if the README differs"
    )
    args = parser.parse_args(argv)
    wanted = readme_table()
    if args.check:
        if read_readme_block(BLOCK, README) == wanted:
            print("README.md's chapter table matches helpers/chapters.py.")
            return 0
        print(
            "README.md's chapter table differs from helpers/chapters.py: run "
            "`.venv/bin/python -m bench.chapters` to rewrite it.",
            file=sys.stderr,
        )
        return 1
    try:
        write_readme_block(BLOCK, wanted, README)
    except ReadmeBlockError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"Wrote the chapter table ({len(CHAPTERS)} chapters) into {README}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
