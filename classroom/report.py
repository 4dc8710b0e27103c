"""Who has done which exercise: the students' progress logs, read from their homes."""

from __future__ import annotations

from pathlib import Path

from classroom import accounts
from classroom.settings import ClassroomError, Settings
from helpers import progress
from helpers.checks import all_checks


def student_log(folder: Path, student: str) -> Path | None:
    """A student's progress log in their home; None when a link stands in its way.

    Only that student's account (and the hub) can write their home, so no one else can add
    to it. The report runs as the hub's account and follows no link a student planted.
    """
    home = folder / "homes" / accounts.folder_name(student)
    log = progress.log_path(home=home)
    if any(p.is_symlink() for p in (home, log.parent, log)):
        return None
    return log


def class_rows(folder: Path) -> list[progress.Row]:
    """One row per student on the roster and per exercise check of the course."""
    settings = Settings.load(folder)
    catalogue = all_checks()
    rows: list[progress.Row] = []
    for student in settings.roster:
        events = progress.read_events(student_log(folder, student))
        rows += progress.summarize(student, events, catalogue)
    return rows


def account_lines(folder: Path) -> list[str]:
    """Which Unix account each roster name works as (none when the class shares one)."""
    settings = Settings.load(folder)
    if not settings.accounts:
        return ["Every student works as the hub's own account (--shared-account)."]
    return ["Students and their accounts:"] + [
        f"  {name} -> {settings.accounts.get(name, '(not made yet)')}" for name in settings.roster
    ]


def report(folder: Path, csv_path: Path | None = None) -> str:
    """The table ``classroom report`` prints (and, with ``csv_path``, the CSV it writes)."""
    folder = folder.expanduser().resolve()
    if not folder.is_dir():
        raise ClassroomError(
            f"{folder} does not exist, so it holds no classroom. Pass the --dir that "
            "`classroom start` used (default: classroom-data/ in the course folder)."
        )
    rows = class_rows(folder)
    if csv_path is not None:
        try:
            progress.write_csv(rows, csv_path)
        except OSError as err:
            raise ClassroomError(
                f"Could not write {csv_path} ({err.strerror or err}): choose a file in a "
                "folder you can write to."
            ) from None
    return "\n".join([*account_lines(folder), "", progress.format_table(rows)])
