"""The feedback engine of the exercise checks (the chapters' checks live in chNN.py).

Every check returns a :class:`Feedback`: it shows as one line in the notebook
(``[ok] ...`` or ``[try again] ...``) and says *what* is wrong - which input
gave which value, what was expected - not only that something is wrong.
Unfinished exercises (``None`` or ``...`` left in place, or a function that
raises ``NotImplementedError``) get a gentle "not attempted yet" instead of a
traceback, so a notebook with open exercises still runs top to bottom.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Feedback", "SolutionError", "check_function", "check_value", "check_choice", "confirm"]


@dataclass(frozen=True)
class Feedback:
    """The result of a check: ``ok`` and a message for the learner."""

    ok: bool
    message: str
    attempted: bool = True

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        if not self.attempted:
            return f"[not attempted yet] {self.message}"
        return f"[ok] {self.message}" if self.ok else f"[try again] {self.message}"


class SolutionError(AssertionError):
    """A solution cell whose own check fails: the course itself is wrong."""


def confirm(feedback: Feedback) -> None:
    """Run a solution's check without giving the answer away.

    Solution cells end with ``checks.confirm(checks.check_...(answer))``. On
    success it prints one line that says the solution passes and shows no
    values, so a learner scrolling past the solutions learns nothing from the
    output. On failure it raises, so CI turns red when a solution breaks.
    """
    if not isinstance(feedback, Feedback):
        raise TypeError(
            f"confirm() takes the result of a check_... function, got a "
            f"{type(feedback).__name__}. Write checks.confirm(checks.check_xxx(answer))."
        )
    if not feedback.ok:
        raise SolutionError(f"This solution does not pass its own check: {feedback!r}")
    print("[solution] passes its check.")


def _not_attempted(name: str) -> Feedback:
    return Feedback(False, f"Fill in `{name}` above, run that cell, then run this one.", False)


def _is_placeholder(answer: Any) -> bool:
    return answer is None or answer is Ellipsis


def _call_learner(
    fn: Any, name: str, *args: Any, explain: Callable[[Exception], str | None] | None = None
) -> tuple[Any, Feedback | None]:
    """Call the learner's function safely: ``(result, None)`` or ``(None, feedback)``.

    Unfinished code (``None``, ``...``, ``raise NotImplementedError``) is "not
    attempted yet"; any other exception, or a missing ``return``, becomes
    feedback instead of a traceback. ``explain`` may turn a known exception into
    a more specific message.
    """
    if _is_placeholder(fn):
        return None, _not_attempted(name)
    if not callable(fn):
        return None, Feedback(False, f"`{name}` should be a function, but it is a "
                                     f"{type(fn).__name__}.")
    try:
        result = fn(*args)
    except NotImplementedError:
        return None, _not_attempted(name)
    except Exception as err:  # the learner's code: report, never crash the notebook
        message = explain(err) if explain else None
        return None, Feedback(False, message or f"`{name}` raised {type(err).__name__}: {err}")
    if _is_placeholder(result):
        return None, Feedback(False, f"`{name}` returned {result!r}: did you forget `return`?")
    return result, None


def check_function(
    fn: Callable[[np.ndarray], Any] | None,
    reference: Callable[[np.ndarray], np.ndarray],
    inputs: Sequence[float] | np.ndarray,
    name: str,
    atol: float = 1e-6,
    hint: str = "",
) -> Feedback:
    """Compare ``fn`` with ``reference`` on ``inputs`` (as one NumPy array).

    The message names the first input where they disagree, with both values.
    """
    x = np.asarray(inputs, dtype=float)
    expected = np.asarray(reference(x), dtype=float)
    got, problem = _call_learner(fn, name, x.copy(), explain=lambda err: (
        f"`{name}` raised {type(err).__name__}: {err}. It is called with a NumPy array such "
        f"as {x[:3]!r}..."))
    if problem is not None:
        return problem
    got = np.asarray(got, dtype=float)
    if got.shape != expected.shape:
        return Feedback(False, f"`{name}` returned shape {got.shape} for an input of shape "
                               f"{x.shape}; it should work element by element and return "
                               f"shape {expected.shape}. {hint}".strip())
    wrong = ~np.isclose(got, expected, atol=atol, rtol=1e-5)
    if wrong.any():
        i = int(np.flatnonzero(wrong.ravel())[0])
        return Feedback(False, f"`{name}({x.ravel()[i]:g})` gave {got.ravel()[i]:.6g}, "
                               f"expected {expected.ravel()[i]:.6g} ({int(wrong.sum())} of "
                               f"{wrong.size} test inputs are off). {hint}".strip())
    return Feedback(True, f"`{name}` matches the reference on all {x.size} test inputs.")


def check_value(
    answer: Any,
    expected: float | Sequence[float] | np.ndarray,
    name: str,
    atol: float = 1e-4,
    hints: dict[str, Callable[[np.ndarray], bool]] | None = None,
) -> Feedback:
    """Compare a number (or array) with the expected one.

    ``hints`` maps a message to a test on the answer, to recognise common
    mistakes (a sign error, a missing factor) and say which one it is.
    """
    if _is_placeholder(answer):
        return _not_attempted(name)
    try:
        got = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return Feedback(False, f"`{name}` should be a number, got {answer!r}.")
    want = np.asarray(expected, dtype=float)
    if got.shape != want.shape:
        return Feedback(False, f"`{name}` has shape {got.shape}, expected {want.shape}.")
    if np.allclose(got, want, atol=atol, rtol=1e-4):
        return Feedback(True, f"`{name}` = {np.round(got, 4).tolist()} is right.")
    for message, test in (hints or {}).items():
        if test(got):
            return Feedback(False, f"`{name}` = {np.round(got, 4).tolist()}: {message}")
    return Feedback(False, f"`{name}` = {np.round(got, 4).tolist()} is not right yet; "
                           "recompute it step by step from the cells above.")


def check_choice(answer: Any, correct: Any, name: str, explanations: dict[Any, str]) -> Feedback:
    """A multiple-choice answer, with an explanation for each wrong choice."""
    if _is_placeholder(answer):
        return _not_attempted(name)
    if answer == correct:
        return Feedback(True, f"`{name}` = {answer!r}. {explanations.get(correct, '')}".strip())
    why = explanations.get(answer, f"{answer!r} is not one of the choices.")
    return Feedback(False, f"`{name}` = {answer!r}: {why}")


# Inputs on which the learners' activation functions are compared with the reference.
_TEST_INPUTS = np.array([-3.0, -1.5, -0.2, 0.0, 0.1, 0.7, 2.0, 5.0])


def _activation(name: str):
    from helpers.widgets import ACTIVATIONS

    return ACTIVATIONS[name]
