"""The chapter registry (helpers/chapters.py): it matches the project, every tool reads it, and
a new chapter takes four files.

- :func:`registry_problems` checks a course folder against its registry: every notebook in
  ``notebooks/`` listed, every entry's notebook, checks module, checks test file and baseline
  present, no checks module or checks test file without an entry, numbers in order.
- The README's chapter table is the one ``bench.chapters`` generates from the registry.
- Every check of a chapter's module is filed under that chapter's number (``@exercise("NN")``
  keeps its argument, so a module copied from another chapter and not updated is caught here).
- The fake chapter: a copy of the project in a temporary folder gets a chapter 09 (a registry
  entry, a notebook, a checks module and its test file, nothing else), and the bench, the
  budgets, the site, the classroom, the Kubernetes image, the checks catalogue, ``bench
  --against``'s listing and the regenerated README table all include it. Nothing is written
  inside the project.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import chapters as bench_chapters
from bench import common, runner
from helpers import chapters
from helpers import checks as course_checks

ROOT = Path(__file__).resolve().parent.parent


def registry_problems(root: Path, listed: tuple[chapters.Chapter, ...]) -> list[str]:
    """What is wrong between the course folder ``root`` and its registry ``listed``."""
    problems = []
    numbers = [ch.number for ch in listed]
    if numbers != sorted(set(numbers)):
        problems.append(f"the numbers {numbers} are not in increasing order without repeats")
    named = {ch.notebook for ch in listed}
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        if path.name not in named:
            problems.append(f"notebooks/{path.name} has no entry in helpers/chapters.py")
    for ch in listed:
        if not (root / "notebooks" / ch.notebook).is_file():
            problems.append(f"chapter {ch.number}: notebooks/{ch.notebook} does not exist")
        if ch.checks:
            for wanted in (f"helpers/checks/{ch.checks}.py", f"tests/test_checks_{ch.checks}.py"):
                if not (root / wanted).is_file():
                    problems.append(f"chapter {ch.number}: {wanted} does not exist")
        if ch.baseline and not (root / "bench" / "baselines" / f"{ch.baseline}.py").is_file():
            problems.append(f"chapter {ch.number}: bench/baselines/{ch.baseline}.py is missing")
    modules = {ch.checks for ch in listed if ch.checks}
    for path in sorted((root / "helpers" / "checks").glob("ch*.py")):
        if path.stem not in modules:
            problems.append(f"helpers/checks/{path.name} belongs to no chapter's entry")
    for path in sorted((root / "tests").glob("test_checks_ch*.py")):
        if path.stem.removeprefix("test_checks_") not in modules:
            problems.append(f"tests/{path.name} belongs to no chapter's entry")
    return problems


def filing_problems(
    listed: tuple[chapters.Chapter, ...],
    catalogue: dict[str, list[str]],
    decorated: dict[str, list[str]],
) -> list[str]:
    """Checks filed under another chapter than their module's entry, or not at all.

    ``catalogue`` is ``helpers.checks.all_checks()``; ``decorated`` maps each chapter's checks
    module name to the names in its ``__all__`` that wear ``@exercise``.
    """
    problems = []
    with_checks = {ch.number: ch.checks for ch in listed if ch.checks}
    for number in sorted(set(catalogue) - set(with_checks)):
        problems.append(f"checks are filed under chapter {number}, which has no checks module")
    for number, module in with_checks.items():
        mine, filed = sorted(decorated.get(module, [])), sorted(catalogue.get(number, []))
        if not mine:
            problems.append(f"helpers/checks/{module}.py has no @exercise check")
        elif mine != filed:
            problems.append(
                f"helpers/checks/{module}.py's checks {mine} are filed under chapter {number} "
                f"as {filed}: each @exercise(...) in it must say {number!r}"
            )
    return problems


def _decorated(modules) -> dict[str, list[str]]:
    return {
        m.__name__.rsplit(".", 1)[1]: [
            n for n in m.__all__ if hasattr(getattr(m, n), "__wrapped__")
        ]
        for m in modules
    }


# --- this project ------------------------------------------------------------------------------


def test_the_registry_matches_the_project():
    assert len(chapters.CHAPTERS) >= 9
    assert registry_problems(ROOT, chapters.CHAPTERS) == []


def test_every_check_is_filed_under_its_modules_chapter():
    catalogue = course_checks.all_checks()
    assert filing_problems(chapters.CHAPTERS, catalogue, _decorated(course_checks.CHAPTERS)) == []
    # ... and a module whose decorators name another chapter would be caught:
    moved = {**catalogue, "07": [], "08": catalogue["08"] + catalogue["07"]}
    found = filing_problems(chapters.CHAPTERS, moved, _decorated(course_checks.CHAPTERS))
    assert any("ch07.py's checks" in line for line in found), found


def test_the_readme_table_is_the_registrys():
    assert common.read_readme_block("chapters") == bench_chapters.readme_table(), (
        "README.md's chapter table is not the registry's: run "
        "`.venv/bin/python -m bench.chapters` to rewrite it from helpers/chapters.py"
    )


def test_the_tools_read_the_registry():
    """Today's values, as the registry holds them, reach the bench and the runner."""
    listed = chapters.CHAPTERS
    assert common.chapter_notebooks() == [ROOT / "notebooks" / ch.notebook for ch in listed]
    assert [p.name for p in common.chapter_notebooks(["03", "05"])] == [
        "03_mnist_classifier.ipynb",
        "05_dropout_and_callbacks.ipynb",
    ]
    expected = {ch.number: (120, 1200) for ch in listed}
    expected.update({"01": (60, 1024), "02": (60, 1024)})
    assert common.BUDGETS == expected
    assert runner.PAIRS == {"03": "mnist_recipe", "04": "imdb_recipe"}
    with pytest.raises(KeyError, match="no chapter '42'"):
        common.budget_for("42")


