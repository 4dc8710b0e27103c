"""classroom/collect.py: ``classroom collect`` and ``classroom reset``, on a classroom made by hand.

No hub runs: each test writes a ``classroom.json`` (with ``Settings.save``) and the homes
into ``tmp_path``, with a small course of its own (``course_root``), so nothing is written
inside the project. The last test makes a real Unix account (root only, skipped otherwise),
under its own prefix (``dlc`` + 4 hex digits + ``-``), deleted by a finalizer.
"""

from __future__ import annotations

import csv
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import threading
from datetime import datetime
from pathlib import Path

import pytest

from classroom import accounts, cli
from classroom import collect as collect_module
from classroom.collect import INDEX_COLUMNS, INDEX_NAME, collect, reset
from classroom.report import report
from classroom.settings import ClassroomError, Settings

CH00, CH01, CH02 = "00_start_here.ipynb", "01_neurons_and_activations.ipynb", "02_forward.ipynb"
ROSTER = ["kim minjun", "lee.seo", "박서연", "choi"]
WHEN = datetime(2026, 12, 7, 15, 30, 0)


def notebook(text: str, pad: int = 0) -> bytes:
    """A small, valid notebook as Jupyter writes it (JSON, one newline at the end)."""
    cell = {"cell_type": "markdown", "id": "c1", "metadata": {}, "source": [text, "x" * pad]}
    nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


@pytest.fixture()
def course(tmp_path) -> Path:
    """A course of three chapters, as ``notebooks/`` holds them."""
    root = tmp_path / "course"
    (root / "notebooks").mkdir(parents=True)
    for name in (CH00, CH01, CH02):
        (root / "notebooks" / name).write_bytes(notebook(f"the course's {name}"))
    return root


class Classroom:
    def __init__(self, folder: Path, course: Path) -> None:
        self.folder, self.course = folder, course

    def home(self, student: str) -> Path:
        return self.folder / "homes" / accounts.folder_name(student)


@pytest.fixture()
def classroom(tmp_path, course) -> Classroom:
    """kim minjun and lee.seo have chapter 01; 박서연 only 00; choi has no home yet."""
    folder = tmp_path / "class"
    folder.mkdir()
    Settings(roster=list(ROSTER), course_root=str(course)).save(folder)
    room = Classroom(folder, course)
    for student in ROSTER[:3]:
        room.home(student).mkdir(parents=True)
        (room.home(student) / CH00).write_bytes(notebook(f"{student}'s start"))
    (room.home("kim minjun") / CH01).write_bytes(notebook("kim's work on 01", pad=3000))
    (room.home("lee.seo") / CH01).write_bytes(notebook("lee's work on 01"))
    return room


