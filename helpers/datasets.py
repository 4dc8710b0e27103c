"""Offline-first dataset loaders, and a small command line to fetch, verify and serve data.

The loaders return exactly what ``keras.datasets.<name>.load_data()`` returns
(same shapes, dtypes, shuffling and index conventions). They look, in order:

1. the folder named by the environment variable ``COURSE_DATA_DIR``;
2. the course's own ``data/`` folder (next to ``notebooks/``);
3. a classroom mirror, when ``COURSE_DATA_MIRROR`` is set (files are saved
   into the first folder above, so the next load is offline);
4. the normal Keras download and cache (``~/.keras/datasets``).

Local folders use the Keras cache layout (``mnist.npz``, ``imdb.npz``,
``imdb_word_index.json``, ``fashion-mnist/*.gz``). When a folder has a
``SHA256SUMS`` file, every file is checked against it before it is used.

Local files are never copied into the Keras cache: course copies need not be
byte-identical to the files Keras publishes, and Keras deletes a cached file
whose hash it does not recognise.

Command line (``python -m helpers.datasets --help``)::

    fetch  [--to DIR] [--mirror URL]   download every dataset, write SHA256SUMS
    verify [DIR]                       check a folder against its SHA256SUMS
    serve  [--dir DIR] [--port PORT]   be the classroom mirror (and serve site/ under /site/)
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import hashlib
import http.client
import http.server
import io
import json
import os
import re
import socket
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DatasetError",
    "load_mnist",
    "load_fashion_mnist",
    "load_imdb",
    "get_imdb_word_index",
    "decode_review",
    "tokenize",
    "encode_review",
    "load_chatbot_data",
    "load_klue_ner",
    "grouped_split",
    "split_klue_ner",
    "data_file",
    "CHATBOT_LABELS",
    "KLUE_ENTITY_TYPES",
    "fetch",
    "verify",
    "make_server",
]

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
REPO_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SUMS_NAME = "SHA256SUMS"

# Relative paths in the Keras cache layout, per dataset.
FILES: dict[str, tuple[str, ...]] = {
    "mnist": ("mnist.npz",),
    "fashion_mnist": (
        "fashion-mnist/train-labels-idx1-ubyte.gz",
        "fashion-mnist/train-images-idx3-ubyte.gz",
        "fashion-mnist/t10k-labels-idx1-ubyte.gz",
        "fashion-mnist/t10k-images-idx3-ubyte.gz",
    ),
    "imdb": ("imdb.npz",),
    "imdb_word_index": ("imdb_word_index.json",),
    # Chapter 8's Korean corpora: plain files from public GitHub repositories.
    "chatbot": ("ChatbotData.csv",),
    "klue_ner": ("klue-ner-v1.1_dev.tsv",),
}
# Files that do not come from the Keras origin: their public raw-file URLs.
ORIGINS = {
    "ChatbotData.csv":
        "https://raw.githubusercontent.com/songys/Chatbot_data/master/ChatbotData.csv",
    "klue-ner-v1.1_dev.tsv":
        "https://raw.githubusercontent.com/KLUE-benchmark/KLUE/main/"
        "klue_benchmark/klue-ner-v1.1/klue-ner-v1.1_dev.tsv",
}
# Credit and licence, printed by the loaders of data that asks for them.
CREDITS = {
    "chatbot": "ChatbotData by songys (github.com/songys/Chatbot_data), MIT licence",
    "klue_ner": "KLUE-NER v1.1 by the KLUE benchmark (github.com/KLUE-benchmark/KLUE), "
                "CC BY-SA 4.0",
}
# SHA-256 of the files Keras publishes, where Keras itself pins one.
UPSTREAM_SHA256 = {
    "mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    "imdb.npz": "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
    "ChatbotData.csv": "287eb129695b577321c80ad397bb3c2279164d4ca577874d129fd3db5b30afe2",
    "klue-ner-v1.1_dev.tsv": "0f4d5e818f7b82d299c3a87856fc40a706f5943207580ddb252397e387050a54",
}

_CHUNK = 1 << 16


class DatasetError(RuntimeError):
    """A dataset could not be loaded, fetched or verified.

    The message is one paragraph that says what was tried and how to fix it.
    In Jupyter it is shown without a traceback: the traceback would only show
    the inside of this module, which is not where the learner can fix anything.
    """

    def _render_traceback_(self) -> list[str]:  # IPython's hook for custom display
        return [f"DatasetError: {self}"]


# --------------------------------------------------------------------------
# Checksums
# --------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in chunks so large files need little memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_sums(folder: Path) -> dict[str, str] | None:
    """Parse ``folder/SHA256SUMS`` (the ``sha256sum`` format) or return None."""
    sums_file = Path(folder) / SUMS_NAME
    if not sums_file.is_file():
        return None
    sums: dict[str, str] = {}
    for number, line in enumerate(sums_file.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](.+)", line)
        if not match:
            raise DatasetError(
                f"Line {number} of {sums_file} is not a checksum line (expected "
                "'<64 hex digits>  <file name>', as sha256sum writes). Regenerate the "
                "list with `python -m helpers.datasets fetch --to FOLDER`, or delete it "
                "to skip verification."
            )
        sums[match.group(2).strip().removeprefix("./")] = match.group(1).lower()
    return sums


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_sums(folder: Path) -> Path:
    """Write ``folder/SHA256SUMS`` for every known dataset file present in it."""
    folder = Path(folder)
    lines = [
        f"{sha256_of(folder / rel)}  {rel}"
        for files in FILES.values()
        for rel in files
        if (folder / rel).is_file()
    ]
    target = folder / SUMS_NAME
    _write_atomically(target, "\n".join(lines) + "\n")
    return target


def verify(folder: Path | str) -> list[tuple[str, str]]:
    """Check every file listed in ``folder/SHA256SUMS``.

    Returns ``[(relative_path, status), ...]`` with status ``"OK"``,
    ``"MISSING"`` or ``"MISMATCH"``. Raises :class:`DatasetError` when the
    folder has no ``SHA256SUMS``.
    """
    folder = Path(folder)
    sums = read_sums(folder)
    if sums is None:
        raise DatasetError(
            f"There is no {SUMS_NAME} file in {folder}, so there is nothing to verify "
            "against. `python -m helpers.datasets fetch --to FOLDER` downloads the data "
            "and writes one; for files you copied yourself, copy the SHA256SUMS that came "
            "with them too."
        )
    results = []
    for rel, expected in sums.items():
        path = folder / rel
        if not path.is_file():
            results.append((rel, "MISSING"))
        elif sha256_of(path) != expected:
            results.append((rel, "MISMATCH"))
        else:
            results.append((rel, "OK"))
    return results


def _check_against_sums(folder: Path, rels: Iterable[str], label: str) -> None:
    sums = read_sums(folder)
    if not sums:
        return
    for rel in rels:
        expected = sums.get(rel)
        if expected is None:
            continue
        actual = sha256_of(folder / rel)
        if actual != expected:
            raise DatasetError(
                f"{rel} in {label} ({folder / rel}) does not match its checksum in "
                f"{SUMS_NAME} (expected {expected[:12]}..., found {actual[:12]}...): the "
                "file was damaged or changed after the list was written. Copy it again "
                "from its source, or delete it and run `python -m helpers.datasets fetch "
                f"--to {folder}` to download a fresh copy; `python -m helpers.datasets "
                f"verify {folder}` checks the whole folder."
            )


# --------------------------------------------------------------------------
# Where the data comes from
# --------------------------------------------------------------------------


def _local_folders() -> list[tuple[str, Path]]:
    folders = []
    env = os.environ.get("COURSE_DATA_DIR")
    if env:
        folders.append(("COURSE_DATA_DIR", Path(env).expanduser()))
    folders.append(("the course's data/ folder", REPO_DATA_DIR))
    return folders


def _download_folder() -> Path:
    """Where mirror downloads go: COURSE_DATA_DIR if set, else the course's data/."""
    env = os.environ.get("COURSE_DATA_DIR")
    return Path(env).expanduser() if env else REPO_DATA_DIR


