"""A simulated class for the live page: N students, each sending bursts of check events.

``python3 course.py classroom bench --live 30`` starts a real hub as ``classroom start`` does
(as root: each made-up student gets an account), signs every student in, gives each an API
token of their own, and has them all post bursts of check events at once, straight to the
live page's service as their kernels would. The teacher, signed in, reads the page's event
stream meanwhile. It measures:

- the service's throughput: events accepted per second while all students post at once
  (each student's made-up session: exercises passed in order, some struggles, a few passes
  only by the solution, one exercise under way);
- the delay from a student's post to the teacher's stream showing it (median, 95th
  percentile, worst);
- the page's load time in Chromium with N students x every exercise (sign-in excluded), and,
  with ``--screenshot FILE``, a picture of that page for the README;
- the memory the page adds: the service's peak, and the hub's growth over the run.

No student server is started: what is measured is the page, not the chapters. So no
TensorFlow runs, ``--isa`` is refused, and the processor is recorded without oneDNN's
instruction set (:func:`bench.cpu.describe` without its probe).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import threading
import time
import uuid
from argparse import Namespace
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench.cpu import describe as describe_cpu
from classroom import bench, hub
from classroom.client import Student

SURNAMES = "김 이 박 최 정 강 조 윤 장 임".split()
GIVEN = "하늘 서준 지우 도윤 서연 민서 하준 예린 시우 지호 수아 은우".split()


def made_up_names(n: int) -> list[str]:
    """``n`` distinct Korean names no real roster is likely to hold in this order."""
    names = [s + g for g in GIVEN for s in SURNAMES]
    return names[:n]


def _stream(teacher: Student, arrived: dict[str, list[tuple[float, int]]], stop: threading.Event):
    """Read the page's event stream as its EventSource does; note each row's attempts."""
    last = ""
    while not stop.is_set():
        try:
            answer = teacher.http.get(
                teacher.url("services/class/api/stream"),
                headers={"Last-Event-ID": last},
                timeout=30,
            )
        except requests.RequestException:
            continue
        if answer.status_code != 200:
            arrived.setdefault("", []).append((time.monotonic(), answer.status_code))
            stop.wait(1)
            continue
        seen = time.monotonic()
        for block in answer.content.decode("utf-8").split("\n\n"):  # the stream is UTF-8
            fields = dict(
                line.split(": ", 1)
                for line in block.splitlines()
                if ": " in line and line[0] != ":"
            )
            last = fields.get("id", last)
            if fields.get("event") == "row":
                row = json.loads(fields["data"])
                attempts = sum(cell.get("attempts", 0) for cell in row["cells"].values())
                arrived.setdefault(row["student"], []).append((seen, attempts))


def story(seed: int, checks: list[tuple[str, str]]) -> list[dict]:
    """One made-up student's session: checks passed in order, a few struggles, a few
    passes only by running the solution, and the exercise they are on now, not passed yet."""
    rng = random.Random(seed)
    reached = rng.randint(3, len(checks) - 1)
    events: list[dict] = []

    def call(chapter: str, check: str, ok: bool) -> dict:
        event = {
            "t": datetime.now(UTC).isoformat(timespec="seconds"),
            "id": uuid.uuid4().hex[:16],
            "chapter": chapter,
            "check": check,
            "attempted": True,
            "ok": ok,
            "feedback": "[ok] (simulated)" if ok else "[try again] (a simulated attempt)",
        }
        events.append(event)
        return event

    for chapter, check in checks[:reached]:
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):
            call(chapter, check, ok=False)
        passing = call(chapter, check, ok=True)
        if rng.random() < 0.06:  # the student ran the course's solution cell instead
            events.append({"t": passing["t"], "solution": passing["id"]})
    chapter, check = checks[reached]
    for _ in range(rng.choice([1, 2, 3, 4])):
        call(chapter, check, ok=False)
    return events


def _post_bursts(feed, token, events, size, sent: list[tuple[float, int]]) -> str:
    """Post ``events`` in batches of ``size``; note each batch's time and the attempts so far
    (a solution run is not the student's attempt)."""
    solved = {e["solution"] for e in events if "solution" in e}
    attempts = 0
    for first in range(0, len(events), size):
        batch = events[first : first + size]
        attempts += sum(1 for e in batch if "check" in e and e["id"] not in solved)
        start = time.monotonic()
        answer = requests.post(
            feed, json=batch, headers={"Authorization": f"token {token}"}, timeout=30
        )
        if answer.status_code != 200:
            return f"HTTP {answer.status_code}: {answer.text[:200]}"
        sent.append((start, attempts))
    return ""


def _delays(sent: dict[str, list[tuple[float, int]]], arrived: dict) -> list[float]:
    """For each batch, the time from its post to the first row showing its total."""
    out = []
    for student, batches in sent.items():
        seen = arrived.get(student, [])
        for start, total in batches:
            when = [t for t, attempts in seen if attempts >= total]
            if when:
                out.append(min(when) - start)
    return out


def _page_load(base: str, password: str, n: int, screenshot: Path | None) -> float:
    """Seconds from opening the page (already signed in) to a grid of ``n`` filled rows."""
    from playwright.sync_api import sync_playwright

    from classroom.browser import chromium_path, launch_options, sign_in

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), **launch_options())
        page = browser.new_page(viewport={"width": 1600, "height": 900})
        page.set_default_timeout(120_000)
        try:
            sign_in(page, base, "teacher", password)
            start = time.monotonic()
            page.goto(f"{base}services/class/")
            rows = page.locator("#grid tbody tr")
            page.wait_for_function(
                "n => document.querySelectorAll('#grid tbody tr td.cell').length > 0 && "
                "document.querySelectorAll('#grid tbody tr').length === n",
                arg=n,
            )
            seconds = time.monotonic() - start
            assert rows.count() == n
            if screenshot:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=False)
            return seconds
        finally:
            browser.close()


