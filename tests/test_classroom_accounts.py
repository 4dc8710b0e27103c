"""classroom/accounts.py: roster names -> Unix names (pure), then real accounts on this machine.

The first half needs nothing: the mapping is a pure function. The second half makes real
accounts with useradd (root only, skipped otherwise), each test under its own prefix
(``dlt`` + 4 hex digits + ``-``); a finalizer deletes every account and group with that
prefix, even when the test fails.
"""

from __future__ import annotations

import atexit
import grp
import hashlib
import os
import pwd
import random
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

import pytest

from classroom.accounts import (
    COMMENT,
    NOLOGIN,
    PREFIX,
    SYSTEM_DIRS,
    account_name,
    check_existing,
    ensure,
    folder_name,
    plan,
    remove,
    sign_in_name,
)
from classroom.settings import ClassroomError

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.configuration import set_hypothesis_home_dir
except ImportError:  # the seeded random tests below still run
    given = None
else:  # its caches go to a temporary folder, not the working tree (the CI fails on those)
    HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="hypothesis-")
    set_hypothesis_home_dir(HYPOTHESIS_HOME)
    atexit.register(shutil.rmtree, HYPOTHESIS_HOME, ignore_errors=True)

ROOT_DIR = Path(__file__).resolve().parent.parent
LINUX_USER = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")  # what useradd accepts everywhere


def h6(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:6]


# --- the mapping (pure) -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "line, folder",
    [
        ("kim.minjun", "kim.minjun"),
        ("root", "root"),
        ("kim minjun", f"kim-minjun-{h6('kim minjun')}"),
        ("김민준", f"gimminjun-{h6('김민준')}"),
        ("박서연", f"bakseoyeon-{h6('박서연')}"),
        ("닭볶음탕", f"dakbokeumtang-{h6('닭볶음탕')}"),  # final consonants, double initial
        ("Kim Minjun", f"kim-minjun-{h6('kim minjun')}"),  # the sign-in name is hashed
        ("José Núñez", f"jose-nunez-{h6('josé núñez')}"),
        ("123", f"u123-{h6('123')}"),
        ("李小龍", f"u-{h6('李小龍')}"),
        ("가나다라마바사아자차카타파하", f"ganadaramabasaaja-{h6('가나다라마바사아자차카타파하')}"),
        ("최 ㅎ", f"choe-{h6('최 ㅎ')}"),  # no '-' left at the end of the readable part
        ("abcdefghijklmnop.q r", f"abcdefghijklmnop-{h6('abcdefghijklmnop.q r')}"),  # cut
    ],
)
def test_folder_names(line, folder):
    assert folder_name(line) == folder
    assert len(folder) <= 24


def test_root_and_system_names_get_the_prefix():
    assert account_name("root") == "jupyter-root"
    assert account_name("www-data", "dlt-") == "dlt-www-data"
    assert account_name("김민준") == f"jupyter-gimminjun-{h6('김민준')}"


@pytest.mark.parametrize(
    "line, name",
    [
        ("  Kim   Minjun ", "kim minjun"),
        ("Kim.Minjun", "kim.minjun"),
        (unicodedata.normalize("NFD", "김민준"), "김민준"),
        ("\u3000김민준\u3000", "김민준"),  # the ideographic space a Korean keyboard types
        ("Kim\u00a0Minjun", "kim minjun"),
        ("a" * 64, "a" * 64),
    ],
)
def test_sign_in_names(line, name):
    assert sign_in_name(line) == name
    assert folder_name(line) == folder_name(name)


@pytest.mark.parametrize(
    "line, reason",
    [
        ("", "is blank"),
        ("  \t ", "is blank"),
        ("a/b", "'/'"),
        ("kim\tminjun", "U+0009, a tab"),
        ("\ufeffkim", "U+FEFF"),
        ("kim\u200bminjun", "U+200B"),
        ("x\x00", "U+0000"),
        ("\udc80", "U+DC80"),
        ("a" * 65, "65 characters"),
    ],
)
def test_names_jupyterhub_cannot_use_are_refused(line, reason):
    for function in (sign_in_name, folder_name, account_name):
        with pytest.raises(ClassroomError) as err:
            function(line)
        assert reason in str(err.value) and repr(line) in str(err.value)
    with pytest.raises(ClassroomError, match=re.escape(reason)):
        plan(["alice", line])