def _locate(dataset: str) -> tuple[str, Path | None, list[str]]:
    """Find a folder holding every file of `dataset`, fetching from a mirror if set.

    Returns ``(label, folder, tried)``; ``folder`` is None when only Keras is left.
    """
    rels = FILES[dataset]
    tried = []
    for label, folder in _local_folders():
        if all((folder / rel).is_file() for rel in rels):
            _check_against_sums(folder, rels, label)
            return label, folder, tried
        missing = [rel for rel in rels if not (folder / rel).is_file()]
        tried.append(f"{label} ({folder}: no {', '.join(missing)})")

    mirror = os.environ.get("COURSE_DATA_MIRROR")
    if mirror:
        target = _download_folder()
        try:
            fetch(target, mirror=mirror, datasets=[dataset], quiet=True)
        except DatasetError as err:
            tried.append(f"the classroom mirror {mirror} ({err})")
        else:
            return f"the classroom mirror (saved in {_label_for(target)})", target, tried
    else:
        tried.append("a classroom mirror (COURSE_DATA_MIRROR is not set)")
    return "Keras", None, tried


def _label_for(folder: Path) -> str:
    for label, candidate in _local_folders():
        if candidate == folder:
            return label
    return str(folder)


def _no_data_error(name: str, tried: Sequence[str], reason: BaseException) -> DatasetError:
    short = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
    return DatasetError(
        f"Could not load {name}. Tried: {'; '.join(tried)}; and the Keras download, "
        f"which failed ({short}). Two ways out: connect to the internet and run this "
        "cell again (Keras downloads the data once and caches it), or copy the dataset "
        "files (Keras cache layout: mnist.npz, imdb.npz, imdb_word_index.json, "
        "fashion-mnist/*.gz) into a folder and set COURSE_DATA_DIR to it, e.g. "
        "`export COURSE_DATA_DIR=/path/to/datasets` before starting Jupyter. In a "
        "classroom, the teacher can run `python -m helpers.datasets serve` and you set "
        "COURSE_DATA_MIRROR=http://TEACHER-ADDRESS:8765 instead."
    )


