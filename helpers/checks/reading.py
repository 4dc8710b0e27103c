"""How the checks read a learner's answer, whatever its form, and show it back.

- :func:`shown` and :func:`kind`: a value as feedback quotes it (short, one line, never an
  error) and what it is ("a dict", "the class Dense", "a function");
- :func:`number_from_text` and :func:`numbers_from_text`: numbers written as text
  ("320 000", "4/7", "57%", "np.float64(0.57)", "(10, 16)", "10 x 16", "[[0, 4], [9, 3]]");
- :func:`as_numbers`: any value as an array of floats, or ``None`` when it holds no numbers;
- :func:`decimals_written`: how many decimals a learner wrote ("0.57" has 2);
- :func:`match_choice`: the choice an answer stands for ("2 and 0", ``[0, 2]`` and
  ``np.array([0., 2.])`` all stand for "0 and 2"; "model.keras" for ".keras");
- :func:`read_loss`: a Keras loss given as text, object, class or function.

Nothing here raises because of a learner's value: a reader that cannot read returns ``None``.
"""

from __future__ import annotations

import ast
import decimal
import math
import re
import types
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "shown",
    "kind",
    "number_from_text",
    "numbers_from_text",
    "as_numbers",
    "decimals_written",
    "match_choice",
    "read_loss",
    "show_numbers",
    "read_numbers",
    "needed_decimals",
    "rounded_fairly",
    "rounding_or_percentage",
]


def shown(value: Any, limit: int = 100) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters; never raises."""
    try:
        text = repr(value)
    except Exception:  # a learner's class whose __repr__ is broken
        return f"<{kind(value)} that cannot be shown>"
    text = re.sub(r"\s*\n\s*", " ", text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def kind(value: Any) -> str:
    """What ``value`` is, in words: "an int", "a dict", "the class Dense", "a function"."""
    if isinstance(value, type):
        return f"the class {value.__name__}"
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return "a function"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


# 320,000 or 320 000 (a space, also a no-break or thin one, as the thousands separator).
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:(?:,\d{3})+|(?:[ \u00a0\u202f]\d{3})+)(\.\d*)?")
_FRACTION = re.compile(r"([+-]?\d+(?:\.\d*)?)\s*/\s*(\d+(?:\.\d*)?)")
_WRAPPED = re.compile(r"(?:np|numpy|tf|torch)\.\w+\((.*)\)|(?:array|tensor)\((.*)\)", re.DOTALL)
# Between the numbers of a list written as text: "10, 16", "10 x 16", "0 and 2", "0 & 2".
_BETWEEN = re.compile(r"\s*(?:[,;&*\u00d7x]|\band\b|\bor\b|\bby\b)\s*|\s+", re.IGNORECASE)


def _clean(text: str) -> str:
    """Quotes, a NumPy wrapper, odd minus signs and wide digits taken off a number's text."""
    text = unicodedata.normalize("NFKC", text).strip().strip("'\"`").strip()
    wrapped = _WRAPPED.fullmatch(text)
    if wrapped:
        text = (wrapped[1] if wrapped[1] is not None else wrapped[2]).split(", dtype")[0].strip()
    return text.replace("\u2212", "-").replace("_", "")


def number_from_text(text: str) -> float | None:
    """One number written as text: "0.57", "320,000", "320 000", "4/7", "57%", "1e-3"."""
    try:
        cleaned = _clean(text)
        percent = cleaned.endswith("%")
        cleaned = cleaned.removesuffix("%").strip()
        if _THOUSANDS.fullmatch(cleaned):
            cleaned = re.sub(r"[, \u00a0\u202f]", "", cleaned)
        fraction = _FRACTION.fullmatch(cleaned)
        value = float(fraction[1]) / float(fraction[2]) if fraction else float(cleaned)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return value / 100 if percent else value


def numbers_from_text(text: str) -> np.ndarray | None:
    """Several numbers written as text: "(10, 16)", "10 x 16", "0 and 2", "[[0, 4], [9, 3]]"."""
    cleaned = _clean(text)
    if cleaned[:1] in "[({":
        try:
            values = ast.literal_eval(cleaned)
            found = as_numbers(list(values) if isinstance(values, (set, frozenset)) else values)
        except Exception:  # not a Python literal (or too deep to read)
            found = None
        if found is not None:
            return found
        cleaned = cleaned.strip("[](){}")
    parts = [p for p in _BETWEEN.split(cleaned.strip()) if p]
    numbers = [number_from_text(p) for p in parts]
    if not numbers or any(n is None for n in numbers):
        return None
    return np.array(numbers, dtype=float)