# --- the registry's own rules ------------------------------------------------------------------


def _entry(number: str, **changes) -> dict:
    entry = {
        "number": number,
        "notebook": f"{number}_x.ipynb",
        "title": "A title",
        "learn": "Something",
        "budget_seconds": 120,
        "budget_mb": 1200,
        "baseline": None,
        "checks": None,
    }
    return {**entry, **changes}


@pytest.mark.parametrize(
    "entries, problem",
    [
        ([_entry("01"), _entry("00")], "increasing order"),
        ([_entry("01"), _entry("01")], "increasing order"),
        ([_entry("01", notebook="02_x.ipynb")], "is not '01_name.ipynb'"),
        ([_entry("1", notebook="1_x.ipynb")], "not two digits"),
        ([_entry("01", budget_seconds=0)], "budget_seconds"),
        ([_entry("01", budget_mb=True)], "budget_mb"),
        ([_entry("01", learn="a | b")], "without '|'"),
        ([_entry("01", checks="ch-01")], "checks 'ch-01'"),
        ([{k: v for k, v in _entry("01").items() if k != "title"}], "missing ['title']"),
        ([{**_entry("01"), "extra": 1}], "unknown ['extra']"),
    ],
)
def test_a_malformed_registry_is_refused(entries, problem):
    with pytest.raises(ValueError, match="helpers/chapters.py") as err:
        chapters.from_entries(entries)
    assert problem in str(err.value)


