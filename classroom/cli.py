"""The teacher's commands: ``python3 course.py classroom start|report|collect|reset|...``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from classroom.settings import (
    CLASS_PASSWORD_ENV,
    ROOT,
    TEACHER_PASSWORD_ENV,
    ClassroomError,
    check_memory,
    default_data_source,
)

DEFAULT_DIR = ROOT / "classroom-data"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        default=str(DEFAULT_DIR),
        help="the classroom's folder: hub state, students' homes, data copy (default: %(default)s)",
    )


def _start_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--roster", required=True, help="text file with the students' names, one per line"
    )
    _common(parser)
    parser.add_argument(
        "--ip",
        default="127.0.0.1",
        help="address to listen on (default: loopback only; 0.0.0.0 for the class network)",
    )
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--mem", default="2G", type=_memory, help="memory cap per student (at least 1G)"
    )
    parser.add_argument("--cpus", type=float, default=1.0, help="CPU cores per student (a quota)")
    parser.add_argument(
        "--pids",
        type=int,
        default=256,
        help="most processes and threads per student (a fork bomb stays inside; default 256)",
    )
    parser.add_argument(
        "--idle-minutes",
        type=int,
        default=60,
        help="stop a student's server after this long without activity",
    )
    parser.add_argument("--teacher", default="teacher", help="the teacher's (admin) user name")
    parser.add_argument(
        "--data",
        default=str(default_data_source()),
        help="the datasets with their SHA256SUMS (default: COURSE_DATA_DIR, else data/)",
    )
    parser.add_argument(
        "--site",
        default="",
        help="a built course website to serve too (default: site/ when it has been built)",
    )
    parser.add_argument("--ssl-cert", default="")
    parser.add_argument("--ssl-key", default="")
    parser.add_argument(
        "--account-prefix",
        default="jupyter-",
        help="prefix of the students' Unix accounts (default: %(default)s, as TLJH)",
    )
    parser.add_argument(
        "--student-env",
        default="/opt/dl-course",
        help="where the students' read-only Python environment is built (default: %(default)s)",
    )
    parser.add_argument(
        "--shared-account",
        action="store_true",
        help="run every student's server as this account, with nothing keeping students "
        "apart (start prints what any student can then do)",
    )


def _memory(text: str) -> str:
    try:
        return check_memory(text)
    except ClassroomError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _isa(name: str) -> str:
    """``bench --isa``'s value as oneDNN reads it ("avx2" -> "AVX2")."""
    from bench.cpu import isa_value

    try:
        return isa_value(name)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="course.py classroom",
        description="Run the course for a whole class on one JupyterHub.",
    )
    sub = top.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start the class's hub (Ctrl-C stops it)")
    _start_options(start)
    report = sub.add_parser("report", help="what each student has done")
    _common(report)
    report.add_argument("--csv", type=Path, help="also write one row per student and check")
    collect = sub.add_parser(
        "collect", help="copy every student's chapter NN into one dated folder, with an index"
    )
    collect.add_argument(
        "--chapter", required=True, help="the chapter's number, e.g. 01 (or its notebook's name)"
    )
    collect.add_argument(
        "--out",
        type=Path,
        help="the folder in which a new NN-YYYYmmdd-HHMMSS folder is made (default: "
        "collected/ in the classroom folder)",
    )
    _common(collect)
    reset = sub.add_parser(
        "reset", help="give one student a fresh chapter NN (their old copy is kept beside it)"
    )
    reset.add_argument("--student", required=True, help="the student's name, as on the roster")
    reset.add_argument(
        "--chapter", required=True, help="the chapter's number, e.g. 01 (or its notebook's name)"
    )
    _common(reset)
    kube = sub.add_parser("kubernetes", help="write Zero to JupyterHub values and a Dockerfile")
    _start_options(kube)
    kube.add_argument(
        "--out",
        default=str(ROOT / "classroom-kubernetes"),
        help="folder for values.yaml and Dockerfile (default: %(default)s)",
    )
    kube.add_argument(
        "--image",
        default="dl-course-singleuser:latest",
        help="the single-user image name your registry will hold",
    )
    bench = sub.add_parser("bench", help="N simulated students at once (sizes the machine)")
    bench.add_argument("--students", type=int, nargs="+", default=[1, 2, 4, 6])
    bench.add_argument("--chapters", nargs="+", default=["01", "03", "05"])
    bench.add_argument("--data", default=str(default_data_source()))
    bench.add_argument(
        "--live",
        type=int,
        metavar="N",
        help="instead of chapters: N simulated students post bursts of check events while "
        "the teacher's live page follows (see classroom/livebench.py)",
    )
    bench.add_argument(
        "--burst-size", type=int, default=10, help="with --live: check events per burst"
    )
    bench.add_argument(
        "--screenshot", type=Path, help="with --live: save a picture of the teacher's page here"
    )
    bench.add_argument(
        "--shared-account",
        action="store_true",
        help="every student as the hub's account, as without root (to measure what the "
        "accounts and control groups cost)",
    )
    bench.add_argument(
        "--student-env",
        default="/opt/dl-course",
        help="where the students' environment is (built there if needed; default: %(default)s)",
    )
    bench.add_argument(
        "--isa",
        type=_isa,
        metavar="NAME",
        help="cap oneDNN's instruction set in every student's kernel (ONEDNN_MAX_CPU_ISA), "
        "e.g. avx2 to measure an AVX-512 server as a CPU without AVX-512; not with --live",
    )
    bench.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "results",
        help="where the JSON and Markdown results go",
    )
    bench.add_argument(
        "--publish",
        action="store_true",
        help="also write the table into the README's classroom guide",
    )
    bench.add_argument(
        "--from-results",
        type=Path,
        nargs="+",
        metavar="JSON",
        help="run nothing: the table from saved results (a later file's rounds "
        "replace an earlier one's)",
    )
    return top


