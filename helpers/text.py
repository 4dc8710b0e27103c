"""Small text tools for the sequence chapters.

- :func:`negation_sentences`: chapter 7's generated *negation test*, sentences
  whose label depends on word order while every swapped pair has the same words;
- :func:`cosine_neighbours`: nearest rows of an embedding matrix by cosine
  similarity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "NEGATION_POSITIVE",
    "NEGATION_NEGATIVE",
    "NEGATION_TRAIN_NOUNS",
    "NEGATION_TEST_NOUNS",
    "NEGATION_TEMPLATES",
    "negation_sentences",
    "is_test_pair",
    "cosine_neighbours",
]

NEGATION_POSITIVE = (
    "good",
    "great",
    "excellent",
    "wonderful",
    "brilliant",
    "superb",
    "enjoyable",
    "beautiful",
)
NEGATION_NEGATIVE = ("bad", "awful", "terrible", "boring", "poor", "dull", "weak", "horrible")
NEGATION_TRAIN_NOUNS = ("film", "movie", "plot", "story", "acting", "cast", "script", "ending")
NEGATION_TEST_NOUNS = ("music", "dialogue", "soundtrack", "direction")
# In both templates the label is the sentiment of {meant}, the adjective that "not" does
# NOT apply to; {negated} is the one it denies.
NEGATION_TEMPLATES = (
    "the {noun} was {meant}, not {negated}",
    "the {noun} was not {negated}, it was {meant}",
)


def is_test_pair(i_positive: int, i_negative: int) -> bool:
    """Whether the adjective pair (positive i, negative j) is held out for testing (1 in 4)."""
    return (i_positive + i_negative) % 4 == 0


def negation_sentences(split: str) -> tuple[list[str], np.ndarray]:
    """Chapter 7's negation set: ``(sentences, labels)`` for ``split`` "train" or "test".

    Every sentence comes with its *swapped twin*: the same words with the two
    adjectives exchanged, and the opposite label ("the film was good, not bad"
    is positive, "the film was bad, not good" negative). A bag of words sees the
    two as identical, so on any set made of whole pairs it scores exactly 50%.

    The split is by template words, so that the test measures word order rather
    than memorised sentences: test sentences use other nouns than the training
    ones, and adjective pairs (one positive, one negative) that never occur
    together in training (each adjective on its own does). Labels: 1 positive,
    0 negative. Pairs are consecutive: sentences ``2k`` and ``2k + 1``.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    nouns = NEGATION_TRAIN_NOUNS if split == "train" else NEGATION_TEST_NOUNS
    sentences: list[str] = []
    labels: list[int] = []
    for i, good in enumerate(NEGATION_POSITIVE):
        for j, bad in enumerate(NEGATION_NEGATIVE):
            if is_test_pair(i, j) != (split == "test"):
                continue
            for noun in nouns:
                for template in NEGATION_TEMPLATES:
                    sentences.append(template.format(noun=noun, meant=good, negated=bad))
                    labels.append(1)
                    sentences.append(template.format(noun=noun, meant=bad, negated=good))
                    labels.append(0)
    return sentences, np.array(labels, dtype="int64")


def cosine_neighbours(
    vectors: np.ndarray, query: int, k: int = 5, exclude: Sequence[int] = ()
) -> list[tuple[int, float]]:
    """The ``k`` rows of ``vectors`` most similar to row ``query`` by cosine similarity.

    Returns ``[(row, cosine), ...]``, most similar first, without ``query``
    itself and without the rows in ``exclude`` (e.g. padding and markers).
    cos(u, v) = u . v / (|u| |v|); a zero row counts as similarity 0.
    """
    vectors = np.asarray(vectors, dtype="float64")
    if vectors.ndim != 2:
        raise ValueError(
            f"vectors must be a 2-D matrix (one row per word), got shape {vectors.shape}."
        )
    if not 0 <= query < len(vectors):
        raise IndexError(f"query row {query} is outside the matrix's {len(vectors)} rows.")
    norms = np.linalg.norm(vectors, axis=1)
    safe = np.where(norms > 0, norms, 1.0)
    cos = vectors @ vectors[query] / (safe * (norms[query] if norms[query] > 0 else 1.0))
    cos[norms == 0] = 0.0
    skip = {int(query), *(int(e) for e in exclude)}
    order = [int(r) for r in np.argsort(-cos, kind="stable") if int(r) not in skip]
    return [(r, float(cos[r])) for r in order[:k]]
