"""Chapter 5 exercises: Fashion-MNIST, dropout and callbacks."""

from __future__ import annotations

from typing import Any

from helpers.checks.engine import Feedback, check_choice, exercise, kind

__all__ = ["check_callbacks", "check_dropout_values", "check_saved_format", "check_fair_metric"]


@exercise("05", answer="callbacks")
def check_callbacks(callbacks: Any) -> Feedback:
    """Ex. 5.1: a checkpoint of the best model and early stopping that restores it."""
    name = "callbacks"
    import keras

    if isinstance(callbacks, type):
        return Feedback(
            False,
            f"`{name}` is the class {callbacks.__name__} itself: call each class with its "
            "settings to make a callback, and put the callbacks in a list: "
            "[keras.callbacks.ModelCheckpoint(...), keras.callbacks.EarlyStopping(...)].",
        )
    if not isinstance(callbacks, (list, tuple)):
        return Feedback(False, f"`{name}` should be a list of callbacks, got {kind(callbacks)}.")
    classes = [c.__name__ for c in callbacks if isinstance(c, type)]
    if classes:
        return Feedback(
            False,
            f"the list holds the class{'es' * (len(classes) > 1)} {' and '.join(classes)} "
            f"{'themselves' if len(classes) > 1 else 'itself'}, not callbacks: call each class "
            "with its settings to make one, e.g. "
            "keras.callbacks.EarlyStopping(monitor=..., patience=...), and put those in the list.",
        )
    checkpoints = [c for c in callbacks if isinstance(c, keras.callbacks.ModelCheckpoint)]
    stoppers = [c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)]
    if not checkpoints:
        return Feedback(False, "there is no keras.callbacks.ModelCheckpoint in the list.")
    if not stoppers:
        return Feedback(False, "there is no keras.callbacks.EarlyStopping in the list.")
    ckpt, stop = checkpoints[0], stoppers[0]
    if not str(ckpt.filepath).endswith(".keras"):
        return Feedback(
            False,
            f"the checkpoint path {ckpt.filepath!r} should end in .keras: "
            "the native format, which keeps the optimizer state (.h5 is "
            "legacy, and chapter 3 shows how it can swap the optimizer).",
        )
    if not ckpt.save_best_only:
        return Feedback(
            False,
            "the checkpoint saves every epoch; pass save_best_only=True to keep only the best one.",
        )
    for cb, label in ((ckpt, "ModelCheckpoint"), (stop, "EarlyStopping")):
        if cb.monitor == "val_accuracy":
            return Feedback(
                False,
                f"{label} watches 'val_accuracy', a validation metric too, and a fair "
                "choice; this exercise asks for 'val_loss'. The loss moves more smoothly "
                "from epoch to epoch and also sees how confident the predictions are, "
                "while accuracy is what you report in the end.",
            )
        if cb.monitor != "val_loss" and str(cb.monitor).startswith("val_"):
            return Feedback(
                False,
                f"{label} watches {cb.monitor!r}, a validation number; this exercise asks "
                "for 'val_loss', the loss the model is trained on, measured on the "
                "validation images.",
            )
        if cb.monitor != "val_loss":
            return Feedback(
                False,
                f"{label} watches {cb.monitor!r}, a number measured on the training "
                "images: it keeps improving while the model overfits, so it cannot tell "
                "the best epoch. Watch 'val_loss', measured on the held-out validation "
                "images.",
            )
        if getattr(cb, "mode", "auto") == "max":
            return Feedback(
                False,
                f"{label} has mode='max', so it counts a *rising* val_loss as "
                "an improvement: a loss should go down. Leave mode='auto' "
                "(Keras sees 'loss' in the name) or pass mode='min'.",
            )
    if stop.patience != 2:
        return Feedback(
            False,
            f"EarlyStopping has patience={stop.patience}; the exercise asks "
            "for 2 epochs without improvement.",
        )
    if not stop.restore_best_weights:
        return Feedback(
            False,
            "EarlyStopping stops, but keeps the weights of the *last* epoch; "
            "pass restore_best_weights=True.",
        )
    return Feedback(
        True,
        "a best-only .keras checkpoint and early stopping (patience 2) that "
        "restores the best weights, both watching val_loss.",
    )


@exercise("05")
def check_dropout_values(answer: Any) -> Feedback:
    """Ex. 5.2: values of Dropout(0.5) applied to ones, in training."""
    return check_choice(
        answer,
        "0 and 2",
        "answer_dropout",
        {
            (
                "0 and 2"
            ): "Dropped units give 0; the kept ones are divided by (1 - 0.5), so the average "
            "output stays 1, as it is at inference.",
            (
                "0 and 1"
            ): "the kept units are scaled up by 1 / (1 - rate) during training, so that the "
            "expected output equals the inference output.",
            "0.5 only": "dropout does not multiply everything by 0.5; it zeroes some units and "
            "scales up the rest.",
            "1 only": "that is what happens at inference (training=False), not in training.",
        },
    )


@exercise("05")
def check_saved_format(answer: Any) -> Feedback:
    """Ex. 5.3: which file lets you resume training where you left off."""
    return check_choice(
        answer,
        ".keras",
        "answer_format",
        {
            (
                ".keras"
            ): "The .keras file holds the architecture, the weights and the optimizer state.",
            ".weights.h5": "a .weights.h5 file holds variables but not the architecture or the "
            "compile settings: you must rebuild and compile the same model in code "
            "first. Even then the optimizer's state comes back only into an "
            "optimizer that is already built: an uncompiled model skips it "
            "silently, and a compiled one whose optimizer is not built yet warns "
            "('Skipping variable loading for optimizer') and skips it.",
        },
    )


@exercise("05")
def check_fair_metric(answer: Any) -> Feedback:
    """Ex. 5.5: which number compares a model with an L2 penalty and one without."""
    return check_choice(
        answer,
        "val_ce",
        "answer_metric",
        {
            "val_ce": "The plain cross-entropy on the validation set measures the same thing for "
            "both models; Keras adds the L2 penalty to `loss` and `val_loss` of the "
            "regularised model only.",
            "val_loss": "for the model with kernel_regularizer, Keras adds the L2 penalty "
            "(lambda times the sum of squared weights) to val_loss too, so its val_loss "
            "is higher even when its predictions are just as good. Compare a metric "
            "both models compute the same way.",
            "loss": "that is measured on the training images (with dropout active and, for the L2 "
            "model, the penalty added): it says how well a model fits, not how well it "
            "generalises.",
        },
    )
