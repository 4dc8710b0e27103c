"""helpers.data, chapter 9's movie reviews (NSMC, CC0): the committed copy, the lookup order,
the loader's clean arrays, every damaged-file error, and fetch/verify with and without it."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import threading
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from conftest import make_tiny_data
from helpers import datasets
from helpers.data import cli, store
from helpers.datasets import DatasetError

ROOT = Path(__file__).resolve().parents[1]
FILE = "nsmc-movies-v1.tsv.gz"
HEADER = "id\tmovie_id\tsplit\trating\tlabel\tdocument"
LINE = "NSMC movie reviews: {} training ({} positive) and {} test reviews ({} positive), {} "
LINE += "unlabeled, split by movie, from {}. Data: built from NSMC's raw reviews "
LINE += "(github.com/e9t/nsmc), CC0 1.0."

# A look-alike of the real file, with what a review may hold: quote marks (not CSV quoting),
# a line separator U+2028 (not a line end here), decomposed Hangul (NFD), and a CJK
# compatibility ideograph, as a Korean input method types 女 (NFC turns both into the usual).
ROWS = [
    ("101", "10", "train", "1", "0", '"최악"이라는 말도 아깝다'),
    ("102", "10", "train", "10", "1", "배우들 연기 굿 ㅋㅋ"),
    ("103", "11", "train", "3", "0", "시간 아까움..."),
    ("104", "11", "train", "9", "1", unicodedata.normalize("NFD", "재밌다")),
    ("201", "20", "test", "2", "0", "별로\u2028였다"),
    ("202", "20", "test", "10", "1", "\uf981性 감독의 힘"),
    ("301", "10", "unlabeled", "7", "-1", "그냥 그랬음"),
    ("302", "12", "unlabeled", "5", "-1", "볼만함"),
]


def nsmc_bytes(rows=ROWS, header: str = HEADER, newline: str = "\n") -> bytes:
    lines = [header, *("\t".join(row) for row in rows)]
    return gzip.compress((newline.join(lines) + newline).encode("utf-8"), mtime=0)


def write_nsmc(folder: Path, data: bytes | None = None, sums: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / FILE).write_bytes(nsmc_bytes() if data is None else data)
    if sums:
        store.write_sums(folder)
    return folder


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


@pytest.fixture()
def shipped(isolated, monkeypatch):
    """The course's own copy replaced by the look-alike (pinned to its hash), in a temp folder."""
    folder = write_nsmc(isolated / "shipped-data")
    monkeypatch.setattr(store, "SHIPPED_DIR", folder)
    monkeypatch.setitem(store.UPSTREAM_SHA256, FILE, _sha((folder / FILE).read_bytes()))
    return folder


@pytest.fixture()
def no_shipped(isolated, monkeypatch):
    """Helpers installed without the course folder: no committed copy where they look."""
    monkeypatch.setattr(store, "SHIPPED_DIR", isolated / "installed" / "shipped-data")


# --- The committed copy --------------------------------------------------------------------


def test_the_project_carries_the_file_pinned_and_not_ignored():
    path = ROOT / "shipped-data" / FILE
    assert store.SHIPPED_DIR / FILE == path and store.SHIPPED == {FILE}
    assert FILE in store.FILES["nsmc"] and FILE not in store.URLS  # nothing to download
    assert store.sha256_of(path) == store.UPSTREAM_SHA256[FILE]
    assert path.stat().st_size == 5_692_746
    shared = ROOT.parent / "shared" / "datasets" / "SHA256SUMS"
    if shared.is_file():  # the pinned hash is the offline copy's
        assert store.read_sums(shared.parent)[FILE] == store.UPSTREAM_SHA256[FILE]
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    ignored = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "-q", str(path)], capture_output=True
    )
    if ignored.returncode == 128:
        pytest.skip("not a git work tree")
    assert ignored.returncode == 1, "shipped-data/ must not be git-ignored"


