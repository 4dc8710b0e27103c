"""Bad input to `classroom start` and `classroom report`: one clear paragraph, nothing written.

Each case runs the command line in-process (no hub is started: every check comes before
anything is written or launched) and checks the message says what was wrong and how to fix
it, and that the classroom folder was not created or changed.
"""

from __future__ import annotations

import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from classroom import accounts, cli, isolation
from classroom.settings import free_port, read_roster
from conftest import make_tiny_data
from helpers import datasets

CLASS_PW = "class-pass-2026"
TEACHER_PW = "x" * 40


@pytest.fixture()
def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CLASS_PASSWORD", CLASS_PW)
    monkeypatch.setenv("COURSE_TEACHER_PASSWORD", TEACHER_PW)
    data = make_tiny_data(tmp_path / "data")
    datasets.write_sums(data)
    roster = tmp_path / "students.txt"
    roster.write_text("alice\nbob\n", encoding="utf-8")
    return tmp_path, roster, data


def _start(capsys, tmp_path, roster, data, *extra, folder=None, port=None) -> tuple[int, str]:
    port = port or free_port()  # by default a port that is free now (the check only binds)
    argv = [
        "start",
        "--roster",
        str(roster),
        "--dir",
        str(folder or tmp_path / "class"),
        "--data",
        str(data),
        "--port",
        str(port),
        *extra,
    ]
    code = cli.main(argv)
    err = capsys.readouterr().err
    return code, " ".join(err.split())


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("alice\nbob\nalice\n", "line 3 ('alice') is the same sign-in name as line 1"),
        ("alice\nBob Smith\nbob  smith\n", "line 3 ('bob smith') is the same sign-in name"),
        ("alice\n\nbob\n", "line 2 is blank"),
        ("alice\n../etc\n", "contains '/'"),
        ("alice\nbob\tlee\n", "a tab"),
        ("alice\nteacher\n", "is the teacher's name"),
        ("", "it has no names"),
    ],
)
def test_a_bad_roster_is_refused_with_every_problem_named(setup, capsys, text, said):
    tmp_path, roster, data = setup
    roster.write_text(text, encoding="utf-8")
    code, err = _start(capsys, tmp_path, roster, data)
    assert code == 2 and said in err and "one name per line" in err
    assert not (tmp_path / "class").exists(), "a refused start must write nothing"


def test_a_roster_lists_several_problems_at_once(tmp_path):
    roster = tmp_path / "r.txt"
    roster.write_text("alice\n\nalice\nx/y\n", encoding="utf-8")
    with pytest.raises(Exception) as info:
        read_roster(roster)
    message = str(info.value)
    assert "line 2 is blank" in message and "line 3 ('alice')" in message and "line 4" in message


def test_a_roster_accepts_the_names_a_class_really_has(tmp_path):
    """Hangul, spaces, dots and capitals are sign-in names; `root` is only a name."""
    roster = tmp_path / "r.txt"
    roster.write_text("김민준\nKim Minjun\nlee.seoyeon\nroot\n", encoding="utf-8")
    names = read_roster(roster)
    assert names == ["김민준", "kim minjun", "lee.seoyeon", "root"]
    made = accounts.plan(names)
    assert made["root"].name == "jupyter-root", "never the system's root"
    assert made["lee.seoyeon"].name == "jupyter-lee.seoyeon"
    assert made["김민준"].name.startswith("jupyter-gimminjun-")
    assert made["kim minjun"].name.startswith("jupyter-kim-minjun-")
    assert len({a.name for a in made.values()}) == 4


@pytest.mark.parametrize(
    ("var", "value", "said"),
    [
        (
            "COURSE_CLASS_PASSWORD",
            "short",
            "class password is 5 characters long; it needs at least 8",
        ),
        (
            "COURSE_TEACHER_PASSWORD",
            "y" * 20,
            "teacher's password is 20 characters long; it needs at least 32",
        ),
        ("COURSE_TEACHER_PASSWORD", CLASS_PW + "-" * 32, None),  # long enough: accepted
    ],
)
def test_passwords_too_short_are_refused(setup, capsys, monkeypatch, var, value, said):
    tmp_path, roster, data = setup
    monkeypatch.setenv(var, value)
    if said is None:
        from classroom.settings import load_passwords

        assert load_passwords(tmp_path)[:2] == (CLASS_PW, value)
        return
    code, err = _start(capsys, tmp_path, roster, data)
    assert code == 2 and said in err and var in err
    assert not (tmp_path / "class").exists()


def test_a_port_in_use_is_refused(setup, capsys):
    tmp_path, roster, data = setup
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, err = _start(capsys, tmp_path, roster, data, port=port)
    assert code == 2 and f"Port {port} on 127.0.0.1 is not free" in err and "--port" in err
    assert not (tmp_path / "class").exists()


def test_missing_data_is_refused(setup, capsys):
    tmp_path, roster, _ = setup
    code, err = _start(capsys, tmp_path, roster, tmp_path / "nowhere")
    assert code == 2 and "does not exist" in err and "helpers.datasets fetch" in err
    assert not (tmp_path / "class").exists()


def test_data_that_fails_its_checksums_is_refused(setup, capsys):
    tmp_path, roster, data = setup
    (data / "mnist.npz").write_bytes(b"damaged")
    code, err = _start(capsys, tmp_path, roster, data)
    assert code == 2 and "fails its checksums: mnist.npz (mismatch)" in err
    assert not (tmp_path / "class").exists()


def test_data_without_checksums_is_refused(setup, capsys):
    tmp_path, roster, data = setup
    (data / "SHA256SUMS").unlink()
    code, err = _start(capsys, tmp_path, roster, data)
    assert code == 2 and "SHA256SUMS" in err
    assert not (tmp_path / "class").exists()


