"""Chapter 4 exercises: IMDB binary classification."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from helpers import reference
from helpers.checks.engine import (
    Feedback,
    as_numbers,
    call_learner,
    check_choice,
    check_value,
    exercise,
    is_placeholder,
    kind,
    match_choice,
    read_loss,
    shown,
)
from helpers.checks.reading import show_numbers

__all__ = ["check_multi_hot_memory", "check_multi_hot", "check_binary_output"]


@exercise("04")
def check_multi_hot_memory(answer_mb: Any) -> Feedback:
    """Ex. 4.1: MB of a float32 multi-hot matrix, 10,000 reviews x 5,000 words."""
    rows, cols = 10_000, 5_000
    return check_value(
        answer_mb,
        rows * cols * 4 / 1e6,
        "answer_mb",
        atol=0.5,
        hints={
            "that is for float64 (8 bytes); float32 takes 4 bytes per number.": lambda v: (
                abs(v - rows * cols * 8 / 1e6) < 1
            ),
            (
                "that is the number of entries; multiply by 4 bytes each, then divide by 1e6 for "
                "MB."
            ): lambda v: abs(v - rows * cols) < 1 or abs(v - rows * cols / 1e6) < 0.01,
            "that is in MiB (2**20 bytes); the exercise asks for MB (1e6 bytes).": lambda v: (
                abs(v - rows * cols * 4 / 2**20) < 0.5
            ),
        },
    )


@exercise("04")
def check_multi_hot(multi_hot: Any) -> Feedback:
    """Ex. 4.2: ``multi_hot(sequences, num_words)`` -> float32 (n, num_words) of 0/1."""
    name = "multi_hot"
    cases = [([[1, 3, 3, 5], [2], []], 6), ([[0, 4, 4, 4]], 5)]
    for sequences, num_words in cases:
        want = reference.multi_hot(sequences, num_words)
        call = f"`{name}({sequences}, {num_words})`"
        got, problem = call_learner(
            multi_hot, name, [list(s) for s in sequences], num_words, call=call
        )
        if problem is not None:
            return problem
        values = as_numbers(got)
        if values is None:
            return Feedback(
                False,
                f"{call} returned {kind(got)} ({shown(got, 60)}); it should return a float32 "
                f"array of 0s and 1s of shape (number of sequences, num_words) = {want.shape}.",
            )
        dtype, returned = getattr(got, "dtype", None), kind(got)
        got = values
        if got.shape != want.shape:
            return Feedback(
                False,
                f"`{name}({sequences}, {num_words})` has shape {got.shape}; "
                f"expected (number of sequences, num_words) = {want.shape}.",
            )
        if got.max() > 1:
            return Feedback(
                False,
                f"`{name}({sequences}, {num_words})` has a value "
                f"{got.max():g}: a word repeated in a review must still "
                "give 1 (multi-hot marks presence), not a count. Assign 1, "
                "do not add.",
            )
        if not np.array_equal(got, want):
            row = int(np.flatnonzero((got != want).any(axis=1))[0])
            return Feedback(
                False,
                f"row {row} (sequence {sequences[row]}) should be "
                f"{want[row].astype(int).tolist()}, got {show_numbers(got[row])}.",
            )
        if dtype != np.float32:
            what = f"the dtype is {dtype}" if dtype is not None else f"it is {returned}"
            return Feedback(
                False,
                f"values are right but {what}; use float32 "
                "(half the memory of float64, and what Keras computes in).",
            )
    return Feedback(True, f"`{name}` is right, including repeated words and an empty review.")


_OUTPUT_LAYERS = ("Dense(1, sigmoid)", "Dense(2, softmax)", "Dense(1, relu)", "Dense(1)")
_BCE, _BCE_LOGITS = "binary_crossentropy", "binary_crossentropy(from_logits=True)"
_SPARSE, _CCE, _MSE = "sparse_categorical_crossentropy", "categorical_crossentropy", "mse"
_LOSSES = (_BCE, _BCE_LOGITS, _SPARSE, _CCE, _MSE)

_WHY_SIGMOID = (
    "One unit whose sigmoid is P(positive), trained with binary_crossentropy: the "
    "usual choice, and the one this chapter uses."
)
_WHY_SOFTMAX = (
    "This works too, compiled with sparse_categorical_crossentropy (labels 0 and 1 "
    "read as class indices). The trade-off: the two softmax outputs, P(negative) and "
    "P(positive), always add up to 1, so the second unit repeats what the first says; "
    "the output layer has twice the parameters (34 instead of 17 after 16 hidden "
    "units) and predictions have shape (n, 2), so you take argmax instead of "
    "comparing with 0.5. It is the form that grows to more than two classes."
)
_LOGITS_TRADE_OFF = (
    "The model outputs a logit z (any real number) and the loss applies the sigmoid inside, "
    "which is numerically steadier for very confident predictions. The trade-off: predict() "
    "now returns logits, not probabilities (apply keras.ops.sigmoid to read them, or compare "
    "with 0 instead of 0.5), and metrics=['accuracy'] still thresholds at 0.5: use "
    "keras.metrics.BinaryAccuracy(threshold=0.0)."
)
_WHY_LOGITS = "This works too. " + _LOGITS_TRADE_OFF
_WHY_LINEAR = (
    "Right, provided the model is compiled with "
    "binary_crossentropy(from_logits=True); with the plain binary_crossentropy it "
    "would be wrong, since that loss reads the outputs as probabilities. " + _LOGITS_TRADE_OFF
)
_WHY_SIGMOID_MSE = (
    "This works too: the sigmoid gives P(positive) and mean squared error pulls it toward the "
    "label, 0 or 1. The trade-off: where a review is confidently misclassified the sigmoid is "
    "flat, and squared error's gradient goes through that flat slope and nearly vanishes "
    "(binary_crossentropy's log cancels it), so such mistakes are corrected slowly. "
    "binary_crossentropy is the usual choice."
)
_WHY_RELU = (
    "ReLU is not bounded by 1 and is 0 for every negative input: it is not a "
    "probability, and a unit stuck at 0 gets no gradient. Use a sigmoid."
)


def _layer_choice(answer: Any) -> Any:
    """A Keras layer, or text such as "layers.Dense(units=1, activation='sigmoid')", as a
    choice ("Dense(1, sigmoid)"); anything else is returned as it is."""
    if isinstance(answer, str):
        text = re.sub(r"\b(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_])", "", answer)  # keras.layers.Dense
        text = re.sub(r"\b(?:units|activation)\s*=\s*", "", text, flags=re.IGNORECASE)
        text = re.sub(r"[\"'`]", "", text.strip().strip("\"'`")).strip()
        return re.sub(r",\s*(None|linear)\s*\)", ")", text, flags=re.IGNORECASE)
    try:
        config = answer.get_config() if not isinstance(answer, type) else {}
        if isinstance(config, dict) and "units" in config:
            activation = config.get("activation", "linear")
            if activation in (None, "linear"):
                return f"Dense({config['units']})"
            return f"Dense({config['units']}, {activation})"
    except Exception:  # not a Keras layer: the answer is shown as it is
        pass
    return answer


def _loss_choice(loss: Any) -> Any:
    """A Keras loss (object, class, function or text) as one of ``_LOSSES``, if it is one."""
    read = read_loss(loss)
    if read is None:
        return loss
    name, logits = read
    return _BCE_LOGITS if name == _BCE and logits else name


@exercise("04", answer="answer_output")
def check_binary_output(answer: Any, loss: Any = None) -> Feedback:
    """Ex. 4.3: the output layer (and, if given, the loss) of a positive/negative classifier.

    Three designs are right, each with its trade-off explained: ``Dense(1, sigmoid)`` with
    binary cross-entropy (the usual one; mean squared error works too, more slowly),
    ``Dense(2, softmax)`` with sparse categorical cross-entropy, and ``Dense(1)`` with
    ``binary_crossentropy(from_logits=True)``. When ``loss`` is given, the pair must match;
    without it, each right layer is accepted together with the loss it needs. The pair may
    also come as one value, ``(layer, loss)``; layers and losses may be text or Keras' own
    objects.
    """
    name = "answer_output"
    if (loss is None or is_placeholder(loss)) and isinstance(answer, (list, tuple)):
        if len(answer) == 2 and not any(is_placeholder(a) for a in answer):
            answer, loss = answer  # the pair given as one value: (layer, loss)
    if isinstance(answer, type):
        return Feedback(
            False,
            f"`{name}` is the class {answer.__name__} itself: call it with the layer's "
            f"settings to make the layer, {answer.__name__}(units, activation=...), or write "
            "the layer as text.",
        )
    layer = _layer_choice(answer)
    same = layer is answer or (isinstance(answer, str) and layer == answer)
    read = "" if same else f" (read as {shown(layer)})"
    if loss is None or is_placeholder(loss):
        feedback = check_choice(
            layer,
            ("Dense(1, sigmoid)", "Dense(2, softmax)", "Dense(1)"),
            name,
            {
                "Dense(1, sigmoid)": _WHY_SIGMOID,
                "Dense(2, softmax)": _WHY_SOFTMAX,
                "Dense(1)": _WHY_LINEAR,
                "Dense(1, relu)": _WHY_RELU,
            },
        )
        start = f"`{name}` = {layer!r}" if isinstance(layer, str) else None
        if read and start and feedback.message.startswith(start):
            rest = feedback.message[len(start) :]
            return Feedback(feedback.ok, f"`{name}` = {shown(answer)}{read}{rest}")
        return feedback
    layer = match_choice(layer, _OUTPUT_LAYERS)
    if layer is None:
        return Feedback(
            False,
            f"`{name}` = {shown(answer)} is not one of the choices: "
            + ", ".join(repr(c) for c in _OUTPUT_LAYERS)
            + ".",
        )
    loss_key = match_choice(_loss_choice(loss), _LOSSES)
    if loss_key is None:
        return Feedback(
            False,
            f"`answer_loss` = {shown(loss)} is not one of: "
            + ", ".join(repr(c) for c in _LOSSES)
            + ".",
        )
    pair = f"`{name}` = {layer!r} with {loss_key}"
    right = {
        ("Dense(1, sigmoid)", _BCE): _WHY_SIGMOID,
        ("Dense(2, softmax)", _SPARSE): _WHY_SOFTMAX,
        ("Dense(1)", _BCE_LOGITS): _WHY_LOGITS,
        ("Dense(1, sigmoid)", _MSE): _WHY_SIGMOID_MSE,
    }
    if (layer, loss_key) in right:
        return Feedback(True, f"{pair}: right. {right[layer, loss_key]}")
    if layer == "Dense(1, relu)":
        why = _WHY_RELU
    elif loss_key == _BCE_LOGITS:
        why = (
            "from_logits=True tells the loss the outputs are raw scores, so it applies a "
            "sigmoid itself. "
            + (
                "On top of your sigmoid that gives sigmoid(p), always between 0.5 and 0.73: "
                "the loss reads every review as at least half positive, so it stays high and its "
                "gradients are damped, even where the accuracy looks fine. Drop from_logits or "
                "the activation."
                if layer == "Dense(1, sigmoid)"
                else "It is meant for Dense(1) without an activation, not for a softmax."
            )
        )
    elif layer == "Dense(1)" and loss_key == _BCE:
        why = (
            "plain binary_crossentropy reads the outputs as probabilities, but Dense(1) gives "
            "any real number: Keras clips it into (0, 1), so every negative score looks like "
            "0. Pass binary_crossentropy(from_logits=True), or add the sigmoid."
        )
    elif loss_key in (_SPARSE, _CCE) and layer != "Dense(2, softmax)":
        why = (
            f"{loss_key} needs one output per class (two here, with a softmax); "
            "one output unit goes with binary_crossentropy."
        )
    elif layer == "Dense(2, softmax)" and loss_key == _CCE:
        why = (
            "categorical_crossentropy wants one-hot labels such as [0, 1]; the IMDB labels "
            "are the integers 0 and 1, which go with sparse_categorical_crossentropy."
        )
    elif layer == "Dense(2, softmax)":
        why = (
            f"{loss_key} does not fit two softmax outputs and integer labels 0/1: it treats "
            "the two outputs as separate answers. Use sparse_categorical_crossentropy."
        )
    else:  # Dense(1) with mse: the other layers' pairs with mse are named above
        why = (
            "Dense(1) trained with mse is a regression onto the labels 0 and 1: it trains, "
            "but its outputs are not probabilities (nothing keeps them between 0 and 1) and "
            "the loss punishes a score for being too sure of a right answer. Read the output "
            "as a logit, with binary_crossentropy(from_logits=True), or add the sigmoid."
        )
    return Feedback(False, f"{pair}: {why}")
