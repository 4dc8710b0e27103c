"""``classroom collect`` and ``classroom reset``: the teacher's hands on the students' chapters.

- :func:`collect` copies every student's current copy of one chapter into a new dated
  folder (``CLASSROOM_DIR/collected/NN-YYYYmmdd-HHMMSS/`` unless ``--out`` names another
  parent), one ``<folder name>.ipynb`` per student and an ``index.csv`` saying whose file is
  which, when it was copied, how big it is, and who is missing or was skipped. The class
  keeps working: nothing is locked or stopped.
- :func:`reset` gives one student a fresh copy of a chapter from the course, keeping the old
  one beside it as ``NN_name.before-reset-YYYYmmdd-HHMMSS.ipynb``.

The hub runs as root and the homes belong to the students, so a home is only ever entered
through descriptors opened with ``O_NOFOLLOW``: a link a student planted (as the home, as the
chapter) is never followed, and anything that is not a regular file is skipped, with the
reason in the index. A hard link to another account's file (``/etc/shadow``) is not read.

What a copy relies on. Jupyter's default save (jupyter_server's ``atomic_writing``) is
crash-safe, not atomic for readers: it copies the notebook to ``.~NAME``, then *truncates*
``NAME`` and writes it again in place, fsyncs, and deletes ``.~NAME``. A reader during that
save can see a partial file. So a copy is read in one go from one descriptor, and kept only
when the file did not change while it was read (same inode, size, mtime and ctime before and
after, every byte of that size read) and it parses as JSON; while a ``.~NAME`` says a save is
under way, a second identical read is needed too. Otherwise it is read again, for up to
:data:`SETTLE_SECONDS`; then Jupyter's ``.~NAME`` (the previous whole save) is taken; then a
file that stays the same but is not JSON (a damaged notebook) is copied as it is and marked
so. Writers that rename a finished temp file into place (``os.replace``; Jupyter with
``use_atomic_writing=False`` does *not*) give a whole version to every open.

Every file written (collected copies, the index, a reset's fresh copy) is written under a
temporary name in its final folder, then renamed, so none is ever seen half-written.
"""

from __future__ import annotations

import csv
import difflib
import errno
import io
import os
import pwd
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from classroom import accounts
from classroom.homefiles import (
    DIR_FLAGS,
    SETTLE_SECONDS,
    Skip,
    kind,
    snapshot,
    unlink,
    write_atomically,
    write_new,
)
from classroom.settings import ROOT, ClassroomError, Settings, chapter_notebooks

STAMP = "%Y%m%d-%H%M%S"
COLLECTED = "collected"  # the default parent of the dated folders, in the classroom folder
INDEX_NAME = "index.csv"
INDEX_COLUMNS = ("student", "file", "status", "copied_at", "bytes", "saved_at", "note")
NO_HOME = "no home yet (they have not signed in since the classroom was made)"
_SHOWN = 60  # roster names listed in a refusal


# --- what the teacher names ------------------------------------------------------------------
def load_classroom(folder: Path) -> tuple[Path, Settings]:
    """The classroom folder and its settings, refused as ``classroom report`` refuses them."""
    folder = folder.expanduser().resolve()
    if not folder.is_dir():
        raise ClassroomError(
            f"{folder} does not exist, so it holds no classroom. Pass the --dir that "
            "`classroom start` used (default: classroom-data/ in the course folder)."
        )
    return folder, Settings.load(folder)


def course_chapters(settings: Settings) -> list[Path]:
    """The chapters the hub gives students: the classroom's course, else this one."""
    return chapter_notebooks(Path(settings.course_root)) or chapter_notebooks(ROOT)


def find_chapter(chapters: list[Path], text: str) -> Path:
    """The chapter ``--chapter`` names: ``1``, ``01``, ``01_neurons_and_activations[.ipynb]``."""
    wanted = text.strip()
    if re.fullmatch(r"[0-9]{1,2}", wanted):
        wanted = f"{int(wanted):02d}"
    for notebook in chapters:
        if wanted in (notebook.name[:2], notebook.stem, notebook.name):
            return notebook
    if not chapters:
        raise ClassroomError(
            f"The course in {ROOT} has no chapters (helpers/chapters.py lists them), so there "
            "is nothing to name with --chapter. Run the command from a complete course folder."
        )
    valid = ", ".join(f"{nb.name[:2]} ({nb.stem})" for nb in chapters)
    raise ClassroomError(
        f"--chapter {text!r} is not a chapter of the course. Pass a chapter's two-digit "
        f"number, one of: {valid} (the notebooks in {chapters[0].parent}). Nothing was written."
    )


