"""Chapter 2 exercises: forward pass and backpropagation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from helpers import reference
from helpers.checks.engine import (
    TEST_INPUTS,
    Feedback,
    as_numbers,
    check_choice,
    check_function,
    check_value,
    exercise,
)

__all__ = [
    "check_gradient",
    "check_sigmoid_derivative",
    "check_learning_rate_choice",
    "EX_GRADIENT",
    "check_weight_gradient_shape",
    "check_cross_entropy_gradient",
    "EX_SHAPES",
    "EX_LOGIT",
]


# The exercise of chapter 2: one sigmoid neuron, squared error L = (y - t)^2.
EX_GRADIENT = {"x": 1.5, "w": 0.8, "b": -0.2, "t": 1.0}


@exercise("02")
def check_gradient(answer: Any) -> Feedback:
    """Ex. 2.1: dL/dw for y = sigmoid(w x + b), L = (y - t)^2."""
    x, w, b, t = (EX_GRADIENT[k] for k in ("x", "w", "b", "t"))
    y = 1 / (1 + np.exp(-(w * x + b)))
    right = 2 * (y - t) * y * (1 - y) * x
    return check_value(
        answer,
        right,
        "answer_grad",
        atol=1e-4,
        hints={
            (
                "the sign is flipped: dL/dy = 2 (y - t), and y < t here, so it is negative."
            ): lambda v: abs(v + right) < 1e-4,
            "the factor 2 from the square is missing: d/dy (y - t)^2 = 2 (y - t).": lambda v: (
                abs(v - right / 2) < 1e-4
            ),
            "the sigmoid's derivative y (1 - y) is missing from the chain.": lambda v: (
                abs(v - 2 * (y - t) * x) < 1e-4
            ),
            "the last link is missing: dz/dw = x.": lambda v: abs(v - right / x) < 1e-4,
        },
    )


@exercise("02")
def check_sigmoid_derivative(
    sigmoid_derivative: Any, name: str = "my_sigmoid_derivative"
) -> Feedback:
    """Ex. 2.2: the sigmoid's derivative, sigma(z) (1 - sigma(z))."""
    derivative = reference.ACTIVATIONS["sigmoid"][1]
    return check_function(
        sigmoid_derivative,
        derivative,
        TEST_INPUTS,
        name,
        hint="Write it through the sigmoid itself: s = sigmoid(z); s * (1 - s).",
    )


@exercise("02")
def check_learning_rate_choice(answer: Any) -> Feedback:
    """Ex. 2.3: what a too-large learning rate does on L(w) = (w - 2)^2."""
    return check_choice(
        answer,
        "diverges",
        "answer_lr",
        {
            "diverges": "Each step overshoots the minimum by more than it started from, so the "
            "loss grows without bound.",
            "converges slowly": "that is a too-*small* learning rate: tiny steps.",
            (
                "converges in one step"
            ): "only lr = 0.5 does that on this parabola (w jumps to 2 at once).",
            "stops moving": "gradient descent stops only where the gradient is 0, at the minimum.",
        },
    )


# Ex. 2.4: a batch of n examples through inputs -> hidden -> outputs.
EX_SHAPES = {"n": 32, "inputs": 10, "hidden": 16, "outputs": 3}


@exercise("02")
def check_weight_gradient_shape(answer: Any) -> Feedback:
    """Ex. 2.4: the shape of dL/dW1 = x^T delta1 for the batch of ``EX_SHAPES``."""
    n, inputs, hidden, outputs = (EX_SHAPES[k] for k in ("n", "inputs", "hidden", "outputs"))

    def shape_is(*shape: int) -> Callable[[np.ndarray], bool]:
        return lambda v: v.shape == (2,) and tuple(int(d) for d in v) == shape

    array = as_numbers(answer)
    if array is not None and array.ndim == 2:  # the gradient itself, not its shape
        right = array.shape == (inputs, hidden)
        return Feedback(
            False,
            f"`answer_shape` holds an array of shape {array.shape}, not a shape: store its "
            f"`.shape`{' (which is right)' if right else ''}, a pair of numbers such as (2, 3).",
        )
    return check_value(
        answer,
        np.array([inputs, hidden]),
        "answer_shape",
        hints={
            (
                "that is the shape of delta1 (n x hidden). x^T is inputs x n, and the product "
                "x^T delta1 adds up the n examples."
            ): shape_is(n, hidden),
            "that is the shape of x itself (n x inputs).": shape_is(n, inputs),
            "transposed: a gradient has the shape of its weight, and W1 is inputs x hidden (one "
            "column per hidden neuron).": shape_is(hidden, inputs),
            "that is the shape of dL/dW2 = h^T delta2 (hidden x outputs).": shape_is(
                hidden, outputs
            ),
        },
    )


# Ex. 2.5: one sigmoid output, binary cross-entropy, z = 2 and target 0.
EX_LOGIT = {"z": 2.0, "t": 0.0}


@exercise("02")
def check_cross_entropy_gradient(answer: Any) -> Feedback:
    """Ex. 2.5: dL/dz for binary cross-entropy on p = sigmoid(z): p - t."""
    p = 1 / (1 + np.exp(-EX_LOGIT["z"]))
    t = EX_LOGIT["t"]
    right = p - t
    return check_value(
        answer,
        right,
        "answer_ce_grad",
        atol=1e-4,
        hints={
            (
                "that is squared error's gradient, 2 (p - t) p (1 - p). For cross-entropy the "
                "sigmoid's slope cancels out: dL/dz = p - t."
            ): lambda v: abs(v - 2 * right * p * (1 - p)) < 1e-4,
            "the factor p (1 - p) should not be there: cross-entropy's log cancels it, "
            "dL/dz = p - t.": lambda v: abs(v - right * p * (1 - p)) < 1e-4,
            "the sign is flipped: it is p - t, and p > t here, so z must go down.": lambda v: (
                abs(v + right) < 1e-4
            ),
        },
    )
