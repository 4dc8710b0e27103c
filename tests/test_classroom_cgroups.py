"""Control groups for the students' servers (classroom/cgroups.py).

Two kinds of test:

- On a fake tree in ``tmp_path``: folders and regular files laid out as the kernel shows
  them (v2: ``cgroup.controllers``, ``cgroup.subtree_control``, ``memory.max``, ...; v1: a
  folder per controller and a fake ``/proc/self/cgroup``). A real cgroup file system makes
  a group's control files when its folder is made and lets ``rmdir`` remove the folder with
  them; regular files do not, so :class:`FakeKernel` stands in for ``os.mkdir``,
  ``os.rmdir``, ``os.open`` and ``os.write`` *inside classroom.cgroups only*. Its mkdir adds
  the files the kernel would show (in v2 only those of the controllers the parent enabled
  in its ``cgroup.subtree_control``), its rmdir refuses (EBUSY) while the group has child
  groups or processes and otherwise removes the files with the folder, and open/write log
  what was written, in order. The module's code is unchanged; what the fake cannot judge
  (the kernel's rules on values, e.g. memsw >= limit) is left to the real tests.
- On this machine's cgroups, as root (skipped otherwise): a memory cap kills, a task cap
  refuses forks, the CPU quota throttles, and removal leaves no folder and no process.
  Each test uses its own ``dlct-XXXXXXXX`` prefix, removed by the fixture even on failure.
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from classroom import cgroups
from classroom.cgroups import CgroupError, Limits

MIB = 1 << 20
UNLIMITED_V1 = "9223372036854771712"


class FakeKernel:
    """``os.mkdir``/``os.rmdir``/``os.open``/``os.write`` as a cgroup file system does them."""

    def __init__(self, mounts: dict[Path, str]) -> None:
        self.mounts = mounts  # mount folder -> "v2", "memory", "cpu" or "pids"
        self.missing: set[str] = set()  # control files this kernel does not show
        self.busy: set[Path] = set()  # folders whose rmdir fails with EBUSY
        self.writes: list[tuple[str, str]] = []  # (file name, text), in order
        self._names: dict[int, str] = {}

    def _kind(self, path: Path) -> str | None:
        return next((k for m, k in self.mounts.items() if path.is_relative_to(m)), None)

    def _files(self, kind: str, parent: Path) -> dict[str, str]:
        if kind != "v2":
            return {
                "memory": {
                    "memory.limit_in_bytes": UNLIMITED_V1,
                    "memory.memsw.limit_in_bytes": UNLIMITED_V1,
                    "memory.usage_in_bytes": "0",
                    "memory.max_usage_in_bytes": "0",
                },
                "cpu": {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1"},
                "pids": {"pids.max": "max", "pids.current": "0"},
            }[kind] | {"cgroup.procs": ""}
        enabled = [c.lstrip("+") for c in (parent / "cgroup.subtree_control").read_text().split()]
        files = {"cgroup.procs": "", "cgroup.type": "domain", "cgroup.subtree_control": ""}
        files["cgroup.controllers"] = " ".join(enabled)
        per_controller = {
            "memory": {"memory.max": "max", "memory.swap.max": "max", "memory.current": "0"},
            "cpu": {"cpu.max": "max 100000"},
            "pids": {"pids.max": "max", "pids.current": "0"},
        }
        for controller in enabled:
            files |= per_controller.get(controller, {})
        return files

    def mkdir(self, path: os.PathLike | str, mode: int = 0o777) -> None:
        path = Path(path)
        os.mkdir(path, mode)
        kind = self._kind(path)
        if kind and path not in self.mounts:
            for name, text in self._files(kind, path.parent).items():
                if name not in self.missing:
                    (path / name).write_text(text)

    def rmdir(self, path: os.PathLike | str) -> None:
        path = Path(path)
        if self._kind(path) and path.is_dir():
            procs = path / "cgroup.procs"
            if (
                path in self.busy
                or any(p.is_dir() for p in path.iterdir())
                or (procs.exists() and procs.read_text().strip())
            ):
                raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(path))
            for file in path.iterdir():
                file.unlink()
        os.rmdir(path)

    def open(self, path: os.PathLike | str | bytes, flags: int, *args: int) -> int:
        fd = os.open(path, flags, *args)
        self._names[fd] = Path(os.fsdecode(path)).name
        return fd

    def write(self, fd: int, data: bytes) -> int:
        self.writes.append((self._names.get(fd, "?"), data.decode()))
        return os.write(fd, data)


class _OsWith:
    """The ``os`` module with a few functions replaced."""

    def __init__(self, **replaced: object) -> None:
        self.__dict__.update(replaced)

    def __getattr__(self, name: str) -> object:
        return getattr(os, name)


def _install(monkeypatch: pytest.MonkeyPatch, kernel: FakeKernel) -> FakeKernel:
    fake_os = _OsWith(mkdir=kernel.mkdir, rmdir=kernel.rmdir, open=kernel.open, write=kernel.write)
    monkeypatch.setattr(cgroups, "os", fake_os)
    return kernel


def make_v2(root: Path, controllers: str = "cpuset cpu io memory hugetlb pids rdma") -> FakeKernel:
    """A v2 mount's root, as ``/sys/fs/cgroup`` shows it on a unified system."""
    root.mkdir(parents=True)
    (root / "cgroup.controllers").write_text(controllers + "\n")
    (root / "cgroup.subtree_control").write_text("")
    (root / "cgroup.procs").write_text("")  # the real one lists processes; never killed here
    return FakeKernel({root: "v2"})


