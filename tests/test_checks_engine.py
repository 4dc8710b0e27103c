"""The checks' engine: the kinds of check, confirm(), fairness of reading an answer, and the
package's explicit exports."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import checks
from helpers.checks import EX_NEURON


def _neuron():
    x, w, b = np.array(EX_NEURON["x"]), np.array(EX_NEURON["w"]), EX_NEURON["b"]
    z = float(w @ x + b)
    return x, w, b, z, 1 / (1 + np.exp(-z))


def relu(x):
    return np.maximum(x, 0)


def test_wrong_numbers_in_another_form_keep_their_specific_hint():
    _, _, _, z, _ = _neuron()
    assert "that is z" in checks.check_neuron_output(np.array([z])).message
    assert "each of the 64 units also has a bias" in \
        checks.check_dense_params(np.array([784 * 64])).message
    many = checks.check_neuron_output(np.array([0.475, 0.5]))
    assert not many.ok and "holds 2 numbers" in many.message and "single number" in many.message
    assert "should be a number" in checks.check_neuron_output(True).message
    assert "should be a number" in checks.check_neuron_output("about a half").message


def test_integer_answers_are_echoed_as_integers():
    for answer in (15, 15.0, np.int64(15), np.array([15])):
        feedback = checks.check_layer_params(answer)
        assert feedback.ok and "`answer_layer_params` = 15 is right" in feedback.message, feedback
        assert "15.0" not in feedback.message
    assert "= 50240 is right" in checks.check_dense_params(50_240).message
    assert "= 12:" in checks.check_layer_params(12).message


def test_floats_keep_their_tolerance_and_exact_can_be_chosen():
    assert checks.check_value(0.25004, 0.25, "v").ok
    assert not checks.check_value(15.0001, 15, "n").ok
    assert checks.check_value(15.0001, 15, "n", exact=False).ok
    assert checks.check_value([1, 2, 3], np.array([[1], [2], [3]]), "v").ok


def test_choices_ignore_spaces_inside_when_that_is_unambiguous():
    assert checks.check_dropout_values("0and2").ok
    assert checks.check_binary_output("dense(1,sigmoid)").ok


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

    found = sorted(m.name for m in pkgutil.iter_modules(checks.__path__) if m.name != "engine")
    assert found[:5] == ["ch01", "ch02", "ch03", "ch04", "ch05"], found
    assert checks.CHAPTER_MODULES == [name for name in found if name.startswith("ch")]
    for name in checks.CHAPTER_MODULES:
        module = importlib.import_module(f"helpers.checks.{name}")
        assert module.__all__, f"helpers/checks/{name}.py lists no public names in __all__"
        for public in module.__all__:
            assert getattr(checks, public) is getattr(module, public), public
            assert public in checks.__all__
    assert checks.confirm is checks.engine.confirm and checks.Feedback is checks.engine.Feedback


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


def test_every_public_check_wears_the_exercise_decorator_and_logs_its_call(tmp_path,
                                                                          monkeypatch):
    import json

    listed = [name for names in checks.CHECKS_BY_CHAPTER.values() for name in names]
    public = [name for name in checks.__all__ if name.startswith("check_")
              and name not in ("check_value", "check_choice", "check_function")]
    assert sorted(listed) == sorted(public)
    assert all(hasattr(getattr(checks, name), "__wrapped__") for name in public)
    log = tmp_path / "progress.jsonl"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(log))
    feedback = checks.check_padded(None)  # "not attempted yet" comes from the decorator
    assert not feedback.attempted and "answer_padded" in feedback.message
    assert feedback.event
    [line] = [json.loads(line) for line in log.read_text().splitlines()]
    assert (line["chapter"], line["check"]) == ("07", "check_padded")
