"""Automatic feedback for the exercises.

Every check returns a :class:`Feedback`: it shows as one line in the notebook
(``[ok] ...`` or ``[try again] ...``) and says *what* is wrong - which input
gave which value, what was expected - not only that something is wrong.
Unfinished exercises (``None`` or ``...`` left in place, or a function that
raises ``NotImplementedError``) get a gentle "not attempted yet" instead of a
traceback, so a notebook with open exercises still runs top to bottom.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Feedback", "check_function", "check_value", "check_choice"]


@dataclass(frozen=True)
class Feedback:
    """The result of a check: ``ok`` and a message for the learner."""

    ok: bool
    message: str
    attempted: bool = True

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        if not self.attempted:
            return f"[not attempted yet] {self.message}"
        return f"[ok] {self.message}" if self.ok else f"[try again] {self.message}"


def _not_attempted(name: str) -> Feedback:
    return Feedback(False, f"Fill in `{name}` above, run that cell, then run this one.", False)


def _is_placeholder(answer: Any) -> bool:
    return answer is None or answer is Ellipsis


def check_function(
    fn: Callable[[np.ndarray], Any] | None,
    reference: Callable[[np.ndarray], np.ndarray],
    inputs: Sequence[float] | np.ndarray,
    name: str,
    atol: float = 1e-6,
    hint: str = "",
) -> Feedback:
    """Compare ``fn`` with ``reference`` on ``inputs`` (as one NumPy array).

    The message names the first input where they disagree, with both values.
    """
    if _is_placeholder(fn):
        return _not_attempted(name)
    if not callable(fn):
        return Feedback(False, f"`{name}` should be a function, but it is a "
                               f"{type(fn).__name__}.")
    x = np.asarray(inputs, dtype=float)
    expected = np.asarray(reference(x), dtype=float)
    try:
        got = fn(x.copy())
    except NotImplementedError:
        return _not_attempted(name)
    except Exception as err:  # the learner's code: report, never crash the notebook
        return Feedback(False, f"`{name}` raised {type(err).__name__}: {err}. It is called "
                               f"with a NumPy array such as {x[:3]!r}...")
    if _is_placeholder(got):
        return Feedback(False, f"`{name}` returned {got!r}: did you forget `return`?")
    got = np.asarray(got, dtype=float)
    if got.shape != expected.shape:
        return Feedback(False, f"`{name}` returned shape {got.shape} for an input of shape "
                               f"{x.shape}; it should work element by element and return "
                               f"shape {expected.shape}. {hint}".strip())
    wrong = ~np.isclose(got, expected, atol=atol, rtol=1e-5)
    if wrong.any():
        i = int(np.flatnonzero(wrong.ravel())[0])
        return Feedback(False, f"`{name}({x.ravel()[i]:g})` gave {got.ravel()[i]:.6g}, "
                               f"expected {expected.ravel()[i]:.6g} ({int(wrong.sum())} of "
                               f"{wrong.size} test inputs are off). {hint}".strip())
    return Feedback(True, f"`{name}` matches the reference on all {x.size} test inputs.")


def check_value(
    answer: Any,
    expected: float | Sequence[float] | np.ndarray,
    name: str,
    atol: float = 1e-4,
    hints: dict[str, Callable[[np.ndarray], bool]] | None = None,
) -> Feedback:
    """Compare a number (or array) with the expected one.

    ``hints`` maps a message to a test on the answer, to recognise common
    mistakes (a sign error, a missing factor) and say which one it is.
    """
    if _is_placeholder(answer):
        return _not_attempted(name)
    try:
        got = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return Feedback(False, f"`{name}` should be a number, got {answer!r}.")
    want = np.asarray(expected, dtype=float)
    if got.shape != want.shape:
        return Feedback(False, f"`{name}` has shape {got.shape}, expected {want.shape}.")
    if np.allclose(got, want, atol=atol, rtol=1e-4):
        return Feedback(True, f"`{name}` = {np.round(got, 4).tolist()} is right.")
    for message, test in (hints or {}).items():
        if test(got):
            return Feedback(False, f"`{name}` = {np.round(got, 4).tolist()}: {message}")
    return Feedback(False, f"`{name}` = {np.round(got, 4).tolist()} is not right yet; "
                           "recompute it step by step from the cells above.")


def check_choice(answer: Any, correct: Any, name: str, explanations: dict[Any, str]) -> Feedback:
    """A multiple-choice answer, with an explanation for each wrong choice."""
    if _is_placeholder(answer):
        return _not_attempted(name)
    if answer == correct:
        return Feedback(True, f"`{name}` = {answer!r}. {explanations.get(correct, '')}".strip())
    why = explanations.get(answer, f"{answer!r} is not one of the choices.")
    return Feedback(False, f"`{name}` = {answer!r}: {why}")


# --------------------------------------------------------------------------
# Chapter 3: MNIST
# --------------------------------------------------------------------------


def check_dense_params(answer: Any) -> Feedback:
    """Ex. 3.1: parameters of Dense(64) after a flattened 28x28 image."""
    inputs, units = 28 * 28, 64
    return check_value(answer, inputs * units + units, "answer_params", atol=0, hints={
        "that is only the weights; each of the 64 units also has a bias.":
            lambda v: v == inputs * units,
        "each unit has one bias, not one per input.": lambda v: v == 2 * inputs * units,
        "the input is the flattened image: 28 * 28 = 784 numbers, not 28.":
            lambda v: v in (28 * units + units, 28 * units),
    })


def check_predict_digits(predict_digits: Any, model: Any, images: np.ndarray) -> Feedback:
    """Ex. 3.2: ``predict_digits(model, images)`` returns one class index per image."""
    name = "predict_digits"
    if _is_placeholder(predict_digits):
        return _not_attempted(name)
    try:
        got = predict_digits(model, images)
    except NotImplementedError:
        return _not_attempted(name)
    except AttributeError as err:
        if "predict_classes" in str(err):
            return Feedback(False, "`predict_classes` was removed from Keras (TensorFlow 2.6+): "
                                   "call model.predict(images) and take argmax over the last axis.")
        return Feedback(False, f"`{name}` raised AttributeError: {err}")
    except Exception as err:
        return Feedback(False, f"`{name}` raised {type(err).__name__}: {err}")
    want = np.argmax(model.predict(images, verbose=0), axis=-1)
    got = np.asarray(got)
    if got.ndim == 2:
        return Feedback(False, f"`{name}` returned an array of shape {got.shape}: those are the "
                               "probabilities. Take argmax over the last axis (axis=-1) to get "
                               "one digit per image.")
    if got.shape != want.shape:
        return Feedback(False, f"`{name}` returned shape {got.shape}; expected one class index per "
                               f"image, shape {want.shape}. Did you take argmax over axis 0?")
    if not np.array_equal(got, want):
        wrong = int((got != want).sum())
        return Feedback(False, f"{wrong} of {len(want)} predictions differ from "
                               "model.predict(images).argmax(axis=-1).")
    return Feedback(True, f"`{name}` gives the model's class for all {len(want)} images.")


def check_loss_choice(answer: Any) -> Feedback:
    """Ex. 3.3: the loss for one-hot labels and a softmax output."""
    return check_choice(answer, "categorical_crossentropy", "answer_loss", {
        "categorical_crossentropy": "One-hot labels go with categorical_crossentropy; integer "
                                    "labels with sparse_categorical_crossentropy. Same loss value.",
        "sparse_categorical_crossentropy": "the sparse version expects integer labels such as 7; "
                                           "with one-hot vectors, use categorical_crossentropy.",
        "binary_crossentropy": "binary cross-entropy is for one sigmoid output (two classes) or "
                               "independent yes/no labels, not one-of-ten classes.",
        "mse": "mean squared error is for regression; for classes, use a cross-entropy.",
    })


# --------------------------------------------------------------------------
# Chapter 4: IMDB
# --------------------------------------------------------------------------


def check_multi_hot_memory(answer_mb: Any) -> Feedback:
    """Ex. 4.1: MB of a float32 multi-hot matrix, 10,000 reviews x 5,000 words."""
    rows, cols = 10_000, 5_000
    return check_value(answer_mb, rows * cols * 4 / 1e6, "answer_mb", atol=0.5, hints={
        "that is for float64 (8 bytes); float32 takes 4 bytes per number.":
            lambda v: abs(v - rows * cols * 8 / 1e6) < 1,
        "that is the number of entries; multiply by 4 bytes each, then divide by 1e6 for MB.":
            lambda v: abs(v - rows * cols) < 1 or abs(v - rows * cols / 1e6) < 0.01,
        "that is in MiB (2**20 bytes); the exercise asks for MB (1e6 bytes).":
            lambda v: abs(v - rows * cols * 4 / 2**20) < 0.5,
    })


def _reference_multi_hot(sequences: Sequence[Sequence[int]], num_words: int) -> np.ndarray:
    out = np.zeros((len(sequences), num_words), dtype="float32")
    for row, seq in enumerate(sequences):
        out[row, list(seq)] = 1.0
    return out


def check_multi_hot(multi_hot: Any) -> Feedback:
    """Ex. 4.2: ``multi_hot(sequences, num_words)`` -> float32 (n, num_words) of 0/1."""
    name = "multi_hot"
    if _is_placeholder(multi_hot):
        return _not_attempted(name)
    cases = [([[1, 3, 3, 5], [2], []], 6), ([[0, 4, 4, 4]], 5)]
    for sequences, num_words in cases:
        want = _reference_multi_hot(sequences, num_words)
        try:
            got = multi_hot(sequences, num_words)
        except NotImplementedError:
            return _not_attempted(name)
        except Exception as err:
            return Feedback(False, f"`{name}({sequences}, {num_words})` raised "
                                   f"{type(err).__name__}: {err}")
        if _is_placeholder(got):
            return Feedback(False, f"`{name}` returned {got!r}: did you forget `return`?")
        got = np.asarray(got)
        if got.shape != want.shape:
            return Feedback(False, f"`{name}({sequences}, {num_words})` has shape {got.shape}; "
                                   f"expected (number of sequences, num_words) = {want.shape}.")
        if got.max() > 1:
            return Feedback(False, f"`{name}({sequences}, {num_words})` has a value "
                                   f"{got.max():g}: a word repeated in a review must still "
                                   "give 1 (multi-hot marks presence), not a count. Assign 1, "
                                   "do not add.")
        if not np.array_equal(got, want):
            row = int(np.flatnonzero((got != want).any(axis=1))[0])
            return Feedback(False, f"row {row} (sequence {sequences[row]}) should be "
                                   f"{want[row].astype(int).tolist()}, got "
                                   f"{np.asarray(got[row]).astype(int).tolist()}.")
        if got.dtype != np.float32:
            return Feedback(False, f"values are right but the dtype is {got.dtype}; use float32 "
                                   "(half the memory of float64, and what Keras computes in).")
    return Feedback(True, f"`{name}` is right, including repeated words and an empty review.")


def check_binary_output(answer: Any) -> Feedback:
    """Ex. 4.3: the output layer for a positive/negative classifier."""
    return check_choice(answer, "Dense(1, sigmoid)", "answer_output", {
        "Dense(1, sigmoid)": "One unit whose sigmoid is P(positive), trained with "
                             "binary_crossentropy.",
        "Dense(2, softmax)": "it works (with sparse_categorical_crossentropy) but spends two "
                             "outputs on what one probability already says; the usual choice is "
                             "Dense(1, sigmoid).",
        "Dense(1, relu)": "ReLU is not bounded by 1 and is 0 for every negative input: it is not "
                          "a probability. Use a sigmoid.",
        "Dense(1)": "without an activation the output is any real number, not a probability "
                    "(unless the loss is told from_logits=True).",
    })
