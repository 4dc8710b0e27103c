"""jupyter_notebook_config.py, loaded the way `jupyter lab --config=...` loads it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("jupyter_server")
from jupyter_server.auth.identity import IdentityProvider  # noqa: E402
from jupyter_server.serverapp import ServerApp  # noqa: E402
from jupyter_server.services.kernels.connection.channels import (  # noqa: E402
    ZMQChannelsWebsocketConnection,
)
from traitlets.config.loader import PyFileConfigLoader  # noqa: E402

CONFIG = Path(__file__).resolve().parent.parent / "jupyter_notebook_config.py"


@pytest.fixture()
def server(tmp_path, monkeypatch):
    # Keep the learner's own Jupyter config, token and runtime files out of the test.
    for var in ("JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE", "JUPYTER_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    app = ServerApp()
    app.initialize(
        argv=[f"--config={CONFIG}", "--no-browser"],
        find_extensions=False,
        new_httpserver=False,
    )
    yield app
    ServerApp.clear_instance()


def test_loopback_only_with_token(server):
    assert server.ip == "127.0.0.1"
    assert server.allow_remote_access is False
    provider = server.identity_provider
    assert provider.auth_enabled
    assert provider.token_generated and len(provider.token) >= 32


def test_no_wildcard_origins_and_xsrf_on(server):
    assert server.allow_origin == "" and server.allow_origin_pat == ""
    assert server.disable_check_xsrf is False


def test_root_dir_is_the_notebooks_folder(server):
    assert Path(server.root_dir) == CONFIG.parent / "notebooks"


def test_rate_limits_reach_the_websocket_connection(server):
    assert server.kernel_websocket_connection_class is ZMQChannelsWebsocketConnection
    connection = ZMQChannelsWebsocketConnection(config=server.config)
    assert connection.limit_rate is True
    # Big enough for figures and summaries, finite so a print loop is cut off.
    assert 1_000_000 < connection.iopub_data_rate_limit <= 50_000_000
    assert 0 < connection.iopub_msg_rate_limit <= 10_000
    assert server.max_buffer_size >= 256 * 1024 * 1024


def test_every_option_is_a_current_name():
    """Catches old `NotebookApp.*` names and typos, which Jupyter silently ignores."""
    config = PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()
    from jupyterlab.labapp import LabApp

    classes = {
        "LabApp": LabApp,
        "ServerApp": ServerApp,
        "IdentityProvider": IdentityProvider,
        "ZMQChannelsWebsocketConnection": ZMQChannelsWebsocketConnection,
    }
    assert set(config) <= set(classes), f"unexpected sections: {set(config) - set(classes)}"
    for section, values in config.items():
        traits = classes[section].class_traits(config=True)
        for name in values:
            assert name in traits, f"{section}.{name} is not a configurable option"
