"""One Unix account per student, so each student's Jupyter server runs as that student.

A roster name (``김민준``, ``Kim Minjun``, ``kim.minjun``) is first made a *sign-in
name* (what the student types and JupyterHub sees), then mapped by a pure function
to a *folder name* (``homes/<folder>``) and an *account name* (``PREFIX + folder``).
The course only ever uses accounts it made itself: an existing account without
:data:`COMMENT` in its GECOS field, or with another home, is refused, so no roster
line can take over ``root``, ``www-data`` or anyone's own account.

The hub runs as root inside folders the students own, so the files in a home are
handed over through file descriptors opened with ``O_NOFOLLOW``: no link a student
planted is ever followed.
"""

from __future__ import annotations

import errno
import grp
import hashlib
import os
import pwd
import re
import shutil
import stat
import subprocess
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from classroom.errors import ClassroomError

PREFIX = "jupyter-"
COMMENT = "dl-course classroom student"
MAX_SIGN_IN = 64  # characters, after normalisation
FOLDER_RULE = re.compile(r"[a-z][a-z0-9._-]{0,23}")  # a roster name kept as it is
PREFIX_RULE = re.compile(r"[a-z_][a-z0-9_.-]{0,7}")  # 8 + 24 = 32, Linux's user name limit
ACCOUNT_RULE = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")
SYSTEM_DIRS = "/usr/sbin:/sbin:/usr/bin:/bin"  # never root's $PATH: the tools run as root
NOLOGIN = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false")
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
# Revised Romanisation of the jamo of a Hangul syllable: initial, vowel, final consonant.
_INITIALS = "g kk n d tt r m b pp s ss - j jj ch k t p h".split()
_VOWELS = "a ae ya yae eo e yeo ye o wa wae oe yo u wo we wi yu eu ui i".split()
_FINALS = "- k k k n n n t l k m l l l p l m p p t t ng t t k t p t".split()


@dataclass(frozen=True)
class Account:
    """A student's Unix account; ``uid``/``gid`` are known once it exists."""

    sign_in: str
    name: str
    folder: str
    uid: int | None = None
    gid: int | None = None


def sign_in_problem(line: str) -> tuple[str, str | None]:
    """``(sign-in name, None)``, or ``(partial name, why JupyterHub cannot use it)``."""
    text = unicodedata.normalize("NFC", unicodedata.normalize("NFC", line).lower()).strip()
    for char in text:
        if unicodedata.category(char).startswith("C"):  # control, format, unassigned...
            kind = "a tab" if char == "\t" else "an invisible, control or unassigned character"
            return text, f"contains U+{ord(char):04X}, {kind}"
    name = " ".join(text.split())
    if not name:
        return name, "is blank"
    if "/" in name:
        return name, "contains '/'"
    if len(name) > MAX_SIGN_IN:
        return name, f"is {len(name)} characters long (at most {MAX_SIGN_IN})"
    return name, None


def sign_in_name(line: str) -> str:
    """What the student types at sign-in: NFC, spaces tidied, lower-cased.

    Surrounding whitespace is stripped and inner runs of whitespace become one
    space; JupyterHub lower-cases user names, so ``Kim.Minjun`` is ``kim.minjun``.
    """
    name, problem = sign_in_problem(line)
    if problem:
        raise ClassroomError(
            f"The roster name {line!r} cannot be a sign-in name: it {problem}. Write each "
            f"student's name on its own line, 1 to {MAX_SIGN_IN} characters with no '/', tab "
            "or invisible character (e.g. `김민준` or `kim.minjun`)."
        )
    return name


def _romanise(char: str) -> str:
    """A Hangul syllable's jamo in Revised Romanisation letters; '' for anything else."""
    index = ord(char) - 0xAC00
    if not 0 <= index < 11172:
        return ""
    initial, vowel, final = index // 588, index % 588 // 28, index % 28
    return "".join(p for p in (_INITIALS[initial], _VOWELS[vowel], _FINALS[final]) if p != "-")


