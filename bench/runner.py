"""The benchmark's runner: a notebook or a source recipe run in a fresh process, measured.

What it measures, per run: wall time, the kernel's CPU-seconds, its peak memory
(``ru_maxrss``, read in the kernel after the last cell), the ``helpers`` it imported, and
the headline numbers the notebook records (``helpers.record`` through
``COURSE_METRICS_FILE``). :func:`run_chapters` runs a set of chapters with their recipes and
judges each against its budget. Nothing here writes a report (:mod:`bench.report`) or reads
a command line (:mod:`bench.run`); ``--against`` (:mod:`bench.against`) runs notebooks
through :func:`run_notebook` too.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    CHAPTERS,
    NOISE_TOLERANCE,
    ROOT,
    budget_for,
    cpu_model,
    fmt,
    kernel_env,
)
from bench.cpu import describe as describe_cpu

BASELINES = ROOT / "bench" / "baselines"
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks' error lines

# Which baseline (bench/baselines/NAME.py) runs beside which chapter: the registry's
# ``baseline`` entries (helpers/chapters.py), e.g. {"03": "mnist_recipe", ...}.
PAIRS = {chapter.number: chapter.baseline for chapter in CHAPTERS if chapter.baseline}

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
            error = ANSI.sub("", str(err)).strip().splitlines()[-1][:300]  # no colour codes
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


def machine_info(env: dict[str, str] | None = None) -> dict:
    """The machine and library versions a run's results record.

    ``processor`` is :func:`bench.cpu.describe`: the CPU's model, cores and vector
    extensions, and the instruction set oneDNN used in a probe run with ``env``, the
    environment the measured notebooks and recipes get (default :func:`kernel_env`).
    """
    import importlib.metadata as md

    from helpers.datasets import chosen_data_dir

    env = kernel_env() if env is None else env
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
        "processor": describe_cpu(env),
        "memory_gb": memory_gb,
        "gpus": _gpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "data": "COURSE_DATA_DIR" if chosen_data_dir() else "default lookup",
    }


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


def run_chapters(
    paths: list[Path], env: dict[str, str], baselines: bool = True
) -> tuple[list[dict], list[dict]]:
    """Each notebook of ``paths`` in turn, with its recipe (:data:`PAIRS`) right after it
    unless ``baselines`` is false: the rows of the report (one per run, with its budget and
    status) and the chapter/recipe ratios. Prints each run's numbers as it ends."""
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
        if recipe and baselines:
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
    return rows, ratios
