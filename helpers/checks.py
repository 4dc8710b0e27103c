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

__all__ = ["Feedback", "check_function", "check_value", "check_choice", "confirm"]


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


class SolutionError(AssertionError):
    """A solution cell whose own check fails: the course itself is wrong."""


def confirm(feedback: Feedback) -> None:
    """Run a solution's check without giving the answer away.

    Solution cells end with ``checks.confirm(checks.check_...(answer))``. On
    success it prints one line that says the solution passes and shows no
    values, so a learner scrolling past the solutions learns nothing from the
    output. On failure it raises, so CI turns red when a solution breaks.
    """
    if not isinstance(feedback, Feedback):
        raise TypeError(
            f"confirm() takes the result of a check_... function, got a "
            f"{type(feedback).__name__}. Write checks.confirm(checks.check_xxx(answer))."
        )
    if not feedback.ok:
        raise SolutionError(f"This solution does not pass its own check: {feedback!r}")
    print("[solution] passes its check.")


def _not_attempted(name: str) -> Feedback:
    return Feedback(False, f"Fill in `{name}` above, run that cell, then run this one.", False)


def _is_placeholder(answer: Any) -> bool:
    return answer is None or answer is Ellipsis


def _call_learner(
    fn: Any, name: str, *args: Any, explain: Callable[[Exception], str | None] | None = None
) -> tuple[Any, Feedback | None]:
    """Call the learner's function safely: ``(result, None)`` or ``(None, feedback)``.

    Unfinished code (``None``, ``...``, ``raise NotImplementedError``) is "not
    attempted yet"; any other exception, or a missing ``return``, becomes
    feedback instead of a traceback. ``explain`` may turn a known exception into
    a more specific message.
    """
    if _is_placeholder(fn):
        return None, _not_attempted(name)
    if not callable(fn):
        return None, Feedback(False, f"`{name}` should be a function, but it is a "
                                     f"{type(fn).__name__}.")
    try:
        result = fn(*args)
    except NotImplementedError:
        return None, _not_attempted(name)
    except Exception as err:  # the learner's code: report, never crash the notebook
        message = explain(err) if explain else None
        return None, Feedback(False, message or f"`{name}` raised {type(err).__name__}: {err}")
    if _is_placeholder(result):
        return None, Feedback(False, f"`{name}` returned {result!r}: did you forget `return`?")
    return result, None


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
    x = np.asarray(inputs, dtype=float)
    expected = np.asarray(reference(x), dtype=float)
    got, problem = _call_learner(fn, name, x.copy(), explain=lambda err: (
        f"`{name}` raised {type(err).__name__}: {err}. It is called with a NumPy array such "
        f"as {x[:3]!r}..."))
    if problem is not None:
        return problem
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

    def explain(err: Exception) -> str | None:
        if isinstance(err, AttributeError) and "predict_classes" in str(err):
            return ("`predict_classes` was removed from Keras (TensorFlow 2.6+): call "
                    "model.predict(images) and take argmax over the last axis.")
        return None

    got, problem = _call_learner(predict_digits, name, model, images, explain=explain)
    if problem is not None:
        return problem
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


# --------------------------------------------------------------------------
# Chapter 5: Fashion-MNIST, dropout and callbacks
# --------------------------------------------------------------------------


def check_callbacks(callbacks: Any) -> Feedback:
    """Ex. 5.1: a checkpoint of the best model and early stopping that restores it."""
    name = "callbacks"
    if _is_placeholder(callbacks):
        return _not_attempted(name)
    import keras

    if not isinstance(callbacks, (list, tuple)):
        return Feedback(False, f"`{name}` should be a list of callbacks, got a "
                               f"{type(callbacks).__name__}.")
    checkpoints = [c for c in callbacks if isinstance(c, keras.callbacks.ModelCheckpoint)]
    stoppers = [c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)]
    if not checkpoints:
        return Feedback(False, "there is no keras.callbacks.ModelCheckpoint in the list.")
    if not stoppers:
        return Feedback(False, "there is no keras.callbacks.EarlyStopping in the list.")
    ckpt, stop = checkpoints[0], stoppers[0]
    if not str(ckpt.filepath).endswith(".keras"):
        return Feedback(False, f"the checkpoint path {ckpt.filepath!r} should end in .keras: "
                               "the native format, which keeps the optimizer state (.h5 is "
                               "legacy, and chapter 3 shows how it can swap the optimizer).")
    if not ckpt.save_best_only:
        return Feedback(False, "the checkpoint saves every epoch; pass save_best_only=True to "
                               "keep only the best one.")
    for cb, label in ((ckpt, "ModelCheckpoint"), (stop, "EarlyStopping")):
        if cb.monitor != "val_loss":
            return Feedback(False, f"{label} watches {cb.monitor!r}; watch 'val_loss' so the "
                                   "validation set, not the training set, decides.")
    if stop.patience != 2:
        return Feedback(False, f"EarlyStopping has patience={stop.patience}; the exercise asks "
                               "for 2 epochs without improvement.")
    if not stop.restore_best_weights:
        return Feedback(False, "EarlyStopping stops, but keeps the weights of the *last* epoch; "
                               "pass restore_best_weights=True.")
    return Feedback(True, "a best-only .keras checkpoint and early stopping (patience 2) that "
                          "restores the best weights, both watching val_loss.")


