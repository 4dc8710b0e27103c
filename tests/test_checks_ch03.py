"""Chapter 3's exercise checks: specific feedback for wrong answers; right ones pass."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import checks


class TinyModel:
    """Stands in for a Keras model: predict() returns fixed probabilities."""

    def __init__(self, probabilities):
        self.probabilities = np.asarray(probabilities)

    def predict(self, images, verbose=0):
        return self.probabilities[: len(images)]


PROBS = np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])


def test_dense_params_solution_and_named_mistakes():
    assert checks.check_dense_params(784 * 64 + 64).ok
    assert "each of the 64 units also has a bias" in checks.check_dense_params(784 * 64).message
    assert "28 * 28 = 784" in checks.check_dense_params(28 * 64 + 64).message
    assert not checks.check_dense_params(None).attempted


def test_predict_digits_solution_passes():
    def solution(model, images):
        return model.predict(images, verbose=0).argmax(axis=-1)

    assert checks.check_predict_digits(solution, TinyModel(PROBS), np.zeros((3, 2))).ok


@pytest.mark.parametrize(
    "attempt, expected",
    [
        (lambda m, x: m.predict(x), "those are the probabilities"),
        (lambda m, x: m.predict(x).argmax(axis=0)[:2], "shape"),
        (lambda m, x: m.predict_classes(x), "removed from Keras"),
        (lambda m, x: np.zeros(len(x), dtype=int), "predictions differ"),
    ],
)
def test_predict_digits_wrong_answers_get_specific_feedback(attempt, expected):
    feedback = checks.check_predict_digits(attempt, TinyModel(PROBS), np.zeros((3, 2)))
    assert not feedback.ok and expected in feedback.message


def test_loss_choice():
    assert checks.check_loss_choice("categorical_crossentropy").ok
    wrong = checks.check_loss_choice("sparse_categorical_crossentropy")
    assert not wrong.ok and "expects integer labels" in wrong.message


@pytest.mark.parametrize("near_miss", [50_235, 50_239, 50_241, 50_245, 50_240.5])
def test_counts_are_compared_exactly(near_miss):
    feedback = checks.check_dense_params(near_miss)
    assert not feedback.ok, f"{near_miss} accepted for 50,240"
    assert "exact" in feedback.message


def test_loss_choice_reads_keras_objects_classes_and_functions_as_ex_4_3_does():
    keras = pytest.importorskip("keras")
    for loss in (
        keras.losses.CategoricalCrossentropy(),
        keras.losses.CategoricalCrossentropy,
        keras.losses.categorical_crossentropy,
        "keras.losses.CategoricalCrossentropy()",
        "CategoricalCrossentropy",
    ):
        feedback = checks.check_loss_choice(loss)
        assert feedback.ok, (loss, feedback)
        assert " object at 0x" not in feedback.message
        # Ex. 4.3 reads the same forms the same way
        assert checks.ch04._loss_choice(loss) == "categorical_crossentropy"
    sparse = checks.check_loss_choice(keras.losses.SparseCategoricalCrossentropy())
    assert not sparse.ok and "expects integer labels" in sparse.message
    logits = checks.check_loss_choice(keras.losses.CategoricalCrossentropy(from_logits=True))
    assert not logits.ok and "from_logits" in logits.message and "softmax" in logits.message
    assert "not one of the choices" in checks.check_loss_choice(keras.losses.Hinge()).message


def _exercise_arrays():
    """Exercise 3.5's two models as boolean arrays: 880 both right, 20 only A, 10 only B."""
    correct_a, correct_b = np.zeros(1000, dtype=bool), np.zeros(1000, dtype=bool)
    correct_a[:900] = True
    correct_b[:880] = True
    correct_b[900:910] = True
    return correct_a, correct_b


def test_mcnemar_p_solution_passes_and_says_what_it_means():
    from helpers import stats

    feedback = checks.check_mcnemar_p(stats.mcnemar_exact(*_exercise_arrays()).p_value)
    assert feedback.ok and "cannot tell A and B apart" in feedback.message
    assert checks.check_mcnemar_p(0.0987).ok  # rounded to 3 significant digits is fine
    assert not checks.check_mcnemar_p(None).attempted


@pytest.mark.parametrize(
    "answer, expected",
    [
        (0.0494, "two-sided"),
        (0.028, "exactly 10 of 30"),
        (10 / 30, "share of the disagreements"),
        (2 / 3, "share of the disagreements"),
        (1e-9, "only the 30 images"),
        (1.5, "between 0 and 1"),
        (0.5, "not right yet"),
    ],
)
def test_mcnemar_p_named_mistakes(answer, expected):
    feedback = checks.check_mcnemar_p(answer)
    assert not feedback.ok and expected in feedback.message, feedback.message


def test_mcnemar_p_whole_result_is_refused_with_the_fix():
    from helpers import stats

    feedback = checks.check_mcnemar_p(stats.mcnemar_exact(*_exercise_arrays()))
    assert not feedback.ok and ".p_value" in feedback.message
