"""Shared test support: every test module imports from here, never from another test module.

- tiny datasets in the Keras cache layout, written per test (``make_tiny_data``, ``tiny_dir``);
- Jupyter isolation (``JUPYTER_SECRETS``, ``JUPYTER_DIRS``) for tests that start Jupyter;
- the browser: ``find_chromium()`` and ``import_playwright()`` (or the fixtures ``chromium``
  and ``sync_playwright``) skip with a message saying what to install; a test that asks for
  either fixture is marked ``browser`` by itself;
- ``free_port()``, a loopback port that is free now;
- the CI rule: with ``CI`` set (CI services set ``CI=true``), a ``browser`` test that skips
  fails instead, with the skip's reason.

The markers (``browser``, ``hub``, ``site``, ``slow``) are registered in pyproject.toml;
tests/README.md explains the tiers.
"""

from __future__ import annotations

import grp
import gzip
import json
import os
import pwd
import shutil
import socket
import struct
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest

from helpers.data import imdb, store

# The tests (and the notebooks nbval runs, whose kernels inherit this) must not fill the
# maintainer's own progress log (helpers/progress.py); its own tests point it elsewhere.
os.environ.setdefault("COURSE_PROGRESS_FILE", "off")
# Nor post to a live class page, when a teacher runs the tests inside a hub's server.
os.environ.pop("COURSE_CLASS_FEED", None)


# What a learner's own Jupyter set-up could bring into a test that starts Jupyter: the
# variables to drop (tokens, passwords, a custom lab folder), and the folders to point at a
# test's temporary directory instead (variable -> subfolder).
JUPYTER_SECRETS = ("JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE", "JUPYTER_PASSWORD", "JUPYTERLAB_DIR")
JUPYTER_DIRS = {
    "JUPYTER_CONFIG_DIR": "config",
    "JUPYTER_DATA_DIR": "data",
    "JUPYTER_RUNTIME_DIR": "runtime",
    "JUPYTERLAB_SETTINGS_DIR": "user",
    "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
}


def _write_idx(path: Path, array: np.ndarray) -> None:
    """Write an IDX file (the MNIST/Fashion-MNIST format), gzipped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if array.ndim == 1:
        header = struct.pack(">II", 2049, len(array))
    else:
        header = struct.pack(">IIII", 2051, *array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def make_tiny_data(folder: Path, seed: int = 0) -> Path:
    """Write small MNIST, Fashion-MNIST and IMDB files to `folder` (Keras layout)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(
        folder / "mnist.npz",
        x_train=rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, 12, dtype=np.uint8),
        x_test=rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, 5, dtype=np.uint8),
    )
    fm = folder / "fashion-mnist"
    _write_idx(fm / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (9, 28, 28)))
    _write_idx(fm / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, 9))
    _write_idx(fm / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (4, 28, 28)))
    _write_idx(fm / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, 4))

    def reviews(n):
        out = np.empty(n, dtype=object)
        for i in range(n):
            out[i] = [int(w) for w in rng.integers(1, 12, rng.integers(1, 9))]
        return out

    np.savez(
        folder / "imdb.npz",
        x_train=reviews(15),
        y_train=rng.integers(0, 2, 15),
        x_test=reviews(11),
        y_test=rng.integers(0, 2, 11),
    )
    words = ["the", "and", "a", "of", "to", "is", "br", "in", "it", "movie", "good"]
    (folder / "imdb_word_index.json").write_text(
        json.dumps({w: i + 1 for i, w in enumerate(words)}), encoding="utf-8"
    )
    return folder


def offline_download(real=store.download):
    """``store.download`` for a machine without internet: only loopback addresses answer."""

    def download(url, dest, sha256=None):
        if url.startswith("http://127.0.0.1:"):
            return real(url, dest, sha256)
        raise store.DatasetError(
            f"Could not download {url} (ConnectionError: [Errno -3] "
            "Temporary failure in name resolution). Nothing was saved."
        )

    return download


