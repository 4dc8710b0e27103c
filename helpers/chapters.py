"""The course's chapters, in one place: every tool that needs the list reads it from here.

Like Jupyter Book's ``_toc.yml``, :data:`ENTRIES` is the one list of the chapters; nothing
else in the project names them. Each entry says:

``number``
    two digits, ``"05"``; the entries are in increasing order.
``notebook``
    the file in ``notebooks/``, starting with the number: ``"05_dropout_and_callbacks.ipynb"``.
``title``, ``learn``
    the chapter's short title and what you learn in it: the README's chapter table and the
    website's home page show them.
``budget_seconds``, ``budget_mb``
    what ``python3 course.py bench --check`` allows the notebook: wall seconds for a fresh
    kernel to run it top to bottom, and MB of the kernel's peak memory (see below).
``baseline``
    the source material's recipe (``bench/baselines/NAME.py``) the benchmark runs beside the
    chapter, or None.
``checks``
    the chapter's module of exercise checks (``helpers/checks/NAME.py``, whose checks wear
    ``@exercise("NN")`` with the entry's number, tested by ``tests/test_checks_NAME.py``), or
    None for a chapter without exercises.

Who reads it: ``helpers.checks`` (which modules to import and re-export), ``bench.common``
(the notebooks and their budgets), ``bench.runner`` (the baselines), ``website.build`` (the
pages, titles and "what you learn"), ``classroom.settings`` (the chapters a student is given,
which the hub, ``collect``/``reset``, the classroom bench and the Kubernetes image use), and
the README's chapter table, which ``.venv/bin/python -m bench.chapters`` writes from it
(``tests/test_chapters.py`` fails while the two differ).

**Adding a chapter** takes four files: the notebook ``notebooks/NN_name.ipynb``, its entry
below, its checks ``helpers/checks/chNN.py`` (if it has exercises) and their tests
``tests/test_checks_chNN.py``; then run ``.venv/bin/python -m bench.chapters`` to rewrite
the README's table. ``tests/test_chapters.py`` checks the registry against ``notebooks/``,
``helpers/checks/`` and ``tests/``, and adds a fake chapter to a copy of the project to show
that every tool picks it up.

**Budgets.** The course guide (``COURSE_GUIDE.md``, the course's brief, kept beside the
project and not in it) sets 120 s and 1.2 GB of peak kernel memory per notebook on the
2-core, no-GPU CI machine. The entries keep that (1,200 MB) for most chapters, tighter for
the small chapters 01-02 (60 s, 1,024 MB), and chapter 06, which trains three networks on
55,000 images, keeps the 180 s the guide allowed chapters 5-8 before it lowered them to
120 s. They are set for the slower of the two 2-core machines measured (``bench/README.md``);
the README's Timings table shows what each chapter took.

**Why a Python module, and why here.** ``helpers.checks`` needs the list, and ``helpers`` is
installed on its own into the students' environments (the classroom's, the Kubernetes
image), where the tools and the project folder are not; so the list lives inside ``helpers``.
It is a module with a plain literal rather than a JSON file because the package ships its
``.py`` files and nothing else (``pyproject.toml`` lists packages, not data files), and
because a literal can still be read as data: :func:`read_entries` reads another copy of the
course's registry (another commit's, for ``bench --against``) with :func:`ast.literal_eval`,
without running it. Standard library only; it imports nothing from the project.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ENTRIES",
    "CHAPTERS",
    "Chapter",
    "from_entries",
    "read_entries",
    "load",
    "get",
    "notebook_paths",
    "registry_file",
]

# The registry. Keep it a literal (read_entries reads it without importing this module).
ENTRIES = [
    {
        "number": "00",
        "notebook": "00_start_here.ipynb",
        "title": "Start here",
        "learn": "How the course works; your environment; getting the data offline",
        "budget_seconds": 120,
        "budget_mb": 1200,
        "baseline": None,
        "checks": None,
    },
    {
        "number": "01",
        "notebook": "01_neurons_and_activations.ipynb",
        "title": "Neurons and activations",
        "learn": "A neuron in NumPy; step, sigmoid, tanh, ReLU, softmax; why XOR needs a hidden "
        "layer with a non-linear activation",
        "budget_seconds": 60,
        "budget_mb": 1024,
        "baseline": None,
        "checks": "ch01",
    },
    {
        "number": "02",
        "notebook": "02_forward_and_backprop.ipynb",
        "title": "Forward and backpropagation",
        "learn": "A forward pass and backpropagation by hand, checked against TensorFlow",
        "budget_seconds": 60,
        "budget_mb": 1024,
        "baseline": None,
        "checks": "ch02",
    },
    {
        "number": "03",
        "notebook": "03_mnist_classifier.ipynb",
        "title": "MNIST classifier",
        "learn": "The whole Keras workflow: build, compile, fit, evaluate, save, load, predict",
        "budget_seconds": 120,
        "budget_mb": 1200,
        "baseline": "mnist_recipe",
        "checks": "ch03",
    },
    {
        "number": "04",
        "notebook": "04_imdb_binary_classifier.ipynb",
        "title": "IMDB sentiment",
        "learn": "Binary classification of reviews with a multi-hot encoding that fits in memory",
        "budget_seconds": 120,
        "budget_mb": 1200,
        "baseline": "imdb_recipe",
        "checks": "ch04",
    },
    {
        "number": "05",
        "notebook": "05_dropout_and_callbacks.ipynb",
        "title": "Dropout and callbacks",
        "learn": "Fashion-MNIST: baselines, optimizers, dropout, saving, checkpoints, early "
        "stopping",
        "budget_seconds": 120,
        "budget_mb": 1200,
        "baseline": None,
        "checks": "ch05",
    },
    {
        "number": "06",
        "notebook": "06_convolutional_networks.ipynb",
        "title": "Convolutional networks",
        "learn": "A 3×3 filter by hand, padding, stride, channels, pooling; a CNN against "
        "chapter 5's MLP, and a shift test",
        "budget_seconds": 120,
        "budget_mb": 1200,
        "baseline": None,
        "checks": "ch06",
    },
    {
        "number": "07",
        "notebook": "07_sequence_models.ipynb",
        "title": "Sequence models",
        "learn": "Padding, embeddings, Conv1D, an RNN by hand, LSTM and BiLSTM on IMDB; a "
        "negation test only order can pass",
        "budget_seconds": 120,
        "budget_mb": 1200,
        "baseline": None,
        "checks": "ch07",
    },
    {
        "number": "08",
        "notebook": "08_chatbot_engine.ipynb",
        "title": "A Korean chatbot engine",
        "learn": "Korean text to numbers, an honest split, a text CNN for intent, a BiLSTM "
        "entity tagger, an engine that replies",
        "budget_seconds": 120,
        "budget_mb": 1200,
        "baseline": None,
        "checks": "ch08",
    },
]

# A course folder whose helpers has no registry (a commit from before it) names its
# chapters by this rule; only notebook_paths() falls back on it.
OLD_NAMING_RULE = "[0-9][0-9]_*.ipynb"


@dataclass(frozen=True)
class Chapter:
    """One entry of the registry (the module's docstring says what each field means)."""

    number: str
    notebook: str
    title: str
    learn: str
    budget_seconds: int
    budget_mb: int
    baseline: str | None
    checks: str | None

    @property
    def stem(self) -> str:
        """The notebook's name without ``.ipynb``: ``05_dropout_and_callbacks``."""
        return self.notebook.removesuffix(".ipynb")

    @property
    def budget(self) -> tuple[int, int]:
        """``(seconds, MB)``, as the benchmark judges a run."""
        return self.budget_seconds, self.budget_mb


_FIELDS = tuple(Chapter.__dataclass_fields__)


def _problems(entry: object, where: str) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{where} is a {type(entry).__name__}, not a dict"]
    if set(entry) != set(_FIELDS):
        missing, extra = set(_FIELDS) - set(entry), set(entry) - set(_FIELDS)
        return [f"{where} has keys missing {sorted(missing)} / unknown {sorted(extra)}"]
    found = []
    number, notebook = entry["number"], entry["notebook"]
    if not (isinstance(number, str) and len(number) == 2 and number.isdigit()):
        found.append(f"{where}: number {number!r} is not two digits such as '05'")
    if not (
        isinstance(notebook, str)
        and notebook.startswith(f"{number}_")
        and notebook.endswith(".ipynb")
        and "/" not in notebook
        and "\\" not in notebook
    ):
        found.append(f"{where}: notebook {notebook!r} is not '{number}_name.ipynb'")
    for key in ("title", "learn"):
        text = entry[key]
        if not isinstance(text, str) or not text.strip() or "|" in text or "\n" in text:
            found.append(f"{where}: {key} {text!r} must be one line of text without '|'")
    for key in ("budget_seconds", "budget_mb"):
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            found.append(f"{where}: {key} {value!r} is not a whole number above 0")
    for key in ("baseline", "checks"):
        value = entry[key]
        if value is not None and not (isinstance(value, str) and value.isidentifier()):
            found.append(f"{where}: {key} {value!r} is neither None nor a module name")
    return found


def from_entries(entries: object) -> tuple[Chapter, ...]:
    """The chapters of a registry's entries; ValueError, naming every problem, if malformed."""
    if not isinstance(entries, list | tuple):
        raise ValueError(f"the registry's ENTRIES is a {type(entries).__name__}, not a list")
    problems = []
    for i, entry in enumerate(entries):
        number = entry.get("number") if isinstance(entry, dict) else None
        problems += _problems(entry, f"entry {i} ({number!r})")
    numbers = [e.get("number") for e in entries if isinstance(e, dict)]
    if not problems and numbers != sorted(set(numbers)):
        problems.append(f"the numbers {numbers} are not in increasing order without repeats")
    if problems:
        raise ValueError("helpers/chapters.py: " + "; ".join(problems))
    return tuple(Chapter(**{key: entry[key] for key in _FIELDS}) for entry in entries)


CHAPTERS: tuple[Chapter, ...] = from_entries(ENTRIES)


def registry_file(root: Path | str) -> Path:
    """Where the course folder ``root`` keeps its registry: ``root/helpers/chapters.py``."""
    return Path(root) / "helpers" / "chapters.py"


def read_entries(path: Path | str) -> list:
    """The ``ENTRIES`` literal of a registry file, read as data (the file is not run).

    FileNotFoundError when there is no such file; ValueError when it holds no literal
    ``ENTRIES``.
    """
    path = Path(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign) and node.value is not None
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == "ENTRIES" for t in targets):
            try:
                return ast.literal_eval(node.value)
            except ValueError as err:
                raise ValueError(f"{path}: ENTRIES is not a plain literal ({err})") from None
    raise ValueError(f"{path} has no ENTRIES = [...]")


