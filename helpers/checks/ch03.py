"""Chapter 3 exercises: the MNIST classifier."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from helpers.checks.engine import (
    Feedback,
    as_numbers,
    call_learner,
    check_choice,
    check_value,
    exercise,
    kind,
    match_choice,
    read_loss,
    shown,
)
from helpers.stats import McNemarResult, mcnemar_p_value

__all__ = [
    "EX_MCNEMAR",
    "check_dense_params",
    "check_loss_choice",
    "check_mcnemar_p",
    "check_predict_digits",
]


@exercise("03")
def check_dense_params(answer: Any) -> Feedback:
    """Ex. 3.1: parameters of Dense(64) after a flattened 28x28 image."""
    inputs, units = 28 * 28, 64
    return check_value(
        answer,
        inputs * units + units,
        "answer_params",
        atol=0,
        hints={
            "that is only the weights; each of the 64 units also has a bias.": lambda v: (
                v == inputs * units
            ),
            "each unit has one bias, not one per input.": lambda v: v == 2 * inputs * units,
            "the input is the flattened image: 28 * 28 = 784 numbers, not 28.": lambda v: (
                v in (28 * units + units, 28 * units)
            ),
        },
    )


@exercise("03")
def check_predict_digits(predict_digits: Any, model: Any, images: np.ndarray) -> Feedback:
    """Ex. 3.2: ``predict_digits(model, images)`` returns one class index per image."""
    name = "predict_digits"

    def explain(err: Exception) -> str | None:
        if isinstance(err, AttributeError) and "predict_classes" in str(err):
            return (
                "`predict_classes` was removed from Keras (TensorFlow 2.6+): call "
                "model.predict(images) and take argmax over the last axis."
            )
        return None

    got, problem = call_learner(predict_digits, name, model, images, explain=explain)
    if problem is not None:
        return problem
    want = np.argmax(model.predict(images, verbose=0), axis=-1)
    values = as_numbers(got)
    if values is None:
        return Feedback(
            False,
            f"`{name}` returned {kind(got)} ({shown(got, 60)}); it should return one class "
            f"index (an integer) per image, an array of shape {want.shape}.",
        )
    got, column = values, ""
    if got.shape == (len(want), 1):  # argmax(..., keepdims=True): one class per row
        got, column = got[:, 0], f" (read the column of shape {got.shape} as one class per image)"
    if got.ndim == 2:
        return Feedback(
            False,
            f"`{name}` returned an array of shape {got.shape}: those are the "
            "probabilities. Take argmax over the last axis (axis=-1) to get "
            "one digit per image.",
        )
    if got.shape != want.shape:
        return Feedback(
            False,
            f"`{name}` returned shape {got.shape}; expected one class index per "
            f"image, shape {want.shape}. Did you take argmax over axis 0?",
        )
    if not np.array_equal(got, want):
        wrong = int((got != want).sum())
        return Feedback(
            False,
            f"{wrong} of {len(want)} predictions differ from "
            "model.predict(images).argmax(axis=-1).",
        )
    return Feedback(True, f"`{name}` gives the model's class for all {len(want)} images{column}.")


_LOSS_EXPLANATIONS = {
    "categorical_crossentropy": "One-hot labels go with categorical_crossentropy; integer "
    "labels with sparse_categorical_crossentropy. Same loss value.",
    "sparse_categorical_crossentropy": "the sparse version expects integer labels such as 7; "
    "with one-hot vectors, use categorical_crossentropy.",
    "binary_crossentropy": "binary cross-entropy is for one sigmoid output (two classes) or "
    "independent yes/no labels, not one-of-ten classes.",
    "mse": "mean squared error is for regression; for classes, use a cross-entropy.",
}


@exercise("03")
def check_loss_choice(answer: Any) -> Feedback:
    """Ex. 3.3: the loss for one-hot labels and a softmax output.

    The loss may be its name or Keras' own object, class or function
    (``keras.losses.CategoricalCrossentropy()``), read as in Ex. 4.3.
    """
    read = read_loss(answer)
    if read is not None and (
        not isinstance(answer, str) or match_choice(answer, list(_LOSS_EXPLANATIONS)) is None
    ):
        answer = read[0]  # the name: the feedback shows no object's repr
    if read is not None and read[1]:
        return Feedback(
            False,
            f"`answer_loss` = {read[0]} with from_logits=True: that is for a "
            "last layer without an activation. This model ends in a softmax, "
            "which already gives probabilities: leave from_logits=False.",
        )
    return check_choice(answer, "categorical_crossentropy", "answer_loss", _LOSS_EXPLANATIONS)


# Ex. 3.5: two models on the same 1,000 test images; they disagree on 30.
EX_MCNEMAR = {"n": 1_000, "only_a": 20, "only_b": 10}


@exercise("03", answer="answer_p_value")
def check_mcnemar_p(answer: Any) -> Feedback:
    """Ex. 3.5: McNemar's exact two-sided p-value for a 20-to-10 split of 30 disagreements."""
    only_a, only_b = EX_MCNEMAR["only_a"], EX_MCNEMAR["only_b"]
    disagreements = only_a + only_b
    if isinstance(answer, McNemarResult):
        return Feedback(
            False,
            "`answer_p_value` holds the whole result of mcnemar_exact; store only its p-value: "
            "`stats.mcnemar_exact(correct_a, correct_b).p_value`.",
        )
    expected = mcnemar_p_value(only_a, only_b)
    one_sided = expected / 2  # B winning 10 or fewer (the split is lopsided, so no cap at 1)
    exactly = math.comb(disagreements, only_b) / 2**disagreements
    feedback = check_value(
        answer,
        expected,
        "answer_p_value",
        atol=1e-4,
        rtol=1e-3,
        hints={
            "a p-value is a probability, between 0 and 1.": lambda v: bool(
                np.any((v < 0) | (v > 1))
            ),
            "that is the one-sided probability (B winning 10 or fewer). McNemar's test is "
            "two-sided: a split as lopsided in either direction counts, so double it "
            "(binomtest's default does).": lambda v: bool(np.allclose(v, one_sided, rtol=5e-3)),
            f"that is the probability of exactly {only_b} of {disagreements}; the p-value adds "
            "up every split at least as lopsided, in both directions.": lambda v: bool(
                np.allclose(v, exactly, rtol=5e-3)
            ),
            "that is the share of the disagreements one model won, not a p-value. Count the "
            f"disagreements as {disagreements} fair coin tosses and ask how often they split "
            f"{only_a}-{only_b} or more lopsidedly.": lambda v: bool(
                np.any(np.isclose(v, [only_b / disagreements, only_a / disagreements]))
            ),
            f"only the {disagreements} images where exactly one model is right count; the "
            f"{EX_MCNEMAR['n'] - disagreements:,} on which they agree say nothing about which "
            "is better.": lambda v: bool(np.all(v < 1e-3)),
        },
    )
    if feedback.ok:
        return Feedback(
            True,
            f"{feedback.message} A {only_a}-{only_b} split or a more lopsided one happens about "
            "1 time in 10 with two equally good models, so this test set cannot tell A and B "
            "apart, although A scored a point higher.",
        )
    return feedback
