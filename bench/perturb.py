"""Run every notebook's tests under conditions that change floating point or the data.

    python3 course.py perturb                    # all conditions, all notebooks
    python3 course.py perturb --only 03 05       # some notebooks
    python3 course.py perturb --condition data   # one condition

CI runs the test command on one machine with the offline data. The committed
outputs must also pass on another CPU and on the data Keras downloads, so this
runs ``pytest notebooks/... --nbval`` (the same options as ``course.py test``)
under each condition in turn:

- ``cpu``: pinned to one core with ``TF_ENABLE_ONEDNN_OPTS=0``: other kernels,
  other summation orders, as on a machine with another CPU;
- ``data``: ``COURSE_DATA_DIR`` at the Keras-shaped look-alike built by
  ``bench/variants.py`` (60,000 MNIST training images; IMDB 25,000 + 25,000
  reviews and an 88,584-word index), built first if it is missing.

It exits non-zero if any condition fails. It takes about twice as long as the
notebook part of ``course.py test``; CI does not run it, maintainers do before
a release or after touching a training cell.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from bench import variants
from bench.common import ROOT, chapter_notebooks, kernel_env, pytest_command

CONDITIONS = ("cpu", "data")


def condition_env(name: str, data_dir: Path) -> tuple[dict[str, str], bool]:
    """The environment for one condition, and whether to pin to one core."""
    if name == "cpu":
        return kernel_env(COURSE_SEED_OFFSET=None, TF_ENABLE_ONEDNN_OPTS="0"), True
    return kernel_env(COURSE_SEED_OFFSET=None, COURSE_DATA_DIR=str(data_dir)), False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 course.py perturb",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", nargs="+", metavar="NN", help="notebook numbers, e.g. 03 05")
    parser.add_argument(
        "--condition",
        choices=CONDITIONS,
        action="append",
        help="run only this condition (repeatable)",
    )
    args = parser.parse_args(argv)

    paths = chapter_notebooks(args.only)
    if not paths:
        print(f"No notebook matches {args.only}.", file=sys.stderr)
        return 2
    data_dir = variants.DEFAULT_TARGET
    results = {}
    for name in args.condition or CONDITIONS:
        if name == "data" and not (data_dir / "SHA256SUMS").is_file():
            if not (variants.DEFAULT_SOURCE / "mnist.npz").is_file():
                print(
                    f"Skipping 'data': no offline copies in {variants.DEFAULT_SOURCE} to build "
                    "the variant from.",
                    file=sys.stderr,
                )
                results[name] = None
                continue
            variants.build(variants.DEFAULT_SOURCE, data_dir)
        env, one_core = condition_env(name, data_dir)
        command = pytest_command(paths)
        if one_core:
            first = sorted(os.sched_getaffinity(0))[0]
            command = ["taskset", "-c", str(first), *command]
        print(f"== condition {name}: {' '.join(command[:4])} ...", flush=True)
        results[name] = subprocess.run(command, cwd=ROOT, env=env).returncode
    print()
    for name, code in results.items():
        verdict = "skipped" if code is None else ("passed" if code == 0 else f"FAILED ({code})")
        print(f"{name}: {verdict}")
    return 1 if any(code for code in results.values() if code is not None) else 0


if __name__ == "__main__":
    sys.exit(main())
