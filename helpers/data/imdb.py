"""IMDB reviews: Keras' ``imdb.load_data`` in far less memory, the word index, and text helpers.

The lean loader is chapter 4's point: Keras builds three full copies of ~12 million
Python ints (about 1.2 GB at peak). Here a short-lived child process unpickles the file
and does Keras' processing on flat NumPy arrays; the kernel receives those arrays and
builds the lists, which share one int object per distinct value. The child's memory goes
back to the system when it exits; memory a kernel once used mostly stays with it.
Values, order, dtypes and errors are Keras' own; the tests compare the two loaders.
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import os
import pickle
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from helpers.data.images import READ_ERRORS
from helpers.data.store import DatasetError, announce, locate, unreadable

# What a pickled NumPy array may name: nothing else is rebuilt, so a crafted file
# cannot run code (np.load(allow_pickle=True) would run anything).
_ARRAY_PARTS = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(0))[0]


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if name == "_reconstruct" and module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            return _RECONSTRUCT
        if (module, name) in _ARRAY_PARTS:
            return _ARRAY_PARTS[module, name]
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a NumPy array")


def _read_member(path: Path, name: str) -> np.ndarray:
    """One array of an .npz, object arrays rebuilt by :class:`_ArraysOnly`."""
    with zipfile.ZipFile(path) as archive, archive.open(f"{name}.npy") as raw:
        buffer = io.BytesIO(raw.read())
    fmt = np.lib.format
    version = fmt.read_magic(buffer)
    header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
    _, _, dtype = header(buffer)
    if dtype.hasobject:
        return _ArraysOnly(buffer).load()
    buffer.seek(0)
    return fmt.read_array(buffer, allow_pickle=False)


def _imdb_compact(path, num_words, skip_top, maxlen, seed, start_char, oov_char, index_from):
    """Keras' ``imdb.load_data`` processing, on flat NumPy arrays instead of Python lists.

    Returns, per split, every review's word indices end to end, each review's length and
    the labels. Only one split's Python lists (as unpickled) exist at a time.
    """
    rng = np.random.RandomState(seed)
    splits = []
    for split in ("train", "test"):
        raw_x, labels = _read_member(path, f"x_{split}"), _read_member(path, f"y_{split}")
        order = np.arange(len(raw_x))
        rng.shuffle(order)  # same draws, in the same order, as Keras
        lengths = np.fromiter((len(raw_x[i]) for i in order), dtype=np.int64, count=len(order))
        flat = np.fromiter(
            itertools.chain.from_iterable(raw_x[i] for i in order),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        del raw_x
        labels = labels[order]
        if start_char is not None:
            lengths = lengths + 1
            starts = np.cumsum(lengths) - lengths
            words = np.ones(int(lengths.sum()), dtype=bool)
            words[starts] = False
            marked = np.empty(len(words), dtype=np.int64)
            marked[starts], marked[words] = start_char, flat + index_from
            flat = marked
        elif index_from:
            flat = flat + index_from
        if maxlen:
            keep = lengths < maxlen
            flat, lengths, labels = flat[np.repeat(keep, lengths)], lengths[keep], labels[keep]
        splits.append([flat, lengths, labels])

    if maxlen and not (len(splits[0][1]) and len(splits[1][1])):
        raise ValueError(
            f"After filtering for sequences shorter than maxlen={maxlen}, no "
            "sequence was kept. Increase maxlen."
        )
    if not num_words:
        num_words = max(int(flat.max()) for flat, _, _ in splits if flat.size)
    for part in splits:
        flat, lengths, _ = part
        inside = (flat >= skip_top) & (flat < num_words)
        if oov_char is not None:
            flat = np.where(inside, flat, oov_char)
        else:
            review = np.repeat(np.arange(len(lengths)), lengths)
            flat, lengths = flat[inside], np.bincount(review[inside], minlength=len(lengths))
        if not flat.size or (flat.min() >= -(2**31) and flat.max() < 2**31):
            flat = flat.astype(np.int32)  # half the bytes to hand over
        part[:2] = flat, lengths
    return [tuple(part) for part in splits]


def _as_lists(splits) -> list[tuple[np.ndarray, np.ndarray]]:
    """Compact splits -> Keras' format: object arrays of lists, one shared int per value."""
    values = [flat for flat, _, _ in splits if flat.size]
    top = max([0] + [int(flat.max()) for flat in values])
    table = list(range(top + 1))
    if any(int(flat.min()) < 0 for flat in values):  # a negative oov_char: no sharing
        table = None
    result = []
    for flat, lengths, labels in splits:
        ends = np.cumsum(lengths)
        starts = (ends - lengths).tolist()
        xs = np.empty(len(lengths), dtype="object")
        for j, (start, end) in enumerate(zip(starts, ends.tolist(), strict=True)):
            words = flat[start:end].tolist()
            xs[j] = [table[w] for w in words] if table else words
        result.append((xs, labels))
    return result


