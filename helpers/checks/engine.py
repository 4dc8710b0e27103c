"""The engine of the exercise checks: what a chapter's checks (chNN.py) are written with.

- :class:`Feedback`, what every check returns, and :func:`confirm` for solution cells;
- :func:`exercise`, the decorator every public check wears: "not attempted yet" for an
  answer left as ``None`` or ``...``, and one line in the learner's progress log;
- :func:`check_value`, :func:`check_choice`, :func:`check_function`: the common kinds;
- :func:`call_learner`, :func:`is_placeholder`, :func:`not_attempted`, :func:`as_numbers`,
  :func:`shown`, :func:`kind`, :func:`match_choice`, :func:`read_loss` and
  :data:`TEST_INPUTS`, to write a new kind (the readers live in :mod:`.reading`).

Every check returns a :class:`Feedback`: it shows as one line in the notebook
(``[ok] ...`` or ``[try again] ...``) and says *what* is wrong - which input
gave which value, what was expected - not only that something is wrong.
Unfinished exercises (``None`` or ``...`` left in place, or a function that
raises ``NotImplementedError``) get a gentle "not attempted yet" instead of a
traceback, so a notebook with open exercises still runs top to bottom. The contract every
check keeps is written down in ``helpers/checks/README.md``; should a check still fail on an
answer nobody foresaw, :func:`exercise` answers with "the check itself failed" instead of a
traceback.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from helpers import progress  # a leaf: it never imports the checks back
from helpers.checks.reading import (
    as_numbers,
    decimals_written,
    kind,
    match_choice,
    needed_decimals,
    read_loss,
    read_numbers,
    rounded_fairly,
    rounding_or_percentage,
    show_numbers,
    shown,
)

__all__ = [
    "Feedback",
    "SolutionError",
    "check_function",
    "check_value",
    "check_choice",
    "confirm",
    "exercise",
    "CHECKS_BY_CHAPTER",
    "call_learner",
    "is_placeholder",
    "not_attempted",
    "match_choice",
    "read_loss",
    "as_numbers",
    "shown",
    "kind",
    "CHECK_FAILED",
    "error_text",
    "TEST_INPUTS",
]


@dataclass(frozen=True)
class Feedback:
    """The result of a check: ``ok`` and a message for the learner."""

    ok: bool
    message: str
    attempted: bool = True
    # The progress-log id of the call that produced this feedback ('' when not logged):
    # confirm() uses it to mark that call as a solution run.
    event: str = field(default="", compare=False, repr=False)

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
    progress.log_solution(feedback.event)  # the course's solution is not the learner's work
    if not feedback.ok:
        raise SolutionError(f"This solution does not pass its own check: {feedback!r}")
    print("[solution] passes its check.")


# Every public check, by chapter ("01": ["check_relu", ...]), for the progress report.
CHECKS_BY_CHAPTER: dict[str, list[str]] = {}
# How the safety net of :func:`exercise` starts its answer (the contract test looks for it).
CHECK_FAILED = "the check itself failed"


def exercise(chapter: str, answer: str | None = None) -> Callable[[Callable], Callable]:
    """Make a function one of ``chapter``'s public exercise checks.

    ``chapter`` is the number ("05") of the chapter whose registry entry
    (:mod:`helpers.chapters`) names this module as its ``checks``; the progress log files the
    call under it, and ``tests/test_chapters.py`` fails if the two disagree.

    With ``answer`` (the name of the learner's variable), a first argument still left
    as ``None`` or ``...`` gets :func:`not_attempted` without running the check. Every
    call's feedback goes to the learner's progress log (:mod:`helpers.progress`, which
    never raises), and carries the log line's id, which :func:`confirm` marks as a
    solution run.
    """

    def decorate(check: Callable[..., Feedback]) -> Callable[..., Feedback]:
        CHECKS_BY_CHAPTER.setdefault(chapter, []).append(check.__name__)

        @functools.wraps(check)
        def checked(*args: Any, **kwargs: Any) -> Feedback:
            first = args[0] if args else next(iter(kwargs.values()), None)
            if answer is not None and is_placeholder(first):
                feedback = not_attempted(answer)
            else:
                try:
                    feedback = check(*args, **kwargs)
                except Exception as err:  # a bug of the course's, never the learner's traceback
                    feedback = Feedback(
                        False,
                        f"{CHECK_FAILED} on this answer ({error_text(err)}), so it cannot tell "
                        "whether the answer is right. That is a bug in the course, not in your "
                        "answer: please report it with the answer you gave.",
                    )
            if isinstance(feedback, Feedback):
                event = progress.log_check(chapter, check.__name__, feedback)
                feedback = dataclasses.replace(feedback, event=event)
            return feedback

        return checked

    return decorate


def not_attempted(name: str) -> Feedback:
    return Feedback(
        False, f"Fill in `{name}` where the cell says so, then run the cell again.", False
    )


def is_placeholder(answer: Any) -> bool:
    return answer is None or answer is Ellipsis


def error_text(err: BaseException) -> str:
    """``"ValueError: the message"`` (just the name when there is no message); never raises."""
    try:
        message = str(err).strip()
    except Exception:  # an exception whose __str__ is broken
        message = ""
    return f"{type(err).__name__}: {message}" if message else type(err).__name__


# Errors whose cause a check can name whatever the exercise (see call_learner).
_SCALAR_ONLY = ("only length-1 arrays", "only 0-dimensional arrays", "only size-1 arrays")
_SCALAR_HINT = (
    "A function of Python's `math` module (math.exp, math.tanh, ...), float() or int() takes "
    "one number, not an array: use NumPy's own, which works element by element (np.exp, "
    "np.tanh, np.sum, np.maximum)."
)
_TRUTH_HINT = (
    "`if`, `and`/`or`, max() or min() need one True or False, but a comparison of an array "
    "gives one per element: work element by element with NumPy instead, e.g. "
    "np.maximum(z, 0) or np.where(z > 0, z, 0)."
)


def _known_error(err: Exception, called_directly: bool, name: str, n_args: int) -> str:
    """What an error means whatever the exercise, or '' when it does not say."""
    text = error_text(err)
    if isinstance(err, TypeError) and any(words in text for words in _SCALAR_ONLY):
        return _SCALAR_HINT
    if isinstance(err, ValueError) and "truth value of an array" in text:
        return _TRUTH_HINT
    if isinstance(err, TypeError) and called_directly and "argument" in text:
        return f"The check calls `{name}` with {n_args} argument{'s' * (n_args != 1)}."
    return ""


def _class_given(cls: type, name: str) -> str:
    """What to say when a learner passes a class where a function is wanted."""
    if any("__call__" in vars(base) for base in cls.__mro__ if base is not object):
        return (
            f"`{name}` is the class {cls.__name__} itself: call the class to make one, "
            f"{cls.__name__}(...), and pass that instead."
        )
    return f"`{name}` should be a function, but it is {kind(cls)}: write it with `def {name}(...)`."


def call_learner(
    fn: Any,
    name: str,
    *args: Any,
    explain: Callable[[Exception], str | None] | None = None,
    call: str = "",
    context: str = "",
) -> tuple[Any, Feedback | None]:
    """Call the learner's function safely: ``(result, None)`` or ``(None, feedback)``.

    Unfinished code (``None``, ``...``, ``raise NotImplementedError``) is "not
    attempted yet"; a class instead of a function is told to be called; any other
    exception, or a missing ``return``, becomes feedback instead of a traceback, which names
    the exception. ``explain`` may turn a known exception into a more specific message (or
    return ``None``); errors any exercise can meet (``math.exp`` on an array, ``if`` on an
    array, the wrong number of arguments) are named next; ``call`` is how the message names
    the call (``"`f(x of shape (3,))`"``) and ``context`` is added after anything else.
    """
    call = call or f"`{name}`"
    if is_placeholder(fn):
        return None, not_attempted(name)
    if isinstance(fn, type):
        return None, Feedback(False, _class_given(fn, name))
    if not callable(fn):
        return None, Feedback(
            False,
            f"`{name}` should be a function, but it is {kind(fn)}: pass the function itself "
            "(its name, without calling it).",
        )
    try:
        result = fn(*args)
    except NotImplementedError:
        return None, not_attempted(name)
    except Exception as err:  # the learner's code: report, never crash the notebook
        message = None
        if explain is not None:
            try:
                message = explain(err)
            except Exception:  # an explanation must not hide the learner's error
                message = None
        if not message:
            direct = err.__traceback__ is not None and err.__traceback__.tb_next is None
            known = _known_error(err, direct, name, len(args)) or context
            message = f"{call} raised {error_text(err)}." + (f" {known}" if known else "")
        return None, Feedback(False, message)
    if is_placeholder(result):
        return None, Feedback(False, f"{call} returned {result!r}: did you forget `return`?")
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
    got, problem = call_learner(
        fn, name, x.copy(), context=f"It is called with a NumPy array such as {x[:3]!r}..."
    )
    if problem is not None:
        return problem
    values = as_numbers(got)
    if values is None:
        return Feedback(
            False,
            f"`{name}` returned {kind(got)} ({shown(got, 60)}); it should return an array of "
            "numbers, one per input.",
        )
    got = values
    if got.shape != expected.shape:
        return Feedback(
            False,
            f"`{name}` returned shape {got.shape} for an input of shape "
            f"{x.shape}; it should work element by element and return "
            f"shape {expected.shape}. {hint}".strip(),
        )
    wrong = ~np.isclose(got, expected, atol=atol, rtol=1e-5)
    if wrong.any():
        i = int(np.flatnonzero(wrong.ravel())[0])
        return Feedback(
            False,
            f"`{name}({x.ravel()[i]:g})` gave {got.ravel()[i]:.6g}, "
            f"expected {expected.ravel()[i]:.6g} ({int(wrong.sum())} of "
            f"{wrong.size} test inputs are off). {hint}".strip(),
        )
    return Feedback(True, f"`{name}` matches the reference on all {x.size} test inputs.")


def check_value(
    answer: Any,
    expected: float | Sequence[float] | np.ndarray,
    name: str,
    atol: float = 1e-4,
    hints: dict[str, Callable[[np.ndarray], bool]] | None = None,
    rtol: float = 1e-4,
    exact: bool | None = None,
    decimals: int | None = None,
) -> Feedback:
    """Compare a number (or array) with the expected one.

    Accepted as a teacher would: NumPy scalars, tensors, one-element arrays or
    lists for a single number (``np.array([0.475])``, ``[[0.475]]``), an array
    of the right size with extra length-1 axes, a number written as text ("320,000",
    "320 000", "4/7", "57%"), several numbers written as text ("(10, 16)", "10 x 16").
    The feedback says how the answer was read when it had to be reshaped.

    Integer ``expected`` values (counts: parameters, samples) are compared
    *exactly* and shown as integers; pass ``exact=False`` to allow a tolerance.
    Floats are compared with ``atol`` and ``rtol``. A single float written with few
    decimals (0.571) must be the right one rounded or cut to that many, not merely near it
    (0.572 is not 4/7); ``decimals`` is the fewest decimals accepted when the lesson itself
    rounds the number that far (F1 = 0.57), fewer than the tolerance alone would ask.

    ``hints`` maps a message to a test on the answer, to recognise common
    mistakes (a sign error, a missing factor) and say which one it is. A float answer that
    is the right one rounded too far ("0.57" for 4/7), or that right one as a percentage
    ("57.14"), is told so.
    """
    if is_placeholder(answer):
        return not_attempted(name)
    want = np.asarray(expected)
    got, note, problem = read_numbers(answer, name, want.size)
    if got is None:
        return Feedback(False, problem)
    if exact is None:
        exact = np.issubdtype(want.dtype, np.integer)
    want = want.astype(float)
    if got.shape != want.shape:
        form = "list" if isinstance(answer, (list, tuple)) else type(answer).__name__
        if got.size == want.size == 1:
            note = (
                f"read the one-element {form} of shape {got.shape} as the number "
                f"{show_numbers(got.reshape(()))}"
            )
            got = got.reshape(want.shape)
        elif got.size == want.size and np.squeeze(got).shape == np.squeeze(want).shape:
            note = f"read the {form} of shape {got.shape} as shape {want.shape}"
            got = got.reshape(want.shape)
        elif want.ndim == 0:
            return Feedback(
                False,
                f"`{name}` holds {got.size} numbers (shape {got.shape}); the "
                "answer is a single number.",
            )
        else:
            return Feedback(False, f"`{name}` has shape {got.shape}, expected {want.shape}.")
    said = f" ({note})" if note else ""
    quoted = show_numbers(got) + (f" (shape {got.shape})" if got.ndim >= 2 else "")
    tolerance = atol + rtol * float(np.max(np.abs(want))) if want.size else atol
    written = decimals_written(answer) if want.size == 1 and not exact else None
    if exact:
        right = bool(np.array_equal(got, want))
    elif written is not None:
        fewest = needed_decimals(tolerance) if decimals is None else decimals
        right = rounded_fairly(
            float(got.ravel()[0]), float(want.ravel()[0]), written, tolerance, fewest
        )
    else:
        right = bool(np.allclose(got, want, atol=atol, rtol=rtol))
    if right:
        return Feedback(True, f"`{name}` = {quoted} is right{said}.")
    for message, test in (hints or {}).items():
        try:
            hit = bool(test(got))
        except Exception:  # a hint that cannot read this answer does not apply to it
            hit = False
        if hit:
            return Feedback(False, f"`{name}` = {quoted}{said}: {message}")
    if not exact and want.size == 1:
        why = rounding_or_percentage(
            float(got.ravel()[0]), float(want.ravel()[0]), tolerance, decimals, written
        )
        if why:
            return Feedback(False, f"`{name}` = {quoted}{said}: {why}")
    close = exact and bool(np.allclose(got, want, rtol=1e-3, atol=0))
    why = (
        " It is close, but a count has to be exact."
        if close
        else " Recompute it step by step from the cells above."
    )
    return Feedback(False, f"`{name}` = {quoted}{said} is not right yet.{why}")


def check_choice(answer: Any, correct: Any, name: str, explanations: dict[Any, str]) -> Feedback:
    """A multiple-choice answer, with an explanation for each choice.

    ``correct`` is the right choice, or a tuple/list/set of choices that are all
    right (their explanations say what each one costs). Answers are read by
    :func:`~helpers.checks.reading.match_choice`: text regardless of case, surrounding
    spaces and quotes and closing punctuation ("Diverges."), a one-element list or array, the
    numbers a choice names in any order and form ("2, 0" or ``[0, 2]`` for "0 and 2"). The
    feedback says how the answer was read when it was not written exactly as a choice.
    """
    if is_placeholder(answer):
        return not_attempted(name)
    right = list(correct) if isinstance(correct, (tuple, list, set, frozenset)) else [correct]
    choices = list(dict.fromkeys([*right, *explanations]))
    choice = match_choice(answer, choices)
    if choice is None:
        listed = ", ".join(repr(c) for c in choices)
        return Feedback(False, f"`{name}` = {shown(answer)} is not one of the choices: {listed}.")
    exactly = isinstance(answer, str) and answer == choice
    said = "" if exactly else f" (read {shown(answer)} as {choice!r})"
    why = explanations.get(choice, "")
    if choice in right:
        return Feedback(True, f"`{name}` = {choice!r}{said}. {why}".strip())
    return Feedback(False, f"`{name}` = {choice!r}{said}: {why or 'not this one.'}")


# Inputs on which the learners' activation functions are compared with the reference: the
# large ones catch a function that is only right near 0 (np.clip(z, 0, 5) for ReLU).
TEST_INPUTS = np.array([-3.0, -1.5, -0.2, 0.0, 0.1, 0.7, 2.0, 5.0, 10.0, -20.0, 20.0])
