"""``python3 course.py bench --against REV``: the current tree beside another commit, in one run.

For each chosen chapter, the notebook of commit REV (checked out in a temporary git worktree)
and the current one run back to back, alternating which goes first, each against its own
``helpers`` (its tree's root first on ``PYTHONPATH``). The report gives new/old ratios of wall
time, kernel CPU-seconds and peak memory: machines differ more than their names say, so only
a comparison made in one run on one machine means much (issue 22).

A notebook's time varies from run to run by up to a tenth on a quiet machine (chapter 05 took
111-129 s on one machine in one hour), which a single ratio inherits from both sides. With
``--repeat N`` each pair runs N times, in the order old-new, new-old, ... and the report takes
each side's median, and shows the range of the N paired ratios.

Which notebooks are chapters comes from each tree's own files (:func:`chapter_notebooks_in`):
the current tree's registry for the chapters to run, and REV's own registry for the old
side, read from its worktree as data (``helpers.chapters.read_entries``), never this tree's
imported copy, which may list chapters REV does not have or name them differently. A REV
from before the registry has none; its chapters are then found by the naming rule the
course used before it, ``notebooks/NN_*.ipynb``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

from bench import report as bench_report
from bench import runner as bench_runner
from bench.common import RESULTS, ROOT, ReadmeBlockError, cpu_model, fmt, kernel_env
from bench.runner import run_notebook
from helpers import chapters as registry
from helpers.tables import markdown_table

Runner = Callable[[Path, dict[str, str]], dict]
Baseline = Callable[[str, dict[str, str]], dict]


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
    repeat: int = 1,
) -> list[dict]:
    """Each chosen chapter of the current tree and of ``rev``, interleaved; one dict per chapter.

    The old tree's notebooks run in its own notebooks folder with its root first on PYTHONPATH,
    so they import its own ``helpers``; the current tree's likewise with the current root. The
    order alternates (old first, then new first, ...) from one run to the next, so drift in
    the machine's speed falls on both sides. Each side's runs are kept in ``old_runs`` and
    ``new_runs``; ``old`` and ``new`` summarise them (:func:`summarise`).
    """
    if problem := _repeat_problem(repeat):
        raise ValueError(problem)
    env = kernel_env() if env is None else env
    new_root = repo
    pairs = []
    turn = 0
    with old_worktree(rev, repo) as old_root:
        old_chapters = {p.name: p for p in chapter_notebooks_in(old_root, None)}
        for path in chapter_notebooks_in(new_root, only):
            old_path = old_chapters.get(path.name)  # None: not a chapter of REV
            pair: dict = {"chapter": path.stem, "old_runs": [], "new_runs": []}
            for _ in range(repeat):
                sides = [("old", old_path, old_root), ("new", path, new_root)]
                if turn % 2:
                    sides.reverse()
                turn += 1
                for side, nb_path, root in sides:
                    if nb_path is None or not nb_path.exists():
                        continue
                    print(f"running {side} {nb_path.name} ...", flush=True)
                    result = _check_helpers(runner(nb_path, tree_env(env, root)), root)
                    pair[f"{side}_runs"].append(result)
                    print(
                        f"  {result['seconds']:.1f} s, {fmt(result.get('cpu_seconds'), '.1f')} "
                        f"CPU-s, {fmt(result.get('peak_mb'), ',.0f')} MB"
                        + (f", FAILED: {result['error']}" if result.get("error") else ""),
                        flush=True,
                    )
            pair["old"] = summarise(pair["old_runs"])
            pair["new"] = summarise(pair["new_runs"])
            pairs.append(pair)
    return pairs


def _repeat_problem(repeat: int) -> str | None:
    """What is wrong with a ``--repeat`` value, or None if nothing is."""
    if repeat < 1:
        return f"--repeat needs a whole number of at least 1, got {repeat}."
    return None


def summarise(runs: list[dict]) -> dict | None:
    """One side's runs as one result: the medians, or the first failed run if one failed."""
    if not runs:
        return None
    failed = [r for r in runs if r.get("error")]
    if failed or len(runs) == 1:
        return (failed or runs)[0]

    def middle(key: str) -> float | None:
        values = [r.get(key) for r in runs]
        return None if any(v is None for v in values) else median(values)

    return {
        **runs[0],
        "seconds": middle("seconds"),
        "cpu_seconds": middle("cpu_seconds"),
        "peak_mb": middle("peak_mb"),
        "runs": len(runs),
    }


