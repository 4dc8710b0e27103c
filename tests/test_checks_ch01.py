"""Chapter 1's exercise checks: specific feedback for wrong answers; right ones pass."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import checks
from helpers.checks import EX_NEURON


def test_glorot_limit_accepts_the_limit_and_keras_agrees():
    limit = np.sqrt(6 / (300 + 100))
    assert checks.check_glorot_limit(limit).ok
    assert checks.check_glorot_limit(f"{limit:.4f}").ok
    import keras

    keras.utils.set_random_seed(0)
    layer = keras.layers.Dense(100)
    layer.build((None, 300))
    assert np.abs(layer.get_weights()[0]).max() <= limit + 1e-7


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (np.sqrt(6 / 300), "only the inputs"),
        (np.sqrt(6 / 100), "only the units"),
        (6 / 400, "square root is missing"),
        (np.sqrt(2 / 300), "He's standard deviation"),
    ],
)
def test_glorot_limit_names_common_mistakes(wrong, hint):
    feedback = checks.check_glorot_limit(wrong)
    assert not feedback.ok
    assert hint in feedback.message


def test_glorot_limit_not_attempted_and_confirm():
    assert "Fill in `answer_limit`" in checks.check_glorot_limit(None).message
    with pytest.raises(checks.SolutionError):
        checks.confirm(checks.check_glorot_limit(0.5))


def _neuron():
    x, w, b = np.array(EX_NEURON["x"]), np.array(EX_NEURON["w"]), EX_NEURON["b"]
    z = float(w @ x + b)
    return x, w, b, z, 1 / (1 + np.exp(-z))


def test_relu_and_derivative():
    assert checks.check_relu(lambda z: np.maximum(z, 0)).ok
    wrong = checks.check_relu(np.abs)
    assert not wrong.ok and "`my_relu(-3)` gave 3, expected 0" in wrong.message
    assert checks.check_relu_derivative(lambda z: (z > 0).astype(float)).ok
    off = checks.check_relu_derivative(lambda z: (z >= 0).astype(float))
    assert not off.ok and "my_relu_derivative(0)" in off.message


def test_neuron_output_hints():
    from helpers.checks import EX_NEURON

    x, w, b = np.array(EX_NEURON["x"]), np.array(EX_NEURON["w"]), EX_NEURON["b"]
    z = w @ x + b
    assert checks.check_neuron_output(1 / (1 + np.exp(-z))).ok
    assert "that is z" in checks.check_neuron_output(z).message
    assert "bias is missing" in checks.check_neuron_output(1 / (1 + np.exp(-(w @ x)))).message
    assert checks.check_layer_params(15).ok
    assert "add one bias per unit" in checks.check_layer_params(12).message


@pytest.mark.parametrize(
    "form",
    ["array (1,)", "list", "nested list", "matrix product", "float32 scalar", "0-d array", "text"],
)
def test_a_right_number_in_another_form_is_accepted(form):
    x, w, b, _, y = _neuron()
    answer = {
        "array (1,)": np.array([y]),
        "list": [y],
        "nested list": [[y]],
        # a learner who wrote the neuron with a (1, 3) weight matrix gets shape (1,)
        "matrix product": 1 / (1 + np.exp(-(w.reshape(1, 3) @ x + b))),
        "float32 scalar": np.float32(y),
        "0-d array": np.array(y),
        "text": f"{y:.4f}",
    }[form]
    feedback = checks.check_neuron_output(answer)
    assert feedback.ok, feedback
    assert "0.475" in feedback.message


def test_what_was_normalised_is_said():
    *_, y = _neuron()
    message = checks.check_neuron_output(np.array([y])).message
    assert "read the one-element ndarray of shape (1,) as the number 0.475" in message
    assert "one-element list of shape (1, 1)" in checks.check_neuron_output([[y]]).message
    assert "read the text '15'" in checks.check_layer_params("15").message
    assert "read" not in checks.check_neuron_output(np.float64(y)).message  # nothing to say


def test_glorot_limit_rounded_by_hand_or_as_a_percentage_is_told_so():
    limit = np.sqrt(6 / (300 + 100))  # 0.1225
    assert checks.check_glorot_limit(round(limit, 3)).ok
    rounded = checks.check_glorot_limit(0.12)
    assert (
        not rounded.ok and "close, but rounded to 2 decimals: give at least 3" in rounded.message
    ), rounded
    percent = checks.check_glorot_limit(12.25)
    assert not percent.ok and "percentage" in percent.message, percent


def test_relu_right_only_up_to_5_is_refused_and_a_scalar_max_is_pointed_to_numpy():
    clipped = checks.check_relu(lambda z: np.clip(z, 0, 5))
    assert not clipped.ok and "`my_relu(10)` gave 5, expected 10" in clipped.message, clipped
    scalar = checks.check_relu(lambda z: max(z, 0))
    assert (
        not scalar.ok and "raised ValueError" in scalar.message and "np.maximum" in scalar.message
    )
    returned = checks.check_relu(lambda z: {"z": z})
    assert not returned.ok and "returned a dict" in returned.message, returned
