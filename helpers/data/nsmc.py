"""Chapter 9's Korean movie reviews: NSMC's raw reviews, balanced and split by movie.

The file, ``nsmc-movies-v1.tsv.gz``, is the one dataset the project carries itself (in
``shipped-data/``; CC0 1.0, built from the raw reviews of e9t/nsmc), so it loads with no
network and no data folder at all. :func:`load_nsmc` returns clean, typed arrays.

Why the texts are NumPy arrays of Python ``str`` (``dtype=object``) and not of NumPy's
fixed-width ``str`` (``dtype="<U147"``): Keras 3's ``model.fit`` refuses a fixed-width
string array (``Invalid dtype: str256``) and takes an object array, as
``TextVectorization.adapt`` and ``tf.data.Dataset.from_tensor_slices`` do; and a
fixed-width array stores every review at the longest one's length, four bytes a character
(74 MB here, against about 19 MB).
"""

from __future__ import annotations

import gzip
import unicodedata
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from helpers.data.store import (
    FILES,
    SHIPPED_LABEL,
    DatasetError,
    damaged,
    locate,
    restore_advice,
)

FILE = FILES["nsmc"][0]
HEADER = "id\tmovie_id\tsplit\trating\tlabel\tdocument"
SPLITS = ("train", "test", "unlabeled")
NSMC_LABELS = ("negative", "positive")  # 0: rating 1-4, 1: rating 9-10 (NSMC's rule)
CREDIT = "built from NSMC's raw reviews (github.com/e9t/nsmc), CC0 1.0"
# What a damaged gzip file raises while it is read (BadGzipFile is an OSError).
_READ_ERRORS = (OSError, EOFError, zlib.error, UnicodeDecodeError)


class LabelledReviews(NamedTuple):
    """One labelled split: ``texts`` (object array of str) and ``labels`` (int32, 0 or 1)."""

    texts: np.ndarray
    labels: np.ndarray


class MovieIds(NamedTuple):
    """The Naver movie id (int32) of every review, per split, in the order of the texts."""

    train: np.ndarray
    test: np.ndarray
    unlabeled: np.ndarray


class NsmcReviews(NamedTuple):
    """What :func:`load_nsmc` returns; unpack it or use the names.

    ``(x_train, y_train), (x_test, y_test), unlabeled, movies = load_nsmc()``
    """

    train: LabelledReviews
    test: LabelledReviews
    unlabeled: np.ndarray
    movies: MovieIds


def _label_of(rating: int) -> int:
    """NSMC's rule: 1-4 stars negative (0), 9-10 positive (1), 5-8 neither (-1)."""
    return 0 if rating <= 4 else 1 if rating >= 9 else -1


# Every (split, rating, label) a good row can have.
_GOOD = {("unlabeled", str(r), "-1") for r in range(1, 11)} | {
    (split, str(r), str(_label_of(r)))
    for split in ("train", "test")
    for r in range(1, 11)
    if _label_of(r) != -1
}


def _problem(path: Path, label: str, problem: str) -> DatasetError:
    """The one error for a file that is there but unusable, with the repair for its place."""
    if label == SHIPPED_LABEL:  # the committed copy: restored from git, not fetched
        return DatasetError(f"{problem}. {restore_advice(FILE)}")
    return damaged(path, problem)


def _is_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 9  # fits an int32


def _row_problem(fields: list[str]) -> str | None:
    """What is wrong with one row's fields, or None for a good row."""
    if len(fields) != 6:
        return f"has {len(fields)} tab-separated fields instead of 6"
    review_id, movie_id, split, rating, label, document = fields
    if not (_is_id(review_id) and _is_id(movie_id)):
        return f"has the ids {review_id[:20]!r} and {movie_id[:20]!r}, not whole numbers"
    if split not in SPLITS:
        return f"has the split {split[:20]!r}, not one of {', '.join(SPLITS)}"
    if not (rating.isascii() and rating.isdigit() and 1 <= int(rating) <= 10):
        return f"has the rating {rating[:20]!r}, not a whole number of stars from 1 to 10"
    if (split, rating, label) not in _GOOD:
        want = -1 if split == "unlabeled" else _label_of(int(rating))
        if want == -1 and split != "unlabeled":
            return f"is a {split} review rated {rating}, which NSMC leaves unlabelled"
        return f"has the label {label[:20]!r} where a {split} review rated {rating} has {want}"
    if not document.strip():
        return "has an empty review"
    return None


class _Columns(NamedTuple):
    """The file's checked rows, as the columns :func:`load_nsmc` needs."""

    movies: np.ndarray  # int32
    splits: np.ndarray  # bytes: b"train", b"test", b"unlabeled"
    labels: np.ndarray  # int32
    documents: list[str]


def _as_columns(movies: list, splits: list, labels: list, documents: list[str]) -> _Columns:
    return _Columns(
        np.array(movies, dtype=bytes).astype(np.int32),
        np.array(splits, dtype=bytes),
        np.array(labels, dtype=bytes).astype(np.int32),
        documents,
    )


def _ids_column(column: list[bytes]) -> bool:
    """Whether every entry is 1-9 ASCII digits (an int32), checked in a few C loops."""
    return b"".join(column).isdigit() and 1 <= min(map(len, column)) <= max(map(len, column)) <= 9