def test_the_real_file_loads_clean_balanced_and_split_by_movie(isolated, capsys):
    data = datasets.load_nsmc()
    (x_train, y_train), (x_test, y_test), unlabeled, movies = data
    assert capsys.readouterr().out.splitlines() == [
        LINE.format("20,000", "10,000", "5,000", "2,500", "100,000", "the course's own copy")
    ]
    assert (len(x_train), len(x_test), len(unlabeled)) == (20_000, 5_000, 100_000)
    for texts in (x_train, x_test, unlabeled):
        assert texts.dtype == object and texts.ndim == 1
        # (lists, not all() in an assert: pytest would rewrite it into a slow Python loop)
        odd = [t for t in texts if type(t) is not str or not t or t != t.strip()]
        assert odd == [], "every review a str, not empty, no spaces around it"
        assert [t for t in texts if "\t" in t or "\n" in t] == []
        assert unicodedata.is_normalized("NFC", "\n".join(texts))
    for labels in (y_train, y_test):
        assert labels.dtype == np.int32 and set(np.unique(labels).tolist()) == {0, 1}
    assert np.bincount(y_train).tolist() == [10_000, 10_000]
    assert np.bincount(y_test).tolist() == [2_500, 2_500]
    assert [m.dtype for m in movies] == [np.int32] * 3
    assert [len(m) for m in movies] == [20_000, 5_000, 100_000]
    test_movies = set(movies.test.tolist())
    assert not test_movies & set(movies.train.tolist())
    assert not test_movies & set(movies.unlabeled.tolist())
    assert len(test_movies) == 1_696 and len(set(movies.train.tolist())) == 6_915
    # the names, and a validation split by movie as the docstring suggests
    assert data.train.texts is x_train and data.test.labels is y_test
    assert data.unlabeled is unlabeled and data.movies.test is movies.test
    train, val = datasets.grouped_split(movies.train, (0.8, 0.2))
    assert not set(movies.train[train].tolist()) & set(movies.train[val].tolist())
    assert datasets.NSMC_LABELS == ("negative", "positive")


# --- The look-alike: quirks, lookup order ------------------------------------------------------


def test_quirks_give_clean_typed_arrays(isolated, monkeypatch, capsys):
    # ...with a byte-order mark and Windows line ends too
    data = gzip.compress(b"\xef\xbb\xbf" + gzip.decompress(nsmc_bytes(newline="\r\n")))
    monkeypatch.setenv("COURSE_DATA_DIR", str(write_nsmc(isolated / "d", data)))
    (x_train, y_train), (x_test, y_test), unlabeled, movies = datasets.load_nsmc()
    assert x_train.tolist() == [
        '"최악"이라는 말도 아깝다',
        "배우들 연기 굿 ㅋㅋ",
        "시간 아까움...",
        "재밌다",
    ]
    assert x_test.tolist() == ["별로\u2028였다", "女性 감독의 힘"]
    assert x_test[1][0] == "\u5973"  # NFC: the compatibility ideograph became the usual one
    assert unlabeled.tolist() == ["그냥 그랬음", "볼만함"]
    assert y_train.tolist() == [0, 1, 0, 1] and y_test.tolist() == [0, 1]
    assert y_train.dtype == y_test.dtype == np.int32
    assert movies.train.tolist() == [10, 10, 11, 11] and movies.test.tolist() == [20, 20]
    assert movies.unlabeled.tolist() == [10, 12]
    assert capsys.readouterr().out.splitlines() == [LINE.format(4, 2, 2, 1, 2, "COURSE_DATA_DIR")]


def test_a_tab_inside_a_review_is_kept(isolated, monkeypatch, capsys):
    rows = [*ROWS, ("105", "11", "train", "10", "1", "탭\t안에")]
    monkeypatch.setenv("COURSE_DATA_DIR", str(write_nsmc(isolated / "d", nsmc_bytes(rows))))
    (x_train, _), _, _, _ = datasets.load_nsmc()
    assert x_train[-1] == "탭\t안에"


def _variant(n_unlabeled: int) -> bytes:
    extra = [(str(400 + i), "13", "unlabeled", "8", "-1", f"리뷰 {i}") for i in range(n_unlabeled)]
    return nsmc_bytes([*ROWS, *extra])