def run(args: Namespace) -> dict:
    """The simulated class's measurements (see the module's docstring)."""
    from helpers.checks import all_checks

    n = args.live
    checks = [(ch, name) for ch, names in all_checks().items() for name in names]
    with bench.running_class(made_up_names(n), args) as room:
        folder, settings = room.folder, room.settings
        feed = f"http://127.0.0.1:{settings.internal_ports['live']}/services/class/api/events"
        teacher = Student(room.base, "teacher", room.teacher_pw)
        assert teacher.get("services/class/").status_code == 200
        service = list(bench._process_of(folder, "classroom.liveview"))
        hub_before = bench.peak_mb(hub.running_pid(folder) or 0)
        tokens = {}
        for name in settings.roster:
            student = Student(room.base, name, room.class_pw)
            answer = student.hub_api("POST", f"users/{name}/tokens", json={"note": "bench"})
            answer.raise_for_status()
            tokens[name] = answer.json()["token"]
        arrived: dict[str, list[tuple[float, int]]] = {}
        stop = threading.Event()
        reader = threading.Thread(target=_stream, args=(teacher, arrived, stop), daemon=True)
        reader.start()
        sent: dict[str, list[tuple[float, int]]] = {name: [] for name in tokens}
        failures: dict[str, str] = {}
        stories = {name: story(i, checks) for i, name in enumerate(tokens)}

        def student_posts(name: str) -> None:
            failure = _post_bursts(feed, tokens[name], stories[name], args.burst_size, sent[name])
            if failure:
                failures[name] = failure

        threads = [threading.Thread(target=student_posts, args=(name,)) for name in tokens]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        posting = time.monotonic() - start
        total = sum(len(events) for events in stories.values())
        batches = sum(len(batches) for batches in sent.values())
        hub.wait_for(lambda: len(_delays(sent, arrived)) == batches, 60)
        stop.set()
        delays = _delays(sent, arrived)
        load = _page_load(room.base, room.teacher_pw, n, args.screenshot)
        return {
            "machine": bench.machine(),
            "processor": describe_cpu(probe=False),
            "students": n,
            "burst_size": args.burst_size,
            "events": total,
            "posting_seconds": round(posting, 2),
            "events_per_second": round(total / posting, 1),
            "batches": batches,
            "delays_measured": len(delays),
            "delay_median_s": round(statistics.median(delays), 3) if delays else None,
            "delay_p95_s": round(sorted(delays)[int(0.95 * (len(delays) - 1))], 3)
            if delays
            else None,
            "delay_max_s": round(max(delays), 3) if delays else None,
            "page_load_s": round(load, 2),
            "service_peak_mb": round(max((bench.peak_mb(p) for p in service), default=0), 1),
            "hub_peak_mb_before": round(hub_before, 1),
            "hub_peak_mb_after": round(bench.peak_mb(hub.running_pid(folder) or 0), 1),
            "failures": failures,
            "stream_errors": sorted({code for _, code in arrived.get("", [])}),
        }


def markdown(result: dict, when: str) -> str:
    return "\n".join(
        [
            f"Measured {when} by `python3 course.py classroom bench --live {result['students']}` "
            f"on {result['machine']}: {result['students']} made-up students signed in and "
            f"posted {result['events']:,} check events in {result['batches']} bursts of up to "
            f"{result['burst_size']}, all at once, while the teacher's page followed the stream.",
            "",
            bench.processor_line(result.get("processor")),
            "",
            "| what | measured |",
            "|---|---:|",
            f"| events accepted per second (all students at once) | "
            f"{result['events_per_second']:,.0f} |",
            f"| delay from a check to the teacher's page: median | {result['delay_median_s']} s |",
            f"| the same, 95th percentile / worst | {result['delay_p95_s']} s / "
            f"{result['delay_max_s']} s |",
            f"| the page's load time, {result['students']} students x every exercise | "
            f"{result['page_load_s']} s |",
            f"| memory the page adds: its service (peak) | {result['service_peak_mb']:,.0f} MB |",
            f"| the hub's peak before and after the run | {result['hub_peak_mb_before']:,.0f} MB, "
            f"{result['hub_peak_mb_after']:,.0f} MB |",
        ]
    )


def main(args: Namespace) -> int:
    if getattr(args, "isa", None):
        print(
            "classroom bench: --isa has no effect with --live (no kernel runs TensorFlow); "
            "leave one of them out.",
            file=sys.stderr,
        )
        return 2
    result = run(args)
    when = time.strftime("%Y-%m-%d")
    text = markdown(result, when)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"classroom-live-{time.strftime('%Y%m%d-%H%M%S')}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    stem.with_suffix(".md").write_text(text + "\n")
    print(text)
    return 1 if result["failures"] else 0
