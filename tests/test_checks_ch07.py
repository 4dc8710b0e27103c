"""helpers.checks, chapter 7: each check accepts the right answer and names common mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import checks
from helpers.checks import ch07


def test_padded_matches_keras_and_names_the_mistakes():
    keras = pytest.importorskip("keras")
    seqs, maxlen = ch07.EX_PAD["sequences"], ch07.EX_PAD["maxlen"]
    right = keras.utils.pad_sequences(seqs, maxlen=maxlen)
    assert checks.check_padded(right.tolist()).ok
    assert checks.check_padded(right).ok
    assert not checks.check_padded(None).attempted
    for padding, truncating, words in [
        ("post", "pre", "padding='pre'"),
        ("pre", "post", "truncating='pre'"),
        ("post", "post", "both defaults"),
    ]:
        wrong = keras.utils.pad_sequences(
            seqs, maxlen=maxlen, padding=padding, truncating=truncating
        )
        feedback = checks.check_padded(wrong.tolist())
        assert not feedback.ok and words in feedback.message, (padding, truncating, feedback)
    assert "shape" in checks.check_padded([[0, 4, 12, 7]]).message
    assert "list of 3 rows" in checks.check_padded([[1, 2], [3]]).message
    assert "not right yet" in checks.check_padded(right + 1).message


def test_embedding_params_match_keras():
    keras = pytest.importorskip("keras")
    n, d = ch07.EX_EMBEDDING["input_dim"], ch07.EX_EMBEDDING["output_dim"]
    layer = keras.layers.Embedding(n, d)
    layer.build((None, ch07.EX_EMBEDDING["maxlen"]))
    assert checks.check_embedding_params(layer.count_params()).ok
    for wrong, words in [(n * d + d, "no bias"), (200 * d, "sequence length"), (n + d, "multiply")]:
        feedback = checks.check_embedding_params(wrong)
        assert not feedback.ok and words in feedback.message, (wrong, feedback)


def _step(x, h, W, U, b):
    return np.tanh(x @ W + h @ U + b)


def test_rnn_step_accepts_a_correct_version_and_matches_keras():
    assert checks.check_rnn_step(_step).ok
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 1, 3)).astype("float32")
    layer = keras.layers.SimpleRNN(2)
    layer.build((None, 1, 3))
    W, U, b = (w.astype("float64") for w in layer.get_weights())
    from_keras = np.asarray(layer(x))[0]
    np.testing.assert_allclose(_step(x[0, 0], np.zeros(2), W, U, b), from_keras, atol=1e-5)


def test_rnn_step_names_the_mistake():
    assert not checks.check_rnn_step(None).attempted
    cases = [
        (lambda x, h, W, U, b: x @ W + h @ U + b, "tanh is missing"),
        (lambda x, h, W, U, b: np.tanh(x @ W + b), "previous state is missing"),
        (lambda x, h, W, U, b: np.tanh(x @ W + h @ U), "bias b is missing"),
        (lambda x, h, W, U, b: np.tanh(x @ W + U @ h + b), "wrong side"),
        (lambda x, h, W, U, b: 1 / (1 + np.exp(-(x @ W + h @ U + b))), "sigmoid"),
        (lambda x, h, W, U, b: np.tanh(W @ x), "raised ValueError"),
        (lambda x, h, W, U, b: np.zeros(7), "returned shape"),
        (lambda x, h, W, U, b: _step(x, h, W, U, b) + 0.1, "expected"),
    ]
    for fn, words in cases:
        feedback = checks.check_rnn_step(fn)
        assert not feedback.ok and words in feedback.message, (words, feedback)


def test_embedding_params_read_spaced_thousands_and_name_the_padding_row():
    for written in ("320 000", "320,000", "320_000", 320_000):
        assert checks.check_embedding_params(written).ok, written
    n, d = ch07.EX_EMBEDDING["input_dim"], ch07.EX_EMBEDDING["output_dim"]
    padding_row = checks.check_embedding_params((n + 1) * d)
    assert not padding_row.ok and "padding" in padding_row.message, padding_row
    assert "already one of the input_dim rows" in padding_row.message
    bias = checks.check_embedding_params(n * d + n)
    assert not bias.ok and "no bias" in bias.message and "padding" not in bias.message


def test_padded_shows_a_wrong_answer_as_rows_with_its_shape():
    wrong = [[0, 4, 12, 7], [3, 8, 15, 6], [0, 0, 0, 6]]
    feedback = checks.check_padded(wrong)
    assert not feedback.ok
    assert "[[0, 4, 12, 7], [3, 8, 15, 6], [0, 0, 0, 6]] (shape (3, 4))" in feedback.message, (
        feedback
    )


def test_rnn_step_with_math_tanh_is_pointed_to_np_tanh():
    import math

    feedback = checks.check_rnn_step(lambda x, h, W, U, b: math.tanh(x @ W + h @ U + b))
    assert not feedback.ok and "raised TypeError" in feedback.message
    assert "np.tanh" in feedback.message and "Shapes" not in feedback.message, feedback


def test_padded_transposed_is_told_rows_and_columns_are_swapped():
    right = np.array([[0, 4, 12, 7], [3, 8, 15, 6], [0, 0, 0, 5]])
    feedback = checks.check_padded(right.T)
    assert not feedback.ok and "rows and columns are swapped" in feedback.message, feedback
    assert checks.check_padded(str(right.tolist())).ok
