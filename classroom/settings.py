"""A classroom's settings, checked before anything starts or is written.

Everything the teacher passes to ``classroom start`` is checked here first; a
bad value raises :class:`ClassroomError` with one paragraph that says what was
wrong and how to fix it, and nothing has been written to disk at that point.
The checked settings are then saved in ``DIR/classroom.json`` (the passwords in
``DIR/secrets.json``, readable by the owner only), which the hub's config file
reads.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from classroom.errors import ClassroomError  # the other modules import it from here
from helpers import chapters as registry

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_NAME = "classroom.json"
SECRETS_NAME = "secrets.json"
CLASS_PASSWORD_ENV = "COURSE_CLASS_PASSWORD"
TEACHER_PASSWORD_ENV = "COURSE_TEACHER_PASSWORD"
CLASS_MIN, TEACHER_MIN = 8, 32
MIN_PIDS = 64  # JupyterHub's SharedPasswordAuthenticator minimums
# Lower-case letters, digits and . _ -, starting with a letter: valid as a JupyterHub
# name, a folder name, a Unix user name and a Kubernetes pod label alike.
NAME_RULE = re.compile(r"[a-z][a-z0-9._-]{0,31}")


def chapter_notebooks(root: Path = ROOT) -> list[Path]:
    """The chapter notebooks of the course folder ``root``, in order: what its registry
    (``root/helpers/chapters.py``) lists, never a stray copy beside them. A course folder
    from before the registry has its chapters found by name (``notebooks/NN_*.ipynb``)."""
    return registry.notebook_paths(root)


MEMORY_RULE = re.compile(r"(\d+(?:\.\d+)?)([KMGT]?)", re.IGNORECASE)


@dataclass
class Settings:
    """What ``classroom start`` was asked for, after checking."""

    roster: list[str]
    teacher: str = "teacher"
    ip: str = "127.0.0.1"
    port: int = 8000
    mem: str = "2G"
    cpus: float = 1.0
    idle_minutes: int = 60
    data_dir: str = ""
    ssl_cert: str = ""
    ssl_key: str = ""
    site_dir: str = ""
    course_root: str = str(ROOT)
    spawner: str = "local"  # "systemd" where systemd can enforce the limits
    # "accounts": one Unix account and one control group per student (the hub runs as root);
    # "shared": every server runs as the hub's account (--shared-account, or a learner alone).
    isolation: str = "shared"
    account_prefix: str = "jupyter-"
    cgroup_parent: str = ""  # the class's control group ("" when there is none)
    pids: int = 256
    student_env: str = ""  # the students' read-only environment (studentenv.py)
    accounts: dict[str, str] = field(default_factory=dict)  # roster name -> Unix account
    # Ports that only the hub itself uses (chosen free at each start).
    internal_ports: dict[str, int] = field(default_factory=dict)

    def save(self, folder: Path) -> None:
        text = json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"
        write_atomically(folder / SETTINGS_NAME, text, mode=0o600)  # the hub's eyes only

    @classmethod
    def load(cls, folder: Path) -> Settings:
        path = folder / SETTINGS_NAME
        if not path.is_file():
            raise ClassroomError(
                f"{folder} holds no classroom (there is no {SETTINGS_NAME} in it). Pass the "
                "--dir that `classroom start` used (default: classroom-data/ in the course "
                "folder), or start a classroom there first with `python3 course.py classroom "
                "start --roster students.txt`."
            )
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    """Write a whole file or nothing: a temp file in the same folder, then a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_roster(path: Path, teacher: str = "teacher") -> list[str]:
    """The students' names, one per line; every problem is reported at once."""
    if not path.is_file():
        raise ClassroomError(
            f"The roster {path} does not exist. Write the students' names in a text file, "
            "one per line (for example `kim.minjun`), and pass it with --roster."
        )
    try:
        lines = path.read_text(encoding="utf-8-sig").split("\n")  # a spreadsheet's BOM too
    except UnicodeDecodeError:
        raise ClassroomError(
            f"The roster {path} is not UTF-8 text. Save it as plain text "
            "(UTF-8), one student name per line."
        ) from None
    if lines and lines[-1] == "":
        lines.pop()  # the newline at the end of the last line
    from classroom.accounts import sign_in_problem

    problems, seen, names = [], {}, []
    for number, raw in enumerate(lines, start=1):
        name, problem = sign_in_problem(raw.rstrip("\r"))
        if problem and name:
            problems.append(f"line {number} ({raw.strip()!r}) {problem}")
        elif not name:
            problems.append(f"line {number} is blank")
        elif name in seen:
            problems.append(
                f"line {number} ({raw.strip()!r}) is the same sign-in name as line {seen[name]} "
                f"({name!r}: names are compared without case and extra spaces)"
            )
        elif name == teacher:
            problems.append(f"line {number} is the teacher's name {name!r}")
        else:
            seen[name] = number
            names.append(name)
    if not names and not problems:
        problems.append("it has no names")
    if problems:
        shown = "; ".join(problems[:8]) + (
            f"; and {len(problems) - 8} more" if len(problems) > 8 else ""
        )
        raise ClassroomError(
            f"The roster {path} cannot be used: {shown}. Write one name per line, as each "
            "student will type it to sign in (e.g. `kim.minjun`, `Kim Minjun` or `김민준`; "
            "capitals and extra spaces do not count), with no blank lines and no repeats, and "
            f"not the teacher's name ({teacher!r}, set with --teacher)."
        )
    return names


