"""How big a machine a class needs: N simulated students run a chapter at the same time.

``python3 course.py classroom bench --students 1 2 4 6 --chapters 01 03 05`` starts a real
hub (as ``classroom start`` does, on free loopback ports, in a temporary folder), and for
each chapter and each N: N students sign in over HTTP, start their servers, and each runs
every code cell of the chapter in a fresh kernel through the proxy, all at once. For each
student it measures the time to finish (kernel start to last cell), the kernel's CPU
seconds and peak memory (read inside the kernel, so no peak is missed) and any failure;
for the hub, the proxy and the students' servers, their peak memory (VmHWM).

From the figures it sizes a class of 30: the cores needed to run the longest chapter
within 5 minutes, and the memory. Results go to ``--out`` (JSON and Markdown);
``--publish`` also writes the table into the README's classroom guide.

The results record the processor (:mod:`bench.cpu`: model, cores, vector extensions, and
the instruction set oneDNN uses with the students' settings) and head the table with it.
``--isa avx2`` caps oneDNN's instruction set in every student's kernel: the hub passes its
own environment on to no student's server, so each kernel sets ``ONEDNN_MAX_CPU_ISA`` in
its first cell (:func:`isa_cell`), before the chapter imports TensorFlow; oneDNN reads the
variable when TensorFlow first uses it.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import tempfile
import threading
import time
import uuid
from argparse import Namespace
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import cpu as bench_cpu
from classroom import accounts, cgroups, hub
from classroom.client import Student
from classroom.settings import ROOT, ClassroomError, Settings, chapter_notebooks, free_port

CLASS_SIZE, WITHIN_SECONDS = 30, 300
MEASURE = (
    "import resource as _r\n_u = _r.getrusage(_r.RUSAGE_SELF)\n"
    "print(_u.ru_utime + _u.ru_stime, _u.ru_maxrss)"
)


@dataclass
class StudentRun:
    student: str
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_mb: float = 0.0
    server_peak_mb: float = 0.0
    group_peak_mb: float = 0.0  # the student's control group (server and kernels), if any
    failure: str = ""


@dataclass
class Round:
    chapter: str
    students: int
    runs: list[StudentRun] = field(default_factory=list)
    hub_peak_mb: float = 0.0
    proxy_peak_mb: float = 0.0
    wall_seconds: float = 0.0


def code_cells(chapter: str) -> tuple[str, list[str]]:
    """The chapter's notebook name and its code cells, in order (the registry's notebook)."""
    chapters = chapter_notebooks(ROOT)
    found = [p for p in chapters if p.name[:2] == chapter]
    if not found:
        valid = ", ".join(p.name[:2] for p in chapters)
        raise ClassroomError(f"{chapter!r} is not a chapter of the course; its chapters: {valid}.")
    path = found[0]
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return path.name, ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def peak_mb(pid: int) -> float:
    """A process's peak resident memory (VmHWM), in MB; 0 when it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def group_peak_mb(folder: Path, name: str) -> float:
    """The peak memory of a student's control group, in MB; 0 without groups."""
    settings = Settings.load(folder)
    found = cgroups.detect()
    if not settings.cgroup_parent or isinstance(found, str):
        return 0.0
    group = found.group(f"{settings.cgroup_parent}/{accounts.folder_name(name)}")
    return (group.memory_peak() or 0) / 2**20


def _process_of(folder: Path, needle: str) -> list[int]:
    found = []
    for pid in hub.classroom_processes(folder):
        try:
            if needle.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def isa_cell(isa: str | None) -> str | None:
    """The first cell a student's kernel runs under ``--isa``: it sets ``ONEDNN_MAX_CPU_ISA``
    (``isa`` is oneDNN's value, e.g. "AVX2") before any chapter cell starts TensorFlow. None
    without ``--isa``."""
    if not isa:
        return None
    return f"import os as _os\n_os.environ[{bench_cpu.MAX_ISA_VAR!r}] = {isa!r}\ndel _os"


