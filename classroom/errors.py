"""The one error every classroom command reports as a paragraph for the teacher.

A leaf (it imports nothing of the course), so :mod:`classroom.settings` and
:mod:`classroom.accounts`, which use each other, both raise it without importing each other
in a circle; ``from classroom.settings import ClassroomError`` finds the same class.
"""

from __future__ import annotations


class ClassroomError(Exception):
    """A classroom cannot start or report; the message says why and what to do."""
