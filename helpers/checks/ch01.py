"""Chapter 1 exercises: neurons and activations."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers import reference
from helpers.checks.engine import TEST_INPUTS, Feedback, check_function, check_value, exercise

__all__ = [
    "check_relu",
    "check_relu_derivative",
    "check_neuron_output",
    "check_layer_params",
    "check_glorot_limit",
    "EX_NEURON",
    "EX_GLOROT",
]


@exercise("01")
def check_relu(relu: Any, name: str = "my_relu") -> Feedback:
    """Ex. 1.1a: ReLU in NumPy, element by element."""
    return check_function(
        relu,
        reference.ACTIVATIONS["relu"][0],
        TEST_INPUTS,
        name,
        hint="ReLU is max(0, z): np.maximum(z, 0) works on whole arrays.",
    )


@exercise("01")
def check_relu_derivative(relu_derivative: Any, name: str = "my_relu_derivative") -> Feedback:
    """Ex. 1.1b: the derivative of ReLU (taken as 0 at z = 0, as Keras does)."""
    return check_function(
        relu_derivative,
        reference.ACTIVATIONS["relu"][1],
        TEST_INPUTS,
        name,
        hint="The slope is 1 where z > 0 and 0 elsewhere (use 0 at z = 0).",
    )


# The exercise neuron of chapter 1: inputs, weights, bias.
EX_NEURON = {"x": [0.5, -1.0, 2.0], "w": [0.4, 0.3, -0.1], "b": 0.2}


@exercise("01")
def check_neuron_output(answer: Any) -> Feedback:
    """Ex. 1.2: sigmoid output of the exercise neuron."""
    x, w, b = (np.array(EX_NEURON[k], dtype=float) for k in ("x", "w", "b"))
    z = float(w @ x + b)
    y = float(1 / (1 + np.exp(-z)))
    return check_value(
        answer,
        y,
        "answer_y",
        atol=1e-3,
        hints={
            "that is z, the weighted sum; apply the sigmoid to it.": lambda v: abs(v - z) < 1e-3,
            "the bias is missing: z = w . x + b.": lambda v: (
                abs(v - 1 / (1 + np.exp(-(z - float(b))))) < 1e-3
            ),
            "that is sigmoid(-z): the sigmoid is 1 / (1 + exp(-z)).": lambda v: (
                abs(v - (1 - y)) < 1e-3
            ),
        },
    )


@exercise("01")
def check_layer_params(answer: Any) -> Feedback:
    """Ex. 1.3: parameters of Dense(3) on 4 inputs."""
    return check_value(
        answer,
        4 * 3 + 3,
        "answer_layer_params",
        atol=0,
        hints={
            "that counts only the weights; add one bias per unit.": lambda v: v == 12,
            "one bias per *unit* (3), not per input.": lambda v: v == 16,
        },
    )


# The exercise layer of chapter 1, section 6: Dense(100) on 300 inputs.
EX_GLOROT = {"fan_in": 300, "fan_out": 100}


@exercise("01")
def check_glorot_limit(answer: Any) -> Feedback:
    """Ex. 1.4: the glorot_uniform limit sqrt(6 / (fan_in + fan_out)) of the exercise layer."""
    fan_in, fan_out = EX_GLOROT["fan_in"], EX_GLOROT["fan_out"]
    limit = float(np.sqrt(6 / (fan_in + fan_out)))

    def near(value: float) -> Any:
        return lambda v: abs(v - value) < 1e-3

    return check_value(
        answer,
        limit,
        "answer_limit",
        atol=1e-3,
        hints={
            "that uses only the inputs; the limit is sqrt(6 / (fan_in + fan_out)).": near(
                np.sqrt(6 / fan_in)
            ),
            "that uses only the units; the limit is sqrt(6 / (fan_in + fan_out)).": near(
                np.sqrt(6 / fan_out)
            ),
            "the square root is missing: limit = sqrt(6 / (fan_in + fan_out)).": near(
                6 / (fan_in + fan_out)
            ),
            "that is He's standard deviation, sqrt(2 / fan_in); Glorot's uniform limit is "
            "sqrt(6 / (fan_in + fan_out)).": near(np.sqrt(2 / fan_in)),
        },
    )
