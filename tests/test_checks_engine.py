"""The checks' engine: the kinds of check, confirm(), fairness of reading an answer, and the
package's explicit exports."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import checks
from helpers.checks import EX_NEURON, engine


def _neuron():
    x, w, b = np.array(EX_NEURON["x"]), np.array(EX_NEURON["w"]), EX_NEURON["b"]
    z = float(w @ x + b)
    return x, w, b, z, 1 / (1 + np.exp(-z))


def relu(x):
    return np.maximum(x, 0)


def test_wrong_numbers_in_another_form_keep_their_specific_hint():
    _, _, _, z, _ = _neuron()
    assert "that is z" in checks.check_neuron_output(np.array([z])).message
    assert (
        "each of the 64 units also has a bias"
        in checks.check_dense_params(np.array([784 * 64])).message
    )
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
    assert (
        "raised ZeroDivisionError"
        in checks.check_function(lambda x: 1 / 0, relu, [1], "relu").message
    )
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
    wanted = {
        ".".join(("helpers", *p.parent.relative_to(helpers).parts))
        for p in helpers.rglob("__init__.py")
    }
    assert wanted <= set(listed), (
        f"pyproject.toml [tool.setuptools] packages lacks {sorted(wanted - set(listed))}"
    )


def test_every_public_check_wears_the_exercise_decorator_and_logs_its_call(tmp_path, monkeypatch):
    import json

    listed = [name for names in checks.CHECKS_BY_CHAPTER.values() for name in names]
    public = [
        name
        for name in checks.__all__
        if name.startswith("check_")
        and name not in ("check_value", "check_choice", "check_function")
    ]
    assert sorted(listed) == sorted(public)
    assert all(hasattr(getattr(checks, name), "__wrapped__") for name in public)
    log = tmp_path / "progress.jsonl"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(log))
    feedback = checks.check_padded(None)  # "not attempted yet" comes from the decorator
    assert not feedback.attempted and "answer_padded" in feedback.message
    assert feedback.event
    [line] = [json.loads(line) for line in log.read_text().splitlines()]
    assert (line["chapter"], line["check"]) == ("07", "check_padded")


def test_a_number_solved_by_hand_and_rounded_too_far_is_told_so():
    f1 = 4 / 7  # atol 1e-3: three decimals are enough
    for rounded in (0.57, "0.57", 0.5):
        feedback = checks.check_value(rounded, f1, "answer", atol=1e-3)
        assert not feedback.ok and "close, but rounded to" in feedback.message, feedback
        assert (
            "give at least 3 decimals" in feedback.message and "Recompute" not in feedback.message
        )
    assert checks.check_value(0.571, f1, "answer", atol=1e-3).ok
    assert "rounded to 2 decimals" in checks.check_value(0.57, f1, "a", atol=1e-3).message
    # a tighter tolerance asks for more decimals, and they pass
    tight = checks.check_value(0.881, 0.880797, "answer", atol=1e-4)
    assert "rounded to 3 decimals: give at least 4 decimals" in tight.message, tight
    assert checks.check_value(0.8808, 0.880797, "answer", atol=1e-4).ok
    # truncated rather than rounded is close too; a different number is not
    assert "close" in checks.check_value(0.12, 0.1279, "answer", atol=1e-3).message
    assert "Recompute" in checks.check_value(0.58, f1, "answer", atol=1e-3).message
    # counts are exact: no decimals to add
    assert "close, but rounded" not in checks.check_value(320_001, 320_000, "n").message


def test_a_fraction_written_as_text_is_accepted():
    for written in ("4/7", " 4 / 7 ", "'4/7'", 4 / 7):
        feedback = checks.check_value(written, 4 / 7, "answer_f1", atol=1e-3)
        assert feedback.ok, (written, feedback)
    assert (
        "read the text '4/7' as the number 0.5714"
        in checks.check_value("4/7", 4 / 7, "answer_f1", atol=1e-3).message
    )
    assert "should be a number" in checks.check_value("4/0", 4 / 7, "a").message


def test_a_percentage_gets_its_own_hint():
    for percent in (57.14, 57.1, "57.14", 57):
        feedback = checks.check_value(percent, 4 / 7, "answer_f1", atol=1e-3)
        assert not feedback.ok and "looks like a percentage" in feedback.message, feedback
    assert "percentage" in checks.check_value(-12.25, -0.1225, "g", atol=1e-3).message
    assert "percentage" not in checks.check_value(3.0, 0.5, "g", atol=1e-3).message
    assert "percentage" not in checks.check_value(5700, 57, "n").message


def test_thousands_written_with_spaces_are_read():
    for written in ("320 000", "320\u00a0000", "320\u202f000", "1 320 000.5", "320,000"):
        value = float(
            written.replace(",", "").replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        )
        feedback = checks.check_value(written, value, "n")
        assert feedback.ok, (written, feedback)
    assert not checks.check_value("32 0000", 320_000, "n").ok  # not a thousands grouping


def test_a_2d_answer_is_shown_with_its_rows_and_shape():
    right = np.array([[1, 2, 3], [4, 5, 6]])
    feedback = checks.check_value([[1, 2, 3], [4, 5, 7]], right, "grid")
    assert "[[1, 2, 3], [4, 5, 7]] (shape (2, 3))" in feedback.message, feedback
    assert "= [1, 2]" in checks.check_value([1, 2], np.array([1, 3]), "v").message


def test_choices_ignore_a_closing_full_stop():
    choices = ["diverges", "converges slowly", "Dense(1, sigmoid)"]
    for written in ("Diverges.", "diverges!", "'diverges.'", "diverges .", '"Diverges".'):
        assert engine.match_choice(written, choices) == "diverges", written
    assert engine.match_choice("Dense(1, sigmoid).", choices) == "Dense(1, sigmoid)"
    assert engine.match_choice(".", choices) is None


def test_read_loss_reads_names_objects_classes_and_functions():
    keras = pytest.importorskip("keras")
    cce = ("categorical_crossentropy", False)
    for loss in (
        "categorical_crossentropy",
        "keras.losses.CategoricalCrossentropy()",
        "tf.keras.losses.CategoricalCrossentropy",
        keras.losses.CategoricalCrossentropy(),
        keras.losses.CategoricalCrossentropy,
        keras.losses.categorical_crossentropy,
    ):
        assert engine.read_loss(loss) == cce, loss
    assert engine.read_loss(keras.losses.BinaryCrossentropy(from_logits=True)) == (
        "binary_crossentropy",
        True,
    )
    assert engine.read_loss("BinaryCrossentropy(from_logits=True)") == ("binary_crossentropy", True)
    assert engine.read_loss(keras.losses.MeanSquaredError()) == ("mse", False)
    for other in ("hinge", 3, None, keras.losses.Hinge(), lambda y, p: 0):
        assert engine.read_loss(other) is None, other