def find_student(settings: Settings, text: str) -> str:
    """The roster name ``--student`` names, compared as sign-in names are (case, spaces)."""
    name, problem = accounts.sign_in_problem(text)
    if not problem and name in settings.roster:
        return name
    close = [n for n in settings.roster if name and name in n][:3] or difflib.get_close_matches(
        name, settings.roster, n=3
    )
    shown = ", ".join(repr(n) for n in settings.roster[:_SHOWN])
    if len(settings.roster) > _SHOWN:
        shown += f" and {len(settings.roster) - _SHOWN} more (`classroom report` lists them all)"
    guess = f"Did you mean {' or '.join(repr(n) for n in close)}? " if close else ""
    raise ClassroomError(
        f"{text!r} is not on this classroom's roster (names are compared as students sign in: "
        f"capitals and extra spaces do not count). {guess}The roster has "
        f"{len(settings.roster)} name(s): {shown}. Pass --student with one of them. Nothing "
        "was written."
    )


def _needs_root(settings: Settings, what: str) -> None:
    if settings.isolation == "accounts" and os.geteuid() != 0:
        raise ClassroomError(
            f"{what} needs root here: each student works as their own Unix account, and their "
            "homes (mode 0700) belong to those accounts. Run it with sudo, as `classroom "
            "start` was. Nothing was written."
        )


# --- reading a student's file --------------------------------------------------------------------
def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


# --- collect -------------------------------------------------------------------------------------
@dataclass
class Collected:
    """One row of ``index.csv``: a student's copy, or why there is none."""

    student: str
    file: str = ""
    status: str = "missing"  # copied, damaged (copied as it is), missing, skipped
    copied_at: str = ""
    bytes: int | None = None
    saved_at: str = ""  # the student's file's modification time
    note: str = ""

    def row(self) -> list[str]:
        size = "" if self.bytes is None else str(self.bytes)
        return [
            self.student,
            self.file,
            self.status,
            self.copied_at,
            size,
            self.saved_at,
            self.note,
        ]


@dataclass
class Collection:
    folder: Path  # the dated folder
    chapter: str  # the notebook's name
    rows: list[Collected] = field(default_factory=list)


def _out_parent(folder: Path, out: Path | None) -> Path:
    parent = (out if out is not None else folder / COLLECTED).expanduser().resolve()
    homes = (folder / "homes").resolve()
    if parent == homes or parent.is_relative_to(homes):
        raise ClassroomError(
            f"--out {parent} is inside the students' homes ({homes}), where students could "
            "read or replace what is collected. Pass a folder outside them (the default is "
            f"{folder / COLLECTED}). Nothing was written."
        )
    if parent.exists() and not parent.is_dir():
        raise ClassroomError(
            f"--out {parent} is a file, not a folder. Pass a folder (a dated folder is made "
            "inside it). Nothing was written."
        )
    return parent


def _make_dated(parent: Path, base: str) -> tuple[Path, int]:
    """Make ``parent`` (0700 where new) and a new dated folder in it (0700); opened."""
    made = [p for p in (parent, *parent.parents) if not p.exists()]
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for path in reversed(made):
            path.chmod(0o700)  # it will hold students' work
        parent_fd = os.open(parent, DIR_FLAGS)
    except OSError as err:
        for path in made:  # innermost first
            try:
                path.rmdir()
            except OSError:
                break
        raise ClassroomError(
            f"The folder {parent} for the collected notebooks cannot be made or opened "
            f"({err.strerror or err}). Pass --out with a folder you can write to. Nothing was "
            "written."
        ) from None
    try:
        for n in range(1, 1000):
            name = base if n == 1 else f"{base}-{n}"
            try:
                os.mkdir(name, 0o700, dir_fd=parent_fd)
            except FileExistsError:
                continue
            fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
            os.fchmod(fd, 0o700)  # whatever the umask
            return parent / name, fd
        raise ClassroomError(f"{parent} already holds {base} and 999 more like it.")
    except OSError as err:
        raise ClassroomError(
            f"A folder for the collected notebooks cannot be made in {parent} "
            f"({err.strerror or err}). Pass --out with a folder you can write to."
        ) from None
    finally:
        os.close(parent_fd)


def _open_home(homes_fd: int | None, student: str) -> int | Collected:
    row = Collected(student)
    if homes_fd is None:
        row.note = NO_HOME
        return row
    try:
        return os.open(accounts.folder_name(student), DIR_FLAGS, dir_fd=homes_fd)
    except FileNotFoundError:
        row.note = NO_HOME
    except OSError as err:
        row.status = "skipped"
        if err.errno in (errno.ELOOP, errno.ENOTDIR):
            row.note = "their home is a symbolic link or not a folder: not followed"
        else:
            row.note = f"their home cannot be opened ({err.strerror or err})"
    return row


