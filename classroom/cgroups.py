"""Control groups for the students' Jupyter servers: a memory cap, a CPU quota, a task cap.

Each student's server goes in its own group (its kernels inherit it), e.g.
``dl-course-ab12cd/jupyter-alice``; :func:`remove_tree` removes a class's groups.

Where the groups are made:

- **cgroup v2** (preferred, when its root lists the memory, cpu and pids controllers):
  under the root of the v2 mount. v2 lets a group pass controllers to its children only
  while it holds no processes of its own (the "no internal processes" rule), and the hub's
  own group holds the hub; the root of the hierarchy is exempt from that rule.
- **cgroup v1**: under the calling process's own group in each controller's hierarchy,
  read from ``/proc/self/cgroup`` (e.g. ``4:memory:/process_api/9bb0...``), so that a hub
  that is itself confined (a container, a systemd unit) keeps its students inside its own
  limits; v1 has no internal-processes rule. If that path is not visible under the mount
  (a container that sees only its own group at the mount point), the mount itself is used.

Control files are written with plain ``os.open`` without ``O_CREAT``: a file the kernel
does not show is an error, never created. In v2, controllers enabled in a parent's
``cgroup.subtree_control`` stay enabled after a failure or a removal (siblings may use
them). A cgroup folder can be removed with ``rmdir`` once it holds no processes and no
child groups, although it still lists its control files: :meth:`Group.remove` relies on
that and never deletes a file (a fake tree in the tests has to emulate it).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from classroom.settings import ClassroomError

CONTROLLERS = ("memory", "cpu", "pids")
PERIOD_US = 100_000  # the CFS period: a quota of 100000 per period is one core
_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
# A file each v1 controller shows in a group (the root of the pids hierarchy shows none).
_V1_MARKER = {"memory": "memory.limit_in_bytes", "cpu": "cpu.cfs_quota_us", "pids": "pids.max"}
_AS_ROOT = "The hub must run as root to manage control groups: start it as root."
_HINTS = {
    errno.EACCES: _AS_ROOT,
    errno.EPERM: _AS_ROOT,
    errno.EBUSY: "That group holds processes, and cgroup v2 lets only a group without "
    "processes pass controllers to its children: move its processes to a child group first.",
    errno.EINVAL: "The kernel refused the value: check the limits (--mem, --cpus) and that "
    "they fit inside the limits of the group above.",
    errno.ENOENT: "The kernel does not show that file: its controller is not enabled for "
    "this group. Check which controllers the kernel offers (cat /proc/cgroups).",
}


class CgroupError(ClassroomError):
    """A control group cannot be made, joined or removed; the message says why and what to do."""


@dataclass(frozen=True)
class Limits:
    """What one student's server may use: bytes of memory, cores of CPU, tasks (threads count)."""

    memory_bytes: int
    cpus: float
    pids: int

    def __post_init__(self) -> None:
        if self.memory_bytes < 1 or self.pids < 1 or self.cpu_quota_us < 1000:
            raise CgroupError(
                f"The limits {self} cannot be set: memory_bytes and pids must be at least 1 "
                "and cpus at least 0.01 (the kernel's smallest CPU quota is 1 ms per 100 ms). "
                "Pass larger values, e.g. --mem 2G --cpus 1."
            )

    @property
    def cpu_quota_us(self) -> int:
        """Microseconds of CPU per :data:`PERIOD_US` period (1.5 cores -> 150000)."""
        return round(self.cpus * PERIOD_US)


@dataclass
class Hierarchy:
    """Where groups can be made: ``bases`` maps each controller to the folder they go under."""

    version: int  # 1 or 2
    bases: dict[str, Path]

    def group(self, name: str) -> Group:
        """The group ``name`` (a relative path such as ``dl-course-ab12cd/jupyter-alice``)."""
        parts = name.split("/")
        if not all(_SEGMENT.fullmatch(p) and p not in (".", "..") for p in parts):
            raise CgroupError(
                f"The control group name {name!r} is not valid. Give a relative path of "
                "segments made of letters, digits, dots, hyphens and underscores, separated "
                "by '/', with no '.' or '..' segment (e.g. 'dl-course-ab12cd/jupyter-alice')."
            )
        return Group(self, name)


