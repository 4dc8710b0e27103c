"""Benchmark the course: wall time, peak kernel memory and headline numbers of every notebook,
beside the source material's recipes (``bench/baselines``).

    python3 course.py bench                 # everything: notebooks + both baselines
    python3 course.py bench --check         # ... and exit 1 if a notebook is over budget
    python3 course.py bench --only 03 04    # some notebooks (baselines run beside 03 and 04)
    python3 course.py bench --no-baselines
    python3 course.py bench --publish       # also update bench/published.json + the README
    python3 course.py bench --against main --only 03   # this tree vs commit main, same run
    python3 course.py bench --against main --repeat 3  # ... each pair 3 times, medians
    python3 course.py bench --isa avx2      # as a CPU without AVX-512 would run it

Each notebook is executed top to bottom in a fresh kernel, as CI does. Its peak
memory is the kernel process's own ``ru_maxrss``, read in that kernel after the
last cell, so nothing is sampled or missed. Headline numbers come from
``helpers.record`` through ``COURSE_METRICS_FILE``. Results go to
``bench/results/`` (not committed): a Markdown table, a JSON file with the
machine and library versions, and a PNG plot of time and memory per notebook.
The machine's processor (model, cores, vector extensions, and the instruction set
oneDNN used: ``bench.cpu``) heads every report and published table; ``--isa``
caps that instruction set (``ONEDNN_MAX_CPU_ISA``) for every notebook and recipe.

This is a benchmark, not a test: timings are noisy, so compare ratios measured
in one run, and run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from bench import against, cpu, report, runner
from bench.common import RESULTS, ReadmeBlockError, chapter_notebooks, kernel_env

# This module is the command line only: bench.runner runs and measures, bench.report writes
# the tables and what --publish publishes, bench.against is --against; none imports this one.


def _isa(name: str) -> str:
    """``--isa``'s value as oneDNN reads it ("avx2" -> "AVX2"); a usage error if unknown."""
    try:
        return cpu.isa_value(name)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def children_env(isa: str | None) -> dict[str, str]:
    """The environment of every measured child (notebook kernel, recipe, probe): the course's
    kernel settings, and ``ONEDNN_MAX_CPU_ISA`` set to ``isa`` when one is given (else as
    the caller's environment has it)."""
    return kernel_env(**({cpu.MAX_ISA_VAR: isa} if isa else {}))


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
        "--isa",
        type=_isa,
        metavar="NAME",
        help="run every notebook and recipe with oneDNN limited to this instruction set "
        f"(ONEDNN_MAX_CPU_ISA): {', '.join(cpu.ISA_VALUES)}; e.g. avx2 measures an "
        "AVX-512 machine as a CPU without AVX-512",
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

    env = children_env(args.isa)
    if args.against:
        return against.against_main(
            args.against, args.only, publish=args.publish, repeat=args.repeat, env=env
        )

    paths = chapter_notebooks(args.only)
    if not paths:
        print(f"No notebook matches {args.only}.", file=sys.stderr)
        return 2
    machine = runner.machine_info(env)  # before the runs: its probe starts TensorFlow
    print(report.processor_line(machine), flush=True)
    rows, ratios = runner.run_chapters(paths, env, baselines=not args.no_baselines)
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
