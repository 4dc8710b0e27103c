"""Automatic feedback for the exercises (how a check answers: see ``core.py``).

Layout: ``core.py`` holds the engine (:class:`Feedback`, :func:`confirm`,
:func:`check_value`, :func:`check_choice`, :func:`check_function`); each
chapter's checks live in ``chNN.py`` and list their public names in
``__all__``. Every ``chNN`` module in this folder is imported here and its names
re-exported, so notebooks keep writing ``from helpers import checks`` and
``checks.check_xxx(...)``; a new chapter only adds its own ``chNN.py``.
"""

from __future__ import annotations

import dataclasses as _dataclasses
import functools as _functools
import importlib as _importlib
import pkgutil as _pkgutil
import re as _re
from collections.abc import Callable as _Callable
from typing import Any as _Any

from helpers import progress as _progress
from helpers.checks.core import (  # noqa: F401 - re-exported
    Feedback,
    SolutionError,
    _call_learner,
    _is_placeholder,
    _not_attempted,
    check_choice,
    check_function,
    check_value,
    confirm,
)
from helpers.checks.core import __all__ as _core_all

__all__ = list(_core_all)
CHAPTER_MODULES: list[str] = []
# Every exercise check, by chapter ("01": ["check_relu", ...]), for the progress report.
CHECKS_BY_CHAPTER: dict[str, list[str]] = {}


def _logged(check: _Callable[..., _Any], chapter: str) -> _Callable[..., _Any]:
    """``check`` that also appends its call to the learner's progress log."""

    @_functools.wraps(check)
    def logged(*args: _Any, **kwargs: _Any) -> _Any:
        feedback = check(*args, **kwargs)
        if isinstance(feedback, Feedback):
            event = _progress.log_check(chapter, check.__name__, feedback)
            feedback = _dataclasses.replace(feedback, event=event)
        return feedback

    return logged


def _import_chapters() -> None:
    owner = dict.fromkeys(__all__, "core")
    names = sorted(m.name for m in _pkgutil.iter_modules(__path__)
                   if _re.fullmatch(r"ch\d\d", m.name))
    for name in names:
        module = _importlib.import_module(f"{__name__}.{name}")
        for public in module.__all__:
            if public in owner and owner[public] != name:
                raise ImportError(f"helpers.checks.{name} defines {public!r}, which "
                                  f"helpers.checks.{owner[public]} already defines.")
            owner[public] = name
            value = getattr(module, public)
            if public.startswith("check_") and callable(value):
                CHECKS_BY_CHAPTER.setdefault(name[2:], []).append(public)
                value = _logged(value, name[2:])
            globals()[public] = value
            if public not in __all__:
                __all__.append(public)
        CHAPTER_MODULES.append(name)


_import_chapters()
