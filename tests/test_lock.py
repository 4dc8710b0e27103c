"""The locks (issue 21): every requirements/*.txt has a requirements/*.lock that agrees with its
pins, pins every package with hashes, and covers every package installed in .venv."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

from course import ROOT, VENV, lock_of

REQUIREMENTS = sorted((ROOT / "requirements").glob("*.txt"))
FIX = "run `python3 course.py lock` (it rewrites every lock) and commit the locks"
# Installed by venv itself, or the project: not a dependency to lock.
NOT_LOCKED = {"pip", "setuptools", "dl-course-helpers"}


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file, following ``-r`` includes."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found.update(pins(path.parent / line[3:].strip()))
        elif match := re.fullmatch(r"([A-Za-z0-9_.-]+)\s*==\s*(\S+)", line):
            found[_name(match.group(1))] = match.group(2)
    return found


def locked(path: Path) -> dict[str, dict[str, int]]:
    """name -> {version: number of hashes} of a lock (a name can have one version per marker)."""
    entries: dict[str, dict[str, int]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"([A-Za-z0-9_.-]+)==([^\s;\\]+)", line):
            current = entries.setdefault(_name(match.group(1)), {})
            current.setdefault(match.group(2), 0)
            version = match.group(2)
        elif current is not None and "--hash=sha256:" in line:
            current[version] += 1
    return entries


@pytest.mark.parametrize("requirements", REQUIREMENTS, ids=lambda p: p.name)
def test_every_pin_is_the_locked_version(requirements):
    lock = lock_of(requirements)
    assert lock.is_file(), f"{requirements.name} has no {lock.name}: {FIX}"
    entries = locked(lock)
    for name, version in pins(requirements).items():
        assert name in entries, f"{requirements.name} pins {name}, {lock.name} lacks it: {FIX}"
        assert version in entries[name], (
            f"{requirements.name} pins {name}=={version} but {lock.name} has "
            f"{', '.join(sorted(entries[name]))}: {FIX}"
        )


@pytest.mark.parametrize("requirements", REQUIREMENTS, ids=lambda p: p.name)
def test_every_locked_package_has_hashes(requirements):
    lock = lock_of(requirements)
    unhashed = [
        f"{name}=={version}"
        for name, versions in locked(lock).items()
        for version, hashes in versions.items()
        if not hashes
    ]
    assert not unhashed, f"{lock.name} has no hash for {unhashed}: {FIX}"


def test_the_other_locks_agree_with_the_learners():
    learner = locked(ROOT / "requirements/course.lock")
    for requirements in REQUIREMENTS:
        for name, versions in locked(lock_of(requirements)).items():
            if name in learner:
                assert set(versions) == set(learner[name]), (
                    f"{lock_of(requirements).name} has {name} {sorted(versions)}, "
                    f"requirements/course.lock {sorted(learner[name])}: {FIX}"
                )


@pytest.mark.skipif(
    Path(sys.prefix).resolve() != VENV.resolve(), reason="not running in the project's .venv"
)
def test_the_locks_cover_every_installed_package():
    entries: dict[str, set[str]] = {}
    for requirements in REQUIREMENTS:
        for name, versions in locked(lock_of(requirements)).items():
            entries.setdefault(name, set()).update(versions)
    stray = sorted(
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in metadata.distributions()
        if _name(dist.metadata["Name"]) not in NOT_LOCKED
        and dist.version not in entries.get(_name(dist.metadata["Name"]), ())
    )
    assert not stray, (
        f"installed in .venv but not in any lock (or at another version): {stray}. Add them "
        f"to a requirements file and {FIX}; or delete .venv/ and run python3 course.py setup."
    )


def test_the_installer_and_the_lock_tool_are_the_same_uv():
    """course.py installs with requirements/uv.lock's uv and locks with the dev lock's."""
    installer, tool = (
        locked(ROOT / f)["uv"] for f in ("requirements/uv.lock", "requirements/dev.lock")
    )
    assert installer == tool, f"requirements/uv.lock has uv {installer}, the dev lock {tool}: {FIX}"