def test_lookup_order_course_data_dir_then_data_then_the_course_copy(
    shipped, isolated, monkeypatch, capsys
):
    write_nsmc(isolated / "chosen", _variant(3))
    write_nsmc(store.REPO_DATA_DIR, _variant(5))
    monkeypatch.setenv("COURSE_DATA_DIR", str(isolated / "chosen"))

    def source_and_unlabeled():
        _, _, unlabeled, _ = datasets.load_nsmc()
        line = capsys.readouterr().out.strip()
        return line[line.index(", from ") + 7 : line.index(". Data:")], len(unlabeled)

    assert source_and_unlabeled() == ("COURSE_DATA_DIR", 5)
    assert datasets.data_file("nsmc") == isolated / "chosen" / FILE
    (isolated / "chosen" / FILE).unlink()
    assert source_and_unlabeled() == ("the course's data/ folder", 7)
    monkeypatch.delenv("COURSE_DATA_DIR")
    assert source_and_unlabeled() == ("the course's data/ folder", 7)
    (store.REPO_DATA_DIR / FILE).unlink()
    assert source_and_unlabeled() == ("the course's own copy", 2)
    assert datasets.data_file("nsmc") == shipped / FILE
    assert not (store.REPO_DATA_DIR / FILE).exists()  # read in place: nothing copied


def test_nothing_anywhere_is_one_paragraph_and_no_download(no_shipped, monkeypatch):
    def no_download(*args, **kwargs):  # pragma: no cover - fails the test if reached
        raise AssertionError("chapter 9's reviews have no origin to download from")

    monkeypatch.setattr(store, "download", no_download)
    monkeypatch.setenv("COURSE_DATA_MIRROR", "http://127.0.0.1:9")
    with pytest.raises(DatasetError) as info:
        datasets.load_nsmc()
    message = str(info.value)
    assert "\n" not in message and info.value.__cause__ is None
    assert message.startswith("Could not load the NSMC movie reviews. Tried: the course's data/")
    assert f"the course's own copy ({store.SHIPPED_DIR}: no {FILE})" in message
    assert "git checkout -- " in message and "fetch --only nsmc --to FOLDER" in message


# --- Damaged files ---------------------------------------------------------------------------


def _rows_with(index: int, **change) -> list[tuple[str, ...]]:
    rows = [list(row) for row in ROWS]
    names = ("id", "movie", "split", "rating", "label", "document")
    for name, value in change.items():
        rows[index][names.index(name)] = value
    return [tuple(row) for row in rows]


