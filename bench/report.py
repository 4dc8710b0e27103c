"""The benchmark's reports: the tables of a run, its files in ``bench/results/``, and what
``--publish`` writes (``bench/published.json`` and the README's Timings block).

Nothing here runs a notebook (:mod:`bench.runner`) or reads a command line
(:mod:`bench.run`). The tables come from :func:`helpers.tables.markdown_table`, which
needs neither matplotlib nor NumPy; only :func:`plot` loads matplotlib, when it is called.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import cpu
from bench.common import README, RESULTS, ROOT, fmt, write_readme_block
from helpers.tables import markdown_table

PUBLISHED = ROOT / "bench" / "published.json"
TIMINGS_BLOCK = "timings"  # the name of the README block the Timings table fills


def processor_line(machine: dict) -> str:
    """The line "Processor: <model>, <cores>, <vector extensions>; oneDNN ISA: <what it
    used>." for the top of a report and above a published table (:func:`bench.cpu.summary`). A run
    recorded before the benchmark described the processor says so."""
    processor = machine.get("processor")
    if not processor:
        return (
            "Processor: vector extensions and oneDNN instruction set not recorded (measured "
            "before the benchmark recorded them)."
        )
    return f"Processor: {cpu.summary(processor)}."


def results_markdown(rows: list[dict], ratios: list[dict], machine: dict) -> str:
    lines = [
        f"Machine: {machine['cores']} cores, {machine['memory_gb']} GB, {machine['cpu']}; "
        f"Python {machine['python']}, TensorFlow {machine['versions']['tensorflow']}, "
        f"Keras {machine['versions']['keras']}.",
        "",
        processor_line(machine),
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


def write_results(
    rows: list[dict], ratios: list[dict], machine: dict, stamp: str, results: Path | None = None
) -> str:
    """Write ``bench-<stamp>.{md,json,png}`` and ``latest.*`` into ``results`` (default
    ``bench/results/``); return the Markdown table."""
    results = RESULTS if results is None else results
    results.mkdir(parents=True, exist_ok=True)
    table = results_markdown(rows, ratios, machine)
    report = {"measured": stamp, "machine": machine, "rows": rows, "ratios": ratios}
    for name in (f"bench-{stamp}", "latest"):
        (results / f"{name}.md").write_text(table, encoding="utf-8")
        (results / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        plot(rows, results / f"{name}.png")
    return table


def _gpu_words(machine: dict) -> str:
    gpus = machine.get("gpus")
    return "GPU use unknown" if gpus is None else ("no GPU" if gpus == 0 else f"{gpus} GPU(s)")


def timings_markdown(
    notebooks: dict, recipes: dict, machine: dict, stamp: str, command: str
) -> str:
    """The README's Timings block: how it was measured, then the notebooks' and recipes'
    tables (as :func:`publish` stores them in ``published.json``)."""
    table = [
        f"Measured {stamp[:10]} by {command} on {machine['cores']} CPU cores "
        f"({machine['cpu']}), {machine['memory_gb']} GB RAM, {_gpu_words(machine)}, with the "
        "offline data "
        "(MNIST: a 5,000-image training sample). Time is wall time for a fresh kernel to run the "
        "notebook top to bottom, including TensorFlow's start-up; CPU time is the kernel's user "
        "+ system seconds (up to twice the wall time on 2 cores), what a classroom server shared "
        "by many students runs out of; memory is the kernel's peak.",
        "",
        processor_line(machine),
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
    return "\n".join(table)


def publish(
    rows: list[dict], machine: dict, stamp: str, command: str = "`python3 course.py bench`"
) -> None:
    """Write the README's Timings block and bench/published.json from this run (``command``:
    how the README says it was measured).

    The README first: when its block's markers are missing, :func:`write_readme_block`
    raises :class:`~bench.common.ReadmeBlockError` and nothing is written.
    """
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
    text = timings_markdown(notebooks, recipes, machine, stamp, command)
    write_readme_block(TIMINGS_BLOCK, text, README)
    data = {"measured": stamp, "machine": machine, "notebooks": notebooks, "recipes": recipes}
    PUBLISHED.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
