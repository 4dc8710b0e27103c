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
import json
import os
import pwd
import re
import secrets
import stat
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from classroom import accounts
from classroom.settings import ROOT, ClassroomError, Settings, chapter_notebooks

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC
STAMP = "%Y%m%d-%H%M%S"
COLLECTED = "collected"  # the default parent of the dated folders, in the classroom folder
INDEX_NAME = "index.csv"
INDEX_COLUMNS = ("student", "file", "status", "copied_at", "bytes", "saved_at", "note")
MAX_BYTES = 256 * 2**20  # a notebook larger than this is skipped (and said so), not read
SETTLE_SECONDS = 3.0  # how long a file that keeps changing (or is not JSON) is read again
JUPYTER_BACKUP = ".~"  # jupyter_server's copy of the previous save while it saves
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
class _Skip(Exception):
    """A file that is not copied; the message says why (for the index)."""


def _kind(mode: int) -> str:
    for test, what in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return what
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def _check(st: os.stat_result, owner: int) -> None:
    """Refuse anything but a regular file of the home's own account, of a sane size."""
    if stat.S_ISLNK(st.st_mode):
        raise _Skip("it is a symbolic link, which was not followed (its target was not read)")
    if not stat.S_ISREG(st.st_mode):
        raise _Skip(f"it is {_kind(st.st_mode)}, not a regular file: not read")
    if st.st_nlink > 1 and st.st_uid != owner:
        raise _Skip("it is a hard link to a file of another account: not read")
    if st.st_size > MAX_BYTES:
        raise _Skip(
            f"it is {st.st_size / 2**20:.0f} MiB, more than {MAX_BYTES // 2**20} MiB: not "
            "read (copy it by hand if it really is their notebook)"
        )


def _open_regular(dir_fd: int, name: str, owner: int) -> int | None:
    """A descriptor of the regular file ``name``, never through a link; None if it is gone."""
    try:
        _check(os.stat(name, dir_fd=dir_fd, follow_symlinks=False), owner)
        fd = os.open(name, _FILE, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as err:
        if err.errno == errno.ELOOP:  # made a link between the look and the open
            raise _Skip(
                "it is a symbolic link, which was not followed (its target was not read)"
            ) from None
        raise
    try:
        _check(os.fstat(fd), owner)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    keys = ("st_dev", "st_ino", "st_size", "st_mtime_ns", "st_ctime_ns")
    return all(getattr(a, key) == getattr(b, key) for key in keys)


def _read_once(fd: int) -> tuple[bytes, os.stat_result, bool]:
    """``(bytes, stat, steady)``: the whole file in one read; steady if nothing changed."""
    before = os.fstat(fd)
    chunks, total = [], 0
    while True:  # one read of the whole size (plus one byte, to see a file that grew)
        chunk = os.pread(fd, max(before.st_size + 1 - total, 1 << 16), total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > MAX_BYTES:
            raise _Skip(f"it grew past {MAX_BYTES // 2**20} MiB while being read: not copied")
    after = os.fstat(fd)
    return b"".join(chunks), before, _same(before, after) and total == before.st_size


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return False
    return True


def _saving(dir_fd: int, name: str) -> bool:
    """Whether Jupyter's backup of ``name`` exists: a save under way (or one cut short)."""
    try:
        os.stat(JUPYTER_BACKUP + name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return False
    return True


def _read_steady(dir_fd: int, name: str, owner: int) -> tuple[bytes, os.stat_result, bool] | None:
    """``(bytes, stat, is JSON)`` of one steady read, or None (gone, or changing)."""
    fd = _open_regular(dir_fd, name, owner)
    if fd is None:
        return None
    try:
        data, st, steady = _read_once(fd)
        whole = steady and _is_json(data)
        if whole and _saving(dir_fd, name):
            # A save is under way: only a second read giving the same bytes counts.
            again, st2, steady = _read_once(fd)
            steady = steady and again == data and _same(st, st2)
    finally:
        os.close(fd)
    return (data, st, whole) if steady else None


@dataclass
class _Snapshot:
    data: bytes
    stat: os.stat_result
    status: str = "copied"
    note: str = ""


def snapshot(
    dir_fd: int, name: str, owner: int, settle: float = SETTLE_SECONDS
) -> _Snapshot | None:
    """A whole copy of the file ``name`` in the open folder ``dir_fd``; None when it is missing.

    Raises :class:`_Skip` for what is not copied (a link, not a regular file, ...).
    """
    deadline = time.monotonic() + settle
    delay, damaged = 0.005, None
    while True:
        try:
            os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        read = _read_steady(dir_fd, name, owner)
        if read and read[2]:
            return _Snapshot(read[0], read[1])
        if read:
            damaged = read
        if time.monotonic() >= deadline:
            break
        time.sleep(delay)  # a save under way: give it a moment
        delay = min(delay * 2, 0.25)
    try:
        backup = _read_steady(dir_fd, JUPYTER_BACKUP + name, owner)
    except _Skip:
        backup = None
    if backup and backup[2]:
        return _Snapshot(
            backup[0],
            backup[1],
            "copied",
            f"their notebook was being saved (or a save was cut short): Jupyter's copy of "
            f"their previous save ({JUPYTER_BACKUP}{name}) was copied",
        )
    if damaged:
        return _Snapshot(
            damaged[0],
            damaged[1],
            "damaged",
            "it is not valid notebook JSON in their home (damaged, or cut short by a crash): "
            "copied as it is",
        )
    raise _Skip(f"it kept changing for {settle:g} s while being read: collect again")


# --- writing -------------------------------------------------------------------------------------
def _write_new(
    dir_fd: int, name: str, data: bytes, mode: int, owner: tuple[int, int] | None = None
) -> str:
    """Write ``data`` as a new hidden temp file in ``dir_fd``; returns its name (not renamed)."""
    tmp = f".{name}.{secrets.token_hex(4)}.part"
    fd = os.open(tmp, _NEW, 0o600, dir_fd=dir_fd)
    try:
        try:
            if owner is not None:
                os.fchown(fd, *owner)
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _unlink(dir_fd, tmp)
        raise
    return tmp


def _write_atomically(dir_fd: int, name: str, data: bytes, mode: int = 0o600) -> None:
    tmp = _write_new(dir_fd, name, data, mode)
    try:
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        _unlink(dir_fd, tmp)
        raise


def _unlink(dir_fd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass


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
        parent_fd = os.open(parent, _DIR)
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
            fd = os.open(name, _DIR, dir_fd=parent_fd)
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
        return os.open(accounts.folder_name(student), _DIR, dir_fd=homes_fd)
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
    except _Skip as why:
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
    _write_atomically(out_fd, row.file, snap.data)
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
        homes_fd: int | None = os.open(folder / "homes", _DIR)
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
            _write_atomically(out_fd, INDEX_NAME, text.getvalue().encode("utf-8"))
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
        homes_fd = os.open(folder / "homes", _DIR)
        try:
            home_fd = os.open(home.name, _DIR, dir_fd=homes_fd)
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
        tmp = _write_new(home_fd, notebook.name, fresh, 0o644, owner)  # as give_chapters does
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
                    _kind(st.st_mode),
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
            _unlink(home_fd, tmp)
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
