"""The tests' own rules (tests/README.md): shared support comes from tests/conftest.py, never
from another test module; the markers are registered; in CI a browser test may not skip."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

import conftest

pytest_plugins = ["pytester"]

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
PYTEST_OPTIONS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "pytest"
]["ini_options"]


def _imported_modules(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_no_test_module_imports_another():
    """Shared helpers live in tests/conftest.py: a test file stays runnable on its own."""
    found = {
        path.name: [name for name in _imported_modules(path) if name.split(".")[-1][:5] == "test_"]
        for path in sorted(TESTS.glob("*.py"))
    }
    assert not {name: hits for name, hits in found.items() if hits}, (
        "import shared test code from tests/conftest.py, not from a test module"
    )


def test_the_markers_are_registered_and_enforced():
    registered = {line.split(":", 1)[0] for line in PYTEST_OPTIONS["markers"]}
    assert registered == {"browser", "hub", "site", "slow"}
    assert "--strict-markers" in PYTEST_OPTIONS["addopts"]
    assert "-ra" in PYTEST_OPTIONS["addopts"], "a green run lists what it skipped"


# --- the CI rule: a browser test that skips fails when CI is set -------------------------------

INNER_SUITE = """
import pytest

@pytest.fixture()
def chromium():
    pytest.skip("no Chromium on this machine")

@pytest.mark.browser
def test_browser_skips_in_its_body():
    pytest.skip("no Playwright on this machine")

def test_browser_skips_in_the_fixture(chromium):  # marked browser by asking for chromium
    pass

@pytest.mark.browser
def test_browser_runs():
    pass

@pytest.mark.browser
@pytest.mark.xfail(reason="a known bug", strict=True)
def test_browser_expected_to_fail():
    assert False

def test_other_skip():
    pytest.skip("not a browser test: may skip anywhere")
"""


@pytest.fixture()
def inner(pytester):
    """A tiny suite with the project's markers and tests/conftest.py's hooks, run in-process."""
    markers = "\n".join(f"    {line}" for line in PYTEST_OPTIONS["markers"])
    pytester.makeini(f"[pytest]\naddopts = -ra --strict-markers\nmarkers =\n{markers}\n")
    pytester.makepyfile(test_inner=INNER_SUITE)

    def run():
        return pytester.runpytest_inprocess("-p", "no:cacheprovider", plugins=[conftest])

    return run


@pytest.mark.parametrize(
    ("value", "ci"),
    [(None, False), ("", False), ("false", False), ("0", False), ("true", True), ("1", True)],
)
def test_ci_is_recognised_by_the_ci_variable(monkeypatch, value, ci):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert conftest.in_ci() is ci


def test_in_ci_a_browser_test_that_skips_fails_with_its_reason(inner, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = inner()
    result.assert_outcomes(passed=1, failed=1, errors=1, skipped=1, xfailed=1)
    out = result.stdout.str()
    assert "FAILED test_inner.py::test_browser_skips_in_its_body" in out
    assert "ERROR test_inner.py::test_browser_skips_in_the_fixture" in out
    assert "no Playwright on this machine" in out and "no Chromium on this machine" in out
    assert "a browser test skipped in CI" in out
    assert "SKIPPED [1] test_inner.py" in out and "not a browser test" in out
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_outside_ci_a_browser_test_may_skip_and_the_summary_says_why(inner, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    result = inner()
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)
    out = result.stdout.str()
    for reason in ("no Playwright on this machine", "no Chromium on this machine", "not a browser"):
        assert reason in out, f"-ra lists every skip with its reason: {reason}"
    assert result.ret == pytest.ExitCode.OK
