"""IMDB reviews: Keras' ``imdb.load_data`` in far less memory, the word index, and text helpers.

The lean loader is chapter 4's point: Keras builds three full copies of ~12 million
Python ints (about 1.2 GB at peak). Here each review becomes a small NumPy array as
soon as it is read, and the returned lists share one int object per distinct value.
Values, order, dtypes and errors are Keras' own; the tests compare the two loaders.
"""

from __future__ import annotations

import functools
import io
import json
import pickle
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from helpers.data.images import READ_ERRORS
from helpers.data.store import announce, locate, unreadable

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


def _imdb_arrays(path, num_words, skip_top, maxlen, seed, start_char, oov_char, index_from):
    """Keras' ``imdb.load_data`` processing, one split's Python lists in memory at a time."""
    rng = np.random.RandomState(seed)
    splits = []
    for split in ("train", "test"):
        raw_x, labels = _read_member(path, f"x_{split}"), _read_member(path, f"y_{split}")
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
            f"After filtering for sequences shorter than maxlen={maxlen}, no "
            "sequence was kept. Increase maxlen."
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
    label, folder = locate("imdb", "IMDB")
    path = folder / "imdb.npz"
    try:
        result = _imdb_arrays(
            path, num_words, skip_top, maxlen, seed, start_char, oov_char, index_from
        )
    except (*READ_ERRORS, pickle.UnpicklingError) as err:
        if isinstance(err, ValueError) and "Increase maxlen" in str(err):
            raise
        raise unreadable(path, label, err) from None
    announce("IMDB", len(result[0][0]), len(result[1][0]), label, "reviews")
    return result


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