def test_the_mapping_does_not_depend_on_the_process():
    names = ["kim minjun", "김민준", "José", "root", "李小龍"]
    code = f"from classroom.accounts import account_name; print([account_name(n) for n in {names}])"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT_DIR,
        env={**os.environ, "PYTHONHASHSEED": "random", "PYTHONPATH": str(ROOT_DIR)},
    ).stdout
    assert out.strip() == str([account_name(n) for n in names])


@pytest.mark.parametrize("prefix", ["", "Jupyter-", "-x", "1x-", "longerthan8-", "a:b", "a b"])
def test_bad_prefixes_are_refused(prefix):
    with pytest.raises(ClassroomError, match="account prefix"):
        account_name("alice", prefix)
    with pytest.raises(ClassroomError, match="account prefix"):
        plan([], prefix)


def test_plan():
    planned = plan(["kim.minjun", "김민준", "Kim Minjun"], "dlt-")
    assert list(planned) == ["kim.minjun", "김민준", "kim minjun"]
    kim = planned["김민준"]
    assert (kim.sign_in, kim.folder, kim.uid, kim.gid) == (
        "김민준",
        folder_name(kim.sign_in),
        None,
        None,
    )
    assert kim.name == "dlt-" + kim.folder


def test_plan_refuses_two_spellings_of_one_name():
    with pytest.raises(ClassroomError) as err:
        plan(["kim.minjun", "bob", "Kim.Minjun "])
    message = str(err.value)
    assert "1 ('kim.minjun')" in message and "3 ('Kim.Minjun ')" in message
    with pytest.raises(ClassroomError, match="same sign-in name '김민준'"):
        plan(["김민준", unicodedata.normalize("NFD", "김민준")])


def test_plan_refuses_a_name_that_is_another_ones_folder():
    hashed = folder_name("김민준")  # gimminjun-xxxxxx is itself a valid roster name
    with pytest.raises(ClassroomError) as err:
        plan(["김민준", hashed], "dlt-")
    assert f"1 ('김민준') and 2 ({hashed!r}) would share the account 'dlt-{hashed}'" in str(
        err.value
    )


def test_plan_refuses_names_that_collide_after_truncation():
    # Long names whose readable parts are cut to the same 17 letters: search for two whose
    # 6 hex digits agree (a birthday search over 24 bits: a few thousand names).
    seen: dict[str, str] = {}
    for i in range(200_000):
        name = f"abcdefghijklmnopq {i}"
        folder = folder_name(name)
        if folder in seen:
            break
        seen[folder] = name
    else:
        pytest.fail("no colliding pair found")
    first = seen[folder]
    assert folder.startswith("abcdefghijklmnopq-") and first != name
    with pytest.raises(ClassroomError) as err:
        plan(["alice", first, name])
    assert f"2 ({first!r}) and 3 ({name!r}) would share the account" in str(err.value)


def test_plan_reports_every_problem_at_once():
    with pytest.raises(ClassroomError) as err:
        plan(["ok", "a/b", " ", "OK"])
    message = str(err.value)
    assert "'/'" in message and "is blank" in message and "same sign-in name 'ok'" in message
    assert message.count("\n") == 0


def test_an_existing_system_account_is_refused():
    # A prefix that makes a roster name land on root: check_existing (which only reads the
    # password database) must refuse it, whatever made the name.
    planned = plan(["oot"], prefix="r")
    assert planned["oot"].name == "root"
    with pytest.raises(ClassroomError) as err:
        check_existing(planned.values(), Path("/nonexistent/homes"))
    assert "root (for 'oot': not made by the course)" in str(err.value)