def _corrupt_error(path: Path, label: str, reason: BaseException) -> DatasetError:
    return DatasetError(
        f"{path.name} in {label} ({path}) could not be read: it looks truncated or "
        f"corrupt ({type(reason).__name__}: {reason}). Delete it and download a fresh "
        f"copy with `python -m helpers.datasets fetch --to {path.parent}` (or copy it "
        "again from where you got it); `python -m helpers.datasets verify FOLDER` "
        "checks a folder that has a SHA256SUMS file."
    )


_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, ImportError)


def _announce(name: str, n_train: int, n_test: int, source: str, unit: str) -> None:
    print(f"{name}: {n_train:,} training and {n_test:,} test {unit}, from {source}.")


def _keras_call(name: str, tried: list[str], func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except Exception as err:  # Keras wraps URL, SSL and HTTP errors in a bare Exception
        raise _no_data_error(name, tried, err) from None


# --------------------------------------------------------------------------
# MNIST and Fashion-MNIST
# --------------------------------------------------------------------------


def load_mnist():
    """Load MNIST: ``(x_train, y_train), (x_test, y_test)``, uint8, as Keras does.

    Images are ``(n, 28, 28)`` uint8 in 0..255; labels are ``(n,)`` uint8 digits.
    """
    label, folder, tried = _locate("mnist")
    if folder is None:
        import keras

        result = _keras_call("MNIST", tried, keras.datasets.mnist.load_data)
    else:
        path = folder / "mnist.npz"
        try:
            with np.load(path, allow_pickle=False) as f:
                result = (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
        except _READ_ERRORS as err:
            raise _corrupt_error(path, label, err) from None
    _announce("MNIST", len(result[0][0]), len(result[1][0]), label, "images")
    return result


def _read_idx(path: Path, offset: int) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        return np.frombuffer(fh.read(), np.uint8, offset=offset)


def load_fashion_mnist():
    """Load Fashion-MNIST: ``(x_train, y_train), (x_test, y_test)``, uint8, as Keras does."""
    label, folder, tried = _locate("fashion_mnist")
    if folder is None:
        import keras

        result = _keras_call("Fashion-MNIST", tried, keras.datasets.fashion_mnist.load_data)
    else:
        arrays = []
        for rel in FILES["fashion_mnist"]:
            path = folder / rel
            try:
                arrays.append(_read_idx(path, 8 if "labels" in rel else 16))
            except _READ_ERRORS as err:
                raise _corrupt_error(path, label, err) from None
        y_train, x_train, y_test, x_test = arrays
        try:
            x_train = x_train.reshape(len(y_train), 28, 28)
            x_test = x_test.reshape(len(y_test), 28, 28)
        except ValueError as err:
            raise _corrupt_error(folder / FILES["fashion_mnist"][1], label, err) from None
        result = (x_train, y_train), (x_test, y_test)
    _announce("Fashion-MNIST", len(result[0][0]), len(result[1][0]), label, "images")
    return result


# --------------------------------------------------------------------------
# IMDB
# --------------------------------------------------------------------------


def _npz_member_reader(path: Path):
    """Return ``read(name)`` that loads one array of an .npz at a time.

    Uses Keras' restricted unpickler (it only rebuilds NumPy arrays, so a
    crafted file cannot run code) when available, else NumPy. Reading one
    member at a time keeps only one split's Python lists in memory at once.
    """
    try:
        from keras.src.datasets.npz_utils import load_npy_member
    except ImportError:  # another Keras layout: NumPy's lazy NpzFile
        archive = np.load(path, allow_pickle=True)
        return lambda name: archive[name]

    def read(name: str) -> np.ndarray:
        with zipfile.ZipFile(path) as archive, archive.open(f"{name}.npy") as raw:
            return load_npy_member(io.BytesIO(raw.read()))

    return read


def _imdb_arrays(read, num_words, skip_top, maxlen, seed, start_char, oov_char, index_from):
    """Keras' ``imdb.load_data`` processing, with the same result in far less memory.

    Keras builds three full copies of ~12 million Python ints (about 1.2 GB at
    peak). Here each review becomes a small NumPy array as soon as it is read
    (its Python list is dropped), and the returned lists share one int object
    per distinct value. Values, order, dtypes and errors are Keras' own; the
    tests compare the two loaders.
    """
    rng = np.random.RandomState(seed)
    splits = []
    for split in ("train", "test"):
        raw_x, labels = read(f"x_{split}"), read(f"y_{split}")
        indices = np.arange(len(raw_x))
        rng.shuffle(indices)  # same draws, in the same order, as Keras
        seqs = []
        for i in indices:
            seq = np.asarray(raw_x[i], dtype=np.int64)
            raw_x[i] = None  # free the Python list now
            if start_char is not None:
                seq = np.concatenate(([start_char], seq + index_from))
            elif index_from:
                seq = seq + index_from
            seqs.append(seq)
        del raw_x
        labels = labels[indices]
        if maxlen:
            keep = [j for j, seq in enumerate(seqs) if len(seq) < maxlen]
            seqs, labels = [seqs[j] for j in keep], labels[keep]
        splits.append((seqs, labels))

    if maxlen and not (splits[0][0] and splits[1][0]):
        raise ValueError(
            f"After filtering for sequences shorter than maxlen={maxlen}, no sequence "
            "was kept. Increase maxlen."
        )
    if not num_words:
        num_words = max(int(seq.max()) for seqs, _ in splits for seq in seqs)

    def clip(seq: np.ndarray) -> np.ndarray:
        inside = (seq >= skip_top) & (seq < num_words)
        return np.where(inside, seq, oov_char) if oov_char is not None else seq[inside]

    clipped = [[clip(seq) for seq in seqs] for seqs, _ in splits]
    top = max([0] + [int(seq.max()) for seqs in clipped for seq in seqs if len(seq)])
    ints = list(range(top + 1))  # one shared Python int per value
    result = []
    for seqs, (_, labels) in zip(clipped, splits, strict=True):
        xs = np.empty(len(seqs), dtype="object")
        for j, seq in enumerate(seqs):
            xs[j] = [ints[w] for w in seq.tolist()]
        result.append((xs, labels))
    return result[0], result[1]


def load_imdb(
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
):
    """Load IMDB reviews as word-index lists, exactly like ``keras.datasets.imdb.load_data``.

    Index conventions (with the defaults): 0 is padding, 1 marks the start of a
    review, 2 stands for a word outside the vocabulary, and a word of frequency
    rank ``r`` (1 = most frequent) has index ``r + 3``. ``num_words`` keeps the
    indices below it; others become ``oov_char``. Labels: 0 negative, 1 positive.
    """
    kwargs = dict(
        num_words=num_words,
        skip_top=skip_top,
        maxlen=maxlen,
        seed=seed,
        start_char=start_char,
        oov_char=oov_char,
        index_from=index_from,
    )
    label, folder, tried = _locate("imdb")
    if folder is None:
        import keras

        result = _keras_call("IMDB", tried, keras.datasets.imdb.load_data, **kwargs)
    else:
        path = folder / "imdb.npz"
        try:
            result = _imdb_arrays(_npz_member_reader(path), **kwargs)
        except _READ_ERRORS as err:
            if isinstance(err, ValueError) and "Increase maxlen" in str(err):
                raise
            raise _corrupt_error(path, label, err) from None
    _announce("IMDB", len(result[0][0]), len(result[1][0]), label, "reviews")
    return result


@functools.lru_cache(maxsize=1)
def _word_index_cached() -> tuple[dict[str, int], str]:
    label, folder, tried = _locate("imdb_word_index")
    if folder is None:
        import keras

        return _keras_call("the IMDB word index", tried, keras.datasets.imdb.get_word_index), label
    path = folder / "imdb_word_index.json"
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh), label
    except (OSError, ValueError) as err:
        raise _corrupt_error(path, label, err) from None


def get_imdb_word_index() -> dict[str, int]:
    """Word -> frequency rank (1 = most frequent), as ``keras.datasets.imdb.get_word_index``.

    Add ``index_from`` (3) to a rank to get the index used in ``load_imdb`` data.
    Returns a fresh copy, so changing it does not affect later calls.
    """
    word_index, label = _word_index_cached()
    print(f"IMDB word index: {len(word_index):,} words, from {label}.")
    return dict(word_index)


@functools.lru_cache(maxsize=4)
def _reverse_index(index_from: int) -> dict[int, str]:
    word_index, _ = _word_index_cached()
    reverse = {rank + index_from: word for word, rank in word_index.items()}
    reverse.update({0: "<pad>", 1: "<start>", 2: "<unk>"})
    return reverse


def decode_review(sequence: Iterable[int], index_from: int = 3) -> str:
    """Turn a list of word indices from :func:`load_imdb` back into text.

    0, 1 and 2 show as ``<pad>``, ``<start>`` and ``<unk>`` (padding, start of
    review, word outside the vocabulary).
    """
    reverse = _reverse_index(index_from)
    return " ".join(reverse.get(int(i), "<unk>") for i in sequence)


_TOKEN = re.compile(r"[a-z0-9']+")


def tokenize(text: str) -> list[str]:
    """Split text into words the way the course's IMDB data was tokenized.

    Lower-cased; ``<br />`` line breaks become the word ``br``; a word is a run
    of letters, digits and apostrophes.
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize() needs a string, got {type(text).__name__}.")
    text = re.sub(r"<br\s*/?>", " br ", text.lower())
    return _TOKEN.findall(text)


def encode_review(
    text: str,
    num_words: int | None = 10000,
    start_char: int | None = 1,
    oov_char: int = 2,
    index_from: int = 3,
) -> list[int]:
    """Encode your own text like a review from ``load_imdb(num_words=...)``.

    Each word becomes ``rank + index_from``; words the word index does not
    know, or whose index is ``num_words`` or more, become ``oov_char``.
    """
    word_index, _ = _word_index_cached()
    encoded = [start_char] if start_char is not None else []
    for word in tokenize(text):
        rank = word_index.get(word)
        index = rank + index_from if rank is not None else oov_char
        if num_words is not None and index >= num_words:
            index = oov_char
        encoded.append(index)
    return encoded


# --------------------------------------------------------------------------
# Korean corpora (chapter 8): ChatbotData and KLUE-NER
# --------------------------------------------------------------------------

CHATBOT_LABELS = ("일상다반사", "이별", "사랑")  # 0 everyday talk, 1 breakup, 2 love
KLUE_ENTITY_TYPES = ("PS", "LC", "OG", "DT", "TI", "QT")
_KLUE_TAG = re.compile(r"O|[BI]-(?:PS|LC|OG|DT|TI|QT)")
_KLUE_CHAR_LINE = re.compile(r"(.)\t(\S+)")
_CORPUS_NAMES = {"chatbot": "ChatbotData", "klue_ner": "KLUE-NER"}  # display names


def _locate_or_download(dataset: str, name: str) -> tuple[str, Path]:
    """Like :func:`_locate`, then the data's own public URL (saved for next time)."""
    label, folder, tried = _locate(dataset)
    if folder is not None:
        return label, folder
    target = _download_folder()
    rel = FILES[dataset][0]
    try:
        fetch(target, datasets=[dataset], quiet=True)
    except DatasetError as err:
        raise DatasetError(
            f"Could not load {name}. Tried: {'; '.join(tried)}; and the download from "
            f"{ORIGINS[rel]}, which failed ({err}) Two ways out: connect to the internet "
            f"and run this cell again (the file is saved in {target} for next time), or "
            f"copy {rel} into a folder and set COURSE_DATA_DIR to it, e.g. `export "
            "COURSE_DATA_DIR=/path/to/datasets` before starting Jupyter. In a classroom, "
            "the teacher can run `python -m helpers.datasets serve` and you set "
            "COURSE_DATA_MIRROR=http://TEACHER-ADDRESS:8765 instead."
        ) from None
    return f"{ORIGINS[rel]} (saved in {_label_for(target)})", target


def data_file(dataset: str) -> Path:
    """Where the file of a Korean corpus (``"chatbot"`` or ``"klue_ner"``) is read from.

    Looks (and downloads when needed) exactly as the loader does, so a notebook
    can show the raw file the loader cleans.
    """
    if dataset not in _CORPUS_NAMES:
        raise ValueError(f"data_file() knows {sorted(_CORPUS_NAMES)}, not {dataset!r}.")
    _, folder = _locate_or_download(dataset, _CORPUS_NAMES[dataset])
    return folder / FILES[dataset][0]


def _read_text(path: Path, label: str) -> str:
    """A text file as one str: BOM dropped, line ends normalised, Unicode NFC."""
    import unicodedata

    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise _corrupt_error(path, label, err) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def _bad_line(path: Path, number: int, what: str) -> DatasetError:
    return DatasetError(
        f"Line {number} of {path} {what}, so the file is not the expected one or was "
        f"damaged. Delete it and download a fresh copy with `python -m helpers.datasets "
        f"fetch --to {path.parent}` (or copy it again from where you got it)."
    )


def _parse_chatbot(path: Path, label: str):
    import csv

    rows = csv.reader(io.StringIO(_read_text(path, label), newline=""))
    questions: list[str] = []
    answers: list[str] = []
    labels: list[int] = []
    header_seen = False
    for number, row in enumerate(rows, 1):
        row = [cell.strip() for cell in row]
        if not any(row):
            continue  # an empty line
        if not header_seen:
            if [c.lower() for c in row[:3]] != ["q", "a", "label"]:
                raise _bad_line(path, number, f"is {row!r}, not the header Q,A,label")
            header_seen = True
            continue
        if len(row) != 3:
            raise _bad_line(path, number, f"has {len(row)} fields instead of 3 (Q,A,label)")
        question, answer, raw_label = row
        if raw_label not in ("0", "1", "2") or not question or not answer:
            raise _bad_line(path, number, f"is not question,answer,0/1/2 but {row!r}")
        questions.append(question)
        answers.append(answer)
        labels.append(int(raw_label))
    if not questions:
        raise _bad_line(path, 1, "starts a file with no question/answer pairs")
    return (np.array(questions, dtype=str), np.array(answers, dtype=str),
            np.array(labels, dtype=np.int64))


def load_chatbot_data():
    """Load ChatbotData (songys/Chatbot_data, MIT): ``questions, answers, labels``.

    ``questions`` and ``answers`` are NumPy arrays of str, ``labels`` int64:
    0 everyday talk (일상다반사), 1 breakup (이별), 2 love (사랑); see
    :data:`CHATBOT_LABELS`. The file's quirks are handled: a byte-order mark,
    Windows line ends, empty lines, spaces around fields (one label is
    ``"2   "``), quoted fields with commas, decomposed Hangul (NFC applied).
    Rows keep the file's order; the same question can occur more than once.
    """
    label, folder = _locate_or_download("chatbot", _CORPUS_NAMES["chatbot"])
    questions, answers, labels = _parse_chatbot(folder / "ChatbotData.csv", label)
    counts = ", ".join(f"{k} {CHATBOT_LABELS[k]} {int((labels == k).sum()):,}" for k in range(3))
    print(f"ChatbotData: {len(questions):,} question/answer pairs ({counts}), from {label}. "
          f"Data: {CREDITS['chatbot']}.")
    return questions, answers, labels


def _parse_klue(path: Path, label: str):
    sentences: list[list[str]] = []
    tags: list[list[str]] = []
    chars: list[str] = []
    marks: list[str] = []
    for number, line in enumerate(_read_text(path, label).split("\n"), 1):
        match = _KLUE_CHAR_LINE.fullmatch(line)
        if match:
            if not _KLUE_TAG.fullmatch(match.group(2)):
                raise _bad_line(path, number, f"has the tag {match.group(2)!r}, not a BIO tag "
                                f"of {', '.join(KLUE_ENTITY_TYPES)}")
            chars.append(match.group(1))
            marks.append(match.group(2))
        elif line.startswith("##"):
            continue  # a comment: the file header, or a sentence's id and tagged text
        elif not line.strip():
            if chars:  # a blank line ends a sentence
                sentences.append(chars)
                tags.append(marks)
                chars, marks = [], []
        else:
            raise _bad_line(path, number, f"is {line[:40]!r}, neither CHAR<TAB>TAG nor a ## "
                            "comment")
    if chars:
        sentences.append(chars)
        tags.append(marks)
    if not sentences:
        raise _bad_line(path, 1, "starts a file with no tagged sentence")
    return sentences, tags


def load_klue_ner():
    """Load KLUE-NER v1.1 dev (KLUE, CC BY-SA 4.0): ``sentences, tags``.

    Both are lists with one entry per sentence: ``sentences[i]`` is the list of
    its characters (spaces included, as the file has them) and ``tags[i]`` the
    list of their BIO tags (``"B-PS"``, ``"I-PS"``, ``"O"``, ...; entity types in
    :data:`KLUE_ENTITY_TYPES`). ``##`` comment lines and blank separator lines
    are read and dropped; BOM, Windows line ends and NFC are handled. Split it
    with :func:`split_klue_ner`.
    """
    label, folder = _locate_or_download("klue_ner", _CORPUS_NAMES["klue_ner"])
    sentences, tags = _parse_klue(folder / "klue-ner-v1.1_dev.tsv", label)
    n_chars = sum(len(s) for s in sentences)
    print(f"KLUE-NER: {len(sentences):,} sentences ({n_chars:,} characters), from {label}. "
          f"Data: {CREDITS['klue_ner']}.")
    return sentences, tags


def grouped_split(keys: Sequence, fractions: Sequence[float] = (0.7, 0.15, 0.15),
                  seed: int = 0) -> tuple[np.ndarray, ...]:
    """Index arrays of a seeded random split in which equal keys stay together.

    ``keys`` has one entry per sample (e.g. its question): all samples with the
    same key land in the same part, so a duplicate can never be in training and
    in test at once. ``fractions`` (summing to 1) are the shares of *distinct*
    keys per part. The split depends only on the keys, their order and ``seed``.
    """
    fractions = [float(f) for f in fractions]
    if not fractions or min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be positive and sum to 1, got {fractions}.")
    first: dict[Any, int] = {}
    group = np.array([first.setdefault(k, len(first)) for k in keys], dtype=np.int64)
    order = np.random.default_rng(seed).permutation(len(first))
    bounds = np.round(np.cumsum(fractions)[:-1] * len(first)).astype(int)
    part_of_group = np.empty(len(first), dtype=np.int64)
    for part, groups in enumerate(np.split(order, bounds)):
        part_of_group[groups] = part
    parts = part_of_group[group]
    return tuple(np.flatnonzero(parts == p) for p in range(len(fractions)))


def split_klue_ner(sentences, tags, seed: int = 0, fractions=(0.7, 0.15, 0.15)):
    """The chapter's fixed split of :func:`load_klue_ner`'s data.

    Returns ``(train, validation, test)``, each a ``(sentences, tags)`` pair of
    lists: 70/15/15 of the distinct sentences, seeded, with repeated sentences
    kept in one part. The same files give the same split on every machine.
    """
    if len(sentences) != len(tags):
        raise ValueError(f"{len(sentences)} sentences but {len(tags)} tag lists.")
    parts = grouped_split(["".join(s) for s in sentences], fractions, seed)
    return tuple(([sentences[i] for i in idx], [tags[i] for i in idx]) for idx in parts)


# --------------------------------------------------------------------------
# fetch / serve
# --------------------------------------------------------------------------


def _download(url: str, dest: Path, timeout: float = 60.0) -> None:
    """Download `url` to `dest` atomically: `dest` appears whole or not at all."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    except OSError as err:
        raise DatasetError(
            f"Cannot write into {dest.parent} ({type(err).__name__}: {err.strerror or err}). "
            "Download into a folder you can write to: pass `--to FOLDER`, or point "
            "COURSE_DATA_DIR at a writable folder (or unset it to use the course's data/)."
        ) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            expected = resp.headers.get("Content-Length")
            copied = 0
            for chunk in iter(lambda: resp.read(_CHUNK), b""):
                out.write(chunk)
                copied += len(chunk)
        if expected is not None and copied != int(expected):
            raise DatasetError(
                f"The download of {url} was cut off after {copied:,} of {int(expected):,} "
                "bytes. Nothing was saved; run the command again (it keeps the files that "
                "did arrive whole)."
            )
        os.replace(tmp, dest)
    except DatasetError:
        tmp.unlink(missing_ok=True)
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
        tmp.unlink(missing_ok=True)
        reason = getattr(err, "reason", None) or err
        raise DatasetError(
            f"Could not download {url} ({type(err).__name__}: {reason}). Nothing was saved. "
            "Check the network or the mirror address, then run the command again."
        ) from None
    except BaseException:  # KeyboardInterrupt included: never leave a half file
        tmp.unlink(missing_ok=True)
        raise


def fetch(
    to: Path | str = REPO_DATA_DIR,
    mirror: str | None = None,
    datasets: Sequence[str] | None = None,
    quiet: bool = False,
) -> Path:
    """Download datasets into `to` in the Keras cache layout and write SHA256SUMS.

    From `mirror` (a URL serving a course data folder, e.g. ``helpers.datasets
    serve`` on a teacher's laptop) when given, else from the Keras origin.
    Files already present and matching the checksums are kept. Every file is
    written atomically, and checked against the mirror's SHA256SUMS (or the hash
    Keras pins for it) before it replaces anything.
    """
    to = Path(to)
    names = list(datasets) if datasets else list(FILES)
    unknown = [n for n in names if n not in FILES]
    if unknown:
        raise DatasetError(
            f"Unknown dataset name(s) {unknown}; choose from {sorted(FILES)}."
        )
    expected: dict[str, str] = dict(UPSTREAM_SHA256) if not mirror else {}
    if mirror:
        base = mirror.rstrip("/") + "/"
        sums_tmp = Path(tempfile.mkdtemp()) / SUMS_NAME
        try:
            _download(base + SUMS_NAME, sums_tmp)
            expected = read_sums(sums_tmp.parent) or {}
        except DatasetError:
            expected = {}  # a mirror without SHA256SUMS: files are still size-checked
        finally:
            sums_tmp.unlink(missing_ok=True)
            sums_tmp.parent.rmdir()
    local = read_sums(to) or {}
    for name in names:
        if mirror and not datasets and expected and not any(r in expected for r in FILES[name]):
            if not quiet:  # an older mirror: fetching everything skips what it lacks
                print(f"  skipped     {', '.join(FILES[name])} (not on the mirror)")
            continue
        for rel in FILES[name]:
            dest = to / rel
            want = expected.get(rel) or local.get(rel)
            if dest.is_file() and (want is None or sha256_of(dest) == want):
                if not quiet:
                    print(f"  kept        {rel}")
                continue
            if mirror:
                url = mirror.rstrip("/") + "/" + rel
            else:
                url = ORIGINS.get(rel, KERAS_ORIGIN + Path(rel).name)
            staging = to / f".{Path(rel).name}.verify"
            try:
                _download(url, staging)
                got = sha256_of(staging)
                if rel in expected and got != expected[rel]:
                    raise DatasetError(
                        f"{rel} downloaded from {url} does not match its expected checksum "
                        f"(expected {expected[rel][:12]}..., got {got[:12]}...). Nothing was "
                        "saved. The source may be serving a different or damaged file: ask "
                        "whoever runs it to run `python -m helpers.datasets verify` there."
                    )
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging, dest)
            finally:
                with contextlib.suppress(OSError):  # never mask the error being raised
                    staging.unlink()
            if not quiet:
                print(f"  downloaded  {rel}")
    sums = write_sums(to)
    if not quiet:
        print(f"Wrote {sums}.")
    return to


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, site: str | None = None, **kwargs: Any) -> None:
        self.site = site  # the course website (`course.py site`), served under /site/
        super().__init__(*args, **kwargs)

    def translate_path(self, path: str) -> str:
        head, _, rest = path.split("?")[0].split("#")[0].lstrip("/").partition("/")
        if self.site and head == "site":
            inside = os.path.relpath(super().translate_path("/" + rest), self.directory)
            return os.path.join(self.site, inside)
        return super().translate_path(path)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


def make_server(folder: Path | str, port: int = 8765, bind: str = "0.0.0.0",
                site: Path | str | None = None):
    """An HTTP server that serves `folder` read-only (call ``serve_forever()``), and the
    course website's folder `site` under /site/ when given."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(
            f"{folder} is not a folder. Fetch the data first (`python -m helpers.datasets "
            "fetch`), then serve the folder it wrote."
        )
    handler = functools.partial(_QuietHandler, directory=str(folder),
                                site=str(site) if site else None)
    return http.server.ThreadingHTTPServer((bind, port), handler)


