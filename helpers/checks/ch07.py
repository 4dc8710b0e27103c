"""Chapter 7 exercises: padding by hand, Embedding parameters, one RNN step in NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers import reference
from helpers.checks.engine import (
    Feedback,
    as_numbers,
    call_learner,
    check_value,
    error_text,
    exercise,
    kind,
    shown,
)
from helpers.checks.reading import numbers_from_text

__all__ = ["EX_PAD", "EX_EMBEDDING", "check_padded", "check_embedding_params", "check_rnn_step"]

EX_PAD = {"sequences": [[4, 12, 7], [9, 3, 8, 15, 6], [5]], "maxlen": 4}
EX_EMBEDDING = {"input_dim": 5_000, "output_dim": 64, "maxlen": 200}


@exercise("07", answer="answer_padded")
def check_padded(answer: Any) -> Feedback:
    """Ex. 7.1: ``pad_sequences(EX_PAD["sequences"], maxlen=4)`` with the default settings."""
    seqs, maxlen = EX_PAD["sequences"], EX_PAD["maxlen"]
    name = "answer_padded"
    right = reference.pad_sequences(seqs, maxlen, "pre", "pre")
    wrong = {
        (
            "the zeros go at the start by default (padding='pre'), not at the end."
        ): reference.pad_sequences(seqs, maxlen, "post", "pre"),
        (
            "a long sequence loses its *first* words by default (truncating='pre'): keep the last "
            "4."
        ): reference.pad_sequences(seqs, maxlen, "pre", "post"),
        (
            "both defaults are 'pre': zeros at the start, and a long sequence keeps its last 4 "
            "words."
        ): reference.pad_sequences(seqs, maxlen, "post", "post"),
    }
    got = numbers_from_text(answer) if isinstance(answer, str) else as_numbers(answer)
    if got is None:
        return Feedback(
            False, f"`{name}` should be a list of 3 rows of 4 numbers, like [[0, 1, 2, 3], ...]."
        )
    if got.shape == right.shape[::-1]:
        same = " holds the right numbers, but" if np.array_equal(got.T, right) else ""
        return Feedback(
            False,
            f"`{name}`{same} has shape {got.shape}: its rows and columns are swapped. "
            f"pad_sequences returns one row per sequence, each of length maxlen: shape "
            f"{right.shape}.",
        )
    if got.shape != right.shape:
        return Feedback(
            False,
            f"`{name}` has shape {got.shape}; pad_sequences returns one row "
            f"per sequence, each of length maxlen: shape {right.shape}.",
        )
    return check_value(
        got,
        right,
        name,
        hints={message: (lambda v, w=w: np.array_equal(v, w)) for message, w in wrong.items()},
    )


@exercise("07")
def check_embedding_params(answer: Any) -> Feedback:
    """Ex. 7.2: parameters of ``Embedding(input_dim=5000, output_dim=64)`` on sequences of 200."""
    n, d, maxlen = (EX_EMBEDDING[key] for key in ("input_dim", "output_dim", "maxlen"))
    return check_value(
        answer,
        n * d,
        "answer_embedding_params",
        hints={
            "one row too many: index 0, the padding, is already one of the input_dim rows "
            "(num_words counts it too), and an Embedding has no bias to add.": lambda v: (
                v == n * d + d
            ),
            "an Embedding has no bias: it only looks rows up in its weight matrix.": lambda v: (
                v == n * d + n
            ),
            (
                "the sequence length does not matter: the same table serves every position."
            ): lambda v: v in (maxlen * d, n * d * maxlen, maxlen * n),
            "one row of 64 numbers per word of the vocabulary: multiply, don't add.": lambda v: (
                v == n + d
            ),
        },
    )


@exercise("07")
def check_rnn_step(rnn_step: Any) -> Feedback:
    """Ex. 7.3: ``rnn_step(x_t, h_prev, W, U, b)`` = tanh(x_t W + h_prev U + b), as SimpleRNN."""
    name = "rnn_step"
    rng = np.random.default_rng(7)
    cases = []
    for features, units in ((3, 2), (4, 5), (2, 2)):
        cases.append(
            (
                rng.normal(size=features),
                rng.normal(size=units),
                rng.normal(size=(features, units)),
                rng.normal(size=(units, units)),
                rng.normal(size=units),
            )
        )
    note = ""
    for x, h, W, U, b in cases:
        call = (
            f"`{name}(x_t of shape {x.shape}, h_prev of shape {h.shape}, W {W.shape}, "
            f"U {U.shape}, b {b.shape})`"
        )
        got, problem = call_learner(
            rnn_step,
            name,
            x.copy(),
            h.copy(),
            W.copy(),
            U.copy(),
            b.copy(),
            call=call,
            explain=lambda err, call=call: _explain_rnn(err, call),
        )
        if problem is not None:
            return problem
        want = reference.rnn_step(x, h, W, U, b)
        values = as_numbers(got)
        if values is None:
            return Feedback(
                False,
                f"{call} returned {kind(got)} ({shown(got, 60)}); expected an array of "
                f"{len(want)} numbers.",
            )
        got = values
        if got.shape != want.shape and got.size == want.size and got.squeeze().shape == want.shape:
            note = f" (read the output of shape {got.shape} as shape {want.shape})"
            got = got.reshape(want.shape)
        if got.shape != want.shape:
            return Feedback(
                False,
                f"{call} returned shape {got.shape}; the new state has one "
                f"value per unit: shape {want.shape}.",
            )
        if np.allclose(got, want, atol=1e-6):
            continue
        hints = {
            "tanh is missing: SimpleRNN squashes x_t W + h_prev U + b with tanh.": x @ W
            + h @ U
            + b,
            (
                "the previous state is missing: add h_prev @ U, that is what makes it recurrent."
            ): np.tanh(x @ W + b),
            "the bias b is missing.": np.tanh(x @ W + h @ U),
            "U multiplies h_prev from the wrong side: use h_prev @ U (Keras' layout).": np.tanh(
                x @ W + U @ h + b
            ),
            "a sigmoid instead of tanh: SimpleRNN's default activation is tanh.": 1
            / (1 + np.exp(-(x @ W + h @ U + b))),
        }
        for message, wrong in hints.items():
            if np.allclose(got, wrong, atol=1e-6):
                return Feedback(False, f"{call}: {message}")
        return Feedback(
            False,
            f"{call} returned {np.round(got, 4).tolist()}, expected {np.round(want, 4).tolist()}.",
        )
    return Feedback(
        True,
        f"`{name}` computes tanh(x_t W + h_prev U + b) like SimpleRNN on "
        f"{len(cases)} cells of different sizes{note}.",
    )


def _explain_rnn(err: Exception, call: str) -> str | None:
    """A shape error in rnn_step: say which products must agree; ``None`` for other errors."""
    text = error_text(err)
    if isinstance(err, ValueError) and any(w in text for w in ("matmul", "broadcast", "aligned")):
        return (
            f"{call} raised {text}. Shapes: x_t @ W has one value per unit, so does "
            "h_prev @ U, and b adds one per unit."
        )
    return None
