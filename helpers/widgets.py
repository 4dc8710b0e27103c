"""Interactive explorers for chapters 1, 2 and 6, built with ipywidgets.

The logic lives in plain functions (:func:`neuron`, :func:`descend`,
:func:`describe_learning_rate`, :func:`apply_kernel`, :func:`describe_kernel`)
that tests call without a browser; the ``*_explorer()`` functions only wire
sliders to them and draw.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from helpers.reference import ACTIVATIONS, cross_correlate

__all__ = [
    "ACTIVATIONS",
    "neuron",
    "neuron_explorer",
    "descend",
    "describe_learning_rate",
    "learning_rate_explorer",
    "KERNEL_PRESETS",
    "apply_kernel",
    "describe_kernel",
    "kernel_explorer",
]

Array = np.ndarray


def neuron(
    inputs: Sequence[float], weights: Sequence[float], bias: float, activation: str = "sigmoid"
) -> tuple[float, float]:
    """One neuron: ``z = w . x + b`` and ``y = f(z)``. Returns ``(z, y)``."""
    x = np.asarray(inputs, dtype=float)
    w = np.asarray(weights, dtype=float)
    if x.shape != w.shape:
        raise ValueError(
            f"neuron() needs one weight per input: got {x.size} inputs and {w.size} weights."
        )
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"Unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}."
        )
    z = float(w @ x + bias)
    return z, float(ACTIVATIONS[activation][0](np.array(z)))


def neuron_explorer(n_inputs: int = 3):
    """Sliders for the inputs, weights and bias, a dropdown for the activation,
    and a plot of f(z) with the neuron's current (z, y) marked."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    xs = [
        w.FloatSlider(value=1.0, min=-2, max=2, step=0.1, description=f"x{i}")
        for i in range(n_inputs)
    ]
    ws = [
        w.FloatSlider(value=0.5, min=-2, max=2, step=0.1, description=f"w{i}")
        for i in range(n_inputs)
    ]
    b = w.FloatSlider(value=0.0, min=-3, max=3, step=0.1, description="b")
    act = w.Dropdown(options=list(ACTIVATIONS), value="sigmoid", description="f")
    out = w.Output()

    def redraw(*_):
        z, y = neuron([s.value for s in xs], [s.value for s in ws], b.value, act.value)
        with out:
            out.clear_output(wait=True)
            grid = np.linspace(-6, 6, 401)
            fig, ax = plt.subplots(figsize=(5, 3))
            ax.plot(grid, ACTIVATIONS[act.value][0](grid), label=f"{act.value}(z)")
            ax.plot([z], [y], "o", color="crimson", ms=9)
            ax.set_xlabel("z = w . x + b")
            ax.set_title(f"z = {z:+.2f}   y = {act.value}(z) = {y:.4f}")
            ax.grid(alpha=0.3)
            plt.show()

    for control in [*xs, *ws, b, act]:
        control.observe(redraw, names="value")
    redraw()
    columns = w.HBox([w.VBox(xs), w.VBox(ws), w.VBox([b, act])])
    return w.VBox([columns, out])


# --- Gradient descent on a simple loss: L(w) = (w - 2)^2 ------------------------------

TARGET = 2.0


def loss(w: Array | float) -> Array:
    """The explorer's loss surface, a parabola with its minimum at w = 2."""
    return (np.asarray(w, dtype=float) - TARGET) ** 2


def gradient(w: Array | float) -> Array:
    return 2.0 * (np.asarray(w, dtype=float) - TARGET)


def descend(learning_rate: float, start: float = -3.0, steps: int = 20) -> Array:
    """Positions ``w_0 .. w_steps`` of gradient descent ``w <- w - lr * dL/dw``."""
    if learning_rate <= 0:
        raise ValueError(f"The learning rate must be positive, got {learning_rate}.")
    path = [float(start)]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            path.append(path[-1] - learning_rate * float(gradient(path[-1])))
    return np.array(path)


