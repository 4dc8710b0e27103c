"""Chapter 8's Korean corpora: ChatbotData and KLUE-NER, cleaned and typed, and their split."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from helpers.data.store import FILES, damaged, locate, unreadable

CHATBOT_LABELS = ("일상다반사", "이별", "사랑")  # 0 everyday talk, 1 breakup, 2 love
KLUE_ENTITY_TYPES = ("PS", "LC", "OG", "DT", "TI", "QT")
# Credit and licence, printed by the loaders.
CREDITS = {
    "chatbot": "ChatbotData by songys (github.com/songys/Chatbot_data), MIT licence",
    "klue_ner": "KLUE-NER v1.1 by the KLUE benchmark (github.com/KLUE-benchmark/KLUE), "
    "CC BY-SA 4.0",
}
NAMES = {"chatbot": "ChatbotData", "klue_ner": "KLUE-NER", "nsmc": "the NSMC movie reviews"}
_KLUE_TAG = re.compile(r"O|[BI]-(?:PS|LC|OG|DT|TI|QT)")
_KLUE_CHAR_LINE = re.compile(r"(.)\t(\S+)")


def data_file(dataset: str) -> Path:
    """Where the file of a Korean corpus (``"chatbot"``, ``"klue_ner"``, ``"nsmc"``) is read from.

    Looks (and downloads when needed) exactly as the loader does, so a notebook
    can show the raw file the loader cleans.
    """
    if dataset not in NAMES:
        raise ValueError(f"data_file() knows {sorted(NAMES)}, not {dataset!r}.")
    return locate(dataset, NAMES[dataset])[1] / FILES[dataset][0]


def _read_text(dataset: str) -> tuple[Path, str, str]:
    """``(path, label, text)``: BOM dropped, line ends normalised, Unicode NFC."""
    label, folder = locate(dataset, NAMES[dataset])
    path = folder / FILES[dataset][0]
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise unreadable(path, label, err) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return path, label, unicodedata.normalize("NFC", text)


def _bad_line(path: Path, number: int, what: str):
    return damaged(
        path, f"Line {number} of {path} {what}, so the file is not the expected one or was damaged"
    )


def load_chatbot_data():
    """Load ChatbotData (songys/Chatbot_data, MIT): ``questions, answers, labels``.

    ``questions`` and ``answers`` are NumPy arrays of str, ``labels`` int64:
    0 everyday talk (일상다반사), 1 breakup (이별), 2 love (사랑); see
    :data:`CHATBOT_LABELS`. The file's quirks are handled: a byte-order mark,
    Windows line ends, empty lines, spaces around fields (one label is
    ``"2   "``), quoted fields with commas, decomposed Hangul (NFC applied).
    Rows keep the file's order; the same question can occur more than once.
    """
    path, label, text = _read_text("chatbot")
    rows: list[list[str]] = []
    for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), 1):
        row = [cell.strip() for cell in row]
        if not any(row):
            continue  # an empty line
        if not rows and [c.lower() for c in row[:3]] != ["q", "a", "label"]:
            raise _bad_line(path, number, f"is {row!r}, not the header Q,A,label")
        if rows and len(row) != 3:
            raise _bad_line(path, number, f"has {len(row)} fields instead of 3 (Q,A,label)")
        if rows and (row[2] not in ("0", "1", "2") or not row[0] or not row[1]):
            raise _bad_line(path, number, f"is not question,answer,0/1/2 but {row!r}")
        rows.append(row)
    if len(rows) < 2:
        raise _bad_line(path, 1, "starts a file with no question/answer pairs")
    questions, answers, raw_labels = zip(*rows[1:], strict=True)
    labels = np.array([int(x) for x in raw_labels], dtype=np.int64)
    counts = ", ".join(f"{k} {CHATBOT_LABELS[k]} {int((labels == k).sum()):,}" for k in range(3))
    print(
        f"ChatbotData: {len(questions):,} question/answer pairs ({counts}), from {label}. "
        f"Data: {CREDITS['chatbot']}."
    )
    return np.array(questions, dtype=str), np.array(answers, dtype=str), labels


def load_klue_ner():
    """Load KLUE-NER v1.1 dev (KLUE, CC BY-SA 4.0): ``sentences, tags``.

    Both are lists with one entry per sentence: ``sentences[i]`` is the list of
    its characters (spaces included, as the file has them) and ``tags[i]`` the
    list of their BIO tags (``"B-PS"``, ``"I-PS"``, ``"O"``, ...; entity types in
    :data:`KLUE_ENTITY_TYPES`). ``##`` comment lines and blank separator lines
    are read and dropped; BOM, Windows line ends and NFC are handled. Split it
    with :func:`split_klue_ner`.
    """
    path, label, text = _read_text("klue_ner")
    sentences: list[list[str]] = []
    tags: list[list[str]] = []
    chars: list[str] = []
    marks: list[str] = []
    for number, line in enumerate([*text.split("\n"), ""], 1):  # "": end the last sentence
        match = _KLUE_CHAR_LINE.fullmatch(line)
        if match:
            if not _KLUE_TAG.fullmatch(match.group(2)):
                raise _bad_line(
                    path,
                    number,
                    f"has the tag {match.group(2)!r}, not a BIO tag "
                    f"of {', '.join(KLUE_ENTITY_TYPES)}",
                )
            chars.append(match.group(1))
            marks.append(match.group(2))
        elif line.strip() and not line.startswith("##"):  # ##: the header, a sentence's id
            raise _bad_line(
                path, number, f"is {line[:40]!r}, neither CHAR<TAB>TAG nor a ## comment"
            )
        elif not line.strip() and chars:  # a blank line ends a sentence
            sentences.append(chars)
            tags.append(marks)
            chars, marks = [], []
    if not sentences:
        raise _bad_line(path, 1, "starts a file with no tagged sentence")
    n_chars = sum(len(s) for s in sentences)
    print(
        f"KLUE-NER: {len(sentences):,} sentences ({n_chars:,} characters), from {label}. "
        f"Data: {CREDITS['klue_ner']}."
    )
    return sentences, tags


def grouped_split(
    keys: Sequence, fractions: Sequence[float] = (0.7, 0.15, 0.15), seed: int = 0
) -> tuple[np.ndarray, ...]:
    """Index arrays of a seeded random split in which equal keys stay together.

    ``keys`` has one entry per sample (e.g. its question): all samples with the
    same key land in the same part, so a duplicate can never be in training and
    in test at once. ``fractions`` (summing to 1) are the shares of *distinct*
    keys per part. The split depends only on the keys, their order and ``seed``.

    (scikit-learn's ``GroupShuffleSplit`` keeps groups together too, but splits in two
    and draws and rounds differently: chapter 8's parts, and the numbers the notebook
    prints and asserts about them, would all change.)
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