def make_v1(root: Path, proc: Path, lines: list[str] | None = None) -> FakeKernel:
    """A hybrid layout like this machine's: v1 controllers, and a v2 ``unified`` without any."""
    mounts = {root / "memory": "memory", root / "cpu,cpuacct": "cpu", root / "pids": "pids"}
    kernel = FakeKernel(mounts)
    (root / "unified").mkdir(parents=True)
    (root / "unified" / "cgroup.controllers").write_text("\n")
    for mount, kind in mounts.items():
        mount.mkdir()
        files = kernel._files(kind, mount)
        if kind == "pids":  # the root of the pids hierarchy shows no pids.* files
            files = {"cgroup.procs": ""}
        for name, text in files.items():
            (mount / name).write_text(text)
    kernel.mkdir(root / "memory" / "process_api")
    kernel.mkdir(root / "memory" / "process_api" / "abc")
    default = ["9:name=systemd:/", "8:pids:/", "4:memory:/process_api/abc", "1:cpu,cpuacct:/"]
    proc.write_text("\n".join([*(default if lines is None else lines), "0::/"]) + "\n")
    return kernel


@pytest.fixture()
def v2(tmp_path, monkeypatch) -> tuple[cgroups.Hierarchy, FakeKernel, Path]:
    root = tmp_path / "cg"
    kernel = _install(monkeypatch, make_v2(root))
    hierarchy = cgroups.detect(root, tmp_path / "no-proc")
    assert isinstance(hierarchy, cgroups.Hierarchy), hierarchy
    return hierarchy, kernel, root


@pytest.fixture()
def v1(tmp_path, monkeypatch) -> tuple[cgroups.Hierarchy, FakeKernel, Path]:
    root = tmp_path / "cg"
    kernel = _install(monkeypatch, make_v1(root, tmp_path / "cgroup"))
    hierarchy = cgroups.detect(root, tmp_path / "cgroup")
    assert isinstance(hierarchy, cgroups.Hierarchy), hierarchy
    return hierarchy, kernel, root


# --- detect() ------------------------------------------------------------------------------


def test_detect_v2_on_a_unified_root(tmp_path):
    root = tmp_path / "cg"
    make_v2(root)
    make_v1(root, tmp_path / "cgroup")  # v1 folders too: v2 is still preferred
    found = cgroups.detect(root, tmp_path / "cgroup")
    assert isinstance(found, cgroups.Hierarchy) and found.version == 2
    assert found.bases == dict.fromkeys(cgroups.CONTROLLERS, root)


def test_detect_v1_when_unified_has_no_controllers(tmp_path):
    root = tmp_path / "cg"
    make_v1(root, tmp_path / "cgroup")
    found = cgroups.detect(root, tmp_path / "cgroup")
    assert isinstance(found, cgroups.Hierarchy) and found.version == 1
    assert found.bases == {
        "memory": root / "memory" / "process_api" / "abc",
        "cpu": root / "cpu,cpuacct",
        "pids": root / "pids",
    }


