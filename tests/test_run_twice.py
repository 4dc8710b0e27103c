"""Every chapter survives "Run All" twice in one kernel, as a learner's restless clicking does.

nbval runs each notebook once, in a fresh kernel. A learner does more: runs a cell again, or
the whole notebook again after an experiment, in the same kernel. A cell that consumes its own
input (``del x``), a model trained on from where the last run stopped, or a claim check that
reads a count left over from the first pass then fails, though the notebook passes nbval.

Each chapter runs here in a temporary folder (its saved models go there, never
beside the committed notebook another worker may be running), with the course's data and the
kernels' environment, twice top to bottom in one kernel. In the second run every assert
builds its message first (:func:`eager_messages`), so a message that would crash is found
while the check still passes. Cells tagged ``raises-exception`` may raise, as under nbval.
Slow: about twice each chapter's benchmark time.
"""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from bench.runner import ANSI  # IPython's colour codes
from helpers.chapters import CHAPTERS
from helpers.datasets import chosen_data_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.number for c in CHAPTERS])
def test_run_all_twice_in_one_kernel(chapter, tmp_path, monkeypatch):
    data = chosen_data_dir()  # made absolute here: the kernel starts in another folder
    if data:
        monkeypatch.setenv("COURSE_DATA_DIR", str(data))
    nb = nbformat.read(ROOT / "notebooks" / chapter.notebook, as_version=4)
    once = list(nb.cells)
    nb.cells = once + [copy.deepcopy(cell) for cell in once]
    for second, cell in enumerate(nb.cells[len(once) :]):
        cell["id"] = f"again-{second}"  # ids must stay unique
        if cell.cell_type == "code":
            cell.source = eager_messages(cell.source)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    except CellExecutionError as err:
        run = "second" if _failed_index(nb) >= len(once) else "first"
        plain = ANSI.sub("", str(err))[-3000:]
        pytest.fail(
            f"{chapter.notebook}: the {run} Run All failed at cell "
            f"[{_failed_index(nb) % len(once)}]:\n{plain}",
            pytrace=False,
        )


def _failed_index(nb) -> int:
    """The index of the cell whose output holds the error (the last one that ran)."""
    for index in range(len(nb.cells) - 1, -1, -1):
        cell = nb.cells[index]
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.outputs):
            return index
    return -1


class _EagerMessages(ast.NodeTransformer):
    def visit_Assert(self, node: ast.Assert):  # noqa: N802 - ast's naming
        if node.msg is None:
            return node
        return [ast.Expr(node.msg), node]


def eager_messages(source: str) -> str:
    """``assert ok, message`` -> ``message; assert ok, message``: the message is built even
    when the assert holds, so a message that would itself fail (a name that does not exist, a
    format that does not fit) fails here, not in front of a learner whose check just failed.
    A cell Python cannot parse (IPython's ``%`` and ``!`` lines) is left as it is."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    return ast.unparse(ast.fix_missing_locations(_EagerMessages().visit(tree)))


def test_eager_messages_builds_every_message_before_its_assert():
    namespace: dict = {}
    exec(eager_messages("x = 1\nassert x == 1, f'x is {x}'\nassert x"), namespace)  # noqa: S102
    with pytest.raises(NameError):  # the message is broken, though the assert holds
        exec(eager_messages("x = 1\nassert x == 1, f'{undefined_name}'"), {})  # noqa: S102
    assert eager_messages("%time x = 1\nassert x, 'm'") == "%time x = 1\nassert x, 'm'"
