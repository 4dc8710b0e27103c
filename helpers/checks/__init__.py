"""Automatic feedback for the exercises: ``from helpers import checks``, then
``checks.check_xxx(answer)`` in a notebook.

``engine.py`` is what the checks are written with (:class:`Feedback`, :func:`confirm`, the
:func:`~helpers.checks.engine.exercise` decorator, the common kinds of check); each
chapter's checks live in the module its entry in the chapter registry names
(:mod:`helpers.chapters`, ``"checks": "chNN"``), and every public name of those modules
(their ``__all__``) is re-exported here, in the registry's order. So a new chapter adds its
module, its registry entry and its test file ``tests/test_checks_chNN.py``, and nothing
here. Every check logs its call to the learner's progress log (:mod:`helpers.progress`)
through the decorator; the log imports nothing from here, and :func:`all_checks` hands the
catalogue to whoever reads the log.
"""

from importlib import import_module

from helpers import chapters as _registry
from helpers.checks.engine import (
    CHECKS_BY_CHAPTER,
    Feedback,
    SolutionError,
    check_choice,
    check_function,
    check_value,
    confirm,
)

# The chapters' check modules (helpers.checks.ch01, ...), in the registry's order.
CHAPTERS = tuple(
    import_module(f"{__name__}.{chapter.checks}")
    for chapter in _registry.CHAPTERS
    if chapter.checks
)


def _re_export(modules: tuple) -> None:
    """Every public name of ``modules`` as a name of this package (``checks.check_relu``)."""
    for module in modules:
        for name in module.__all__:
            if name in globals():  # two chapters' checks under one name: one would hide the other
                raise ImportError(f"{module.__name__}.{name} is already defined in helpers.checks")
            globals()[name] = getattr(module, name)


_re_export(CHAPTERS)


def all_checks() -> dict[str, list[str]]:
    """Every exercise check of the course, by chapter: ``{"01": ["check_relu", ...]}``.

    A copy of :data:`CHECKS_BY_CHAPTER`, complete once every chapter above is imported: the
    catalogue ``course.py progress`` and the classroom's report and live page count against.
    """
    return {chapter: list(names) for chapter, names in CHECKS_BY_CHAPTER.items()}


CHAPTER_MODULES = [module.__name__.rsplit(".", 1)[1] for module in CHAPTERS]
__all__ = [
    "CHECKS_BY_CHAPTER",
    "all_checks",
    "Feedback",
    "SolutionError",
    "check_choice",
    "check_function",
    "check_value",
    "confirm",
    *(name for module in CHAPTERS for name in module.__all__),
]
