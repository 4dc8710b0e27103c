"""Benchmark the course: wall time, peak kernel memory and headline numbers of every notebook,
beside the source material's recipes (``bench/baselines``).

    python3 course.py bench                 # everything: notebooks + both baselines
    python3 course.py bench --check         # ... and exit 1 if a notebook is over budget
    python3 course.py bench --only 03 04    # some notebooks (baselines run beside 03 and 04)
    python3 course.py bench --no-baselines
    python3 course.py bench --publish       # also update bench/published.json + the README
    python3 course.py bench --against main --only 03   # this tree vs commit main, same run
    python3 course.py bench --against main --repeat 3  # ... each pair 3 times, medians

Each notebook is executed top to bottom in a fresh kernel, as CI does. Its peak
memory is the kernel process's own ``ru_maxrss``, read in that kernel after the
last cell, so nothing is sampled or missed. Headline numbers come from
``helpers.record`` through ``COURSE_METRICS_FILE``. Results go to
``bench/results/`` (not committed): a Markdown table, a JSON file with the
machine and library versions, and a PNG plot of time and memory per notebook.

This is a benchmark, not a test: timings are noisy, so compare ratios measured
in one run, and run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from bench import against, report, runner
from bench.common import RESULTS, ReadmeBlockError, chapter_notebooks, kernel_env

# This module is the command line only: bench.runner runs and measures, bench.report writes
# the tables and what --publish publishes, bench.against is --against; none imports this one.


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 course.py bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when a notebook fails or is over its time/memory budget",
    )
    parser.add_argument("--only", nargs="+", metavar="NN", help="notebook numbers, e.g. 03 04")
    parser.add_argument("--no-baselines", action="store_true", help="skip the recipe scripts")
    parser.add_argument(
        "--against",
        metavar="REV",
        help="run the chosen chapters of the current tree and of commit REV, interleaved, "
        "and print the new/old ratios of time, CPU-seconds and peak memory",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="with --against: run each pair N times and compare the medians (default 1)",
    )
    parser.add_argument(
        "--publish",
        action="store_true",
        help="write bench/published.json and the README's Timings table (with --against: "
        "from the current tree's side)",
    )
    parser.add_argument(
        "--publish-latest",
        action="store_true",
        help="publish bench/results/latest.json without running anything",
    )
    args = parser.parse_args(argv)

    if args.publish_latest:
        latest = RESULTS / "latest.json"
        if not latest.exists():
            print(
                "No bench/results/latest.json yet: run `python3 course.py bench` first.",
                file=sys.stderr,
            )
            return 2
        latest_run = json.loads(latest.read_text(encoding="utf-8"))
        try:
            report.publish(latest_run["rows"], latest_run["machine"], latest_run["measured"])
        except ReadmeBlockError as err:
            print(f"Not published: {err}", file=sys.stderr)
            return 1
        print(
            f"Published the run of {latest_run['measured']} to bench/published.json and README.md."
        )
        return 0

    if args.against:
        return against.against_main(
            args.against, args.only, publish=args.publish, repeat=args.repeat
        )

    env = kernel_env()
    paths = chapter_notebooks(args.only)
    if not paths:
        print(f"No notebook matches {args.only}.", file=sys.stderr)
        return 2
    rows, ratios = runner.run_chapters(paths, env, baselines=not args.no_baselines)
    machine = runner.machine_info()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    table = report.write_results(rows, ratios, machine, stamp)
    print()
    print(table)
    print(f"Wrote bench/results/bench-{stamp}.md, .json and .png (and latest.*).")
    status = 0
    if args.publish:
        try:
            report.publish(rows, machine, stamp)
        except ReadmeBlockError as err:
            print(
                f"Not published: {err} This run is in bench/results/latest.json: "
                "`python3 course.py bench --publish-latest` publishes it.",
                file=sys.stderr,
            )
            status = 1
        else:
            print("Updated bench/published.json and the README's Timings table.")
    bad = [r for r in rows if r["kind"] == "notebook" and not r["status"].startswith("ok")]
    if args.check and bad:
        listing = ", ".join(f"{r['name']} ({r['status']})" for r in bad)
        print(f"Budget check failed: {listing}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