def _addresses() -> list[str]:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return sorted({info[4][0] for info in infos if not info[4][0].startswith("127.")})


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.datasets",
        description="Fetch, verify and serve the course datasets.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_fetch = sub.add_parser("fetch", help="download every dataset and write SHA256SUMS")
    p_fetch.add_argument("--to", type=Path, default=REPO_DATA_DIR, help="target folder")
    p_fetch.add_argument(
        "--mirror",
        default=os.environ.get("COURSE_DATA_MIRROR"),
        help="URL of a classroom mirror (default: $COURSE_DATA_MIRROR, else the Keras origin "
        "and, for the Korean corpora, their GitHub repositories)",
    )
    p_fetch.add_argument("--only", nargs="+", choices=sorted(FILES), help="just these datasets")
    p_verify = sub.add_parser("verify", help="check a folder against its SHA256SUMS")
    p_verify.add_argument("folder", nargs="?", type=Path, default=REPO_DATA_DIR)
    p_serve = sub.add_parser("serve", help="serve a data folder as the classroom mirror")
    p_serve.add_argument("--dir", type=Path, default=REPO_DATA_DIR, help="folder to serve")
    p_serve.add_argument("--port", type=int, default=8765)
    p_serve.add_argument("--bind", default="0.0.0.0", help="address to listen on")
    p_serve.add_argument("--site", type=Path, default=REPO_DATA_DIR.parent / "site",
                         help="the course website to serve under /site/, once built")
    args = parser.parse_args(argv)

    try:
        if args.command == "fetch":
            source = args.mirror or "the Keras origin and GitHub"
            print(f"Fetching into {args.to} from {source}:")
            fetch(args.to, mirror=args.mirror, datasets=args.only)
            return 0
        if args.command == "verify":
            results = verify(args.folder)
            for rel, status in results:
                print(f"{status:<9} {rel}")
            bad = [rel for rel, status in results if status != "OK"]
            if bad:
                print(
                    f"{len(bad)} of {len(results)} files failed. Fetch them again with "
                    f"`python -m helpers.datasets fetch --to {args.folder}`.",
                    file=sys.stderr,
                )
                return 1
            print(f"All {len(results)} files match {SUMS_NAME}.")
            return 0
        # serve
        if read_sums(args.dir) is None:
            print(f"Note: {args.dir} has no {SUMS_NAME}; downloads are only size-checked.")
        site = args.site if (args.site / "index.html").is_file() else None
        server = make_server(args.dir, args.port, args.bind, site=site)
        port = server.server_address[1]
        print(f"Serving {args.dir} on port {port}. Students set one of:")
        for address in _addresses() or ["THIS-LAPTOP-ADDRESS"]:
            print(f"  COURSE_DATA_MIRROR=http://{address}:{port}")
        if site:
            print(f"The course website is served too: http://ADDRESS:{port}/site/ (as above).")
        print("Press Ctrl+C to stop.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("Stopped.")
        finally:
            server.server_close()
        return 0
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(_main())
