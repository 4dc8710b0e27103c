"""``python3 course.py progress``: the exercises you have done, chapter by chapter.

The progress log (:mod:`helpers.progress`, which the checks write to) and the catalogue of
every check (:func:`helpers.checks.all_checks`) meet here, above both, so the log never has
to import the checks that call it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from helpers import progress
from helpers.checks import all_checks


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="course.py progress",
        description="The exercises you have done, chapter by chapter, from your progress log.",
    )
    parser.add_argument("--csv", type=Path, help="also write one row per check to this file")
    args = parser.parse_args(argv)
    path = progress.log_path()
    if path is None:
        print(f"The progress log is off ({progress.LOG_ENV}=off).", file=sys.stderr)
        return 1
    rows = progress.summarize("you", progress.read_events(path), all_checks())
    print(progress.format_table(rows))
    if not path.is_file():
        print(f"(No checks logged yet: {path} appears after your first exercise check.)")
    if args.csv:
        progress.write_csv(rows, args.csv)
        print(f"Wrote {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
