"""Plots the notebooks use more than once: training curves, image grids,
confusion matrices and activation functions; and Markdown tables of results.

Every function draws on a new figure (or the ``ax`` you pass), returns the
matplotlib ``Figure`` and leaves showing it to Jupyter.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from helpers.tables import markdown_table  # here too: the notebooks' plotting.markdown_table

__all__ = [
    "markdown_table",
    "history_dict",
    "history_series",
    "plot_history",
    "plot_curves",
    "plot_runs",
    "show_images",
    "plot_confusion_matrix",
    "plot_function",
    "show_maps",
    "plot_lines",
]


# Old Keras (and TF 1.x tutorials) wrote "acc"; Keras 2.3+ and 3 write "accuracy".
_ALIASES = {"acc": "accuracy", "val_acc": "val_accuracy"}


def _whole_epochs(ax: plt.Axes) -> None:
    """Ticks only at whole numbers on the x axis: there is no epoch 2.5."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def history_dict(history: Any) -> dict[str, list[float]]:
    """The ``{metric: [value per epoch]}`` dict of a Keras ``History`` or a plain dict."""
    data = getattr(history, "history", history)
    if not isinstance(data, Mapping):
        raise TypeError(
            "Expected what model.fit() returns (a History object) or its .history dict, "
            f"got a {type(history).__name__}."
        )
    return {str(k): list(v) for k, v in data.items()}


