"""The one writer of the README's generated blocks (bench.common.write_readme_block), and its
two users: the benchmark's Timings table and the classroom benchmark's table.

Every test writes a README of its own in a temporary folder, never the project's.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bench import report
from bench.common import ReadmeBlockError, write_readme_block

README = (
    "# Course\r\n\n"  # a stray CRLF outside the block stays as it is
    "Intro.\n\n"
    "<!-- timings:start -->\nold timings\n<!-- timings:end -->\n\n"
    "Middle.\n\n"
    "<!-- classroom-bench:start -->\nold class\ntable\n<!-- classroom-bench:end -->\n"
    "Tail, no newline at the end"
)


@pytest.fixture()
def readme(tmp_path) -> Path:
    path = tmp_path / "README.md"
    path.write_bytes(README.encode("utf-8"))
    path.chmod(0o640)
    return path


def test_the_block_is_replaced_and_nothing_else(readme):
    write_readme_block("timings", "| a |\n|---|\n| 1 |\n", readme)
    expected = README.replace("old timings", "| a |\n|---|\n| 1 |")
    assert readme.read_bytes() == expected.encode("utf-8")
    write_readme_block("classroom-bench", "new", readme)
    assert readme.read_bytes() == expected.replace("old class\ntable", "new").encode("utf-8")


def test_the_write_is_atomic_and_keeps_the_files_mode(readme):
    write_readme_block("timings", "x", readme)
    assert stat.S_IMODE(os.stat(readme).st_mode) == 0o640
    assert [p.name for p in readme.parent.iterdir()] == ["README.md"]  # no temporary left


def test_a_failed_write_leaves_the_readme_and_no_temporary(readme, monkeypatch):
    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_readme_block("timings", "x", readme)
    assert readme.read_bytes() == README.encode("utf-8")
    assert [p.name for p in readme.parent.iterdir()] == ["README.md"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("no markers at all\n", "<!-- timings:start --> 0 time(s) and <!-- timings:end --> 0"),
        ("<!-- timings:start -->\nonly a start\n", "<!-- timings:end --> 0 time(s)"),
        (
            "<!-- timings:start -->\n<!-- timings:end -->\n<!-- timings:start -->\n",
            "<!-- timings:start --> 2 time(s)",
        ),
        ("<!-- timings:end -->\nx\n<!-- timings:start -->\n", "has <!-- timings:end --> before"),
    ],
)
def test_missing_or_broken_markers_are_a_clear_error_and_nothing_is_written(tmp_path, text, says):
    path = tmp_path / "README.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReadmeBlockError) as caught:
        write_readme_block("timings", "new table", path)
    message = str(caught.value)
    assert "has no timings block to fill" in message and says in message
    assert "Put the two marker lines back" in message
    assert path.read_text(encoding="utf-8") == text
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]


def _rows() -> list[dict]:
    return [{"name": "01_x", "kind": "notebook", "seconds": 9.6, "peak_mb": 500.4, "metrics": {}}]


MACHINE = {"cores": 2, "cpu": "AMD EPYC", "memory_gb": 8.0, "gpus": 0}


def test_the_bench_publishes_its_timings_through_it(readme, tmp_path, monkeypatch):
    monkeypatch.setattr(report, "README", readme)
    monkeypatch.setattr(report, "PUBLISHED", tmp_path / "published.json")
    report.publish(_rows(), MACHINE, "2026-12-01T00-00-00Z")
    text = readme.read_text(encoding="utf-8")
    assert "old timings" not in text and "| 01_x | 10 s | - | 500 MB |" in text
    assert "old class\ntable" in text and text.endswith("Tail, no newline at the end")
    assert (tmp_path / "published.json").is_file()


def test_the_bench_publishes_nothing_without_the_block(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text("# No block here\n", encoding="utf-8")
    monkeypatch.setattr(report, "README", readme)
    monkeypatch.setattr(report, "PUBLISHED", tmp_path / "published.json")
    with pytest.raises(ReadmeBlockError, match="no timings block"):
        report.publish(_rows(), MACHINE, "2026-12-01T00-00-00Z")
    assert not (tmp_path / "published.json").exists()  # not half published


def test_the_classroom_bench_publishes_through_it(readme):
    from classroom import bench as classroom_bench

    classroom_bench.publish("| chapter |\n|---|", readme)
    text = readme.read_text(encoding="utf-8")
    assert (
        "<!-- classroom-bench:start -->\n| chapter |\n|---|\n<!-- classroom-bench:end -->" in text
    )
    assert "old timings" in text
    readme.write_text("# No block\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="no classroom-bench block to fill"):
        classroom_bench.publish("x", readme)


def test_there_is_one_writer_of_readme_blocks():
    """Neither user keeps a marker-splicing of its own."""
    root = Path(__file__).resolve().parent.parent
    for path in ("bench/report.py", "classroom/bench.py"):
        source = (root / path).read_text(encoding="utf-8")
        assert "-->" not in source and "write_readme_block" in source, path


def test_bench_publish_latest_goes_through_the_writer(readme, tmp_path, monkeypatch, capsys):
    import json

    from bench import run

    results = tmp_path / "results"
    results.mkdir()
    latest = {"measured": "2026-12-01T00-00-00Z", "machine": MACHINE, "rows": _rows()}
    (results / "latest.json").write_text(json.dumps(latest), encoding="utf-8")
    monkeypatch.setattr(run, "RESULTS", results)
    monkeypatch.setattr(report, "README", readme)
    monkeypatch.setattr(report, "PUBLISHED", tmp_path / "published.json")
    assert run.main(["--publish-latest"]) == 0
    assert "| 01_x | 10 s | - | 500 MB |" in readme.read_text(encoding="utf-8")
    readme.write_text("# The block is gone\n", encoding="utf-8")
    (tmp_path / "published.json").unlink()
    assert run.main(["--publish-latest"]) == 1
    assert "Not published:" in capsys.readouterr().err
    assert not (tmp_path / "published.json").exists()
