"""Chapter 4's exercise checks: specific feedback for wrong answers; right ones pass."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import checks


def relu(x):
    return np.maximum(x, 0)


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


@pytest.mark.parametrize(
    "layer, loss, ok, expected",
    [
        ("Dense(1, sigmoid)", "binary_crossentropy", True, "usual choice"),
        ("Dense(2, softmax)", "sparse_categorical_crossentropy", True, "trade-off"),
        (
            "Dense(1)",
            "binary_crossentropy(from_logits=True)",
            True,
            "BinaryAccuracy(threshold=0.0)",
        ),
        ("Dense(1)", "BinaryCrossentropy(from_logits = True)", True, "logit"),
        ("Dense(1)", "binary_crossentropy", False, "from_logits=True"),
        ("Dense(1, sigmoid)", "binary_crossentropy(from_logits=True)", False, "sigmoid(p)"),
        ("Dense(2, softmax)", "binary_crossentropy", False, "sparse_categorical_crossentropy"),
        ("Dense(2, softmax)", "categorical_crossentropy", False, "one-hot"),
        ("Dense(1, sigmoid)", "sparse_categorical_crossentropy", False, "one output per class"),
        ("Dense(1, sigmoid)", "mse", True, "trade-off"),  # "a pair that works": it does
        ("Dense(1)", "mse", False, "regression onto the labels"),
        ("Dense(1, relu)", "binary_crossentropy", False, "not a probability"),
    ],
)
def test_binary_output_with_its_loss(layer, loss, ok, expected):
    feedback = checks.check_binary_output(layer, loss)
    assert feedback.ok is ok and expected in feedback.message, feedback


def test_binary_output_reads_keras_objects():
    keras = pytest.importorskip("keras")
    assert checks.check_binary_output(
        keras.layers.Dense(1), keras.losses.BinaryCrossentropy(from_logits=True)
    ).ok
    assert checks.check_binary_output(keras.layers.Dense(1, activation="sigmoid")).ok
    assert not checks.check_binary_output(keras.layers.Dense(1), "binary_crossentropy").ok


def test_binary_output_as_one_pair_and_a_layer_class_told_to_be_called():
    keras = pytest.importorskip("keras")
    assert checks.check_binary_output(("Dense(1, sigmoid)", "binary_crossentropy")).ok
    assert checks.check_binary_output("keras.layers.Dense(units=1, activation='sigmoid')").ok
    given_class = checks.check_binary_output(keras.layers.Dense, "binary_crossentropy")
    assert not given_class.ok and "call it" in given_class.message, given_class
    assert not checks.check_binary_output(np.array(["Dense(1)", "mse"])).ok
