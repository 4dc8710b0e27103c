"""Chapter 1's checks added with the initialisation section (exercise 1.4)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import checks


def test_glorot_limit_accepts_the_limit_and_keras_agrees():
    limit = np.sqrt(6 / (300 + 100))
    assert checks.check_glorot_limit(limit).ok
    assert checks.check_glorot_limit(f"{limit:.4f}").ok
    import keras

    keras.utils.set_random_seed(0)
    layer = keras.layers.Dense(100)
    layer.build((None, 300))
    assert np.abs(layer.get_weights()[0]).max() <= limit + 1e-7


@pytest.mark.parametrize("wrong, hint", [
    (np.sqrt(6 / 300), "only the inputs"),
    (np.sqrt(6 / 100), "only the units"),
    (6 / 400, "square root is missing"),
    (np.sqrt(2 / 300), "He's standard deviation"),
])
def test_glorot_limit_names_common_mistakes(wrong, hint):
    feedback = checks.check_glorot_limit(wrong)
    assert not feedback.ok
    assert hint in feedback.message


def test_glorot_limit_not_attempted_and_confirm():
    assert "Fill in `answer_limit`" in checks.check_glorot_limit(None).message
    with pytest.raises(checks.SolutionError):
        checks.confirm(checks.check_glorot_limit(0.5))
