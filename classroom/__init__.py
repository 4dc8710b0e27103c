"""The course's classroom: one JupyterHub serves the chapters to a whole class.

``python3 course.py classroom start|report|collect|reset|kubernetes|bench`` (see ``cli.py``).
We write no server of our own: JupyterHub runs the sign-in, the proxy and one JupyterLab
per student; this package turns the teacher's few options into JupyterHub's settings,
checks them first, keeps the students apart, and shows the teacher how the class is doing.

- ``settings.py``: the options, checked (roster, passwords, ports, folders, data);
- ``isolation.py``: whether students can be kept apart here, and the folder modes that do it;
- ``accounts.py``: one Unix account per roster name (Hangul and all), never a foreign one;
- ``cgroups.py``: one control group per student: memory, CPU and process caps (v2 or v1);
- ``studentenv.py``: the read-only Python environment the students' accounts run;
- ``spawner.py``: the hub's sign-in and spawner, as the student's account, in their group;
- ``jupyterhub_config.py``: the file JupyterHub loads, built from those settings;
- ``hub.py``: start and stop the hub, with nothing left behind;
- ``livemodel.py``, ``liveview.py``, ``static/``: the teacher's live class page (a service);
- ``report.py``, ``collect.py``: who has done which exercise; collect and reset a chapter;
- ``client.py``, ``browser.py``: sign in and run code as a student's browser does (tests,
  bench), and the Chromium the browser tests drive;
- ``kubernetes.py``: the same settings for Zero to JupyterHub on Kubernetes;
- ``bench.py``, ``livebench.py``: N simulated students at once, to size the machine, and a
  simulated class for the live page.
"""