def _student_run(
    base: str,
    name: str,
    password: str,
    cells: list[str],
    out: StudentRun,
    folder: Path,
    isa: str | None = None,
) -> None:
    try:
        student = Student(base, name, password)
        student.start_server()
        start = time.monotonic()
        kernel = student.kernel()
        if first := isa_cell(isa):
            set_up = kernel.run(first)
            if set_up.error:
                out.failure = f"setting {bench_cpu.MAX_ISA_VAR}: {set_up.error[:200]}"
                cells = []
        for index, code in enumerate(cells):
            result = kernel.run(code, timeout=1200)
            if result.error:
                out.failure = f"code cell {index}: {result.error[:200]}"
                break
        out.seconds = time.monotonic() - start
        cpu, maxrss = kernel.run(MEASURE).stdout.split()
        out.cpu_seconds, out.peak_mb = float(cpu), int(maxrss) / 1024
        servers = [
            p
            for p in _process_of(folder, "jupyterhub-singleuser")
            if f"homes/{name}".encode() in Path(f"/proc/{p}/environ").read_bytes()
        ]
        out.server_peak_mb = max((peak_mb(p) for p in servers), default=0.0)
        out.group_peak_mb = group_peak_mb(folder, name)
        student.server_api("DELETE", f"kernels/{kernel.id}")
        student.hub_api("DELETE", f"users/{name}/server")
    except Exception as err:  # noqa: BLE001 - a failure is a measurement here
        out.failure = out.failure or f"{type(err).__name__}: {err}"[:300]


def run_round(
    base: str, password: str, folder: Path, chapter: str, n: int, isa: str | None = None
) -> Round:
    """N students run ``chapter`` at once (with oneDNN capped at ``isa`` when given)."""
    _, cells = code_cells(chapter)
    result = Round(chapter=chapter, students=n)
    result.runs = [StudentRun(student=f"student{i + 1:02d}") for i in range(n)]
    threads = [
        threading.Thread(
            target=_student_run, args=(base, r.student, password, cells, r, folder, isa)
        )
        for r in result.runs
    ]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.wall_seconds = time.monotonic() - start
    hub_pid = hub.running_pid(folder)
    result.hub_peak_mb = peak_mb(hub_pid) if hub_pid else 0.0
    result.proxy_peak_mb = max(
        (peak_mb(p) for p in _process_of(folder, "configurable-http-proxy")), default=0.0
    )
    hub.wait_for(lambda: not _process_of(folder, "jupyterhub-singleuser"), 60)
    return result


def sizing(rounds: list[Round]) -> dict:
    """Per chapter: memory and CPU-seconds per student; what a class of 30 needs.

    CPU-seconds come from the most crowded round measured (the most students at once):
    TensorFlow's threads spend more CPU when they wait for a core, so that figure is the
    safer one to size a full class with.
    """
    table = {}
    for chapter in dict.fromkeys(r.chapter for r in rounds):
        mine = [r for r in rounds if r.chapter == chapter and any(not s.failure for s in r.runs)]
        if not mine:
            continue
        crowded = max(mine, key=lambda r: r.students)
        cpu = statistics.median(s.cpu_seconds for s in crowded.runs if not s.failure)
        memory = max(s.peak_mb + s.server_peak_mb for r in mine for s in r.runs if not s.failure)
        hub_mb = max(r.hub_peak_mb + r.proxy_peak_mb for r in rounds)
        table[chapter] = {
            "cpu_seconds": cpu,
            "crowded_students": crowded.students,
            "memory_mb": memory,
            "cores_for_class": math.ceil(CLASS_SIZE * cpu / WITHIN_SECONDS),
            "memory_for_class_gb": (CLASS_SIZE * memory + hub_mb) / 1024,
        }
    return table


def machine() -> str:
    model = bench_cpu.cpu_model()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} CPU cores ({model}), {memory:.1f} GB RAM, {platform.system()}"