def history_series(history: Any, key: str) -> list[float]:
    """One metric's values per epoch, accepting ``acc``/``accuracy`` either way.

    A key the history does not have raises a ``KeyError`` whose message lists
    the keys it does have (the classic typo is ``var_loss`` for ``val_loss``).
    """
    data = history_dict(history)
    if key in data:
        return data[key]
    reverse = {v: k for k, v in _ALIASES.items()}
    for alias in (_ALIASES.get(key), reverse.get(key)):
        if alias and alias in data:
            return data[alias]
    close = difflib.get_close_matches(key, list(data), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise KeyError(
        f"The training history has no {key!r}. It has: {', '.join(sorted(data))}.{hint} "
        "Validation metrics (val_...) only exist when fit() was given validation_data "
        "or validation_split."
    )


def plot_history(
    history: Any,
    metrics: Sequence[str] = ("loss", "accuracy"),
    title: str | None = None,
) -> plt.Figure:
    """Training against validation curves, one panel per metric.

    ``history`` is what ``model.fit`` returns (or its ``.history`` dict).
    Validation curves are drawn when the history has them. Epochs are
    numbered from 1, as Keras prints them.
    """
    data = history_dict(history)
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        train = history_series(data, metric)
        epochs = np.arange(1, len(train) + 1)
        ax.plot(epochs, train, "o-", ms=3, label=f"training {metric}")
        try:
            val = history_series(data, f"val_{metric}")
        except KeyError:
            val = None
        if val is not None:
            ax.plot(epochs, val, "s--", ms=3, label=f"validation {metric}")
        ax.set_xlabel("epoch")
        _whole_epochs(ax)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _finish(
    fig: plt.Figure,
    ax: plt.Axes,
    xlabel: str,
    ylabel: str,
    title: str | None,
    legend_size: float | None = None,
) -> plt.Figure:
    """Labels, optional title, light grid and legend: the common ending of the curve plots."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=legend_size)
    fig.tight_layout()
    return fig


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    ylabel: str,
    title: str | None = None,
    xlabel: str = "epoch",
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Several named curves on one axis, e.g. validation loss per optimizer."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4))
    else:
        fig = ax.figure
    for name, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, "o-", ms=3, label=name)
    _whole_epochs(ax)  # the x values are counts 1, 2, 3, ...
    return _finish(fig, ax, xlabel, ylabel, title)


def plot_runs(
    runs: Mapping[str, Sequence[Sequence[float]]],
    ylabel: str,
    title: str | None = None,
    xlabel: str = "epoch",
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Repeated runs per name (e.g. one curve per seed): the mean as a line, min-max shaded.

    ``runs`` maps a name to a list of curves of equal length, e.g.
    ``{"Adam": [seed_1_curve, seed_2_curve, seed_3_curve]}``.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4))
    else:
        fig = ax.figure
    for name, curves in runs.items():
        try:
            values = np.asarray(curves, dtype=float)
        except ValueError:  # NumPy refuses ragged lists: curves of different lengths
            raise ValueError(
                f"plot_runs() needs a list of equally long curves for {name!r}, one per run; "
                f"got curves of lengths {[len(c) for c in curves]}."
            ) from None
        if values.ndim != 2 or len(values) == 0:
            raise ValueError(
                f"plot_runs() needs a list of equally long curves for {name!r}, one per run; "
                f"got an array of shape {values.shape}."
            )
        epochs = np.arange(1, values.shape[1] + 1)
        (line,) = ax.plot(
            epochs, values.mean(axis=0), "o-", ms=3, label=f"{name} (mean of {len(values)})"
        )
        ax.fill_between(
            epochs, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.2, lw=0
        )
    _whole_epochs(ax)
    return _finish(fig, ax, xlabel, ylabel, title, legend_size=8)


def show_images(
    images: np.ndarray,
    labels: Sequence[Any] | None = None,
    class_names: Sequence[str] | None = None,
    predictions: Sequence[int] | None = None,
    probabilities: np.ndarray | None = None,
    ncols: int = 10,
    size: float = 1.3,
) -> plt.Figure:
    """A grid of grayscale images with their labels.

    With ``predictions``, each title reads ``label -> prediction`` and wrong
    predictions are red; with ``probabilities`` (one row of class
    probabilities per image) the predicted class's probability is shown too.
    """
    images = np.asarray(images)
    n = len(images)
    if n == 0:
        raise ValueError("show_images() got no images to show.")
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * 1.25 * nrows), squeeze=False
    )

    def name(k: Any) -> str:
        return str(class_names[int(k)]) if class_names is not None else str(k)

    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray_r")
        if labels is None:
            continue
        title, color = name(labels[i]), "black"
        if predictions is not None:
            title = f"{name(labels[i])} -> {name(predictions[i])}"
            if probabilities is not None:
                title += f"\n{probabilities[i][int(predictions[i])]:.2f}"
            color = "black" if int(predictions[i]) == int(labels[i]) else "red"
        ax.set_title(title, fontsize=8, color=color)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> plt.Figure:
    """Confusion matrix drawn by scikit-learn (rows: true class, columns: predicted)."""
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        display_labels=class_names,
        ax=ax,
        colorbar=False,
        xticks_rotation=45 if class_names is not None else "horizontal",
    )
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_function(
    functions: Mapping[str, Callable[[np.ndarray], np.ndarray]],
    x: np.ndarray | None = None,
    title: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Plot one or more functions of x (activation functions and their derivatives)."""
    if x is None:
        x = np.linspace(-6, 6, 601)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 3.2))
    else:
        fig = ax.figure
    for label, f in functions.items():
        ax.plot(x, f(x), label=label)
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def show_maps(
    maps: np.ndarray,
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    signed: bool = False,
    size: float = 1.2,
    title: str | None = None,
    colorbar: bool = False,
) -> plt.Figure:
    """A grid of 2-D arrays (filters, feature maps), one panel each, shape ``(n, h, w)``.

    ``signed=True`` draws each panel in red (positive) and blue (negative) around
    a white zero, which is how to read a filter's weights; otherwise each panel is
    gray from its own minimum (white) to its maximum (black). ``colorbar=True`` puts
    every panel on one shared scale instead and draws that scale beside the grid, so
    panels can be compared with each other.
    """
    maps = np.asarray(maps, dtype=float)
    if maps.ndim != 3 or len(maps) == 0:
        raise ValueError(
            f"show_maps() needs a stack of 2-D maps, shape (n, height, width); "
            f"got shape {maps.shape}. For Keras channels-last output of one image "
            "use np.moveaxis(fmap[0], -1, 0)."
        )
    if titles is not None and len(titles) != len(maps):
        raise ValueError(f"show_maps() got {len(titles)} titles for {len(maps)} maps.")
    n = len(maps)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + 0.3 * bool(title)), squeeze=False
    )
    image = None
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        panel = maps if colorbar else maps[i]  # the values that set this panel's scale
        if signed:
            limit = max(float(np.abs(panel).max()), 1e-12)
            image = ax.imshow(maps[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
        else:
            image = ax.imshow(maps[i], cmap="gray_r", vmin=panel.min(), vmax=panel.max())
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    if title:
        fig.suptitle(title)
    if colorbar:
        fig.tight_layout(rect=(0, 0, 0.9, 1))
        fig.colorbar(image, cax=fig.add_axes((0.92, 0.15, 0.015, 0.7)))
    else:
        fig.tight_layout()
    return fig


def plot_lines(
    x: Sequence[float],
    curves: Mapping[str, Sequence[float]],
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Several named curves over the same ``x`` values (e.g. accuracy against a shift)."""
    x = np.asarray(x, dtype=float)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.8))
    else:
        fig = ax.figure
    for name, values in curves.items():
        if len(values) != len(x):
            raise ValueError(
                f"plot_lines(): {name!r} has {len(values)} values for {len(x)} x values."
            )
        ax.plot(x, values, "o-", ms=4, label=name)
    ax.set_xticks(x)
    return _finish(fig, ax, xlabel, ylabel, title)
