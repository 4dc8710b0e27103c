"""helpers.claims: a claim check stands on the lesson's run and explains itself on another."""

from __future__ import annotations

import keras
import pytest

from helpers import claims

LESSON = {"optimizer": "SGD(0.01)", "epochs": 6}


def test_the_lessons_own_run_keeps_its_asserts(capsys):
    with pytest.raises(AssertionError, match="the claim"):
        with claims.about_the_lesson(dict(LESSON), LESSON):
            raise AssertionError("the claim")
    with claims.about_the_lesson(dict(LESSON), LESSON):
        pass
    assert capsys.readouterr().out == "", "nothing extra is printed on the lesson's run"


def test_a_changed_run_is_told_so_instead_of_failing(capsys):
    yours = {"optimizer": "SGD(0.1)", "epochs": 6}
    with claims.about_the_lesson(yours, LESSON):
        raise AssertionError("the claim")
    out = capsys.readouterr().out
    assert "You changed the lesson's setup (optimizer: 'SGD(0.01)' -> 'SGD(0.1)')" in out
    assert "about the lesson's run" in out and "new cell" in out
    with claims.about_the_lesson(yours, LESSON):
        pass
    assert "claims held with yours" in capsys.readouterr().out


def test_other_errors_are_not_hidden():
    with pytest.raises(NameError):
        with claims.about_the_lesson({"epochs": 7}, LESSON):
            raise NameError("a typo is still a typo")


def test_changes_lists_every_difference_in_the_lessons_order():
    found = claims.changes({"epochs": 9, "extra": 1}, LESSON)
    assert found == [
        "optimizer: 'SGD(0.01)' -> 'not set'",
        "epochs: 6 -> 9",
        "extra: 'not set' -> 1",
    ]
    assert claims.changes(dict(LESSON), LESSON) == []


def test_optimizer_settings_read_as_the_lesson_writes_them():
    assert claims.optimizer_setting(keras.optimizers.SGD(learning_rate=0.01)) == "SGD(0.01)"
    momentum = keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True)
    assert claims.optimizer_setting(momentum) == "SGD(0.01, momentum=0.9, nesterov=True)"
    assert claims.optimizer_setting(keras.optimizers.Adam(learning_rate=0.001)) == "Adam(0.001)"
    assert claims.optimizer_setting(keras.optimizers.RMSprop(0.001)) == "RMSprop(0.001)"
    assert claims.optimizer_setting(object()) == "object(None)"
