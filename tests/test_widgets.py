"""helpers.widgets: the explorers' logic, without a browser; and that they build."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import reference, widgets  # noqa: E402


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


@pytest.mark.parametrize("name", list(reference.ACTIVATIONS))
def test_derivatives_match_finite_differences(name):
    f, df = reference.ACTIVATIONS[name]
    z = np.array([-2.5, -0.7, 0.3, 1.9])  # away from kinks
    numeric = (f(z + 1e-6) - f(z - 1e-6)) / 2e-6
    np.testing.assert_allclose(df(z), numeric, atol=1e-5)


def test_descend_follows_the_update_rule():
    path = widgets.descend(0.25, start=-3.0, steps=2)
    # w1 = -3 - 0.25 * 2 * (-3 - 2) = -0.5 ; w2 = -0.5 - 0.25 * 2 * (-2.5) = 0.75
    np.testing.assert_allclose(path, [-3.0, -0.5, 0.75])
    with pytest.raises(ValueError, match="must be positive"):
        widgets.descend(0.0)


@pytest.mark.parametrize(
    "lr, verdict",
    [
        (0.005, "too small"),
        (0.2, "good"),
        (0.9, "too large (oscillating)"),
        (1.1, "diverging"),
        (50.0, "diverging"),
    ],
)
def test_learning_rate_regimes(lr, verdict):
    assert widgets.describe_learning_rate(lr) == verdict


def test_explorers_build_and_respond_to_sliders():
    box = widgets.neuron_explorer()
    sliders = box.children[0].children[0].children
    sliders[0].value = -1.5  # redraw runs without error
    lr_box = widgets.learning_rate_explorer()
    lr_box.children[0].children[0].value = 1.2
    assert len(lr_box.children) == 2


# --- Chapter 6: kernels -------------------------------------------------------------------


def test_apply_kernel_worked_example():
    image = np.arange(16, dtype=float).reshape(4, 4)
    kernel = [[1, 0, 0], [0, 0, 0], [0, 0, -1]]  # top-left minus bottom-right, not flipped
    out = widgets.apply_kernel(image, kernel)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, np.full((2, 2), 0 - 10.0))  # x[i, j] - x[i+2, j+2]
    same = widgets.apply_kernel(image, widgets.KERNEL_PRESETS["identity"], padding="same")
    np.testing.assert_allclose(same, image)


def test_apply_kernel_matches_a_naive_loop():
    rng = np.random.default_rng(0)
    image, kernel = rng.normal(size=(7, 9)), rng.normal(size=(3, 3))
    naive = np.array(
        [[np.sum(image[i : i + 3, j : j + 3] * kernel) for j in range(7)] for i in range(5)]
    )
    np.testing.assert_allclose(widgets.apply_kernel(image, kernel), naive)
    same = widgets.apply_kernel(image, kernel, padding="same")
    assert same.shape == image.shape
    np.testing.assert_allclose(same[1:-1, 1:-1], naive)


@pytest.mark.parametrize(
    "image, kernel, padding, message",
    [
        (np.zeros((5, 5)), np.zeros((2, 2)), "valid", "odd size"),
        (np.zeros((5, 5)), np.zeros((3, 1)), "valid", "square"),
        (np.zeros((5, 5, 1)), np.zeros((3, 3)), "valid", "2-D"),
        (np.zeros((2, 2)), np.zeros((3, 3)), "valid", "smaller than the kernel"),
        (np.zeros((5, 5)), np.zeros((3, 3)), "full", "'valid' or 'same'"),
        (np.zeros((5, 5)), [[0, 0, 0], [0, np.nan, 0], [0, 0, 0]], "valid", "finite"),
    ],
)
def test_apply_kernel_rejects_bad_input(image, kernel, padding, message):
    with pytest.raises(ValueError, match=message):
        widgets.apply_kernel(image, kernel, padding=padding)


@pytest.mark.parametrize(
    "name, words",
    [
        ("identity", "identity"),
        ("blur", "blur"),
        ("sharpen", "sharpen"),
        ("vertical edges", "vertical edges"),
        ("horizontal edges", "horizontal edges"),
        ("outline", "outline"),
    ],
)
def test_every_preset_is_described_by_its_name(name, words):
    assert widgets.describe_kernel(widgets.KERNEL_PRESETS[name]).startswith(words)


def test_describe_kernel_other_cases():
    assert widgets.describe_kernel(np.zeros((3, 3))).startswith("all zeros")
    assert "2" in widgets.describe_kernel([[0, 0, 0], [0, 2, 0], [0, 0, 0]])
    assert "scaled by 2" in widgets.describe_kernel(np.full((3, 3), 2 / 9))
    assert widgets.describe_kernel([[1, 0, 0], [0, 0, 0], [0, 0, -1]]).startswith("an edge")
    assert "sum to 3" in widgets.describe_kernel([[1, -1, 0], [0, 2, 0], [0, 0, 1]])


def test_presets_do_what_they_say_on_a_flat_image():
    flat = np.full((6, 6), 0.5)
    for name, kernel in widgets.KERNEL_PRESETS.items():
        out = widgets.apply_kernel(flat, kernel)
        expected = 0.0 if "edges" in name or name == "outline" else 0.5
        np.testing.assert_allclose(out, expected, atol=1e-12, err_msg=name)
    step = np.zeros((5, 6))
    step[:, 3:] = 1.0  # dark on the right: a vertical edge
    assert np.abs(widgets.apply_kernel(step, widgets.KERNEL_PRESETS["vertical edges"])).max() > 0
    assert np.abs(widgets.apply_kernel(step, widgets.KERNEL_PRESETS["horizontal edges"])).max() == 0


def test_kernel_explorer_builds_and_responds():
    image = np.zeros((10, 10))
    image[3:7, 3:7] = 1.0
    box = widgets.kernel_explorer(image)
    choice, grid = box.children[0].children
    cells = [cell for row in grid.children for cell in row.children]
    np.testing.assert_allclose(
        [c.value for c in cells], widgets.KERNEL_PRESETS["vertical edges"].ravel()
    )
    choice.value = "blur"
    np.testing.assert_allclose([c.value for c in cells], round(1 / 9, 4))
    cells[4].value = 2.0  # an edited value redraws without error
    with pytest.raises(ValueError, match="Unknown preset"):
        widgets.kernel_explorer(image, preset="emboss")
