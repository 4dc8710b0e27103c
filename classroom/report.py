"""Who has done which exercise: the students' progress logs, read from their homes."""

from __future__ import annotations

from pathlib import Path

from classroom.settings import ClassroomError, Settings
from helpers import progress


def class_rows(folder: Path) -> list[progress.Row]:
    """One row per student on the roster and per exercise check of the course."""
    settings = Settings.load(folder)
    catalogue = progress.all_checks()
    rows: list[progress.Row] = []
    for student in settings.roster:
        log = progress.log_path(home=folder / "homes" / student)
        rows += progress.summarize(student, progress.read_events(log), catalogue)
    return rows


def report(folder: Path, csv_path: Path | None = None) -> str:
    """The table ``classroom report`` prints (and, with ``csv_path``, the CSV it writes)."""
    folder = folder.expanduser().resolve()
    if not folder.is_dir():
        raise ClassroomError(
            f"{folder} does not exist, so it holds no classroom. Pass the --dir that "
            "`classroom start` used (default: classroom/ in the course folder)."
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
    return progress.format_table(rows)
