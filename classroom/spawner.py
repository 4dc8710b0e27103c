"""What the hub runs for the classroom: sign-in names, one account and one limit per student.

Loaded by ``jupyterhub_config.py`` inside the hub (which runs as root when students are
isolated). JupyterHub does the work; these subclasses only say *who* a server runs as and
*where* its limits live:

- :class:`CourseAuthenticator`: the shared-password sign-in, with names normalised as the
  roster's are (Unicode NFC, spaces collapsed, lower case), so 김민준 typed on any keyboard
  is the roster's 김민준;
- :class:`CourseSpawner`: JupyterHub's local process spawner, but the server runs as the
  student's own account (``jupyter-…``, see ``accounts.py``), not as an account named like
  the sign-in, inside a control group with the classroom's memory, CPU and process limits
  (``cgroups.py``). Kernels are the server's children, so they inherit both. The group is
  emptied and removed when the server stops;
- :class:`CourseSystemdSpawner`: the same accounts where systemd runs the machine, with
  systemd enforcing the same limits;
- :func:`give_chapters`: the pre-spawn hook that copies the chapters a student does not have
  yet into their home, as files that student owns, without ever overwriting one or following
  a link the student planted.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import tempfile
from pathlib import Path

from jupyterhub.authenticators.shared import SharedPasswordAuthenticator
from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
from traitlets import Float, Integer, Unicode

from classroom import accounts, cgroups


def normalise(name: str) -> str:
    """A typed name as the roster holds it (the roster's own rule); never raises: a name the
    roster could not hold is simply not on it, and the hub refuses it."""
    return accounts.sign_in_problem(name)[0]


class CourseAuthenticator(SharedPasswordAuthenticator):
    """The class password, with sign-in names compared the way the roster was read."""

    def normalize_username(self, username: str) -> str:
        return super().normalize_username(normalise(username))


class CourseSpawner(LocalProcessSpawner):
    """A local server run as the student's own account, inside the student's control group."""

    account_prefix = Unicode(accounts.PREFIX, config=True, help="prefix of the accounts")
    cgroup_parent = Unicode("", config=True, help="the class's group ('' = no groups)")
    memory_bytes = Integer(0, config=True, help="memory cap of one student's group")
    cpus = Float(1.0, config=True, help="CPU quota of one student's group, in cores")
    pids = Integer(256, config=True, help="most processes and threads in one student's group")

    _group: cgroups.Group | None = None

    @property
    def account_name(self) -> str:
        return accounts.account_name(self.user.name, self.account_prefix)

    def student_group(self) -> cgroups.Group | None:
        if not self.cgroup_parent:
            return None
        hierarchy = cgroups.detect()
        if isinstance(hierarchy, str):
            raise cgroups.CgroupError(f"The students' limits cannot be applied: {hierarchy}")
        return hierarchy.group(f"{self.cgroup_parent}/{accounts.folder_name(self.user.name)}")

    def make_preexec_fn(self, name):  # noqa: ARG002 - the hub passes its user name
        become_student = set_user_setuid(self.account_name)
        group = self._group

        def preexec():  # in the child, before exec: join the group as root, then drop
            if group is not None:
                group.join(0)
            become_student()

        return preexec

    def user_env(self, env):
        entry = pwd.getpwnam(self.account_name)
        env["USER"] = entry.pw_name
        env["HOME"] = entry.pw_dir
        env["SHELL"] = "/bin/bash"  # JupyterLab's terminal: the account itself has no login shell
        return env

    def _fresh_group(self) -> cgroups.Group | None:
        group = self.student_group()
        if group is not None:
            group.remove()  # what a server that died left behind (e.g. an orphaned kernel)
            group.create(cgroups.Limits(self.memory_bytes, self.cpus, self.pids))
        return group

    def _remove_group(self) -> None:
        group = self.student_group()
        if group is not None:
            group.remove()  # kernels the server left, then the folders

    async def start(self):
        # Killing what a group holds may wait a few seconds: not on the hub's event loop.
        self._group = await asyncio.get_running_loop().run_in_executor(None, self._fresh_group)
        return await super().start()

    async def stop(self, now=False):
        await super().stop(now=now)
        await asyncio.get_running_loop().run_in_executor(None, self._remove_group)


try:  # only where jupyterhub-systemdspawner is installed (requirements/classroom.txt)
    from systemdspawner import SystemdSpawner
except ImportError:  # pragma: no cover
    SystemdSpawner = None

if SystemdSpawner is not None:

    class CourseSystemdSpawner(SystemdSpawner):
        """systemd's transient unit per student, run as the student's own account."""

        account_prefix = Unicode(accounts.PREFIX, config=True)

        def _expand_user_vars(self, string):
            account = accounts.account_name(self.user.name, self.account_prefix)
            return string.format(USERNAME=account, USERID=self.user.id)


def give_chapters(home: Path, chapters: list[Path], uid: int | None = None, gid: int = -1) -> None:
    """Copy each chapter missing from ``home`` into it (owned by ``uid``); overwrite nothing.

    With accounts, the hub runs as root inside a folder the student owns, so nothing here
    follows a link: a new file is made with ``mkstemp`` (``O_EXCL``), given to the student
    through its descriptor, and renamed into place only where no file or link of that name
    exists. A copy cut short never looks like a chapter.
    """
    for notebook in chapters:
        target = home / notebook.name
        if os.path.lexists(target):
            continue
        fd, tmp = tempfile.mkstemp(dir=home, prefix=f".{notebook.name}.", suffix=".copying")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(notebook.read_bytes())
                if uid is not None:
                    os.fchown(out.fileno(), uid, gid)
                os.fchmod(out.fileno(), 0o644)
            if not os.path.lexists(target):
                os.replace(tmp, target)
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
