# Jupyter server settings for the course.
#
# How it takes effect: JupyterLab 4 runs on jupyter_server, which reads
# `jupyter_server_config.py` from its config folders and ignores a file with
# this (classic Notebook) name. So the launcher passes it explicitly:
#
#     python3 course.py lab
#     # which runs: jupyter lab --config=jupyter_notebook_config.py
#
# If you start Jupyter yourself, pass the same --config flag.
#
# The option names are today's: `ServerApp` (was `NotebookApp`),
# `IdentityProvider` (the token) and `ZMQChannelsWebsocketConnection` (the
# output rate limits). Old `NotebookApp.*` lines are ignored or only warned
# about by JupyterLab 4, which is why copying them from old tutorials "does
# nothing".
#
# A note for teachers on "The kernel appears to have died": that message means
# the *kernel* (the Python process running the notebook) ran out of memory.
# Raising `max_buffer_size` - an old piece of advice - does not help, because
# that buffer belongs to the web server, not the kernel. The course's chapters
# are written to stay under 1.5 GB per kernel instead (see the README's
# chapter table for measured figures).

import os

c = get_config()  # noqa: F821 - provided by Jupyter when it loads this file

_here = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()

# --- Where the course opens --------------------------------------------------
# Open the file browser on the notebooks folder.
c.ServerApp.root_dir = os.path.join(_here, "notebooks")
# Open a browser tab automatically on the learner's own machine.
c.ServerApp.open_browser = True

# --- Security: this laptop only, with a token --------------------------------
# Listen on the loopback address only: other machines on the classroom network
# cannot reach this server, even if they guess the port.
c.ServerApp.ip = "127.0.0.1"
# Refuse connections whose Host header is not local (DNS-rebinding protection).
c.ServerApp.allow_remote_access = False
# No cross-origin access: a web page from another site cannot drive the kernel.
c.ServerApp.allow_origin = ""
c.ServerApp.allow_origin_pat = ""
# Keep the cross-site request forgery check on.
c.ServerApp.disable_check_xsrf = False
# Token authentication stays on. Leaving the token unset makes Jupyter create a
# new random one at every start; the launch message prints a URL containing it.
# (Setting it to "" would switch authentication off: do not do that.)
# So no `c.IdentityProvider.token = ...` line appears here on purpose.

# --- Sizes and output rates ---------------------------------------------------
# Largest request body and buffer the web server accepts (512 MiB): enough to
# upload a saved model or a dataset file through the browser.
c.ServerApp.max_body_size = 512 * 1024 * 1024
c.ServerApp.max_buffer_size = 512 * 1024 * 1024

# Output rate limits protect the browser tab. A runaway loop that prints on
# every step would otherwise flood it until the tab freezes; past these limits
# Jupyter pauses the output and says "IOPub data rate exceeded" instead. They
# are set high enough that big figures (a 4x8 grid of images is about 0.5 MB)
# and long model summaries display in one go.
c.ZMQChannelsWebsocketConnection.limit_rate = True
# Bytes per second of output, averaged over the window below (default 1 MB/s).
c.ZMQChannelsWebsocketConnection.iopub_data_rate_limit = 5_000_000
# Messages per second (each print flush or figure is one message).
c.ZMQChannelsWebsocketConnection.iopub_msg_rate_limit = 1000
# Averaging window in seconds.
c.ZMQChannelsWebsocketConnection.rate_limit_window = 3.0

# --- No pop-ups in class ------------------------------------------------------
# A new JupyterLab asks every learner "Would you like to get notified about
# official Jupyter news?" in a corner toast. JupyterLab's own setting for it is
# `fetchNews` of `@jupyterlab/apputils-extension:notification` ("false" = never
# ask, never fetch). Defaults for settings come from `overrides.json` in the
# application settings folder; the course keeps its own in lab_settings/ and
# points JupyterLab at it here, so both the launcher (`course.py lab`) and the
# conda route (`jupyter lab --config=jupyter_notebook_config.py`) get it, and
# nothing inside the environment is patched. A learner can still switch news on
# in Settings > Notifications (their own choice wins over a default).
c.LabApp.app_settings_dir = os.path.join(_here, "lab_settings")