def students_env(isa: str | None, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the oneDNN probe runs with, as a student's kernel has it: the hub
    passes neither ``ONEDNN_MAX_CPU_ISA`` nor ``TF_ENABLE_ONEDNN_OPTS`` on to the students'
    servers, so they are dropped, and ``isa`` (``--isa``, as :func:`isa_cell` sets it) added."""
    env = dict(os.environ if environ is None else environ)
    env.pop(bench_cpu.MAX_ISA_VAR, None)
    env.pop(bench_cpu.ONEDNN_OPTS_VAR, None)
    if isa:
        env[bench_cpu.MAX_ISA_VAR] = isa
    return env


def processor_line(processor: dict | None) -> str:
    """The line "Processor: <model, cores, extensions; oneDNN ISA>." heading the report."""
    if not processor:
        return (
            "Processor: vector extensions and oneDNN instruction set not recorded (measured "
            "before the benchmark recorded them)."
        )
    return f"Processor: {bench_cpu.summary(processor)}."


def markdown(
    rounds: list[Round], sized: dict, when: str, where: str = "", processor: dict | None = None
) -> str:
    """The report: how it was measured, the processor, the rounds, and the sizing."""
    lines = [
        f"Measured {when} by `python3 course.py classroom bench` on {where or machine()}, no GPU, "
        "with the offline data, the hub's default `--cpus 1` (each student's TensorFlow "
        "uses one thread). N students signed in and ran every code cell of a chapter in "
        "fresh kernels at the same time.",
        "",
        processor_line(processor),
        "",
        "| chapter | students | time to finish (slowest) | kernel CPU-seconds (median) "
        "| peak memory per student (kernel + server) | hub + proxy | failures |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rounds:
        ok = [s for s in r.runs if not s.failure]
        failures = "; ".join(f"{s.student}: {s.failure}" for s in r.runs if s.failure) or "none"
        if ok:
            slowest = max(s.seconds for s in ok)
            cpu = statistics.median(s.cpu_seconds for s in ok)
            mem = max(s.peak_mb + s.server_peak_mb for s in ok)
            lines.append(
                f"| {r.chapter} | {r.students} | {slowest:.0f} s | {cpu:.0f} s | "
                f"{mem:,.0f} MB | {r.hub_peak_mb + r.proxy_peak_mb:,.0f} MB | "
                f"{failures} |"
            )
        else:
            lines.append(f"| {r.chapter} | {r.students} | - | - | - | - | {failures} |")
    lines += [
        "",
        f"Sizing a class of {CLASS_SIZE}, everyone running the chapter at once, "
        f"done within {WITHIN_SECONDS // 60} minutes (cores = {CLASS_SIZE} × "
        f"CPU-seconds / {WITHIN_SECONDS} s, with the CPU-seconds of the most crowded "
        f"round; memory = {CLASS_SIZE} × the peak per student + the hub):",
        "",
        "| chapter | CPU-seconds per student | memory per student | cores for 30 | memory for 30 |",
        "|---|---:|---:|---:|---:|",
    ]
    for chapter, s in sized.items():
        lines.append(
            f"| {chapter} | {s['cpu_seconds']:.0f} s ({s['crowded_students']} at "
            f"once) | {s['memory_mb']:,.0f} MB | "
            f"{s['cores_for_class']} | {s['memory_for_class_gb']:.0f} GB |"
        )
    return "\n".join(lines)


def publish(text: str, readme: Path | None = None) -> None:
    """Put ``text`` in the README's classroom-bench block (the benchmark's own writer,
    :func:`bench.common.write_readme_block`); stop with its message when the block is gone."""
    from bench.common import ReadmeBlockError, write_readme_block

    try:
        write_readme_block(
            "classroom-bench", text, ROOT / "README.md" if readme is None else readme
        )
    except ReadmeBlockError as err:
        raise SystemExit(str(err)) from None


def load_rounds(paths: list[Path]) -> tuple[list[Round], str, dict | None]:
    """Rounds saved by earlier runs, a later file's round replacing an earlier one's; the
    machine and processor the last file records (None if it records no processor)."""
    rounds: dict[tuple[str, int], Round] = {}
    measured = ""
    processor = None
    for path in paths:
        saved = json.loads(path.read_text(encoding="utf-8"))
        measured = saved.get("machine", measured)
        processor = saved.get("processor")
        for r in saved["rounds"]:
            runs = [StudentRun(**s) for s in r.pop("runs")]
            rounds[(r["chapter"], r["students"])] = Round(**r, runs=runs)
    return sorted(rounds.values(), key=lambda r: (r.chapter, r.students)), measured, processor


@dataclass
class Room:
    """A simulated class's running hub: where it is, and its passwords."""

    folder: Path
    settings: Settings
    base: str
    class_pw: str
    teacher_pw: str