# --- the mapping over many names ------------------------------------------------------------------
PIECES = list("abcXYZ019._-/ ") + [
    "\t",
    "\u3000",
    "\xa0",
    "é",
    "e\u0301",
    "ß",
    "İ",
    "ｋ",
    "李",
    "😀",
    "\u200b",
    "\ufeff",
    "\x00",
    "\udc80",
    "ㅎ",
    "\u1100\u1161\u11a8",  # conjoining jamo: NFC makes them the syllable 각
]


def _random_name(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 30)):
        kind = rng.random()
        if kind < 0.4:
            parts.append(chr(rng.randint(0xAC00, 0xD7A3)))  # a Hangul syllable
        elif kind < 0.9:
            parts.append(rng.choice(PIECES))
        else:
            parts.append(chr(rng.randint(0, 0xFFFF)))
    return "".join(parts)


def check_account_name(text: str, prefix: str = PREFIX) -> None:
    try:
        name = account_name(text, prefix)
    except ClassroomError:
        with pytest.raises(ClassroomError):
            sign_in_name(text)
        return
    assert LINUX_USER.fullmatch(name), (text, name)
    assert name == prefix + folder_name(text) == account_name(sign_in_name(text), prefix)


def check_pair(a: str, b: str, prefix: str = PREFIX) -> None:
    """plan([a, b]) refuses exactly the pairs that would share an account, naming both."""
    try:
        same = account_name(a, prefix) == account_name(b, prefix)
    except ClassroomError:
        with pytest.raises(ClassroomError):
            plan([a, b], prefix)
        return
    if same:
        with pytest.raises(ClassroomError) as err:
            plan([a, b], prefix)
        assert f"1 ({a!r}) and 2 ({b!r})" in str(err.value)
    else:
        planned = plan([a, b], prefix)
        assert len({p.name for p in planned.values()}) == 2


def _variants(name: str) -> list[str]:
    nfd = unicodedata.normalize("NFD", name)
    return [name.upper(), f"  {name} ", nfd, name.replace(" ", "\u3000"), folder_name_or(name)]


def folder_name_or(name: str) -> str:
    try:
        return folder_name(name)
    except ClassroomError:
        return "alice"


def test_every_account_name_is_valid_over_random_text():
    rng = random.Random(20240501)
    for _ in range(5000):
        a, b = _random_name(rng), _random_name(rng)
        check_account_name(a)
        check_account_name(a, "dlt1234-")
        check_pair(a, b)
        for variant in _variants(a):
            check_pair(a, variant)


def test_every_single_character_maps_to_a_valid_name():
    for code in range(0x10000):
        check_account_name(chr(code))


def test_a_name_and_its_own_folder_name_always_collide():
    rng = random.Random(7)
    for _ in range(3000):
        name = _random_name(rng)
        try:
            folder = folder_name(name)
        except ClassroomError:
            continue
        with pytest.raises(ClassroomError):
            plan([name, folder])


if given is not None:
    HANGUL = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)
    NAMES = st.text(max_size=70) | st.lists(HANGUL | st.sampled_from(PIECES), max_size=40).map(
        "".join
    )

    @settings(max_examples=2000, deadline=None, database=None)
    @given(NAMES)
    def test_hypothesis_account_name_is_valid_or_refused(text):
        check_account_name(text)

    @settings(max_examples=2000, deadline=None, database=None)
    @given(NAMES, NAMES, st.integers(0, 5))
    def test_hypothesis_plan_catches_names_sharing_an_account(a, b, variant):
        check_pair(a, b if variant == 5 else _variants(a)[variant])

else:

    @pytest.mark.skip(reason="Hypothesis is not installed in .venv (the random tests run)")
    def test_hypothesis_properties():
        pass


