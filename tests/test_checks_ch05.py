"""Chapter 5's exercise checks: specific feedback for wrong answers; right ones pass."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import checks


def test_callbacks_solution_and_mistakes(tmp_path):
    keras = pytest.importorskip("keras")
    path = str(tmp_path / "best.keras")

    def ckpt(**kw):
        return keras.callbacks.ModelCheckpoint(
            path, save_best_only=kw.get("best", True), monitor=kw.get("monitor", "val_loss")
        )

    def stop(**kw):
        return keras.callbacks.EarlyStopping(
            patience=kw.get("patience", 2),
            restore_best_weights=kw.get("restore", True),
            monitor=kw.get("monitor", "val_loss"),
        )

    assert checks.check_callbacks([ckpt(), stop()]).ok
    cases = [
        ([stop()], "no keras.callbacks.ModelCheckpoint"),
        ([ckpt()], "no keras.callbacks.EarlyStopping"),
        ([ckpt(best=False), stop()], "save_best_only=True"),
        ([ckpt(), stop(restore=False)], "restore_best_weights=True"),
        ([ckpt(), stop(monitor="loss")], "measured on the training images"),
        ([ckpt(monitor="val_accuracy"), stop()], "a validation metric too, and a fair choice"),
        ([ckpt(monitor="val_ce"), stop()], "'val_ce', a validation number"),
        ([ckpt(), stop(patience=5)], "patience=5"),
        (ckpt(), "should be a list"),
    ]
    for attempt, expected in cases:
        feedback = checks.check_callbacks(attempt)
        assert not feedback.ok and expected in feedback.message, (expected, feedback)


def test_dropout_and_format_choices():
    assert checks.check_dropout_values("0 and 2").ok
    assert "scaled up" in checks.check_dropout_values("0 and 1").message
    assert checks.check_saved_format(".keras").ok
    assert "not the architecture" in checks.check_saved_format(".weights.h5").message


def test_callbacks_h5_checkpoint_is_steered_to_keras(tmp_path):
    keras = pytest.importorskip("keras")
    callbacks = [
        keras.callbacks.ModelCheckpoint(str(tmp_path / "best.h5"), save_best_only=True),
        keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True),
    ]
    feedback = checks.check_callbacks(callbacks)
    assert not feedback.ok and "should end in .keras" in feedback.message


def test_fair_metric_accepts_val_ce_and_explains_the_two_unfair_ones():
    assert checks.check_fair_metric("val_ce").ok
    assert checks.check_fair_metric(" 'VAL_CE' ").ok  # case, spaces and quotes do not matter
    val_loss = checks.check_fair_metric("val_loss")
    assert not val_loss.ok and "penalty" in val_loss.message
    loss = checks.check_fair_metric("loss")
    assert not loss.ok and "training images" in loss.message
    assert not checks.check_fair_metric(None).ok


def test_saved_format_explains_when_the_optimizer_state_is_skipped():
    message = checks.check_saved_format(".weights.h5").message
    assert "uncompiled model skips it silently" in message
    assert "Skipping variable loading" in message


@pytest.mark.parametrize("which", ["EarlyStopping", "ModelCheckpoint"])
def test_callbacks_refuse_mode_max_on_a_loss(tmp_path, which):
    keras = pytest.importorskip("keras")
    modes = {"EarlyStopping": "auto", "ModelCheckpoint": "auto", which: "max"}
    callbacks = [
        keras.callbacks.ModelCheckpoint(
            str(tmp_path / "best.keras"),
            monitor="val_loss",
            save_best_only=True,
            mode=modes["ModelCheckpoint"],
        ),
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=2, restore_best_weights=True, mode=modes["EarlyStopping"]
        ),
    ]
    feedback = checks.check_callbacks(callbacks)
    assert not feedback.ok and f"{which} has mode='max'" in feedback.message
    callbacks[0 if which == "ModelCheckpoint" else 1].mode = "min"
    assert checks.check_callbacks(callbacks).ok


def test_callbacks_val_accuracy_feedback_gives_the_trade_off(tmp_path):
    """Not "so the validation set decides" (it already does): loss vs accuracy."""
    keras = pytest.importorskip("keras")
    callbacks = [
        keras.callbacks.ModelCheckpoint(
            str(tmp_path / "best.keras"), monitor="val_accuracy", save_best_only=True
        ),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
    ]
    message = checks.check_callbacks(callbacks).message
    assert "smoothly" in message and "confident" in message and "report" in message
    assert "validation set, not the training set" not in message


@pytest.mark.parametrize(
    "written", [[0, 2], (2, 0), {0, 2}, "0, 2", "2 and 0", "0 & 2", "[0, 2]", "np.array([0., 2.])"]
)
def test_dropout_values_are_read_in_any_order_and_form(written):
    feedback = checks.check_dropout_values(written)
    assert feedback.ok and "read" in feedback.message, feedback


def test_dropout_values_and_saved_format_read_arrays_without_a_traceback():
    assert checks.check_dropout_values(np.array([0.0, 2.0])).ok
    assert "scaled up" in checks.check_dropout_values(np.array([0.0, 1.0, 1.0])).message
    assert "not one of the choices" in checks.check_dropout_values(np.zeros((2, 2, 0))).message
    for written in (np.array([".keras"]), ["model.keras"], "keras", "*.KERAS"):
        assert checks.check_saved_format(written).ok, written
    assert "not the architecture" in checks.check_saved_format("best.weights.h5").message


def test_callbacks_given_as_classes_are_told_to_call_them():
    keras = pytest.importorskip("keras")
    classes = [keras.callbacks.ModelCheckpoint, keras.callbacks.EarlyStopping]
    feedback = checks.check_callbacks(classes)
    assert not feedback.ok and "ModelCheckpoint and EarlyStopping themselves" in feedback.message
    assert "call each class" in feedback.message
    alone = checks.check_callbacks(keras.callbacks.EarlyStopping)
    assert not alone.ok and "call each class" in alone.message, alone
