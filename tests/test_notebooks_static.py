"""Static checks of the committed notebooks: the things nbval cannot see for itself."""

from __future__ import annotations

import ast
import json
import re

import pytest

from bench.common import chapter_notebooks

NOTEBOOKS = chapter_notebooks()  # the chapters only, never a breakage copy
# nbval's cell tags. Its comment markers (# NBVAL_IGNORE_OUTPUT) would work too, but every
# learner reads them in the code and on the website, so the course keeps them out of cells.
NBVAL_TAGS = {"nbval-ignore-output", "nbval-check-output", "nbval-skip", "raises-exception"}
# What a maintainer writes about a claim's floors: in metadata.course.margins, not in the code.
MAINTAINER_WORDS = re.compile(
    r"oneDNN|one core|\b3 seeds|three seeds|Keras-shaped|Keras' download|offline copy|"
    r"floors? (below|set)|measured",
    re.IGNORECASE,
)


def _code_cells(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if c["cell_type"] == "code"]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 6


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbval_markers_are_tags_with_a_reason(path):
    """nbval's markers are cell tags; a cell whose output is shown, not compared, says why in
    ``metadata.course.output_varies`` (for maintainers), not in a comment learners read."""
    for index, cell in enumerate(_code_cells(path)):
        where = f"{path.name}, code cell {index}"
        source = "".join(cell["source"])
        assert "NBVAL" not in source, f"{where}: use nbval's cell tags, not its comment markers"
        tags = set(cell["metadata"].get("tags", []))
        unknown = {t for t in tags if t.startswith("nbval")} - NBVAL_TAGS
        assert not unknown, f"{where}: {sorted(unknown)} is not a tag nbval knows"
        if "nbval-ignore-output" in tags:
            why = cell["metadata"].get("course", {}).get("output_varies", "")
            assert len(why) > 10, f"{where}: say in metadata.course.output_varies why it varies"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_maintainer_notes_live_in_metadata(path):
    """Seeds, machines and measured margins are for maintainers: a check cell keeps them in
    ``metadata.course.margins``, and no code comment a learner reads mentions them."""
    for index, cell in enumerate(_code_cells(path)):
        where = f"{path.name}, code cell {index}"
        comments = [
            ln for ln in "".join(cell["source"]).splitlines() if ln.lstrip().startswith("#")
        ]
        found = [ln.strip() for ln in comments if MAINTAINER_WORDS.search(ln)]
        assert not found, f"{where}: move maintainer notes to metadata.course.margins: {found[0]}"


def deleted_before_bound(source: str) -> list[str]:
    """Names a cell deletes without binding them itself first: running that cell a second time
    raises NameError, since its first run deleted what an earlier cell made."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython's % and ! lines: not the course's style, nothing to check
        return []
    bound: set[str] = set()
    found = []
    for node in sorted(
        ast.walk(tree), key=lambda n: (getattr(n, "lineno", 0), n.__class__.__name__)
    ):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Delete):
            found += [t.id for t in node.targets if isinstance(t, ast.Name) and t.id not in bound]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_can_run_twice_in_a_row(path):
    """A learner runs a cell again; a cell that deletes another cell's variable then fails."""
    for index, cell in enumerate(_code_cells(path)):
        gone = deleted_before_bound("".join(cell["source"]))
        assert not gone, (
            f"{path.name}, code cell {index} deletes {gone}, made by an earlier cell: run twice, "
            "it fails with NameError"
        )


def test_deleted_before_bound_sees_only_other_cells_names():
    assert deleted_before_bound("x = big[:10].copy()\ndel big") == ["big"]
    assert deleted_before_bound("flat = x.reshape(-1)\nuse(flat)\ndel flat") == []
    assert deleted_before_bound("%time x = 1") == []