def test_detect_gives_one_sentence_when_nothing_fits(tmp_path):
    root = tmp_path / "cg"
    make_v1(root, tmp_path / "cgroup", ["4:memory:/process_api/abc", "1:cpu,cpuacct:/"])
    reason = cgroups.detect(root, tmp_path / "cgroup")
    assert isinstance(reason, str)
    assert reason.startswith(
        f"cgroup v2 is mounted at {root / 'unified'} but its memory, cpu and pids controllers "
        "are not available (it offers: none); cgroup v1 has no writable memory, cpu and pids "
        "hierarchies ("
    )
    assert "lists no pids hierarchy" in reason and reason.endswith(".") and "\n" not in reason

    empty = cgroups.detect(tmp_path / "nothing", tmp_path / "no-proc")
    assert isinstance(empty, str) and empty.startswith(f"no cgroup v2 is mounted at {tmp_path}")

    partial = tmp_path / "partial"
    make_v2(partial, "cpu io memory")
    said = cgroups.detect(partial, tmp_path / "no-proc")
    assert isinstance(said, str) and "(it offers: cpu io memory)" in said


# --- names and limits ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../x", "/x", "a b", "a/../b", "", "a//b", "a/.", "x/"])
def test_group_names_are_checked(v2, name):
    hierarchy, _kernel, _root = v2
    with pytest.raises(CgroupError, match="is not valid"):
        hierarchy.group(name)


@pytest.mark.parametrize(
    ("memory", "cpus", "pids"), [(0, 1.0, 10), (MIB, 0.001, 10), (MIB, 1.0, 0), (MIB, -1.0, 10)]
)
def test_limits_are_checked(memory, cpus, pids):
    with pytest.raises(CgroupError, match="cannot be set"):
        Limits(memory, cpus, pids)


# --- create() on a fake tree ---------------------------------------------------------------


def test_v2_create_enables_controllers_and_writes_limits(v2):
    hierarchy, _kernel, root = v2
    group = hierarchy.group("dl-course-ab12cd/jupyter-alice")
    group.create(Limits(512 * MIB, 1.5, 64))
    leaf = root / "dl-course-ab12cd" / "jupyter-alice"
    assert group.paths() == [leaf]
    assert (root / "cgroup.subtree_control").read_text() == "+memory +cpu +pids"
    assert (root / "dl-course-ab12cd" / "cgroup.subtree_control").read_text() == (
        "+memory +cpu +pids"
    )
    assert (leaf / "cgroup.subtree_control").read_text() == ""  # the leaf holds processes
    assert (leaf / "memory.max").read_text() == str(512 * MIB)
    assert (leaf / "memory.swap.max").read_text() == "0"
    assert (leaf / "cpu.max").read_text() == "150000 100000"
    assert (leaf / "pids.max").read_text() == "64"
    group.create(Limits(256 * MIB, 0.5, 32))  # again: new values, no error
    assert (leaf / "cpu.max").read_text() == "50000 100000"
    assert (leaf / "memory.max").read_text() == str(256 * MIB)


def test_v2_without_swap_accounting_writes_no_swap_file(v2):
    hierarchy, kernel, root = v2
    kernel.missing = {"memory.swap.max"}
    hierarchy.group("cls/bob").create(Limits(MIB * 64, 1.0, 16))
    assert not (root / "cls" / "bob" / "memory.swap.max").exists()
    assert (root / "cls" / "bob" / "memory.max").read_text() == str(64 * MIB)


def test_v1_create_writes_limits_in_each_controller(v1):
    hierarchy, kernel, root = v1
    group = hierarchy.group("dl-course-ab12cd/jupyter-alice")
    group.create(Limits(512 * MIB, 1.5, 64))
    memory = root / "memory" / "process_api" / "abc" / "dl-course-ab12cd" / "jupyter-alice"
    cpu = root / "cpu,cpuacct" / "dl-course-ab12cd" / "jupyter-alice"
    pids = root / "pids" / "dl-course-ab12cd" / "jupyter-alice"
    assert group.paths() == [memory, cpu, pids]
    assert (memory / "memory.limit_in_bytes").read_text() == str(512 * MIB)
    assert (memory / "memory.memsw.limit_in_bytes").read_text() == str(512 * MIB)
    assert (cpu / "cpu.cfs_period_us").read_text() == "100000"
    assert (cpu / "cpu.cfs_quota_us").read_text() == "150000"
    assert (pids / "pids.max").read_text() == "64"


