"""No import circle among the project's own modules.

Every module of the project (``course.py``, ``conftest.py``, ``jupyter_notebook_config.py``
and the packages ``helpers``, ``bench``, ``classroom``, ``website``; not the tests) is parsed
with :mod:`ast`, without importing it. Each ``import``/``from ... import`` becomes an edge from
the importing module to the project module it names, wherever the statement stands: at the
top, or inside a function (a lazy import still ties the two modules together in the design).
Only the module a statement names counts, not the packages above it that Python runs first,
so a package's ``__init__`` re-exporting its submodules is not a circle. Imports under
``if TYPE_CHECKING:`` never run and are left out.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("helpers", "bench", "classroom", "website")
TOP_LEVEL = ("course.py", "conftest.py", "jupyter_notebook_config.py")

Graph = dict[str, dict[str, list[str]]]  # module -> imported module -> where ("file:line")


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted name -> file, for every module of the project."""
    files = [root / name for name in TOP_LEVEL if (root / name).is_file()]
    for package in PACKAGES:
        files += sorted(p for p in (root / package).rglob("*.py") if "__pycache__" not in p.parts)
    modules = {}
    for path in files:
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement of a module, in functions too, except under TYPE_CHECKING."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _deepest(name: str, modules: dict[str, Path]) -> str | None:
    """``name`` or its closest enclosing package that is a project module."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def imported_modules(
    module: str, node: ast.Import | ast.ImportFrom, modules: dict[str, Path]
) -> list[str]:
    """The project modules one import statement of ``module`` names."""
    if isinstance(node, ast.Import):
        found = [_deepest(alias.name, modules) for alias in node.names]
        return [name for name in found if name]
    if node.level:  # relative: from the module's own package, one level up per extra dot
        package = module.split(".")
        if modules[module].name != "__init__.py":
            package = package[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, *([node.module] if node.module else [])])
    else:
        base = node.module or ""
    found = []
    for alias in node.names:
        if f"{base}.{alias.name}" in modules:  # `from helpers import checks`: a module
            found.append(f"{base}.{alias.name}")
        elif target := _deepest(base, modules):  # a name defined in ``base``
            found.append(target)
    return found


def import_graph(root: Path = ROOT) -> Graph:
    """module -> {project module it imports -> ["file:line", ...]}."""
    modules = project_modules(root)
    graph: Graph = {name: {} for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _import_nodes(tree):
            for target in imported_modules(name, node, modules):
                if target != name:
                    where = f"{path.relative_to(root).as_posix()}:{node.lineno}"
                    places = graph[name].setdefault(target, [])
                    if where not in places:
                        places.append(where)
    for targets in graph.values():
        for places in targets.values():
            places.sort(key=lambda where: int(where.rsplit(":", 1)[1]))
    return graph


def _components(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def _shortest_cycle(graph: Graph, start: str, members: set[str]) -> list[str]:
    """The shortest path start -> ... -> start inside one component."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node]):
            if target == start:
                return [*paths[node], start]
            if target in members and target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    raise AssertionError(f"{start} is in no cycle")  # pragma: no cover - a component always is


def import_cycles(graph: Graph) -> list[str]:
    """One line per circle, each module with where its import of the next one stands.

    Per group of modules that reach each other (a strongly connected component): the
    shortest circle through its first module, then through each module no circle shown yet
    passes through, so every module of the group appears in one.
    """
    lines = []
    for component in _components(graph):
        covered: set[str] = set()
        for start in component:
            if start in covered:
                continue
            cycle = _shortest_cycle(graph, start, set(component))
            covered.update(cycle)
            steps = " -> ".join(
                f"{a} ({', '.join(graph[a][b])})" for a, b in zip(cycle, cycle[1:], strict=False)
            )
            lines.append(f"{steps} -> {cycle[-1]}")
    return lines


# --- the tests ------------------------------------------------------------------------------


def test_no_import_circle_among_the_projects_modules():
    cycles = import_cycles(import_graph())
    assert not cycles, "Import circles among the project's modules:\n" + "\n".join(cycles)


def test_the_graph_sees_the_projects_imports():
    """A sanity check that the parse finds real edges (so an empty answer means something)."""
    graph = import_graph()
    assert "helpers.checks.engine" in graph["helpers.checks.ch01"]
    assert "helpers.chapters" in graph["helpers.checks"]  # `from helpers import chapters as _`
    assert "helpers.progress" in graph["helpers.checks.engine"]
    assert "classroom.report" in graph["classroom.cli"]  # inside a function
    assert "bench.common" in graph["bench.run"]


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_a_lazy_or_relative_circle_is_found(tmp_path):
    root = _tree(
        tmp_path,
        {
            "helpers/__init__.py": "",
            "helpers/checks/__init__.py": "from helpers.checks import engine\n",
            "helpers/checks/engine.py": "def f():\n    from helpers import progress\n",
            "helpers/progress.py": "from . import log\nfrom .checks.engine import CHECKS\n",
            "helpers/log.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from helpers import progress\n",
            "bench/__init__.py": "",
            "bench/run.py": "import bench.against\n",
            "bench/against.py": "from bench.run import main\n",
        },
    )
    graph = import_graph(root)
    assert graph["helpers.progress"] == {
        "helpers.log": ["helpers/progress.py:1"],
        "helpers.checks.engine": ["helpers/progress.py:2"],
    }
    assert graph["helpers.log"] == {}  # TYPE_CHECKING only
    assert import_cycles(graph) == [
        "bench.against (bench/against.py:1) -> bench.run (bench/run.py:1) -> bench.against",
        "helpers.checks.engine (helpers/checks/engine.py:2) -> helpers.progress "
        "(helpers/progress.py:2) -> helpers.checks.engine",
    ]