GOOD = nsmc_bytes()
DAMAGED = {
    "truncated": (GOOD[: len(GOOD) // 2], r"could not be read: it looks truncated or corrupt"),
    "not gzip": (b"id\tmovie_id\n", r"could not be read: .*BadGzipFile"),
    "not UTF-8": (
        gzip.compress(HEADER.encode() + "\n1\t1\ttrain\t1\t0\t좋아\n".encode("cp949")),
        r"not the gzip file of UTF-8 text .*UnicodeDecodeError",
    ),
    "header": (
        nsmc_bytes(header=HEADER.replace("\t", ",")),
        r"starts with 'id,movie_id,.*not the header",
    ),
    "fields": (nsmc_bytes([*ROWS[:2], ("103", "11", "train", "3")]), r"Line 4 of .* 4 tab-sep"),
    "split": (nsmc_bytes(_rows_with(0, split="valid")), r"Line 2 .* the split 'valid'"),
    "rating": (nsmc_bytes(_rows_with(1, rating="11")), r"Line 3 .* the rating '11'"),
    "rated 6": (
        nsmc_bytes(_rows_with(2, rating="6")),
        r"Line 4 .* a train review rated 6, which NSMC leaves unlabelled",
    ),
    "label": (
        nsmc_bytes(_rows_with(4, label="1")),
        r"Line 6 .* the label '1' where a test review rated 2 has 0",
    ),
    "unlabeled label": (nsmc_bytes(_rows_with(7, label="0")), r"Line 9 .* the label '0'"),
    "id": (nsmc_bytes(_rows_with(3, id="x104")), r"Line 5 .* ids 'x104' and '11', not whole"),
    "empty": (nsmc_bytes(_rows_with(6, document=" ")), r"Line 8 .* has an empty review"),
    "movie leak": (
        nsmc_bytes(_rows_with(0, movie="20")),
        r"reviews in train or unlabeled of 1 test movie\(s\) \(e\.g\. movie 20\)",
    ),
    "no test": (nsmc_bytes(ROWS[:4]), r"has no train or no test reviews"),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_file_is_one_paragraph_with_the_repair(isolated, monkeypatch, case):
    data, message = DAMAGED[case]
    folder = write_nsmc(isolated / "d", data)
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    with pytest.raises(DatasetError, match=message) as info:
        datasets.load_nsmc()
    assert "\n" not in str(info.value) and info.value.__cause__ is None
    assert f"fetch --to {folder}" in str(info.value)  # the repair: a fresh checked copy
    assert _files(folder) == {FILE} and (folder / FILE).read_bytes() == data  # untouched


def test_a_checksum_mismatch_in_a_data_folder_is_reported(isolated, monkeypatch):
    folder = write_nsmc(isolated / "d", sums=True)
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    assert len(datasets.load_nsmc().unlabeled) == 2
    write_nsmc(folder, _variant(1))
    with pytest.raises(DatasetError, match="does not match its checksum in SHA256SUMS"):
        datasets.load_nsmc()


def test_a_changed_course_copy_is_refused_with_git_advice(shipped):
    write_nsmc(shipped, _variant(1))  # no longer the pinned file
    with pytest.raises(DatasetError) as info:
        datasets.load_nsmc()
    message = str(info.value)
    assert "\n" not in message
    assert "The course's own copy of nsmc-movies-v1.tsv.gz" in message
    assert "does not match the checksum the course pins for it" in message
    assert f"git checkout -- {shipped / FILE}" in message


def test_a_bad_pinned_course_copy_is_named_without_a_fetch_into_it(shipped, monkeypatch):
    data, _ = DAMAGED["label"]
    write_nsmc(shipped, data)
    monkeypatch.setitem(store.UPSTREAM_SHA256, FILE, _sha(data))
    with pytest.raises(DatasetError, match=r"Line 6 .*the course's own copy") as info:
        datasets.load_nsmc()
    assert "git checkout" in str(info.value) and f"--to {shipped}" not in str(info.value)


# --- fetch and verify -------------------------------------------------------------------------


def test_fetch_copies_the_course_copy_checked_and_lists_it(isolated, monkeypatch, capsys):
    target = isolated / "classroom-data"
    make_tiny_data(target)
    assert cli.main(["fetch", "--to", str(target), "--only", "nsmc"]) == 0
    assert f"  copied      {FILE}" in capsys.readouterr().out
    assert (target / FILE).read_bytes() == (store.SHIPPED_DIR / FILE).read_bytes()
    mode = (store.SHIPPED_DIR / FILE).stat().st_mode
    assert (target / FILE).stat().st_mode == mode  # readable as the course's copy is
    assert store.read_sums(target)[FILE] == store.UPSTREAM_SHA256[FILE]
    assert dict(datasets.verify(target))[FILE] == "OK"
    assert {status for _, status in datasets.verify(target)} == {"OK"}  # the others listed too
    assert not [p for p in target.iterdir() if p.name.startswith(".")]
    datasets.fetch(target, datasets=["nsmc"])
    assert f"  kept        {FILE}" in capsys.readouterr().out
    write_nsmc(target, _variant(1))  # a damaged or different copy is replaced
    datasets.fetch(target, datasets=["nsmc"], quiet=True)
    assert store.sha256_of(target / FILE) == store.UPSTREAM_SHA256[FILE]
    monkeypatch.setenv("COURSE_DATA_DIR", str(target))
    capsys.readouterr()
    assert len(datasets.load_nsmc().unlabeled) == 100_000
    assert ", from COURSE_DATA_DIR. Data: " in capsys.readouterr().out


def test_an_interrupted_copy_leaves_nothing_behind(isolated, monkeypatch):
    def half_then_fail(src, dst, *args):
        dst.write(src.read(1000))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.shutil, "copyfileobj", half_then_fail)
    target = isolated / "d"
    with pytest.raises(DatasetError, match=r"Could not copy .*No space left.*Nothing was saved"):
        datasets.fetch(target, datasets=["nsmc"])
    assert _files(target) == set()


def test_fetch_refuses_a_changed_course_copy(shipped, isolated):
    write_nsmc(shipped, _variant(1))
    with pytest.raises(DatasetError, match="does not match the checksum the course pins"):
        datasets.fetch(isolated / "d", datasets=["nsmc"])
    assert _files(isolated / "d") == set()


def test_without_the_course_copy_fetch_everything_skips_it(no_shipped, tiny_dir, capsys):
    server = datasets.make_server(tiny_dir, port=0, bind="127.0.0.1")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = tiny_dir.parent / "student"
        datasets.fetch(target, mirror=f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
    assert f"  skipped     {FILE} (the course's own copy is not here)" in capsys.readouterr().out
    assert FILE not in store.read_sums(target) and (target / "mnist.npz").is_file()
    assert cli.main(["fetch", "--to", str(target), "--only", "nsmc"]) == 1
    assert "error: The course's own copy of nsmc-movies-v1.tsv.gz is not" in capsys.readouterr().err


def test_a_data_folder_without_it_still_verifies_and_serves_chapters_1_to_8(tiny_dir, capsys):
    """An older offline copy (no chapter 9 file): verify, the classroom's check and the other
    loaders are as before, and chapter 9 reads the course's own copy."""
    from classroom.settings import verify_data

    assert FILE not in store.read_sums(tiny_dir)
    assert {status for _, status in datasets.verify(tiny_dir)} == {"OK"}
    assert cli.main(["verify", str(tiny_dir)]) == 0
    assert FILE not in verify_data(tiny_dir) and "mnist.npz" in verify_data(tiny_dir)
    datasets.load_mnist()
    datasets.load_nsmc()
    assert (
        capsys.readouterr()
        .out.splitlines()[-1]
        .endswith(
            "from the course's own copy. Data: built from NSMC's raw reviews "
            "(github.com/e9t/nsmc), CC0 1.0."
        )
    )


def test_a_data_folder_with_it_is_verified_and_copied_for_the_classroom(tiny_dir, tmp_path):
    from classroom.settings import ClassroomError, copy_data, verify_data

    datasets.fetch(tiny_dir, datasets=["nsmc"], quiet=True)
    files = verify_data(tiny_dir)
    assert FILE in files
    (tmp_path / "class").mkdir()
    copied = copy_data(tiny_dir, files, tmp_path / "class")
    assert (copied / FILE).read_bytes() == (tiny_dir / FILE).read_bytes()
    assert dict(datasets.verify(copied))[FILE] == "OK"
    (tiny_dir / FILE).unlink()
    assert dict(datasets.verify(tiny_dir))[FILE] == "MISSING"  # listed, so required
    write_nsmc(tiny_dir)
    assert dict(datasets.verify(tiny_dir))[FILE] == "MISMATCH"
    with pytest.raises(ClassroomError, match=r"nsmc-movies-v1\.tsv\.gz \(mismatch\)"):
        verify_data(tiny_dir)


def test_the_classroom_adds_the_courses_copy_to_a_folder_without_it(tiny_dir, tmp_path):
    """The students' environment holds the helpers without the course folder, so the class's
    data folder must carry chapter 9's file even when the teacher's offline copy has none."""
    from classroom.settings import copy_data, verify_data

    files = verify_data(tiny_dir)
    assert FILE not in files
    (tmp_path / "class").mkdir()
    copied = copy_data(tiny_dir, files, tmp_path / "class")
    assert (copied / FILE).read_bytes() == (ROOT / "shipped-data" / FILE).read_bytes()
    assert {status for _, status in datasets.verify(copied)} == {"OK"}
    assert FILE in store.read_sums(copied) and FILE not in store.read_sums(tiny_dir)
    assert not (copied / FILE).stat().st_mode & 0o222, "read-only for the students"
    stamp = (copied / FILE).stat().st_mtime_ns
    assert copy_data(tiny_dir, files, tmp_path / "class") == copied  # a second start keeps it
    assert (copied / FILE).stat().st_mtime_ns == stamp


def test_the_readme_credits_the_file():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    data = readme[readme.index("## Data: online, offline, classroom") :]
    data = data[: data.index("\n## ", 5)]
    for needed in ("load_nsmc()", "shipped-data/nsmc-movies-v1.tsv.gz", "CC0 1.0", "e9t/nsmc"):
        assert needed in data, needed


# --- The real offline copies -----------------------------------------------------------------


def _real_folder() -> Path | None:
    folder = store.chosen_data_dir()
    return folder if folder and (folder / FILE).is_file() else None


@pytest.mark.skipif(_real_folder() is None, reason="COURSE_DATA_DIR with the NSMC file not set")
def test_the_offline_copy_is_the_course_copy(capsys):
    assert store.sha256_of(_real_folder() / FILE) == store.UPSTREAM_SHA256[FILE]
    (x_train, _), _, unlabeled, _ = datasets.load_nsmc()
    assert "from COURSE_DATA_DIR" in capsys.readouterr().out
    assert len(x_train) == 20_000 and len(unlabeled) == 100_000
