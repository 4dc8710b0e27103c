"""helpers.checks: the feedback engine itself (chapter checks are tested with their chapter)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import checks


def relu(x):
    return np.maximum(x, 0)


def test_function_check_passes_and_fails_with_specifics():
    assert checks.check_function(relu, relu, [-1, 0, 2], "relu").ok
    bad = checks.check_function(np.abs, relu, [-1, 0, 2], "relu")
    assert not bad.ok and "`relu(-1)` gave 1, expected 0" in bad.message
    assert repr(bad).startswith("[try again]")


def test_function_check_handles_unfinished_and_broken_code():
    assert not checks.check_function(None, relu, [1], "relu").attempted

    def todo(x):
        raise NotImplementedError

    assert not checks.check_function(todo, relu, [1], "relu").attempted
    assert "forget `return`" in checks.check_function(lambda x: None, relu, [1], "relu").message
    assert "raised ZeroDivisionError" in checks.check_function(lambda x: 1 / 0, relu, [1],
                                                               "relu").message
    assert "shape" in checks.check_function(lambda x: x.sum(), relu, [1, 2], "relu").message
    assert "should be a function" in checks.check_function(3, relu, [1], "relu").message


def test_value_check_recognises_named_mistakes():
    hints = {"the sign is flipped.": lambda v: np.isclose(v, -0.25)}
    assert checks.check_value(0.25, 0.25, "grad").ok
    assert "sign is flipped" in checks.check_value(-0.25, 0.25, "grad", hints=hints).message
    assert "not right yet" in checks.check_value(3.0, 0.25, "grad", hints=hints).message
    assert "should be a number" in checks.check_value("x", 0.25, "grad").message
    assert not checks.check_value(..., 0.25, "grad").attempted


def test_choice_check_explains_the_wrong_choice():
    expl = {"a": "Right: sigmoid.", "b": "Softmax is for several classes."}
    assert checks.check_choice("a", "a", "q", expl).ok
    assert "Softmax is for several classes" in checks.check_choice("b", "a", "q", expl).message


def test_every_chapter_module_is_re_exported():
    """`from helpers import checks; checks.check_xxx(...)` reaches every chNN module's checks."""
    import importlib
    import pkgutil

    found = sorted(m.name for m in pkgutil.iter_modules(checks.__path__) if m.name != "core")
    assert found[:5] == ["ch01", "ch02", "ch03", "ch04", "ch05"], found
    assert checks.CHAPTER_MODULES == [name for name in found if name.startswith("ch")]
    for name in checks.CHAPTER_MODULES:
        module = importlib.import_module(f"helpers.checks.{name}")
        assert module.__all__, f"helpers/checks/{name}.py lists no public names in __all__"
        for public in module.__all__:
            assert getattr(checks, public) is getattr(module, public), public
            assert public in checks.__all__
    assert checks.confirm is checks.core.confirm and checks.Feedback is checks.core.Feedback


def test_confirm_shows_nothing_of_the_answer(capsys):
    checks.confirm(checks.check_value(0.25, 0.25, "grad"))
    assert capsys.readouterr().out == "[solution] passes its check.\n"
    with pytest.raises(checks.SolutionError):
        checks.confirm(checks.check_value(0.3, 0.25, "grad"))


def test_the_checks_package_is_shipped_by_a_normal_install():
    """pyproject's package list must name helpers.checks, or `pip install .` (not -e) and
    a built wheel would leave it out and every notebook's `from helpers import checks` fails."""
    tomllib = pytest.importorskip("tomllib")
    from pathlib import Path

    root = Path(checks.__file__).resolve().parents[2]
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = setuptools.get("packages")
    if not isinstance(listed, list):
        return  # automatic discovery (packages.find) finds subpackages itself
    helpers = root / "helpers"
    wanted = {".".join(("helpers", *p.parent.relative_to(helpers).parts))
              for p in helpers.rglob("__init__.py")}
    assert wanted <= set(listed), f"pyproject.toml [tool.setuptools] packages lacks " \
                                  f"{sorted(wanted - set(listed))}"