def test_v1_memsw_order_follows_the_direction_of_the_change(v1):
    hierarchy, kernel, _root = v1
    group = hierarchy.group("cls/alice")

    def memory_writes() -> list[str]:
        names = [name for name, _text in kernel.writes if name.startswith("memory.")]
        kernel.writes.clear()
        return names

    group.create(Limits(100 * MIB, 1.0, 16))  # lowering from unlimited: the limit first
    assert memory_writes() == ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]
    group.create(Limits(600 * MIB, 1.0, 16))  # raising: memsw first
    assert memory_writes() == ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]
    group.create(Limits(200 * MIB, 1.0, 16))
    assert memory_writes() == ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]


def test_v2_failed_create_removes_only_what_it_made(v2):
    hierarchy, kernel, root = v2
    hierarchy.group("cls/alice").create(Limits(64 * MIB, 1.0, 16))
    kernel.missing = {"pids.max"}
    with pytest.raises(CgroupError) as raised:
        hierarchy.group("cls/bob").create(Limits(64 * MIB, 1.0, 16))
    message = " ".join(str(raised.value).split())
    assert f"writing '16' to {root / 'cls' / 'bob' / 'pids.max'} failed" in message
    assert "(No such file or directory)" in message and "were removed" in message
    assert not (root / "cls" / "bob").exists()
    assert (root / "cls" / "alice" / "pids.max").read_text() == "16"  # earlier group kept
    with pytest.raises(CgroupError):
        hierarchy.group("other/carol").create(Limits(64 * MIB, 1.0, 16))
    assert not (root / "other").exists()


def test_v1_failed_create_removes_folders_in_every_controller(v1):
    hierarchy, kernel, root = v1
    kernel.missing = {"cpu.cfs_quota_us"}
    with pytest.raises(CgroupError, match="cpu.cfs_quota_us"):
        hierarchy.group("cls/alice").create(Limits(64 * MIB, 1.0, 16))
    assert [p for p in root.rglob("cls")] == []


# --- join, pids, remove on a fake tree -----------------------------------------------------


def test_join_writes_the_pid_everywhere_and_pids_is_the_union(v1):
    hierarchy, _kernel, _root = v1
    group = hierarchy.group("cls/alice")
    with pytest.raises(CgroupError, match="could not join"):
        group.join(4242)  # not created yet
    group.create(Limits(64 * MIB, 1.0, 16))
    group.join(4242)
    assert [(p / "cgroup.procs").read_text() for p in group.paths()] == ["4242"] * 3
    memory, cpu, pids = group.paths()
    (memory / "cgroup.procs").write_text("111\n")
    (cpu / "cgroup.procs").write_text("0\n")  # another PID namespace's process: skipped
    (pids / "cgroup.procs").write_text("111\n222\n")
    assert group.pids() == [111, 222]
    for path in group.paths():  # empty again, so that nothing could ever signal them
        (path / "cgroup.procs").write_text("")


@pytest.mark.parametrize("tree", ["v1", "v2"])
def test_remove_and_remove_tree_on_a_fake_tree(tree, request):
    hierarchy, kernel, root = request.getfixturevalue(tree)
    alice, bob = hierarchy.group("cls/alice"), hierarchy.group("cls/bob")
    for group in (alice, bob):
        group.create(Limits(64 * MIB, 1.0, 16))
    class_dirs = [path.parent for path in alice.paths()]
    assert alice.memory_current() == 0 and alice.memory_peak() == 0
    alice.remove()
    assert not any(path.exists() for path in alice.paths())
    assert all(path.exists() for path in bob.paths())
    alice.remove()  # already gone: fine
    kernel.busy = set(bob.paths())
    with pytest.raises(CgroupError, match="could not be removed"):
        cgroups.remove_tree(hierarchy, "cls")
    kernel.busy = set()
    cgroups.remove_tree(hierarchy, "cls")
    assert not any(path.exists() for path in class_dirs + bob.paths())
    assert all(base.is_dir() for base in hierarchy.bases.values())


