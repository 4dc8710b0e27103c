"""The course's classroom: one JupyterHub serves the chapters to a whole class.

``python3 course.py classroom start|report|kubernetes|bench`` (see ``cli.py``).
We write no server of our own: JupyterHub runs the sign-in, the proxy and one
JupyterLab per student; this package only turns the teacher's few options into
JupyterHub's settings, checks them first, and reads the students' progress logs.

- ``settings.py``: the options, checked (roster, passwords, ports, folders, data);
- ``jupyterhub_config.py``: the file JupyterHub loads, built from those settings;
- ``hub.py``: start and stop the hub, with nothing left behind;
- ``client.py``: sign in and run code the way a student's browser does (tests, bench);
- ``report.py``: who has done which exercise;
- ``kubernetes.py``: the same settings for Zero to JupyterHub on Kubernetes;
- ``bench.py``: N simulated students at once, to size the machine.
"""