def _fast_columns(body: bytes) -> _Columns | None:
    """The columns of ``body`` (the rows, one a line), when every row is good; else None.

    One split of the whole file and checks per column, instead of a loop over 125,000
    rows; when anything is off, :func:`_read_columns`' line-by-line check finds the line.
    It splits bytes and decodes only the reviews, once everything else is split: the
    reviews then sit together in memory, and all that is dropped can go back to the
    system (splitting text instead left the process 76 MB bigger for 20 MB of reviews).
    """
    fields = body.replace(b"\n", b"\t").split(b"\t")
    if len(fields) != 6 * (body.count(b"\n") + 1):
        return None
    ids, movies, splits, ratings, labels, raw = (fields[i::6] for i in range(6))
    del fields
    if not (_ids_column(ids) and _ids_column(movies)):
        return None
    triples = set(zip(splits, ratings, labels, strict=True))  # a few dozen at most
    if not {tuple(b.decode("utf-8", "replace") for b in t) for t in triples} <= _GOOD:
        return None
    documents = [review.decode("utf-8") for review in raw]
    del raw
    if not all(map(str.strip, documents)):
        return None
    return _as_columns(movies, splits, labels, documents)


def _read_columns(path: Path, label: str) -> _Columns:
    """The file's rows, checked, as columns; a :class:`DatasetError` naming what is wrong."""
    try:
        with gzip.open(path, "rb") as fh:
            data = fh.read()
        data = data.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark
        if b"\r" in data:  # saved with Windows line ends
            data = data.replace(b"\r\n", b"\n")
        # Tab-separated lines, not CSV: a review may hold quote marks, which CSV would pair.
        # Split on "\n" only: str.splitlines() would also split inside a review (U+2028).
        header, _, body = data.removesuffix(b"\n").partition(b"\n")
        del data
        columns = _fast_columns(body) if body and header == HEADER.encode() else None
        if columns is not None:
            return columns
        lines = [header, *body.split(b"\n")] if body else [header]
        lines = [line.decode("utf-8") for line in lines]
    except _READ_ERRORS as err:
        raise _problem(
            path,
            label,
            f"{FILE} in {label} ({path}) could not be read: it looks truncated or corrupt, or "
            f"is not the gzip file of UTF-8 text it should be ({type(err).__name__}: {err})",
        ) from None
    if lines[0] != HEADER:
        raise _problem(
            path,
            label,
            f"{FILE} in {label} ({path}) starts with {lines[0][:60]!r}, not the header {HEADER!r}",
        )
    rows = [line.split("\t", 5) for line in lines[1:]]
    for number, fields in enumerate(rows, 2):
        problem = _row_problem(fields)
        if problem:
            raise _problem(
                path,
                label,
                f"Line {number} of {FILE} in {label} ({path}) {problem}, so the file is "
                "not the expected one or was damaged",
            )
    # Only a file the quick check refused but every line passes gets here (a tab in a review).
    return _as_columns(*([row[i] for row in rows] for i in (1, 2, 4, 5)))


def _object_array(values: list) -> np.ndarray:
    """A 1-D object array of ``values`` (``np.array`` could make a 2-D one of equal lists)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def load_nsmc() -> NsmcReviews:
    """Load chapter 9's Korean movie reviews (NSMC, CC0 1.0), split by movie.

    ``(x_train, y_train), (x_test, y_test), unlabeled, movies = load_nsmc()``:

    - ``x_train`` (20,000) and ``x_test`` (5,000): the reviews, NumPy arrays of Python
      ``str`` (``dtype=object``), which ``TextVectorization.adapt``, ``tf.data`` and
      ``model.fit`` all take (see the module's notes);
    - ``y_train``, ``y_test``: int32, 0 negative (1-4 stars), 1 positive (9-10 stars);
      half of each split is positive;
    - ``unlabeled``: 100,000 more reviews (any rating, no label) of the training movies,
      for pretraining;
    - ``movies``: the movie id of every review (``movies.train``, ``movies.test``,
      ``movies.unlabeled``, int32). No test movie has a review in ``train`` or
      ``unlabeled``: split a validation set off ``train`` by movie too
      (``grouped_split(movies.train, (0.8, 0.2))``).

    The file's order is kept (by review id within each split; not sorted by label).
    Reviews are as the public wrote them (slang, typos, some profanity), with whitespace
    collapsed to single spaces and Unicode NFC applied. Looks in ``COURSE_DATA_DIR``, then
    the course's ``data/``, then the course's own copy; downloads nothing, writes nothing.
    """
    label, folder = locate("nsmc", "the NSMC movie reviews")
    path = folder / FILE
    columns = _read_columns(path, label)
    documents = columns.documents
    if not unicodedata.is_normalized("NFC", "\n".join(documents)):  # one check, ~10 ms
        documents = [unicodedata.normalize("NFC", d) for d in documents]
    texts, movies, targets = _object_array(documents), columns.movies, columns.labels
    parts = {name: columns.splits == name.encode() for name in SPLITS}
    test_movies = set(movies[parts["test"]].tolist())
    shared = test_movies.intersection(movies[~parts["test"]].tolist())
    if shared or not parts["train"].any() or not parts["test"].any():
        problem = (
            f"has reviews in train or unlabeled of {len(shared):,} test movie(s) (e.g. movie "
            f"{min(shared)}), though it should be split by movie"
            if shared
            else "has no train or no test reviews"
        )
        raise _problem(path, label, f"{FILE} in {label} ({path}) {problem}")
    result = NsmcReviews(
        train=LabelledReviews(texts[parts["train"]], targets[parts["train"]]),
        test=LabelledReviews(texts[parts["test"]], targets[parts["test"]]),
        unlabeled=texts[parts["unlabeled"]],
        movies=MovieIds(*(movies[parts[name]] for name in SPLITS)),
    )
    (_, y_train), (_, y_test) = result.train, result.test
    print(
        f"NSMC movie reviews: {len(y_train):,} training ({int(y_train.sum()):,} positive) and "
        f"{len(y_test):,} test reviews ({int(y_test.sum()):,} positive), "
        f"{len(result.unlabeled):,} unlabeled, split by movie, from {label}. Data: {CREDIT}."
    )
    return result