def index(folder: Path) -> list[dict[str, str]]:
    with open(folder / INDEX_NAME, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == INDEX_COLUMNS
        return list(reader)


def tree(top: Path) -> dict[str, tuple]:
    """Everything under ``top``: kind, mode, times and content (a link's target, not read)."""
    found = {}
    for path in [top, *top.rglob("*")]:
        st = path.lstat()
        if path.is_symlink():
            what = ("link", os.readlink(path))
        elif path.is_file():
            what = ("file", path.read_bytes())
        else:
            what = (stat.S_IFMT(st.st_mode),)
        found[str(path.relative_to(top))] = (*what, st.st_mode, st.st_mtime_ns, st.st_uid)
    return found


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# --- collect -------------------------------------------------------------------------------------
def test_collect_copies_each_students_file_whole_with_an_index(classroom):
    before = {s: tree(classroom.home(s)) for s in ROSTER[:3]}
    done = collect(classroom.folder, "01", now=WHEN)

    # Default: a new dated folder in the classroom folder, never in the course's working tree.
    assert done.folder == classroom.folder / "collected" / "01-20261207-153000"
    assert mode(classroom.folder / "collected") == mode(done.folder) == 0o700
    kim, lee = f"{accounts.folder_name('kim minjun')}.ipynb", "lee.seo.ipynb"
    assert sorted(os.listdir(done.folder)) == sorted([kim, lee, INDEX_NAME])  # no temp files
    assert (done.folder / kim).read_bytes() == (classroom.home("kim minjun") / CH01).read_bytes()
    assert (done.folder / lee).read_bytes() == (classroom.home("lee.seo") / CH01).read_bytes()
    for name in (kim, lee, INDEX_NAME):
        assert mode(done.folder / name) == 0o600
        assert (done.folder / name).stat().st_uid == os.geteuid()

    rows = index(done.folder)
    assert [r["student"] for r in rows] == ROSTER  # the roster's order, everyone listed
    by = {r["student"]: r for r in rows}
    assert (by["kim minjun"]["file"], by["kim minjun"]["status"]) == (kim, "copied")
    assert int(by["kim minjun"]["bytes"]) == (done.folder / kim).stat().st_size
    for row in (by["kim minjun"], by["lee.seo"]):
        assert datetime.fromisoformat(row["copied_at"]).tzinfo is not None
        assert datetime.fromisoformat(row["saved_at"]).tzinfo is not None
    assert (by["박서연"]["status"], by["박서연"]["file"]) == ("missing", "")
    assert CH01 in by["박서연"]["note"]
    assert by["choi"]["status"] == "missing" and "no home" in by["choi"]["note"]
    # The students' homes were only read.
    assert {s: tree(classroom.home(s)) for s in ROSTER[:3]} == before

    # Collecting again in the same second makes another folder; the first is left as it was.
    first = tree(done.folder)
    again = collect(classroom.folder, "1", now=WHEN)
    assert again.folder.name == "01-20261207-153000-2"
    assert tree(done.folder) == first


def test_collect_from_the_command_line(classroom, tmp_path, capsys):
    out = tmp_path / "grading" / "week 1"  # made, 0700, with the dated folder inside
    assert (
        cli.main(["collect", "--chapter", "01", "--out", str(out), "--dir", str(classroom.folder)])
        == 0
    )
    [dated] = out.iterdir()
    assert re.fullmatch(r"01-\d{8}-\d{6}", dated.name)
    assert mode(out) == mode(tmp_path / "grading") == mode(dated) == 0o700
    printed = capsys.readouterr().out
    assert f"from 2 of 4 students into {dated}/" in printed
    assert "missing: 박서연" in printed and "missing: choi" in printed
    assert str(dated / INDEX_NAME) in printed
    assert not (classroom.folder / "collected").exists()


def test_collect_never_follows_what_a_student_planted(classroom, tmp_path):
    secret = tmp_path / "secret.ipynb"
    secret.write_bytes(notebook("TOP SECRET: someone else's file"))
    kim = classroom.home("kim minjun")
    (kim / CH01).unlink()
    (kim / CH01).symlink_to(secret)  # the chapter is a link to a file elsewhere
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(secret, elsewhere / CH01)
    lee = classroom.home("lee.seo")
    shutil.rmtree(lee)
    lee.symlink_to(elsewhere, target_is_directory=True)  # the whole home is a link
    os.mkfifo(classroom.home("박서연") / CH01)  # would block a plain open()
    choi = classroom.home("choi")
    (choi / CH01).mkdir(parents=True)  # a folder named like the chapter

    done = collect(classroom.folder, "01", out=tmp_path / "out")

    assert os.listdir(done.folder) == [INDEX_NAME]  # nothing was copied
    by = {r["student"]: r for r in index(done.folder)}
    assert all(r["status"] == "skipped" and r["file"] == "" for r in by.values())
    assert "symbolic link, which was not followed" in by["kim minjun"]["note"]
    assert "home is a symbolic link" in by["lee.seo"]["note"]
    assert "named pipe" in by["박서연"]["note"]
    assert "a folder" in by["choi"]["note"]
    assert b"TOP SECRET" not in (done.folder / INDEX_NAME).read_bytes()
    assert os.readlink(kim / CH01) == str(secret)  # left as it was


def test_a_damaged_notebook_is_copied_as_it_is_and_jupyters_backup_is_used(classroom, tmp_path):
    kim, lee = classroom.home("kim minjun"), classroom.home("lee.seo")
    (kim / CH01).write_bytes(b'{"cells": [')  # cut short by a crash, long ago
    previous = (lee / CH01).read_bytes()
    (lee / f".~{CH01}").write_bytes(previous)  # Jupyter's copy while it rewrites in place
    (lee / CH01).write_bytes(previous[:100])  # ... and the save has got this far

    done = collect(classroom.folder, "01", out=tmp_path / "out", settle=0.05)

    by = {r["student"]: r for r in index(done.folder)}
    assert by["kim minjun"]["status"] == "damaged" and "not valid" in by["kim minjun"]["note"]
    assert (done.folder / by["kim minjun"]["file"]).read_bytes() == b'{"cells": ['
    assert by["lee.seo"]["status"] == "copied" and "previous save" in by["lee.seo"]["note"]
    assert (done.folder / by["lee.seo"]["file"]).read_bytes() == previous


def _collect_while(save, classroom, tmp_path) -> set[bytes]:
    """Collect chapter 01 again and again while ``save()`` runs in a loop in a thread."""
    stop, saved, errors = threading.Event(), threading.Event(), []

    def saver():
        try:
            while not stop.is_set():
                save()
                saved.set()
        except BaseException as err:  # reported by the test, not lost in the thread
            errors.append(err)
            saved.set()

    thread = threading.Thread(target=saver, daemon=True)
    thread.start()
    seen: list[bytes] = []
    try:
        assert saved.wait(60) and not errors
        for n in range(400):  # until three versions were caught (each shows a save raced)
            done = collect(classroom.folder, "01", out=tmp_path / "out" / str(n))
            row = {r["student"]: r for r in index(done.folder)}["kim minjun"]
            assert row["status"] == "copied", row
            seen.append((done.folder / row["file"]).read_bytes())
            if len(set(seen)) >= 3:
                break
    finally:
        stop.set()
        thread.join()
    assert not errors
    return set(seen)


def _versions() -> list[bytes]:
    # Different sizes, large enough that a save takes many pages.
    return [notebook(f"kim's version {i}", pad=40_000 * (i + 1)) for i in range(7)]


def test_collect_while_a_student_saves_by_renaming(classroom, tmp_path):
    target = classroom.home("kim minjun") / CH01
    versions, count = _versions(), [0]

    def save():  # a whole new file under a temp name, then os.replace
        tmp = target.with_name(f".{CH01}.{count[0]}.tmp")
        tmp.write_bytes(versions[count[0] % len(versions)])
        os.replace(tmp, target)
        count[0] += 1

    seen = _collect_while(save, classroom, tmp_path)
    assert seen <= set(versions)  # every copy parses and is exactly one whole version
    assert len(seen) >= 2, "no save raced a collect"


def test_collect_while_jupyter_saves_in_place(classroom, tmp_path):
    """jupyter_server's default save truncates the notebook and writes it again in place."""
    fileio = pytest.importorskip("jupyter_server.services.contents.fileio")
    target = classroom.home("kim minjun") / CH01
    versions, count = _versions(), [0]

    def save():
        with fileio.atomic_writing(str(target)) as fh:
            fh.write(versions[count[0] % len(versions)].decode("utf-8"))
        count[0] += 1

    seen = _collect_while(save, classroom, tmp_path)
    assert seen <= set(versions)  # never the half-written file a plain read can see
    assert len(seen) >= 2, "no save raced a collect"


# --- reset ---------------------------------------------------------------------------------------
def test_reset_keeps_the_old_copy_and_gives_a_fresh_one(classroom, capsys):
    home = classroom.home("kim minjun")
    old = (home / CH01).read_bytes()
    old_stat = (home / CH01).stat()
    course_copy = (classroom.course / "notebooks" / CH01).read_bytes()

    done = reset(classroom.folder, "  Kim   MINJUN ", "01", now=WHEN)  # as sign-in reads it

    kept = "01_neurons_and_activations.before-reset-20261207-153000.ipynb"
    assert (done.student, done.kept, done.was) == ("kim minjun", kept, "a regular file")
    assert (home / kept).read_bytes() == old  # byte for byte, the same file even
    assert (home / kept).stat().st_mtime_ns == old_stat.st_mtime_ns
    assert (home / CH01).read_bytes() == course_copy
    assert not (home / CH01).is_symlink() and (home / CH01).stat().st_nlink == 1
    assert sorted(os.listdir(home)) == sorted([CH00, CH01, kept])  # no temp file left

    # Again in the same second: the first kept copy stays, the fresh one gets its own name.
    (home / CH01).write_bytes(notebook("kim's second try"))
    again = reset(classroom.folder, "kim minjun", "1", now=WHEN)
    assert again.kept == kept.replace("153000", "153000-2")
    assert (home / kept).read_bytes() == old
    assert (home / again.kept).read_bytes() == notebook("kim's second try")
    assert (home / CH01).read_bytes() == course_copy

    # The command line: same names, one line of what was done and what to tell the student.
    args = ["reset", "--student", "Kim Minjun", "--chapter", "01"]
    assert cli.main([*args, "--dir", str(classroom.folder)]) == 0
    printed = capsys.readouterr().out
    assert "Reset chapter 01 for 'kim minjun'" in printed and "before-reset-" in printed
    assert "Revert" in printed


def test_reset_gives_a_copy_to_a_student_who_has_none(classroom):
    home = classroom.home("박서연")
    done = reset(classroom.folder, "박서연", "01")
    assert done.kept is None
    assert (home / CH01).read_bytes() == (classroom.course / "notebooks" / CH01).read_bytes()
    assert sorted(os.listdir(home)) == [CH00, CH01]


def test_reset_moves_a_planted_link_aside_without_following_it(classroom, tmp_path):
    secret = tmp_path / "secret.ipynb"
    secret.write_bytes(b"not to be touched")
    home = classroom.home("lee.seo")
    (home / CH01).unlink()
    (home / CH01).symlink_to(secret)

    done = reset(classroom.folder, "lee.seo", "01", now=WHEN)

    assert done.was == "a symbolic link"
    assert os.readlink(home / done.kept) == str(secret)  # kept as the link it was
    assert secret.read_bytes() == b"not to be touched"
    assert not (home / CH01).is_symlink()
    assert (home / CH01).read_bytes() == (classroom.course / "notebooks" / CH01).read_bytes()


# --- refusals: one paragraph naming what is valid, and nothing written ------------------------
CHAPTERS_LISTED = ("00 (00_start_here)", "01 (01_neurons_and_activations)", "02 (02_forward)")
ROSTER_LISTED = tuple(repr(name) for name in ROSTER)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["collect", "--chapter", "42"], ("'42' is not a chapter", *CHAPTERS_LISTED)),
        (["collect", "--chapter", "one"], CHAPTERS_LISTED),
        (["collect", "--chapter", "../01"], CHAPTERS_LISTED),
        (["collect", "--chapter", "1.5"], CHAPTERS_LISTED),
        (["collect", "--chapter", "001"], CHAPTERS_LISTED),
        (["collect", "--chapter", ""], CHAPTERS_LISTED),
        (["reset", "--student", "nobody", "--chapter", "01"], ("'nobody' is not", *ROSTER_LISTED)),
        (["reset", "--student", "kim", "--chapter", "01"], ("Did you mean 'kim minjun'",)),
        (["reset", "--student", "a/b\t", "--chapter", "01"], ROSTER_LISTED),
        (["reset", "--student", "choi", "--chapter", "9"], CHAPTERS_LISTED),
        (["reset", "--student", "choi", "--chapter", "x"], CHAPTERS_LISTED),
        (["reset", "--student", "choi", "--chapter", "01"], ("no home yet",)),
    ],
)
def test_unknown_names_and_chapters_are_refused(classroom, tmp_path, capsys, argv, expected):
    before = tree(tmp_path)
    assert cli.main([*argv, "--dir", str(classroom.folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"classroom {argv[0]}: ") and err.count("\n") == 1  # one paragraph
    for text in expected:
        assert text in err
    assert "Nothing was written." in err
    assert tree(tmp_path) == before


def test_an_out_folder_inside_the_homes_is_refused(classroom, tmp_path):
    before = tree(tmp_path)
    with pytest.raises(ClassroomError, match="inside the students' homes"):
        collect(classroom.folder, "01", out=classroom.home("kim minjun") / "grading")
    assert tree(tmp_path) == before


@pytest.mark.parametrize("made", [True, False])
def test_a_folder_without_a_classroom_is_refused_as_report_refuses_it(tmp_path, made):
    folder = tmp_path / "not-a-classroom"
    if made:
        folder.mkdir()
    with pytest.raises(ClassroomError) as by_report:
        report(folder)
    before = tree(tmp_path)
    for call in (lambda: collect(folder, "01"), lambda: reset(folder, "kim minjun", "01")):
        with pytest.raises(ClassroomError) as refused:
            call()
        assert str(refused.value) == str(by_report.value)
    assert tree(tmp_path) == before


def test_accounts_need_root(classroom, tmp_path, monkeypatch):
    Settings(roster=list(ROSTER), course_root=str(classroom.course), isolation="accounts").save(
        classroom.folder
    )
    before = tree(tmp_path)
    monkeypatch.setattr(collect_module.os, "geteuid", lambda: 1000)
    for call in (
        lambda: collect(classroom.folder, "01"),
        lambda: reset(classroom.folder, "kim minjun", "01"),
    ):
        with pytest.raises(ClassroomError, match="needs root here.*sudo"):
            call()
    assert tree(tmp_path) == before


# --- as root, with a real student account ---------------------------------------------------------
def _tool(name: str) -> str | None:
    return shutil.which(name, path=accounts.SYSTEM_DIRS)


@pytest.fixture()
def student_account(account_prefix):
    """A throwaway account ``dltXXXX-kim.minjun``, deleted (with its group) afterwards."""
    if os.geteuid() != 0 or not all(map(_tool, ("useradd", "userdel", "groupdel"))):
        pytest.skip("makes a real Unix account: needs root and useradd/userdel/groupdel")
    prefix = account_prefix
    name = prefix + "kim.minjun"
    shell = next(p for p in accounts.NOLOGIN if os.path.exists(p))
    subprocess.run(
        [_tool("useradd"), "--no-create-home", "--user-group", "--shell", shell, "--", name],
        check=True,
        capture_output=True,
    )
    return prefix, pwd.getpwnam(name)


def test_as_root_the_copies_belong_to_the_right_accounts(tmp_path, course, student_account):
    prefix, entry = student_account
    folder = tmp_path / "class"
    folder.mkdir()
    Settings(
        roster=["kim.minjun"],
        course_root=str(course),
        isolation="accounts",
        account_prefix=prefix,
        accounts={"kim.minjun": entry.pw_name},
    ).save(folder)
    homes = folder / "homes"
    homes.mkdir(mode=0o755)
    home = homes / "kim.minjun"
    home.mkdir(mode=0o700)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    work = home / CH01
    work.write_bytes(notebook("kim's own work"))
    os.chown(work, entry.pw_uid, entry.pw_gid)
    shadow = tmp_path / "shadow"  # root's, hard-linked into the home as chapter 02
    shadow.write_bytes(notebook("root's secret"))
    shadow.chmod(0o600)
    os.link(shadow, home / CH02)

    done = collect(folder, "01", out=tmp_path / "out")
    copy = done.folder / "kim.minjun.ipynb"
    assert copy.read_bytes() == work.read_bytes()
    assert (copy.stat().st_uid, mode(copy)) == (0, 0o600)  # the teacher's (root's), private
    assert (done.folder.stat().st_uid, mode(done.folder)) == (0, 0o700)
    linked = collect(folder, "02", out=tmp_path / "out")
    [row] = index(linked.folder)
    assert row["status"] == "skipped" and "hard link to a file of another account" in row["note"]
    assert os.listdir(linked.folder) == [INDEX_NAME]

    result = reset(folder, "Kim.Minjun", "01", now=WHEN)
    fresh, kept = home / CH01, home / result.kept
    assert fresh.read_bytes() == (course / "notebooks" / CH01).read_bytes()
    assert (fresh.stat().st_uid, fresh.stat().st_gid) == (entry.pw_uid, entry.pw_gid)
    assert kept.read_bytes() == notebook("kim's own work")
    assert (kept.stat().st_uid, kept.stat().st_gid) == (entry.pw_uid, entry.pw_gid)
    assert (shadow.stat().st_uid, shadow.read_bytes()) == (0, notebook("root's secret"))