def _collect_one(
    homes_fd: int | None, student: str, chapter: str, out_fd: int, used: set[str], settle: float
) -> Collected:
    home = _open_home(homes_fd, student)
    if isinstance(home, Collected):
        return home
    row = Collected(student)
    try:
        owner = os.fstat(home).st_uid  # the student's account (or the hub's, when shared)
        snap = snapshot(home, chapter, owner, settle)
    except Skip as why:
        row.status, row.note = "skipped", f"their {chapter}: {why}"
        return row
    except OSError as err:
        row.status = "skipped"
        row.note = f"their {chapter} cannot be read ({err.strerror or err})"
        return row
    finally:
        os.close(home)
    if snap is None:
        row.note = f"there is no {chapter} in their home"
        return row
    copied_at = datetime.now().astimezone().isoformat(timespec="seconds")
    name = base = accounts.folder_name(student)
    for n in range(2, 1000):
        if f"{name}.ipynb" not in used:
            break
        name = f"{base}-{n}"
    row.file = f"{name}.ipynb"
    used.add(row.file)
    write_atomically(out_fd, row.file, snap.data)
    row.status, row.note = snap.status, snap.note
    row.copied_at, row.bytes, row.saved_at = copied_at, len(snap.data), _when(snap.stat.st_mtime)
    return row


def collect(
    folder: Path,
    chapter: str,
    out: Path | None = None,
    now: datetime | None = None,
    settle: float = SETTLE_SECONDS,
) -> Collection:
    """Copy every student's ``chapter`` into ``out/NN-YYYYmmdd-HHMMSS/`` with an index.

    Everything the teacher named is checked first; a refusal writes nothing.
    """
    folder, settings = load_classroom(folder)
    notebook = find_chapter(course_chapters(settings), chapter)
    _needs_root(settings, "Collecting the students' notebooks")
    parent = _out_parent(folder, out)
    try:
        homes_fd: int | None = os.open(folder / "homes", DIR_FLAGS)
    except FileNotFoundError:
        homes_fd = None  # nobody has a home yet: everyone is listed as missing
    except OSError as err:
        raise ClassroomError(
            f"The homes folder {folder / 'homes'} cannot be opened ({err.strerror or err}); "
            "it must be a folder, not a link. Nothing was written."
        ) from None
    try:
        stamp = (now or datetime.now()).strftime(STAMP)
        dated, out_fd = _make_dated(parent, f"{notebook.name[:2]}-{stamp}")
        collection = Collection(dated, notebook.name)
        try:
            used: set[str] = set()
            for student in settings.roster:
                collection.rows.append(
                    _collect_one(homes_fd, student, notebook.name, out_fd, used, settle)
                )
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(INDEX_COLUMNS)
            writer.writerows(row.row() for row in collection.rows)
            write_atomically(out_fd, INDEX_NAME, text.getvalue().encode("utf-8"))
        except OSError as err:
            raise ClassroomError(
                f"Writing into {dated} failed ({err.strerror or err}); what was copied before "
                "is there, without its index. Free some space (or pass --out elsewhere) and "
                "collect again."
            ) from None
        finally:
            os.close(out_fd)
    finally:
        if homes_fd is not None:
            os.close(homes_fd)
    return collection


def describe_collection(collection: Collection) -> str:
    rows = collection.rows
    copied = [r for r in rows if r.file]
    lines = [
        f"Collected {collection.chapter} from {len(copied)} of {len(rows)} students into "
        f"{collection.folder}/",
        "(one <student's folder name>.ipynb each; readable by you only)",
    ]
    for status in ("damaged", "missing", "skipped"):
        for r in (r for r in rows if r.status == status):
            lines.append(f"  {status}: {r.student}: {r.note}")
    for r in (r for r in rows if r.status == "copied" and r.note):
        lines.append(f"  note: {r.student}: {r.note}")
    lines.append(
        f"Who is which file, when it was copied and its size: {collection.folder / INDEX_NAME}"
    )
    return "\n".join(lines)


# --- reset ---------------------------------------------------------------------------------------
@dataclass
class Reset:
    student: str
    chapter: str
    home: Path
    kept: str | None  # the old copy's dated name in the home; None when there was none
    was: str = ""  # what the old copy was ("a regular file", "a symbolic link", ...)


def _owner(settings: Settings, student: str, home_fd: int) -> tuple[int, int] | None:
    if settings.isolation != "accounts":
        if os.geteuid() != 0:
            return None  # the hub's account, which is ours
        st = os.fstat(home_fd)
        return st.st_uid, st.st_gid
    account = settings.accounts.get(student)
    try:
        if not account:
            raise KeyError(student)
        entry = pwd.getpwnam(account)
    except KeyError:
        raise ClassroomError(
            f"{student!r} has no Unix account on this machine yet ({account or 'none planned'}"
            "): `classroom start` makes it. Start the classroom once, then reset. Nothing was "
            "written."
        ) from None
    return entry.pw_uid, entry.pw_gid


