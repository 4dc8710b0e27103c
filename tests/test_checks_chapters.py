"""Chapter exercise checks: a wrong answer gets specific feedback, the solution passes."""

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


# --- Chapter 3 ----------------------------------------------------------------------


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


# --- Chapter 4 ----------------------------------------------------------------------


def test_multi_hot_memory():
    assert checks.check_multi_hot_memory(200.0).ok
    assert "float64" in checks.check_multi_hot_memory(400.0).message
    assert "MiB" in checks.check_multi_hot_memory(10_000 * 5_000 * 4 / 2**20).message


def test_multi_hot_solution_and_mistakes():
    def solution(sequences, num_words):
        out = np.zeros((len(sequences), num_words), dtype="float32")
        for row, seq in enumerate(sequences):
            out[row, list(seq)] = 1.0
        return out

    def counts(sequences, num_words):
        out = np.zeros((len(sequences), num_words), dtype="float32")
        for row, seq in enumerate(sequences):
            for w in seq:
                out[row, w] += 1
        return out

    def float64(sequences, num_words):
        return solution(sequences, num_words).astype("float64")

    def transposed(sequences, num_words):
        return solution(sequences, num_words).T

    assert checks.check_multi_hot(solution).ok
    assert "not a count" in checks.check_multi_hot(counts).message
    assert "dtype is float64" in checks.check_multi_hot(float64).message
    assert "has shape" in checks.check_multi_hot(transposed).message


def test_binary_output_choice():
    assert checks.check_binary_output("Dense(1, sigmoid)").ok
    assert "not a probability" in checks.check_binary_output("Dense(1, relu)").message


# --- Chapter 5 ----------------------------------------------------------------------


def test_callbacks_solution_and_mistakes(tmp_path):
    keras = pytest.importorskip("keras")
    path = str(tmp_path / "best.keras")

    def ckpt(**kw):
        return keras.callbacks.ModelCheckpoint(path, save_best_only=kw.get("best", True),
                                               monitor=kw.get("monitor", "val_loss"))

    def stop(**kw):
        return keras.callbacks.EarlyStopping(patience=kw.get("patience", 2),
                                             restore_best_weights=kw.get("restore", True),
                                             monitor=kw.get("monitor", "val_loss"))

    assert checks.check_callbacks([ckpt(), stop()]).ok
    cases = [
        ([stop()], "no keras.callbacks.ModelCheckpoint"),
        ([ckpt()], "no keras.callbacks.EarlyStopping"),
        ([ckpt(best=False), stop()], "save_best_only=True"),
        ([ckpt(), stop(restore=False)], "restore_best_weights=True"),
        ([ckpt(), stop(monitor="loss")], "watch 'val_loss'"),
        ([ckpt(), stop(patience=5)], "patience=5"),
        (ckpt(), "should be a list"),
    ]
    for attempt, expected in cases:
        feedback = checks.check_callbacks(attempt)
        assert not feedback.ok and expected in feedback.message, (expected, feedback)


def test_dropout_and_format_choices():
    assert checks.check_dropout_values("0 and 2").ok
    assert "scaled up" in checks.check_dropout_values("0 and 1").message
    assert checks.check_saved_format(".keras").ok
    assert "not the architecture" in checks.check_saved_format(".weights.h5").message


def test_callbacks_h5_checkpoint_is_steered_to_keras(tmp_path):
    keras = pytest.importorskip("keras")
    callbacks = [keras.callbacks.ModelCheckpoint(str(tmp_path / "best.h5"), save_best_only=True),
                 keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)]
    feedback = checks.check_callbacks(callbacks)
    assert not feedback.ok and "should end in .keras" in feedback.message


# --- Chapters 1 and 2 -----------------------------------------------------------------


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


def test_fair_metric_accepts_val_ce_and_explains_the_two_unfair_ones():
    assert checks.check_fair_metric("val_ce").ok
    assert checks.check_fair_metric(" 'VAL_CE' ").ok  # case, spaces and quotes do not matter
    val_loss = checks.check_fair_metric("val_loss")
    assert not val_loss.ok and "penalty" in val_loss.message
    loss = checks.check_fair_metric("loss")
    assert not loss.ok and "training images" in loss.message
    assert not checks.check_fair_metric(None).ok


def test_saved_format_explains_when_the_optimizer_state_is_skipped():
    message = checks.check_saved_format(".weights.h5").message
    assert "uncompiled model skips it silently" in message
    assert "Skipping variable loading" in message
