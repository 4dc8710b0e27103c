"""Claim checks that stay about the lesson's own run.

A chapter's check cell asserts what the text claims about *its* run: "plain SGD ends above
Adam", "the CNN leads the MLP". An exercise then invites the learner to change that run
(another learning rate, more filters), and the same claim may no longer hold, which is the
point of the experiment, not a bug. So a check cell names the settings its claim is about:

    with claims.about_the_lesson(setup, LESSON_SETUP):
        assert ...

With the lesson's settings the asserts stand as they are (CI runs them). With other settings
the check still runs, and says so; if a claim fails there, it prints what was changed and why
the check does not apply, instead of an ``AssertionError`` that looks like the learner broke
the notebook.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager


def changes(setup: Mapping[str, object], lesson: Mapping[str, object]) -> list[str]:
    """``"name: lesson's value -> yours"`` for every setting that differs, in the lesson's
    order (settings only one side has come last)."""
    names = [*lesson, *(name for name in setup if name not in lesson)]
    return [
        f"{name}: {lesson.get(name, 'not set')!r} -> {setup.get(name, 'not set')!r}"
        for name in names
        if setup.get(name, "not set") != lesson.get(name, "not set")
    ]


@contextmanager
def about_the_lesson(setup: Mapping[str, object], lesson: Mapping[str, object]) -> Iterator[None]:
    """Run a claim check's asserts; when ``setup`` is not ``lesson``, a failed assert becomes
    a printed note that the claim is about the lesson's run (any other error still raises)."""
    changed = changes(setup, lesson)
    if not changed:
        yield
        return
    listed = "; ".join(changed)
    try:
        yield
    except AssertionError:
        print(
            f"You changed the lesson's setup ({listed}). This check is about the lesson's run, "
            "and its claim did not hold with yours: that is what your experiment found, not "
            "an error. To check the lesson's claim again, undo the change (keep experiments in "
            "a new cell) and run the cells from the setting onwards."
        )
    else:
        print(f"You changed the lesson's setup ({listed}); the lesson's claims held with yours.")


def optimizer_setting(optimizer: object) -> str:
    """A Keras optimizer as a short, readable setting: ``"SGD(0.01, momentum=0.9)"``."""
    config = getattr(optimizer, "get_config", dict)()
    rate = config.get("learning_rate")
    parts = [f"{rate:g}" if isinstance(rate, int | float) else repr(rate)]
    if config.get("momentum"):
        parts.append(f"momentum={config['momentum']:g}")
    if config.get("nesterov"):
        parts.append("nesterov=True")
    return f"{type(optimizer).__name__}({', '.join(parts)})"
