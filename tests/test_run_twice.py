"""Every chapter survives "Run All" twice in one kernel, with the learner's experiments between.

nbval runs each notebook once, in a fresh kernel. A learner does more: runs a cell again, or
the whole notebook again after an experiment, in the same kernel. A cell that consumes its own
input (``del x``), a model trained on from where the last run stopped, or a claim check that
reads a count left over from the first pass then fails, though the notebook passes nbval.

Before the second run the learner does what the chapter invites (:data:`LEARNER_EDITS`): each
exercise's suggested change, typed into the lesson cell it changes (as readers did, though
the exercises ask for a new cell) or into a new cell below it. Every cell after it must
still run: a claim check about the lesson's run then says that the setup changed, instead
of failing (``helpers.claims``).

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
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from bench.runner import ANSI  # IPython's colour codes
from helpers.chapters import CHAPTERS
from helpers.datasets import chosen_data_dir

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Edit:
    """In the code cell holding ``cell``, replace ``old`` with ``new``; with ``old`` None,
    insert a new code cell with the source ``new`` right below that cell."""

    why: str
    cell: str
    old: str | None
    new: str


MASKED_LSTM = """helpers.seed_everything(SEED)
masked_lstm = keras.Sequential([
    keras.Input(shape=(None,), dtype="int32"),
    layers.Embedding(NUM_WORDS, EMBED_DIM, mask_zero=True),
    layers.LSTM(UNITS),
    layers.Dense(1, activation="sigmoid"),
], name="lstm_masked")
masked_lstm.compile(optimizer=keras.optimizers.Adam(0.002), loss="binary_crossentropy",
                    metrics=["accuracy"])
train_and_test("LSTM with a mask", masked_lstm, train_batches, val_batches, test_batches,
               epochs=3)
print(results["LSTM with a mask"]["accuracy"])"""

LEARNER_EDITS: dict[str, list[Edit]] = {
    "02": [
        Edit(
            "section 3: 'a larger learning rate might find the curve in fewer epochs'",
            "LEARNING_RATE, BATCH, EPOCHS = 0.5, 20, 60",
            "= 0.5, 20, 60",
            "= 1.0, 20, 60",
        )
    ],
    "04": [
        Edit(
            "exercise 4.4: Dense(64) hidden layers instead of 16",
            'name="imdb_16_16_1"',
            'layers.Dense(16, activation="relu"),\n        layers.Dense(16, activation="relu"),',
            'layers.Dense(64, activation="relu"),\n        layers.Dense(64, activation="relu"),',
        ),
        Edit(
            "section 5: 'try it on reviews you write yourself'",
            "reviews = {",
            "reviews = {",
            'reviews = {\n    "An unforgettable film, I loved every minute of it.": 1,',
        ),
    ],
    "05": [
        Edit(
            "exercise 5.4: the optimizer comparison with SGD(learning_rate=0.1)",
            '"SGD": lambda: keras.optimizers.SGD(learning_rate=0.01),',
            "SGD(learning_rate=0.01),",
            "SGD(learning_rate=0.1),",
        ),
        Edit(
            "section 5: 'try others ... change variants there'",
            '"256 units + Dropout(0.5)": dict(dropout_rate=0.5),',
            "dict(dropout_rate=0.5),",
            "dict(dropout_rate=0.3),",
        ),
    ],
    "06": [
        Edit(
            "exercise 6.5: the textbook's 32 and 64 filters",
            "def make_cnn():",
            'layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),',
            'layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1"),',
        ),
        Edit(
            "exercise 6.5: the textbook's 32 and 64 filters",
            "def make_cnn():",
            'layers.Conv2D(32, 3, activation="relu", name="conv2"),',
            'layers.Conv2D(64, 3, activation="relu", name="conv2"),',
        ),
    ],
    "07": [
        Edit(
            "exercise 7.4: another LSTM, with a mask, trained like the others",
            'train_and_test("LSTM", lstm,',
            None,
            MASKED_LSTM,
        )
    ],
    "08": [
        Edit(
            "section 9: 'try in a new cell a lower threshold'",
            "def find_entities(sentence, min_confidence=ENTITY_THRESHOLD):",
            None,
            'print(find_entities("내일 민준이랑 부산에 여행 가", min_confidence=0.4))',
        )
    ],
}


def apply_edits(cells: list, edits: list[Edit]) -> list:
    """The cells after a learner's edits (new cells get ids of their own)."""
    cells = list(cells)
    for number, edit in enumerate(edits):
        hits = [i for i, c in enumerate(cells) if c.cell_type == "code" and edit.cell in c.source]
        assert len(hits) == 1, f"{edit.why}: {len(hits)} code cells hold {edit.cell!r}"
        target = cells[hits[0]]
        if edit.old is None:
            cells.insert(hits[0] + 1, nbformat.v4.new_code_cell(edit.new, id=f"learner-{number}"))
        else:
            assert edit.old in target.source, f"{edit.why}: {edit.old!r} is not in the cell"
            target.source = target.source.replace(edit.old, edit.new)
    return cells


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.number for c in CHAPTERS])
def test_run_all_twice_in_one_kernel(chapter, tmp_path, monkeypatch):
    data = chosen_data_dir()  # made absolute here: the kernel starts in another folder
    if data:
        monkeypatch.setenv("COURSE_DATA_DIR", str(data))
    nb = nbformat.read(ROOT / "notebooks" / chapter.notebook, as_version=4)
    once = list(nb.cells)
    again = [copy.deepcopy(cell) for cell in once]
    for second, cell in enumerate(again):
        cell["id"] = f"again-{second}"  # ids must stay unique
    again = apply_edits(again, LEARNER_EDITS.get(chapter.number, []))
    for cell in again:
        if cell.cell_type == "code":
            cell.source = eager_messages(cell.source)
    nb.cells = once + again
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    except CellExecutionError as err:
        run = "second" if _failed_index(nb) >= len(once) else "first"
        plain = ANSI.sub("", str(err))[-3000:]
        where = _failed_index(nb)
        where = where if where < len(once) else where - len(once)
        edits = "; ".join(e.why for e in LEARNER_EDITS.get(chapter.number, []))
        after = f" (after the learner's edits: {edits})" if run == "second" and edits else ""
        pytest.fail(
            f"{chapter.notebook}: the {run} Run All{after} failed at cell [{where}]:\n{plain}",
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


def test_every_learner_edit_finds_its_place():
    """An edit whose cell or text moved would silently test nothing: each must apply."""
    for chapter in CHAPTERS:
        edits = LEARNER_EDITS.get(chapter.number, [])
        nb = nbformat.read(ROOT / "notebooks" / chapter.notebook, as_version=4)
        before = [c.source for c in nb.cells]
        after = apply_edits([copy.deepcopy(c) for c in nb.cells], edits)
        assert len(after) == len(before) + sum(e.old is None for e in edits)
        changed = sum(a.source != b for a, b in zip(after, before, strict=False))
        assert changed >= bool(edits), f"chapter {chapter.number}: no cell was changed"
    assert set(LEARNER_EDITS) <= {c.number for c in CHAPTERS}