def as_numbers(value: Any) -> np.ndarray | None:
    """``value`` (a number, list, tuple, array, tensor) as floats; ``None`` when it holds
    anything else: text, ``None``, objects, complex numbers with an imaginary part."""
    if isinstance(value, (str, bytes, dict, set, frozenset, type)) or value is None:
        return None
    try:
        array = np.asarray(value)
        if array.dtype.kind in "USVMm":
            return None
        if array.dtype.kind == "c":
            if np.any(array.imag != 0):
                return None
            array = array.real
        if array.dtype.kind == "O" and not all(
            isinstance(v, (int, float, np.number))
            and not isinstance(v, (complex, np.complexfloating))
            for v in array.flat
        ):
            return None
        return array.astype(float)
    except Exception:  # ragged lists, huge ints, a learner's object that refuses
        return None


def decimals_written(answer: Any) -> int | None:
    """The decimals of a number as the learner wrote it (0.57 or "0.57": 2), ``None`` when
    they did not write it (a computed array, a fraction, a NumPy float32's long tail)."""
    if isinstance(answer, (list, tuple)) and len(answer) == 1:
        return decimals_written(answer[0])
    if isinstance(answer, np.ndarray) and answer.size == 1 and answer.dtype.kind in "fiuU":
        return decimals_written(answer.reshape(-1)[0].item())
    if isinstance(answer, str):
        cleaned = _clean(answer).removesuffix("%").strip()
        shift = 2 if _clean(answer).endswith("%") else 0
        if _THOUSANDS.fullmatch(cleaned):
            cleaned = re.sub(r"[, \u00a0\u202f]", "", cleaned)
        text = cleaned
    elif isinstance(answer, (int, np.integer)) and not isinstance(answer, bool):
        return 0
    elif isinstance(answer, (float, np.float64)):
        text, shift = repr(float(answer)), 0
    else:
        return None
    try:
        exponent = decimal.Decimal(text).as_tuple().exponent
    except (decimal.InvalidOperation, ValueError):
        return None
    return max(0, -exponent) + shift if isinstance(exponent, int) else None


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


def _as_text(answer: Any) -> str | None:
    """A text answer, also inside a one-element list, tuple or array, or as bytes."""
    if isinstance(answer, str):
        return str(answer)
    if isinstance(answer, bytes):
        return answer.decode("utf-8", "replace")
    if isinstance(answer, (list, tuple)) and len(answer) == 1:
        return _as_text(answer[0])
    if isinstance(answer, np.ndarray) and answer.size == 1 and answer.dtype.kind in "US":
        return str(answer.reshape(-1)[0])
    return None


def _number_set(answer: Any) -> frozenset[float] | None:
    """The values an answer names: "0 and 2", "2, 0", [0, 2], an array of 0s and 2s."""
    text = _as_text(answer)
    if text is not None:
        text = re.sub(r"\s*\bonly\b\s*$", "", _choice_key(text), flags=re.IGNORECASE)
        values = numbers_from_text(text) if text else None
    else:
        values = as_numbers(list(answer) if isinstance(answer, (set, frozenset)) else answer)
    if values is None or values.size == 0 or not np.all(np.isfinite(values)):
        return None
    return frozenset(float(v) for v in values.ravel())


def _same(a: Any, b: Any) -> bool:
    """``a == b`` when that is a plain True; False for arrays, errors and everything else."""
    try:
        equal = a == b
        return isinstance(equal, (bool, np.bool_)) and bool(equal)
    except Exception:  # a learner's object whose == is broken
        return False