def test_another_folders_registry_is_read_as_data_and_a_folder_without_one_by_name(tmp_path):
    (tmp_path / "helpers").mkdir()
    (tmp_path / "notebooks").mkdir()
    for name in ("00_a.ipynb", "01_b.ipynb", "scratch.ipynb"):
        (tmp_path / "notebooks" / name).write_text("{}")
    # No registry: the old naming rule.
    assert [p.name for p in chapters.notebook_paths(tmp_path)] == ["00_a.ipynb", "01_b.ipynb"]
    with pytest.raises(FileNotFoundError):
        chapters.load(tmp_path)
    # A registry: its entries, in its order, and it is never run (the raise below would be).
    entries = [_entry("01", notebook="01_b.ipynb")]
    chapters.registry_file(tmp_path).write_text(
        f"raise SystemExit('run')\nENTRIES = {entries!r}\n", encoding="utf-8"
    )
    assert [p.name for p in chapters.notebook_paths(tmp_path)] == ["01_b.ipynb"]
    assert [ch.number for ch in chapters.load(tmp_path)] == ["01"]
    assert chapters.load(ROOT) is chapters.CHAPTERS
    chapters.registry_file(tmp_path).write_text("ENTRIES = make()\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a plain literal"):
        chapters.read_entries(chapters.registry_file(tmp_path))


# --- a new chapter, in a copy of the project ---------------------------------------------------

# The fake chapter comes after the registry's last one, whichever that is.
LAST = chapters.CHAPTERS[-1].number
NEXT = f"{int(LAST) + 1:02d}"
DRAFT = f"{int(LAST) + 2:02d}_draft.ipynb"

FAKE = {
    "number": NEXT,
    "notebook": f"{NEXT}_fake.ipynb",
    "title": "A fake chapter",
    "learn": "Nothing: it shows where a new chapter appears",
    "budget_seconds": 90,
    "budget_mb": 1100,
    "baseline": None,
    "checks": f"ch{NEXT}",
}

FAKE_NOTEBOOK = {
    "cells": [
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": [f"# Chapter {int(NEXT)}: a fake chapter"],
        },
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": ["import helpers"],
        },
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}

FAKE_CHECKS = f'''\
"""Chapter {int(NEXT)} exercises: a fake chapter."""

from __future__ import annotations

from helpers.checks.engine import Feedback, exercise

__all__ = ["check_fake_answer"]


@exercise("{NEXT}")
def check_fake_answer(answer: int) -> Feedback:
    """Ex. {int(NEXT)}.1: the answer."""
    return Feedback(answer == 42, "the answer is right." if answer == 42 else "not yet.")
'''

FAKE_TEST = """\
from helpers import checks


def test_the_fake_check():
    assert checks.check_fake_answer(42).ok
"""

# Run inside the copy (cwd and PYTHONPATH): what each tool says its chapters are.
PROBE = """\
import json, sys
from pathlib import Path

import yaml

import bench.against, bench.chapters, bench.common, bench.runner, classroom.cli, classroom.settings
import course, helpers, website.build
from helpers import checks, datasets

root, out, work = Path.cwd(), Path(sys.argv[1]), Path(sys.argv[2])
site_chapters, published = website.build.load_chapters()
found = {
    "files": {m.__name__: m.__file__ for m in (
        bench.common, classroom.settings, course, helpers, checks, website.build)},
    "bench": [p.name for p in bench.common.chapter_notebooks()],
    "bench_only": [p.name for p in bench.common.chapter_notebooks(["NEXT"])],
    "budgets": bench.common.BUDGETS,
    "budget_for": bench.common.budget_for("NEXT"),
    "pairs": bench.runner.PAIRS,
    "against": [p.name for p in bench.against.chapter_notebooks_in(root, None)],
    "site": [[c.number, c.stem, c.name, c.teaches, c.title] for c in site_chapters],
    "site_pages": [p.name for p in website.build.chapter_paths()],
    "home": website.build.home_page(site_chapters, published, "intro"),
    "classroom": [p.name for p in classroom.settings.chapter_notebooks()],
    "catalogue": checks.all_checks(),
    "modules": checks.CHAPTER_MODULES,
    "decorated": {m.__name__.rsplit(".", 1)[1]: [
        n for n in m.__all__ if hasattr(getattr(m, n), "__wrapped__")] for m in checks.CHAPTERS},
    "fake_check": repr(checks.check_fake_answer(42)),
}
assert bench.chapters.main([]) == 0  # the README's table, rewritten from the registry
data = work / "data"
data.mkdir()
(data / "mnist.npz").write_bytes(b"not really mnist")
datasets.write_sums(data)
(work / "students.txt").write_text("kim.minjun\\n", encoding="utf-8")
k8s = work / "k8s"
argv = ["kubernetes", "--roster", str(work / "students.txt"), "--data", str(data)]
assert classroom.cli.main([*argv, "--out", str(k8s)]) == 0
found["image"] = sorted(p.name for p in (k8s / "image" / "notebooks").glob("*.ipynb"))
user = yaml.safe_load((k8s / "values.yaml").read_text(encoding="utf-8"))["singleuser"]
found["post_start"] = user["lifecycleHooks"]["postStart"]["exec"]["command"][-1]
found["default_url"] = user["defaultUrl"]
out.write_text(json.dumps(found), encoding="utf-8")
""".replace("NEXT", NEXT)