@contextmanager
def running_class(names: list[str], args: Namespace) -> Iterator[Room]:
    """A hub for ``names``, as ``classroom start`` runs it, in a temporary folder.

    As root each student gets an account of this run's own prefix; the hub, its groups and
    those accounts are gone when the block ends, whatever happens in it.
    """
    with tempfile.TemporaryDirectory(prefix="classroom-bench-") as tmp:
        tmp_path = Path(tmp)
        tmp_path.chmod(0o755)  # the students' accounts pass through to their homes
        roster = tmp_path / "students.txt"
        roster.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
        port = free_port()
        prefix = f"dlb{uuid.uuid4().hex[:4]}-"  # this run's own accounts, removed at the end
        options = Namespace(
            roster=str(roster),
            dir=str(tmp_path / "class"),
            ip="127.0.0.1",
            port=port,
            mem="2G",
            cpus=1.0,
            idle_minutes=60,
            teacher="teacher",
            data=args.data,
            site="",
            ssl_cert="",
            ssl_key="",
            pids=256,
            account_prefix=prefix,
            student_env=args.student_env,
            shared_account=args.shared_account,
        )
        folder, settings, (class_pw, teacher_pw, _), _ = hub.prepare(options)
        who = "their own accounts, in control groups" if settings.accounts else "the hub's account"
        print(f"Students work as {who}.", flush=True)
        with open(folder / "hub.log", "ab") as log:  # the hub's log stays off the screen
            proc = hub.start_hub_process(folder, stdout=log)
        try:
            if not hub.wait_for(lambda: proc.poll() is not None or hub.api_ready(port), 120):
                raise SystemExit("the hub did not start within 120 s")
            if proc.poll() is not None:
                raise SystemExit(f"the hub stopped as it started; see {folder / 'hub.log'}")
            yield Room(folder, settings, f"http://127.0.0.1:{port}/", class_pw, teacher_pw)
        finally:
            hub.stop_leftovers(folder)  # the hub first of all; it stops the rest
            proc.wait(60)
            hub.remove_class_groups(settings)
            if settings.accounts:
                made = accounts.plan([*settings.roster, settings.teacher], prefix)
                accounts.remove(made.values())


def main(args: Namespace) -> int:
    if args.from_results:
        rounds, where, saved_processor = load_rounds(args.from_results)
        text = markdown(rounds, sizing(rounds), time.strftime("%Y-%m-%d"), where, saved_processor)
        print(text)
        if args.publish:
            publish(text)
            print("\nREADME.md's classroom table updated.")
        return 0
    n_max = max(args.students)
    names = [f"student{i + 1:02d}" for i in range(n_max)]
    rounds: list[Round] = []
    for chapter in args.chapters:
        code_cells(chapter)  # a chapter the course lacks is refused before the class starts
    isa = getattr(args, "isa", None)
    # Before the class starts: the probe runs TensorFlow for a few seconds.
    processor = bench_cpu.describe(students_env(isa))
    print(processor_line(processor), flush=True)
    with running_class(names, args) as room:
        for chapter in args.chapters:
            for n in args.students:
                print(f"chapter {chapter}, {n} student(s) ...", flush=True)
                r = run_round(room.base, room.class_pw, room.folder, chapter, n, isa)
                rounds.append(r)
                for s in r.runs:
                    print(
                        f"  {s.student}: {s.seconds:.0f} s, {s.cpu_seconds:.0f} CPU-s, "
                        f"{s.peak_mb:,.0f} MB kernel, {s.server_peak_mb:,.0f} MB server"
                        f"{', FAILED: ' + s.failure if s.failure else ''}",
                        flush=True,
                    )
    settings = room.settings
    when = time.strftime("%Y-%m-%d")
    sized = sizing(rounds)
    text = markdown(rounds, sized, when, processor=processor)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"classroom-{time.strftime('%Y%m%d-%H%M%S')}"
    stem.with_suffix(".json").write_text(
        json.dumps(
            {
                "machine": machine(),
                "processor": processor,
                "isa": isa,
                "isolation": settings.isolation,
                "rounds": [asdict(r) for r in rounds],
                "sizing": sized,
            },
            indent=2,
        )
    )
    stem.with_suffix(".md").write_text(text + "\n")
    print("\n" + text)
    if getattr(args, "publish", False):
        publish(text)
        print("\nREADME.md's classroom table updated.")
    failed = any(s.failure for r in rounds for s in r.runs)
    return 1 if failed else 0
