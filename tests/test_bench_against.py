"""`course.py bench --against REV` (bench/against.py): the report, the worktree, the interleaving.

No notebook runs here: a fake runner stands in for the kernel, so nothing starts TensorFlow.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import against, report, runner
from bench.common import ROOT


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture()
def repo(tmp_path):
    """A throwaway repository: commit 1 has chapters 00-01, the working tree adds 02."""
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    (root / "helpers").mkdir()
    (root / "helpers" / "__init__.py").write_text("VERSION = 'old'\n")
    for name in ("00_start.ipynb", "01_first.ipynb"):
        (root / "notebooks" / name).write_text("{}")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "old")
    (root / "helpers" / "__init__.py").write_text("VERSION = 'new'\n")
    (root / "notebooks" / "02_second.ipynb").write_text("{}")
    return root


def _worktrees(root: Path) -> list[str]:
    return [ln for ln in _git(root, "worktree", "list", "--porcelain").splitlines() if ln]


class FakeRunner:
    """Records each call; answers as a kernel would, with the helpers found on PYTHONPATH."""

    def __init__(self, fail_on: str | None = None):
        self.calls: list[tuple[Path, str]] = []
        self.fail_on = fail_on

    def __call__(self, path: Path, env: dict[str, str]) -> dict:
        if self.fail_on and path.name.startswith(self.fail_on):
            raise KeyboardInterrupt
        first = Path(env["PYTHONPATH"].split(":")[0])
        assert path.exists()
        self.calls.append((path, (first / "helpers" / "__init__.py").read_text()))
        old = "old" in self.calls[-1][1]
        return {
            "seconds": 20.0 if old else 10.0,
            "cpu_seconds": 30.0 if old else 15.0,
            "peak_mb": 800.0 if old else 700.0,
            "helpers_file": str(first / "helpers" / "__init__.py"),
            "metrics": {},
            "error": None,
        }


def test_old_chapters_run_in_a_worktree_of_rev_with_their_own_helpers(repo):
    runner = FakeRunner()
    pairs = against.run_against("HEAD", ["00", "01"], runner=runner, repo=repo, env={})
    trees = {path.parent.parent for path, _ in runner.calls}
    old_tree = next(t for t in trees if t != repo)
    assert old_tree.name == "old" and not old_tree.exists()  # removed afterwards
    # old then new for chapter 00, new then old for 01 (interleaved, alternating)
    sides = [("old" if path.parent.parent == old_tree else "new") for path, _ in runner.calls]
    assert sides == ["old", "new", "new", "old"]
    for path, helpers in runner.calls:
        expected = "old" if path.parent.parent == old_tree else "new"
        assert f"VERSION = '{expected}'" in helpers
    assert [p["chapter"] for p in pairs] == ["00_start", "01_first"]
    assert pairs[0]["old"]["seconds"] == 20.0 and pairs[0]["new"]["seconds"] == 10.0
    assert not [ln for ln in _worktrees(repo) if "course-against-" in ln]


def test_a_chapter_missing_from_rev_runs_only_new(repo):
    pairs = against.run_against("HEAD", ["02"], runner=FakeRunner(), repo=repo, env={})
    assert pairs[0]["old"] is None and pairs[0]["new"]["seconds"] == 10.0
    row = against.against_rows(pairs)[0]
    assert row["time_ratio"] is None and row["old_error"] == "not in the old tree"


def test_the_worktree_is_removed_on_ctrl_c(repo):
    runner = FakeRunner(fail_on="01")
    with pytest.raises(KeyboardInterrupt):
        against.run_against("HEAD", None, runner=runner, repo=repo, env={})
    assert not [ln for ln in _worktrees(repo) if "course-against-" in ln]
    assert all(not path.exists() for path, _ in runner.calls if path.parent.parent != repo)


def test_an_unknown_rev_leaves_no_worktree(repo):
    with pytest.raises(RuntimeError, match="worktree add"):
        against.run_against("no-such-rev", None, runner=FakeRunner(), repo=repo, env={})
    assert not [ln for ln in _worktrees(repo) if "course-against-" in ln]


def test_python_path_puts_the_tree_first():
    env = against.tree_env({"PYTHONPATH": "/elsewhere"}, Path("/old/tree"))
    assert env["PYTHONPATH"].split(":") == ["/old/tree", "/elsewhere"]
    assert against.tree_env({}, Path("/old/tree"))["PYTHONPATH"] == "/old/tree"


def test_helpers_from_the_wrong_tree_mark_the_run_failed(tmp_path):
    result = {"seconds": 1.0, "helpers_file": "/somewhere/else/helpers/__init__.py", "error": None}
    assert "helpers came from /somewhere/else" in against._check_helpers(result, tmp_path)["error"]
    inside = {**result, "helpers_file": str(tmp_path / "helpers" / "__init__.py")}
    assert against._check_helpers(inside, tmp_path)["error"] is None


def test_the_kernel_cell_reports_peak_cpu_and_helpers():
    text = "__PEAK__812.5\n__CPU__41.25\n__HELPERS__/t/helpers/__init__.py\n"
    assert runner.parse_peak_cell(text) == {
        "peak_mb": 812.5,
        "cpu_seconds": 41.25,
        "helpers_file": "/t/helpers/__init__.py",
    }
    assert runner.parse_peak_cell("")["cpu_seconds"] is None


def test_the_kernel_cell_counts_a_child_process_cpu(tmp_path):
    """A child that computes for half a second: its CPU time is part of the total."""
    child = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass"
    code = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])\n"
    out = subprocess.run(
        [sys.executable, "-c", code + runner._PEAK_CELL],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert runner.parse_peak_cell(out)["cpu_seconds"] >= 0.5


def test_the_ratio_table_from_fake_results():
    pairs = [
        {
            "chapter": "03_mnist",
            "old": {"seconds": 40.0, "cpu_seconds": 60.0, "peak_mb": 1000.0, "error": None},
            "new": {"seconds": 30.0, "cpu_seconds": 45.0, "peak_mb": 900.0, "error": None},
        },
        {
            "chapter": "04_imdb",
            "old": {"seconds": 50.0, "cpu_seconds": None, "peak_mb": None, "error": "boom"},
            "new": {"seconds": 55.0, "cpu_seconds": 70.0, "peak_mb": 1200.0, "error": None},
        },
    ]
    rows = against.against_rows(pairs)
    assert rows[0]["time_ratio"] == pytest.approx(0.75)
    assert rows[0]["cpu_ratio"] == pytest.approx(0.75)
    assert rows[1]["time_ratio"] == pytest.approx(1.1) and rows[1]["cpu_ratio"] is None
    text = against.against_markdown(rows, "main", "abc1234", "AMD EPYC")
    assert "main (abc1234" in text and "AMD EPYC" in text
    assert "| 03_mnist | 40.0 | 30.0 | 0.75 | 60.0 | 45.0 | 0.75 | 1,000 | 900 |" in text
    assert "| 04_imdb | 50.0 | 55.0 | 1.10 | - | 70.0 | - | - | 1,200 |" in text
    assert "- 04_imdb old: boom" in text


def _no_tensorflow_machine(env=None) -> dict:
    """runner.machine_info without the two TensorFlow starts (GPU count, oneDNN probe)."""
    processor = {"model": "X", "logical_cores": 2, "usable_cores": 2, "extensions": ["AVX2"]}
    processor["onednn"] = {"isa": "Intel AVX2", "isa_name": "avx2", "problem": None}
    return {"cpu": "X", "cores": 2, "memory_gb": 8, "gpus": 0, "processor": processor}


def test_against_main_writes_the_report(tmp_path, monkeypatch, capsys):
    """The real repository at HEAD, with the fake runner: md and json land in the results."""
    monkeypatch.setattr(against, "RESULTS", tmp_path)
    monkeypatch.setattr(runner, "machine_info", _no_tensorflow_machine)
    before = _worktrees(ROOT)
    assert against.against_main("HEAD", ["00"], runner=FakeRunner()) == 0
    assert _worktrees(ROOT) == before
    (md,) = tmp_path.glob("against-*.md")
    (js,) = tmp_path.glob("against-*.json")
    report = json.loads(js.read_text())
    assert report["against_commit"] == _git(ROOT, "rev-parse", "--short", "HEAD")
    assert report["rows"][0]["chapter"].startswith("00_")
    assert report["processor"]["onednn"]["isa_name"] == "avx2"
    assert "oneDNN ISA: avx2" in md.read_text()
    assert md.read_text() in capsys.readouterr().out


def test_the_normal_table_has_cpu_seconds():
    machine = {"cores": 2, "memory_gb": 8, "cpu": "X", "python": "3.11", "versions": {}}
    machine["versions"] = {"tensorflow": "2.21", "keras": "3"}
    row = {"name": "01_a", "kind": "notebook", "seconds": 10.0, "cpu_seconds": 12.5}
    row.update(peak_mb=500.0, budget=(60, 1024), metrics={}, status="ok")
    text = report.results_markdown([row], [], machine)
    assert "CPU (s)" in text and "| 01_a | 10.0 | 12.5 | 500 |" in text


def test_python_path_beats_the_editable_install_of_helpers(tmp_path):
    """The .venv installs this tree's helpers in editable mode; the old tree's must still win."""
    old = tmp_path / "old"
    (old / "helpers").mkdir(parents=True)
    (old / "helpers" / "__init__.py").write_text("")
    (tmp_path / "notebooks").mkdir()
    code = "import helpers; print(helpers.__file__)"
    env = against.tree_env({"PATH": "/usr/bin:/bin"}, old)
    found = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path / "notebooks",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(found) == old / "helpers" / "__init__.py"


def test_budget_status_allows_the_stated_noise_tolerance():
    from bench.common import NOISE_TOLERANCE, budget_for
    from bench.runner import budget_status

    assert budget_for("05") == (120, 1200) and budget_for("06") == (120, 1200)
    assert budget_for("01") == (60, 1024)
    budget = (120, 1200)
    assert budget_status({"seconds": 100.0, "peak_mb": 900.0}, budget) == "ok"
    near = budget_status({"seconds": 120 * (1 + NOISE_TOLERANCE) - 1, "peak_mb": 900.0}, budget)
    assert near.startswith("ok (time over budget by less than the 10%")
    assert budget_status({"seconds": 140.0, "peak_mb": 1400.0}, budget) == "over time, over memory"
    assert budget_status({"seconds": 10.0, "peak_mb": None, "error": "boom"}, budget) == "FAILED"


def test_publish_writes_cpu_seconds_to_the_json_and_the_readme(tmp_path, monkeypatch):
    (tmp_path / "bench").mkdir()
    (tmp_path / "README.md").write_text(
        "# T\n\n<!-- timings:start -->\nold\n<!-- timings:end -->\n", encoding="utf-8"
    )
    monkeypatch.setattr(report, "README", tmp_path / "README.md")
    monkeypatch.setattr(report, "PUBLISHED", tmp_path / "bench" / "published.json")
    rows = [
        {
            "name": "05_x",
            "kind": "notebook",
            "seconds": 70.26,
            "cpu_seconds": 101.04,
            "peak_mb": 1010.4,
            "metrics": {},
        },
        {
            "name": "06_y",
            "kind": "notebook",
            "seconds": 90.0,
            "cpu_seconds": None,
            "peak_mb": 990.0,
            "metrics": {},
        },
    ]
    machine = {"cores": 2, "cpu": "AMD EPYC", "memory_gb": 23.5, "gpus": 0}
    report.publish(rows, machine, "2026-11-30T06-00-00Z")
    data = json.loads((tmp_path / "bench" / "published.json").read_text(encoding="utf-8"))
    assert data["notebooks"]["05_x"] == {"seconds": 70.3, "cpu_seconds": 101.0, "peak_mb": 1010}
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "| notebook | time | CPU time | peak memory |" in readme and "old" not in readme
    assert (
        "| 05_x | 70 s | 101 s | 1,010 MB |" in readme and "| 06_y | 90 s | - | 990 MB |" in readme
    )


def test_margins_keeps_the_callers_data_folder_unless_told_otherwise(monkeypatch, tmp_path):
    from bench.margins import condition_env

    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert condition_env(0, False, None)["COURSE_DATA_DIR"] == str(tmp_path)
    other = tmp_path / "variant"
    assert condition_env(1, True, str(other))["COURSE_DATA_DIR"] == str(other.resolve())
    monkeypatch.delenv("COURSE_DATA_DIR")
    assert "COURSE_DATA_DIR" not in condition_env(0, False, None)


def _fake_baseline(name: str, env: dict[str, str]) -> dict:
    return {"seconds": 5.0, "cpu_seconds": 6.0, "peak_mb": 300.0, "metrics": {}, "error": None}


def _side_runner(path: Path, env: dict[str, str]) -> dict:
    """Old (in the temporary worktree) takes 20 s, the current tree 10 s."""
    old = "course-against-" in str(path)
    first = Path(env["PYTHONPATH"].split(":")[0])
    return {
        "seconds": 20.0 if old else 10.0,
        "cpu_seconds": 30.0 if old else 15.0,
        "peak_mb": 800.0 if old else 700.0,
        "metrics": {},
        "error": None,
        "helpers_file": str(first / "helpers" / "__init__.py"),
    }


@pytest.mark.slow  # checks this repository's HEAD out in a git worktree
def test_against_publish_takes_the_current_side_and_the_recipes(tmp_path, monkeypatch):
    monkeypatch.setattr(against, "RESULTS", tmp_path)
    monkeypatch.setattr(runner, "machine_info", _no_tensorflow_machine)
    published = {}
    monkeypatch.setattr(
        report, "publish", lambda rows, machine, stamp, how: published.update(rows=rows, how=how)
    )
    assert (
        against.against_main(
            "HEAD", None, runner=_side_runner, publish=True, baseline=_fake_baseline
        )
        == 0
    )
    notebooks = [r for r in published["rows"] if r["kind"] == "notebook"]
    recipes = [r["name"] for r in published["rows"] if r["kind"] == "recipe"]
    assert notebooks and {(r["seconds"], r["cpu_seconds"], r["peak_mb"]) for r in notebooks} == {
        (10.0, 15.0, 700.0)  # the fake runner's current-tree answer, not the old one's
    }
    assert sorted(recipes) == sorted(set(runner.PAIRS.values()))
    assert "--against HEAD" in published["how"]


def test_against_publish_refuses_a_partial_or_failed_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(against, "RESULTS", tmp_path)
    monkeypatch.setattr(report, "publish", lambda *a: pytest.fail("must not publish"))
    assert against.against_main("HEAD", ["00"], runner=FakeRunner(), publish=True) == 2
    assert "needs every chapter" in capsys.readouterr().err
    rows = [{"chapter": "00_a", "new_error": "boom", "new_peak_mb": None}]
    with pytest.raises(RuntimeError, match="00_a did not finish"):
        against.published_rows(rows, _fake_baseline, {})
    rows = [
        {
            "chapter": "00_a",
            "new_error": None,
            "new_peak_mb": 700.0,
            "new_seconds": 1.0,
            "new_cpu_seconds": 1.0,
        }
    ]
    failing = lambda name, env: {**_fake_baseline(name, env), "error": "no data"}  # noqa: E731
    with pytest.raises(RuntimeError, match="recipe .* failed: no data"):
        against.published_rows(rows, failing, {})


class VaryingRunner(FakeRunner):
    """Each side's n-th run takes 1 s longer than its previous one; the new side's 2nd fails."""

    def __init__(self, fail_new_run: int | None = None):
        super().__init__()
        self.count = {"old": 0, "new": 0}
        self.fail_new_run = fail_new_run

    def __call__(self, path, env):
        result = super().__call__(path, env)
        side = "old" if "old" in self.calls[-1][1] else "new"
        self.count[side] += 1
        result["seconds"] += self.count[side] - 1
        if side == "new" and self.count[side] == self.fail_new_run:
            result["error"] = "kernel died"
        return result


def test_repeat_runs_each_pair_in_alternating_order_and_takes_medians(repo):
    runner = VaryingRunner()
    pairs = against.run_against("HEAD", ["00"], runner=runner, repo=repo, env={}, repeat=3)
    sides = ["old" if "old" in text else "new" for _, text in runner.calls]
    assert sides == ["old", "new", "new", "old", "old", "new"]
    (pair,) = pairs
    assert [r["seconds"] for r in pair["old_runs"]] == [20.0, 21.0, 22.0]
    assert pair["old"]["seconds"] == 21.0 and pair["new"]["seconds"] == 11.0
    assert pair["new"]["runs"] == 3 and pair["old"]["peak_mb"] == 800.0
    (row,) = against.against_rows(pairs)
    assert row["time_ratio"] == pytest.approx(11 / 21)
    assert row["time_ratio_runs"] == pytest.approx([10 / 20, 11 / 21, 12 / 22])
    text = against.against_markdown([row], "main", "abc1234", "AMD EPYC")
    assert "paired ratios" in text and "| 0.50-0.55 |" in text and "ran 3 times" in text


def test_one_failed_repeat_fails_that_side(repo):
    pairs = against.run_against(
        "HEAD", ["00"], runner=VaryingRunner(fail_new_run=2), repo=repo, env={}, repeat=3
    )
    (row,) = against.against_rows(pairs)
    assert row["new_error"] == "kernel died" and row["old_error"] is None
    assert len(row["time_ratio_runs"]) == 2  # the failed pair is left out of the range


def test_repeat_must_be_at_least_one(repo, capsys):
    with pytest.raises(ValueError, match="at least 1"):
        against.run_against("HEAD", ["00"], runner=FakeRunner(), repo=repo, env={}, repeat=0)
    assert against.against_main("HEAD", ["00"], runner=FakeRunner(), repeat=0) == 2
    assert "--repeat needs a whole number" in capsys.readouterr().err
