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
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import (
    NOISE_TOLERANCE,
    RESULTS,
    ROOT,
    budget_for,
    chapter_notebooks,
    cpu_model,
    fmt,
    kernel_env,
)
from helpers.plotting import markdown_table

PUBLISHED = ROOT / "bench" / "published.json"
BASELINES = ROOT / "bench" / "baselines"

# Which baseline runs beside which chapter.
PAIRS = {"03": "mnist_recipe", "04": "imdb_recipe"}

# Run in the kernel after the last cell: its peak memory (ru_maxrss), its CPU-seconds (user +
# system, with those of the child processes it ran: the IMDB loader reads in one, and a shared
# server pays for those too) and where its ``helpers`` came from (``--against`` checks that).
# A child's own peak memory is not reported: on Linux a child's ru_maxrss starts from its
# parent's size when it was started, so it says nothing about the child.
_PEAK_CELL = (
    "import json as _j, resource as _r, sys as _s\n"
    "_u, _c = _r.getrusage(_r.RUSAGE_SELF), _r.getrusage(_r.RUSAGE_CHILDREN)\n"
    "_p = _u.ru_maxrss\n"
    "print('__PEAK__' + _j.dumps(_p / 2**20 if _s.platform == 'darwin' else _p / 1024))\n"
    "print('__CPU__' + _j.dumps(_u.ru_utime + _u.ru_stime + _c.ru_utime + _c.ru_stime))\n"
    "print('__HELPERS__' + str(getattr(_s.modules.get('helpers'), '__file__', None)))"
)


def parse_peak_cell(text: str) -> dict:
    """Peak MB, CPU-seconds and the ``helpers`` file printed by :data:`_PEAK_CELL`."""
    found = {"peak_mb": None, "cpu_seconds": None, "helpers_file": None}
    for key, pattern in (
        ("peak_mb", r"__PEAK__([\d.]+)"),
        ("cpu_seconds", r"__CPU__([\d.]+)"),
        ("helpers_file", r"__HELPERS__(.+)"),
    ):
        match = re.search(pattern, text)
        if match:
            value = match.group(1).strip()
            found[key] = value if key == "helpers_file" else float(value)
    if found["helpers_file"] == "None":
        found["helpers_file"] = None
    return found