class Group:
    """One group, with a folder in each controller's hierarchy (a single folder in v2)."""

    def __init__(self, hierarchy: Hierarchy, name: str) -> None:
        self.hierarchy, self.name = hierarchy, name
        self.dirs = {c: base / name for c, base in hierarchy.bases.items()}
        # Made now, so that join() after a fork only calls os.open/os.write/os.close.
        self._procs = [os.fsencode(p / "cgroup.procs") for p in self.paths()]

    def __repr__(self) -> str:
        return f"Group({self.name!r}, v{self.hierarchy.version})"

    def paths(self) -> list[Path]:
        """The group's folders, one per distinct hierarchy."""
        return list(dict.fromkeys(self.dirs.values()))

    def create(self, limits: Limits) -> None:
        """Make the folders if needed and write ``limits`` (again: safe to repeat)."""
        made: list[Path] = []
        try:
            for base in dict.fromkeys(self.hierarchy.bases.values()):
                folder = base
                for part in self.name.split("/"):
                    if self.hierarchy.version == 2:
                        _enable_controllers(folder)
                    folder = folder / part
                    try:
                        os.mkdir(folder, 0o755)
                        made.append(folder)
                    except FileExistsError:
                        if not folder.is_dir():
                            raise
                    except OSError as exc:
                        raise OSError(exc.errno, exc.strerror, f"making {folder}") from None
            self._write_limits(limits)
        except OSError as exc:
            for folder in reversed(made):
                with contextlib.suppress(OSError):
                    os.rmdir(folder)
            raise CgroupError(
                f"The control group {self.name!r} (v{self.hierarchy.version}) could not be "
                f"set up with {limits}: {exc.filename} failed ({exc.strerror}). "
                f"{_HINTS.get(exc.errno or 0, 'Check the permissions and dmesg.')} "
                "The folders this attempt made were removed; nothing was started."
            ) from exc

    def _write_limits(self, limits: Limits) -> None:
        mem, cpu, pids = self.dirs["memory"], self.dirs["cpu"], self.dirs["pids"]
        if self.hierarchy.version == 2:
            _write(mem / "memory.max", limits.memory_bytes)
            if (mem / "memory.swap.max").exists():
                _write(mem / "memory.swap.max", 0)
            _write(cpu / "cpu.max", f"{limits.cpu_quota_us} {PERIOD_US}")
        else:
            # memsw (memory + swap) must stay >= the memory limit: when raising, memsw goes
            # first; when lowering, the memory limit goes first.
            order = ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]
            if not (mem / order[1]).exists():
                order.pop()
            elif limits.memory_bytes > (_read_int(mem / order[0]) or 0):
                order.reverse()
            for file in order:
                _write(mem / file, limits.memory_bytes)
            _write(cpu / "cpu.cfs_period_us", PERIOD_US)
            _write(cpu / "cpu.cfs_quota_us", limits.cpu_quota_us)
        _write(pids / "pids.max", limits.pids)

    def join(self, pid: int = 0) -> None:
        """Move process ``pid`` (0: the caller) into the group, in every hierarchy.

        Safe in a ``subprocess`` ``preexec_fn`` (after fork): no locks, no logging, no
        imports, only ``os.open``/``os.write``/``os.close``.
        """
        data = str(pid).encode()
        for path in self._procs:
            try:
                fd = os.open(path, os.O_WRONLY)
                try:
                    os.write(fd, data)
                finally:
                    os.close(fd)
            except OSError as exc:
                raise CgroupError(
                    f"Process {pid or os.getpid()} could not join the control group "
                    f"{self.name!r}: writing to {os.fsdecode(path)} failed ({exc.strerror}). "
                    "Create the group first (Group.create) and run the hub as root."
                ) from exc

    def pids(self) -> list[int]:
        """The processes in the group and the groups under it, in any hierarchy."""
        found: set[int] = set()
        for top in self.paths():
            for folder, _subdirs, _files in os.walk(top):
                with contextlib.suppress(OSError):
                    text = Path(folder, "cgroup.procs").read_text(encoding="ascii")
                    # 0 stands for a process in another PID namespace: it cannot be signalled.
                    found.update(n for n in map(int, text.split()) if n > 0)
        return sorted(found)

    def kill(self, timeout: float = 10) -> None:
        """SIGKILL every process in the group, again and again until none is left."""
        deadline = time.monotonic() + timeout
        while left := self.pids():
            if os.getpid() in left:
                raise CgroupError(
                    f"The calling process {os.getpid()} is in the control group {self.name!r}, "
                    "so killing the group would kill it too: call kill() or remove() from a "
                    "process outside the group (e.g. the hub)."
                )
            if time.monotonic() > deadline:
                raise CgroupError(
                    f"Processes {left[:10]} were still in the control group {self.name!r} "
                    f"{timeout:g} s after SIGKILL. A process stuck in the kernel (state D, see "
                    "`ps -o pid,stat,wchan -p PID`) dies only when its I/O ends: wait and retry."
                )
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def remove(self) -> None:
        """Kill the group's processes, then remove its folders (deepest first); gone is fine."""
        self.kill()
        for top in self.paths():
            for folder, _subdirs, _files in os.walk(top, topdown=False):
                try:
                    os.rmdir(folder)
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    raise CgroupError(
                        f"The control group folder {folder} could not be removed: "
                        f"{exc.strerror}. A process may have joined it after the kill: call "
                        "remove() again, or see `cat cgroup.procs` in that folder."
                    ) from exc

    def memory_current(self) -> int | None:
        """Bytes of memory the group uses now, or None if unreadable."""
        file = "memory.current" if self.hierarchy.version == 2 else "memory.usage_in_bytes"
        return _read_int(self.dirs["memory"] / file)

    def memory_peak(self) -> int | None:
        """The most memory the group used (v2 without memory.peak: the current use)."""
        mem = self.dirs["memory"]
        if self.hierarchy.version == 1:
            return _read_int(mem / "memory.max_usage_in_bytes")
        peak = mem / "memory.peak"
        return _read_int(peak) if peak.exists() else self.memory_current()


