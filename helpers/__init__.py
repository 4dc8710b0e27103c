"""Helpers for the hands-on deep-learning course.

Import this package first in every notebook::

    import helpers

On import it turns TensorFlow's C++ log lines off (they must be set before
TensorFlow loads, so the import has to come first). In a notebook kernel it
also loads TensorFlow and applies :mod:`helpers.memory`'s fixes, which keep the
kernel from growing with every model it trains. It offers:

- :func:`seed_everything` - one call that makes a notebook repeatable;
- :func:`environment_report` - the versions and the device a notebook runs on;
- :func:`record` - hands a notebook's headline numbers to the benchmark.

Everything else lives in submodules, imported by name (e.g.
``from helpers.datasets import load_mnist``, ``from helpers import checks``); the
README's Layout section lists them.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import warnings
from typing import Any

from helpers.memory import freeze_startup_objects, limit_malloc_growth, plug_optimizer_graph_leak

# Must happen before TensorFlow is imported anywhere in the process:
# 3 = errors only. setdefault lets a maintainer turn logs back on when debugging.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__all__ = ["seed_everything", "environment_report", "record", "peak_memory_mb"]


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with the process's stderr (fd 2) sent to /dev/null.

    A few lines (e.g. "Could not find cuda drivers") are written by TensorFlow's
    C++ code *before* its logging reads TF_CPP_MIN_LOG_LEVEL, and Jupyter copies
    fd 2 into the notebook. Python errors still surface: they are raised after
    fd 2 is restored.
    """
    if "tensorflow" in sys.modules:
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (some IDEs): import normally
        import tensorflow  # noqa: F401

        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_python_logs() -> None:
    """Keep TensorFlow's and Keras' Python log warnings out of notebook outputs.

    These are the ``WARNING:tensorflow:...`` and ``WARNING:absl:...`` lines
    (e.g. "tf.function retracing", "saving as HDF5 is legacy"). Errors still
    show. The notebooks explain in prose what those warnings would have said.
    """
    import logging

    for name in ("tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _in_notebook_kernel() -> bool:
    return "ipykernel" in sys.modules


# Keras 3.15 warns "`shuffle=True` was passed, but will be ignored ..." on every
# fit() that gets a tf.data.Dataset, because shuffle=True is fit's *default*. The
# notebooks shuffle inside the dataset (chapter 3 explains why), so the warning
# only adds noise and a machine-specific file path to the output.
warnings.filterwarnings(
    "ignore", message=r"`shuffle=True` was passed, but will be ignored", category=UserWarning
)


# In a notebook TensorFlow is needed anyway, so load it now, quietly. Scripts and
# the datasets command line stay fast: they import TensorFlow only if they use it.
if _in_notebook_kernel():
    limit_malloc_growth()
    _import_tensorflow_quietly()
    quiet_python_logs()  # also when TensorFlow was already imported
    plug_optimizer_graph_leak()
    freeze_startup_objects()  # last: after every import above


def seed_offset() -> int:
    """The maintainers' ``COURSE_SEED_OFFSET`` (0 when unset); see :func:`seed_everything`."""
    raw = os.environ.get("COURSE_SEED_OFFSET", "").strip()
    if not raw:
        return 0
    try:
        offset = int(raw)
    except ValueError:
        raise ValueError(
            f"COURSE_SEED_OFFSET must be a whole number such as 1, got {raw!r}. "
            "Unset it to run the notebooks with their own seeds."
        ) from None
    if offset < 0:
        raise ValueError(f"COURSE_SEED_OFFSET must not be negative, got {offset}.")
    return offset


def seed_everything(seed: int = 42, deterministic: bool = True) -> int:
    """Seed Python, NumPy and TensorFlow/Keras so a notebook re-runs identically.

    ``keras.utils.set_random_seed`` seeds Python's ``random``, NumPy and the
    backend. With ``deterministic=True`` TensorFlow is also asked to pick
    deterministic kernels, so two runs on the same machine give the same
    weights, not merely similar ones (this is what lets CI compare outputs).

    Maintainers measuring how much a result depends on the seed set the
    environment variable ``COURSE_SEED_OFFSET`` (a whole number, see
    ``bench/margins.py``): it is added to every seed, so a whole notebook runs
    with other random numbers without editing it. Learners never need it.

    Returns the seed actually used, so a notebook can pass it on.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(
            f"seed_everything() needs a non-negative whole number, got {seed!r}. "
            "Pass an int such as 42."
        )
    seed += seed_offset()
    import keras  # imported here so that `import helpers` stays fast
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    return seed


def environment_report() -> dict[str, str]:
    """Return (and print) the versions and the compute device in use.

    The device line says ``CPU`` or names the GPUs TensorFlow can see, so a
    learner can tell at a glance why a chapter runs slower or faster than the
    times quoted in the course.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    report = {
        "Python": platform.python_version(),
        "TensorFlow": tf.__version__,
        "Keras": keras.__version__,
        "NumPy": np.__version__,
        "Keras backend": keras.backend.backend(),
        "Device": f"GPU x{len(gpus)}" if gpus else "CPU only",
    }
    width = max(len(k) for k in report)
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
    return report


def record(name: str, value: Any) -> None:
    """Record a notebook's headline number for the benchmark.

    When the environment variable ``COURSE_METRICS_FILE`` names a file, one
    JSON line ``{"name": ..., "value": ...}`` is appended to
    it. Otherwise nothing happens and nothing is printed, so a learner never
    sees it. NumPy scalars are converted to plain Python numbers.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"record() needs a non-empty metric name, got {name!r}.")
    if hasattr(value, "item"):  # NumPy / TensorFlow scalars
        value = value.item()
    try:
        line = json.dumps({"name": name, "value": value})
    except TypeError:
        raise TypeError(
            f"record({name!r}, ...) can only store numbers, strings, lists and dicts; "
            f"got a {type(value).__name__}. Convert it first, e.g. float(value)."
        ) from None
    target = os.environ.get("COURSE_METRICS_FILE")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux and macOS).

    Chapters print it at the end so a learner sees how close the kernel came
    to the course's 1.2 GB budget. Returns ``nan`` where it cannot be read.
    """
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB
