"""Where the data is: one resolver (``helpers/data/store.py``) for the whole project.

The loaders, ``python -m helpers.datasets``, the classroom's ``--data``, the benchmark and
the tests all ask :func:`store.data_folders` / :func:`store.default_data_dir` /
:func:`store.chosen_data_dir`; the static tests at the end keep it that way: only
``store.py`` (and the launcher, ``course.py``, which resolves it once for what it starts)
reads ``COURSE_DATA_DIR``, and only ``store.py`` names the course's ``data/`` folder.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

from conftest import make_tiny_data
from helpers import datasets
from helpers.data import cli, store

ROOT = Path(__file__).resolve().parents[1]
REPO = "the course's data/ folder"


# --- The resolver -------------------------------------------------------------------------


def test_course_data_dir_comes_first_then_the_course_data_folder(isolated, monkeypatch):
    assert store.data_folders() == [(REPO, store.REPO_DATA_DIR)]
    assert store.chosen_data_dir() is None
    assert store.default_data_dir() == store.REPO_DATA_DIR

    monkeypatch.setenv("COURSE_DATA_DIR", str(isolated / "shared"))
    assert store.data_folders() == [
        ("COURSE_DATA_DIR", isolated / "shared"),
        (REPO, store.REPO_DATA_DIR),
    ]
    assert store.chosen_data_dir() == store.default_data_dir() == isolated / "shared"


def test_the_data_folder_is_data_in_the_course_folder():
    assert store.COURSE_ROOT == ROOT and (store.COURSE_ROOT / "notebooks").is_dir()
    assert store.REPO_DATA_DIR.parent == ROOT and store.REPO_DATA_DIR.name == "data"


def test_a_relative_value_is_taken_from_the_current_directory(isolated, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", "shared/datasets")
    monkeypatch.chdir(isolated)
    assert store.chosen_data_dir() == isolated / "shared" / "datasets"
    assert store.chosen_data_dir().is_absolute()
    (isolated / "notebooks").mkdir()
    monkeypatch.chdir(isolated / "notebooks")  # read again, from where the reader runs
    assert store.default_data_dir() == isolated / "notebooks" / "shared" / "datasets"
    assert store.chosen_data_dir({"COURSE_DATA_DIR": "../d"}) == isolated / "d"


def test_a_home_folder_is_expanded(isolated, monkeypatch):
    monkeypatch.setenv("HOME", str(isolated))
    monkeypatch.setenv("COURSE_DATA_DIR", "~/datasets")
    assert store.default_data_dir() == isolated / "datasets"


def test_an_empty_value_counts_as_unset(isolated, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", "")
    assert store.chosen_data_dir() is None
    assert store.data_folders() == [(REPO, store.REPO_DATA_DIR)]


def test_the_data_folder_itself_is_listed_once(isolated, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(store.REPO_DATA_DIR))
    assert store.data_folders() == [("COURSE_DATA_DIR", store.REPO_DATA_DIR)]


def test_an_explicit_environment_is_read_instead_of_the_process_one(isolated, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(isolated / "mine"))
    assert store.default_data_dir({}) == store.REPO_DATA_DIR
    assert store.default_data_dir({"COURSE_DATA_DIR": str(isolated / "x")}) == isolated / "x"


def test_the_public_name_offers_the_resolver():
    for name in ("data_folders", "default_data_dir", "chosen_data_dir"):
        assert name in datasets.__all__ and getattr(datasets, name) is getattr(store, name)


# --- Everyone asks the resolver -----------------------------------------------------------


def test_the_loaders_read_a_relative_course_data_dir_from_the_current_directory(
    isolated, monkeypatch, capsys
):
    make_tiny_data(isolated / "here" / "datasets")
    monkeypatch.chdir(isolated / "here")
    monkeypatch.setenv("COURSE_DATA_DIR", "datasets")
    datasets.load_mnist()
    assert capsys.readouterr().out.strip().endswith("from COURSE_DATA_DIR.")


def test_fetch_downloads_into_the_default_data_dir(isolated, monkeypatch):
    saved = []

    def download(url, dest, sha256=None):
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(b"x")
        saved.append(dest)

    monkeypatch.setattr(store, "download", download)
    monkeypatch.setattr(store, "UPSTREAM_SHA256", {})
    assert datasets.fetch(datasets=["mnist"], quiet=True) == store.REPO_DATA_DIR
    monkeypatch.setenv("COURSE_DATA_DIR", str(isolated / "shared"))
    assert datasets.fetch(datasets=["mnist"], quiet=True) == isolated / "shared"
    assert saved == [store.REPO_DATA_DIR / "mnist.npz", isolated / "shared" / "mnist.npz"]


@pytest.mark.parametrize("env", [None, "rel/shared"])
def test_the_command_line_defaults_to_the_default_data_dir(isolated, monkeypatch, capsys, env):
    monkeypatch.chdir(isolated)
    monkeypatch.setenv("COLUMNS", "500")  # --help on one line: no path broken in two
    if env:
        monkeypatch.setenv("COURSE_DATA_DIR", env)
    folder = store.default_data_dir()
    assert folder == (isolated / env if env else store.REPO_DATA_DIR)
    datasets.write_sums(make_tiny_data(folder))
    assert cli.main(["verify"]) == 0
    assert "files match SHA256SUMS" in capsys.readouterr().out
    for command in ("fetch", "verify", "serve"):
        assert f"else the course's data/ folder: {folder}" in cli_help(capsys, command)


def cli_help(capsys, command: str) -> str:
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    return capsys.readouterr().out


@pytest.mark.parametrize("env", [None, "rel/shared"])
def test_the_classroom_and_the_bench_use_the_same_folder(isolated, monkeypatch, env):
    from bench import margins, runner
    from classroom import cli as classroom_cli
    from classroom.settings import default_data_source

    monkeypatch.chdir(isolated)
    if env:
        monkeypatch.setenv("COURSE_DATA_DIR", env)
    folder = store.default_data_dir()
    assert folder == (isolated / env if env else store.REPO_DATA_DIR)

    assert default_data_source() == folder
    parser = classroom_cli.parser()
    for argv in (["start", "--roster", "r.txt"], ["kubernetes", "--roster", "r.txt"], ["bench"]):
        assert parser.parse_args(argv).data == str(folder), argv

    kernel_env = margins.condition_env(0, False, None)
    assert kernel_env.get("COURSE_DATA_DIR") == (str(folder) if env else None)
    assert margins.condition_env(0, False, "other")["COURSE_DATA_DIR"] == str(isolated / "other")

    monkeypatch.setattr(runner, "_gpu_count", lambda: None)  # no TensorFlow to start
    monkeypatch.setattr(runner, "describe_cpu", lambda env=None: {})  # nor its CPU probe
    assert runner.machine_info()["data"] == ("COURSE_DATA_DIR" if env else "default lookup")


def test_they_all_go_through_the_resolver(isolated, monkeypatch):
    """Change the resolver's rule and every user's answer changes with it."""
    from bench import margins
    from classroom import cli as classroom_cli
    from classroom.settings import default_data_source

    monkeypatch.setattr(store, "as_data_dir", lambda value: isolated / "ruled" / value)
    monkeypatch.setenv("COURSE_DATA_DIR", "x")
    ruled = isolated / "ruled" / "x"
    assert store.data_folders()[0] == ("COURSE_DATA_DIR", ruled)
    assert default_data_source() == ruled
    assert classroom_cli.parser().parse_args(["bench"]).data == str(ruled)
    assert margins.condition_env(0, False, None)["COURSE_DATA_DIR"] == str(ruled)


# --- Static: one reader of COURSE_DATA_DIR, one definition of data/ ------------------------

# Made on the machine, never committed (.gitignore): the data, a classroom's state and its
# Kubernetes image folder (a copy of the project), the website, build output.
MADE_HERE = {"data", "classroom-data", "classroom-kubernetes", "site", "build", "dist"}
SKIP_ANYWHERE = {"node_modules", "__pycache__"}
READERS = {"helpers/data/store.py", "course.py"}  # the resolver; the launcher's one resolution
# ...and the launcher's own test, which reads back what course.absolute_data_dir() wrote
CHECKS_THE_LAUNCHER = {"tests/test_course_launcher.py"}
DEFINERS = {"helpers/data/store.py"}


def project_sources(root: Path = ROOT) -> dict[str, str]:
    """Relative path -> Python source: every .py file, and the notebooks' code cells."""
    sources = {}
    for folder, dirs, files in os.walk(root):
        top = Path(folder) == root
        dirs[:] = [
            d
            for d in dirs
            if not d.startswith(".") and d not in SKIP_ANYWHERE and not (top and d in MADE_HERE)
        ]
        for name in files:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if name.endswith(".py"):
                sources[rel] = path.read_text(encoding="utf-8")
            elif name.endswith(".ipynb"):
                cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
                code = ("".join(c["source"]) for c in cells if c["cell_type"] == "code")
                sources[rel] = "\n".join(as_python(cell) for cell in code)
    return sources


def as_python(cell: str) -> str:
    """A notebook cell as plain Python: IPython's ``%magic`` and ``!shell`` lines turned into
    calls, as the kernel does."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell)


def _text(node: ast.AST) -> str:
    return ast.unparse(node)


def _is_name(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == "COURSE_DATA_DIR"


def env_reads(source: str) -> list[int]:
    """Lines that read ``COURSE_DATA_DIR`` from an environment (``os.environ``, ``getenv``)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and any(_is_name(a) for a in node.args):
            func = node.func
            if (isinstance(func, ast.Name) and func.id == "getenv") or (
                isinstance(func, ast.Attribute)
                and (func.attr == "getenv" or (func.attr == "get" and "environ" in _text(func)))
            ):
                lines.append(node.lineno)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if _is_name(node.slice) and "environ" in _text(node.value):
                lines.append(node.lineno)
        elif isinstance(node, ast.Compare) and _is_name(node.left):
            if any("environ" in _text(c) for c in node.comparators):
                lines.append(node.lineno)
    return lines


def _rootish(node: ast.AST) -> bool:
    text = _text(node)
    return "root" in text.lower() or "__file__" in text or "parent" in text


def data_folder_definitions(source: str) -> list[int]:
    """Lines that build the course's ``data/`` folder from its root (``ROOT / "data"``)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            right = node.right
            if isinstance(right, ast.Constant) and str(right.value).strip("/") == "data":
                if _rootish(node.left):
                    lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            args = [a for a in node.args if isinstance(a, ast.Constant)]
            if node.func.attr in ("joinpath", "join") and any(
                str(a.value).strip("/") == "data" for a in args
            ):
                if any(_rootish(a) for a in [node.func.value, *node.args]):
                    lines.append(node.lineno)
    return lines


@pytest.mark.parametrize(
    ("source", "reads", "defines"),
    [
        ('os.environ.get("COURSE_DATA_DIR")', [1], []),
        ('os.getenv("COURSE_DATA_DIR", "")', [1], []),
        ('Path(os.environ["COURSE_DATA_DIR"])', [1], []),
        ('"COURSE_DATA_DIR" in os.environ', [1], []),
        ('(os.environ if e is None else e).get("COURSE_DATA_DIR", "")', [1], []),
        ('monkeypatch.setenv("COURSE_DATA_DIR", "x")', [], []),
        ('env = {"COURSE_DATA_DIR": S["data_dir"]}', [], []),
        ('values["extraEnv"]["COURSE_DATA_DIR"]', [], []),
        ('ROOT / "data"', [], [1]),
        ('Path(__file__).resolve().parents[2] / "data"', [], [1]),
        ('os.path.join(ROOT, "data")', [], [1]),
        ('COURSE_ROOT.joinpath("data")', [], [1]),
        ('tmp_path / "data"', [], []),
        ('folder / "data"', [], []),
    ],
)
def test_the_static_checks_see_what_they_look_for(source, reads, defines):
    assert env_reads(source) == reads
    assert data_folder_definitions(source) == defines


def test_only_the_resolver_and_the_launcher_read_course_data_dir():
    found = {rel: env_reads(src) for rel, src in project_sources().items()}
    found = {rel: lines for rel, lines in found.items() if lines and rel not in CHECKS_THE_LAUNCHER}
    assert set(found) <= READERS, (
        f"COURSE_DATA_DIR is read outside helpers/data/store.py: {found}. Ask the resolver "
        "instead: helpers.datasets.default_data_dir(), data_folders() or chosen_data_dir()."
    )
    assert set(found) == READERS  # the checks still see the two readers there are


def test_only_the_resolver_defines_the_data_folder():
    found = {rel: data_folder_definitions(src) for rel, src in project_sources().items()}
    found = {rel: lines for rel, lines in found.items() if lines}
    assert found.keys() == DEFINERS, (
        f"The course's data/ folder is defined outside helpers/data/store.py: {found}. Use "
        "helpers.datasets.default_data_dir() (or store.REPO_DATA_DIR inside the package)."
    )


def test_nothing_imports_the_implementations_name_where_the_public_one_works():
    """``helpers.datasets`` is the public name; ``helpers.data`` is imported only inside the
    package, by the module that re-exports it, and by tests of its internals."""
    allowed = ("helpers/data/", "helpers/datasets.py", "tests/")
    found = []
    for rel, src in project_sources().items():
        if rel.startswith(allowed):
            continue
        for node in ast.walk(ast.parse(src)):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if isinstance(node, ast.ImportFrom) and node.module == "helpers":
                names = [f"helpers.{a.name}" for a in node.names]
            if any(n == "helpers.data" or n.startswith("helpers.data.") for n in names):
                found.append(f"{rel}:{node.lineno}")
    assert not found, f"import helpers.datasets instead of helpers.data: {found}"