def load(root: Path | str | None = None) -> tuple[Chapter, ...]:
    """The chapters of the course folder ``root``; of this one (:data:`CHAPTERS`) by default.

    Another folder's registry (a copy, another commit's worktree) is read from its own file,
    so a tool answers for the folder it was pointed at. FileNotFoundError if it has none.
    """
    if root is None:
        return CHAPTERS
    path = registry_file(root)
    if path.resolve() == Path(__file__).resolve():
        return CHAPTERS
    return from_entries(read_entries(path))


def get(number: str, chapters: tuple[Chapter, ...] = CHAPTERS) -> Chapter:
    """The chapter numbered ``number`` ("05"); KeyError naming the valid numbers if none."""
    for chapter in chapters:
        if chapter.number == number:
            return chapter
    valid = ", ".join(ch.number for ch in chapters)
    raise KeyError(f"no chapter {number!r} in helpers/chapters.py (its chapters: {valid})")


def notebook_paths(root: Path | str) -> list[Path]:
    """The chapter notebooks of the course folder ``root``, in order, as its registry lists them.

    Only the registry's ``notebook`` names are read, so this works for a registry written
    with other fields too. A folder without a registry (a commit from before it, or a test's
    small course) has its chapters found by the old naming rule, ``notebooks/NN_*.ipynb``.
    """
    root = Path(root)
    try:
        if registry_file(root).resolve() == Path(__file__).resolve():
            names = [chapter.notebook for chapter in CHAPTERS]
        else:
            names = [entry["notebook"] for entry in read_entries(registry_file(root))]
    except FileNotFoundError:
        return sorted((root / "notebooks").glob(OLD_NAMING_RULE))
    return [root / "notebooks" / name for name in names]
