"""helpers.text: chapter 7's negation set and cosine neighbours."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from helpers import text


def test_negation_sets_are_whole_swapped_pairs_with_opposite_labels():
    for split in ("train", "test"):
        sentences, labels = text.negation_sentences(split)
        assert len(sentences) == len(labels) and len(sentences) % 2 == 0
        for k in range(0, len(sentences), 2):
            first, second = sentences[k].replace(",", ""), sentences[k + 1].replace(",", "")
            assert Counter(first.split()) == Counter(second.split())
            assert first != second and labels[k] == 1 and labels[k + 1] == 0
        assert labels.mean() == 0.5


def test_negation_split_is_by_template_words():
    train, _ = text.negation_sentences("train")
    test, _ = text.negation_sentences("test")
    assert not set(train) & set(test)
    assert len(train) == 48 * 8 * 2 * 2 and len(test) == 16 * 4 * 2 * 2

    def pairs(sentences):
        found = set()
        for s in sentences:
            words = s.replace(",", "").split()
            good = [w for w in words if w in text.NEGATION_POSITIVE]
            bad = [w for w in words if w in text.NEGATION_NEGATIVE]
            assert len(good) == len(bad) == 1, s
            found.add((good[0], bad[0]))
        return found

    assert not pairs(train) & pairs(test)
    test_words = {w for s in test for w in s.replace(",", "").split()}
    train_words = {w for s in train for w in s.replace(",", "").split()}
    assert test_words - train_words == set(text.NEGATION_TEST_NOUNS)


def test_negation_label_follows_the_adjective_not_negated():
    sentences, labels = text.negation_sentences("train")
    assert (sentences[0], labels[0]) == ("the film was good, not awful", 1)
    assert (sentences[1], labels[1]) == ("the film was awful, not good", 0)
    assert (sentences[2], labels[2]) == ("the film was not awful, it was good", 1)
    with pytest.raises(ValueError, match="train"):
        text.negation_sentences("valid")


def test_cosine_neighbours():
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [-1.0, 0.0], [0.0, 0.0], [0.5, 0.5]])
    result = text.cosine_neighbours(vectors, 0, k=3)
    assert [r for r, _ in result] == [1, 4, 3]
    assert result[0][1] == pytest.approx(0.9 / np.hypot(0.9, 0.1))
    assert result[2][1] == 0.0
    assert [r for r, _ in text.cosine_neighbours(vectors, 0, k=2, exclude=[1])] == [4, 3]
    scaled = vectors * np.array([[3.0], [0.1], [2.0], [1.0], [7.0]])
    assert [r for r, _ in text.cosine_neighbours(scaled, 0, k=4)] == [1, 4, 3, 2]
    with pytest.raises(IndexError):
        text.cosine_neighbours(vectors, 9)
    with pytest.raises(ValueError, match="2-D"):
        text.cosine_neighbours(vectors[0], 0)