def _keep_aside(home_fd: int, name: str, st: os.stat_result, stamp: str) -> str:
    """Give the old ``name`` a new dated name in the same home; returns it. Follows nothing."""
    stem, suffix = name[: -len(".ipynb")], ".ipynb"
    for n in range(1, 1000):
        kept = f"{stem}.before-reset-{stamp}{'' if n == 1 else f'-{n}'}{suffix}"
        if not stat.S_ISDIR(st.st_mode):
            try:  # a second name for the same file (a link is linked, never followed)
                os.link(name, kept, src_dir_fd=home_fd, dst_dir_fd=home_fd, follow_symlinks=False)
                return kept
            except FileExistsError:
                continue
            except OSError as err:
                if err.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK):
                    raise  # else: no hard links here; rename it below
        try:
            os.stat(kept, dir_fd=home_fd, follow_symlinks=False)
            continue
        except FileNotFoundError:
            os.rename(name, kept, src_dir_fd=home_fd, dst_dir_fd=home_fd)
            return kept
    raise ClassroomError(f"The home already holds {stem}.before-reset-{stamp} and 999 more.")


def reset(folder: Path, student: str, chapter: str, now: datetime | None = None) -> Reset:
    """Give ``student`` a fresh copy of ``chapter``; their old one keeps a dated name beside it."""
    folder, settings = load_classroom(folder)
    name = find_student(settings, student)
    notebook = find_chapter(course_chapters(settings), chapter)
    _needs_root(settings, "Resetting a student's chapter")
    fresh = notebook.read_bytes()
    home = folder / "homes" / accounts.folder_name(name)
    try:
        homes_fd = os.open(folder / "homes", DIR_FLAGS)
        try:
            home_fd = os.open(home.name, DIR_FLAGS, dir_fd=homes_fd)
        finally:
            os.close(homes_fd)
    except FileNotFoundError:
        raise ClassroomError(
            f"{name!r} has no home yet ({home}): it is made when the classroom starts (or, "
            "with --shared-account, when they first sign in), and the hub then gives them "
            "every chapter. Nothing was written."
        ) from None
    except OSError as err:
        raise ClassroomError(
            f"{name!r}'s home {home} cannot be opened ({err.strerror or err}): it must be a "
            "folder, not a link. Nothing was written."
        ) from None
    stamp = (now or datetime.now()).strftime(STAMP)
    result = Reset(name, notebook.name, home, None)
    try:
        owner = _owner(settings, name, home_fd)
        tmp = write_new(home_fd, notebook.name, fresh, 0o644, owner)  # as give_chapters does
        try:
            for _ in range(5):
                try:
                    st = os.stat(notebook.name, dir_fd=home_fd, follow_symlinks=False)
                except FileNotFoundError:
                    try:  # a new name only: never over a file the student just made
                        os.link(tmp, notebook.name, src_dir_fd=home_fd, dst_dir_fd=home_fd)
                    except FileExistsError:
                        continue
                    break
                result.kept, result.was = (
                    _keep_aside(home_fd, notebook.name, st, stamp),
                    kind(st.st_mode),
                )
                try:  # the student sees their old file, then the fresh one: never none
                    os.replace(tmp, notebook.name, src_dir_fd=home_fd, dst_dir_fd=home_fd)
                except (IsADirectoryError, NotADirectoryError):
                    continue  # swapped for a folder meanwhile: keep that aside too
                break
            else:
                raise ClassroomError(
                    f"{home / notebook.name} kept changing while it was reset; try again."
                )
        finally:
            unlink(home_fd, tmp)
    except OSError as err:
        raise ClassroomError(
            f"Resetting {home / notebook.name} failed ({err.strerror or err}); their old copy "
            f"is {'kept as ' + result.kept if result.kept else 'untouched'}."
        ) from None
    finally:
        os.close(home_fd)
    return result


def describe_reset(done: Reset) -> str:
    if done.kept is None:
        what = f"They had no copy; {done.chapter} is now the course's."
    else:
        old = "their old copy" if done.was == "a regular file" else f"what was there ({done.was})"
        what = (
            f"{done.chapter} is now a fresh copy of the course's; {old} is kept beside it as "
            f"{done.kept}."
        )
    return (
        f"Reset chapter {done.chapter[:2]} for {done.student!r} in {done.home}. {what} If the "
        "notebook is open in their JupyterLab, they should close its tab without saving (or "
        "choose Revert when JupyterLab says the file changed on disk), or an autosave writes "
        "their old work over the fresh copy."
    )