@pytest.fixture()
def isolated(tmp_path, monkeypatch):
    """No COURSE_* variables, an empty repo data/ folder, a fresh word-index cache, and no
    internet (a classroom mirror on 127.0.0.1 still answers)."""
    for var in ("COURSE_DATA_DIR", "COURSE_DATA_MIRROR", "COURSE_METRICS_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(store, "REPO_DATA_DIR", tmp_path / "repo-data")
    monkeypatch.setattr(store, "download", offline_download())
    imdb._word_index_cached.cache_clear()
    imdb._reverse_index.cache_clear()
    yield tmp_path
    imdb._word_index_cached.cache_clear()
    imdb._reverse_index.cache_clear()


@pytest.fixture()
def tiny_dir(isolated, monkeypatch):
    """Tiny data in a folder that COURSE_DATA_DIR points at, with SHA256SUMS."""
    folder = make_tiny_data(isolated / "course-data")
    store.write_sums(folder)
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    return folder


def remove_accounts_with(prefix: str) -> None:
    """Delete every Unix account and group whose name starts with ``prefix`` (homes kept)."""
    system = "/usr/sbin:/usr/bin:/sbin:/bin"
    for entry in pwd.getpwall():
        if entry.pw_name.startswith(prefix):
            subprocess.run([shutil.which("userdel", path=system) or "userdel", entry.pw_name])
    for group in grp.getgrall():
        if group.gr_name.startswith(prefix):
            subprocess.run([shutil.which("groupdel", path=system) or "groupdel", group.gr_name])


@pytest.fixture()
def account_prefix():
    """A prefix no account here has (``dltXXXX-``, 8 characters, as account names allow);
    every account and group made with it is removed after the test, whatever happened."""
    prefix = f"dlt{uuid.uuid4().hex[:4]}-"
    assert not [e for e in pwd.getpwall() if e.pw_name.startswith(prefix)]
    yield prefix
    remove_accounts_with(prefix)
    assert not [e for e in pwd.getpwall() if e.pw_name.startswith(prefix)], "accounts left"
    assert not [g for g in grp.getgrall() if g.gr_name.startswith(prefix)], "groups left"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (the OS picks it; nothing holds it after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the browser ------------------------------------------------------------------------------

BROWSER_FIXTURES = ("chromium", "sync_playwright")


def in_ci() -> bool:
    """Whether this run is CI's: ``CI`` set to anything but empty, 0, false or no."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def find_chromium() -> str:
    """The Chromium the browser tests drive (``classroom.browser.chromium_path()``), or skip."""
    from classroom import browser

    found = browser.chromium_path()
    if found:
        return found
    pytest.skip(
        "browser test skipped: no Chromium found. Install Debian's `chromium` "
        "(apt-get install -y --no-install-recommends chromium; .ci/run does this in "
        "CI) or set COURSE_CHROMIUM=/path/to/chrome."
    )


def import_playwright():
    """Playwright's ``sync_playwright``, or skip when the package is not installed."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "browser test skipped: the Python package playwright is not installed "
            "(it is in requirements/dev.txt: run python3 course.py test)."
        )
    return sync_playwright


@pytest.fixture(scope="session", name="chromium")
def chromium_fixture() -> str:
    """The path of the Chromium to drive; the test skips (fails in CI) when there is none."""
    return find_chromium()


@pytest.fixture(scope="session", name="sync_playwright")
def sync_playwright_fixture():
    """Playwright's ``sync_playwright``; the test skips (fails in CI) without playwright."""
    return import_playwright()


def pytest_collection_modifyitems(items):
    """A test that asks for a browser fixture is a ``browser`` test, marked or not."""
    for item in items:
        if set(BROWSER_FIXTURES) & set(getattr(item, "fixturenames", ())):
            if not item.get_closest_marker("browser"):
                item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (``CI`` set, as CI services do), a ``browser`` test may not skip: it fails,
    with the skip's reason, so a missing Chromium or Playwright cannot pass unnoticed."""
    report = yield
    if (
        report.skipped
        and not hasattr(report, "wasxfail")  # an expected failure is not a skip
        and in_ci()
        and item.get_closest_marker("browser")
    ):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        report.outcome = "failed"
        report.longrepr = (
            f"a browser test skipped in CI (CI={os.environ['CI']}), which CI does not allow: "
            f"{reason}"
        )
    return report
