"""Interactive explorers for chapters 1 and 2, built with ipywidgets.

The logic lives in plain functions (:func:`neuron`, :func:`descend`,
:func:`describe_learning_rate`) that tests call without a browser; the
``*_explorer()`` functions only wire sliders to them and draw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "neuron",
    "neuron_explorer",
    "descend",
    "describe_learning_rate",
    "learning_rate_explorer",
]

Array = np.ndarray


def _sigmoid(z: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-z))


# name -> (function, derivative); reference versions for the widgets and the checks.
ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]] = {
    "step": (lambda z: (np.asarray(z) > 0).astype(float), lambda z: np.zeros_like(z, float)),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (np.asarray(z) > 0).astype(float)),
    "leaky_relu": (lambda z: np.where(np.asarray(z) > 0, z, 0.2 * np.asarray(z)),
                   lambda z: np.where(np.asarray(z) > 0, 1.0, 0.2)),
}


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

    xs = [w.FloatSlider(value=1.0, min=-2, max=2, step=0.1, description=f"x{i}")
          for i in range(n_inputs)]
    ws = [w.FloatSlider(value=0.5, min=-2, max=2, step=0.1, description=f"w{i}")
          for i in range(n_inputs)]
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

    lr = w.FloatLogSlider(value=0.1, base=10, min=-2.5, max=0.2, step=0.05,
                          description="learning rate")
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
            fig.suptitle(f"learning rate {lr.value:.3g}: "
                         f"{describe_learning_rate(lr.value, steps=steps.value)}")
            fig.tight_layout()
            plt.show()

    lr.observe(redraw, names="value")
    steps.observe(redraw, names="value")
    redraw()
    return w.VBox([w.HBox([lr, steps]), out])
