"""A stop that takes a second, however the classroom was started.

JupyterHub stops each managed service (the idle culler, the course website, the live class
page) with SIGINT first, and sends SIGTERM only when the service is still there
``Spawner.interrupt_timeout`` seconds later (30 s in JupyterHub 6), one service after the
other. A signal a process ignores stays ignored in every program it starts, and a launcher
started in the background (``nohup``, ``cmd &`` in a script, a CI runner) inherits SIGINT and
SIGQUIT ignored. So a classroom started that way passed it on to the hub and to every service:
each stop waited out three 30-s timeouts, and the classroom test, which allows 90 s, failed
whenever the timeouts' jitter added up to more.

:func:`answer_interrupts` gives the hub's process back the default actions, before JupyterHub
starts anything; the programs it starts inherit them.
"""

from __future__ import annotations

import signal


def answer_interrupts() -> list[str]:
    """Let this process (and what it starts from now on) act on SIGINT and SIGQUIT again.

    SIGINT gets Python's own handler (``KeyboardInterrupt``), as in any Python started from a
    terminal; SIGQUIT its default action. Returns the names of the signals that had been
    ignored (empty when none was), so the caller can say what it changed.
    """
    restored = []
    for sig, action in (
        (signal.SIGINT, signal.default_int_handler),
        (signal.SIGQUIT, signal.SIG_DFL),
    ):
        if signal.getsignal(sig) is signal.SIG_IGN:
            signal.signal(sig, action)
            restored.append(sig.name)
    return restored