COPIED_DIRS = ("helpers", "bench", "website", "classroom", "lab_settings")
COPIED_FILES = (
    "course.py",
    "README.md",
    "pyproject.toml",
    "requirements/course.txt",
    "requirements/course.lock",
    "requirements/classroom.txt",
    "requirements/classroom.lock",
)


def _copy_project(target: Path) -> None:
    skip = shutil.ignore_patterns("__pycache__", "results", "*.pyc")
    for name in COPIED_DIRS:
        shutil.copytree(ROOT / name, target / name, ignore=skip)
    for name in COPIED_FILES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, target / name)
    (target / "notebooks").mkdir()
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copyfile(path, target / "notebooks" / path.name)
    (target / "tests").mkdir()
    for path in (ROOT / "tests").glob("test_checks_ch*.py"):
        shutil.copyfile(path, target / "tests" / path.name)


def _add_entry(registry: Path, entry: dict) -> None:
    """Append ``entry`` to the registry file's ENTRIES list, as a maintainer would."""
    text = registry.read_text(encoding="utf-8")
    tree = ast.parse(text)
    [node] = [
        n
        for n in tree.body
        if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "ENTRIES" for t in n.targets)
    ]
    lines = text.splitlines(keepends=True)
    end = sum(len(line) for line in lines[: node.value.end_lineno - 1])
    end += node.value.end_col_offset - 1  # the closing bracket
    registry.write_text(f"{text[:end]}    {entry!r},\n{text[end:]}", encoding="utf-8")