def chapter_notebooks_in(root: Path, only: list[str] | None) -> list[Path]:
    """The chapter notebooks of the tree at ``root``, all or those numbered in ``only``.

    From that tree's own registry (``root/helpers/chapters.py``, read as data), or, in a
    tree from before the registry, by the old naming rule (``notebooks/NN_*.ipynb``).
    """
    paths = registry.notebook_paths(root)
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
        paired = zip(pair.get("old_runs", []), pair.get("new_runs", []), strict=False)
        row["time_ratio_runs"] = [
            _ratio(n.get("seconds"), o.get("seconds"))
            for o, n in paired
            if not o.get("error") and not n.get("error")
        ]
        row["cpu_ratio"] = _ratio(row["new_cpu_seconds"], row["old_cpu_seconds"])
        row["old_helpers"] = old.get("helpers_file")
        row["new_helpers"] = new.get("helpers_file")
        row["old_error"] = old.get("error") if pair["old"] else "not in the old tree"
        row["new_error"] = new.get("error")
        rows.append(row)
    return rows


def against_markdown(
    rows: list[dict], rev: str, short: str, cpu: str, processor: dict | None = None
) -> str:
    """The Markdown report of a ``--against`` run (``processor``: :func:`bench.cpu.describe`'s
    answer, printed above the table when given)."""
    repeats = max((len(r.get("time_ratio_runs") or []) for r in rows), default=1)
    table = markdown_table(
        [
            "chapter",
            "old s",
            "new s",
            "ratio",
            *(["paired ratios"] if repeats > 1 else []),
            "old CPU-s",
            "new CPU-s",
            "CPU ratio",
            "old MB",
            "new MB",
        ],
        [
            (
                r["chapter"],
                fmt(r["old_seconds"], ".1f"),
                fmt(r["new_seconds"], ".1f"),
                fmt(r["time_ratio"], ".2f"),
                *([_ratio_range(r.get("time_ratio_runs") or [])] if repeats > 1 else []),
                fmt(r["old_cpu_seconds"], ".1f"),
                fmt(r["new_cpu_seconds"], ".1f"),
                fmt(r["cpu_ratio"], ".2f"),
                fmt(r["old_peak_mb"], ",.0f"),
                fmt(r["new_peak_mb"], ",.0f"),
            )
            for r in rows
        ],
        align="lrrr" + "r" * (repeats > 1) + "rrrrr",
    )
    medians = (
        f" Each side ran {repeats} times: the table gives the medians, and the range of the "
        "paired runs' time ratios."
        if repeats > 1
        else ""
    )
    lines = [
        f"Current tree (new) against {rev} ({short}, old), same run, on {cpu}. "
        "Ratios are new/old; below 1 the current tree is faster." + medians,
        "",
        *([bench_report.processor_line({"processor": processor}), ""] if processor else []),
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


def _ratio_range(ratios: list[float | None]) -> str:
    known = [r for r in ratios if r is not None]
    return f"{min(known):.2f}-{max(known):.2f}" if known else "-"


def published_rows(rows: list[dict], baseline: Baseline, env: dict[str, str]) -> list[dict]:
    """The current tree's side of an ``--against`` run, plus the recipes run now, as
    :func:`bench.report.publish` takes them. Raises RuntimeError if anything failed."""
    failed = [r["chapter"] for r in rows if r["new_error"] or r["new_peak_mb"] is None]
    if failed:
        raise RuntimeError(f"the current tree's {', '.join(failed)} did not finish")
    published = [
        {
            "name": r["chapter"],
            "kind": "notebook",
            "seconds": r["new_seconds"],
            "cpu_seconds": r["new_cpu_seconds"],
            "peak_mb": r["new_peak_mb"],
            "metrics": {},
        }
        for r in rows
    ]
    pairs = bench_runner.PAIRS
    for recipe in dict.fromkeys(pairs[key] for key in sorted(pairs)):  # by chapter
        print(f"running baseline {recipe} ...", flush=True)
        result = baseline(recipe, env)
        if result.get("error"):
            raise RuntimeError(f"the recipe {recipe} failed: {result['error']}")
        published.append({"name": recipe, "kind": "recipe", **result})
    return published


def against_main(
    rev: str,
    only: list[str] | None,
    runner: Runner = run_notebook,
    publish: bool = False,
    baseline: Baseline = bench_runner.run_baseline,
    repeat: int = 1,
    env: dict[str, str] | None = None,
) -> int:
    """``--against REV``: run, write ``bench/results/against-<stamp>.{md,json}``, print.

    Every notebook and recipe runs with ``env`` (default :func:`kernel_env`; ``--isa`` adds
    its ``ONEDNN_MAX_CPU_ISA``), and the report records the processor as oneDNN used it with
    that environment (:func:`bench.cpu.describe`). With ``publish``, the current tree's side
    (and the source recipes, run right after on the same machine) become the README's
    Timings table, as a plain ``bench --publish`` would.
    """
    if publish and only:
        print(
            "--against with --publish needs every chapter, for a complete Timings table: "
            "drop --only, or publish a plain `bench --publish` run instead.",
            file=sys.stderr,
        )
        return 2
    try:
        short = _git("rev-parse", "--short", f"{rev}^{{commit}}")
    except RuntimeError as err:
        print(f"Unknown revision {rev!r}: {err}", file=sys.stderr)
        return 2
    if not chapter_notebooks_in(ROOT, only):
        print(f"No notebook matches {only}.", file=sys.stderr)
        return 2
    if problem := _repeat_problem(repeat):
        print(problem, file=sys.stderr)
        return 2
    env = kernel_env() if env is None else env
    machine = bench_runner.machine_info(env)  # before the runs: its probe starts TensorFlow
    print(bench_report.processor_line(machine), flush=True)
    rows = against_rows(run_against(rev, only, runner, env=env, repeat=repeat))
    cpu = cpu_model()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    text = against_markdown(rows, rev, short, cpu, machine.get("processor"))
    summary = {"measured": stamp, "against": rev, "against_commit": short, "cpu": cpu}
    summary["processor"] = machine.get("processor")
    summary["repeat"] = repeat
    summary["rows"] = rows
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"against-{stamp}.md").write_text(text, encoding="utf-8")
    (RESULTS / f"against-{stamp}.json").write_text(
        json.dumps(summary, indent=2) + "\n", encoding="utf-8"
    )
    print()
    print(text)
    print(f"Wrote bench/results/against-{stamp}.md and .json.")
    if publish:
        try:
            published = published_rows(rows, baseline, env)
        except RuntimeError as err:
            print(f"Not published: {err}. Fix it and run again.", file=sys.stderr)
            return 1
        again = f" --repeat {repeat}" if repeat > 1 else ""
        how = (
            f"`python3 course.py bench --against {rev}{again}` "
            "(the current tree's side of that run" + (", medians" if repeat > 1 else "") + ")"
        )
        try:
            bench_report.publish(published, machine, stamp, how)
        except ReadmeBlockError as err:
            print(f"Not published: {err}", file=sys.stderr)
            return 1
        print("Updated bench/published.json and the README's Timings table (current tree).")
    return 0
