"""Benchmark the course: wall time, peak kernel memory and headline numbers of every notebook,
beside the source material's recipes (``bench/baselines``).

    python3 course.py bench                 # everything: notebooks + both baselines
    python3 course.py bench --check         # ... and exit 1 if a notebook is over budget
    python3 course.py bench --only 03 04    # some notebooks (baselines run beside 03 and 04)
    python3 course.py bench --no-baselines
    python3 course.py bench --publish       # also update bench/published.json + the README
    python3 course.py bench --against main --only 03   # this tree vs commit main, same run

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
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bench.common import RESULTS, ROOT, budget_for, chapter_notebooks, cpu_model, kernel_env
from helpers.plotting import markdown_table

PUBLISHED = ROOT / "bench" / "published.json"
BASELINES = ROOT / "bench" / "baselines"

# Which baseline runs beside which chapter.
PAIRS = {"03": "mnist_recipe", "04": "imdb_recipe"}

# Run in the kernel after the last cell: its peak memory (ru_maxrss), its CPU-seconds
# (user + system) and where its ``helpers`` came from (``--against`` checks that).
_PEAK_CELL = (
    "import json as _j, resource as _r, sys as _s\n"
    "_u = _r.getrusage(_r.RUSAGE_SELF)\n"
    "_p = _u.ru_maxrss\n"
    "print('__PEAK__' + _j.dumps(_p / 2**20 if _s.platform == 'darwin' else _p / 1024))\n"
    "print('__CPU__' + _j.dumps(_u.ru_utime + _u.ru_stime))\n"
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


def _fmt(value, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


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
                _fmt(row["seconds"], ".1f"),
                _fmt(row.get("cpu_seconds"), ".1f"),
                _fmt(row["peak_mb"], ",.0f"),
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
                        _fmt(r["time_ratio"], ".2f"),
                        _fmt(r["memory_ratio"], ".2f"),
                        _fmt(r["chapter_accuracy"], ".4f"),
                        _fmt(r["recipe_accuracy"], ".4f"),
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
        "tab:gray" if r["kind"] == "recipe" else ("tab:red" if r["status"] != "ok" else "tab:blue")
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


def publish(rows: list[dict], machine: dict, stamp: str) -> None:
    """Write bench/published.json and the README's Timings table from this run."""
    notebooks = {
        r["name"]: {"seconds": round(r["seconds"], 1), "peak_mb": round(r["peak_mb"])}
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
        f"Measured {stamp[:10]} by `python3 course.py bench` on {machine['cores']} CPU cores "
        f"({machine['cpu']}), {machine['memory_gb']} GB RAM, {_gpu_words(machine)}, with the "
        "offline data "
        "(MNIST: a 5,000-image training sample). Time is wall time for a fresh kernel to run the "
        "notebook top to bottom, including TensorFlow's start-up; memory is the kernel's peak.",
        "",
        markdown_table(
            ["notebook", "time", "peak memory"],
            [
                (name, f"{v['seconds']:.0f} s", f"{v['peak_mb']:,} MB")
                for name, v in notebooks.items()
            ],
            align="lrr",
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


# --- --against REV: the current tree beside another commit, in one run ----------------------

Runner = Callable[[Path, dict[str, str]], dict]


def _git(*args: str, cwd: Path = ROOT) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.strip()


@contextmanager
def old_worktree(rev: str, repo: Path = ROOT) -> Iterator[Path]:
    """Check ``rev`` out in a temporary detached worktree; remove it afterwards, always."""
    tmp = Path(tempfile.mkdtemp(prefix="course-against-"))
    tree = tmp / "old"
    try:
        _git("worktree", "add", "--detach", str(tree), rev, cwd=repo)
        yield tree
    finally:
        if tree.exists():
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)],
                cwd=repo,
                capture_output=True,
            )
        shutil.rmtree(tmp, ignore_errors=True)


def tree_env(env: dict[str, str], root: Path) -> dict[str, str]:
    """``env`` with ``root`` first on PYTHONPATH, so a kernel imports that tree's ``helpers``.

    PYTHONPATH entries come before site-packages on ``sys.path``, and the editable install's
    finder (a ``.pth`` path or a meta-path finder appended after the path finder) is asked only
    when the path finder fails, so ``root/helpers`` wins.
    """
    old = env.get("PYTHONPATH")
    return {**env, "PYTHONPATH": str(root) + (os.pathsep + old if old else "")}


def _check_helpers(result: dict, root: Path) -> dict:
    """Mark a run whose kernel imported ``helpers`` from outside ``root`` as failed."""
    found = result.get("helpers_file")
    if found and not Path(found).resolve().is_relative_to(root.resolve()):
        result = {**result, "error": result.get("error") or f"helpers came from {found}"}
    return result


def run_against(
    rev: str,
    only: list[str] | None,
    runner: Runner = run_notebook,
    repo: Path = ROOT,
    env: dict[str, str] | None = None,
) -> list[dict]:
    """Each chosen chapter of the current tree and of ``rev``, interleaved; one dict per chapter.

    The old tree's notebooks run in its own notebooks folder with its root first on PYTHONPATH,
    so they import its own ``helpers``; the current tree's likewise with the current root. The
    order alternates (old first, then new first, ...) so drift in the machine's speed falls on
    both sides.
    """
    env = kernel_env() if env is None else env
    new_root = repo
    pairs = []
    with old_worktree(rev, repo) as old_root:
        for index, path in enumerate(chapter_notebooks_in(new_root, only)):
            old_path = old_root / path.relative_to(new_root)
            sides = [("old", old_path, old_root), ("new", path, new_root)]
            if index % 2:
                sides.reverse()
            pair = {"chapter": path.stem, "old": None, "new": None}
            for side, nb_path, root in sides:
                if not nb_path.exists():
                    continue
                print(f"running {side} {nb_path.name} ...", flush=True)
                result = _check_helpers(runner(nb_path, tree_env(env, root)), root)
                pair[side] = result
                print(
                    f"  {result['seconds']:.1f} s, {_fmt(result.get('cpu_seconds'), '.1f')} "
                    f"CPU-s, {_fmt(result.get('peak_mb'), ',.0f')} MB"
                    + (f", FAILED: {result['error']}" if result.get("error") else ""),
                    flush=True,
                )
            pairs.append(pair)
    return pairs


