"""helpers.tables: the Markdown tables the notebooks and the benchmark's reports share, which
load neither matplotlib nor NumPy (``plotting.markdown_table`` is the same function)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import tables

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("matplotlib", "numpy", "tensorflow", "keras")


def _loaded_after(statement: str) -> set[str]:
    """The top-level packages a fresh Python has loaded after ``statement``."""
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return {name.split(".")[0] for name in json.loads(out.stdout)}


@pytest.mark.parametrize(
    "statement",
    [
        "import helpers.tables",
        "from helpers.tables import markdown_table",
        # the benchmark's table writers, which use it: matplotlib only when plot() is called
        "import bench.report, bench.against, bench.run, bench.margins",
    ],
)
def test_markdown_table_loads_no_heavy_package(statement):
    loaded = _loaded_after(statement)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_notebooks_reach_the_same_function_through_plotting():
    from helpers import plotting

    assert plotting.markdown_table is tables.markdown_table
    assert "markdown_table" in plotting.__all__
    assert tables.markdown_table(["a", "b"], [(1, "x")], align="lr") == (
        "| a | b |\n|---|---:|\n| 1 | x |"
    )