def folder_name(sign_in: str) -> str:
    """The student's folder (and Unix name without the prefix): at most 24 safe characters.

    A name that already is one (``kim.minjun``, ``root``) is kept as it is; any other
    becomes a readable ASCII part, ``-`` and the first 6 hex digits of its SHA-256
    (``김민준`` -> ``gimminjun-`` + 6 hex digits).
    """
    name = sign_in_name(sign_in)
    if FOLDER_RULE.fullmatch(name):
        return name
    readable = []
    for char in name:
        if "\uac00" <= char <= "\ud7a3":
            readable.append(_romanise(char))
        elif char == " ":
            readable.append("-")
        else:  # keep ASCII letters, digits and . _ - (also those inside é or ｋ)
            ascii_part = unicodedata.normalize("NFKD", char).encode("ascii", "ignore")
            readable.append(re.sub(r"[^a-z0-9._-]", "", ascii_part.decode().lower()))
    part = "".join(readable)
    part = (part if part[:1].isalpha() else "u" + part)[:17].rstrip("._-")
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:6]
    return f"{part}-{digest}"


def account_name(sign_in: str, prefix: str = PREFIX) -> str:
    """The Unix account of a sign-in name: ``prefix + folder_name(sign_in)``."""
    if not PREFIX_RULE.fullmatch(prefix):
        raise ClassroomError(
            f"The account prefix {prefix!r} cannot start a Unix user name: use 1 to 8 "
            "lower-case letters, digits, '_', '.' or '-', starting with a letter or '_' "
            f"(the default is {PREFIX!r}); a name is never used without one."
        )
    name = prefix + folder_name(sign_in)
    if not ACCOUNT_RULE.fullmatch(name):  # cannot happen by construction; kept as a guard
        raise ClassroomError(f"{name!r} is not a valid Unix user name; report this bug.")
    return name


def plan(sign_ins: list[str], prefix: str = PREFIX) -> dict[str, Account]:
    """The accounts of a roster, keyed by sign-in name; every problem is reported at once."""
    account_name("a", prefix)  # checks the prefix before the names
    problems: list[str] = []
    by_name: dict[str, tuple[int, str]] = {}
    by_folder: dict[str, tuple[int, str]] = {}
    accounts: dict[str, Account] = {}
    for number, line in enumerate(sign_ins, start=1):
        name, problem = sign_in_problem(line)
        if problem:
            problems.append(f"name {number} ({line!r}) {problem}")
        elif seen := by_name.get(name) or by_folder.get(folder := folder_name(name)):
            why = (
                f"are the same sign-in name {name!r} (JupyterHub ignores case and extra spaces)"
                if name in by_name
                else f"would share the account {prefix + folder!r}"
            )
            problems.append(f"names {seen[0]} ({seen[1]!r}) and {number} ({line!r}) {why}")
        else:
            by_name[name] = by_folder[folder] = (number, line)
            accounts[name] = Account(name, account_name(name, prefix), folder)
    if problems:
        raise ClassroomError(
            f"The roster cannot be given Unix accounts: {'; '.join(problems)}. Remove the "
            "repeated name, or make the two names differ (e.g. add a number, `김민준2`); "
            f"a name is 1 to {MAX_SIGN_IN} characters with no '/', tab or invisible character."
        )
    return accounts


def _home(homes: Path, account: Account) -> str:
    return str(homes.absolute() / account.folder)


