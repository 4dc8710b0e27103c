"""helpers.widgets: the explorers' logic, without a browser; and that they build."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import widgets  # noqa: E402


def test_neuron_worked_example():
    z, y = widgets.neuron([1.0, 2.0, 3.0], [0.5, -1.0, 0.25], 0.1, "sigmoid")
    assert z == pytest.approx(0.5 - 2.0 + 0.75 + 0.1)
    assert y == pytest.approx(1 / (1 + np.exp(-z)))
    assert widgets.neuron([1, 1], [1, -3], 0.0, "relu") == (-2.0, 0.0)
    assert widgets.neuron([0.0001], [1.0], 0.0, "step")[1] == 1.0


def test_neuron_rejects_bad_input():
    with pytest.raises(ValueError, match="one weight per input"):
        widgets.neuron([1, 2], [1], 0.0)
    with pytest.raises(ValueError, match="Unknown activation 'softplus'"):
        widgets.neuron([1], [1], 0.0, "softplus")


@pytest.mark.parametrize("name", list(widgets.ACTIVATIONS))
def test_derivatives_match_finite_differences(name):
    f, df = widgets.ACTIVATIONS[name]
    z = np.array([-2.5, -0.7, 0.3, 1.9])  # away from kinks
    numeric = (f(z + 1e-6) - f(z - 1e-6)) / 2e-6
    np.testing.assert_allclose(df(z), numeric, atol=1e-5)


def test_descend_follows_the_update_rule():
    path = widgets.descend(0.25, start=-3.0, steps=2)
    # w1 = -3 - 0.25 * 2 * (-3 - 2) = -0.5 ; w2 = -0.5 - 0.25 * 2 * (-2.5) = 0.75
    np.testing.assert_allclose(path, [-3.0, -0.5, 0.75])
    with pytest.raises(ValueError, match="must be positive"):
        widgets.descend(0.0)


@pytest.mark.parametrize("lr, verdict", [
    (0.005, "too small"), (0.2, "good"), (0.9, "too large (oscillating)"), (1.1, "diverging"),
    (50.0, "diverging"),
])
def test_learning_rate_regimes(lr, verdict):
    assert widgets.describe_learning_rate(lr) == verdict


def test_explorers_build_and_respond_to_sliders():
    box = widgets.neuron_explorer()
    sliders = box.children[0].children[0].children
    sliders[0].value = -1.5  # redraw runs without error
    lr_box = widgets.learning_rate_explorer()
    lr_box.children[0].children[0].value = 1.2
    assert len(lr_box.children) == 2