def _state(root: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of the project files the fake chapter would change."""
    paths = [root / "README.md", chapters.registry_file(root)]
    for folder in ("notebooks", "helpers/checks", "tests"):
        paths += sorted((root / folder).iterdir())
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in paths if p.exists()}


def test_a_new_chapter_takes_four_files_and_every_tool_sees_it(tmp_path):
    before = _state(ROOT)
    copy = tmp_path / "course"
    _copy_project(copy)

    # The four files of a new chapter; nothing else in the copy is edited.
    _add_entry(chapters.registry_file(copy), FAKE)
    (copy / "notebooks" / FAKE["notebook"]).write_text(json.dumps(FAKE_NOTEBOOK), encoding="utf-8")
    (copy / "helpers" / "checks" / f"ch{NEXT}.py").write_text(FAKE_CHECKS, encoding="utf-8")
    (copy / "tests" / f"test_checks_ch{NEXT}.py").write_text(FAKE_TEST, encoding="utf-8")

    listed = chapters.load(copy)  # the copy's registry, read from its file
    assert listed[-1] == chapters.Chapter(**FAKE)
    assert listed[:-1] == chapters.CHAPTERS
    assert registry_problems(copy, listed) == []
    # A draft named like a chapter but not in the registry: the registry's test flags it, and
    # every tool leaves it out (the old rule, notebooks/NN_*.ipynb, would have taken it).
    draft = copy / "notebooks" / DRAFT
    draft.write_text(json.dumps(FAKE_NOTEBOOK), encoding="utf-8")
    assert registry_problems(copy, listed) == [
        f"notebooks/{DRAFT} has no entry in helpers/chapters.py"
    ]

    work = tmp_path / "work"
    work.mkdir()
    out = tmp_path / "found.json"
    env = {
        **os.environ,
        "PYTHONPATH": str(copy),  # the copy's helpers, bench, ... before the project's install
        "PYTHONDONTWRITEBYTECODE": "1",
        "COURSE_PROGRESS_FILE": str(work / "progress.jsonl"),
        "COURSE_CLASS_PASSWORD": "class-pass-2026",
        "COURSE_TEACHER_PASSWORD": "p" * 36,
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), str(work)],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(out.read_text(encoding="utf-8"))

    for module, file in found["files"].items():  # the copy's code answered, not the project's
        assert Path(file).resolve().is_relative_to(copy.resolve()), (module, file)
    every = [ch.notebook for ch in listed]
    assert every[-1] == FAKE["notebook"]
    assert found["bench"] == every and found["bench_only"] == [FAKE["notebook"]]
    assert found["budgets"][NEXT] == [90, 1100] and found["budget_for"] == [90, 1100]
    assert found["budgets"]["06"] == [120, 1200]
    assert found["pairs"] == {"03": "mnist_recipe", "04": "imdb_recipe"}
    assert found["against"] == every
    assert found["site_pages"] == every
    assert found["site"][-1] == [
        NEXT,
        f"{NEXT}_fake",
        FAKE["title"],
        FAKE["learn"],
        f"Chapter {int(NEXT)}: a fake chapter",
    ]
    assert f"| {NEXT} | [{FAKE['title']}]({NEXT}_fake.ipynb) | {FAKE['learn']} |" in found["home"]
    assert found["classroom"] == every
    assert found["image"] == sorted(every)
    assert f"/srv/course/notebooks/{FAKE['notebook']}" in found["post_start"]
    assert found["default_url"] == f"/lab/tree/{every[0]}"
    assert found["modules"][-1] == f"ch{NEXT}"
    assert found["catalogue"][NEXT] == ["check_fake_answer"]
    assert found["fake_check"].startswith("[ok]")
    assert filing_problems(listed, found["catalogue"], found["decorated"]) == []
    [logged] = (work / "progress.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(logged)["chapter"] == NEXT
    table = common.read_readme_block("chapters", copy / "README.md")
    assert table == bench_chapters.readme_table(listed)
    assert (
        f"| {NEXT} | [{FAKE['title']}](notebooks/{FAKE['notebook']}) | {FAKE['learn']} |" in table
    )

    draft.unlink()
    assert registry_problems(copy, listed) == []
    # Each of the four files is needed: without one, the registry's test says which.
    for missing, said in [
        (copy / "notebooks" / FAKE["notebook"], f"notebooks/{FAKE['notebook']} does not exist"),
        (
            copy / "helpers" / "checks" / f"ch{NEXT}.py",
            f"helpers/checks/ch{NEXT}.py does not exist",
        ),
        (
            copy / "tests" / f"test_checks_ch{NEXT}.py",
            f"tests/test_checks_ch{NEXT}.py does not exist",
        ),
    ]:
        kept = missing.read_bytes()
        missing.unlink()
        assert any(said in line for line in registry_problems(copy, listed)), said
        missing.write_bytes(kept)
    unlisted = registry_problems(copy, listed[:-1])
    assert f"notebooks/{FAKE['notebook']} has no entry in helpers/chapters.py" in unlisted
    assert f"helpers/checks/ch{NEXT}.py belongs to no chapter's entry" in unlisted
    # A checks module copied from the last chapter and left saying its number is caught too.
    misfiled = {**found["catalogue"], NEXT: []}
    misfiled[LAST] = [*misfiled[LAST], "check_fake_answer"]
    assert any(
        f"ch{NEXT}.py's checks" in p for p in filing_problems(listed, misfiled, found["decorated"])
    )

    assert _state(ROOT) == before, "the test wrote inside the project"
