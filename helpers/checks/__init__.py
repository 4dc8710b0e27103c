"""Automatic feedback for the exercises (how a check answers: see ``core.py``).

Layout: ``core.py`` holds the engine (:class:`Feedback`, :func:`confirm`,
:func:`check_value`, :func:`check_choice`, :func:`check_function`); each
chapter's checks live in ``chNN.py`` and list their public names in
``__all__``. Every ``chNN`` module in this folder is imported here and its names
re-exported, so notebooks keep writing ``from helpers import checks`` and
``checks.check_xxx(...)``; a new chapter only adds its own ``chNN.py``.
"""

from __future__ import annotations

import importlib as _importlib
import pkgutil as _pkgutil
import re as _re

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
            globals()[public] = getattr(module, public)
            if public not in __all__:
                __all__.append(public)
        CHAPTER_MODULES.append(name)


_import_chapters()