def test_memory_readings(v2, tmp_path):
    hierarchy, _kernel, root = v2
    group = hierarchy.group("cls/alice")
    group.create(Limits(64 * MIB, 1.0, 16))
    (root / "cls" / "alice" / "memory.current").write_text("12345\n")
    assert group.memory_current() == 12345 and group.memory_peak() == 12345  # no memory.peak
    (root / "cls" / "alice" / "memory.peak").write_text("99999\n")
    assert group.memory_peak() == 99999
    assert hierarchy.group("cls/nobody").memory_current() is None


# --- this machine's cgroups ----------------------------------------------------------------

REAL = cgroups.detect() if os.geteuid() == 0 else "the tests do not run as root"
real_only = pytest.mark.skipif(isinstance(REAL, str), reason=f"no usable cgroups: {REAL}")
ALLOC = "block = b'\\x01' * ({mb} << 20); print(len(block) >> 20)"
SPAWN = """
import subprocess, sys
procs = []
try:
    for _ in range({n}):
        procs.append(subprocess.Popen(["sleep", "300"]))
except OSError as exc:
    print("refused", len(procs), type(exc).__name__, flush=True)
else:
    print("started", len(procs), flush=True)
sys.stdin.read()
"""
BURN = "import time\nend = time.monotonic() + 1.5\nwhile time.monotonic() < end: pass\n"


@pytest.fixture()
def real_class():
    """``(hierarchy, prefix, started)``; the prefix's groups and ``started`` die afterwards.

    ``remove_tree`` does the work; should it fail (that is a test failure too), the
    children's process groups are killed and the folders removed without the module.
    """
    assert isinstance(REAL, cgroups.Hierarchy)
    prefix, started = f"dlct-{uuid.uuid4().hex[:8]}", []
    try:
        yield REAL, prefix, started
    finally:
        try:
            cgroups.remove_tree(REAL, prefix)
        finally:
            for process in started:  # each leads its own session (start_new_session)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
            _scrub([base / prefix for base in REAL.bases.values()])
    assert not [path for path in REAL.group(prefix).paths() if path.exists()]


def _scrub(tops: list[Path]) -> None:
    """Kill what is in these cgroup folders and remove them, deepest first (the fallback)."""
    for top in tops:
        for folder, _subdirs, _files in os.walk(top, topdown=False):
            procs = Path(folder, "cgroup.procs")
            for _ in range(500):
                left = [int(n) for n in procs.read_text().split() if int(n) > 0]
                if not left:
                    break
                for pid in left:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.02)
            with contextlib.suppress(OSError):
                os.rmdir(folder)


def _start(group: cgroups.Group, code: str, started: list, **kw) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", code], preexec_fn=group.join, start_new_session=True, **kw
    )
    started.append(process)
    return process