def check_existing(accounts: Iterable[Account], homes: Path) -> list[Account]:
    """The accounts still to create, once every existing one is the course's own.

    An account that exists must carry :data:`COMMENT` and live in ``homes/<folder>``;
    a group named like a missing account must not exist. Reads only; writes nothing.
    """
    missing, problems = [], []
    for account in accounts:
        try:
            entry = pwd.getpwnam(account.name)
        except KeyError:
            try:
                grp.getgrnam(account.name)
                problems.append(f"{account.name} (for {account.sign_in!r}: a group of that name)")
            except KeyError:
                missing.append(account)
            continue
        if entry.pw_gecos.split(",")[0] != COMMENT:
            problems.append(f"{account.name} (for {account.sign_in!r}: not made by the course)")
        elif entry.pw_dir != _home(homes, account):
            problems.append(
                f"{account.name} (for {account.sign_in!r}: made for another classroom, "
                f"its home is {entry.pw_dir})"
            )
    if problems:
        raise ClassroomError(
            f"These accounts already exist on this machine: {'; '.join(problems)}. The "
            "classroom only uses accounts it made for this folder, so that no student gets "
            "another person's files or rights. Remove each one if it is a leftover "
            "(`userdel NAME`, `groupdel NAME`), or use another account prefix, or rename the "
            "roster line."
        )
    return missing


def _tools(what: str, *names: str) -> list[str]:
    """The paths of ``names`` in the system folders, once we are root."""
    if os.geteuid() != 0:
        raise ClassroomError(
            f"{what} needs root (only root can add Unix accounts and give files to them). "
            "Run the command with sudo, or run the classroom without one account per student."
        )
    found = {n: shutil.which(n, path=SYSTEM_DIRS) for n in names}
    if missing := [name for name, path in found.items() if not path]:
        raise ClassroomError(
            f"{what} needs {' and '.join(missing)}, which this machine does not have. Install "
            "the `passwd` package (apt-get install passwd), or run the classroom without one "
            "account per student."
        )
    return [str(path) for path in found.values()]


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, env={"PATH": SYSTEM_DIRS})
    if done.returncode:
        raise ClassroomError(f"{what} failed: {done.stderr.strip() or done.returncode}.")


def _foreign(st: os.stat_result, uid: int) -> bool:
    """A hard link to a file of another account (e.g. /etc/shadow): never given away."""
    if st.st_nlink < 2 or st.st_uid == uid:
        return False
    try:
        return bool(pwd.getpwuid(st.st_uid))
    except KeyError:
        return False  # its owner's account is gone: a former student's own file


def _give_tree(top: int, uid: int, gid: int) -> None:
    """Give the open folder ``top`` and all under it to ``uid:gid``; never follow a link."""
    # Names are only ever resolved relative to a folder opened with O_NOFOLLOW. Symlinks,
    # FIFOs and sockets can only be changed by name; that is safe where the kernel stops
    # students hard-linking others' files (fs.protected_hardlinks), so only then.
    try:
        protected = Path("/proc/sys/fs/protected_hardlinks").read_text().strip() == "1"
    except OSError:
        protected = False
    device = os.fstat(top).st_dev  # other file systems mounted inside are left alone
    stack = [os.dup(top)]
    try:
        while stack:
            folder = stack.pop()
            try:
                os.chown(folder, uid, gid)
                for name in [entry.name for entry in os.scandir(folder)]:
                    try:
                        st = os.stat(name, dir_fd=folder, follow_symlinks=False)
                        if st.st_dev != device:
                            continue
                        if stat.S_ISDIR(st.st_mode):
                            stack.append(os.open(name, _DIR, dir_fd=folder))
                        elif stat.S_ISREG(st.st_mode):
                            fd = os.open(name, _FILE, dir_fd=folder)
                            try:
                                if not _foreign(os.fstat(fd), uid):
                                    os.chown(fd, uid, gid)
                            finally:
                                os.close(fd)
                        elif protected and (st.st_uid, st.st_gid) != (uid, gid):
                            os.chown(name, uid, gid, dir_fd=folder, follow_symlinks=False)
                    except OSError as err:  # changed while we looked: the student's doing
                        if err.errno not in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
                            raise
            finally:
                os.close(folder)
    finally:
        for folder in stack:
            os.close(folder)


