"""Whether a classroom can keep its students apart, and the folder modes that do it.

Three routes, chosen by ``classroom start`` before anything is written:

- **accounts** (the hub runs as root, and control groups can be made, or systemd runs the
  machine): each student's server runs as their own Unix account, in their own control
  group (or systemd unit) with the memory, CPU and process caps; the hub's files are its
  own; each home is its student's alone;
- **shared** (``--shared-account``, or a roster of one): every server runs as the hub's
  account. Any student can then read the teacher's password and change others' work,
  which ``start`` prints and the README states;
- anything else is refused with one paragraph that says why and what to do.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from classroom import cgroups
from classroom.settings import ClassroomError, memory_bytes

MIN_MEMORY = "1G"  # a server plus a kernel that imports TensorFlow: 0.9 GB measured (ch. 01)
SHARED_RISKS = (
    "every student's server and kernels run as this account ({user}), so any student can, "
    "from a notebook: read the class's secrets.json and with it sign in as the teacher "
    "(admin of every server); read the hub's cookie secret and database; read, change or "
    "delete every other student's notebooks and progress log; stop other students' kernels; "
    "and use up the machine's memory, CPU and processes (no limit is enforced)"
)


@dataclass(frozen=True)
class Route:
    isolation: str  # "accounts" or "shared"
    spawner: str  # "local" or "systemd"
    why_not: str = ""  # why accounts are not possible here ("" when they are)


def systemd_available() -> bool:
    """True where systemd runs this machine, so it can enforce per-student limits."""
    return Path("/run/systemd/system").is_dir() and shutil.which("systemd-run") is not None


def why_no_accounts() -> str:
    """Why students cannot each get an account and limits here ('' when they can)."""
    if os.geteuid() != 0:
        return (
            "the hub does not run as root, so it cannot give each student an account of their "
            "own nor limit their memory, CPU and processes"
        )
    if not shutil.which("useradd"):
        return "this machine has no `useradd` command, so no student accounts can be made"
    if systemd_available():
        return ""
    found = cgroups.detect()
    return f"no control groups can be made here ({found})" if isinstance(found, str) else ""


def choose(students: int, shared_account: bool) -> Route:
    """The route for this machine and roster; a ClassroomError when none is safe."""
    if shared_account:
        return Route("shared", "local", why_no_accounts())
    why = why_no_accounts()
    if not why:
        return Route("accounts", "systemd" if systemd_available() else "local")
    if students <= 1:
        return Route("shared", "local", why)
    raise ClassroomError(
        f"This classroom cannot keep its {students} students apart: {why}. Without that, "
        f"{SHARED_RISKS.format(user=_me())}. Start it as root (`sudo python3 course.py "
        "classroom start ...`) on a Linux machine that runs systemd or lets root create "
        "control groups (most servers and containers started with enough privileges do), or "
        "use Kubernetes (`classroom kubernetes`). To run anyway, knowing the above, add "
        "--shared-account. A learner working alone needs none of this: `python3 course.py lab`."
    )


def _me() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def check_memory_floor(mem: str) -> None:
    if memory_bytes(mem) < memory_bytes(MIN_MEMORY):
        raise ClassroomError(
            f"--mem {mem} is less than a student needs: their server and a kernel that imports "
            "TensorFlow use about 0.9 GB (chapter 01 measured 886 MB), so with less the kernel "
            f"dies as it starts. Give each student at least --mem {MIN_MEMORY} (2G runs every "
            "chapter)."
        )


def class_group(folder: Path, prefix: str) -> str:
    """The classroom's control group: one per classroom folder and account prefix."""
    digest = hashlib.sha256(f"{folder}\0{prefix}".encode()).hexdigest()[:8]
    return f"dl-course-{prefix.rstrip('-_.')}-{digest}"


def unreachable_parent(folder: Path) -> Path | None:
    """The first folder above ``folder`` that other accounts cannot pass through, if any."""
    for parent in reversed(folder.parents):
        if not parent.stat().st_mode & stat.S_IXOTH:
            return parent
    return None


def check_reachable(folder: Path) -> None:
    """Students' accounts must reach their homes inside ``folder``; refuse before writing."""
    blocked = unreachable_parent(folder)
    if blocked is not None:
        raise ClassroomError(
            f"The students' accounts cannot reach the classroom folder {folder}: {blocked} lets "
            "only its owner in (never loosen a home folder's mode for this). Keep the "
            "classroom outside it: pass --dir /srv/dl-course (or another folder outside any "
            "home); the course itself can stay where it is."
        )


def lock_down(folder: Path) -> None:
    """Modes for the accounts route: students pass through, read the data, see nothing else.

    ``folder`` 0711 (no listing), ``state/`` and the two settings files the hub's only,
    ``homes/`` 0711 (each home is 0700, its student's), ``data/`` read-only for all.
    """
    folder.chmod(0o711)
    (folder / "homes").chmod(0o711)
    (folder / "state").chmod(0o700)
    for name in ("secrets.json", "classroom.json"):
        path = folder / name
        if path.exists():
            path.chmod(0o600)
