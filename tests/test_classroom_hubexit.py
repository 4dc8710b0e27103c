"""classroom/hubexit.py: a hub started with Ctrl-C ignored acts on it again, and so does what
it starts (JupyterHub stops its services with SIGINT first)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A process started the way `nohup` or a CI runner starts one: SIGINT and SIGQUIT ignored. It
# calls answer_interrupts() (or not), then starts a child, as the hub starts its services, and
# prints which of the two signals the child ignores.
SCRIPT = """
import signal, subprocess, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGQUIT, signal.SIG_IGN)
if sys.argv[1] == "fix":
    from classroom.hubexit import answer_interrupts
    print("restored", *answer_interrupts())
    print("again", *answer_interrupts())
child = (
    "import signal; print('child ignores', *[s.name for s in (signal.SIGINT, signal.SIGQUIT)"
    " if signal.getsignal(s) is signal.SIG_IGN])"
)
subprocess.run([sys.executable, "-c", child], check=True)
"""


def run(mode: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_ignored_interrupts_are_inherited_without_the_fix():
    assert run("none") == ["child ignores SIGINT SIGQUIT"], "the cause: ignored stays ignored"


def test_answer_interrupts_gives_the_process_and_its_children_the_defaults():
    assert run("fix") == ["restored SIGINT SIGQUIT", "again", "child ignores"]
