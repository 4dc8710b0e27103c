"""helpers.data (the notebooks' helpers.datasets): same results as Keras, the lookup order,
downloads, the command line, and every error path."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from conftest import make_tiny_data
from helpers import datasets
from helpers.data import cli, store
from helpers.datasets import DatasetError

keras = pytest.importorskip("keras")
k_fashion, k_imdb, k_mnist = keras.datasets.fashion_mnist, keras.datasets.imdb, keras.datasets.mnist


def _assert_same(ours, theirs):
    for (xa, ya), (xb, yb) in zip(ours, theirs, strict=True):
        assert xa.dtype == xb.dtype and ya.dtype == yb.dtype
        assert xa.shape == xb.shape and ya.shape == yb.shape
        if xa.dtype == object:
            assert [list(r) for r in xa] == [list(r) for r in xb]
        else:
            np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def _keras_reads(monkeypatch, module, folder: Path):
    """Make Keras' own loader read `folder` instead of downloading.

    Keras checks its downloads against the published files' hashes, which tiny test data
    cannot match, so its downloader is replaced where its loaders look it up: the global
    namespace of the public ``load_data`` (no private module is imported)."""

    def fake_get_file(fname=None, origin=None, cache_subdir="datasets", **kwargs):
        sub = "fashion-mnist" if "fashion" in str(cache_subdir) else ""
        return str(folder / sub / fname)

    monkeypatch.setitem(module.load_data.__globals__, "get_file", fake_get_file)


# --- Same as Keras -------------------------------------------------------------


def test_mnist_matches_keras(tiny_dir, monkeypatch):
    _keras_reads(monkeypatch, k_mnist, tiny_dir)
    _assert_same(datasets.load_mnist(), k_mnist.load_data())


def test_fashion_mnist_matches_keras(tiny_dir, monkeypatch):
    _keras_reads(monkeypatch, k_fashion, tiny_dir)
    ours = datasets.load_fashion_mnist()
    _assert_same(ours, k_fashion.load_data())
    assert ours[0][0].shape == (9, 28, 28) and ours[0][0].dtype == np.uint8


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"num_words": 8},
        {"num_words": 8, "skip_top": 5},
        {"maxlen": 6},
        {"num_words": 10, "maxlen": 7, "seed": 7},
        {"start_char": None},
        {"start_char": None, "index_from": 0},
        {"num_words": 9, "oov_char": None},
    ],
)
def test_imdb_matches_keras(tiny_dir, monkeypatch, kwargs):
    _keras_reads(monkeypatch, k_imdb, tiny_dir)
    _assert_same(datasets.load_imdb(**kwargs), k_imdb.load_data(**kwargs))


def test_imdb_maxlen_too_small_raises_like_keras(tiny_dir, monkeypatch):
    _keras_reads(monkeypatch, k_imdb, tiny_dir)
    with pytest.raises(ValueError, match="Increase maxlen"):
        datasets.load_imdb(maxlen=1)
    with pytest.raises(ValueError, match="Increase maxlen"):
        k_imdb.load_data(maxlen=1)


def test_imdb_is_read_in_a_child_process(tiny_dir, monkeypatch):
    # The kernel must not do the unpickling itself: make that fail here, and the child
    # (a fresh Python that imports its own copy of the module) still does it.
    from helpers.data import imdb

    expected = datasets.load_imdb(num_words=8)

    def not_here(*args):
        raise AssertionError("the reviews were unpickled in the calling process")

    monkeypatch.setattr(imdb, "_compact_or_raise", not_here)
    _assert_same(datasets.load_imdb(num_words=8), expected)


def test_imdb_without_a_child_process_gives_the_same(tiny_dir, monkeypatch):
    from helpers.data import imdb

    expected = datasets.load_imdb(num_words=9, oov_char=None)

    def no_processes(*args, **kwargs):
        raise OSError("no child processes here")

    monkeypatch.setattr(imdb.subprocess, "run", no_processes)
    _assert_same(datasets.load_imdb(num_words=9, oov_char=None), expected)
    with pytest.raises(ValueError, match="Increase maxlen"):
        datasets.load_imdb(maxlen=1)


def test_word_index_matches_keras(tiny_dir, monkeypatch):
    _keras_reads(monkeypatch, k_imdb, tiny_dir)
    assert datasets.get_imdb_word_index() == k_imdb.get_word_index()


# --- Lookup order and the one-line report ----------------------------------------


def test_load_prints_one_line_with_source_and_counts(tiny_dir, capsys):
    datasets.load_mnist()
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ["MNIST: 12 training and 5 test images, from COURSE_DATA_DIR."]


def test_course_data_dir_wins_over_repo_data(isolated, tiny_dir, capsys):
    other = make_tiny_data(store.REPO_DATA_DIR, seed=1)
    assert other.is_dir()
    (x, _), _ = datasets.load_mnist()
    assert "COURSE_DATA_DIR" in capsys.readouterr().out
    with np.load(tiny_dir / "mnist.npz") as f:
        np.testing.assert_array_equal(x, f["x_train"])


def test_repo_data_folder_used_without_env(isolated, capsys):
    make_tiny_data(store.REPO_DATA_DIR)  # no SHA256SUMS: loads unverified
    datasets.load_fashion_mnist()
    assert "from the course's data/ folder" in capsys.readouterr().out


def test_env_folder_missing_files_falls_through(isolated, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_DIR", str(isolated / "empty"))
    make_tiny_data(store.REPO_DATA_DIR)
    datasets.load_mnist()
    assert "data/ folder" in capsys.readouterr().out


def test_offline_files_never_enter_keras_cache(tiny_dir, monkeypatch, tmp_path):
    def no_keras(*args, **kwargs):  # pragma: no cover - fails the test if reached
        raise AssertionError("Keras' downloader/cache must not be touched")

    monkeypatch.setitem(k_mnist.load_data.__globals__, "get_file", no_keras)
    datasets.load_mnist()


# --- Error paths --------------------------------------------------------------------


def test_no_data_and_no_network_gives_one_clear_paragraph(isolated):
    with pytest.raises(DatasetError) as info:
        datasets.load_mnist()
    message = str(info.value)
    assert "\n" not in message
    assert "Could not load MNIST" in message
    assert "COURSE_DATA_MIRROR is not set" in message  # what was tried
    assert "Temporary failure in name resolution" in message  # why the download failed
    assert store.URLS["mnist.npz"] in message
    assert "connect to the internet" in message and "set COURSE_DATA_DIR" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert info.value._render_traceback_() == [f"DatasetError: {message}"]


def test_truncated_npz_is_named_with_a_repair(isolated, monkeypatch):
    folder = make_tiny_data(isolated / "d")
    data = (folder / "mnist.npz").read_bytes()
    (folder / "mnist.npz").write_bytes(data[: len(data) // 2])
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    with pytest.raises(DatasetError, match=r"mnist\.npz .*truncated or corrupt.*fetch --to"):
        datasets.load_mnist()


def test_truncated_gzip_is_named(isolated, monkeypatch):
    folder = make_tiny_data(isolated / "d")
    target = folder / "fashion-mnist" / "train-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:-40])
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte.gz .*truncated or corrupt"):
        datasets.load_fashion_mnist()


def test_corrupt_imdb_is_named(isolated, monkeypatch):
    folder = make_tiny_data(isolated / "d")
    (folder / "imdb.npz").write_bytes(b"not a zip file at all")
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    with pytest.raises(DatasetError, match=r"imdb\.npz .*truncated or corrupt"):
        datasets.load_imdb()


def test_checksum_mismatch_is_reported(tiny_dir):
    with open(tiny_dir / "mnist.npz", "ab") as fh:
        fh.write(b"extra")
    with pytest.raises(DatasetError, match=r"does not match its checksum in SHA256SUMS"):
        datasets.load_mnist()


def test_malformed_sums_file_is_reported(tiny_dir):
    (tiny_dir / "SHA256SUMS").write_text("this is not a checksum\n")
    with pytest.raises(DatasetError, match="Line 1 .* is not a checksum line"):
        datasets.load_mnist()


# --- verify ---------------------------------------------------------------------------


def test_verify_reports_ok_missing_and_mismatch(tiny_dir, capsys):
    assert {s for _, s in datasets.verify(tiny_dir)} == {"OK"}
    assert cli.main(["verify", str(tiny_dir)]) == 0
    (tiny_dir / "imdb_word_index.json").write_text("{}")
    (tiny_dir / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    status = dict(datasets.verify(tiny_dir))
    assert status["imdb_word_index.json"] == "MISMATCH"
    assert status["fashion-mnist/t10k-labels-idx1-ubyte.gz"] == "MISSING"
    assert cli.main(["verify", str(tiny_dir)]) == 1
    assert "2 of 7 files failed" in capsys.readouterr().err


def test_verify_without_sums_file(isolated, capsys):
    folder = make_tiny_data(isolated / "d")
    with pytest.raises(DatasetError, match="no SHA256SUMS"):
        datasets.verify(folder)
    assert cli.main(["verify", str(folder)]) == 1
    assert "error: There is no SHA256SUMS" in capsys.readouterr().err


# --- serve, fetch and the classroom mirror ---------------------------------------------


@pytest.fixture()
def mirror(tiny_dir):
    """`helpers.datasets serve` on 127.0.0.1, serving the tiny data folder."""
    server = datasets.make_server(tiny_dir, port=0, bind="127.0.0.1")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_fetch_from_serve_end_to_end(tiny_dir, mirror, tmp_path, capsys):
    target = tmp_path / "fetched"
    assert cli.main(["fetch", "--to", str(target), "--mirror", mirror]) == 0
    # ...and chapter 9's reviews, which the mirror lacks: copied from the course's own copy.
    assert _files(target) == _files(tiny_dir) | {"nsmc-movies-v1.tsv.gz"}
    for rel in _files(tiny_dir) - {"SHA256SUMS"}:
        assert (target / rel).read_bytes() == (tiny_dir / rel).read_bytes()
    assert store.read_sums(target).items() >= store.read_sums(tiny_dir).items()
    assert {s for _, s in datasets.verify(target)} == {"OK"}
    # A second fetch keeps what is already there.
    capsys.readouterr()
    datasets.fetch(target, mirror=mirror)
    assert "downloaded" not in capsys.readouterr().out


def test_loader_uses_mirror_and_saves_for_next_time(
    tiny_dir, mirror, isolated, monkeypatch, capsys
):
    monkeypatch.setenv("COURSE_DATA_MIRROR", mirror)
    monkeypatch.delenv("COURSE_DATA_DIR")
    datasets.load_mnist()
    assert (
        "from the classroom mirror (saved in the course's data/ folder)" in capsys.readouterr().out
    )
    assert (store.REPO_DATA_DIR / "mnist.npz").is_file()
    datasets.load_mnist()
    assert "from the course's data/ folder" in capsys.readouterr().out


def test_unreachable_mirror_is_listed_in_the_error(isolated, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", "http://127.0.0.1:9")  # discard port: refused
    with pytest.raises(DatasetError, match=r"the classroom mirror http://127\.0\.0\.1:9 "):
        datasets.load_mnist()
    assert not store.REPO_DATA_DIR.exists() or _files(store.REPO_DATA_DIR) == set()


class _DroppingHandler(http.server.SimpleHTTPRequestHandler):
    """Announces the full length of .npz files, sends half, then hangs up."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if path.suffix != ".npz":
            return super().do_GET()
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.connection.shutdown(2)
        self.close_connection = True