def match_choice(answer: Any, choices: Sequence[Any]) -> Any:
    """The choice ``answer`` stands for, or ``None``; never raises.

    Text is matched regardless of case, surrounding spaces and quotes and closing
    punctuation, then regardless of the spaces, underscores and hyphens inside, when only
    one choice fits. A choice that names numbers ("0 and 2", "1 only") is also given by
    those numbers in any order and form. A file ending (".keras") is also given without its
    dot or as a file name ("model.keras").
    """
    text = _as_text(answer)
    texts = [c for c in choices if isinstance(c, str)]
    if text is None:
        for choice in choices:
            if not isinstance(choice, str) and _same(choice, answer):
                return choice
    else:
        passes = (
            lambda c: c,
            lambda c: _choice_key(c),
            lambda c: _choice_key(c, spaces=False),
            lambda c: re.sub(r"[\s_-]", "", _choice_key(c)),
        )
        for key in passes:
            hits = [c for c in texts if key(c) == key(text)]
            if len(hits) == 1:
                return hits[0]
        written = _choice_key(text, spaces=False).lstrip("*")
        endings = [c for c in texts if c.startswith(".") and len(c) > 1]
        hits = [c for c in endings if written in (c.casefold()[1:], c.casefold())]
        hits = hits or [c for c in endings if written.endswith(c.casefold())]
        if hits:
            longest = max(len(c) for c in hits)
            hits = [c for c in hits if len(c) == longest]
        if len(hits) == 1:
            return hits[0]
    numbers = _number_set(answer)
    if numbers is not None:
        hits = [c for c in texts if _number_set(c) == numbers]
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
    ``"keras.losses.CategoricalCrossentropy()"``, "categorical cross-entropy"), as an
    instance (``keras.losses.CategoricalCrossentropy()``), its class, or a function
    (``keras.losses.categorical_crossentropy``). ``None`` when it is none of the losses the
    exercises ask about.
    """
    try:
        text = _as_text(loss)
        if text is not None:
            name = text
            logits = bool(re.search(r"from_logits\s*=\s*true", text, re.IGNORECASE))
        elif isinstance(loss, type) or (callable(loss) and not hasattr(loss, "get_config")):
            name, logits = str(getattr(loss, "__name__", "")), False
        elif callable(loss):
            config = loss.get_config()
            name, logits = str(config.get("name", "")), bool(config.get("from_logits", False))
        else:
            return None
    except Exception:  # a learner's object that is not a Keras loss
        return None
    key = re.sub(r"[^a-z]", "", re.sub(r"\(.*", "", name.strip().strip("\"'`")).lower())
    key = key.removeprefix("tf").removeprefix("keras").removeprefix("losses")
    found = _LOSS_NAMES.get(key)
    return None if found is None else (found, logits)


def show_numbers(values: np.ndarray) -> str:
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
    return "[" + ", ".join(show_numbers(row) for row in values) + "]"


def read_numbers(answer: Any, name: str, size: int) -> tuple[np.ndarray | None, str, str]:
    """``(values, note, "")``, or ``(None, "", problem)`` when it is not a number.

    ``note`` says how the answer was read when that was not obvious (text read as a number);
    NumPy scalars, tensors and lists need no note. ``size`` is how many numbers the answer
    holds: text such as "(10, 16)" or "10 x 16" is read as several numbers when it should.
    """
    if isinstance(answer, (bool, np.bool_)):
        return None, "", f"`{name}` should be a number, got {answer!r}."
    if isinstance(answer, bytes):
        answer = answer.decode("utf-8", "replace")
    if isinstance(answer, str):
        one = number_from_text(answer) if size == 1 else None
        values = np.asarray(one) if one is not None else numbers_from_text(answer)
        if values is None or (one is None and size == 1 and values.size != 1):
            return (
                None,
                "",
                f"`{name}` should be a number, got the text {shown(answer)}.",
            )
        values = values.reshape(()) if one is None and values.size == 1 == size else values
        what = "the number " if values.size == 1 else ""
        return values, f"read the text {shown(answer)} as {what}{show_numbers(values)}", ""
    values = as_numbers(answer)
    if values is None and isinstance(answer, np.ndarray) and answer.dtype.kind == "U":
        return read_numbers(str(answer.reshape(-1)[0]) if answer.size == 1 else "", name, size)
    if values is None:
        if callable(answer) and not isinstance(answer, type):
            why = "a function: call it, and store the number it returns"
        else:
            why = shown(answer)
        return None, "", f"`{name}` should be a number, got {why}."
    return values, "", ""


def needed_decimals(tolerance: float) -> int:
    """The decimals a number must be given with to be within ``tolerance`` once rounded."""
    return next((d for d in range(16) if 0.5 * 10.0**-d <= tolerance), 16)


def rounded_fairly(got: float, want: float, written: int, tolerance: float, fewest: int) -> bool:
    """Whether a number written with ``written`` decimals is ``want`` rounded (or cut) to some
    precision the check accepts; past the precision that matters, the tolerance decides."""
    needed = needed_decimals(tolerance)
    if written > needed or not math.isfinite(got):
        return abs(got - want) <= tolerance
    for places in range(max(written, min(fewest, needed)), needed + 1):
        scale = 10.0**places
        for fair in (round(want, places), math.trunc(want * scale) / scale):
            if abs(got - fair) <= 1e-9 * max(1.0, abs(want)):
                return True
    return False


def rounding_or_percentage(
    got: float, want: float, tolerance: float, fewest: int | None, written: int | None
) -> str:
    """What to say about a number solved by hand that is right but rounded too far, rounded
    wrongly, or given as a percentage; '' for anything else."""
    needed = needed_decimals(tolerance)
    fewest = needed if fewest is None else min(fewest, needed)
    for places in range(1, fewest):
        scale = 10.0**places
        cut = np.trunc(want * scale) / scale
        if any(np.isclose(got, v, rtol=0, atol=1e-9) for v in (round(want, places), cut)):
            unit = "decimal" if places == 1 else "decimals"
            return (
                f"close, but rounded to {places} {unit}: give at least {fewest} "
                "decimals, or let Python compute it (3/8 rather than 0.38)."
            )
    if written is not None and abs(got - want) <= tolerance:
        unit = "decimal" if written == 1 else "decimals"
        return (
            f"close, but that is not the right number rounded to {written} {unit}: check the "
            "last digit, or let Python compute it."
        )
    if 0 < abs(want) <= 1 < abs(got) <= 100 and abs(got / 100 - want) <= 0.005:
        return (
            "that looks like a percentage: give the plain number, as a fraction of 1 "
            "(a quarter is 0.25, not 25)."
        )
    return ""
