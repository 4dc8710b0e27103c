"""Measure how much a notebook's asserted results move with the seed and the machine.

    python3 course.py margins --only 05 --seeds 0 1 2
    python3 course.py margins --only 03 04 --seeds 0 1 --one-core --no-onednn
    python3 course.py margins --only 03 --data .cache/variants/keras-shaped

Every claim a notebook makes about a training result is asserted in the
notebook with a floor (see tests/README.md). The floor must sit well clear of
the spread, so this runs each notebook several times in a fresh kernel, as the
benchmark does, each time with another ``COURSE_SEED_OFFSET`` (which shifts
every ``helpers.seed_everything`` call), and optionally:

- ``--one-core``: pinned to one CPU core (the kernel inherits the affinity);
- ``--no-onednn``: ``TF_ENABLE_ONEDNN_OPTS=0`` (other floating-point kernels);
- ``--data DIR``: ``COURSE_DATA_DIR=DIR``, e.g. a look-alike of the full Keras
  downloads made by ``python3 course.py variants``.

It prints, for each number the notebook records with ``helpers.record``, its
value in every run and the minimum, median and maximum, and whether the
notebook's own assertions held (a failed run shows the assertion's message).
Use the worst value seen, not the typical one, to set a floor.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

from bench.common import RESULTS, chapter_notebooks, kernel_env
from bench.runner import run_notebook
from helpers.tables import markdown_table


def condition_env(seed_offset: int, no_onednn: bool, data: str | None) -> dict[str, str]:
    from helpers.datasets import chosen_data_dir  # here: importing margins loads no NumPy

    # --data is read as a COURSE_DATA_DIR would be; without it, the caller's COURSE_DATA_DIR
    # (if any) stays, as for the tests. Either way the kernels get the resolver's absolute path.
    chosen = chosen_data_dir({"COURSE_DATA_DIR": data} if data else None)
    return kernel_env(
        COURSE_SEED_OFFSET=str(seed_offset),
        TF_ENABLE_ONEDNN_OPTS="0" if no_onednn else None,
        COURSE_DATA_DIR=str(chosen) if chosen else None,
    )


def summarise(runs: list[dict]) -> list[tuple]:
    """One row per recorded number: its values per run, then min / median / max."""
    names: list[str] = []
    for run in runs:
        names += [n for n in run["metrics"] if n not in names]
    rows = []
    for name in names:
        values = [run["metrics"].get(name) for run in runs]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        cells = [
            ("-" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))) for v in values
        ]
        if numbers:
            stats = [
                f"{min(numbers):.4g}",
                f"{statistics.median(numbers):.4g}",
                f"{max(numbers):.4g}",
            ]
        else:
            stats = ["-", "-", "-"]
        rows.append((name, *cells, *stats))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 course.py margins",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only", nargs="+", metavar="NN", required=True, help="notebook numbers, e.g. 03 05"
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=[0, 1, 2],
        metavar="K",
        help="seed offsets to run (default: 0 1 2)",
    )
    parser.add_argument("--one-core", action="store_true", help="pin the kernels to CPU 0")
    parser.add_argument("--no-onednn", action="store_true", help="TF_ENABLE_ONEDNN_OPTS=0")
    parser.add_argument("--data", metavar="DIR", help="COURSE_DATA_DIR for these runs")
    args = parser.parse_args(argv)

    paths = chapter_notebooks(args.only)
    if not paths:
        print(f"No notebook matches {args.only}.", file=sys.stderr)
        return 2
    if args.one_core:
        if not hasattr(os, "sched_setaffinity"):
            print("--one-core needs Linux (os.sched_setaffinity).", file=sys.stderr)
            return 2
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    condition = (
        ", ".join(
            filter(
                None,
                [
                    "one core" if args.one_core else "",
                    "oneDNN off" if args.no_onednn else "",
                    f"data {args.data}" if args.data else "",
                ],
            )
        )
        or "normal"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    failed = False
    for path in paths:
        runs = []
        for k in args.seeds:
            print(f"{path.stem}: seed offset {k} ({condition}) ...", flush=True)
            result = run_notebook(path, condition_env(k, args.no_onednn, args.data))
            status = "ok" if not result["error"] else f"FAILED: {result['error']}"
            print(f"  {result['seconds']:.0f} s, {status}", flush=True)
            failed |= bool(result["error"])
            runs.append({"seed_offset": k, **result})
        headers = ["recorded number", *[f"offset {k}" for k in args.seeds], "min", "median", "max"]
        table = markdown_table(headers, summarise(runs), align="l" + "r" * (len(headers) - 1))
        asserts = [
            f"offset {r['seed_offset']}: {r['error'] or 'all assertions held'}" for r in runs
        ]
        text = (
            f"## {path.stem} ({condition})\n\n{table}\n\n"
            + "\n".join(f"- {line}" for line in asserts)
            + "\n"
        )
        print("\n" + text, flush=True)
        out = RESULTS / f"margins-{path.stem}.jsonl"
        with out.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"condition": condition, "runs": runs}) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
