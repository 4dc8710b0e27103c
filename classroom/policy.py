"""What a classroom gives each student, as pure functions of its checked settings.

The rules live here once, and two deployments apply them:

- ``jupyterhub_config.py`` (``classroom start`` on one machine) sets them on JupyterHub's
  traitlets;
- ``kubernetes.py`` (``classroom kubernetes``) translates the same values into the Zero to
  JupyterHub chart's keys.

Neither file states a rule of its own: who may sign in, how much memory, CPU and how many
processes a student's server gets, how many threads TensorFlow starts, which page opens
first, when an idle server is stopped and how long a start may take all come from here. Each
function reads a :class:`~classroom.settings.Settings` (and, where a deployment must say so,
a path only it knows) and returns plain data; nothing here starts, reads or writes
anything, so ``tests/test_classroom_config.py`` checks both deployments against these values
without a hub or a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

from classroom.settings import Settings, memory_bytes

# A student's server gets this long to start and to answer the hub: a first start on a busy
# server imports TensorFlow's JupyterLab extensions, which can take a minute.
START_SECONDS = 120
# The idle culler looks this often (seconds) for servers idle longer than --idle-minutes.
CULL_EVERY = 60
# Output a cell may send per second before Jupyter drops it: high enough for a chapter's
# training logs and plots, low enough that a runaway print loop cannot flood the browser.
IOPUB_BYTES_PER_SECOND = 5_000_000
LOGIN_NOTE = (
    "Sign in with your name as the class list spells it, and the class password your "
    "teacher gives you."
)


@dataclass(frozen=True)
class SignIn:
    """Who may sign in, and with which shared password."""

    students: tuple[str, ...]
    teacher: str
    class_password: str
    teacher_password: str
    # A name taken off the roster can no longer sign in, even if it did before.
    allow_existing_users: bool = False


@dataclass(frozen=True)
class Limits:
    """What one student's server may use."""

    memory_bytes: int
    cpus: float
    pids: int

    @property
    def threads(self) -> int:
        """TensorFlow's and OpenMP's threads: one per CPU of the quota, at least one."""
        return max(1, round(self.cpus))


def sign_in(settings: Settings, class_password: str, teacher_password: str) -> SignIn:
    """The roster and the teacher, each with the password the classroom saved."""
    return SignIn(tuple(settings.roster), settings.teacher, class_password, teacher_password)


def limits(settings: Settings) -> Limits:
    """``--mem`` as bytes (2G is 2 GiB everywhere), ``--cpus`` and ``--pids``."""
    return Limits(memory_bytes(settings.mem), float(settings.cpus), int(settings.pids))


def server_environment(settings: Settings, data_dir: str) -> dict[str, str]:
    """The variables every student's server (and so every kernel) starts with.

    ``data_dir`` is where that deployment put the read-only data (a folder of the classroom
    on one machine, a folder inside the image on Kubernetes).
    """
    threads = str(limits(settings).threads)
    return {
        "COURSE_DATA_DIR": data_dir,
        "PYTHONHASHSEED": "0",  # set order, and so the chapters' outputs, as in CI
        "TF_CPP_MIN_LOG_LEVEL": "3",  # no TensorFlow start-up lines in the learner's outputs
        # At most --cpus threads each, so 30 kernels do not each start one per core.
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": "1",
        "OMP_NUM_THREADS": threads,
        # Plots drawn inline, whatever a server's environment would choose otherwise.
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }


def server_arguments() -> list[str]:
    """Options every student's Jupyter server gets on its command line."""
    return [f"--ZMQChannelsWebsocketConnection.iopub_data_rate_limit={IOPUB_BYTES_PER_SECOND}"]


def first_page(chapter_names: list[str]) -> str:
    """The page a student's server opens on: the first chapter."""
    return f"/lab/tree/{chapter_names[0]}"


def culling(settings: Settings) -> dict[str, int]:
    """The idle culler's period and timeout, in seconds."""
    return {"timeout": settings.idle_minutes * 60, "every": CULL_EVERY}