def _compact_or_raise(path: Path, label: str, args: tuple):
    """:func:`_imdb_compact`, its read errors turned into the course's one-paragraph error."""
    try:
        return _imdb_compact(path, *args)
    except (*READ_ERRORS, pickle.UnpicklingError) as err:
        if isinstance(err, ValueError) and "Increase maxlen" in str(err):
            raise
        raise unreadable(path, label, err) from None


# The heavy part runs in a child process: unpickling ~6 million Python ints per split
# takes ~300 MB that a Python process keeps (its allocator rarely returns freed memory to
# the system), and a notebook kernel lives for the whole lesson. The child exits after
# handing over the compact arrays, so the kernel grows by only the lists it returns.
_CHILD = "import sys; from helpers.data.imdb import _child_main; _child_main(sys.argv[1])"
_PASSED_ON = {"ValueError": ValueError, "DatasetError": DatasetError}


def _child_main(job: str) -> None:
    """The child process: read the job (JSON), write the arrays or an error to stdout."""
    spec = json.loads(job)
    out = sys.stdout.buffer
    try:
        splits = _compact_or_raise(Path(spec["path"]), spec["label"], tuple(spec["args"]))
    except tuple(_PASSED_ON.values()) as err:
        out.write(b"E" + json.dumps([type(err).__name__, str(err)]).encode())
        return
    out.write(b"A")
    for arrays in splits:
        for array in arrays:
            np.save(out, array, allow_pickle=False)


def _compact_in_child(path: Path, label: str, args: tuple):
    """Run :func:`_compact_or_raise` in a fresh Python; None if no child could do it."""
    root = str(Path(__file__).resolve().parents[2])  # the folder that holds helpers/
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    job = json.dumps({"path": str(path), "label": label, "args": list(args)})
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, job], capture_output=True, env=env, check=False
        )
    except OSError:
        return None
    reply = done.stdout
    if done.returncode != 0 or not reply:
        return None
    if reply[:1] == b"E":
        kind, message = json.loads(reply[1:])
        raise _PASSED_ON[kind](message) from None
    stream = io.BytesIO(reply)
    stream.seek(1)
    try:
        arrays = [np.load(stream, allow_pickle=False) for _ in range(6)]
    except ValueError:
        return None
    return [tuple(arrays[:3]), tuple(arrays[3:])]


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

    The file is read in a short-lived child process (where one cannot be started,
    in this one), so the notebook's kernel does not keep the reading's memory.
    """
    label, folder = locate("imdb", "IMDB")
    path = folder / "imdb.npz"
    args = (num_words, skip_top, maxlen, seed, start_char, oov_char, index_from)
    splits = _compact_in_child(path, label, args) or _compact_or_raise(path, label, args)
    (x_train, y_train), (x_test, y_test) = _as_lists(splits)
    announce("IMDB", len(x_train), len(x_test), label, "reviews")
    return (x_train, y_train), (x_test, y_test)


@functools.lru_cache(maxsize=1)
def _word_index_cached() -> tuple[dict[str, int], str]:
    label, folder = locate("imdb_word_index", "the IMDB word index")
    path = folder / "imdb_word_index.json"
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh), label
    except (OSError, ValueError) as err:
        raise unreadable(path, label, err) from None


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
    return _TOKEN.findall(re.sub(r"<br\s*/?>", " br ", text.lower()))


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