def test_connection_dropped_midway_leaves_nothing_behind(tiny_dir, tmp_path):
    handler = functools.partial(_DroppingHandler, directory=str(tiny_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = tmp_path / "fetched"
    try:
        with pytest.raises(DatasetError, match=r"cut off|Could not download"):
            datasets.fetch(
                target, mirror=f"http://127.0.0.1:{server.server_address[1]}", datasets=["mnist"]
            )
    finally:
        server.shutdown()
        server.server_close()
    leftovers = _files(target) if target.exists() else set()
    assert leftovers == set(), f"half-written files left behind: {leftovers}"


def test_mirror_serving_a_damaged_file_is_refused(tiny_dir, mirror, tmp_path):
    with open(tiny_dir / "mnist.npz", "ab") as fh:  # the mirror's SUMS no longer match
        fh.write(b"junk")
    target = tmp_path / "fetched"
    with pytest.raises(DatasetError, match="does not match its expected checksum"):
        datasets.fetch(target, mirror=mirror, datasets=["mnist"])
    assert not (target / "mnist.npz").exists()
    assert not [p for p in target.rglob("*") if p.name.startswith(".")]


def test_fetch_rejects_unknown_names(tmp_path):
    with pytest.raises(DatasetError, match="Unknown dataset"):
        datasets.fetch(tmp_path, datasets=["cifar10"])


def test_serve_refuses_a_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="is not a folder"):
        datasets.make_server(tmp_path / "nope", port=0, bind="127.0.0.1")


# --- Reviews: decode, tokenize, encode -------------------------------------------------------


def test_decode_review_uses_markers_and_offset(tiny_dir):
    # ranks: the=1, and=2, a=3 ... good=11 -> indices rank+3
    assert datasets.decode_review([1, 4, 13, 14, 2, 0]) == "<start> the movie good <unk> <pad>"


def test_tokenize_matches_dataset_rules():
    assert datasets.tokenize("It's GOOD.<br /><br />Really, 10/10!") == [
        "it's",
        "good",
        "br",
        "br",
        "really",
        "10",
        "10",
    ]
    with pytest.raises(TypeError):
        datasets.tokenize(None)


def test_encode_review_round_trips_and_caps_vocabulary(tiny_dir):
    encoded = datasets.encode_review("The movie is GOOD, zebra!", num_words=None)
    assert encoded == [1, 4, 13, 9, 14, 2]
    assert datasets.decode_review(encoded) == "<start> the movie is good <unk>"
    # With num_words=10, only indices below 10 survive; 'movie' (13) becomes unknown.
    assert datasets.encode_review("the movie", num_words=10) == [1, 4, 2]


# --- The real offline copies (CI and developer machines) -----------------------------------


@pytest.mark.skipif(store.chosen_data_dir() is None, reason="COURSE_DATA_DIR not set")
def test_real_offline_copies_verify_and_load(monkeypatch, capsys):
    folder = store.chosen_data_dir()
    assert {s for _, s in datasets.verify(folder)} == {"OK"}
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist()
    assert x_train.shape[1:] == (28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)


def test_unwritable_target_gives_a_clear_error(tiny_dir, mirror, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DatasetError, match=r"Cannot write into .*--to FOLDER"):
        datasets.fetch(blocker / "data", mirror=mirror, datasets=["mnist"])


def test_loader_with_unwritable_mirror_target_lists_it_as_tried(
    tiny_dir, mirror, isolated, monkeypatch
):
    blocker = isolated / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COURSE_DATA_DIR", str(blocker / "data"))
    monkeypatch.setenv("COURSE_DATA_MIRROR", mirror)
    with pytest.raises(DatasetError, match="Cannot write into"):
        datasets.load_mnist()


# --- The package: the notebooks' name, no code in a data file -------------------------------


def test_the_notebooks_name_is_the_data_package_and_its_command_line():
    import subprocess
    import sys

    import helpers.data

    assert set(datasets.__all__) == set(helpers.data.__all__)
    assert all(getattr(datasets, name) is getattr(helpers.data, name) for name in datasets.__all__)
    result = subprocess.run(
        [sys.executable, "-m", "helpers.datasets", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "fetch" in result.stdout and "serve" in result.stdout


class _Payload:
    def __reduce__(self):
        return (print, ("this ran while the data was read",))


def test_a_data_file_cannot_run_code(isolated, monkeypatch, capsys):
    import numpy as np

    folder = make_tiny_data(isolated / "d")
    crafted = np.empty(2, dtype=object)
    crafted[0], crafted[1] = [1, 2], _Payload()
    np.savez(
        folder / "imdb.npz",
        x_train=crafted,
        y_train=np.zeros(2),
        x_test=crafted,
        y_test=np.zeros(2),
    )
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    with pytest.raises(DatasetError, match="builtins.print is not part of a NumPy array"):
        datasets.load_imdb()
    assert "this ran" not in capsys.readouterr().out
