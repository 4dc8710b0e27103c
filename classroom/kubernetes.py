"""The classroom on Kubernetes: Zero to JupyterHub values and a single-user image.

``course.py classroom kubernetes --roster students.txt --out DIR`` writes

- ``DIR/values.yaml``: the Zero to JupyterHub Helm chart's values with the settings
  ``classroom start`` uses (shared-password sign-in, the roster, the teacher as admin,
  memory and CPU per student, idle culling, the chapters copied into each home without
  overwriting, the read-only data inside the image), each student's server running as
  the image's non-root ``jovyan`` (uid 1000, gid 100) with no privilege escalation and
  no capabilities;
- ``DIR/image/``: a build context with a ``Dockerfile`` that installs the course's own
  pinned requirements, the helpers, the chapters and the checked data.

The process cap (``--pids``) is the one limit the values cannot carry: Kubernetes has no
process limit in a pod's spec, only the kubelet's ``podPidsLimit``, which caps every pod
on its node (``PIDS_DOCS``). So values.yaml says so in a comment, and the command prints
the kubelet setting the cluster needs (:func:`pids_note`). ``ulimit -u`` in the pod would
be no substitute: every student's pod runs as uid 1000, and that limit counts all of one
uid's processes on the node together.

Kubernetes cannot run on the machines this course is tested on, so only what can be
checked without it is tested: the YAML parses, holds those settings, keeps to the keys the
chart's values.schema.yaml allows, and the image installs the same pins
(``tests/test_classroom_kubernetes.py``).
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from pathlib import Path

import yaml

from classroom import policy
from classroom.settings import (
    ROOT,
    ClassroomError,
    Settings,
    chapter_notebooks,
    check_folder,
    check_options,
    copy_data,
    load_passwords,
    remove_tree,
    save_passwords,
    verify_data,
    write_atomically,
)

HOME = "/home/jovyan"  # the chart's default home mount path
UID, GID = 1000, 100  # the image's jovyan user and its group ("users"): never root (0)
DEFAULT_PIDS = 256  # `classroom start --pids`'s default
PIDS_DOCS = "https://kubernetes.io/docs/concepts/policy/pid-limiting/"
COURSE = "/srv/course"
IMAGE_FILES = (
    "requirements/course.txt",
    "requirements/course.lock",
    "requirements/classroom.txt",
    "requirements/classroom.lock",
    "pyproject.toml",
    "README.md",
)
IMAGE_DIRS = ("helpers", "lab_settings")  # and the chapters (only they: never a stray copy)


def hub_pin() -> str:
    """The ``jupyterhub==X`` line of requirements/classroom.txt (the hub's own version)."""
    text = (ROOT / "requirements/classroom.txt").read_text(encoding="utf-8")
    match = re.search(r"^jupyterhub==[\w.]+", text, re.MULTILINE)
    if not match:
        raise ClassroomError("requirements/classroom.txt has no jupyterhub==VERSION line.")
    return match.group(0)


def values(
    settings: Settings,
    class_pw: str,
    teacher_pw: str,
    image: str,
    ssl: tuple[str, str] | None,
) -> dict:
    """The chart's values, as a dict (written as YAML by :func:`write_deployment`).

    Every rule comes from ``policy.py``, as ``classroom start``'s hub config takes them;
    this function only says where the chart wants each one.
    """
    name, tag = image.rsplit(":", 1) if ":" in image.rsplit("/", 1)[-1] else (image, "latest")
    sign_in = policy.sign_in(settings, class_pw, teacher_pw)
    # Kubernetes quantities: bytes are unambiguous (2G here means 2 GiB, as in `start`).
    limits = policy.limits(settings)
    chapters = [notebook.name for notebook in chapter_notebooks()]  # the image holds these
    config: dict = {
        "hub": {
            "config": {
                "JupyterHub": {
                    "authenticator_class": "shared-password",
                    "template_vars": {"announcement_login": policy.LOGIN_NOTE},
                },
                "SharedPasswordAuthenticator": {
                    "user_password": sign_in.class_password,
                    "admin_password": sign_in.teacher_password,
                },
                "Authenticator": {
                    "allowed_users": list(sign_in.students),
                    "admin_users": [sign_in.teacher],
                    "allow_existing_users": sign_in.allow_existing_users,
                },
                # What the chart has no singleuser key for, passed to KubeSpawner: the group
                # (runAsGroup) and the rest of the notebook container's securityContext.
                # KubeSpawner adds container_security_context on top of what singleuser.uid
                # and singleuser.allowPrivilegeEscalation set, and only to that container
                # (not to the chart's init containers); singleuser.extraPodConfig would
                # instead replace the pod's securityContext and lose fsGid's fsGroup.
                "KubeSpawner": {
                    "args": policy.server_arguments(),
                    "http_timeout": policy.START_SECONDS,
                    "gid": GID,
                    "container_security_context": {
                        "runAsNonRoot": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                },
            }
        },
        "singleuser": {
            "image": {"name": name, "tag": tag},
            "defaultUrl": policy.first_page(chapters),
            "startTimeout": policy.START_SECONDS,
            # The same caps as `classroom start`: memory (the container's cgroup memory
            # limit) and CPU time (a CFS quota of --cpus CPUs).
            "memory": {"limit": limits.memory_bytes, "guarantee": limits.memory_bytes},
            "cpu": {"limit": limits.cpus, "guarantee": limits.cpus / 2},
            # The server runs as the image's jovyan, never as root (the chart's own keys:
            # KubeSpawner's runAsUser, fsGroup and allowPrivilegeEscalation).
            "uid": UID,
            "fsGid": GID,
            "allowPrivilegeEscalation": False,
            "extraEnv": policy.server_environment(settings, f"{COURSE}/data"),
            # New chapters arrive as new files; a student's edited notebook is never replaced.
            "lifecycleHooks": {
                "postStart": {
                    "exec": {
                        "command": [
                            "sh",
                            "-c",
                            "cp -n "
                            + " ".join(shlex.quote(f"{COURSE}/notebooks/{n}") for n in chapters)
                            + f" {HOME}/ || true",
                        ]
                    }
                }
            },
            "storage": {"capacity": "2Gi"},
        },
        "cull": {"enabled": True, **policy.culling(settings)},
    }
    if ssl:
        cert, key = (Path(p).read_text(encoding="utf-8") for p in ssl)
        config["proxy"] = {
            "https": {"enabled": True, "type": "manual", "manual": {"cert": cert, "key": key}}
        }
    return config


def pids_note(pids: int) -> str:
    """What the teacher must set on the cluster for `classroom start`'s process cap.

    Kubernetes has no process limit in a pod's spec; the kubelet's ``podPidsLimit`` (or
    its flag ``--pod-max-pids``) caps every pod on its node.
    """
    return (
        f"Process limit: `classroom start --pids {pids}` caps each student at {pids} processes\n"
        "(threads included). Kubernetes cannot set a pod's process limit from Helm values,\n"
        "so values.yaml cannot: set it in the kubelet configuration of the nodes that run\n"
        "the students' servers (it caps every pod on those nodes):\n"
        f"    podPidsLimit: {pids}\n"
        f"(or start their kubelets with --pod-max-pids={pids}). See\n"
        f"{PIDS_DOCS}"
    )


def dockerfile() -> str:
    return f"""\
# The course's single-user image for Zero to JupyterHub (written by
# `python3 course.py classroom kubernetes`). Build it from this folder:
#   docker build -t IMAGE .
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONHASHSEED=0
# values.yaml runs the server as this user, uid {UID} in group {GID} (never root), with its
# home at {HOME}.
RUN useradd --create-home --home-dir {HOME} --uid {UID} --gid {GID} jovyan
WORKDIR {COURSE}
COPY requirements ./requirements
COPY pyproject.toml README.md ./
# The learner's locked environment (every package, exact versions and hashes) plus the hub's,
# locked against it: the single-user side of {hub_pin()}, as on the teacher's machine.
RUN pip install --require-hashes -r requirements/course.lock -r requirements/classroom.lock
COPY helpers ./helpers
RUN pip install --no-deps .
COPY notebooks ./notebooks
# The course's JupyterLab settings (no news pop-up), where JupyterLab reads overrides.
COPY lab_settings/overrides.json /usr/local/share/jupyter/lab/settings/overrides.json
# The datasets, checked against their SHA256SUMS, read-only for the students.
COPY data ./data
RUN python -m helpers.datasets verify {COURSE}/data && chmod -R a-w {COURSE}/data
USER {UID}:{GID}
WORKDIR {HOME}
CMD ["jupyterhub-singleuser"]
"""


def write_deployment(args) -> list[Path]:
    """Check the options, then write values.yaml and the image's build context.

    Prints :func:`pids_note` (to stderr): the process cap is the cluster's to set.
    """
    teacher, roster = check_options(args)
    pids = getattr(args, "pids", DEFAULT_PIDS)  # `--pids`, as `classroom start` takes it
    if isinstance(pids, bool) or not isinstance(pids, int) or pids < 1:
        raise ClassroomError(f"--pids {pids} must be a whole number of 1 or more, e.g. 256.")
    source = Path(args.data).expanduser().resolve()
    files = verify_data(source)
    out = check_folder(Path(args.out))
    class_pw, teacher_pw, _ = load_passwords(out)
    out.mkdir(parents=True, exist_ok=True)
    save_passwords(out, class_pw, teacher_pw)
    ssl = (args.ssl_cert, args.ssl_key) if args.ssl_cert else None
    settings = Settings(
        roster=roster,
        teacher=teacher,
        mem=args.mem,
        cpus=args.cpus,
        idle_minutes=args.idle_minutes,
        pids=pids,
        data_dir=f"{COURSE}/data",
    )
    config = values(settings, class_pw, teacher_pw, args.image, ssl)
    header = (
        "# Zero to JupyterHub values for the course's classroom, written by\n"
        "# `python3 course.py classroom kubernetes`. It holds the class and teacher\n"
        "# passwords: keep it private (it is readable by its owner only).\n"
        "#\n" + "".join(f"# {line}\n" for line in pids_note(pids).splitlines())
    )
    values_path = out / "values.yaml"
    write_atomically(
        values_path,
        header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
        mode=0o600,
    )
    image = out / "image"
    staging = out / ".image-new"
    remove_tree(staging)
    staging.mkdir()
    for name in IMAGE_FILES:
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, staging / name)
    for name in IMAGE_DIRS:
        shutil.copytree(
            ROOT / name,
            staging / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_*"),
        )
    (staging / "notebooks").mkdir()
    for notebook in chapter_notebooks():
        shutil.copyfile(notebook, staging / "notebooks" / notebook.name)
    copy_data(source, files, staging)
    (staging / "Dockerfile").write_text(dockerfile(), encoding="utf-8")
    remove_tree(image)
    staging.rename(image)
    print(f"\n{pids_note(pids)}\n", file=sys.stderr, flush=True)
    return [values_path, image / "Dockerfile"]