def _readline(process: subprocess.Popen, timeout: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(timeout), f"no output from the child in {timeout} s"
    return process.stdout.readline()


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its parent does not count)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _poll(condition, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _read(group: cgroups.Group, controller: str, name: str) -> str:
    return (group.dirs[controller] / name).read_text().strip()


@real_only
def test_real_detect_skips_a_unified_mount_without_controllers():
    unified = Path("/sys/fs/cgroup/unified/cgroup.controllers")
    if not unified.exists() or "memory" in unified.read_text().split():
        pytest.skip("this machine has no controller-less /sys/fs/cgroup/unified")
    assert REAL.version == 1 and all("unified" not in str(p) for p in REAL.bases.values())


@real_only
def test_real_memory_cap_kills_and_raising_it_lets_through(real_class):
    hierarchy, prefix, started = real_class
    group = hierarchy.group(f"{prefix}/mem")
    files = ["memory.max"] if hierarchy.version == 2 else ["memory.limit_in_bytes"]
    if (
        hierarchy.version == 1
        and (hierarchy.bases["memory"] / "memory.memsw.limit_in_bytes").exists()
    ):
        files.append("memory.memsw.limit_in_bytes")
    group.create(Limits(100 * MIB, 1.0, 64))
    over = _start(group, ALLOC.format(mb=300), started, stdout=subprocess.PIPE)
    assert over.wait(timeout=120) == -signal.SIGKILL
    group.create(Limits(600 * MIB, 1.0, 64))  # raising (v1: memsw must go first)
    assert [_read(group, "memory", f) for f in files] == [str(600 * MIB)] * len(files)
    fits = _start(group, ALLOC.format(mb=300), started, stdout=subprocess.PIPE, text=True)
    assert fits.wait(timeout=120) == 0 and fits.stdout.read().strip() == "300"
    assert group.memory_peak() >= 300 * MIB and group.memory_current() is not None
    group.create(Limits(100 * MIB, 1.0, 64))  # lowering (v1: the limit must go first)
    assert [_read(group, "memory", f) for f in files] == [str(100 * MIB)] * len(files)


@real_only
def test_real_pids_cap_refuses_forks_and_remove_kills_them(real_class):
    hierarchy, prefix, started = real_class
    group = hierarchy.group(f"{prefix}/pids")
    group.create(Limits(256 * MIB, 1.0, 20))
    child = _start(
        group, SPAWN.format(n=40), started, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    line = _readline(child, 60)
    assert line.startswith("refused "), line  # not "started 40"
    _word, count, error = line.split()
    assert error == "BlockingIOError" and int(count) < 40
    members = group.pids()
    # A fork is refused only at the cap: the child and its sleeps are exactly 20 tasks.
    assert child.pid in members and len(members) == int(count) + 1 == 20
    assert int(_read(group, "pids", "pids.current")) == 20
    paths = group.paths()
    group.remove()
    assert child.wait(timeout=30) == -signal.SIGKILL
    assert _poll(lambda: not any(_alive(pid) for pid in members))
    assert not any(path.exists() for path in paths)


@real_only
def test_real_cpu_quota_files_and_throttling(real_class):
    hierarchy, prefix, started = real_class
    group = hierarchy.group(f"{prefix}/cpu")
    group.create(Limits(256 * MIB, 1.5, 64))
    if hierarchy.version == 2:
        assert _read(group, "cpu", "cpu.max") == "150000 100000"
    else:
        assert _read(group, "cpu", "cpu.cfs_period_us") == "100000"
        assert _read(group, "cpu", "cpu.cfs_quota_us") == "150000"
    group.create(Limits(256 * MIB, 0.1, 64))
    burner = _start(
        group, BURN + "print(time.process_time())", started, stdout=subprocess.PIPE, text=True
    )
    assert burner.wait(timeout=60) == 0
    # 1.5 s of busy looping under a tenth of a core: throttled, ~0.15 s of CPU.
    assert float(burner.stdout.read()) < 0.6
    stat = dict(line.split() for line in _read(group, "cpu", "cpu.stat").splitlines())
    assert int(stat["nr_throttled"]) > 0


@real_only
def test_real_join_then_remove_tree_leaves_nothing(real_class):
    hierarchy, prefix, started = real_class
    groups = [hierarchy.group(f"{prefix}/jupyter-{who}") for who in ("alice", "bob")]
    sleepers = []
    for group in groups:
        group.create(Limits(128 * MIB, 1.0, 16))
        sleepers.append(
            subprocess.Popen(["sleep", "300"], preexec_fn=group.join, start_new_session=True)
        )
        started.append(sleepers[-1])
        assert group.pids() == [sleepers[-1].pid]
        lines = Path(f"/proc/{sleepers[-1].pid}/cgroup").read_text().splitlines()
        for controller in cgroups.CONTROLLERS:
            listed = "" if hierarchy.version == 2 else controller
            assert any(
                line.endswith("/" + group.name) and listed in line.split(":")[1].split(",")
                for line in lines
            ), (controller, lines)
    paths = [path for group in groups for path in group.paths()]
    cgroups.remove_tree(hierarchy, prefix)
    assert [s.wait(timeout=30) for s in sleepers] == [-signal.SIGKILL] * 2
    assert not any(path.exists() for path in paths)
    assert not any(path.parent.exists() for path in paths)  # the class's own group too
