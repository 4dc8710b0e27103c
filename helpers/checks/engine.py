"""The engine of the exercise checks: what a chapter's checks (chNN.py) are written with.

- :class:`Feedback`, what every check returns, and :func:`confirm` for solution cells;
- :func:`exercise`, the decorator every public check wears: "not attempted yet" for an
  answer left as ``None`` or ``...``, and one line in the learner's progress log;
- :func:`check_value`, :func:`check_choice`, :func:`check_function`: the common kinds;
- :func:`call_learner`, :func:`is_placeholder`, :func:`not_attempted`,
  :func:`match_choice`, :func:`read_loss` and :data:`TEST_INPUTS`, to write a new kind.

Every check returns a :class:`Feedback`: it shows as one line in the notebook
(``[ok] ...`` or ``[try again] ...``) and says *what* is wrong - which input
gave which value, what was expected - not only that something is wrong.
Unfinished exercises (``None`` or ``...`` left in place, or a function that
raises ``NotImplementedError``) get a gentle "not attempted yet" instead of a
traceback, so a notebook with open exercises still runs top to bottom.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from helpers import progress  # a leaf: it never imports the checks back

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
                feedback = check(*args, **kwargs)
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


def call_learner(
    fn: Any, name: str, *args: Any, explain: Callable[[Exception], str | None] | None = None
) -> tuple[Any, Feedback | None]:
    """Call the learner's function safely: ``(result, None)`` or ``(None, feedback)``.

    Unfinished code (``None``, ``...``, ``raise NotImplementedError``) is "not
    attempted yet"; any other exception, or a missing ``return``, becomes
    feedback instead of a traceback. ``explain`` may turn a known exception into
    a more specific message.
    """
    if is_placeholder(fn):
        return None, not_attempted(name)
    if not callable(fn):
        return None, Feedback(
            False, f"`{name}` should be a function, but it is a {type(fn).__name__}."
        )
    try:
        result = fn(*args)
    except NotImplementedError:
        return None, not_attempted(name)
    except Exception as err:  # the learner's code: report, never crash the notebook
        message = explain(err) if explain else None
        return None, Feedback(False, message or f"`{name}` raised {type(err).__name__}: {err}")
    if is_placeholder(result):
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
    got, problem = call_learner(
        fn,
        name,
        x.copy(),
        explain=lambda err: (
            f"`{name}` raised {type(err).__name__}: {err}. It is called with a NumPy array such "
            f"as {x[:3]!r}..."
        ),
    )
    if problem is not None:
        return problem
    got = np.asarray(got, dtype=float)
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


def _show(values: np.ndarray) -> str:
    """A number (or array) the way a teacher writes it: 15, 50240, 0.475, 1.2e-05.

    An array keeps its rows: ``[[0, 4], [9, 3]]``, not a flat list.
    """

    def one(v: float) -> str:
        if not np.isfinite(v):
            return str(v)
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        if abs(v) >= 1e-3:
            return repr(round(float(v), 4))
        return f"{v:.4g}"

    if values.ndim == 0:
        return one(float(values))
    return "[" + ", ".join(_show(row) for row in values) + "]"


# 320,000 or 320 000 (a space, also a no-break or thin one, as the thousands separator).
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:(?:,\d{3})+|(?:[ \u00a0\u202f]\d{3})+)(\.\d*)?")
_FRACTION = re.compile(r"([+-]?\d+(?:\.\d*)?)\s*/\s*(\d+(?:\.\d*)?)")


def _as_numbers(answer: Any, name: str) -> tuple[np.ndarray | None, str, Feedback | None]:
    """``(values, note, None)``, or ``(None, "", feedback)`` when it is not a number.

    ``note`` says how the answer was read when that was not obvious (text read
    as a number); NumPy scalars, tensors and lists need no note.
    """
    note = ""
    if isinstance(answer, (bool, np.bool_)):
        return None, "", Feedback(False, f"`{name}` should be a number, got {answer!r}.")
    if isinstance(answer, str):
        text = answer.strip().strip("'\"`").strip()
        cleaned = text.replace("_", "")
        if _THOUSANDS.fullmatch(cleaned):
            cleaned = re.sub(r"[, \u00a0\u202f]", "", cleaned)
        fraction = _FRACTION.fullmatch(cleaned)
        try:
            if fraction:  # "4/7", as worked out by hand
                value = float(fraction[1]) / float(fraction[2])
            else:
                value = float(cleaned)
        except (ValueError, ZeroDivisionError):
            return (
                None,
                "",
                Feedback(False, f"`{name}` should be a number, got the text {answer!r}."),
            )
        note = f"read the text {answer!r} as the number {_show(np.asarray(value))}"
        answer = value
    try:
        values = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return None, "", Feedback(False, f"`{name}` should be a number, got {answer!r}.")
    return values, note, None


def check_value(
    answer: Any,
    expected: float | Sequence[float] | np.ndarray,
    name: str,
    atol: float = 1e-4,
    hints: dict[str, Callable[[np.ndarray], bool]] | None = None,
    rtol: float = 1e-4,
    exact: bool | None = None,
) -> Feedback:
    """Compare a number (or array) with the expected one.

    Accepted as a teacher would: NumPy scalars, tensors, one-element arrays or
    lists for a single number (``np.array([0.475])``, ``[[0.475]]``), an array
    of the right size with extra length-1 axes, a number written as text ("320,000",
    "320 000", "4/7"). The feedback says how the answer was read when it had to be reshaped.

    Integer ``expected`` values (counts: parameters, samples) are compared
    *exactly* and shown as integers; pass ``exact=False`` to allow a tolerance.
    Floats are compared with ``atol`` and ``rtol``.

    ``hints`` maps a message to a test on the answer, to recognise common
    mistakes (a sign error, a missing factor) and say which one it is. A float answer that
    is the right one rounded too far ("0.57" for 4/7), or that right one as a percentage
    ("57.14"), is told so.
    """
    if is_placeholder(answer):
        return not_attempted(name)
    got, note, problem = _as_numbers(answer, name)
    if problem is not None:
        return problem
    want = np.asarray(expected)
    if exact is None:
        exact = np.issubdtype(want.dtype, np.integer)
    want = want.astype(float)
    if got.shape != want.shape:
        kind = "list" if isinstance(answer, (list, tuple)) else type(answer).__name__
        if got.size == want.size == 1:
            note = (
                f"read the one-element {kind} of shape {got.shape} as the number "
                f"{_show(got.reshape(()))}"
            )
            got = got.reshape(want.shape)
        elif got.size == want.size and np.squeeze(got).shape == np.squeeze(want).shape:
            note = f"read the {kind} of shape {got.shape} as shape {want.shape}"
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
    shown = _show(got) + (f" (shape {got.shape})" if got.ndim >= 2 else "")
    if exact:
        right = bool(np.array_equal(got, want))
    else:
        right = bool(np.allclose(got, want, atol=atol, rtol=rtol))
    if right:
        return Feedback(True, f"`{name}` = {shown} is right{said}.")
    for message, test in (hints or {}).items():
        if test(got):
            return Feedback(False, f"`{name}` = {shown}{said}: {message}")
    if not exact and want.size == 1:
        why = _rounding_or_percentage(float(got.ravel()[0]), float(want.ravel()[0]), atol, rtol)
        if why:
            return Feedback(False, f"`{name}` = {shown}{said}: {why}")
    close = exact and bool(np.allclose(got, want, rtol=1e-3, atol=0))
    why = (
        " It is close, but a count has to be exact."
        if close
        else " Recompute it step by step from the cells above."
    )
    return Feedback(False, f"`{name}` = {shown}{said} is not right yet.{why}")


def _rounding_or_percentage(got: float, want: float, atol: float, rtol: float) -> str:
    """What to say about a number solved by hand that is right but rounded too far, or
    given as a percentage; '' for anything else."""
    tolerance = atol + rtol * abs(want)
    needed = next((d for d in range(16) if 0.5 * 10.0**-d <= tolerance), 16)
    for decimals in range(1, needed):
        scale = 10.0**decimals
        cut = np.trunc(want * scale) / scale
        if any(np.isclose(got, v, rtol=0, atol=1e-9) for v in (round(want, decimals), cut)):
            places = "decimal" if decimals == 1 else "decimals"
            return (
                f"close, but rounded to {decimals} {places}: give at least {needed} "
                "decimals, or let Python compute it (3/8 rather than 0.38)."
            )
    if 0 < abs(want) <= 1 < abs(got) <= 100 and abs(got / 100 - want) <= 0.005:
        return (
            "that looks like a percentage: give the plain number, as a fraction of 1 "
            "(a quarter is 0.25, not 25)."
        )
    return ""


def _choice_key(text: str, spaces: bool = True) -> str:
    """Case, surrounding spaces and quotes, repeated spaces and a sentence's closing
    punctuation ("Diverges.") do not matter."""
    text = text.strip()
    while len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        text = text[1:-1].strip()
    text = text.rstrip(".!?,;: ").strip()
    while len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        text = text[1:-1].strip()
    text = " ".join(text.split()) if spaces else "".join(text.split())
    return text.casefold()


def match_choice(answer: Any, choices: Sequence[Any]) -> Any:
    """The choice ``answer`` stands for, or ``None``."""
    try:
        if answer in choices:
            return answer
    except TypeError:  # e.g. an array, which cannot be compared with ==
        return None
    if not isinstance(answer, str):
        return None
    texts = [c for c in choices if isinstance(c, str)]
    for spaces in (True, False):  # first as written, then ignoring every space
        hits = [c for c in texts if _choice_key(c, spaces) == _choice_key(answer, spaces)]
        if len(hits) == 1:
            return hits[0]
    return None


_LOSS_NAMES = {
    "binarycrossentropy": "binary_crossentropy",
    "categoricalcrossentropy": "categorical_crossentropy",
    "sparsecategoricalcrossentropy": "sparse_categorical_crossentropy",
    "mse": "mse",
    "meansquarederror": "mse",
}


def read_loss(loss: Any) -> tuple[str, bool] | None:
    """A Keras loss as ``(name, from_logits)``, e.g. ``("categorical_crossentropy", False)``.

    The loss may be given as text (``"categorical_crossentropy"``,
    ``"keras.losses.CategoricalCrossentropy()"``), as an instance
    (``keras.losses.CategoricalCrossentropy()``), its class, or a function
    (``keras.losses.categorical_crossentropy``). ``None`` when it is none of the losses
    the exercises ask about.
    """
    if isinstance(loss, str):
        name = loss
        logits = bool(re.search(r"from_logits\s*=\s*true", loss, re.IGNORECASE))
    elif isinstance(loss, type) or (callable(loss) and not hasattr(loss, "get_config")):
        name, logits = getattr(loss, "__name__", ""), False
    elif callable(loss):
        try:
            config = loss.get_config()
        except Exception:  # a learner's object: not a Keras loss
            return None
        name, logits = str(config.get("name", "")), bool(config.get("from_logits", False))
    else:
        return None
    key = re.sub(r"[^a-z]", "", re.sub(r"\(.*", "", name.strip().strip("\"'`")).lower())
    key = key.removeprefix("tf").removeprefix("keras").removeprefix("losses")
    found = _LOSS_NAMES.get(key)
    return None if found is None else (found, logits)


def check_choice(answer: Any, correct: Any, name: str, explanations: dict[Any, str]) -> Feedback:
    """A multiple-choice answer, with an explanation for each choice.

    ``correct`` is the right choice, or a tuple/list/set of choices that are all
    right (their explanations say what each one costs). Text answers are
    matched regardless of case, surrounding spaces and quotes and closing punctuation
    ("Diverges."), and the feedback says how the answer was read when it was not written
    exactly as a choice.
    """
    if is_placeholder(answer):
        return not_attempted(name)
    right = list(correct) if isinstance(correct, (tuple, list, set, frozenset)) else [correct]
    choices = list(dict.fromkeys([*right, *explanations]))
    choice = match_choice(answer, choices)
    if choice is None:
        listed = ", ".join(repr(c) for c in choices)
        return Feedback(False, f"`{name}` = {answer!r} is not one of the choices: {listed}.")
    said = "" if answer == choice else f" (read {answer!r} as {choice!r})"
    why = explanations.get(choice, "")
    if choice in right:
        return Feedback(True, f"`{name}` = {choice!r}{said}. {why}".strip())
    return Feedback(False, f"`{name}` = {choice!r}{said}: {why or 'not this one.'}")


# Inputs on which the learners' activation functions are compared with the reference.
TEST_INPUTS = np.array([-3.0, -1.5, -0.2, 0.0, 0.1, 0.7, 2.0, 5.0])
