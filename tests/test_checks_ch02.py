"""helpers.checks, chapter 2: each check accepts the right answer and names common mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import checks
from helpers.checks import ch02


def test_weight_gradient_shape():
    assert checks.check_weight_gradient_shape((10, 16)).ok
    assert checks.check_weight_gradient_shape([10, 16]).ok
    assert checks.check_weight_gradient_shape(np.zeros((10, 16)).shape).ok
    assert not checks.check_weight_gradient_shape(None).attempted
    for wrong, words in [
        ((32, 16), "shape of delta1"),
        ((32, 10), "shape of x itself"),
        ((16, 10), "transposed"),
        ((16, 3), "dL/dW2"),
    ]:
        feedback = checks.check_weight_gradient_shape(wrong)
        assert not feedback.ok and words in feedback.message, (wrong, feedback)
    assert "not right yet" in checks.check_weight_gradient_shape((3, 3)).message
    assert not checks.check_weight_gradient_shape((10, 16, 1)).ok


def test_weight_gradient_shape_matches_numpy():
    n, inputs, hidden = (ch02.EX_SHAPES[k] for k in ("n", "inputs", "hidden"))
    x, delta1 = np.ones((n, inputs)), np.ones((n, hidden))
    assert checks.check_weight_gradient_shape((x.T @ delta1).shape).ok


def test_cross_entropy_gradient():
    p = 1 / (1 + np.exp(-ch02.EX_LOGIT["z"]))
    right = p - ch02.EX_LOGIT["t"]
    assert checks.check_cross_entropy_gradient(right).ok
    assert not checks.check_cross_entropy_gradient(None).attempted
    for wrong, words in [
        (2 * right * p * (1 - p), "squared error"),
        (right * p * (1 - p), "should not be there"),
        (-right, "sign is flipped"),
    ]:
        feedback = checks.check_cross_entropy_gradient(wrong)
        assert not feedback.ok and words in feedback.message, (wrong, feedback)
    assert "not right yet" in checks.check_cross_entropy_gradient(0.5).message


def test_cross_entropy_gradient_matches_tensorflow():
    tf = pytest.importorskip("tensorflow")
    z = tf.Variable(ch02.EX_LOGIT["z"], dtype=tf.float64)
    t = ch02.EX_LOGIT["t"]
    with tf.GradientTape() as tape:
        p = tf.sigmoid(z)
        loss = -(t * tf.math.log(p) + (1 - t) * tf.math.log(1 - p))
    assert checks.check_cross_entropy_gradient(float(tape.gradient(loss, z))).ok


def test_gradient_hints_name_the_mistake():
    from helpers.checks import EX_GRADIENT as g

    y = 1 / (1 + np.exp(-(g["w"] * g["x"] + g["b"])))
    right = 2 * (y - g["t"]) * y * (1 - y) * g["x"]
    assert checks.check_gradient(right).ok
    assert "sign is flipped" in checks.check_gradient(-right).message
    assert "factor 2" in checks.check_gradient(right / 2).message
    assert "derivative y (1 - y) is missing" in checks.check_gradient(2 * (y - 1) * 1.5).message
    assert "dz/dw = x" in checks.check_gradient(right / g["x"]).message


def test_sigmoid_derivative_and_lr_choice():
    def s(z):
        return 1 / (1 + np.exp(-z))

    assert checks.check_sigmoid_derivative(lambda z: s(z) * (1 - s(z))).ok
    assert not checks.check_sigmoid_derivative(s).ok
    assert checks.check_learning_rate_choice("diverges").ok
    assert "too-*small*" in checks.check_learning_rate_choice("converges slowly").message


@pytest.mark.parametrize(
    "written", ["diverges", "Diverges", " diverges ", "'diverges'", '"DIVERGES"', "diverges\n"]
)
def test_choices_ignore_case_spaces_and_quotes(written):
    feedback = checks.check_learning_rate_choice(written)
    assert feedback.ok, feedback
    if written != "diverges":
        assert f"read {written!r} as 'diverges'" in feedback.message


def test_a_wrong_choice_keeps_its_explanation_and_an_unknown_one_lists_the_choices():
    wrong = checks.check_learning_rate_choice("  Converges Slowly ")
    assert not wrong.ok and "too-*small*" in wrong.message
    unknown = checks.check_learning_rate_choice("explodes")
    assert not unknown.ok and "not one of the choices" in unknown.message
    assert "'diverges'" in unknown.message and "'stops moving'" in unknown.message


def test_cross_entropy_gradient_rounded_by_hand_or_as_a_percentage_is_told_so():
    right = 1 / (1 + np.exp(-ch02.EX_LOGIT["z"])) - ch02.EX_LOGIT["t"]  # 0.8808
    assert checks.check_cross_entropy_gradient(round(right, 4)).ok
    for rounded in (0.88, 0.881, "0.88"):
        feedback = checks.check_cross_entropy_gradient(rounded)
        assert not feedback.ok and "close, but rounded" in feedback.message, feedback
        assert (
            "give at least 4 decimals" in feedback.message and "Recompute" not in feedback.message
        )
    percent = checks.check_cross_entropy_gradient(88.08)
    assert not percent.ok and "percentage" in percent.message, percent


@pytest.mark.parametrize("written", ["Diverges.", "diverges!", "diverges .", "'diverges.'"])
def test_choices_ignore_a_closing_full_stop(written):
    feedback = checks.check_learning_rate_choice(written)
    assert feedback.ok, feedback
    assert "read" in feedback.message and "as 'diverges'" in feedback.message
    wrong = checks.check_learning_rate_choice("Converges slowly.")
    assert not wrong.ok and "too-*small*" in wrong.message