def _start(args: argparse.Namespace) -> int:
    from classroom import hub

    folder, settings, (class_pw, teacher_pw, generated), warnings = hub.prepare(args)
    scheme = "https" if settings.ssl_cert else "http"
    host = settings.ip if settings.ip not in ("0.0.0.0", "::") else "THIS-MACHINE'S-ADDRESS"
    url = f"{scheme}://{host}:{settings.port}/"
    lines = [
        f"Classroom folder: {folder}",
        f"Students on the roster: {len(settings.roster)}; teacher: {settings.teacher}",
    ]
    if settings.isolation == "accounts":
        limits = settings.cgroup_parent and f"control group {settings.cgroup_parent}"
        lines += [
            f"Each student works as their own account, limited to --mem {settings.mem}, "
            f"--cpus {settings.cpus:g}, --pids {settings.pids} ({limits or 'systemd units'}):",
            *(f"  {name} -> {account}" for name, account in settings.accounts.items()),
            f"Students' environment (read-only): {settings.student_env}",
        ]
    lines += [
        f"Data (read-only copy, checksums verified): {settings.data_dir}",
    ]
    if settings.site_dir:
        lines.append(f"Course website: {url}services/course-site/")
    if generated:
        lines += [
            "Passwords (generated now, stored in secrets.json, readable by you only; shown "
            "this once):",
            f"  class password: {class_pw}",
            f"  teacher password ({settings.teacher}): {teacher_pw}",
        ]
    else:
        lines.append(
            f"Passwords: from {CLASS_PASSWORD_ENV}/{TEACHER_PASSWORD_ENV} or the "
            "earlier start (secrets.json)."
        )
    print("\n".join(lines), flush=True)
    for warning in warnings:
        print(f"\n{warning}", file=sys.stderr, flush=True)

    def ready() -> None:
        print(
            f"\nThe class can sign in at {url}  (Ctrl-C stops the hub and every student's "
            "server; work and accounts are kept.)",
            flush=True,
        )

    return hub.run_hub(folder, settings, on_ready=ready)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "start":
            return _start(args)
        if args.command == "report":
            from classroom.report import report

            print(report(Path(args.dir), args.csv))
            if args.csv:
                print(f"Wrote {args.csv}")
            return 0
        if args.command == "collect":
            from classroom.collect import collect, describe_collection

            print(describe_collection(collect(Path(args.dir), args.chapter, args.out)))
            return 0
        if args.command == "reset":
            from classroom.collect import describe_reset, reset

            print(describe_reset(reset(Path(args.dir), args.student, args.chapter)))
            return 0
        if args.command == "kubernetes":
            from classroom.kubernetes import write_deployment

            for path in write_deployment(args):
                print(f"Wrote {path}")
            return 0
        if args.command == "bench":
            if args.live:
                from classroom.livebench import main as live_main

                return live_main(args)
            from classroom.bench import main as bench_main

            return bench_main(args)
    except ClassroomError as err:
        print(f"classroom {args.command}: {err}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