def describe_learning_rate(learning_rate: float, start: float = -3.0, steps: int = 20) -> str:
    """Classify a run: 'too small', 'good', 'too large (oscillating)' or 'diverging'."""
    path = descend(learning_rate, start, steps)
    losses = loss(path)
    if not np.all(np.isfinite(losses)) or losses[-1] >= losses[0]:
        return "diverging"
    if losses[-1] > 1e-2 * losses[0]:
        return "too small"
    offsets = np.sign(path - TARGET)
    if np.any(offsets[1:] * offsets[:-1] < 0):  # jumps across the minimum
        return "too large (oscillating)"
    return "good"


def learning_rate_explorer():
    """A log-scale slider for the learning rate, showing the descent path on L(w)."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    lr = w.FloatLogSlider(
        value=0.1, base=10, min=-2.5, max=0.2, step=0.05, description="learning rate"
    )
    steps = w.IntSlider(value=20, min=1, max=50, description="steps")
    out = w.Output()

    def redraw(*_):
        path = descend(lr.value, steps=steps.value)
        with out:
            out.clear_output(wait=True)
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
            grid = np.linspace(-4, 8, 300)
            ax1.plot(grid, loss(grid), color="gray")
            shown = path[np.isfinite(path) & (np.abs(path) < 1e3)]
            ax1.plot(shown, loss(shown), "o-", ms=4, color="crimson")
            ax1.set_xlim(-4, 8)
            ax1.set_ylim(-1, 40)
            ax1.set_xlabel("w")
            ax1.set_ylabel("L(w)")
            ax2.semilogy(np.maximum(loss(path), 1e-12), "o-", ms=3)
            ax2.set_xlabel("step")
            ax2.set_ylabel("loss (log scale)")
            fig.suptitle(
                f"learning rate {lr.value:.3g}: "
                f"{describe_learning_rate(lr.value, steps=steps.value)}"
            )
            fig.tight_layout()
            plt.show()

    lr.observe(redraw, names="value")
    steps.observe(redraw, names="value")
    redraw()
    return w.VBox([w.HBox([lr, steps]), out])


# --- Chapter 6: a 3x3 kernel slid over an image ------------------------------------------

KERNEL_PRESETS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "blur": np.full((3, 3), 1 / 9),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "vertical edges": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float),
    "horizontal edges": np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=float),
    "outline": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=float),
}
"""Classic 3x3 image kernels (the edge detectors are Sobel filters)."""


def _as_kernel(kernel: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    k = np.asarray(kernel, dtype=float)
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] % 2 == 0:
        raise ValueError(
            f"A kernel must be a square grid of odd size such as 3x3; got shape {k.shape}."
        )
    if not np.all(np.isfinite(k)):
        raise ValueError("Every value of the kernel must be a finite number.")
    return k


def apply_kernel(
    image: np.ndarray, kernel: Sequence[Sequence[float]] | np.ndarray, padding: str = "valid"
) -> np.ndarray:
    """Slide ``kernel`` over a 2-D ``image`` as ``keras.layers.Conv2D`` does (stride 1).

    Like Keras (and every deep-learning library), this is cross-correlation: the
    kernel is not flipped. ``padding="valid"`` keeps only positions where the
    kernel fits inside the image (an n x n image gives n-k+1 x n-k+1);
    ``"same"`` pads with zeros so the output is as large as the input.
    """
    k = _as_kernel(kernel)
    x = np.asarray(image, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"apply_kernel() takes one 2-D grayscale image, got shape {x.shape}.")
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
    if padding == "valid" and (x.shape[0] < k.shape[0] or x.shape[1] < k.shape[1]):
        raise ValueError(f"The image ({x.shape}) is smaller than the kernel ({k.shape}).")
    return cross_correlate(x, k, padding)


def describe_kernel(kernel: Sequence[Sequence[float]] | np.ndarray) -> str:
    """A one-line description of what a kernel does to an image, from its weights."""
    k = _as_kernel(kernel)
    total = float(k.sum())
    centre = k[k.shape[0] // 2, k.shape[1] // 2]
    others = np.delete(k.ravel(), k.size // 2)
    if np.allclose(others, 0):
        if np.isclose(centre, 0):
            return "all zeros: the feature map is blank."
        if np.isclose(centre, 1):
            return "identity: copies the image unchanged."
        return f"scales every pixel by {centre:g}."
    if np.isclose(total, 0, atol=1e-9):
        if np.allclose(k, k.T) and np.allclose(k, np.flipud(k)):
            return (
                "outline (weights sum to 0): flat areas give 0; it responds to edges in "
                "every direction."
            )
        if np.allclose(k, -np.fliplr(k)):
            return (
                "vertical edges (weights sum to 0): flat areas give 0; it responds where "
                "brightness changes from left to right."
            )
        if np.allclose(k, -np.flipud(k)):
            return (
                "horizontal edges (weights sum to 0): flat areas give 0; it responds where "
                "brightness changes from top to bottom."
            )
        return "an edge detector (weights sum to 0): flat areas give 0, changes respond."
    if np.all(k >= 0):
        kind = "blur" if np.isclose(total, 1) else f"blur, brightness scaled by {total:g}"
        return f"{kind}: each output is a weighted average of a pixel's neighbourhood."
    if np.isclose(total, 1) and centre > 1:
        return (
            "sharpen (weights sum to 1): flat areas keep their value, differences from "
            "the neighbours are exaggerated."
        )
    return f"a mixed kernel (weights sum to {total:g}): flat areas are scaled by {total:g}."


def kernel_explorer(image: np.ndarray, preset: str = "vertical edges"):
    """Pick a preset 3x3 kernel or edit its nine values; see the feature map change."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    if preset not in KERNEL_PRESETS:
        raise ValueError(f"Unknown preset {preset!r}; choose one of {', '.join(KERNEL_PRESETS)}.")
    image = np.asarray(image, dtype=float)
    choice = w.Dropdown(options=list(KERNEL_PRESETS), value=preset, description="preset")
    cells = [w.FloatText(value=0.0, step=0.5, layout=w.Layout(width="70px")) for _ in range(9)]
    out = w.Output()
    loading = {"preset": False}

    def kernel() -> np.ndarray:
        return np.array([c.value for c in cells], dtype=float).reshape(3, 3)

    def redraw(*_):
        if loading["preset"]:
            return
        k = kernel()
        feature_map = apply_kernel(image, k)
        with out:
            out.clear_output(wait=True)
            fig, (ax_in, ax_k, ax_out) = plt.subplots(1, 3, figsize=(9, 3.2))
            ax_in.imshow(image, cmap="gray_r")
            ax_in.set_title(f"image {image.shape[0]}x{image.shape[1]}")
            limit = max(float(np.abs(k).max()), 1e-9)
            ax_k.imshow(k, cmap="RdBu_r", vmin=-limit, vmax=limit)
            for (i, j), v in np.ndenumerate(k):
                ax_k.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=10)
            ax_k.set_title("kernel")
            ax_out.imshow(feature_map, cmap="gray_r")
            ax_out.set_title(f"feature map {feature_map.shape[0]}x{feature_map.shape[1]}")
            for ax in (ax_in, ax_k, ax_out):
                ax.set_xticks([])
                ax.set_yticks([])
            fig.suptitle(describe_kernel(k), fontsize=9)
            fig.tight_layout()
            plt.show()

    def load_preset(*_):
        loading["preset"] = True
        for cell, value in zip(cells, KERNEL_PRESETS[choice.value].ravel(), strict=True):
            cell.value = round(float(value), 4)
        loading["preset"] = False
        redraw()

    choice.observe(load_preset, names="value")
    for cell in cells:
        cell.observe(redraw, names="value")
    load_preset()
    grid = w.VBox([w.HBox(cells[row * 3 : row * 3 + 3]) for row in range(3)])
    return w.VBox([w.HBox([choice, grid]), out])