def check_name(name: str, what: str) -> str:
    if not NAME_RULE.fullmatch(name):
        raise ClassroomError(
            f"The {what} {name!r} is not a valid user name: use 1 to 32 lower-case letters, "
            "digits, dots, hyphens or underscores, starting with a letter."
        )
    return name


def check_options(args) -> tuple[str, list[str]]:
    """The options ``start`` and ``kubernetes`` share: ``(teacher, roster)`` once all are fine."""
    teacher = check_name(args.teacher, "teacher name (--teacher)")
    roster = read_roster(Path(args.roster), teacher)
    if args.cpus <= 0:
        raise ClassroomError(f"--cpus {args.cpus} must be above 0, e.g. --cpus 1.")
    if getattr(args, "pids", 256) < MIN_PIDS:
        raise ClassroomError(
            f"--pids {args.pids} is too few: a student's server, a kernel and TensorFlow's "
            f"threads need about 60 (threads count as processes here). Use --pids {MIN_PIDS} "
            "or more (the default, 256, leaves room for a terminal and a few scripts)."
        )
    if args.idle_minutes < 1:
        raise ClassroomError(f"--idle-minutes {args.idle_minutes} must be 1 or more.")
    if bool(args.ssl_cert) != bool(args.ssl_key):
        raise ClassroomError("Pass both --ssl-cert and --ssl-key, or neither.")
    for path in (args.ssl_cert, args.ssl_key):
        if path and not Path(path).is_file():
            raise ClassroomError(
                f"The TLS file {path} does not exist: pass the certificate "
                "and key files your school issued for this server."
            )
    return teacher, roster


def load_passwords(folder: Path) -> tuple[str, str, bool]:
    """``(class_password, teacher_password, generated)``.

    The environment wins (``COURSE_CLASS_PASSWORD``, ``COURSE_TEACHER_PASSWORD``);
    otherwise the ones stored in ``folder`` at an earlier start; otherwise new
    ones are generated (``generated`` is then True: the caller saves and prints
    them once).
    """
    stored: dict[str, str] = {}
    path = folder / SECRETS_NAME
    if path.is_file():
        stored = json.loads(path.read_text(encoding="utf-8"))
    class_pw = os.environ.get(CLASS_PASSWORD_ENV) or stored.get("class_password", "")
    teacher_pw = os.environ.get(TEACHER_PASSWORD_ENV) or stored.get("teacher_password", "")
    generated = False
    if not class_pw:
        class_pw = "-".join(secrets.token_hex(2) for _ in range(3))  # e.g. 3f9a-07bc-e1d2
        generated = True
    if not teacher_pw:
        teacher_pw = secrets.token_urlsafe(30)  # 40 characters
        generated = True
    check_passwords(class_pw, teacher_pw)
    return class_pw, teacher_pw, generated


def check_passwords(class_pw: str, teacher_pw: str) -> None:
    if len(class_pw) < CLASS_MIN:
        raise ClassroomError(
            f"The class password is {len(class_pw)} characters long; it needs at least "
            f"{CLASS_MIN}. Set a longer {CLASS_PASSWORD_ENV}, or unset it and a password is "
            "generated for you."
        )
    if len(teacher_pw) < TEACHER_MIN:
        raise ClassroomError(
            f"The teacher's password is {len(teacher_pw)} characters long; it needs at least "
            f"{TEACHER_MIN} (it gives admin rights over every student's server). Set a longer "
            f"{TEACHER_PASSWORD_ENV}, or unset it and one is generated for you."
        )
    if class_pw == teacher_pw:
        raise ClassroomError(
            f"The class password and the teacher's password are the same. Set "
            f"{CLASS_PASSWORD_ENV} and {TEACHER_PASSWORD_ENV} to different values."
        )


def save_passwords(folder: Path, class_pw: str, teacher_pw: str) -> None:
    write_atomically(
        folder / SECRETS_NAME,
        json.dumps({"class_password": class_pw, "teacher_password": teacher_pw}) + "\n",
        mode=0o600,
    )


def check_folder(folder: Path) -> Path:
    """Prove ``folder`` can be created and written to; leave nothing behind if it is new."""
    folder = folder.expanduser().resolve()
    new = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as err:
        for path in reversed(new):  # the outermost folder this call created
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                break
        raise ClassroomError(
            f"The classroom folder {folder} cannot be written to ({err.strerror or err}). "
            "Pass a folder you own with --dir (it holds the hub's state, the students' "
            "homes and a read-only copy of the data)."
        ) from None
    for path in new:  # made only to prove it works (innermost first): start makes it again
        path.rmdir()
    return folder