def remove_tree(hierarchy: Hierarchy, name: str) -> None:
    """Remove a class's top group and every group under it, killing their processes first."""
    hierarchy.group(name).remove()


def detect(
    root: Path = Path("/sys/fs/cgroup"), proc_self_cgroup: Path = Path("/proc/self/cgroup")
) -> Hierarchy | str:
    """A :class:`Hierarchy` that can create groups (v2 preferred), or why there is none."""
    v2 = _detect_v2(root)
    if isinstance(v2, Hierarchy):
        return v2
    v1 = _detect_v1(root, proc_self_cgroup)
    return v1 if isinstance(v1, Hierarchy) else f"{v2}; {v1}."


def _detect_v2(root: Path) -> Hierarchy | str:
    reasons = []
    for mount in (root, root / "unified"):  # the whole tree, or the hybrid layout's v2 part
        try:
            offered = (mount / "cgroup.controllers").read_text(encoding="ascii").split()
        except OSError:
            continue
        if not set(CONTROLLERS) <= set(offered):
            reasons.append(
                f"cgroup v2 is mounted at {mount} but its memory, cpu and pids controllers "
                f"are not available (it offers: {' '.join(offered) or 'none'})"
            )
        elif not os.access(mount, os.W_OK | os.X_OK):
            reasons.append(f"cgroup v2 is mounted at {mount} but is not writable")
        else:
            return Hierarchy(2, dict.fromkeys(CONTROLLERS, mount))
    return " and ".join(reasons) or f"no cgroup v2 is mounted at {root}"


def _detect_v1(root: Path, proc_self_cgroup: Path) -> Hierarchy | str:
    try:
        lines = proc_self_cgroup.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        return f"cgroup v1 cannot be used ({proc_self_cgroup}: {exc.strerror})"
    where: dict[str, tuple[list[str], str]] = {}
    for line in lines:  # "4:memory:/process_api/9bb0...", "1:cpu,cpuacct:/"
        if line.count(":") >= 2:
            listed, path = line.split(":", 2)[1:]
            for controller in listed.split(","):
                where[controller] = (listed.split(","), path)
    bases, problems = {}, []
    for c in CONTROLLERS:
        if c not in where:
            problems.append(f"{proc_self_cgroup} lists no {c} hierarchy")
            continue
        listed, path = where[c]
        mounts = [root / ",".join(listed), *(root / x for x in listed)]
        mount = next((m for m in mounts if (m / "cgroup.procs").is_file()), None)
        if mount is None:
            problems.append(f"{root / c} is not a {c} hierarchy")
            continue
        base = mount / path.lstrip("/")
        if not base.is_dir():
            base = mount
        marker = "cgroup.procs" if base == mount and c == "pids" else _V1_MARKER[c]
        if not (base / marker).is_file() or not os.access(base, os.W_OK | os.X_OK):
            problems.append(f"{base} is not writable or has no {marker}")
            continue
        bases[c] = base
    if problems:
        return f"cgroup v1 has no writable memory, cpu and pids hierarchies ({'; '.join(problems)})"
    return Hierarchy(1, bases)


def _enable_controllers(folder: Path) -> None:
    """Let ``folder``'s children use memory, cpu and pids (v2's cgroup.subtree_control)."""
    control = folder / "cgroup.subtree_control"
    try:
        enabled = control.read_text(encoding="ascii").split()
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, f"reading {control}") from None
    missing = [c for c in CONTROLLERS if c not in enabled]
    if missing:
        _write(control, " ".join(f"+{c}" for c in missing))


def _write(path: Path, value: object) -> None:
    """Write one value to an existing control file; an error names the file and the value."""
    text = str(value)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, f"writing {text!r} to {path}") from None


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return None
