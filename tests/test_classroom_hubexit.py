"""classroom/hubexit.py: a hub that hangs after its cleanup still ends, with its stacks logged."""

from __future__ import annotations

import asyncio
import threading

from classroom import hubexit


class FakeHub:
    cleaned = 0

    async def cleanup(self):
        FakeHub.cleaned += 1
        return "done"


def test_a_hub_still_there_after_its_cleanup_is_ended_with_status_0(capfd):
    ended = threading.Event()
    codes: list[int] = []

    def end(code: int) -> None:
        codes.append(code)
        ended.set()

    hubexit.exit_after_cleanup(FakeHub, grace=0.05, end=end)
    hubexit.exit_after_cleanup(FakeHub, grace=0.05, end=end)  # a second load wraps nothing
    assert asyncio.run(FakeHub().cleanup()) == "done" and FakeHub.cleaned == 1
    assert ended.wait(10), "the timer ends the process"
    assert codes == [0]
    err = capfd.readouterr().err
    assert "had not exited 0.05 s after its cleanup" in err
    assert "Thread" in err or "Current thread" in err, "every thread's stack is logged"


def test_the_timer_starts_only_once_cleanup_has_finished():
    started = []

    class Slow:
        async def cleanup(self):
            started.append(threading.active_count())
            await asyncio.sleep(0)

    hubexit.exit_after_cleanup(Slow, grace=60, end=lambda code: None)
    before = threading.active_count()
    asyncio.run(Slow().cleanup())
    assert started and threading.active_count() == before + 1, "one timer, after the cleanup"
    timers = [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
    assert timers and all(t.daemon for t in timers), "it never keeps the process alive"
    for timer in timers:
        timer.cancel()
