"""Checks are fair both ways (issue 15): right answers in another form are accepted and
say how they were read; wrong answers are refused with specific feedback."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import checks
from helpers.checks import EX_NEURON


def _neuron():
    x, w, b = np.array(EX_NEURON["x"]), np.array(EX_NEURON["w"]), EX_NEURON["b"]
    z = float(w @ x + b)
    return x, w, b, z, 1 / (1 + np.exp(-z))


# --- numbers: one-element arrays, lists, NumPy scalars ------------------------------------


@pytest.mark.parametrize("form", ["array (1,)", "list", "nested list", "matrix product",
                                  "float32 scalar", "0-d array", "text"])
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


def test_wrong_numbers_in_another_form_keep_their_specific_hint():
    _, _, _, z, _ = _neuron()
    assert "that is z" in checks.check_neuron_output(np.array([z])).message
    assert "each of the 64 units also has a bias" in \
        checks.check_dense_params(np.array([784 * 64])).message
    many = checks.check_neuron_output(np.array([0.475, 0.5]))
    assert not many.ok and "holds 2 numbers" in many.message and "single number" in many.message
    assert "should be a number" in checks.check_neuron_output(True).message
    assert "should be a number" in checks.check_neuron_output("about a half").message


# --- exact counts --------------------------------------------------------------------------


@pytest.mark.parametrize("near_miss", [50_235, 50_239, 50_241, 50_245, 50_240.5])
def test_counts_are_compared_exactly(near_miss):
    feedback = checks.check_dense_params(near_miss)
    assert not feedback.ok, f"{near_miss} accepted for 50,240"
    assert "exact" in feedback.message


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


# --- choices -------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["diverges", "Diverges", " diverges ", "'diverges'",
                                     '"DIVERGES"', "diverges\n"])
def test_choices_ignore_case_spaces_and_quotes(written):
    feedback = checks.check_learning_rate_choice(written)
    assert feedback.ok, feedback
    if written != "diverges":
        assert f"read {written!r} as 'diverges'" in feedback.message


def test_choices_ignore_spaces_inside_when_that_is_unambiguous():
    assert checks.check_dropout_values("0and2").ok
    assert checks.check_binary_output("dense(1,sigmoid)").ok


def test_a_wrong_choice_keeps_its_explanation_and_an_unknown_one_lists_the_choices():
    wrong = checks.check_learning_rate_choice("  Converges Slowly ")
    assert not wrong.ok and "too-*small*" in wrong.message
    unknown = checks.check_learning_rate_choice("explodes")
    assert not unknown.ok and "not one of the choices" in unknown.message
    assert "'diverges'" in unknown.message and "'stops moving'" in unknown.message


# --- exercise 4.3: three valid designs, each with its trade-off ----------------------------


def test_binary_output_accepts_the_three_valid_designs_with_their_trade_off():
    usual = checks.check_binary_output("Dense(1, sigmoid)")
    assert usual.ok and "usual choice" in usual.message
    softmax = checks.check_binary_output("Dense(2, softmax)")
    assert softmax.ok and "sparse_categorical_crossentropy" in softmax.message
    assert "trade-off" in softmax.message and "argmax" in softmax.message
    logits = checks.check_binary_output("Dense(1)")
    assert logits.ok and "from_logits=True" in logits.message and "trade-off" in logits.message
    relu = checks.check_binary_output("Dense(1, relu)")
    assert not relu.ok and "not a probability" in relu.message


@pytest.mark.parametrize("layer, loss, ok, expected", [
    ("Dense(1, sigmoid)", "binary_crossentropy", True, "usual choice"),
    ("Dense(2, softmax)", "sparse_categorical_crossentropy", True, "trade-off"),
    ("Dense(1)", "binary_crossentropy(from_logits=True)", True, "BinaryAccuracy(threshold=0.0)"),
    ("Dense(1)", "BinaryCrossentropy(from_logits = True)", True, "logit"),
    ("Dense(1)", "binary_crossentropy", False, "from_logits=True"),
    ("Dense(1, sigmoid)", "binary_crossentropy(from_logits=True)", False, "sigmoid(p)"),
    ("Dense(2, softmax)", "binary_crossentropy", False, "sparse_categorical_crossentropy"),
    ("Dense(2, softmax)", "categorical_crossentropy", False, "one-hot"),
    ("Dense(1, sigmoid)", "sparse_categorical_crossentropy", False, "one output per class"),
    ("Dense(1, sigmoid)", "mse", False, "regression loss"),
    ("Dense(1, relu)", "binary_crossentropy", False, "not a probability"),
])
def test_binary_output_with_its_loss(layer, loss, ok, expected):
    feedback = checks.check_binary_output(layer, loss)
    assert feedback.ok is ok and expected in feedback.message, feedback


def test_binary_output_reads_keras_objects():
    keras = pytest.importorskip("keras")
    assert checks.check_binary_output(
        keras.layers.Dense(1), keras.losses.BinaryCrossentropy(from_logits=True)).ok
    assert checks.check_binary_output(keras.layers.Dense(1, activation="sigmoid")).ok
    assert not checks.check_binary_output(keras.layers.Dense(1), "binary_crossentropy").ok


# --- exercise 5.1: the direction of improvement -------------------------------------------


@pytest.mark.parametrize("which", ["EarlyStopping", "ModelCheckpoint"])
def test_callbacks_refuse_mode_max_on_a_loss(tmp_path, which):
    keras = pytest.importorskip("keras")
    modes = {"EarlyStopping": "auto", "ModelCheckpoint": "auto", which: "max"}
    callbacks = [
        keras.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"), monitor="val_loss",
                                        save_best_only=True, mode=modes["ModelCheckpoint"]),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True,
                                      mode=modes["EarlyStopping"]),
    ]
    feedback = checks.check_callbacks(callbacks)
    assert not feedback.ok and f"{which} has mode='max'" in feedback.message
    callbacks[0 if which == "ModelCheckpoint" else 1].mode = "min"
    assert checks.check_callbacks(callbacks).ok
