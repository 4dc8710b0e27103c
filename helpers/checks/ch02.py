"""Chapter 2 exercises: forward pass and backpropagation."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.checks.core import (
    _TEST_INPUTS,
    Feedback,
    _activation,
    check_choice,
    check_function,
    check_value,
)

__all__ = [
    "check_gradient", "check_sigmoid_derivative", "check_learning_rate_choice", "EX_GRADIENT",
]


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
