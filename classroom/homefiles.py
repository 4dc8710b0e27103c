"""Reading and writing inside students' homes, as root, without following what they planted.

The hub (root) acts in folders the students own, so a home is only ever entered through
descriptors opened with ``O_NOFOLLOW``: a link a student planted is never followed, anything
that is not a regular file is refused with its kind, and a hard link to another account's
file is not read. :func:`snapshot` reads a notebook whole even while Jupyter saves it in
place (see ``collect.py``'s docstring); :func:`write_atomically` and :func:`write_new` write
under a temporary name in the final folder, then rename, so no file is seen half-written.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import stat
import time
from dataclasses import dataclass

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC
MAX_BYTES = 256 * 2**20  # a notebook larger than this is skipped (and said so), not read
SETTLE_SECONDS = 3.0  # how long a file that keeps changing (or is not JSON) is read again
JUPYTER_BACKUP = ".~"  # jupyter_server's copy of the previous save while it saves


class Skip(Exception):
    """A file that is not copied; the message says why (for the index)."""


def kind(mode: int) -> str:
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
        raise Skip("it is a symbolic link, which was not followed (its target was not read)")
    if not stat.S_ISREG(st.st_mode):
        raise Skip(f"it is {kind(st.st_mode)}, not a regular file: not read")
    if st.st_nlink > 1 and st.st_uid != owner:
        raise Skip("it is a hard link to a file of another account: not read")
    if st.st_size > MAX_BYTES:
        raise Skip(
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
            raise Skip(
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
            raise Skip(f"it grew past {MAX_BYTES // 2**20} MiB while being read: not copied")
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

    Raises :class:`Skip` for what is not copied (a link, not a regular file, ...).
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
    except Skip:
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
    raise Skip(f"it kept changing for {settle:g} s while being read: collect again")


# --- writing -------------------------------------------------------------------------------------
def write_new(
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
        unlink(dir_fd, tmp)
        raise
    return tmp


def write_atomically(dir_fd: int, name: str, data: bytes, mode: int = 0o600) -> None:
    tmp = write_new(dir_fd, name, data, mode)
    try:
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        unlink(dir_fd, tmp)
        raise


def unlink(dir_fd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