# --- real accounts on this machine (root) ---------------------------------------------------------
def _tool(name: str) -> str | None:
    return shutil.which(name, path=SYSTEM_DIRS)


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not all(map(_tool, ("useradd", "userdel", "groupadd", "groupdel"))),
    reason="makes real Unix accounts: needs root and useradd/userdel/groupadd/groupdel",
)


def _run(*argv: str) -> None:
    subprocess.run([_tool(argv[0]), *argv[1:]], check=True, capture_output=True)


@pytest.fixture()
def prefix(account_prefix):
    return account_prefix  # tests/conftest.py: unique, and everything made with it removed


@pytest.fixture()
def homes(tmp_path):
    homes = tmp_path / "homes"
    homes.mkdir()
    homes.chmod(0o755)
    return homes


def _shadow_password(name: str) -> str:
    for line in Path("/etc/shadow").read_text().splitlines():
        if line.split(":")[0] == name:
            return line.split(":")[1]
    raise AssertionError(f"{name} is not in /etc/shadow")


def _snapshot(accounts, homes):
    return {
        a.name: (
            pwd.getpwnam(a.name),
            _shadow_password(a.name),
            grp.getgrnam(a.name),
            tuple(getattr(os.lstat(homes / a.folder), f) for f in ("st_uid", "st_gid", "st_mode")),
            os.lstat(homes / a.folder).st_ctime_ns,  # any chown or chmod changes it
        )
        for a in accounts
    }


@needs_root
def test_ensure_makes_locked_accounts_without_a_shell(prefix, homes):
    planned = plan(["kim.minjun", "김민준", "Kim Minjun"], prefix)
    assert check_existing(planned.values(), homes) == list(planned.values())
    made = ensure(planned.values(), homes)
    assert list(made) == list(planned)
    for account in made.values():
        entry = pwd.getpwnam(account.name)
        assert (entry.pw_uid, entry.pw_gid) == (account.uid, account.gid) and account.uid != 0
        assert entry.pw_gecos == COMMENT
        assert entry.pw_dir == str(homes / account.folder)
        assert entry.pw_shell == next(p for p in NOLOGIN if os.path.exists(p))
        assert grp.getgrgid(entry.pw_gid).gr_name == account.name  # its own group
        assert _shadow_password(account.name)[:1] in ("!", "*")  # locked: no password
        if _tool("passwd"):
            status = subprocess.run([_tool("passwd"), "-S", account.name], capture_output=True)
            assert status.stdout.split()[1] == b"L"
        home = os.lstat(homes / account.folder)
        assert stat.S_ISDIR(home.st_mode) and stat.S_IMODE(home.st_mode) == 0o700
        assert (home.st_uid, home.st_gid) == (account.uid, account.gid)
    assert stat.S_IMODE(homes.stat().st_mode) == 0o755 and homes.stat().st_uid == 0

    before = _snapshot(made.values(), homes)
    assert check_existing(planned.values(), homes) == []
    assert ensure(planned.values(), homes) == made
    assert _snapshot(made.values(), homes) == before


@needs_root
def test_ensure_gives_back_a_home_given_away(prefix, homes):
    account = ensure(plan(["alice"], prefix).values(), homes)["alice"]
    home = homes / account.folder
    (home / "sub").mkdir()
    (home / "sub" / "notes.txt").write_text("alice's")  # made as root:root
    os.chown(home, account.uid, 0)  # the group alone differs
    home.chmod(0o755)
    assert ensure(plan(["alice"], prefix).values(), homes)["alice"] == account
    for path in (home, home / "sub", home / "sub" / "notes.txt"):
        assert (path.lstat().st_uid, path.lstat().st_gid) == (account.uid, account.gid), path
    assert stat.S_IMODE(home.lstat().st_mode) == 0o700