def check_port(ip: str, port: int, what: str = "--port") -> None:
    """Refuse a port that something else is listening on, before starting anything."""
    if not 1 <= port <= 65535:
        raise ClassroomError(f"{what} {port} is not a port number: use 1 to 65535.")
    with socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET) as sock:
        # As servers bind: a port whose last connections are closing (TIME_WAIT) is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((ip, port))
        except OSError as err:
            raise ClassroomError(
                f"Port {port} on {ip} is not free ({err.strerror or err}): another program, "
                "or a classroom that is still running, uses it. Stop that program, or choose "
                f"another port with {what} (e.g. {what} {port + 1})."
            ) from None


def free_port(ip: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((ip, 0))
        return sock.getsockname()[1]


def check_memory(text: str) -> str:
    if not MEMORY_RULE.fullmatch(text.strip()):
        raise ClassroomError(
            f"--mem {text!r} is not an amount of memory: write a number with K, M, G or T, "
            "e.g. --mem 2G or --mem 1500M."
        )
    return text.strip().upper()


def memory_bytes(text: str) -> int:
    number, unit = MEMORY_RULE.fullmatch(text.strip()).groups()  # type: ignore[union-attr]
    return int(float(number) * 1024 ** "_KMGT".index(unit.upper() or "_"))


def default_data_source() -> Path:
    """The default ``--data`` of ``classroom start``, ``kubernetes`` and ``bench``: the course's
    data folder as the loaders find it (``COURSE_DATA_DIR``, else ``data/``)."""
    from helpers.datasets import default_data_dir

    return default_data_dir()


def verify_data(source: Path) -> list[str]:
    """The files of a data folder, once every one matches its ``SHA256SUMS``; writes nothing."""
    from helpers.datasets import DatasetError, verify

    if not source.is_dir():
        raise ClassroomError(
            f"The data folder {source} does not exist. Download the datasets on a machine "
            "with internet (`.venv/bin/python -m helpers.datasets fetch --to data`) and copy "
            "the folder here, then pass it with --data (or set COURSE_DATA_DIR)."
        )
    try:
        results = verify(source)
    except DatasetError as err:
        raise ClassroomError(str(err)) from None
    bad = [f"{rel} ({status.lower()})" for rel, status in results if status != "OK"]
    if bad:
        raise ClassroomError(
            f"The data folder {source} fails its checksums: {', '.join(bad)}. Copy those files "
            "again from their source, or fetch them anew with `.venv/bin/python -m "
            f"helpers.datasets fetch --to {source}`; `.venv/bin/python -m helpers.datasets "
            f"verify {source}` checks the folder."
        )
    return [rel for rel, _ in results]


def copy_data(source: Path, files: list[str], folder: Path) -> Path:
    """A read-only copy of checked data in ``folder/data``; returns its path.

    The copy is made beside its final place and renamed into it, so a copy cut
    short never looks complete; an existing copy that still matches is kept. The data the
    course carries itself (chapter 9's reviews, ``shipped-data/``) is added, checked, when
    ``source`` lacks it: the students' environment and the image hold the helpers without
    the course folder, so their loaders find it only in the class's data folder.
    """
    from helpers.datasets import DatasetError, carried_datasets, fetch, verify

    carried = {name: rels for name, rels in carried_datasets().items() if set(rels) - set(files)}
    target = folder / "data"
    if target.is_dir():
        try:
            found = sorted(rel for rel, ok in verify(target) if ok == "OK")
            wanted = {*files, *(rel for rels in carried.values() for rel in rels)}
            if found in (sorted(files), sorted(wanted)):
                return target
        except DatasetError:
            pass
        remove_tree(target)
    staging = Path(tempfile.mkdtemp(dir=folder, prefix=".data-"))
    try:
        for rel in files:
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / rel, staging / rel)
        shutil.copyfile(source / "SHA256SUMS", staging / "SHA256SUMS")
        if carried:
            try:  # copies the committed file, checked, and adds it to SHA256SUMS
                fetch(staging, datasets=list(carried), quiet=True)
            except DatasetError:
                pass  # no committed copy (an installed course): chapters 1-8 need none of it
        _make_read_only(staging)
        os.replace(staging, target)
    except BaseException:
        remove_tree(staging)
        raise
    return target


def _make_read_only(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    folder.chmod(0o555)


def remove_tree(folder: Path) -> None:
    """Delete a folder, read-only data copies included; nothing if it does not exist."""
    if not folder.exists():
        return
    folder.chmod(folder.stat().st_mode | stat.S_IWUSR)
    for path in folder.rglob("*"):
        if path.is_dir():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    shutil.rmtree(folder)