def test_maintainer_notes_test_finds_them():
    assert MAINTAINER_WORDS.search("# (measured over 3 seeds, one core with oneDNN off)")
    assert MAINTAINER_WORDS.search("# floors below the worst of three seeds")
    assert not MAINTAINER_WORDS.search("# check: the CNN is above 0.90 and ahead of the MLP")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_outputs_come_from_one_clean_run(path):
    cells = [c for c in _code_cells(path) if "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: re-run it top to bottom"
    for cell in cells:
        for out in cell["outputs"]:
            assert out["output_type"] != "error", f"{path.name}: an error is committed"
            text = "".join(out.get("text", ""))
            assert not re.search(r"/(root|work|tmp|home|Users)/\S+", text), (
                f"{path.name}: a machine path in a committed output: {text[:120]!r}"
            )
            assert not re.search(r"\d+m?s/step|ETA:", text), f"{path.name}: a progress bar"
            if out.get("name") == "stderr":
                raise AssertionError(f"{path.name}: stderr in a committed output: {text[:200]!r}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_helpers_is_imported_first(path):
    first = "".join(_code_cells(path)[0]["source"])
    code = [ln for ln in first.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert code[0].startswith("import helpers"), f"{path.name}: `import helpers` must come first"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_markdown_is_not_commented_out(path):
    """Prose written as `# ...` comment lines would render as a wall of headings."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        lines = [ln for ln in "".join(cell["source"]).splitlines() if ln.strip()]
        assert not any(ln.startswith("# #") for ln in lines), f"{path.name}: {lines[0]!r}"
        if len(lines) > 2:
            headings = sum(ln.startswith("#") for ln in lines)
            assert headings < len(lines), f"{path.name}: every line is a heading: {lines[0]!r}"


CONFIRM_LINE = "[solution] passes its check."


def _solution_output_problem(out: dict) -> str | None:
    """What a solution cell's committed output gives away, or None."""
    kind = out["output_type"]
    if kind == "stream":
        lines = [ln.strip() for ln in "".join(out.get("text", "")).splitlines() if ln.strip()]
        extra = [ln for ln in lines if ln != CONFIRM_LINE]
        return f"prints {extra[0]!r}" if extra else None
    if kind in ("execute_result", "display_data"):
        data = out.get("data", {})
        if any(mime.startswith("image/") for mime in data):
            return None  # a plot shows the method, not a checked answer
        shown = "".join(data.get("text/plain", "")) or ", ".join(data)
        return f"displays {shown[:80]!r}"
    return f"has an output of type {kind}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solutions_do_not_give_themselves_away(path):
    """Solution cells are collapsed, code and output, and their committed output shows at
    most checks.confirm()'s line (or a plot): never the answer or the check's feedback."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        if "solution" not in cell.get("metadata", {}).get("tags", []):
            continue
        where = f"{path.name}, cell {index}"
        hidden = cell["metadata"].get("jupyter", {})
        assert hidden.get("source_hidden") is True, f"{where}: set jupyter.source_hidden"
        if cell["cell_type"] != "code":
            continue
        assert hidden.get("outputs_hidden") is True, f"{where}: set jupyter.outputs_hidden"
        for out in cell.get("outputs", []):
            problem = _solution_output_problem(out)
            assert problem is None, (
                f"{where}: the solution {problem}; end it with "
                "checks.confirm(checks.check_xxx(answer)), which prints only "
                f"{CONFIRM_LINE!r}"
            )


def test_the_solution_check_sees_what_gives_a_solution_away():
    ok = {"output_type": "stream", "name": "stdout", "text": [CONFIRM_LINE + "\n"]}
    leak = {"output_type": "execute_result", "data": {"text/plain": ["[ok] `answer_y` = 0.475"]}}
    printed = {"output_type": "stream", "name": "stdout", "text": ["[ok] `x` = 15 is right.\n"]}
    plot = {
        "output_type": "display_data",
        "data": {"image/png": "iVBOR", "text/plain": ["<Figure size 640x480>"]},
    }
    assert _solution_output_problem(ok) is None and _solution_output_problem(plot) is None
    assert "0.475" in _solution_output_problem(leak)
    assert "is right" in _solution_output_problem(printed)


CHECK_TAG = "check"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_check_cells_are_marked_and_folded(path):
    """A cell that only checks or records a claim is marked for learners and maintainers: the
    tag ``check``, a first line ``# check: <what, in plain words>``, its code folded in
    JupyterLab (``jupyter.source_hidden``). Every ``helpers.record`` call sits in one."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        where = f"{path.name}, cell {index}"
        source = "".join(cell["source"])
        tags = cell["metadata"].get("tags", [])
        if "helpers.record(" in source:
            assert CHECK_TAG in tags, f"{where} records a claim: make it a check cell"
        if CHECK_TAG not in tags:
            assert not source.startswith("# check:"), f"{where}: '# check:' without the tag"
            continue
        first = source.splitlines()[0] if source else ""
        assert first.startswith("# check: ") and len(first) > len("# check: ") + 10, (
            f"{where}: a check cell's first line says what it checks: '# check: ...'"
        )
        assert cell["metadata"].get("jupyter", {}).get("source_hidden") is True, (
            f"{where}: fold the check cell's code (metadata.jupyter.source_hidden)"
        )
        assert "solution" not in tags, f"{where}: a solution is not a check cell"
