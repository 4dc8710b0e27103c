"""helpers.plotting: history keys (acc/accuracy, typos), and that each plot draws."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import plotting  # noqa: E402

NEW = {
    "loss": [1.0, 0.5],
    "accuracy": [0.5, 0.8],
    "val_loss": [1.1, 0.7],
    "val_accuracy": [0.4, 0.7],
}
OLD = {"loss": [1.0, 0.5], "acc": [0.5, 0.8], "val_loss": [1.1, 0.7], "val_acc": [0.4, 0.7]}


class FakeHistory:
    def __init__(self, history):
        self.history = history


@pytest.mark.parametrize("data", [NEW, OLD])
@pytest.mark.parametrize("key", ["acc", "accuracy"])
def test_either_accuracy_spelling_works(data, key):
    assert plotting.history_series(FakeHistory(data), key) == [0.5, 0.8]
    assert plotting.history_series(data, "val_" + key) == [0.4, 0.7]


def test_typo_lists_the_keys_and_suggests_the_fix():
    with pytest.raises(KeyError) as info:
        plotting.history_series(NEW, "var_loss")
    message = str(info.value)
    assert "has no 'var_loss'" in message
    assert "accuracy, loss, val_accuracy, val_loss" in message
    assert "Did you mean 'val_loss'?" in message


def test_plot_history_rejects_non_histories():
    with pytest.raises(TypeError, match="History object"):
        plotting.plot_history([0.1, 0.2])


@pytest.mark.parametrize("data", [NEW, OLD])
def test_plot_history_draws_train_and_validation(data):
    fig = plotting.plot_history(FakeHistory(data))
    assert len(fig.axes) == 2
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_xdata(), [1, 2])
    plt.close(fig)


def test_plot_history_without_validation():
    fig = plotting.plot_history({"loss": [3, 2, 1]}, metrics=["loss"])
    assert len(fig.axes[0].lines) == 1
    plt.close(fig)


def test_show_images_marks_wrong_predictions_red():
    images = np.zeros((3, 28, 28))
    fig = plotting.show_images(
        images, labels=[1, 2, 3], predictions=[1, 0, 3], probabilities=np.eye(4)[[1, 0, 3]], ncols=3
    )
    titles = [ax.title for ax in fig.axes]
    assert titles[0].get_text() == "1 -> 1\n1.00"
    assert matplotlib.colors.to_hex(titles[1].get_color()) == "#ff0000"
    with pytest.raises(ValueError, match="no images"):
        plotting.show_images(np.zeros((0, 28, 28)))
    plt.close("all")


def test_confusion_matrix_and_functions_and_curves():
    fig = plotting.plot_confusion_matrix([0, 1, 1], [0, 1, 0], class_names=["a", "b"])
    assert fig.axes[0].get_xlabel() == "Predicted label"
    fig = plotting.plot_function({"relu": lambda x: np.maximum(x, 0)})
    assert fig.axes[0].lines[0].get_ydata().min() == 0
    fig = plotting.plot_curves({"sgd": [1, 0.5], "adam": [0.8, 0.3]}, ylabel="val loss")
    assert len(fig.axes[0].lines) == 2
    plt.close("all")


def test_markdown_table():
    assert plotting.markdown_table(["a", "b"], [(1, "x"), (2.5, "y")], align="lr") == (
        "| a | b |\n|---|---:|\n| 1 | x |\n| 2.5 | y |"
    )
    assert plotting.markdown_table(["a"], []) == "| a |\n|---|"
    with pytest.raises(ValueError, match="2 cells for 1 columns"):
        plotting.markdown_table(["a"], [(1, 2)])
    with pytest.raises(ValueError, match="one 'l' or 'r' per column"):
        plotting.markdown_table(["a", "b"], [], align="c")


def test_show_maps_draws_a_grid_and_rejects_wrong_shapes():
    maps = np.random.default_rng(0).normal(size=(5, 3, 3))
    fig = plotting.show_maps(maps, titles=list("abcde"), ncols=4, signed=True, title="filters")
    assert len(fig.axes) == 8 and fig.axes[0].get_title() == "a"
    assert fig.axes[0].images[0].get_cmap().name == "RdBu_r"
    limit = np.abs(maps[0]).max()
    assert fig.axes[0].images[0].get_clim() == pytest.approx((-limit, limit))
    plt.close(fig)
    fig = plotting.show_maps(maps[:2])
    assert fig.axes[0].images[0].get_cmap().name == "gray_r"
    plt.close(fig)
    with pytest.raises(ValueError, match=r"shape \(n, height, width\)"):
        plotting.show_maps(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="2 titles for 5 maps"):
        plotting.show_maps(maps, titles=["a", "b"])


def test_show_maps_colorbar_puts_every_panel_on_one_scale():
    maps = np.stack([np.full((3, 3), 1.0), np.full((3, 3), -4.0), np.eye(3)])
    fig = plotting.show_maps(maps, signed=True, colorbar=True)
    panels, bar = fig.axes[:3], fig.axes[-1]
    assert len(fig.axes) == 4  # three panels and the colour bar
    assert all(ax.images[0].get_clim() == pytest.approx((-4, 4)) for ax in panels)
    assert bar.get_ylim() == pytest.approx((-4, 4))
    plt.close(fig)
    fig = plotting.show_maps(maps, colorbar=True)
    assert all(ax.images[0].get_clim() == pytest.approx((-4, 1)) for ax in fig.axes[:3])
    plt.close(fig)


def test_plot_lines():
    fig = plotting.plot_lines(
        [0, 1, 2],
        {"cnn": [0.9, 0.85, 0.8], "mlp": [0.88, 0.7, 0.5]},
        xlabel="shift",
        ylabel="accuracy",
        title="t",
    )
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and list(ax.lines[0].get_xdata()) == [0, 1, 2]
    plt.close(fig)
    with pytest.raises(ValueError, match="'cnn' has 2 values for 3 x values"):
        plotting.plot_lines([0, 1, 2], {"cnn": [0.9, 0.8]}, xlabel="x", ylabel="y")


def test_plot_runs_draws_the_mean_and_shades_the_spread():
    runs = {"Adam": [[1.0, 0.5, 0.3], [1.2, 0.7, 0.1]], "SGD": [[1.0, 0.9, 0.8]]}
    fig = plotting.plot_runs(runs, ylabel="loss", title="t")
    ax = fig.axes[0]
    adam = next(line for line in ax.get_lines() if line.get_label().startswith("Adam"))
    assert adam.get_label() == "Adam (mean of 2)"
    np.testing.assert_allclose(adam.get_ydata(), [1.1, 0.6, 0.2])
    np.testing.assert_array_equal(adam.get_xdata(), [1, 2, 3])  # epochs count from 1
    assert len(ax.collections) == 2  # one min-max band per name
    plt.close(fig)


def test_plot_runs_refuses_curves_of_different_lengths():
    with pytest.raises(ValueError, match="equally long curves"):
        plotting.plot_runs({"Adam": [[1.0, 0.5], [1.0]]}, ylabel="loss")


def _visible_ticks(ax):
    low, high = sorted(ax.get_xlim())
    return [t for t in ax.get_xticks() if low <= t <= high]


@pytest.mark.parametrize(
    "draw",
    [
        lambda: plotting.plot_history({"loss": [0.9, 0.5, 0.4]}, metrics=["loss"]),
        lambda: plotting.plot_curves({"adam": [0.9, 0.5, 0.4], "sgd": [1.0, 0.8]}, ylabel="loss"),
        lambda: plotting.plot_runs({"adam": [[0.9, 0.5, 0.4], [1.0, 0.6, 0.3]]}, ylabel="loss"),
    ],
    ids=["plot_history", "plot_curves", "plot_runs"],
)
def test_epoch_axes_tick_only_whole_epochs(draw):
    # Three epochs on matplotlib's default locator give ticks at 1.25, 1.5, ...: no such epochs.
    fig = draw()
    fig.canvas.draw()
    ticks = _visible_ticks(fig.axes[0])
    assert len(ticks) >= 2
    assert all(float(t).is_integer() for t in ticks), ticks
    plt.close(fig)
