"""Chapter 4 exercises: IMDB binary classification."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from helpers.checks.core import Feedback, _call_learner, check_choice, check_value

__all__ = ["check_multi_hot_memory", "check_multi_hot", "check_binary_output"]


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
    cases = [([[1, 3, 3, 5], [2], []], 6), ([[0, 4, 4, 4]], 5)]
    for sequences, num_words in cases:
        want = _reference_multi_hot(sequences, num_words)
        call = f"`{name}({sequences}, {num_words})`"
        got, problem = _call_learner(multi_hot, name, sequences, num_words,
                                     explain=lambda err, call=call: (
                                         f"{call} raised {type(err).__name__}: {err}"))
        if problem is not None:
            return problem
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