def run_notebook(path: Path, env: dict[str, str], timeout: int = 1800) -> dict:
    """Execute one notebook in a fresh kernel; return time, peak memory and metrics."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PEAK_CELL))
    with tempfile.TemporaryDirectory() as tmp:
        metrics_file = Path(tmp) / "metrics.jsonl"
        kernel_env = {**env, "COURSE_METRICS_FILE": str(metrics_file)}
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        start = time.perf_counter()
        error = None
        try:
            client.execute(env=kernel_env)  # passed on to the kernel it starts
        except CellExecutionError as err:
            error = str(err).strip().splitlines()[-1][:300]
        seconds = time.perf_counter() - start
        last = parse_peak_cell(
            "".join(output.get("text", "") for output in nb.cells[-1].get("outputs", []))
        )
        metrics = {}
        if metrics_file.exists():
            for line in metrics_file.read_text().splitlines():
                item = json.loads(line)
                metrics[item["name"]] = item["value"]
    return {"seconds": seconds, **last, "metrics": metrics, "error": error}


def run_baseline(name: str, env: dict[str, str]) -> dict:
    """Run a recipe script in a fresh Python; it prints one JSON line at the end."""
    script = BASELINES / f"{name}.py"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(script)], env=env, cwd=ROOT, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    result = {
        "seconds": seconds,
        "peak_mb": None,
        "cpu_seconds": None,
        "metrics": {},
        "error": None,
    }
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        result["error"] = f"exit {proc.returncode}: {tail[0][:300]}"
        return result
    data = json.loads(lines[-1])
    result["peak_mb"] = data.pop("peak_mb")
    result["metrics"] = data
    return result


def _gpu_count() -> int | None:
    """How many GPUs TensorFlow sees, asked in a separate Python (TensorFlow is slow to load)."""
    code = (
        "import helpers; helpers._import_tensorflow_quietly(); import tensorflow as tf; "
        "print(len(tf.config.list_physical_devices('GPU')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    try:
        return int(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def machine_info() -> dict:
    import importlib.metadata as md

    cpu = cpu_model()
    try:
        import psutil

        memory_gb = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        memory_gb = None
    versions = {}
    for package in ("tensorflow", "keras", "numpy", "scikit-learn", "matplotlib", "nbclient"):
        try:
            versions[package] = md.version(package)
        except md.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "gpus": _gpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "data": "COURSE_DATA_DIR" if os.environ.get("COURSE_DATA_DIR") else "default lookup",
    }


def results_markdown(rows: list[dict], ratios: list[dict], machine: dict) -> str:
    lines = [
        f"Machine: {machine['cores']} cores, {machine['memory_gb']} GB, {machine['cpu']}; "
        f"Python {machine['python']}, TensorFlow {machine['versions']['tensorflow']}, "
        f"Keras {machine['versions']['keras']}.",
        "",
    ]
    notebook_rows = []
    for row in rows:
        budget = f"{row['budget'][0]} s, {row['budget'][1]:,} MB" if row.get("budget") else "-"
        headline = (
            ", ".join(
                f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                for k, v in row["metrics"].items()
            )
            or "-"
        )
        notebook_rows.append(
            (
                row["name"],
                fmt(row["seconds"], ".1f"),
                fmt(row.get("cpu_seconds"), ".1f"),
                fmt(row["peak_mb"], ",.0f"),
                budget,
                headline,
                row["status"],
            )
        )
    lines.append(
        markdown_table(
            [
                "notebook",
                "wall time (s)",
                "CPU (s)",
                "peak memory (MB)",
                "budget",
                "headline",
                "status",
            ],
            notebook_rows,
            align="lrrrlll",
        )
    )
    if ratios:
        lines += [
            "",
            markdown_table(
                [
                    "chapter vs recipe",
                    "time ratio",
                    "memory ratio",
                    "chapter accuracy",
                    "recipe accuracy",
                ],
                [
                    (
                        f"{r['chapter']} vs {r['recipe']}",
                        fmt(r["time_ratio"], ".2f"),
                        fmt(r["memory_ratio"], ".2f"),
                        fmt(r["chapter_accuracy"], ".4f"),
                        fmt(r["recipe_accuracy"], ".4f"),
                    )
                    for r in ratios
                ],
                align="lrrrr",
            ),
        ]
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["name"] for r in rows]
    colors = [
        "tab:gray"
        if r["kind"] == "recipe"
        else ("tab:blue" if r["status"].startswith("ok") else "tab:red")
        for r in rows
    ]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
    for ax, key, label, index in (
        (axes[0], "seconds", "wall time (s)", 0),
        (axes[1], "peak_mb", "peak memory (MB)", 1),
    ):
        values = [r[key] or 0 for r in rows]
        ax.bar(range(len(rows)), values, color=colors)
        for i, row in enumerate(rows):
            if row.get("budget"):
                ax.hlines(row["budget"][index], i - 0.4, i + 0.4, colors="k", linestyles="--")
        ax.set_xticks(range(len(rows)), names, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_title("Time per notebook (dashed: budget; gray: source recipes)")
    axes[1].set_title("Peak kernel memory (dashed: budget)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _gpu_words(machine: dict) -> str:
    gpus = machine.get("gpus")
    return "GPU use unknown" if gpus is None else ("no GPU" if gpus == 0 else f"{gpus} GPU(s)")


def publish(
    rows: list[dict], machine: dict, stamp: str, command: str = "`python3 course.py bench`"
) -> None:
    """Write bench/published.json and the README's Timings table from this run (``command``:
    how the README says it was measured)."""
    notebooks = {
        r["name"]: {
            "seconds": round(r["seconds"], 1),
            "cpu_seconds": None if r.get("cpu_seconds") is None else round(r["cpu_seconds"], 1),
            "peak_mb": round(r["peak_mb"]),
        }
        for r in rows
        if r["kind"] == "notebook" and r["peak_mb"] is not None
    }
    recipes = {
        r["name"]: {
            "seconds": round(r["seconds"], 1),
            "peak_mb": round(r["peak_mb"]),
            **{k: round(v, 4) for k, v in r["metrics"].items() if isinstance(v, float)},
        }
        for r in rows
        if r["kind"] == "recipe" and r["peak_mb"] is not None
    }
    data = {"measured": stamp, "machine": machine, "notebooks": notebooks, "recipes": recipes}
    PUBLISHED.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    table = [
        f"Measured {stamp[:10]} by {command} on {machine['cores']} CPU cores "
        f"({machine['cpu']}), {machine['memory_gb']} GB RAM, {_gpu_words(machine)}, with the "
        "offline data "
        "(MNIST: a 5,000-image training sample). Time is wall time for a fresh kernel to run the "
        "notebook top to bottom, including TensorFlow's start-up; CPU time is the kernel's user "
        "+ system seconds (up to twice the wall time on 2 cores), what a classroom server shared "
        "by many students runs out of; memory is the kernel's peak.",
        "",
        markdown_table(
            ["notebook", "time", "CPU time", "peak memory"],
            [
                (
                    name,
                    f"{v['seconds']:.0f} s",
                    "-" if v.get("cpu_seconds") is None else f"{v['cpu_seconds']:.0f} s",
                    f"{v['peak_mb']:,} MB",
                )
                for name, v in notebooks.items()
            ],
            align="lrrr",
        ),
    ]
    if recipes:
        table += [
            "",
            "The source material's recipes, on the same machine and data:",
            "",
            markdown_table(
                ["recipe", "time", "peak memory", "test accuracy"],
                [
                    (
                        name,
                        f"{v['seconds']:.0f} s",
                        f"{v['peak_mb']:,} MB",
                        f"{v.get('test_accuracy', float('nan')):.4f}",
                    )
                    for name, v in recipes.items()
                ],
                align="lrrr",
            ),
        ]
    block = "<!-- timings:start -->\n" + "\n".join(table) + "\n<!-- timings:end -->"
    if "<!-- timings:start -->" in text:
        text = re.sub(
            r"<!-- timings:start -->.*?<!-- timings:end -->", lambda _: block, text, flags=re.S
        )
        readme.write_text(text, encoding="utf-8")


def budget_status(result: dict, budget: tuple[int, int]) -> str:
    """ "ok", "ok (time over budget by less than the 10% noise tolerance)", or what failed."""
    over, near = (["FAILED"] if result.get("error") else []), []
    for what, value, limit in (
        ("time", result.get("seconds"), budget[0]),
        ("memory", result.get("peak_mb"), budget[1]),
    ):
        if value is None or value <= limit:
            continue
        (near if value <= limit * (1 + NOISE_TOLERANCE) else over).append(what)
    if over:
        return ", ".join(w if w == "FAILED" else f"over {w}" for w in over)
    if near:
        return (
            f"ok ({' and '.join(near)} over budget by less than the "
            f"{NOISE_TOLERANCE:.0%} noise tolerance)"
        )
    return "ok"


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
        report = json.loads(latest.read_text(encoding="utf-8"))
        publish(report["rows"], report["machine"], report["measured"])
        print(f"Published the run of {report['measured']} to bench/published.json and README.md.")
        return 0

    if args.against:
        from bench.against import against_main

        return against_main(args.against, args.only, publish=args.publish, repeat=args.repeat)

    env = kernel_env()
    paths = chapter_notebooks(args.only)
    if not paths:
        print(f"No notebook matches {args.only}.", file=sys.stderr)
        return 2
    rows, ratios = [], []
    for path in paths:
        key = path.name[:2]
        print(f"running {path.name} ...", flush=True)
        result = run_notebook(path, env)
        seconds_budget, mb_budget = budget_for(key)
        rows.append(
            {
                "name": path.stem,
                "kind": "notebook",
                **result,
                "budget": (seconds_budget, mb_budget),
                "status": budget_status(result, (seconds_budget, mb_budget)),
            }
        )
        print(
            f"  {result['seconds']:.1f} s, {fmt(result['cpu_seconds'], '.1f')} CPU-s, "
            f"{fmt(result['peak_mb'], ',.0f')} MB, "
            f"{rows[-1]['status']}",
            flush=True,
        )
        recipe = PAIRS.get(key)
        if recipe and not args.no_baselines:
            print(f"running baseline {recipe} ...", flush=True)
            base = run_baseline(recipe, env)
            rows.append(
                {
                    "name": recipe,
                    "kind": "recipe",
                    **base,
                    "budget": None,
                    "status": "ok" if not base["error"] else "FAILED",
                }
            )
            print(f"  {base['seconds']:.1f} s, {fmt(base['peak_mb'], ',.0f')} MB", flush=True)
            ch_acc = result["metrics"].get("test_accuracy")
            ratios.append(
                {
                    "chapter": path.stem,
                    "recipe": recipe,
                    "time_ratio": result["seconds"] / base["seconds"] if base["seconds"] else None,
                    "memory_ratio": (
                        result["peak_mb"] / base["peak_mb"]
                        if result["peak_mb"] and base["peak_mb"]
                        else None
                    ),
                    "chapter_accuracy": ch_acc,
                    "recipe_accuracy": base["metrics"].get("test_accuracy"),
                }
            )

    machine = machine_info()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    table = results_markdown(rows, ratios, machine)
    report = {"measured": stamp, "machine": machine, "rows": rows, "ratios": ratios}
    for name in (f"bench-{stamp}", "latest"):
        (RESULTS / f"{name}.md").write_text(table, encoding="utf-8")
        (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        plot(rows, RESULTS / f"{name}.png")
    print()
    print(table)
    print(f"Wrote bench/results/bench-{stamp}.md, .json and .png (and latest.*).")
    if args.publish:
        publish(rows, machine, stamp)
        print("Updated bench/published.json and the README's Timings table.")
    bad = [r for r in rows if r["kind"] == "notebook" and not r["status"].startswith("ok")]
    if args.check and bad:
        listing = ", ".join(f"{r['name']} ({r['status']})" for r in bad)
        print(f"Budget check failed: {listing}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
