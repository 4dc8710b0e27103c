"""Make sure the hub's process ends once JupyterHub has cleaned up after a stop.

On SIGTERM, JupyterHub stops its services, the students' servers and the proxy, commits its
database, removes its PID file and logs "...done"; then it cancels its remaining tasks and
stops its event loop, and the interpreter exits. In one clean-clone run out of six, on a
busy 2-core machine, the process was still alive 90 s after "...done" (the classroom test's
restart round; JupyterHub 6.0). Nothing was left to clean up by then, but a hub that does
not exit keeps `classroom stop` waiting, and a service manager would count it as failed.

:func:`exit_after_cleanup` wraps ``JupyterHub.cleanup``: when the cleanup has finished, a
daemon timer starts; if the process is still there ``grace`` seconds later, the timer writes
every thread's stack to the hub's log (so the cause can be found) and ends the process with
status 0, the status a completed cleanup earns. A hub that exits in time never sees it.
"""

from __future__ import annotations

import faulthandler
import functools
import os
import sys
import threading
from collections.abc import Callable

GRACE_SECONDS = 20.0


def exit_after_cleanup(
    app_class: type, grace: float = GRACE_SECONDS, end: Callable[[int], None] = os._exit
) -> None:
    """Wrap ``app_class.cleanup`` (an async method) so the process ends ``grace`` seconds
    after a finished cleanup at the latest; ``end`` is what ends it (tests pass their own)."""
    original = app_class.cleanup
    if getattr(original, "_course_exit_after", False):
        return  # already wrapped (the config file loaded twice)

    @functools.wraps(original)
    async def cleanup(self, *args, **kwargs):
        result = await original(self, *args, **kwargs)

        def overdue() -> None:
            print(
                f"The hub had not exited {grace:g} s after its cleanup finished; its threads "
                "follow, then it exits.",
                file=sys.stderr,
                flush=True,
            )
            faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
            end(0)

        timer = threading.Timer(grace, overdue)
        timer.daemon = True  # never what keeps the process alive
        timer.start()
        return result

    cleanup._course_exit_after = True  # type: ignore[attr-defined]
    app_class.cleanup = cleanup