def chapter_notebooks_in(root: Path, only: list[str] | None) -> list[Path]:
    """The chapter notebooks of the tree at ``root``, all or those numbered in ``only``."""
    paths = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return [p for p in paths if not only or p.name[:2] in only]


def _ratio(new, old):
    return new / old if new is not None and old else None


def against_rows(pairs: list[dict]) -> list[dict]:
    """Per chapter: old and new wall seconds, CPU-seconds, peak MB, and the new/old ratios."""
    rows = []
    for pair in pairs:
        old, new = pair["old"] or {}, pair["new"] or {}
        row = {"chapter": pair["chapter"]}
        for key in ("seconds", "cpu_seconds", "peak_mb"):
            row[f"old_{key}"] = old.get(key)
            row[f"new_{key}"] = new.get(key)
        row["time_ratio"] = _ratio(row["new_seconds"], row["old_seconds"])
        row["cpu_ratio"] = _ratio(row["new_cpu_seconds"], row["old_cpu_seconds"])
        row["old_helpers"] = old.get("helpers_file")
        row["new_helpers"] = new.get("helpers_file")
        row["old_error"] = old.get("error") if pair["old"] else "not in the old tree"
        row["new_error"] = new.get("error")
        rows.append(row)
    return rows


def against_markdown(rows: list[dict], rev: str, short: str, cpu: str) -> str:
    """The Markdown report of a ``--against`` run."""
    table = markdown_table(
        [
            "chapter",
            "old s",
            "new s",
            "ratio",
            "old CPU-s",
            "new CPU-s",
            "CPU ratio",
            "old MB",
            "new MB",
        ],
        [
            (
                r["chapter"],
                _fmt(r["old_seconds"], ".1f"),
                _fmt(r["new_seconds"], ".1f"),
                _fmt(r["time_ratio"], ".2f"),
                _fmt(r["old_cpu_seconds"], ".1f"),
                _fmt(r["new_cpu_seconds"], ".1f"),
                _fmt(r["cpu_ratio"], ".2f"),
                _fmt(r["old_peak_mb"], ",.0f"),
                _fmt(r["new_peak_mb"], ",.0f"),
            )
            for r in rows
        ],
        align="lrrrrrrrr",
    )
    lines = [
        f"Current tree (new) against {rev} ({short}, old), same run, on {cpu}. "
        "Ratios are new/old; below 1 the current tree is faster.",
        "",
        table,
    ]
    problems = [
        f"- {r['chapter']} {side}: {r[f'{side}_error']}"
        for r in rows
        for side in ("old", "new")
        if r[f"{side}_error"]
    ]
    if problems:
        lines += ["", "Problems:", "", *problems]
    return "\n".join(lines) + "\n"


def against_main(rev: str, only: list[str] | None, runner: Runner = run_notebook) -> int:
    """``--against REV``: run, write ``bench/results/against-<stamp>.{md,json}``, print."""
    try:
        short = _git("rev-parse", "--short", f"{rev}^{{commit}}")
    except RuntimeError as err:
        print(f"Unknown revision {rev!r}: {err}", file=sys.stderr)
        return 2
    if not chapter_notebooks_in(ROOT, only):
        print(f"No notebook matches {only}.", file=sys.stderr)
        return 2
    rows = against_rows(run_against(rev, only, runner))
    cpu = cpu_model()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    text = against_markdown(rows, rev, short, cpu)
    report = {"measured": stamp, "against": rev, "against_commit": short, "cpu": cpu}
    report["rows"] = rows
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"against-{stamp}.md").write_text(text, encoding="utf-8")
    (RESULTS / f"against-{stamp}.json").write_text(
        json.dumps(report, indent=2) + "\n", encoding="utf-8"
    )
    print()
    print(text)
    print(f"Wrote bench/results/against-{stamp}.md and .json.")
    return 0


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
        "--publish",
        action="store_true",
        help="write bench/published.json and the README's Timings table",
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
        return against_main(args.against, args.only)

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
        over = []
        if result["error"]:
            over.append("FAILED")
        if result["seconds"] > seconds_budget:
            over.append("over time")
        if result["peak_mb"] is not None and result["peak_mb"] > mb_budget:
            over.append("over memory")
        rows.append(
            {
                "name": path.stem,
                "kind": "notebook",
                **result,
                "budget": (seconds_budget, mb_budget),
                "status": ", ".join(over) or "ok",
            }
        )
        print(
            f"  {result['seconds']:.1f} s, {_fmt(result['cpu_seconds'], '.1f')} CPU-s, "
            f"{_fmt(result['peak_mb'], ',.0f')} MB, "
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
            print(f"  {base['seconds']:.1f} s, {_fmt(base['peak_mb'], ',.0f')} MB", flush=True)
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
    bad = [r for r in rows if r["kind"] == "notebook" and r["status"] != "ok"]
    if args.check and bad:
        listing = ", ".join(f"{r['name']} ({r['status']})" for r in bad)
        print(f"Budget check failed: {listing}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