def test_a_folder_that_cannot_be_written_is_refused(setup, capsys):
    tmp_path, roster, data = setup
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, err = _start(capsys, tmp_path, roster, data, folder=blocker / "class")
    assert code == 2 and "cannot be written to" in err and "--dir" in err
    assert blocker.read_text() == "not a folder"


def test_report_on_a_folder_without_a_classroom(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder in (empty, tmp_path / "missing"):
        assert cli.main(["report", "--dir", str(folder)]) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert "holds no classroom" in err and "--dir" in err
    assert list(empty.iterdir()) == [] and not (tmp_path / "missing").exists()


def test_bad_memory_and_cpus_are_refused(setup, capsys):
    tmp_path, roster, data = setup
    with pytest.raises(SystemExit):
        cli.main(["start", "--roster", str(roster), "--mem", "lots"])
    assert "--mem 'lots' is not an amount of memory" in capsys.readouterr().err
    code, err = _start(capsys, tmp_path, roster, data, "--cpus", "0")
    assert code == 2 and "--cpus 0.0 must be above 0" in err


def test_a_good_start_writes_settings_and_owner_only_secrets(setup, monkeypatch):
    """prepare() alone (no hub), the shared-account route: its files and its warnings."""
    from classroom import hub

    tmp_path, roster, data = setup
    monkeypatch.delenv("COURSE_CLASS_PASSWORD")
    monkeypatch.delenv("COURSE_TEACHER_PASSWORD")
    args = cli.parser().parse_args(
        [
            "start",
            "--roster",
            str(roster),
            "--dir",
            str(tmp_path / "class"),
            "--data",
            str(data),
            "--ip",
            "0.0.0.0",
            "--port",
            "0",
            "--shared-account",
        ]
    )
    args.port = free_port()
    folder, settings, (class_pw, teacher_pw, generated), warnings = hub.prepare(args)
    assert generated and len(class_pw) >= 8 and len(teacher_pw) >= 32
    for name in ("secrets.json", "classroom.json"):
        assert (folder / name).stat().st_mode & 0o777 == 0o600, f"{name} is the hub's only"
    assert settings.roster == ["alice", "bob"] and settings.isolation == "shared"
    copied = Path(settings.data_dir)
    # The teacher's files, plus chapter 9's reviews that the course carries itself.
    carried = [f for files in datasets.carried_datasets().values() for f in files]
    assert sorted(p.name for p in copied.iterdir()) == sorted(
        [*(p.name for p in data.iterdir()), *carried]
    )
    assert not (copied / "mnist.npz").stat().st_mode & 0o222, "the shared data is read-only"
    text = " ".join(warnings)
    assert "without TLS" in text and "--ssl-cert" in text
    assert "not kept apart" in text and "sign in as the teacher" in text
    # A second start keeps the stored passwords.
    again = hub.prepare(args)[2]
    assert again[:2] == (class_pw, teacher_pw) and not again[2]


def test_without_root_two_students_are_refused_unless_shared(setup, capsys, monkeypatch):
    tmp_path, roster, data = setup
    monkeypatch.setattr(isolation.os, "geteuid", lambda: 1000)
    code, err = _start(capsys, tmp_path, roster, data)
    assert code == 2 and "cannot keep its 2 students apart" in err
    assert "does not run as root" in err and "--shared-account" in err
    assert "sign in as the teacher" in err, "it says what any student could do"
    assert not (tmp_path / "class").exists()
    route = isolation.choose(2, shared_account=True)
    assert route.isolation == "shared" and "root" in route.why_not
    assert isolation.choose(1, shared_account=False).isolation == "shared", "a learner alone"


@pytest.mark.parametrize(
    ("option", "said"),
    [
        (("--mem", "512M"), "--mem 512M is less than a student needs"),
        (("--pids", "10"), "--pids 10 is too few"),
    ],
)
def test_limits_too_small_to_work_are_refused(setup, capsys, option, said):
    tmp_path, roster, data = setup
    code, err = _start(capsys, tmp_path, roster, data, *option)
    assert code == 2 and said in err
    assert not (tmp_path / "class").exists()


needs_accounts = pytest.mark.skipif(
    isolation.why_no_accounts() != "", reason="needs root and control groups, as CI has"
)


@needs_accounts
def test_a_classroom_students_cannot_reach_is_refused(setup, capsys):
    """pytest's own folder is root's only: homes there would be out of the students' reach."""
    tmp_path, roster, data = setup
    code, err = _start(capsys, tmp_path, roster, data)
    assert code == 2 and "cannot reach the classroom folder" in err and "--dir /srv" in err
    assert not (tmp_path / "class").exists()


@needs_accounts
def test_an_account_the_course_did_not_make_is_refused(setup, capsys, account_prefix):
    tmp_path, roster, data = setup
    open_folder = Path(tempfile.mkdtemp(prefix="course-class-"))
    open_folder.chmod(0o755)
    prefix = account_prefix
    stranger = f"{prefix}alice"
    subprocess.run(["useradd", "--no-create-home", stranger], check=True)
    try:
        code, err = _start(
            capsys, tmp_path, roster, data, "--account-prefix", prefix, folder=open_folder / "c"
        )
        assert code == 2 and stranger in err and "not made by the course" in err
        assert not (open_folder / "c").exists(), "nothing written"
        for other in (f"{prefix}bob", f"{prefix}teacher"):
            with pytest.raises(KeyError):
                pwd.getpwnam(other)  # nothing created
    finally:
        shutil.rmtree(open_folder)