def check_dropout_values(answer: Any) -> Feedback:
    """Ex. 5.2: values of Dropout(0.5) applied to ones, in training."""
    return check_choice(answer, "0 and 2", "answer_dropout", {
        "0 and 2": "Dropped units give 0; the kept ones are divided by (1 - 0.5), so the average "
                   "output stays 1, as it is at inference.",
        "0 and 1": "the kept units are scaled up by 1 / (1 - rate) during training, so that the "
                   "expected output equals the inference output.",
        "0.5 only": "dropout does not multiply everything by 0.5; it zeroes some units and "
                    "scales up the rest.",
        "1 only": "that is what happens at inference (training=False), not in training.",
    })


def check_saved_format(answer: Any) -> Feedback:
    """Ex. 5.3: which file lets you resume training where you left off."""
    return check_choice(answer, ".keras", "answer_format", {
        ".keras": "The .keras file holds the architecture, the weights and the optimizer state.",
        ".weights.h5": "a .weights.h5 file holds variables but not the architecture or the "
                       "compile settings: you must rebuild and compile the same model in code "
                       "first, and Keras only restores the optimizer's variables into an "
                       "optimizer that is already built (otherwise it warns and skips them).",
    })


# --------------------------------------------------------------------------
# Chapters 1 and 2: neurons, activations, backpropagation
# --------------------------------------------------------------------------

_TEST_INPUTS = np.array([-3.0, -1.5, -0.2, 0.0, 0.1, 0.7, 2.0, 5.0])


def _activation(name: str):
    from helpers.widgets import ACTIVATIONS

    return ACTIVATIONS[name]


def check_relu(relu: Any, name: str = "my_relu") -> Feedback:
    """Ex. 1.1a: ReLU in NumPy, element by element."""
    return check_function(relu, _activation("relu")[0], _TEST_INPUTS, name,
                          hint="ReLU is max(0, z): np.maximum(z, 0) works on whole arrays.")


def check_relu_derivative(relu_derivative: Any, name: str = "my_relu_derivative") -> Feedback:
    """Ex. 1.1b: the derivative of ReLU (taken as 0 at z = 0, as Keras does)."""
    return check_function(relu_derivative, _activation("relu")[1], _TEST_INPUTS, name,
                          hint="The slope is 1 where z > 0 and 0 elsewhere (use 0 at z = 0).")


# The exercise neuron of chapter 1: inputs, weights, bias.
EX_NEURON = {"x": [0.5, -1.0, 2.0], "w": [0.4, 0.3, -0.1], "b": 0.2}


def check_neuron_output(answer: Any) -> Feedback:
    """Ex. 1.2: sigmoid output of the exercise neuron."""
    x, w, b = (np.array(EX_NEURON[k], dtype=float) for k in ("x", "w", "b"))
    z = float(w @ x + b)
    y = float(1 / (1 + np.exp(-z)))
    return check_value(answer, y, "answer_y", atol=1e-3, hints={
        "that is z, the weighted sum; apply the sigmoid to it.": lambda v: abs(v - z) < 1e-3,
        "the bias is missing: z = w . x + b.":
            lambda v: abs(v - 1 / (1 + np.exp(-(z - float(b))))) < 1e-3,
        "that is sigmoid(-z): the sigmoid is 1 / (1 + exp(-z)).":
            lambda v: abs(v - (1 - y)) < 1e-3,
    })


def check_layer_params(answer: Any) -> Feedback:
    """Ex. 1.3: parameters of Dense(3) on 4 inputs."""
    return check_value(answer, 4 * 3 + 3, "answer_layer_params", atol=0, hints={
        "that counts only the weights; add one bias per unit.": lambda v: v == 12,
        "one bias per *unit* (3), not per input.": lambda v: v == 16,
    })


# The exercise of chapter 2: one sigmoid neuron, squared error L = (y - t)^2.
EX_GRADIENT = {"x": 1.5, "w": 0.8, "b": -0.2, "t": 1.0}


def check_gradient(answer: Any) -> Feedback:
    """Ex. 2.1: dL/dw for y = sigmoid(w x + b), L = (y - t)^2."""
    x, w, b, t = (EX_GRADIENT[k] for k in ("x", "w", "b", "t"))
    y = 1 / (1 + np.exp(-(w * x + b)))
    right = 2 * (y - t) * y * (1 - y) * x
    return check_value(answer, right, "answer_grad", atol=1e-4, hints={
        "the sign is flipped: dL/dy = 2 (y - t), and y < t here, so it is negative.":
            lambda v: abs(v + right) < 1e-4,
        "the factor 2 from the square is missing: d/dy (y - t)^2 = 2 (y - t).":
            lambda v: abs(v - right / 2) < 1e-4,
        "the sigmoid's derivative y (1 - y) is missing from the chain.":
            lambda v: abs(v - 2 * (y - t) * x) < 1e-4,
        "the last link is missing: dz/dw = x.": lambda v: abs(v - right / x) < 1e-4,
    })


def check_sigmoid_derivative(sigmoid_derivative: Any,
                             name: str = "my_sigmoid_derivative") -> Feedback:
    """Ex. 2.2: the sigmoid's derivative, sigma(z) (1 - sigma(z))."""
    return check_function(sigmoid_derivative, _activation("sigmoid")[1], _TEST_INPUTS, name,
                          hint="Write it through the sigmoid itself: s = sigmoid(z); s * (1 - s).")


def check_learning_rate_choice(answer: Any) -> Feedback:
    """Ex. 2.3: what a too-large learning rate does on L(w) = (w - 2)^2."""
    return check_choice(answer, "diverges", "answer_lr", {
        "diverges": "Each step overshoots the minimum by more than it started from, so the "
                    "loss grows without bound.",
        "converges slowly": "that is a too-*small* learning rate: tiny steps.",
        "converges in one step": "only lr = 0.5 does that on this parabola (w jumps to 2 at once).",
        "stops moving": "gradient descent stops only where the gradient is 0, at the minimum.",
    })