def _check_homes(homes: Path, accounts: list[Account]) -> None:
    for account in accounts:
        path = Path(_home(homes, account))
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            raise ClassroomError(
                f"{path} should be {account.sign_in!r}'s home but is not a folder (or is a "
                "link). Move it out of the homes folder, and start again."
            )
    if any(char in str(homes.absolute()) for char in ":\n"):
        raise ClassroomError(
            f"The homes folder {homes} has ':' or a line break in its path, which the password "
            "database cannot hold. Use a classroom folder (--dir) without them."
        )
    try:
        st = homes.lstat()
    except FileNotFoundError:
        if homes.parent.is_dir():
            return
        raise ClassroomError(f"The folder {homes.parent} for the homes does not exist.") from None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
        raise ClassroomError(
            f"The homes folder {homes} must be a folder (not a link) owned by root that only "
            "root can write to: the students' homes sit in it, and anyone else who can write "
            f"there could swap a home for a link. Run `chown root: {homes}; chmod 755 {homes}`."
        )


def ensure(accounts: Iterable[Account], homes: Path) -> dict[str, Account]:
    """Make every missing account and its home; returns them all with ``uid``/``gid``.

    Checks everything first (root, the tools, ``homes``, :func:`check_existing`) and
    creates nothing if a check fails. A home that already exists (the account was
    deleted and made again) is given, with all its files, to the account.
    """
    accounts = list(accounts)
    [useradd] = _tools("Making the students' accounts", "useradd")
    shell = next((path for path in NOLOGIN if os.path.exists(path)), NOLOGIN[-1])
    _check_homes(homes, accounts)
    missing = check_existing(accounts, homes)
    if not homes.exists():
        homes.mkdir()
        homes.chmod(0o755)  # whatever the umask: each student must pass through it
    for account in missing:
        _run(
            [useradd, "--comment", COMMENT, "--home-dir", _home(homes, account)]
            + ["--no-create-home", "--shell", shell, "--user-group", "--", account.name],
            f"Making the account {account.name} for {account.sign_in!r} (those made before it "
            "are kept and used again at the next start)",
        )
    done = {}
    homes_fd = os.open(homes, _DIR)
    try:
        for account in accounts:
            entry = pwd.getpwnam(account.name)
            uid, gid = entry.pw_uid, entry.pw_gid
            try:
                os.mkdir(account.folder, 0o700, dir_fd=homes_fd)
            except FileExistsError:
                pass
            fd = os.open(account.folder, _DIR, dir_fd=homes_fd)
            try:
                st = os.fstat(fd)
                if (st.st_uid, st.st_gid) != (uid, gid):
                    _give_tree(fd, uid, gid)
                if stat.S_IMODE(st.st_mode) != 0o700:
                    os.chmod(fd, 0o700)
            except OSError as err:
                raise ClassroomError(
                    f"The home {_home(homes, account)} could not be given to {account.name} "
                    f"({err}). Move the file or folder named there out of it, and start again."
                ) from None
            finally:
                os.close(fd)
            done[account.sign_in] = replace(account, uid=uid, gid=gid)
    finally:
        os.close(homes_fd)
    return done


def remove(accounts: Iterable[Account]) -> None:
    """Delete the course's accounts and their groups, keeping the homes (never ``userdel -r``).

    Accounts that do not exist are skipped; if any account was not made by the course,
    nothing is deleted.
    """
    userdel, groupdel = _tools("Removing the students' accounts", "userdel", "groupdel")
    entries = []
    for account in accounts:
        try:
            entries.append(pwd.getpwnam(account.name))
        except KeyError:
            continue
    foreign = [e.pw_name for e in entries if e.pw_gecos.split(",")[0] != COMMENT]
    if foreign:
        raise ClassroomError(
            f"Not removing {', '.join(foreign)}: the course did not make it (its comment is not "
            f"{COMMENT!r}). Nothing was deleted; pass only the classroom's students."
        )
    for entry in entries:
        _run([userdel, "--", entry.pw_name], f"Removing the account {entry.pw_name}")
        try:  # userdel keeps the group where USERGROUPS_ENAB is off
            group = grp.getgrnam(entry.pw_name)
        except KeyError:
            continue
        if group.gr_gid == entry.pw_gid and not group.gr_mem:
            _run([groupdel, "--", entry.pw_name], f"Removing the group {entry.pw_name}")