@needs_root
def test_a_remade_account_gets_its_files_back_and_no_link_is_followed(prefix, homes, tmp_path):
    old = ensure(plan(["김민준"], prefix).values(), homes)["김민준"]
    home = homes / old.folder
    (home / "deep" / "er").mkdir(parents=True)
    work = [home / "work.ipynb", home / "deep", home / "deep" / "er", home / "deep" / "er" / "m.h5"]
    for path in work:
        if not path.exists():
            path.write_text("the student's work")
        os.chown(path, old.uid, old.gid)
    chapter = home / "00_start_here.ipynb"  # copied in by the hub, as root
    chapter.write_text("{}")
    secret = tmp_path / "secret"  # root's, outside the home
    secret.write_text("root's")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "file").write_text("root's")
    hard = tmp_path / "hard"
    hard.write_text("root's")
    os.symlink(secret, home / "link")
    os.symlink(outside, home / "folder-link")
    os.link(hard, home / "hard-link")
    for path in (home / "link", home / "folder-link"):
        os.chown(path, old.uid, old.gid, follow_symlinks=False)  # the student made them

    remove([old])
    with pytest.raises(KeyError):
        pwd.getpwnam(old.name)
    with pytest.raises(KeyError):
        grp.getgrnam(old.name)
    assert (home / "work.ipynb").read_text() == "the student's work"  # homes are kept
    remove([old])  # an account that is gone already: nothing to do
    # Another account takes the freed uid, so the new one surely gets another.
    _run("useradd", "-u", str(old.uid), "-M", "-s", NOLOGIN[-1], f"{prefix}hold")

    home.chmod(0o755)  # the student opened it to others
    new = ensure(plan(["김민준"], prefix).values(), homes)["김민준"]
    assert new.name == old.name and new.uid != old.uid
    for path in [home, *work, chapter]:
        assert (os.lstat(path).st_uid, os.lstat(path).st_gid) == (new.uid, new.gid), path
    assert stat.S_IMODE(os.lstat(home).st_mode) == 0o700
    protected = Path("/proc/sys/fs/protected_hardlinks").read_text().strip() == "1"
    for link in (home / "link", home / "folder-link"):
        assert os.lstat(link).st_uid == (new.uid if protected else old.uid)
    for path in (secret, outside, outside / "file", hard):  # never followed, never given
        assert (os.stat(path).st_uid, os.stat(path).st_gid) == (0, 0), path


@needs_root
def test_an_account_the_course_did_not_make_is_refused(prefix, homes):
    _run("useradd", "-M", "-s", NOLOGIN[-1], f"{prefix}alice")  # no COMMENT
    _run("groupadd", f"{prefix}carol")
    before = pwd.getpwnam(f"{prefix}alice")
    planned = plan(["alice", "bob", "carol"], prefix)
    for attempt in (check_existing, ensure):
        with pytest.raises(ClassroomError) as err:
            attempt(planned.values(), homes)
        message = str(err.value)
        assert f"{prefix}alice (for 'alice': not made by the course)" in message
        assert f"{prefix}carol (for 'carol': a group of that name)" in message
        assert f"{prefix}bob" not in message and "another account prefix" in message
    with pytest.raises(KeyError):
        pwd.getpwnam(f"{prefix}bob")  # nothing was created
    assert list(homes.iterdir()) == []
    with pytest.raises(ClassroomError, match=f"Not removing {prefix}alice"):
        remove(planned.values())
    assert pwd.getpwnam(f"{prefix}alice") == before


@needs_root
def test_an_account_of_another_classroom_is_refused(prefix, homes, tmp_path):
    planned = plan(["alice"], prefix)
    ensure(planned.values(), homes)
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(ClassroomError, match=f"made for another classroom, its home is {homes}"):
        ensure(planned.values(), other)
    assert list(other.iterdir()) == []


@needs_root
@pytest.mark.parametrize("mode", [0o777, 0o775])
def test_homes_others_can_write_to_are_refused(prefix, homes, mode):
    homes.chmod(mode)
    with pytest.raises(ClassroomError, match="only root can write to"):
        ensure(plan(["alice"], prefix).values(), homes)
    with pytest.raises(KeyError):
        pwd.getpwnam(f"{prefix}alice")
    assert list(homes.iterdir()) == []
