"""The JupyterLab the course installs (issue 15), checked without a browser:

- no "get notified about official Jupyter news?" pop-up: JupyterLab's own `fetchNews`
  setting is "false" for both ways of starting it, the launcher (`course.py lab`) and the
  README's conda route (`jupyter lab --config=jupyter_notebook_config.py`);
- the widget front-end JupyterLab will load is the one that belongs to the installed
  ipywidgets ("Error displaying widget: model not found" comes from a mismatch here).

tests/test_browser_widgets.py checks the same in a real browser.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from importlib import metadata
from pathlib import Path

import pytest

import course
from conftest import JUPYTER_DIRS, JUPYTER_SECRETS
from course import ROOT

NOTIFICATION = "@jupyterlab/apputils-extension:notification"
MANAGER = "@jupyter-widgets/jupyterlab-manager"

pytest.importorskip("jupyterlab")
from jupyter_server.serverapp import ServerApp  # noqa: E402
from jupyterlab.labapp import LabApp  # noqa: E402
from jupyterlab_server.settings_utils import _get_overrides, get_settings  # noqa: E402


def _conda_route_argv() -> list[str]:
    """The README's conda command, as documented (so the test follows the README)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^\s*(jupyter lab\b[^#\n]*)", readme, re.MULTILINE)
    assert commands, "the README no longer shows the conda route's `jupyter lab ...` command"
    return commands[0].split()[2:]


def _lab_app(argv: list[str]) -> LabApp:
    """JupyterLab's extension app configured exactly as `jupyter lab ARGV` would be."""
    server = ServerApp()
    server.initialize(argv=[*argv, "--no-browser"], find_extensions=False, new_httpserver=False)
    lab = LabApp()
    lab._link_jupyter_server_extension(server)
    return lab


def _fetch_news_default(lab: LabApp) -> str:
    overrides, error = _get_overrides(lab.app_settings_dir)
    assert not error, error
    settings, _ = get_settings(
        lab.app_settings_dir,
        lab.schemas_dir,
        lab.user_settings_dir,
        schema_name=NOTIFICATION,
        overrides=overrides,
        labextensions_path=lab.labextensions_path,
    )
    return settings["schema"]["properties"]["fetchNews"]["default"]


@pytest.fixture()
def isolated_jupyter(tmp_path, monkeypatch):
    """No learner's own Jupyter settings, tokens or runtime files."""
    for var in JUPYTER_SECRETS:
        monkeypatch.delenv(var, raising=False)
    for var, sub in JUPYTER_DIRS.items():
        monkeypatch.setenv(var, str(tmp_path / sub))
    yield tmp_path
    ServerApp.clear_instance()


def test_the_setting_exists_in_the_installed_jupyterlab(isolated_jupyter):
    """The name is JupyterLab's, and without the course's config it would ask."""
    lab = _lab_app([])
    schema = json.loads(
        (
            Path(lab.schemas_dir) / "@jupyterlab" / "apputils-extension" / "notification.json"
        ).read_text(encoding="utf-8")
    )
    allowed = {choice["const"] for choice in schema["properties"]["fetchNews"]["oneOf"]}
    assert allowed == {"true", "false", "none"}
    assert _fetch_news_default(lab) == "none", "JupyterLab's own default asks the learner"
    overrides = json.loads((ROOT / "lab_settings" / "overrides.json").read_text())
    assert overrides[NOTIFICATION]["fetchNews"] == "false"


def test_no_news_pop_up_with_the_launcher(isolated_jupyter):
    argv = course.lab_command(Path("python"), [])[4:]
    assert argv == [f"--config={ROOT / 'jupyter_notebook_config.py'}"]
    assert _fetch_news_default(_lab_app(argv)) == "false"


def test_no_news_pop_up_with_the_conda_route(isolated_jupyter, monkeypatch):
    monkeypatch.chdir(ROOT)  # the README runs it from the course folder
    argv = _conda_route_argv()
    assert argv == ["--config=jupyter_notebook_config.py"], argv
    assert _fetch_news_default(_lab_app(argv)) == "false"
    env = (ROOT / "requirements/environment.yml").read_text(encoding="utf-8")
    assert "jupyter lab --config=jupyter_notebook_config.py" in env


# --- the widget front-end matches the kernel's ipywidgets -----------------------------------


def _requirement(dist: str, name: str) -> str:
    for req in metadata.requires(dist) or []:
        if re.match(rf"{re.escape(name)}\b", req, re.IGNORECASE) and "extra ==" not in req:
            return req
    raise AssertionError(f"{dist} does not require {name}")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def test_installed_widget_packages_are_the_pair_ipywidgets_asks_for():
    req = _requirement("ipywidgets", "jupyterlab_widgets")  # e.g. "jupyterlab_widgets~=3.0.17"
    wanted = re.search(r"~=\s*([\d.]+)", req)
    assert wanted, f"unexpected requirement {req!r}; update this test"
    have = metadata.version("jupyterlab_widgets")
    low = _version_key(wanted.group(1))
    # ~=X.Y.Z means >= X.Y.Z and == X.Y.*
    assert _version_key(have) >= low and _version_key(have)[:2] == low[:2], (
        f"ipywidgets {metadata.version('ipywidgets')} needs {req}, but jupyterlab_widgets "
        f"{have} is installed: widgets would show 'Error displaying widget'. Reinstall "
        "requirements/course.txt (delete .venv/ and run python3 course.py setup)."
    )


def test_jupyterlab_loads_the_widget_front_end_of_the_installed_ipywidgets():
    """The copy JupyterLab finds first is the one jupyterlab_widgets installed, and its
    widget models have the versions the kernel's ipywidgets asks for."""
    import ipywidgets
    from jupyter_core.paths import jupyter_path
    from jupyterlab_server.config import get_federated_extensions

    paths = jupyter_path("labextensions")
    found = [Path(p) / MANAGER for p in paths if (Path(p) / MANAGER / "package.json").is_file()]
    assert found, f"no {MANAGER} front-end in {paths}: widgets cannot render"
    loaded = get_federated_extensions(paths)[MANAGER]
    # The files jupyterlab_widgets installed, with their hashes from its RECORD.
    files = {str(f).replace("\\", "/"): f for f in metadata.files("jupyterlab_widgets")}
    ours = next(f for name, f in files.items() if name.endswith(f"{MANAGER}/package.json"))
    package_json = found[0] / "package.json"
    digest = hashlib.sha256(package_json.read_bytes()).digest()
    expected = base64.urlsafe_b64decode(ours.hash.value + "==")
    assert digest == expected, (
        f"JupyterLab loads {MANAGER} {loaded['version']} from {found[0]}, which is not the "
        f"copy installed by jupyterlab_widgets {metadata.version('jupyterlab_widgets')} "
        "(an old copy shadows it): widgets would show 'Error displaying widget'. Remove it."
    )
    bundle = "".join(
        p.read_text(encoding="utf-8", errors="replace") for p in (found[0] / "static").glob("*.js")
    )
    version = ipywidgets._version.__jupyter_widgets_controls_version__
    quoted = rf"[\"']{re.escape(version)}[\"']"
    assert "@jupyter-widgets/controls" in bundle and (
        re.search(rf"JUPYTER_CONTROLS_VERSION\W{{0,12}}{quoted}", bundle)
        or re.search(rf"_model_module_version\W{{0,5}}{quoted}", bundle)
    ), (
        f"the widget front-end has no @jupyter-widgets/controls models of version {version}, "
        f"which ipywidgets {ipywidgets.__version__} creates: widgets would show 'Error "
        "displaying widget: model not found'"
    )
